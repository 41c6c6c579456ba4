"""Cached values (issue 11): every formula cell of every generated workbook carries the value
Excel would compute, so Protected View, previews and phones (which never recalculate) show
the right banner, totals, levels and highlights, and Excel does not ask "save changes?".

A reader that does not calculate (openpyxl ``data_only``, python-calamine) must see the
evaluator's values, the rules engine's results (``saq check``) and LibreOffice's
recalculation."""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from xl_addin.read.check import check_file
from xl_addin.rules.campaign import load
from xl_addin.sheet.xlcache import CALC_ID, evaluate_file, finish_workbook
from xl_addin.sheet.xlcalc import XLError

WITH_FORMULAS = ["application_template", "recommender_template", "application_filled",
                 "application_filled_2", "recommender_filled", "expert_blank", "expert_filled"]
ALL = WITH_FORMULAS + ["master", "experts_template", "manifest", "results"]  # no formulas (yet)
EPOCH = dt.datetime(1899, 12, 30)
C = load()


def norm(v):
    """One comparable form of a cell value read by any reader."""
    if isinstance(v, XLError):
        return v.code
    if isinstance(v, dt.datetime):
        return (v - EPOCH).total_seconds() / 86400
    if isinstance(v, dt.date):
        return float((v - EPOCH.date()).days)
    if v is None:
        return ""
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return float(v)
    return v


def same(a, b):
    a, b = norm(a), norm(b)
    if isinstance(a, float) and isinstance(b, float) and not isinstance(a, bool) \
            and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)
    return a == b and type(a) is type(b)


def _calc_pr(path):
    with zipfile.ZipFile(path) as z:
        return re.search(r"<calcPr\b[^>]*/>", z.read("xl/workbook.xml").decode()).group(0)


@pytest.mark.parametrize("kind", ALL)
def test_values_are_current_no_recalculation_on_load(generated, kind):
    calc = _calc_pr(generated[kind])
    assert f'calcId="{CALC_ID}"' in calc and "fullCalcOnLoad" not in calc, calc


@pytest.mark.parametrize("kind", ["demo_application", "demo_recommender"])
def test_demo_inbox_files_carry_the_values_of_their_own_inputs(generated, kind):
    """The demo patches inputs into the blank's XML and evaluates the blank's formulas with
    them (issue 20 §6): each file says its values are current, and every formula cell holds
    what a fresh evaluation of the saved file gives — no blank, no value of the blank."""
    path = generated[kind]
    calc = _calc_pr(path)
    assert f'calcId="{CALC_ID}"' in calc and "fullCalcOnLoad" not in calc, calc
    values = evaluate_file(path)
    wb = load_workbook(path, data_only=True)
    bad = [(s, r, c, v, wb[s].cell(r, c).value) for (s, r, c), v in values.items()
           if not same(wb[s].cell(r, c).value, v)]
    assert len(values) > 1000 and not bad, bad[:10]


@pytest.mark.parametrize("kind", WITH_FORMULAS)
def test_calculation_free_readers_see_the_evaluated_values(generated, kind):
    from python_calamine import CalamineWorkbook
    path = generated[kind]
    values = evaluate_file(path)
    assert values, "a workbook of this kind has formulas"
    wb = load_workbook(path, data_only=True)
    cal = CalamineWorkbook.from_path(str(path))
    sheets = {}
    bad = []
    for (sheet, r, c), v in values.items():
        if sheet not in sheets:
            sheets[sheet] = cal.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        rows = sheets[sheet]
        got_cal = rows[r - 1][c - 1] if r <= len(rows) and c <= len(rows[r - 1]) else ""
        got_opx = wb[sheet].cell(r, c).value
        cal_ok = same(got_cal, v) or (isinstance(v, XLError) and got_cal == "")  # calamine: errors read as ""
        if not same(got_opx, v) or not cal_ok:
            bad.append((sheet, r, c, v, got_opx, got_cal))
    assert not bad, bad[:10]


def _named(path, names):
    wb = load_workbook(path, data_only=True)
    out = {}
    for n in names:
        sheet, coord = next(iter(wb.defined_names[n].destinations))
        out[n] = wb[sheet][coord.replace("$", "")].value
    return out


@pytest.mark.parametrize("kind", ["application_filled", "application_filled_2"])
def test_cached_application_results_equal_the_engine(generated, kind):
    path = generated[kind]
    res = check_file(path, C)
    got = _named(path, ["se_total", "banner", "error_count", "warning_count",
                        "achievable_level", "proposed_level", "level_reason"])
    assert got["banner"] == res.status  # 表格 and 材料 (issue 13), as `saq check` prints it
    form = res.form_findings
    assert (got["error_count"], got["warning_count"]) == \
        (sum(f.severity == "error" for f in form), sum(f.severity == "warning" for f in form))
    assert got["se_total"] == res.selfeval_total
    assert got["achievable_level"] == res.achievable_level
    assert (got["proposed_level"] or None) == res.proposed_level
    assert got["level_reason"] == res.level_reason


def test_cached_recommender_results_equal_the_engine(generated):
    path = generated["recommender_filled"]
    res = check_file(path, C)
    got = _named(path, ["row_count", "error_count", "warning_count", "status"])
    assert res.rows > 0 and res.warnings  # the demo's 附件3 has warnings to count
    assert got == {"row_count": res.rows, "error_count": len(res.errors),
                   "warning_count": len(res.warnings), "status": res.status}


def test_an_unknown_function_leaves_recalculation_on_load(tmp_path):
    wb = Workbook()
    wb.active["A1"] = 2
    wb.active["B1"] = "=A1*3"
    wb.active["C1"] = "=GAMMALN(A1)"  # not known to the evaluator
    p = tmp_path / "x.xlsx"
    wb.save(p)
    assert finish_workbook(p) is False
    assert 'fullCalcOnLoad="1"' in _calc_pr(p)
    assert load_workbook(p, data_only=True).active["B1"].value is None  # nothing half-done


def test_finish_keeps_formulas_and_styles(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "85"
    ws["A2"] = 15
    ws["B1"] = '=A1+A2&" 分"'
    ws["B1"].number_format = "@"
    ws["B2"] = "=A2>10"
    ws["B3"] = "=1/0"
    p = tmp_path / "x.xlsx"
    wb.save(p)
    assert finish_workbook(p) is True
    f = load_workbook(p)
    v = load_workbook(p, data_only=True)
    assert f.active["B1"].value == '=A1+A2&" 分"' and f.active["B1"].number_format == "@"
    assert [v.active[c].value for c in ("B1", "B2", "B3")] == ["100 分", True, "#DIV/0!"]


LO_KINDS = ["application_filled_2", "recommender_filled", "expert_filled", "recommender_template"]


@pytest.fixture(scope="module")
def lo_recalculated(generated):
    """The LO_KINDS recalculated by LibreOffice (the worker's session, read over UNO, logicals
    told from numbers as an .xlsx export tells them)."""
    import lo_session
    if not lo_session.available():
        pytest.skip("LibreOffice is not installed")

    class Recalculated(dict):
        def __missing__(self, kind):  # each on first use (a failure fails that test only)
            self[kind] = lo_session.session().recalculate(generated[kind], logical=True)
            return self[kind]
    return Recalculated()


@pytest.mark.libreoffice
@pytest.mark.parametrize("kind", LO_KINDS)
def test_cached_values_equal_libreoffice_recalculation(generated, lo_recalculated, kind):
    path = generated[kind]
    lo = lo_recalculated[kind]
    assert lo.sheet_names, f"LibreOffice could not open {path.name}"
    mine = load_workbook(path, data_only=True)
    values = evaluate_file(path)
    bad = [(s, r, c, mine[s].cell(r, c).value, lo.value(s, r, c))
           for (s, r, c) in values
           if not (same(mine[s].cell(r, c).value, lo.value(s, r, c))
                   # LibreOffice has no logical type: TRUE is stored as 1
                   or (isinstance(mine[s].cell(r, c).value, bool)
                       and norm(lo.value(s, r, c)) == float(mine[s].cell(r, c).value)))]
    assert not bad, bad[:10]
