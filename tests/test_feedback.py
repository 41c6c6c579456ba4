"""Feedback to the recommenders (issue 22): `saq consolidate 收件 -o 汇总表.xlsx --feedback 反馈`
on the demo writes one 补正清单 workbook and one 补正通知 letter per recommender, whose problems
are the master's 问题清单 rows of that recommender, with the accepted applications, the
rejected files, the deadline and the contact of the campaign."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
from master_sheets import sheet
from openpyxl import load_workbook

from xl_addin.cli import main
from xl_addin.consolidate.feedback import HEADER_ORG, file_name
from xl_addin.rules.campaign import load

C = load()


@pytest.fixture(scope="module")
def run(demo_inbox, tmp_path_factory):
    root = tmp_path_factory.mktemp("feedback")
    inbox = root / "收件"
    shutil.copytree(demo_inbox, inbox, symlinks=True)
    return root, inbox


@pytest.fixture(scope="module")
def written(run):
    root, inbox = run
    import contextlib
    import io
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main(["consolidate", str(inbox), "-o", str(root / "汇总表.xlsx"), "--feedback",
                   str(root / "反馈"), "-q", "--campaign", "2023"])  # the demo holds last year's template
    return rc, out.getvalue(), root


def _names_of_recommenders(inbox):
    """推荐单位 exactly as each 附件3 writes it (its named cell ``recommender``)."""
    names = {}
    for p in sorted(inbox.rglob("附件3*.xlsx")):
        wb = load_workbook(p, read_only=True)
        dn = wb.defined_names.get("recommender")
        if dn is None:
            continue
        sheet_name, coord = next(iter(dn.destinations))
        v = wb[sheet_name][coord.replace("$", "")].value
        if v:
            names[str(v)] = p
    return names


def _docx_text(path):
    from docx import Document
    d = Document(path)
    parts = [p.text for p in d.paragraphs]
    for t in d.tables:
        for row in t.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts)


def test_one_letter_and_workbook_per_recommender(written):
    rc, out, root = written
    assert rc == 0
    assert "补正通知：10 个推荐单位" in out and f"已写入 {root / '反馈'}" in out
    # issue 22: the counts that stand side by side say what they count (90 vs 91, 8 vs 9)
    assert "申请 91 项（有申请书的 90 项、只见于推荐表的 1 项）：" in out
    assert "拒收 9 条（整个文件 8 个、推荐表中的行 1 行，见“拒收”工作表）" in out
    folder = root / "反馈"
    assert len(list(folder.glob("补正通知_*.docx"))) == 10
    assert len(list(folder.glob("补正清单_*.xlsx"))) == 10


def test_problems_equal_the_masters_problem_list(written, run):
    _rc, _out, root = written
    _root, inbox = run
    issues = sheet(root / "汇总表.xlsx", "问题清单")
    recs = _names_of_recommenders(inbox)
    assert len(recs) == 10
    for name in recs:  # the name exactly as on its 附件3 is the file's and the letter's
        book = root / "反馈" / f"补正清单_{file_name(name)}.xlsx"
        letter = root / "反馈" / f"补正通知_{file_name(name)}.docx"
        assert book.exists() and letter.exists(), name
        want = Counter((i["企业名称"], i["申报项目名称"], i["问题说明"], i["工作表"],
                        str(i["单元格"])) for i in issues if i["推荐单位"] == name)
        wb = load_workbook(book)
        ws = wb["问题"]
        hr = next(r for r in range(1, 12) if ws.cell(r, 1).value == "序号")
        heads = [c.value for c in ws[hr]]
        got = Counter()
        for row in ws.iter_rows(min_row=hr + 1, values_only=True):
            if row[0] in (None, "（无）"):
                continue
            r = dict(zip(heads, row))
            got[(r["申请组织名称"], r["申报项目名称"] or "", r["问题说明"], r["工作表"] or "",
                 str(r["单元格"] or ""))] += 1
        assert got == want, name
        text = _docx_text(letter)
        assert f"{name}：" in text.split("\n")[:3]
        for (_org, _project, message, _sheet, _cell) in want:
            assert message in text, (name, message)
        assert f"{C.feedback['deadline'].year}年{C.feedback['deadline'].month}月" \
               f"{C.feedback['deadline'].day}日" in text
        assert C.feedback["contact"] in text
        # every application of the recommender: with its problems, or accepted
        mine = [r for r in sheet(root / "汇总表.xlsx", "汇总") if r["推荐单位"] == name]
        apps = {(r["企业名称"], r["申报项目名称"]) for r in mine}
        clean = {(r["企业名称"], r["申报项目名称"]) for r in mine if not r["问题说明"]}
        accepted = {(row[1], row[2] or "") for row in wb["已受理"].iter_rows(values_only=True)
                    if isinstance(row[0], int)}
        with_problems = {(org, project) for org, project, *_ in want if org != HEADER_ORG}
        assert apps == accepted | with_problems, name
        assert accepted <= clean, name  # accepted: not one problem in 汇总
        for org, _project in accepted:
            assert org in text


def test_rejected_rows_and_sheet_print_on_a4(written):
    _rc, _out, root = written
    wb = load_workbook(root / "反馈" / f"补正清单_{file_name('上海市质量协会')}.xlsx")
    rows = [r for r in wb["未受理文件"].iter_rows(values_only=True) if isinstance(r[0], int)]
    assert any(r[2] == "第 15 行" and "无法确定" in r[3] for r in rows)  # after its 9 rows
    for ws in wb.worksheets:
        assert str(ws.page_setup.paperSize) == "9" and int(ws.page_setup.fitToWidth) == 1
        assert ws.print_area and ws.print_title_rows
    assert wb.properties.creator == "上海市质量协会" and C.title in wb.properties.title
    from docx import Document
    d = Document(root / "反馈" / f"补正通知_{file_name('上海市质量协会')}.docx")
    sec = d.sections[0]
    assert (round(sec.page_width.cm, 1), round(sec.page_height.cm, 1)) == (21.0, 29.7)
    assert d.core_properties.author == "上海市质量协会" and d.core_properties.created.year >= 2023
    assert "python-docx" not in (d.core_properties.comments or "")


def test_the_ribbon_button_writes_the_letters(tmp_path, monkeypatch):
    """补正通知 (ribbon): the folder picked, consolidated with letters beside it."""
    pytest.importorskip("xlwings")
    import xlwings as xw

    from xl_addin.excel import ribbon
    calls, alerts = [], []

    class Result:
        feedback = None

    def fake(folder, out, campaign, progress=None, feedback=None):
        calls.append((Path(folder), Path(out), Path(feedback)))
        return Result()
    monkeypatch.setattr("xl_addin.consolidate.consolidate", fake)
    monkeypatch.setattr("xl_addin.consolidate.summary_lines", lambda r: ["一行"])
    monkeypatch.setattr(ribbon, "ask_folder", lambda book, title: tmp_path / "收件")
    monkeypatch.setattr(ribbon, "_alert", lambda book, text, critical=False: alerts.append(text))
    monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: object()))
    ribbon.feedback_letters()
    (folder, out, fb), = calls
    assert folder == tmp_path / "收件" and out.parent == folder
    assert fb.parent == tmp_path and fb.name.startswith("补正通知_")
    assert alerts == ["补正通知已写好。\n一行"]
