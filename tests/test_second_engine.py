"""A second formula engine, independent of LibreOffice and of our evaluator: pycel (issue 11).

pycel follows Excel where LibreOffice does not (SUM skips logicals in a range, TRUE&"" is
"TRUE"), so it catches what the LibreOffice differential tests cannot — shown below on the
2023 defect of 附件3's 提醒数. It is used only where it is faithful. Its gaps, found on our
workbooks: SUMPRODUCT over an array expression (``MID(x,{1,2,…},1)``, array FIND) fails an
assertion; CHAR and COUNTA are not implemented; TRIM is not Excel's (it does not collapse
inner spaces). Cells whose formula uses one of these are frozen to their cached value before
pycel evaluates the rest.

pycel reads and compiles each formula shape once (tests/pycel_shapes.py): the rows of a table
share their formula's tokens and compiled code, each row is still evaluated on its own cells.
"""

from __future__ import annotations

import logging
import math

import pytest
from openpyxl import Workbook, load_workbook

pycel = pytest.importorskip("pycel")
from pycel import ExcelCompiler  # noqa: E402
from pycel_shapes import plain, shape_cache  # noqa: E402

GAPS = ("SUMPRODUCT(", "TRIM(", "CHAR(", "COUNTA(")


def _same(a, b):
    a = "" if a is None else a
    b = "" if b is None else b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) \
            and not isinstance(a, bool) and not isinstance(b, bool):
        return math.isclose(a, b, abs_tol=1e-9)
    return a == b


def frozen_copy(path, out):
    """A copy whose formulas that use a pycel gap are replaced by their cached values.

    Returns:
        [(address, cached value)] of the formulas left for pycel.
    """
    wf, wv = load_workbook(path), load_workbook(path, data_only=True)
    left = []
    for ws in wf.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type != "f":
                    continue
                cached = wv[ws.title][c.coordinate].value
                if any(g in c.value.upper() for g in GAPS):
                    c.value = cached
                else:
                    left.append((f"{ws.title}!{c.coordinate}", cached))
    wf.save(out)
    return left


@pytest.fixture(autouse=True)
def shapes():
    """pycel within each test reads and compiles a formula shape once."""
    with shape_cache() as stats:
        yield stats


@pytest.mark.parametrize("kind", ["recommender_filled", "application_filled_2", "expert_filled"])
def test_pycel_agrees_with_the_cached_values(generated, kind, tmp_path, shapes):
    logging.disable(logging.CRITICAL)  # pycel logs every formula it cannot do
    try:
        left = frozen_copy(generated[kind], tmp_path / "frozen.xlsx")
        xl = ExcelCompiler(filename=str(tmp_path / "frozen.xlsx"))
        bad = []
        for addr, cached in left:
            got = xl.evaluate(addr)
            if not _same(got, cached):
                bad.append((addr, got, cached))
    finally:
        logging.disable(logging.NOTSET)
    # a good part of the workbook is checked, not only a few cells (an expert row has 30
    # formula cells since issue 20: the smallest, expert_filled, leaves 127)
    assert len(left) > 100
    assert not bad, bad[:10]
    assert shapes.compiled >= len(left) > shapes.code_shapes  # every cell compiled, shapes shared


# ---------------------------------------------------------------------- the 2023 defect
def _count_sheet(count_formula, path):
    """附件3's 提醒数 in miniature: row 6 has a warning (BI6), row 7 is empty (T7)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "初审推荐意见表"
    ws["T6"], ws["BI6"] = False, "等级与自评结论不符（E30）"
    ws["T7"], ws["BI7"] = True, None
    for r in (6, 7):
        ws[f"R{r}"] = count_formula.format(r=r)
    wb.create_sheet("统计")["B5"] = "=SUM('初审推荐意见表'!$R$6:$R$7)"
    wb.save(path)
    return path


@pytest.mark.parametrize("formula, shown", [
    ('=IF($T{r},"",($BI{r}<>""))', 0),    # 2023: a logical — Excel's SUM skips it
    ('=IF($T{r},"",N(($BI{r}<>"")))', 1),  # issue 11: a number
])
def test_pycel_sees_the_logical_warning_count(tmp_path, formula, shown):
    p = _count_sheet(formula, tmp_path / "t.xlsx")
    assert ExcelCompiler(filename=str(p)).evaluate("统计!B5") == shown


@pytest.mark.parametrize("old, shown", [(True, 0), (False, 1)])
def test_pycel_on_the_real_recommender(generated, tmp_path, old, shown):
    """The generated 附件3, one row with a warning: with its 2023 提醒数 column pycel (like
    Excel) shows 0 warnings in 统计, where LibreOffice showed 1; today's column shows 1."""
    import re
    wb = load_workbook(generated["recommender_template"])
    ws = wb["初审推荐意见表"]
    # the row's warning cell, wherever the generator puts it: the one 提醒数 counts
    warn = re.search(r'\(\$([A-Z]+)6<>""\)', ws["R6"].value).group(1)
    if old:
        for r in range(6, 56):
            ws[f"R{r}"] = f'=IF($T{r},"",(${warn}{r}<>""))'
    ws["T6"] = False  # the row is filled …
    ws[f"{warn}6"] = "等级与自评结论不符（E30）"  # … and carries a warning
    p = tmp_path / "old.xlsx"
    wb.save(p)
    frozen_copy(p, tmp_path / "frozen.xlsx")
    xl = ExcelCompiler(filename=str(tmp_path / "frozen.xlsx"))
    assert xl.evaluate("统计!B5") == shown  # 0: the banner would say 可以提交


@pytest.mark.libreoffice
def test_libreoffice_alone_misses_the_logical_warning_count(tmp_path):
    """Why a second engine: LibreOffice counts the logical, so the 2023 sheet agreed with the
    Python engine there (1 warning) while Excel and pycel show 0."""
    import lo_diff
    if not lo_diff.lo_available():
        pytest.skip("LibreOffice with python3-uno is not installed")
    p = _count_sheet('=IF($T{r},"",($BI{r}<>""))', tmp_path / "t.xlsx")
    got, _ = lo_diff.run_job({"template": str(p), "batches": [{"read": [["统计", "B5", "n"]]}]})
    assert got == [[1.0]]
    assert ExcelCompiler(filename=str(p)).evaluate("统计!B5") == 0


def test_shape_cache_gives_pycel_its_own_code(tmp_path):
    """Each cell of a copied formula gets the code pycel itself writes for it (references
    moved, $ parts kept, strings and other sheets untouched) and the same value."""
    wb = Workbook()
    ws = wb.active
    ws.title = "表"
    other = wb.create_sheet("另 表")
    for r in range(1, 9):
        ws[f"A{r}"] = r
        other[f"B{r}"] = r * 10
        ws[f"B{r}"] = f'=IF(A{r}>3,"A1大",SUM($A$1:A{r})+\'另 表\'!B{r}*A$2)'
        ws[f"C{r}"] = f"=B{r}&\"|\"&COUNTIF(A$1:A$8,\">\"&A{r})"
    p = tmp_path / "copied.xlsx"
    wb.save(p)
    cells = [f"表!{c}{r}" for r in range(1, 9) for c in "BC"]

    def run():
        xl = ExcelCompiler(filename=str(p))
        values = [xl.evaluate(a) for a in cells]
        return values, [xl.cell_map[a].formula.python_code for a in cells]
    with shape_cache() as stats:
        shared = run()
    assert stats.token_shapes == 2 and stats.tokens == 16 and stats.passed_through == 0
    # in row 1, $A$1:A1 is one cell: pycel writes _C_ there and _R_ below, a code shape more
    assert stats.code_shapes == 3 and stats.compiled == 16
    with plain():
        assert shared == run()
