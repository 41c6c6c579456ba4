"""Issue 18 §3, RULES.md P2: an excluded application says why — every error with its words,
then the warnings — in the master, in 分配表 “未参加评审” and in 评审结果 “未评审申请”; the
warnings of the applications sent to review reach 分配表 and 评审结果 (P3). Before, the
review took the first line of 问题说明, and three excluded applications read only
“…请在审定中确认（E06）” while their errors were E16, E20 and E15."""

from __future__ import annotations

import random

import pytest
from master_sheets import sheet
from openpyxl import load_workbook

from xl_addin import cli, demo
from xl_addin.review import simulate as S
from xl_addin.review.manifest import FILE_NAME, read_manifest
from xl_addin.rules import decide
from xl_addin.rules.campaign import load

C = load(2023)
REC = "上海市测试行业协会"
E06 = ("初评申请企业类原则上须上年度项目类等级评价已通过，或持有 2020-01-01 以来的中国质协市场质量信用A等"
       "证书，请在审定中确认（E06）")
EXPERTS = [("甲", "甲大学", "", "全部"), ("乙", "乙大学", "", "全部"), ("丙", "丙大学", "", "全部")]


def _csv(path, header, rows):
    import csv
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def _rows(path, sheet_name):
    wb = load_workbook(path)
    ws = wb[sheet_name]
    hr = next(r for r in range(1, 10) if ws.cell(r, 1).value in ("申请编号", "序号"))
    head = [c.value for c in ws[hr]]
    return [dict(zip(head, (c.value for c in row))) for row in ws.iter_rows(min_row=hr + 1)
            if row[0].value not in (None, "（无）")]


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory):
    """A master as consolidation writes it (错误数, 问题说明 — here an older one whose first
    line is a warning), assigned and collected through the CLI."""
    root = tmp_path_factory.mktemp("p2")
    head = ["申请编号", "企业名称", "统一社会信用代码", "申请类别", "申请等级", "满意度（百分制得分）",
            "申报项目名称", "错误数", "提醒数", "问题代码", "问题说明"]
    rows = [
        ["A01", "上海甲有限公司", "9131000013221158X6", "企业类", "标杆级", "88", "", "2", "1",
         "E06 E16 E15", "\n".join([E06, "统一社会信用代码“9131000013221158X6”校验位应为 C，现为 6（E16）",
                                   "满意度 65 低于 70 分（E15）"])],
        ["A02", "上海乙有限公司", "", "服务类", "用户满意级", "86", "乙服务", "1", "0", "E20",
         "必填项“统一社会信用代码”未填写（E20）"],
        ["A03", "上海丙有限公司", "91310000132211580C", "产品类", "用户满意级", "86", "智能电表系列",
         "0", "1", "E12", "产品类项目名称“智能电表系列”为系列产品，须写明型号、规格（E12）"],
    ] + [[f"A{i:02d}", f"上海组织{i}有限公司", "", "服务类", "用户满意级", "86", f"服务{i}", "0", "0",
          "", ""] for i in range(4, 8)]
    master = _csv(root / "master.csv", head, rows)
    experts = _csv(root / "experts.csv", ["姓名", "单位", "回避单位", "专业"], [list(e) for e in EXPERTS])
    out = root / "评审"
    assert cli.main(["review", "assign", str(master), "--experts", str(experts), "-o", str(out)]) == 0
    man = read_manifest(out / FILE_NAME, C)
    for e in man.experts:
        S.fill_workbook(out / man.files[e.name], C, e.name)
    results = root / "评审结果.xlsx"
    assert cli.main(["review", "collect", str(out), "-o", str(results)]) == 0
    return out, results


A01_REASON = "\n".join([
    "错误：统一社会信用代码“9131000013221158X6”校验位应为 C，现为 6（E16）",
    "错误：满意度 65 低于 70 分（E15）",
    f"提醒：{E06}"])
A02_REASON = "错误：必填项“统一社会信用代码”未填写（E20）"


def test_the_assignment_sheet_gives_every_error_first(reviewed):
    out, _ = reviewed
    got = {r["申请编号"]: r["原因"] for r in _rows(out / FILE_NAME, "未参加评审")}
    assert got == {"A01": A01_REASON, "A02": A02_REASON}


def test_the_exclusions_are_read_back_with_their_fields(reviewed):
    """The stages read them from 分配表: P2's identity errors are known there (E20 on
    统一社会信用代码 by the label its message quotes)."""
    out, _ = reviewed
    man = read_manifest(out / FILE_NAME, C)
    excluded = {a.id: a for a, _ in man.not_assigned}
    assert [f.code for f in decide.identity_errors(excluded["A01"].findings, C)] == ["E16"]
    assert [(f.code, f.field) for f in decide.identity_errors(excluded["A02"].findings, C)] == \
        [("E20", "uscc")]
    a03 = next(a for a in man.apps if a.id == "A03")
    assert [f.code for f in decide.to_confirm(a03.findings, C)] == ["E12"]


def test_the_results_give_every_error_first_and_the_warnings(reviewed):
    _, results = reviewed
    got = {r["申请编号"]: r["原因"] for r in _rows(results, "未评审申请")}
    assert got == {"A01": A01_REASON, "A02": A02_REASON}
    warned = {r["申请编号"]: r["提醒"] for r in _rows(results, "评审结果")}
    assert warned["A03"] == "提醒：产品类项目名称“智能电表系列”为系列产品，须写明型号、规格（E12）"
    assert warned["A04"] in ("", None)


def test_a_consolidated_master_excludes_with_the_identity_error_first(tmp_path):
    """The issue's case end to end: a 企业类 初评 with a wrong USCC check digit gets E16 and
    E06; the master's 问题说明 and the 分配表 give E16 first."""
    a = demo.application(C, random.Random(3), 3, "企业类", REC)
    a.values.update(uscc="9131000013221158X6", review_type="初评", prior_pass="否", credit_a="否",
                    project_name=None)
    b = demo.application(C, random.Random(4), 4, "服务类", REC)
    inbox = tmp_path / "in"
    inbox.mkdir()
    for k, x in enumerate((a, b)):
        demo.write_plain_application(inbox / f"app{k}.xlsx",
                                     {kk: v for kk, v in x.values.items() if v is not None},
                                     x.respondents, C)
    from xl_addin.consolidate import consolidate
    consolidate(inbox, tmp_path / "汇总表.xlsx", C, progress=False)
    row = next(r for r in sheet(tmp_path / "汇总表.xlsx", "汇总") if r["来源文件"] == "app0.xlsx")
    lines = row["问题说明"].split("\n")
    assert lines[0] == "统一社会信用代码“9131000013221158X6”校验位应为 C，现为 6（E16）"
    assert E06 in lines
    experts = _csv(tmp_path / "experts.csv", ["姓名", "单位", "回避单位", "专业"],
                   [list(e) for e in EXPERTS])
    assert cli.main(["review", "assign", str(tmp_path / "汇总表.xlsx"), "--experts", str(experts),
                     "-o", str(tmp_path / "评审")]) == 0
    reasons = [r["原因"] for r in _rows(tmp_path / "评审" / FILE_NAME, "未参加评审")]
    assert len(reasons) == 1
    assert reasons[0].split("\n")[0] == "错误：统一社会信用代码“9131000013221158X6”校验位应为 C，现为 6（E16）"
    assert reasons[0].split("\n")[-1] == f"提醒：{E06}"


def test_a_csv_master_keeps_line_breaks_in_a_cell(tmp_path):
    from xl_addin.tables import read_table
    p = _csv(tmp_path / "m.csv", ["企业名称", "问题说明"], [["甲", "第一行（E15）\r\n第二行（E06）"]])
    _, rows = read_table(p)
    assert rows[0]["问题说明"].splitlines() == ["第一行（E15）", "第二行（E06）"]
