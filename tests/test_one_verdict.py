"""One verdict everywhere (issue 9): every workbook of the demo campaign gets the same codes,
self-evaluation total, achievable and proposed level from

1. its own sheet, recalculated in LibreOffice,
2. `saq check FILE --json`,
3. its rows in the master that `saq consolidate` writes,

and `saq check` accepts and refuses exactly the files consolidation imports and rejects,
with the same reasons. The same holds under the 2024 test campaign. The sheet and
`saq check` also agree on the 材料清单 (RULES.md M): the number of items missing and the
banner, word for word (表格：… ；材料：缺 N 项 …; 可以提交 only when both are clean).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from conftest import run_root, shared_once
from lo_session import LOError, available
from master_sheets import sheet
from verdict_paths import (
    CROSS_FILE,
    READER_ONLY,
    from_check,
    from_libreoffice,
    from_master,
    without,
    without_dossier,
    without_materials,
)

from xl_addin.consolidate import consolidate
from xl_addin.demo import DEFAULT_SEED, write_campaign
from xl_addin.errors import InputFileError
from xl_addin.read import check
from xl_addin.rules.campaign import load

# The current campaign at the size of `saq demo` (every file of the demo), the 2024 test
# campaign smaller (its files come from the same writers; each costs LibreOffice 0.6 s).
SIZES = {2023: {}, 2024: {"n_apps": 24, "n_recommenders": 3}}
# At least this many files of each campaign are compared (imported, checked, recalculated).
ENOUGH = {2023: 40, 2024: 20}
# The sheets of the 2023 demo are recalculated in this many parts, each a class of its own, so
# pytest-xdist (--dist loadscope: a class is a unit) hands them to both workers.
PARTS = 3


def _shared_run(request, tmp_path_factory, year):
    """The campaign's files and their master, made once per run for both workers
    (conftest.shared_once; 2023: `saq demo`'s own)."""
    c = load(year)
    if not SIZES[c.year] and c.year == load().year == DEFAULT_SEED:
        # `saq demo`'s own files and master, made once per run (tests/conftest.py)
        folder, master = request.getfixturevalue("demo_inbox"), request.getfixturevalue("demo_master")
    else:
        def build(d):
            folder = write_campaign(d / "in", seed=c.year, campaign=c, **SIZES[c.year]).folder
            consolidate(folder, d / "汇总表.xlsx", c, progress=False, workers=1)
            return {"folder": folder, "master": d / "汇总表.xlsx"}
        run = shared_once(tmp_path_factory, f"verdict{c.year}", build)
        folder, master = run["folder"], run["master"]
    checked = Checked(c, run_root(tmp_path_factory) / "saq_check_json")
    files = {r["文件"]: r for r in sheet(master, "文件清单")}
    return c, checked, folder, master, files, tmp_path_factory.mktemp(f"verdict{c.year}")


@pytest.fixture(scope="module", params=sorted(SIZES))
def campaign_run(request, tmp_path_factory):
    """(campaign, checked, inbox folder, master, 文件清单 rows by file, a scratch folder)."""
    return _shared_run(request, tmp_path_factory, request.param)


@pytest.fixture(scope="module")
def run_2023(request, tmp_path_factory):
    return _shared_run(request, tmp_path_factory, 2023)


@pytest.fixture(scope="module")
def run_2024(request, tmp_path_factory):
    return _shared_run(request, tmp_path_factory, 2024)


class Checked:
    """`saq check FILE --json` of each file, run once per file and run: kept in ``folder``
    (common to the workers) by the file's content and the campaign year."""

    def __init__(self, c, folder=None):
        self.c, self.done, self.folder = c, {}, folder
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, path):
        if str(path) in self.done:
            return self.done[str(path)]
        kept = None
        if self.folder is not None:
            digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            kept = self.folder / f"{digest}-{self.c.year}.json"
            if kept.exists():
                self.done[str(path)] = json.loads(kept.read_text(encoding="utf-8"))
                return self.done[str(path)]
        got = self.done[str(path)] = from_check(path, self.c)
        if kept is not None:
            tmp = kept.with_name(f"{kept.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(got, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, kept)  # the other worker sees all of it or nothing
        return got


def imported(files, kind=None):
    return [rel for rel, r in files.items()
            if r["状态"] == "已导入" and (kind is None or r["类型"] == kind)]


def test_check_and_consolidation_take_and_refuse_the_same_files(campaign_run):
    c, _checked, folder, _master, files, _d = campaign_run
    assert len(imported(files)) > ENOUGH[c.year]
    for rel, row in files.items():
        p = folder / rel
        try:
            check.check_file(p, c)
            taken, reason = True, ""
        except InputFileError as e:
            taken, reason = False, e.reason
        if row["状态"] == "已导入":
            assert taken, (rel, reason)
        elif row["类型"] in ("申请书", "推荐表", "Excel 文件", "汇总表", "专家评分表", "CSV 文件"):
            assert not taken, rel
            assert reason == row["原因/说明"], rel


def test_check_json_equals_the_master_row(campaign_run):
    c, checked, folder, master, files, _d = campaign_run
    in_master = from_master(master)
    compared = 0
    for rel in imported(files):
        got = checked(folder / rel)
        if files[rel]["类型"] == "推荐表":
            # rows the master could not place (拒收) carry no flags there
            unplaced = sum(1 for r in sheet(master, "拒收") if r["文件"] == rel)
            if unplaced:
                continue
        assert without_materials(without(got, CROSS_FILE)) == without_dossier(in_master[rel]), rel
        compared += 1
    assert compared > ENOUGH[c.year]


def sheet_equals_check(run, part=0, parts=1):
    """The sheet of every imported file (those of part ``part`` of ``parts``), recalculated in
    LibreOffice, gives `saq check`'s verdict."""
    c, checked, folder, _master, files, _d = run
    # Files written without the template's formulas (moved blocks, merged cells) carry no
    # sheet verdict of their own; every other imported file is recalculated (issue 9: the
    # three-way verdict holds on every file of the demo, not on a sample).
    ours = [folder / rel for rel in imported(files)][part::parts]
    compared, with_materials, differ = 0, 0, []
    for p in ours:
        try:
            sheet_verdict = from_libreoffice(p)
        except LOError as e:
            raise AssertionError(f"LibreOffice could not open {p.name}: {e}") from None
        if sheet_verdict is None:
            continue
        verdict = checked(p)
        want, got = without(verdict, READER_ONLY), without(sheet_verdict, READER_ONLY)
        if "E27" in verdict["codes"]:
            # the total typed over the sheet's own formula (E27): only a reader sees the parts
            # (and counts E27 in the banner's 表格 part)
            got.pop("total"), want.pop("total")
            got.pop("banner", None), want.pop("banner", None)
        compared += 1
        with_materials += "materials" in want  # the 材料清单 count and the banner (issue 13)
        if got != want:
            differ.append((p.name, got, want))
    # over all parts: most files compared, more than half of them with a 材料清单
    assert compared * parts > ENOUGH[c.year] * 3 // 4
    assert with_materials * parts > ENOUGH[c.year] // 2
    assert differ == []


lo_test = pytest.mark.skipif(not available(), reason="LibreOffice not installed")


@pytest.mark.libreoffice
@lo_test
@pytest.mark.parametrize("year", [2024])
def test_the_recalculated_sheet_equals_saq_check(run_2024, year):
    assert run_2024[0].year == year
    sheet_equals_check(run_2024)


class _Sheet2023:
    """Part ``PART`` of the 2023 demo's files; pytest collects the subclasses below."""

    PART = 0

    def test_the_recalculated_sheet_equals_saq_check(self, run_2023):
        sheet_equals_check(run_2023, self.PART, PARTS)


@pytest.mark.libreoffice
@lo_test
class TestSheet2023Part1(_Sheet2023):
    PART = 0


@pytest.mark.libreoffice
@lo_test
class TestSheet2023Part2(_Sheet2023):
    PART = 1


@pytest.mark.libreoffice
@lo_test
class TestSheet2023Part3(_Sheet2023):
    PART = 2


def test_the_parts_are_every_file():
    """The parts above together are every file: PARTS classes, PART 0 … PARTS-1."""
    parts = sorted(cls.PART for cls in _Sheet2023.__subclasses__())
    assert parts == list(range(PARTS))

# ---------------------------------------------------------------------- expert workbooks
# Issue 20 §5: the expert form reads what `review collect` reads. The demo's applications
# are assigned to six experts, who fill their forms; some cells are typed the way people
# type (full-width digits, 分 after a score, a full-width blank word, a text 1.0, a score out
# of the allowed values, a spaced 测量报告应用). Each row's 填写状态, 专家总分, 评价结论 and
# 可评等级 must be the same in the form recalculated by LibreOffice, in `review collect`
# (its row reading) and in the results workbook's 评分明细 row.
EXPERTS = "姓名,单位,回避单位,专业\n" + "\n".join(
    f"{n},{u},," for n, u in (("王立群", "上海交通大学"), ("李敏", "复旦大学"),
                              ("张伟", "上海市质量协会"), ("陈静", "上海大学"),
                              ("刘洋", "同济大学"), ("赵磊", "华东理工大学"))) + "\n"


def _typed_like_people(path, c):
    """Retype some cells of a filled expert form (saved without cached values: LibreOffice
    recalculates it, collect reads the inputs)."""
    from openpyxl import load_workbook
    from openpyxl.utils import range_boundaries

    from xl_addin.review.expert_table import TABLE, columns
    from xl_addin.rules.show import fmt_number
    wide = str.maketrans({chr(i - 0xFEE0): chr(i) for i in range(0xFF01, 0xFF5F)})
    wb = load_workbook(path)
    ws = next(w for w in wb.worksheets if TABLE in w.tables)
    c1, r1, _, r2 = range_boundaries(ws.tables[TABLE].ref)
    col = {k.key: c1 + i for i, k in enumerate(columns(c))}
    parts = {p.kind: p.key for p in reversed(c.rubric.parts)}  # the first part of each kind
    first, score = c.rubric.parts[0].key, c.rubric.parts[1].key
    for n, r in enumerate(range(r1 + 1, r2 + 1)):
        def cell(key, r=r):
            return ws.cell(r, col[key])
        v = cell(score).value
        if not isinstance(v, (int, float)):
            continue
        kind = n % 8
        if kind == 0:
            cell(first).value = fmt_number(cell(first).value or 0).translate(wide)
        elif kind == 1:
            cell(parts["range"]).value = fmt_number(cell(parts["range"]).value or 0).translate(wide) + "分"
        elif kind == 2:
            cell(score).value = f"{fmt_number(v)}分"
        elif kind == 3:
            cell(score).value = f"{fmt_number(v)}.0"  # unreadable in both
        elif kind == 4:
            cell(parts["range"]).value = "－"  # a blank word: the part is missing
        elif kind == 5:
            cell(score).value = "３"  # outside 0, 1, 2 (E29): 无法评定
        elif kind == 6:
            cell("report_use").value = f" {cell('report_use').value}\u3000"
        elif kind == 7:
            cell(parts["errors"]).value = "１"
    wb.save(path)


@pytest.fixture(scope="module")
def reviewed(run_2023):
    """The 2023 demo's applications assigned, filled and collected: the expert form's verdict
    under the current campaign (the 2024 run would add 12 s to the suite and cover the same
    code; issue 21)."""
    from xl_addin.review import simulate as S
    from xl_addin.review.workflow import run_assign, run_collect
    c, _checked, _folder, master, _files, d = run_2023
    experts = d / "experts.csv"
    experts.write_text(EXPERTS, encoding="utf-8")
    out = d / "review"
    run = run_assign(master, experts, out, c)
    assert run.manifest and run.workbooks
    for name, file in run.manifest.files.items():
        S.fill_workbook(out / file, c, name, S.DILIGENT, seed=c.year)
        _typed_like_people(out / file, c)
    res, results = run_collect(out, d / "评审结果.xlsx", c)
    return c, out, run.manifest, res, results


def _expert_rows(path, c, recalc=None):
    """(app id, each row's inputs and computed cells) of an expert form, by column key: as
    typed, or as LibreOffice recalculated it (``recalc``, a lo_session.Recalculated)."""
    from openpyxl import load_workbook
    from openpyxl.utils import range_boundaries

    from xl_addin.review.expert_table import TABLE, columns
    wb = load_workbook(path)
    ws = next(w for w in wb.worksheets if TABLE in w.tables)
    c1, r1, _, r2 = range_boundaries(ws.tables[TABLE].ref)
    cols = columns(c)

    def value(r, j):
        if recalc is None:
            return ws.cell(r, j).value
        v = recalc.value(ws.title, r, j)
        return None if v == "" else v
    out = {}
    for r in range(r1 + 1, r2 + 1):
        row = {k.key: value(r, c1 + i) for i, k in enumerate(cols)}
        if row["app_id"]:
            out[row["app_id"]] = row
    return out


def _collected(res):
    """(app id, expert) -> (填写状态, 专家总分, 评价结论) as `review collect` recorded them."""
    return {(a.app.id, s.expert): (s.status, _round(s.total), s.conclusion or None)
            for a in res.review.apps for s in a.scores}


def _round(x):
    return None if x in (None, "") else round(float(x), 2)


def _result_rows(path):
    """The rows of 评分明细 (table ``review_scores``) of the results workbook."""
    from openpyxl import load_workbook
    from openpyxl.utils import range_boundaries
    ws = load_workbook(path)["评分明细"]
    c1, r1, c2, r2 = range_boundaries(ws.tables["review_scores"].ref)
    head = [ws.cell(r1, j).value for j in range(c1, c2 + 1)]
    return [dict(zip(head, (ws.cell(r, j).value for j in range(c1, c2 + 1))))
            for r in range(r1 + 1, r2 + 1)]


def test_collect_and_the_results_rows_agree(reviewed):
    c, _out, man, res, results = reviewed
    detail = {(r["申请编号"], r["专家"]): (r["状态"], _round(r["专家总分"]), r["评价结论"] or None)
              for r in _result_rows(results)}
    collected = _collected(res)
    assert detail == collected
    statuses = {s for s, _, _ in collected.values()}
    assert {"已完成", "有 1 项填写无效"} <= statuses and any(s.startswith("未完成") for s in statuses)
    assert len(collected) == sum(len(names) for names in man.by_app.values())


@pytest.mark.libreoffice
@pytest.mark.skipif(not available(), reason="LibreOffice not installed")
def test_the_recalculated_expert_forms_equal_collect(reviewed, lo):
    from xl_addin.review.expert_form import SHEET
    from xl_addin.review.expert_table import read_row
    c, out, man, res, _results = reviewed
    apps = {a.id: a for a in man.apps}
    collected = _collected(res)
    compared, full_width, differ = 0, 0, []
    for name, file in man.files.items():
        typed = _expert_rows(out / file, c)
        recalc = lo.recalculate(out / file, sheets=[SHEET])  # the worker's LibreOffice session
        for app_id, row in _expert_rows(out / file, c, recalc).items():
            st = read_row(c, typed[app_id], apps[app_id])  # collect's reading of the row
            sheet_says = (row["status"], _round(row["total"]), row["conclusion"] or None,
                          row["achievable"] or None)
            want = collected[(app_id, name)] + (c.level_name(st.achievable),)
            compared += 1
            full_width += any(isinstance(v, str) and any("０" <= ch <= "９" for ch in v)
                              for v in typed[app_id].values())
            if sheet_says != want:
                differ.append((file, app_id, sheet_says, want))
    assert compared == len(collected) and full_width > 5
    assert differ == []
