"""The worker's LibreOffice session (tests/lo_session.py, issue 21): it recalculates what it
reads, reads errors and logicals as an .xlsx export stores them, gives the same values as the
export-and-reread path it replaces, and starts one office per process."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from lo_session import available, read_recalculated, session
from openpyxl import Workbook

pytestmark = [pytest.mark.libreoffice,
              pytest.mark.skipif(not available(), reason="LibreOffice with python3-uno is not installed")]


def _with_cached_value(src, dst, cell, value):
    """A copy of ``src`` whose ``cell`` carries a stale cached ``value`` and no request to
    recalculate on load (as a file Excel saved)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode("utf-8")
                text, n = re.subn(rf'(<c r="{cell}"[^>]*>\s*<f>[^<]*</f>)\s*(<v>\s*</v>|<v/>)?',
                                  rf"\g<1><v>{value}</v>", text)
                assert n == 1
                data = text.encode("utf-8")
            elif item.filename == "xl/workbook.xml":
                data = data.replace(b' fullCalcOnLoad="1"', b"")
            zout.writestr(item, data)
    return dst


def test_a_stale_cached_value_is_recalculated(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "S"
    ws["A1"], ws["B1"] = 21, "=A1*2"
    wb.save(tmp_path / "plain.xlsx")
    p = _with_cached_value(tmp_path / "plain.xlsx", tmp_path / "stale.xlsx", "B1", 99)
    assert session().recalculate(p).value("S", "B1") == 42.0  # calculateAll(), not the 99


def test_errors_and_logicals_read_as_an_export_stores_them(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "S"
    ws["A1"], ws["A2"] = 1, 0
    formulas = {"B1": "=A1/A2", "B2": "=NA()", "B3": '="x"+1', "B4": "=ZZZ(1)", "B5": "=#REF!+1",
                "B6": "=A1>0", "B7": "=A1*1", "B8": '=""'}
    for cell, f in formulas.items():
        ws[cell] = f
    wb.save(tmp_path / "e.xlsx")
    plain = session().recalculate(tmp_path / "e.xlsx")
    logical = session().recalculate(tmp_path / "e.xlsx", logical=True)
    want = ["#DIV/0!", "#N/A", "#VALUE!", "#NAME?", "#REF!"]
    assert [plain.value("S", f"B{r}") for r in range(1, 9)] == want + [1.0, 1.0, ""]
    assert [logical.value("S", f"B{r}") for r in range(1, 9)] == want + [True, 1.0, ""]


def test_a_file_is_read_once_per_content(tmp_path):
    wb = Workbook()
    wb.active["A1"] = "=1+1"
    wb.save(tmp_path / "a.xlsx")
    (tmp_path / "b.xlsx").write_bytes((tmp_path / "a.xlsx").read_bytes())
    s = session()
    before = s.requests
    s.recalculate(tmp_path / "a.xlsx")
    s.recalculate(tmp_path / "b.xlsx")  # the same content under another name
    assert s.requests - before <= 1 and session() is s and s.started == 1


def test_the_session_reads_what_an_exported_copy_holds(generated, tmp_path):
    """The path it replaces: LibreOffice converts the file to .xlsx and the reader reads the
    copy. Every defined name and every table cell read by name is the same."""
    from lo_recalc import recalculated

    from xl_addin.read import workbook as fastread
    paths = [generated["application_filled_2"], generated["demo_recommender"]]
    copies = recalculated(paths, tmp_path / "lo")
    for p in paths:
        old = fastread.read_submission(copies[Path(p)])
        new = read_recalculated(p)
        assert new.values == old.values, p.name
        assert {t: (x.rows, x.first_row, x.first_col, x.columns) for t, x in new.tables.items()} \
            == {t: (x.rows, x.first_row, x.first_col, x.columns) for t, x in old.tables.items()}
        assert any(v not in (None, "") for v in new.values.values())
