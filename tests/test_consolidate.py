"""Consolidation over a generated campaign (issue 4): the master's sheets, the accounting
invariant, planted problems, formula injection, idempotence, staff columns, locks.

The campaign comes from ``xl_addin.demo`` (seeded); what each application was given
(``DemoApp.problem``) is the expectation, so the tests do not copy consolidation's output.
"""

from __future__ import annotations

import shutil
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from master_sheets import sheet
from python_calamine import CalamineWorkbook

from xl_addin.cli import main
from xl_addin.consolidate import consolidate
from xl_addin.consolidate.output import RunLock, RunLocked, excel_lock
from xl_addin.demo import write_campaign
from xl_addin.rules.campaign import load
from xl_addin.tables import set_text_safe

C = load(2023)




@pytest.fixture(scope="module")
def run(demo_campaign, demo_master):
    """`saq demo`'s campaign and its master (tests/conftest.py: written and consolidated once
    per run, shared with the other modules). Read-only: a test that writes works on a copy."""
    return demo_campaign, None, demo_master


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A small campaign of the same kind, broken files included, with its master: the
    run's mechanics (locks, a master open in Excel, progress, the CLI summary) do not depend
    on the folder's size, and each of those tests consolidates again."""
    base = tmp_path_factory.mktemp("small")
    demo = write_campaign(base / "inbox", seed=11, n_apps=12, n_recommenders=2, campaign=C)
    out = base / "out" / "master.xlsx"
    return demo, consolidate(base / "inbox", out, C, progress=False), out


def _find(rows, app):
    v = app.values
    return [r for r in rows if r["统一社会信用代码"] == v["uscc"] and r["企业名称"] == v["org_name"]]


# ---------------------------------------------------------------------- accounting
def test_every_file_is_listed_once(run):
    demo, res, out = run
    on_disk = sorted(p.relative_to(demo.folder).as_posix() for p in demo.folder.rglob("*")
                     if p.is_file())
    listed = sorted(r["文件"] for r in sheet(out, "文件清单"))
    assert listed == on_disk
    assert {r["状态"] for r in sheet(out, "文件清单")} <= {"已导入", "已拒收", "已忽略"}


def test_rows_read_equal_rows_in_master_plus_rejected(run):
    """Invariant: for every file, rows read = 汇总 entries from it + 拒收 rows from it."""
    _demo, _res, out = run
    taken = Counter()
    for r in sheet(out, "汇总"):
        if r["匹配情况"] != "缺申请书":
            taken[r["来源文件"]] += 1  # the applicant workbook
        if r["推荐表文件"]:
            taken[r["推荐表文件"]] += 1  # the 附件3 row
    for r in sheet(out, "拒收"):
        if r["范围"] != "整个文件":
            taken[r["文件"]] += 1
    files = sheet(out, "文件清单")
    for f in files:
        assert int(f["读取行数"]) == taken[f["文件"]], f["文件"]
    assert sum(int(f["读取行数"]) for f in files) == sum(taken.values())
    rejected_files = {r["文件"] for r in sheet(out, "拒收") if r["范围"] == "整个文件"}
    assert rejected_files == {f["文件"] for f in files if f["状态"] == "已拒收"}


def test_campaign_size_and_categories(run):
    demo, _res, out = run
    rows = sheet(out, "汇总")
    assert len(demo.recommenders) >= 10
    assert sum(1 for a in demo.apps if a.write_workbook) >= 90
    assert {r["申请类别"] for r in rows} >= {c.name for c in C.categories}


# ---------------------------------------------------------------------- planted problems
FLAG_PROBLEMS = ["E01", "E02", "E03", "E04", "E05", "E06", "E07", "E08", "E09", "E10", "E11",
                 "E12", "E13", "E14", "E15", "E16", "E17", "E18", "E19", "E20", "E21", "E22",
                 "E23", "E25", "E26", "E27", "E29", "E30"]


@pytest.mark.parametrize("code", FLAG_PROBLEMS)
def test_planted_problem_is_flagged(run, code):
    demo, _res, out = run
    rows = sheet(out, "汇总")
    planted = [a for a in demo.apps if a.problem == code]
    assert planted, f"the demo plants no {code}"
    for app in planted:
        found = _find(rows, app)
        assert found, app.values["org_name"]
        assert any(code in r["问题代码"].split() for r in found), (code, found[0]["问题代码"])


def test_issue_list_names_file_sheet_and_cell(run):
    _demo, _res, out = run
    issues = sheet(out, "问题清单")
    assert issues
    for i in issues:
        assert i["问题代码"][0] in "EM" and i["问题说明"].endswith(f"（{i['问题代码']}）")
        assert i["来源文件"]
    # Flags on named cells point at a cell (E29 at a rubric part, E16 at the USCC cell).
    assert all(i["单元格"] for i in issues if i["问题代码"] in ("E16", "E29", "E21"))


def test_header_flags_of_recommenders(run):
    _demo, _res, out = run
    codes = {i["问题代码"] for i in sheet(out, "问题清单") if i["企业名称"] == "（推荐表表头）"}
    assert {"E28", "E22"} <= codes


def test_unmatched_both_ways_are_listed(run):
    demo, _res, out = run
    rows = sheet(out, "汇总")
    no_row = [a for a in demo.apps if not a.in_row]
    no_wb = [a for a in demo.apps if not a.write_workbook]
    assert no_row and no_wb
    for a in no_row:
        assert _find(rows, a)[0]["匹配情况"] == "缺推荐表"
    for a in no_wb:
        assert _find(rows, a)[0]["匹配情况"] == "缺申请书"


def test_moved_merged_hidden_and_formula_cells_are_read(run):
    demo, _res, out = run
    rows = sheet(out, "汇总")
    for kind in ("moved", "merged"):
        for a in (a for a in demo.apps if a.problem == kind):
            r = _find(rows, a)[0]
            assert r["申请类别"] == a.values["category"]
            assert "E20" not in r["问题代码"]
    for a in (a for a in demo.apps if a.problem == "formula"):
        r = _find(rows, a)[0]
        assert float(r["满意度（百分制得分）"]) == a.formula[1]


def test_errors_first_and_status_colours(run):
    _demo, _res, out = run
    order = {"有错误": 0, "仅有提醒": 1, "无问题": 2}
    ranks = [order[r["状态"]] for r in sheet(out, "汇总")]
    assert ranks == sorted(ranks)
    from openpyxl import load_workbook
    ws = load_workbook(out)["汇总"]
    assert ws.freeze_panes == "E2" and "master_list" in ws.tables
    head = [c.value for c in ws[1]]
    col = head.index("统一社会信用代码") + 1
    for r in range(2, ws.max_row + 1):
        codes = (ws.cell(r, head.index("问题代码") + 1).value or "").split()
        if "E16" in codes:
            assert ws.cell(r, col).fill.fgColor.rgb.endswith("FFC7CE")


def test_staff_can_read_statistics(run):
    """统计 counts agree with 汇总 (an independent recount)."""
    _demo, _res, out = run
    rows = sheet(out, "汇总")
    wb = CalamineWorkbook.from_path(str(out))
    grid = wb.get_sheet_by_name("统计").to_python(skip_empty_area=False)
    total_row = next(r for r in grid if r and r[0] == "合计")
    n = sum(int(v) for v in total_row[1:-1] if v not in ("", None))
    assert n == len(rows) == int(total_row[-1])
    per = {}
    start = next(i for i, r in enumerate(grid) if r[0] == "推荐单位" and r[1] == "申请数")
    for r in grid[start + 1:]:
        if not r[0] or str(r[0]).startswith("三、"):
            break
        per[r[0]] = (int(r[1]), int(r[4]), int(r[5]))
    for rec, (apps, errs, warns) in per.items():
        mine = [r for r in rows if r["推荐单位"] == rec]
        assert apps == len(mine)
        assert errs == sum(int(r["错误数"]) for r in mine)
        assert warns == sum(int(r["提醒数"]) for r in mine)


def test_about_sheet_lists_decisions(run):
    _demo, _res, out = run
    wb = CalamineWorkbook.from_path(str(out))
    grid = wb.get_sheet_by_name("说明").to_python()
    text = "\n".join(str(c) for r in grid for c in r)
    for label in C.decision_labels.values():
        assert label in text
    assert C.title in text


# ---------------------------------------------------------------------- security
def test_formula_injection_is_written_as_text(run):
    demo, _res, out = run
    rows = sheet(out, "汇总")
    inj = [a for a in demo.apps if a.problem == "inject"]
    assert inj
    for a in inj:
        assert _find(rows, a)[0]["联系地址"] == a.values["contact_address"]
    with zipfile.ZipFile(out) as z:
        for n in z.namelist():
            if n.startswith("xl/worksheets/sheet"):
                assert b"<f>" not in z.read(n), n  # no formula anywhere in the master


# ---------------------------------------------------------------------- re-runs
def _content(path, skip_about=True):
    wb = CalamineWorkbook.from_path(str(path))
    out = {}
    for name in wb.sheet_names:
        if skip_about and name == "说明":
            continue
        out[name] = wb.get_sheet_by_name(name).to_python()
    return out


def test_same_inputs_same_master(small, tmp_path):
    demo, _res, out = small
    again = tmp_path / "again.xlsx"
    consolidate(demo.folder, again, C, progress=False, workers=1)  # serial vs the pool
    assert _content(again) == _content(out)


def test_staff_columns_survive_a_rerun(small, tmp_path):
    demo, _res, out = small
    from openpyxl import load_workbook
    master = tmp_path / "m.xlsx"
    shutil.copy(out, master)
    wb = load_workbook(master)
    ws = wb["汇总"]
    head = [c.value for c in ws[1]]
    ik, io_, inote = head.index("申请键") + 1, head.index("审定意见") + 1, head.index("备注") + 1
    written = {}
    for r in range(2, 12):
        ws.cell(r, io_, f"同意{r}")
        set_text_safe(ws.cell(r, inote), "=已电话核实" if r == 2 else f"备注{r}")  # typed as text
        written[(ws.cell(r, ik).value, ws.cell(r, head.index("来源文件") + 1).value)] = \
            (f"同意{r}", "=已电话核实" if r == 2 else f"备注{r}")
    wb.save(master)
    consolidate(demo.folder, master, C, progress=False)
    rows = sheet(master, "汇总")
    got = {(r["申请键"], r["来源文件"]): (r["审定意见"], r["备注"]) for r in rows}
    for k, v in written.items():
        assert got[k] == v


def test_master_open_in_excel_gets_a_copy(small, tmp_path):
    demo, _res, out = small
    master = tmp_path / "m.xlsx"
    shutil.copy(out, master)
    before = master.read_bytes()
    excel_lock(master).write_bytes(b"\x00" * 10)
    res = consolidate(demo.folder, master, C, progress=False)
    assert master.read_bytes() == before
    assert res.written_to != master and res.written_to.exists()
    assert any("另存为" in m for m in res.messages)


def test_lock_stops_a_second_run(small, tmp_path):
    demo, _res, _out = small
    master = tmp_path / "m.xlsx"
    with RunLock(master):
        with pytest.raises(RunLocked) as e:
            consolidate(demo.folder, master, C, progress=False)
    assert "另一个汇总" in str(e.value)
    res = consolidate(demo.folder, master, C, progress=False)  # the lock is gone afterwards
    assert res.written_to == master


def test_stale_lock_of_a_dead_process_is_taken_over(small, tmp_path):
    demo, _res, _out = small
    master = tmp_path / "m.xlsx"
    lock = RunLock(master).path
    lock.write_text("pid=999999999 start=2023-07-01 00:00:00")
    assert consolidate(demo.folder, master, C, progress=False).written_to == master
    assert not lock.exists()


# ---------------------------------------------------------------------- CLI
def test_cli_consolidate_prints_summary(small, tmp_path, capsys):
    demo, _res, _out = small
    # the demo's odd files include last year's template: the year must be said (issue 20 §7)
    code = main(["consolidate", str(demo.folder), "-o", str(tmp_path / "x.xlsx"), "-q"])
    assert code == 2 and capsys.readouterr().err.startswith(
        "错误：这些文件属于不同年度的活动（2023 年、2022 年），无法确定按哪一年处理，本次未处理：\n")
    code = main(["consolidate", str(demo.folder), "-o", str(tmp_path / "x.xlsx"), "-q",
                 "--campaign", "2023"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0] == "活动年度：2023（按命令行 --campaign 指定）"
    assert "申请" in out and "拒收" in out and str(tmp_path / "x.xlsx") in out


def test_cli_missing_folder_is_one_message(tmp_path, capsys):
    code = main(["consolidate", str(tmp_path / "nope"), "-o", str(tmp_path / "x.xlsx")])
    err = capsys.readouterr().err
    assert code == 2 and "不是文件夹或不存在" in err and "Traceback" not in err


def test_progress_bar_goes_to_stderr(small, tmp_path, capsys):
    demo, _res, _out = small
    consolidate(demo.folder, tmp_path / "p.xlsx", C, progress=True)
    err = capsys.readouterr().err
    assert "读取文件 [" in err and f"{len(list(Path(demo.folder).rglob('*.*')))}" in err


def test_onsite_review_column_follows_l6(run):
    """L6 (通知 §四(六)), by the APPLIED level: 企业类/服务类 applying for 标杆级 and 工程类
    applying for 用户满意级, still in the running (a proposed level above 不达标)."""
    _demo, _res, out = run
    top, four = C.level(5).applied, C.level(4).applied
    rows = [r for r in sheet(out, "汇总") if r["匹配情况"] != "缺申请书"]
    marked = [r for r in rows if r["现场评审"] == "是"]
    running = {lv.name for lv in C.levels}
    expected = [r for r in rows if r["建议等级"] in running and (
        (r["申请类别"] in ("企业类", "服务类") and r["申请等级"] == top)
        or (r["申请类别"] == "工程类" and r["申请等级"] == four))]
    assert marked == expected and marked
    assert {r["申请类别"] for r in marked} >= {"工程类"}
