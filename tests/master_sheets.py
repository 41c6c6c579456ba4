"""Read a sheet of a generated workbook (the master) as the tests look at it."""

from python_calamine import CalamineWorkbook


def sheet(path, name):
    """A sheet as a list of dicts (header row = keys), empty rows left out."""
    wb = CalamineWorkbook.from_path(str(path))
    try:
        rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
    finally:
        wb.close()
    head = [str(h) for h in rows[0]]
    return [dict(zip(head, r)) for r in rows[1:] if any(v not in ("", None) for v in r)]


def formula_problems(path):
    """Cells of a workbook we wrote that are live formulas, or formula-like text without a
    quote prefix (F2 + Enter in Excel would make it live): "sheet!cell why value"."""
    from openpyxl import load_workbook

    from xl_addin.tables import is_formula_like
    bad = []
    wb = load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    bad.append(f"{ws.title}!{c.coordinate} formula {c.value!r}")
                elif is_formula_like(c.value) and not c.quotePrefix:
                    bad.append(f"{ws.title}!{c.coordinate} no quote prefix {c.value!r}")
    return bad
