"""Open a submitted workbook safely and find a table in it by name or by its headers.

Never trusted: the file may be missing, not a workbook, encrypted, a zip bomb, or have its
sheet renamed and its table deleted. Every failure is an InputFileError with a Chinese
reason; macros never run (openpyxl does not execute them; XML goes through defusedxml,
which openpyxl uses when it is installed).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputFileError
from ..parse import norm

MAX_UNCOMPRESSED = 200 * 1024 * 1024  # a real expert workbook is well under 1 MB
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
META_SHEET = "_meta"
HEADER_SCAN_ROWS = 30


def open_workbook(path):
    """Load ``path`` with openpyxl (values only).

    Returns:
        openpyxl Workbook
    Raises:
        InputFileError
    """
    p = Path(path)
    if not p.exists():
        raise InputFileError(p, "文件不存在")
    suffix = p.suffix.lower()
    if suffix in (".xls", ".et"):
        raise InputFileError(p, "不支持旧版 .xls/.et 格式，请另存为 .xlsx 后重新提交")
    if suffix not in (".xlsx", ".xlsm"):
        raise InputFileError(p, f"不是 Excel 工作簿（扩展名“{suffix or '无'}”）")
    import stat
    try:
        if not stat.S_ISREG(p.stat().st_mode):  # a named pipe would block the reader
            from ..fastread import special_file_reason
            raise InputFileError(p, special_file_reason(p.stat().st_mode))
        with open(p, "rb") as f:
            head = f.read(4)
    except OSError as e:
        from ..errors import os_reason
        raise InputFileError(p, os_reason(e)) from None
    if head == OLE_MAGIC:
        raise InputFileError(p, _ole_reason(p))
    # The same bounds as consolidation (issue 12 §2): size, zip bombs, and each sheet's
    # extent measured before openpyxl builds anything.
    from ..fastread import preflight
    preflight(p)
    try:
        from openpyxl import load_workbook
        return load_workbook(p, data_only=True, keep_vba=False, keep_links=False)
    except InputFileError:
        raise
    except MemoryError:
        raise InputFileError(p, "文件过大，读取时内存不足") from None
    except Exception:  # noqa: BLE001 - any reader failure is the file's problem
        raise InputFileError(p, "无法打开工作簿，文件可能已损坏；请另存为 .xlsx 后重新提交") from None


def _ole_reason(p):
    try:
        import msoffcrypto
        with open(p, "rb") as f:
            if msoffcrypto.OfficeFile(f).is_encrypted():
                return "工作簿设有打开密码，请取消密码后重新提交"
    except Exception:  # noqa: BLE001 - not decisive; fall through to the generic reason
        pass
    return "是旧版 .xls 格式或已加密，请另存为 .xlsx（不设密码）后重新提交"


def read_meta(wb):
    """key -> value of the hidden ``_meta`` sheet (column A key, column B value); {} if none."""
    if META_SHEET not in wb.sheetnames:
        return {}
    out = {}
    for row in wb[META_SHEET].iter_rows(min_row=1, max_col=2, values_only=True):
        if row and row[0] is not None:
            out[str(row[0]).strip()] = row[1]
    return out


def _key(text):
    return norm(text).replace(" ", "") if text is not None else ""


def find_table(wb, table_name, must_have):
    """Locate a table: the Excel table ``table_name`` in any sheet, else a header row
    that holds every label of ``must_have`` (a renamed sheet or a deleted table still reads).

    Returns:
        (sheet title, header row number, {normalised header: column number}) or None.
    """
    for ws in wb.worksheets:
        for name, tbl in getattr(ws, "tables", {}).items():
            if name.lower() == table_name.lower():
                ref = tbl.ref if hasattr(tbl, "ref") else tbl
                from openpyxl.utils import range_boundaries
                c1, r1, c2, _ = range_boundaries(ref)
                cols = {_key(ws.cell(r1, c).value): c for c in range(c1, c2 + 1)
                        if ws.cell(r1, c).value is not None}
                return ws.title, r1, cols
    want = {_key(h) for h in must_have}
    for ws in wb.worksheets:
        if ws.title == META_SHEET:
            continue
        for r, row in enumerate(ws.iter_rows(min_row=1, max_row=HEADER_SCAN_ROWS,
                                             values_only=True), start=1):
            keys = {_key(v): c for c, v in enumerate(row, start=1) if v is not None}
            if want <= set(keys):
                return ws.title, r, keys
    return None


def table_rows(wb, where, stop_blank=True):
    """Data rows under a header found by :func:`find_table`: list of (row number, {header: value}).

    Reading stops at the first wholly blank row when ``stop_blank``.
    """
    title, header_row, cols = where
    ws = wb[title]
    out = []
    # Only rows that hold cells: a stray cell at row 1 048 576 must not make us visit (and
    # create) a million empty rows (issue 12 §2).
    wanted = set(cols.values())
    present = sorted({r for (r, c) in ws._cells if r > header_row and c in wanted})
    expected = header_row + 1
    for r in present:
        if stop_blank and r != expected:
            break  # a wholly blank row (not even a cell) lies before r
        expected = r + 1
        vals = {h: ws._cells[(r, c)].value if (r, c) in ws._cells else None
                for h, c in cols.items()}
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in vals.values()):
            if stop_blank:
                break
            continue
        out.append((r, vals))
    return out
