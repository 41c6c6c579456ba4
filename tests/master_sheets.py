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
