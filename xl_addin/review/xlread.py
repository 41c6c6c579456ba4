"""Open a submitted workbook safely and find a table in it by name or by its headers.

Never trusted: the file may be missing, not a workbook, encrypted, a zip bomb, or have its
sheet renamed and its table deleted. Every failure is an InputFileError with a Chinese
reason; macros never run (openpyxl does not execute them; XML goes through defusedxml,
which openpyxl uses when it is installed).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..errors import InputFileError
from ..parse import norm

MAX_UNCOMPRESSED = 200 * 1024 * 1024  # a real expert workbook is well under 1 MB
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
META_SHEET = "_meta"
HEADER_SCAN_ROWS = 30


def open_workbook(path, read_only=False):
    """Load ``path`` with openpyxl (values only).

    Args:
        read_only: cell values only, read with python-calamine (:class:`ValueBook`; many
            times faster than openpyxl, which reads every cell's style too). No Excel
            tables then: :func:`find_table` finds the header row by its labels.

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
    with open(p, "rb") as f:
        head = f.read(4)
    if head == OLE_MAGIC:
        raise InputFileError(p, _ole_reason(p))
    if not zipfile.is_zipfile(p):
        raise InputFileError(p, "不是有效的 .xlsx 文件（可能已损坏）")
    try:
        with zipfile.ZipFile(p) as z:
            if sum(i.file_size for i in z.infolist()) > MAX_UNCOMPRESSED:
                raise InputFileError(p, "文件解压后过大，疑似损坏或恶意文件")
    except zipfile.BadZipFile:
        raise InputFileError(p, "不是有效的 .xlsx 文件（可能已损坏）") from None
    if read_only:
        try:
            return ValueBook(p)
        except Exception:  # noqa: BLE001 - openpyxl below gives the reason, or reads it
            pass
    try:
        from openpyxl import load_workbook
        return load_workbook(p, data_only=True, keep_vba=False, keep_links=False,
                             read_only=read_only)
    except InputFileError:
        raise
    except Exception as e:  # noqa: BLE001 - any reader failure is the file's problem
        raise InputFileError(p, f"无法打开工作簿（{type(e).__name__}）") from None


class ValueBook:
    """A workbook's cell values read with python-calamine, behind the few openpyxl calls
    :func:`read_meta`, :func:`find_table` and :func:`table_rows` make: ``sheetnames``,
    ``worksheets``, ``wb[title]``, ``ws.iter_rows(…, values_only=True)``, ``close``.
    Empty cells are None and whole numbers int, as openpyxl gives them."""

    def __init__(self, path):
        from python_calamine import CalamineWorkbook
        self._wb = CalamineWorkbook.from_path(str(path))
        self.sheetnames = list(self._wb.sheet_names)
        self._sheets = {}

    def __getitem__(self, title):
        if title not in self._sheets:
            if title not in self.sheetnames:
                raise KeyError(title)
            self._sheets[title] = _ValueSheet(title, self._wb.get_sheet_by_name(title))
        return self._sheets[title]

    @property
    def worksheets(self):
        return [self[t] for t in self.sheetnames]

    def close(self):
        self._sheets.clear()


class _ValueSheet:
    def __init__(self, title, sheet):
        self.title = title
        self._sheet = sheet
        self._rows = None

    @property
    def rows(self):
        if self._rows is None:
            self._rows = [tuple(_value(v) for v in row)
                          for row in self._sheet.to_python(skip_empty_area=False)]
        return self._rows

    @property
    def max_row(self):
        return len(self.rows)

    def iter_rows(self, min_row=1, max_row=None, max_col=None, values_only=True):
        for row in self.rows[min_row - 1:max_row]:
            yield row[:max_col] if max_col else row


def _value(v):
    if v == "":
        return None
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


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
    width = max(cols.values(), default=0)
    rows = ws.iter_rows(min_row=header_row + 1, max_col=width, values_only=True) if width else ()
    for r, values in enumerate(rows, start=header_row + 1):
        values = tuple(values) + (None,) * (width - len(values))
        vals = {h: values[c - 1] for h, c in cols.items()}
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in vals.values()):
            if stop_blank:
                break
            continue
        out.append((r, vals))
    return out
