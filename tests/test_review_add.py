"""Issue 14: `saq review add` gives applications short of scores more experts without
touching finished work; 申报项目名称 and 来源文件 reach the expert form; 评审意见 are kept
exactly as typed through collect and the results workbook."""

from __future__ import annotations

import hashlib

import pytest

from xl_addin import cli
from xl_addin.review import simulate as S
from xl_addin.review.assign import may_judge
from xl_addin.review.collect import collect
from xl_addin.review.expert_table import TABLE, columns
from xl_addin.review.manifest import FILE_NAME, read_manifest
from xl_addin.rules.campaign import load

C = load()
CATS = [c.name for c in C.categories]
N = 12
EXPERTS = [("甲", "甲大学", "", "全部"), ("乙", "乙大学", "", "全部"), ("丙", "丙大学", "", "全部"),
           ("丁", "丁大学", "", "全部")]
COMMENTS = ["材料齐全，数据可信。", "-数据不全", "+1", "=SUM(A1)", "１２３，全角",
            "第一行\n第二行  两个空格", " 前后空格 "]


def _csv(path, header, rows):
    path.write_text("\n".join([",".join(header)] + [",".join(r) for r in rows]) + "\n",
                    encoding="utf-8")
    return path


@pytest.fixture()
def folder(tmp_path):
    master = _csv(tmp_path / "master.csv",
                  ["申请编号", "企业名称", "申请类别", "申请等级", "满意度（百分制得分）", "申报项目名称",
                   "来源文件", "问题代码"],
                  [[f"A{i:02d}", f"组织{i}", CATS[i % 4], "用户满意", "86",
                    f"项目{i}号", f"推荐单位{i % 3}/申请书_{i}.xlsx", ""] for i in range(N)])
    experts = _csv(tmp_path / "experts.csv", ["姓名", "单位", "回避单位", "专业"],
                   [list(e) for e in EXPERTS])
    out = tmp_path / "out"
    assert cli.main(["review", "assign", str(master), "--experts", str(experts),
                     "-o", str(out)]) == 0
    return out


def _table(path):
    from openpyxl import load_workbook
    from openpyxl.utils import range_boundaries
    wb = load_workbook(path)
    ws = next(w for w in wb.worksheets if TABLE in w.tables)
    c1, r1, c2, r2 = range_boundaries(ws.tables[TABLE].ref)
    cols = {c.key: c1 + i for i, c in enumerate(columns(C))}
    return wb, ws, cols, range(r1 + 1, r2 + 1)


def test_project_name_and_source_file_in_the_expert_form(folder):
    man = read_manifest(folder / FILE_NAME, C)
    _, ws, cols, rows = _table(folder / man.files["甲"])
    got = {ws.cell(r, cols["app_id"]).value: (ws.cell(r, cols["project_name"]).value,
                                              ws.cell(r, cols["source_file"]).value)
           for r in rows}
    assert got and all(v == (f"项目{int(i[1:])}号", f"申请书_{int(i[1:])}.xlsx")
                       for i, v in got.items())


def test_comments_kept_exactly_as_typed(folder, tmp_path):
    from openpyxl import load_workbook
    man = read_manifest(folder / FILE_NAME, C)
    path = folder / man.files["甲"]
    S.fill_workbook(path, C, "甲")
    wb, ws, cols, rows = _table(path)
    from openpyxl.utils import get_column_letter
    # The template keeps the column as text: what an expert types there stays text.
    assert ws.column_dimensions[get_column_letter(cols["comment"])].number_format == "@"
    typed = {}
    for n, r in enumerate(rows):
        cell = ws.cell(r, cols["comment"])
        text = COMMENTS[n % len(COMMENTS)]
        cell.value = text
        cell.data_type = "s"  # as Excel stores what is typed into a text cell
        typed[ws.cell(r, cols["app_id"]).value] = text
    wb.save(path)
    res = collect(folder, C)
    got = {a.app.id: s.comment for a in res.review.apps for s in a.scores if s.expert == "甲"}
    assert got == typed
    out = tmp_path / "评审结果.xlsx"
    assert cli.main(["review", "collect", str(folder), "-o", str(out)]) == 0
    ws = load_workbook(out)["评分明细"]
    heads = {c.value: c.column for row in ws.iter_rows(max_row=6) for c in row if c.value}
    col = heads["评审意见"]
    shown = {}
    for r in range(1, ws.max_row + 1):
        if ws.cell(r, 3).value == "甲":
            c = ws.cell(r, col)
            assert c.number_format == "@" and c.data_type == "s"
            shown[ws.cell(r, 1).value] = c.value
    assert shown == typed


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_add_gives_recused_applications_new_experts_and_touches_nothing(folder, capsys):
    man = read_manifest(folder / FILE_NAME, C)
    # 甲 recuses from two of his applications and scores the rest; the others score all.
    mine = [i for i, names in man.by_app.items() if "甲" in names]
    recused = set(mine[:2])
    for e in man.experts:
        S.fill_workbook(folder / man.files[e.name], C, e.name,
                        S.RECUSES if e.name == "甲" else S.DILIGENT,
                        recuse=recused if e.name == "甲" else ())
    before = {p.name: _digest(p) for p in folder.glob("专家评分表_*.xlsx")}
    first = collect(folder, C)
    assert {a.app.id for a in first.review.below_k} == recused
    capsys.readouterr()
    assert cli.main(["review", "add", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "已为 2 份申请增派 2 人次专家" in out and "已有的评分表与已填的评分未改动" in out
    # Finished work untouched: every earlier workbook is byte for byte the same.
    assert {p: _digest(folder / p) for p in before} == before
    after = read_manifest(folder / FILE_NAME, C)
    assert len(after.batches) >= 1
    apps = {a.id: a for a in after.apps}
    experts = {e.name: e for e in after.experts}
    for app_id in recused:
        names = after.by_app[app_id]
        assert names[:len(man.by_app[app_id])] == man.by_app[app_id]  # earlier ones kept
        new = [n for n in names if n not in man.by_app[app_id]]
        assert len(new) == 1 and may_judge(experts[new[0]], apps[app_id])
    for app_id in set(man.by_app) - recused:
        assert after.by_app[app_id] == man.by_app[app_id]
    # The added experts fill their new workbooks; collect then reads both batches.
    for b in after.batches:
        assert set(S.fill_workbook(folder / b.file, C, b.expert)) == set(b.app_ids)
    res = collect(folder, C)
    assert not res.review.below_k
    assert all(f.status in ("已使用", "已忽略") for f in res.files)
    used = [f.rel for f in res.files if f.status == "已使用"]
    assert len(used) == len(before) + len(after.batches)
    # Nothing left to add: a second run says so and writes nothing.
    capsys.readouterr()
    assert cli.main(["review", "add", str(folder)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "活动年度：2023（取自文件中的模板年度，1 个文件一致）",  # the 分配表's (issue 20 §7)
        "没有需要增派专家的申请。"]


def test_add_with_a_new_expert_list(folder, tmp_path, capsys):
    man = read_manifest(folder / FILE_NAME, C)
    for e in man.experts:  # everybody recuses from A00
        S.fill_workbook(folder / man.files[e.name], C, e.name, S.RECUSES, recuse={"A00"})
    # Of the four experts only the one not on A00 is left: one added, two still lacking.
    rc = cli.main(["review", "add", str(folder), "--strict"])
    out = capsys.readouterr().out
    assert rc == 1 and "注意：申请 A00 仍缺专家（已分配 4 位，需 6 位）" in out
    assert set(read_manifest(folder / FILE_NAME, C).by_app["A00"]) == {e[0] for e in EXPERTS}
    more = _csv(tmp_path / "more.csv", ["姓名", "单位", "回避单位", "专业"],
                [list(e) for e in EXPERTS] + [["戊", "戊大学", "", "全部"], ["己", "己大学", "", ""],
                                              ["庚", "庚大学", "", "全部"]])
    assert cli.main(["review", "add", str(folder), "--experts", str(more)]) == 0
    after = read_manifest(folder / FILE_NAME, C)
    assert len(set(after.by_app["A00"]) & {"戊", "己", "庚"}) == 2  # the two still lacking
    assert {e.name for e in after.experts} >= {"戊", "己", "庚"}
