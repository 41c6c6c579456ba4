"""The stages after expert review (issue 14): the demo campaign through history import,
consolidation with the registry, expert review, 合议, 现场评审, 审定 (with an override of an
automatic exclusion), 公示 and 发布, by the commands of the README.

Done-when checks: an override made in 审定 appears in 审计记录 with who, when and old → new,
and survives a re-run (even of a deleted workbook); 公示名单 / 发布名单 hold no internal
codes and no scores, are grouped by level then category, and keep the names exactly.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from openpyxl import load_workbook
from openpyxl.utils import range_boundaries

from xl_addin import cli, registry
from xl_addin.rules.campaign import load

C = load()
LEVEL_HEADS = [f"{lv.name}（{lv.stars}）级" for lv in C.levels]
OVERRIDE_REASON = "已核实：该组织往年服务类评价通过，E06 不成立（审定会议）"


def run(capsys, *argv):
    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return rc, out, err


def table(wb, sheet, name):
    ws = wb[sheet]
    c1, r1, c2, r2 = range_boundaries(ws.tables[name].ref)
    head = {ws.cell(r1, c).value: c for c in range(c1, c2 + 1)}
    return ws, head, range(r1 + 1, r2 + 1)


def rows_of(path, sheet, name):
    wb = load_workbook(path)
    ws, head, rng = table(wb, sheet, name)
    return [{h: ws.cell(r, c).value for h, c in head.items()} for r in rng]


def docx_text(path):
    from docx import Document
    doc = Document(path)
    out = []
    for block in doc.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            out.append("".join(t.text or "" for t in block.iter() if t.tag.endswith("}t")))
        elif tag == "tbl":
            for tr in block.iter():
                if tr.tag.endswith("}tr"):
                    out.append("|".join("".join(t.text or "" for t in tc.iter()
                                                if t.tag.endswith("}t"))
                                        for tc in tr if tc.tag.endswith("}tc")))
    return out


@pytest.fixture(scope="module")
def campaign(tmp_path_factory, small_demo):
    """The demo campaign (small, conftest), consolidated, with last year's results loaded."""
    from xl_addin.review.stage_demo import write_inputs
    root = tmp_path_factory.mktemp("stages")
    shutil.copytree(small_demo["inbox"], root / "收件")
    shutil.copy2(small_demo["master"], root / "汇总表.xlsx")
    experts, history = write_inputs(root, C)
    return {"root": root, "experts": experts, "history": history}


@pytest.fixture(scope="module")
def staged(campaign):
    """The README's commands from history import to `saq stage start`."""
    root = campaign["root"]
    assert cli.main(["history", "import", str(campaign["history"]), "--year", "2022",
                     "--registry", str(root / "评价档案.sqlite")]) == 0
    assert cli.main(["consolidate", str(root / "收件"), "-o", str(root / "汇总表.xlsx"),
                     "-q"]) == 0
    assert cli.main(["review", "assign", str(root / "汇总表.xlsx"), "--experts",
                     str(campaign["experts"]), "-o", str(root / "专家评审")]) == 0
    assert cli.main(["review", "simulate", str(root / "专家评审")]) == 0
    assert cli.main(["stage", "start", str(root / "专家评审"), "-o", str(root / "评定.xlsx"),
                     "--by", "张三"]) == 0
    return root


def test_master_shows_last_years_result_and_registry_e06(staged):
    rows = rows_of(staged / "汇总表.xlsx", "汇总", next(iter(
        load_workbook(staged / "汇总表.xlsx")["汇总"].tables)))
    assert all("上年结果" in r for r in rows)
    assert any(r["上年结果"] and r["上年结果"] != "无记录" for r in rows)
    assert any(r["上年结果"] == "无记录" for r in rows)
    # 企业类 declaring a pass with no 项目类 pass on record: E06 from the registry (K4)
    with registry.Registry(staged / "评价档案.sqlite") as reg:
        for r in rows:
            if r["申请类别"] != "企业类" or r["中国质协市场质量信用A等证书（2020年以来）"] == "是" \
                    or r["初评/复评"] == "复评":  # K4: E06 is for first applications only
                continue
            found = registry.lookup(reg, r["统一社会信用代码"], C.year, C)
            assert ("E06" in (r["问题代码"] or "")) == (found[registry.PRIOR_PASS_KEY] == "否")


def test_deliberation_is_prefilled_from_disagreements(staged):
    rows = rows_of(staged / "评定.xlsx", "合议", "deliberation")
    flags = [bool(r["分歧 / 评分情况"]) and not r["分歧 / 评分情况"].startswith("（") for r in rows]
    assert flags == sorted(flags, reverse=True)  # disagreements first
    assert all(r["合议等级"] == r["专家建议等级"] for r in rows)  # prefilled, nothing decided
    with registry.Registry(staged / "评价档案.sqlite") as reg:
        assert reg.decisions(C.year, "合议") == {}


def _edit(path):
    """What staff type in Excel: one 合议 change, every 现场评审 result, two overrides of an
    automatic exclusion in 审定 — one with a reason, one without (refused)."""
    wb = load_workbook(path)
    ws, h, rng = table(wb, "合议", "deliberation")
    first = rng[0]
    ws.cell(first, h["合议等级"]).value = "用户满意亮诺"
    ws.cell(first, h["合议理由"]).value = "合议：报告应用证据不足，按“满意亮诺级”。"
    ws, h, rng = table(wb, "现场评审", "onsite_results")
    for i, r in enumerate(rng):
        ws.cell(r, h["现场评审日期"]).value = "2023-09-05"
        ws.cell(r, h["现场评审专家"]).value = "王立群、李敏"
        ws.cell(r, h["现场评审结论"]).value = "不通过" if i == 0 else "通过"
    ws, h, rng = table(wb, "审定", "approval")
    # excluded applications whose errors may be overruled (identity errors may not, P2)
    excluded = [r for r in rng if ws.cell(r, h["依据"]).value.startswith("未参加专家评审")
                and not re.search(r"（E16）|（E20）", ws.cell(r, h["依据"]).value)]
    assert len(excluded) >= 2
    for r in rng:  # the warnings to confirm before 公示 (P3), confirmed in 审定
        if "须核实：" in (ws.cell(r, h["提醒"]).value or ""):
            ws.cell(r, h["核实"]).value = "已核实"
    ws.cell(excluded[0], h["审定等级"]).value = "用户满意亮诺"
    ws.cell(excluded[0], h["审定理由"]).value = OVERRIDE_REASON
    ws.cell(excluded[1], h["审定等级"]).value = "用户满意"  # no reason: refused
    ids = [ws.cell(r, h["申请编号"]).value for r in excluded[:2]]
    wb.save(path)
    return ids


@pytest.fixture(scope="module")
def decided(staged):
    ids = _edit(staged / "评定.xlsx")
    rc = cli.main(["stage", "update", str(staged / "评定.xlsx"), "--by", "施卫丹"])
    assert rc == 0
    return {"root": staged, "override": ids[0], "refused": ids[1]}


def _override_rows(path, app_id):
    return [r for r in rows_of(path, "审计记录", "audit_trail")
            if r["申请编号"] == app_id and r["事项"] == "审定等级"]


def test_override_is_in_the_audit_trail_with_who_when_old_new(decided):
    wbp = decided["root"] / "评定.xlsx"
    (row,) = _override_rows(wbp, decided["override"])
    assert row["操作人"] == "施卫丹" and row["阶段"] == "审定"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row["时间"])
    assert (row["原值"], row["新值"]) == (C.no_level, "用户满意亮诺")
    assert row["理由 / 说明"].startswith("推翻自动排除（") and OVERRIDE_REASON in row["理由 / 说明"]
    approval = {r["申请编号"]: r for r in rows_of(wbp, "审定", "approval")}
    assert approval[decided["override"]]["审定等级"] == "用户满意亮诺"
    assert approval[decided["override"]]["推翻自动排除"] == "是"
    # the override without a reason was not taken: the cell shows the recorded value, and
    # what was typed stays in the trail as 未采纳
    assert _override_rows(wbp, decided["refused"]) == []
    assert approval[decided["refused"]]["审定等级"] == C.no_level
    (refused,) = [r for r in rows_of(wbp, "审计记录", "audit_trail")
                  if r["申请编号"] == decided["refused"]]
    assert (refused["事项"], refused["原值"], refused["新值"]) == \
        ("审定等级（未采纳）", C.no_level, "用户满意")


def test_override_survives_a_rerun_and_a_deleted_workbook(decided, capsys):
    root = decided["root"]
    wbp = root / "评定.xlsx"
    rc, out, _ = run(capsys, "stage", "start", root / "专家评审", "-o", wbp)
    assert rc == 0 and "本次没有新的改动。" in out
    backup = root / "评定_备份.xlsx"
    shutil.move(wbp, backup)
    rc, out, _ = run(capsys, "stage", "start", root / "专家评审", "-o", wbp)
    assert rc == 0
    approval = {r["申请编号"]: r for r in rows_of(wbp, "审定", "approval")}
    assert approval[decided["override"]]["审定等级"] == "用户满意亮诺"
    assert len(_override_rows(wbp, decided["override"])) == 1
    deliberation = rows_of(wbp, "合议", "deliberation")
    assert deliberation[0]["合议等级"] == "用户满意亮诺"
    assert deliberation[0]["合议理由"] == "合议：报告应用证据不足，按“满意亮诺级”。"  # exactly


def test_publication_refused_while_onsite_results_are_missing(staged, tmp_path, capsys):
    """Checked on a copy made before the 现场评审 results were entered."""
    # The module's workbook already has results; a fresh stage workbook of the same review
    # with an empty registry has none.
    wbp = tmp_path / "评定.xlsx"
    rc, _, _ = run(capsys, "stage", "start", staged / "专家评审", "-o", wbp, "--registry",
                   tmp_path / "r.sqlite")
    assert rc == 0
    if not rows_of(wbp, "现场评审", "onsite_results"):
        pytest.skip("no application of this demo needs 现场评审")
    rc, out, err = run(capsys, "stage", "publicize", wbp, "--no-pdf")
    assert rc == 1 and err.startswith("错误：有 ") and "现场评审结果未录入" in err
    assert not (tmp_path / "公示名单.docx").exists()


@pytest.fixture(scope="module")
def published(decided):
    root = decided["root"]
    assert cli.main(["stage", "publicize", str(root / "评定.xlsx"), "--start", "2023-09-18",
                     "--no-pdf", "--by", "施卫丹"]) == 0
    # an objection received during 公示, typed in the 公示 sheet: recorded at the next run
    wb = load_workbook(root / "评定.xlsx")
    ws, h, rng = table(wb, "公示", "publication")
    ws.cell(rng[0], h["异议与处理"]).value = "9月20日收到来函，经核实不成立，维持原等级。"
    objected = ws.cell(rng[0], h["申请编号"]).value
    wb.save(root / "评定.xlsx")
    assert cli.main(["stage", "publish", str(root / "评定.xlsx"), "--no-pdf", "--date",
                     "2023-09-28", "--by", "施卫丹"]) == 0
    (row,) = [r for r in rows_of(root / "评定.xlsx", "审计记录", "audit_trail")
              if r["阶段"] == "公示" and r["申请编号"] == objected]
    assert (row["事项"], row["原值"], row["新值"], row["操作人"]) == \
        ("异议与处理", "（空）", "9月20日收到来函，经核实不成立，维持原等级。", "施卫丹")
    return root


def test_publication_lists_hold_no_codes_no_scores_grouped_exact(published):
    root = published
    approval = rows_of(root / "评定.xlsx", "审定", "approval")
    listed = [r for r in approval if r["审定等级"] not in (None, "", C.no_level)]
    for name in ("公示名单.docx", "发布名单.docx"):
        text = docx_text(root / name)
        body = "\n".join(text)
        assert not re.search(r"\b\d{4}-\d{3}\b", body)  # no 申请编号
        assert not re.search(r"\d+\.\d+", body)  # no scores such as 103.17
        assert "待现场评审" not in body and "C5" not in body and "E0" not in body
        # grouped: level headings high to low, categories in the campaign's order within
        heads = [t for t in text if re.match(r"^[一二三四五六七八九十]、", t)]
        order = [next(i for i, h in enumerate(LEVEL_HEADS) if h in t) for t in heads]
        assert order == sorted(order) and heads
        cats = [c.name for c in C.categories]
        sub = []
        for t in text:
            if re.match(r"^[一二三四五六七八九十]、", t):
                sub.append([])
            m = re.match(r"^（[一二三四五六七八九十]）(\S+类)（", t)
            if m:
                sub[-1].append(cats.index(m.group(1)))
        assert all(s == sorted(s) for s in sub)
        # every listed application appears with its names exactly as in the master
        table_rows = {t for t in text if "|" in t}
        for r in listed:
            project = r["申报项目名称"] if r["申报项目名称"] != "—" else None
            assert any(t.split("|")[1] == r["申请组织名称"] and
                       (project is None or t.split("|")[2] == project) for t in table_rows), r
        assert sum(1 for t in table_rows if t.split("|")[0].isdigit()) == len(listed)
    pub = "\n".join(docx_text(root / "公示名单.docx"))
    assert "公示期：2023年9月18日至2023年9月24日。" in pub  # C5: 7 days, in September
    # 发布: this year's results are in the registry for next year's E06
    with registry.Registry(root / "评价档案.sqlite") as reg:
        assert 2023 in reg.years()
        stages = {a["stage"] for a in reg.audit_rows(2023)}
    assert {"合议", "现场评审", "审定", "公示", "发布"} <= stages


def test_published_xlsx_reads_back_as_history(published, tmp_path):
    from xl_addin.review.history import import_history
    res = import_history(published / "发布名单.xlsx", 2023, tmp_path / "r.sqlite", C)
    n = len([r for r in rows_of(published / "评定.xlsx", "审定", "approval")
             if r["审定等级"] not in (None, "", C.no_level)])
    assert (res.new, res.skipped) == (n, [])


@pytest.mark.libreoffice
def test_published_list_is_an_a4_pdf(published, capsys):
    if not shutil.which("soffice"):
        pytest.skip("LibreOffice missing")
    from xl_addin.review.publish import docx_to_pdf
    pdf = docx_to_pdf(published / "发布名单.docx")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info)  # A4 portrait
    assert "Author:          上海市质量协会" in info


def test_stage_errors_are_one_chinese_line(tmp_path, capsys):
    missing = tmp_path / "评定.xlsx"
    rc, out, err = run(capsys, "stage", "update", missing)
    assert (rc, out) == (2, "")
    assert err == (f"错误：无法读取文件 {missing}：评定工作簿不存在；请先运行 saq stage start "
                   "专家评审文件夹 -o 评定.xlsx\n")
    other = tmp_path / "别的.xlsx"
    from openpyxl import Workbook
    Workbook().save(other)
    rc, out, err = run(capsys, "stage", "publish", other)
    assert rc == 2 and err == f"错误：无法读取文件 {other}：不是评定工作簿（saq stage start 生成的文件）\n"
    rc, out, err = run(capsys, "stage", "publicize", other, "--start", "9月18日")
    assert (rc, err) == (2, "错误：公示开始日期“9月18日”不是日期，应写作 2023-09-18、2023.9.18 或 "
                            "2023年9月18日\n")
    rc, out, err = run(capsys, "stage", "publish", other, "--date", "9月28日")
    assert (rc, out, err) == (2, "", "错误：发布日期“9月28日”不是日期，应写作 2023-09-18、"
                                     "2023.9.18 或 2023年9月18日\n")
    # issue 22: 2023/9/28 is a date, as in the sheets: the workbook is what is wrong then
    rc, out, err = run(capsys, "stage", "publish", other, "--date", "2023/9/28")
    assert rc == 2 and "不是评定工作簿" in err
