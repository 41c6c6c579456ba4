"""The rules of deciding in the stage commands (issue 18; RULES.md P1–P3), each through the
CLI on a copy of the small shared stage base (tests/stage_bases.py, built once per run):
exact lines and exit codes. The whole year on the full demo is tests/test_stage_year.py.
"""

from __future__ import annotations

import shutil
import sqlite3

import pytest
from openpyxl import load_workbook
from openpyxl.utils import range_boundaries
from stage_bases import OVERRIDE_REASON, REG, WB, C, Y, edit, rows_of, saq

LEVELS = {lv.name: lv.rank for lv in C.levels}
APPLIED = {lv.applied: lv.rank for lv in C.levels}


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    from conftest import shared_once
    from stage_bases import build_bases
    return shared_once(tmp_path_factory, "stage_bases", build_bases)


@pytest.fixture()
def staged(bases, tmp_path):
    d = tmp_path / "staged"
    shutil.copytree(bases["staged"], d)
    return d


def numbered(path, sheet, tbl):
    """[(sheet row, {header: value})]."""
    from stage_bases import table
    wb = load_workbook(path)
    ws, head, rng = table(wb, sheet, tbl)
    return [(r, {h: ws.cell(r, c).value for h, c in head.items()}) for r in rng]


def subject(row):
    p = row["申报项目名称"]
    return row["申请组织名称"] + ("" if p in (None, "—") else f"·{p}")


def audit(d):
    db = sqlite3.connect(d / REG)
    try:
        return db.execute("SELECT stage, app_id, field, old, new, reason FROM audit WHERE year=? "
                          "ORDER BY id", (Y,)).fetchall()
    finally:
        db.close()


def test_a_level_above_the_achievable_one_needs_a_reason(staged):
    """P1: 合议 above the experts' achievable level (but within the applied level and the
    cap): refused without a reason, taken with one."""
    rows = numbered(staged / WB, "合议", "deliberation")
    pick = [(r, x) for r, x in rows if not x["合议理由"] and x["专家建议等级"]
            and LEVELS[x["专家建议等级"]] < min(APPLIED[x["申请等级"]],
                                               C.category(x["申请类别"]).cap)]
    assert pick, "the base needs a row whose experts proposed less than it applied for"
    r, row = pick[0]
    higher = next(lv.name for lv in sorted(C.levels, key=lambda lv: lv.rank)
                  if lv.rank > LEVELS[row["专家建议等级"]])
    edit(staged / WB, "合议", {row["申请编号"]: {"合议等级": higher}})
    rc, out, err = saq("stage", "update", staged / WB, "--by", "施卫丹")
    assert (rc, err) == (0, "")
    assert out.splitlines()[-1] == (
        f"合议!第 {r} 行 {subject(row)}：合议等级“{higher}”高于专家评审的可评等级“{row['专家建议等级']}”，"
        "须在合议理由中写明理由，未采纳（P1）")
    after = {x["申请编号"]: x for _, x in numbered(staged / WB, "合议", "deliberation")}
    assert after[row["申请编号"]]["合议等级"] == row["合议等级"]
    # with a reason in the row, the same level is taken
    edit(staged / WB, "合议", {row["申请编号"]: {"合议等级": higher, "合议理由": "现场核实报告用于战略"}})
    rc, out, err = saq("stage", "update", staged / WB, "--by", "施卫丹")
    assert rc == 0 and "未采纳" not in out
    assert f"  合议 {row['申请编号']} 合议等级：“{row['合议等级']}” → “{higher}”" in out.splitlines()


def test_an_onsite_level_above_the_cap_is_refused(staged):
    """P1 on 现场评审后等级: 工程类 is capped at 用户满意 (K3)."""
    rows = [(r, x) for r, x in numbered(staged / WB, "现场评审", "onsite_results")
            if x["申请类别"] == "工程类" and x["申请等级"] == "用户满意级"]
    assert rows, "the base needs a 工程类 application at 现场评审"
    r, row = rows[0]
    edit(staged / WB, "现场评审", {row["申请编号"]: {"现场评审后等级": "用户满意标杆",
                                                 "现场评审说明": "现场表现突出"}})
    rc, out, err = saq("stage", "update", staged / WB, "--by", "施卫丹")
    assert (rc, err) == (0, "")
    assert out.splitlines()[-1] == (
        f"现场评审!第 {r} 行 {subject(row)}：现场评审后等级“用户满意标杆”高于该申请最高可评的“用户满意”"
        "（申请等级为用户满意级，工程类最高为用户满意级），未采纳（P1）")
    (line,) = [a for a in audit(staged) if a[2] == "现场评审后等级（未采纳）"]
    assert (line[1], line[4]) == (row["申请编号"], "用户满意标杆") and line[5].endswith("（P1）")
    # the cell keeps its value; its comment and the row's last column say what was refused
    wb = load_workbook(staged / WB)
    ws = wb["现场评审"]
    cell = next(c for c in ws[r] if c.comment is not None)
    assert cell.value in (None, "")
    assert cell.comment.text.startswith("未采纳：“用户满意标杆”\n现场评审后等级“用户满意标杆”高于")
    after = {x["申请编号"]: x for _, x in numbered(staged / WB, "现场评审", "onsite_results")}
    assert after[row["申请编号"]]["未采纳的改动"].startswith(
        "现场评审后等级“用户满意标杆”高于该申请最高可评的“用户满意”（申请等级为用户满意级，工程类最高为"
        "用户满意级），未采纳（P1）（施卫丹 ")


def test_an_override_names_the_errors_it_overrules(bases):
    """P2: the base's override of an exclusion is audited with the errors it overrules."""
    d = bases["staged"]
    overridden = [x for x in rows_of(d / WB, "审定", "approval") if x["推翻自动排除"] == "是"]
    (row,) = overridden
    errors = [x.removeprefix("错误：") for x in
              row["依据"].removeprefix("未参加专家评审：").splitlines() if x.startswith("错误：")]
    (line,) = [a for a in audit(d) if a[1] == row["申请编号"] and a[2] == "审定等级"]
    assert line[5] == f"推翻自动排除（所推翻的问题：{'；'.join(errors)}）：{OVERRIDE_REASON}"


def test_publicize_names_a_warning_left_unconfirmed(staged):
    """P3: one confirmation taken back: 公示 is refused, naming the row and the warning;
    nothing is written."""
    rows = [(r, x) for r, x in numbered(staged / WB, "审定", "approval")
            if x["核实"] == "已核实" and x["审定等级"] not in (None, "", C.no_level)]
    assert rows, "the base confirms a warning of a listed application"
    r, row = rows[0]
    edit(staged / WB, "审定", {row["申请编号"]: {"核实": None}})
    rc, out, err = saq("stage", "publicize", staged / WB, "--start", f"{Y}-09-18", "--no-pdf")
    words = "；".join(x.removeprefix("已核实：") for x in row["提醒"].splitlines()
                     if x.startswith("已核实："))
    assert rc == 1
    assert out.splitlines() == [
        "有 1 项列入名单的申请尚有未核实的提醒（在“审定”工作表的“核实”列填写“已核实”），不能公示（P3）：",
        f"  审定!第 {r} 行 {subject(row)}：{words}尚未核实（P3）"]
    assert err == "错误：不能公示：1 项须先处理（见上，规则 P3）；评价档案和文件夹都未改动\n"
    assert not (staged / "公示名单.docx").exists()
    # a code named in 核实 confirms that warning
    codes = [x[-4:-1] for x in row["提醒"].splitlines() if x.startswith("已核实：")]
    edit(staged / WB, "审定", {row["申请编号"]: {"核实": f"{' '.join(codes)} 已电话核实"}})
    rc, out, err = saq("stage", "publicize", staged / WB, "--start", f"{Y}-09-18", "--no-pdf")
    assert rc == 0, (out, err)
    assert (staged / "公示名单.docx").exists()


def test_a_workbook_without_the_confirm_column_is_still_read(staged):
    """A workbook written before the 核实 column (its registry remembers no such cell) is read
    without it; the rewritten workbook has it."""
    db = sqlite3.connect(staged / REG)
    db.execute("DELETE FROM shown WHERE field='核实'")
    db.commit()
    db.close()
    wb = load_workbook(staged / WB)
    for name, tbl in (("合议", "deliberation"), ("审定", "approval")):
        ws = wb[name]
        c1, r1, c2, r2 = range_boundaries(ws.tables[tbl].ref)
        col = next(c for c in range(c1, c2 + 1) if ws.cell(r1, c).value == "核实")
        for r in range(r1, r2 + 1):
            ws.cell(r, col).value = "旧版没有此列" if r == r1 else None
    wb.save(staged / WB)
    rc, out, err = saq("stage", "update", staged / WB)
    assert (rc, err) == (0, ""), out
    assert all("核实" in x for x in rows_of(staged / WB, "审定", "approval"))
