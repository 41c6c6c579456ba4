"""A bounded, fast reader for submitted workbooks (used by consolidation).

Every file is probed before it is opened: its magic bytes (a zip, an OLE container, text),
encryption (msoffcrypto-tool), the zip's declared sizes and compression ratios (zip bombs),
macros (never run: we only read XML). Only then are the defined names and table parts read
from ``xl/workbook.xml`` with defusedxml, and cell values with python-calamine (much faster
than openpyxl, measured in benchmarks/bench_consolidate.py). Data are found by defined name
and table name only (FIELDS.md), never by cell address.

One pass bounds and reads (issue 23): a sheet is measured only when the verdict needs it,
just before calamine reads it (:class:`_Sheets`), so sheets that feed no field are never
decompressed; an application is never searched for a 附件3 table nor a 附件3 for the
respondent list (``expected`` may depend on the kind).

What calamine is asked for (issue 23): calamine builds a whole sheet (twice, for its
merged cells) for each sheet or table it gives. A named cell and a table's rows are read
from the XML the bound has just read when every cell involved is plain — a number in a
built-in number or date format, an inline string, a formula's cached text, nothing —
decoded exactly as calamine decodes it (tests/test_reader_plain.py); any other cell, and
any sheet that is not plain (another encoding, markup that could hide a cell, a cell given
twice), goes to calamine as before. The extent is measured first either way.

Every failure is an :class:`~xl_addin.errors.InputFileError` subclass with a Chinese reason
a person can act on; nothing else escapes.
"""

from __future__ import annotations

import datetime
import math
import operator
import posixpath
import re
import stat as _stat
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from defusedxml import ElementTree as DET
from python_calamine import CalamineWorkbook

from xl_addin.errors import InputFileError, os_reason
from xl_addin.errors import NotOurWorkbook as _NotOurWorkbook
from xl_addin.files import special_file_reason
from xl_addin.tables import zip_infos_reason  # the zip's bounds: one gate for every reader

# Limits: a real template is < 1 MB uncompressed; these leave a wide margin (zip bombs,
# a sheet of a million rows) while keeping time and memory bounded.
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_SHEET_XML = 30 * 1024 * 1024  # about 300 000 simple rows
MAX_TABLE_ROWS = 5000
# The reader (calamine) builds a dense grid from A1 to the last cell with a value, before
# Python sees anything: one value at XFD1048576 asks for 17 billion cells. Every sheet's
# extent is measured from its XML first (issue 12 §2); a sheet past these is not read.
MAX_SHEET_CELLS = 1_000_000  # rows × columns from A1 (a template uses about 2 000)
MAX_SHEET_ROWS = 200_000
MAX_SHEET_COLS = 702  # ZZ

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}
META_SHEET = "_meta"
TEMPLATE_KINDS = {"saq-application": "application", "saq-recommender": "recommender",
                  "saq-expert": "expert", "saq-master": "master"}
SAVE_AS = "请另存为 .xlsx 后重新提交"

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"


class UnreadableWorkbook(InputFileError):
    """The file cannot be read safely; ``reason`` is the short Chinese reason."""


class NotOurWorkbook(_NotOurWorkbook):
    """A readable workbook that is not one of our templates (no ``_meta``)."""


@dataclass
class Probe:
    """What the bytes of a file say before anything parses it."""

    format: str  # "xlsx", "ole", "text", "empty", "ods", "strict", "other"
    encrypted: bool = False
    macros: bool = False
    note: str = ""


@dataclass
class Table:
    name: str
    sheet: str
    columns: list  # header labels as in the workbook
    rows: list  # lists of raw values, one per data row (bounded)
    first_row: int  # Excel row number of the first data row
    first_col: int  # 1-based column of the first column


@dataclass
class Submission:
    """One of our workbooks, read by name (FIELDS.md)."""

    path: Path
    kind: str  # application | recommender | expert
    meta: dict
    values: dict  # defined name -> raw value
    tables: dict  # table name -> Table
    locations: dict  # defined name -> (sheet, "C5")
    macros: bool = False
    notes: list = field(default_factory=list)  # things a person should know (Chinese)
    sheets: object = None  # _Sheets with every grid loaded (any_workbook reads only)
    sheet_names: list = field(default_factory=list)

    def sheet_rows(self, name):
        """A sheet as rows of values (None for empty), from A1; [] if there is no such sheet."""
        grid = self.sheets.grid(name) if self.sheets is not None else None
        return [[None if v == "" else v for v in row] for row in (grid or [])]

    def table_cell(self, table, row_index, column):
        """(sheet, "C12") of a table's data row ``row_index`` (0-based) and column label."""
        t = self.tables[table]
        j = t.columns.index(column) if column in t.columns else 0
        return t.sheet, f"{col_letter(t.first_col + j)}{t.first_row + row_index}"


# ---------------------------------------------------------------------- probing
def probe(path):
    """Look at a file's bytes: format, encryption, macros, bomb-like zips.

    Args:
        path: the file.
    Returns:
        Probe
    Raises:
        UnreadableWorkbook: a zip that is corrupt, truncated or a zip bomb.
    """
    p = Path(path)
    st = p.stat()
    if not _stat.S_ISREG(st.st_mode):  # a named pipe would block the read below forever
        raise UnreadableWorkbook(p, special_file_reason(st.st_mode))
    size = st.st_size
    if size == 0:
        return Probe("empty")
    with open(p, "rb") as f:
        head = f.read(8)
    if head.startswith(OLE_MAGIC):
        return Probe("ole", encrypted=_ole_encrypted(p))
    if head.startswith(ZIP_MAGIC):
        if size > MAX_FILE_BYTES:
            raise UnreadableWorkbook(p, f"文件过大（{size // 2**20} MB），超出 "
                                        f"{MAX_FILE_BYTES // 2**20} MB 上限")
        return _probe_zip(p)
    if _looks_like_text(head):
        return Probe("text")
    return Probe("other")


def _looks_like_text(head):
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return head.startswith((b"\xef\xbb\xbf",)) or all(b >= 9 for b in head)


def _ole_encrypted(p):
    """An OLE file: an encrypted .xlsx (EncryptionInfo) or a legacy .xls/.et."""
    try:
        import msoffcrypto  # lazy: ≈20 ms that saq check pays only for an OLE (encrypted/legacy) file
        with open(p, "rb") as f:
            return bool(msoffcrypto.OfficeFile(f).is_encrypted())
    except Exception:  # noqa: BLE001 - an OLE file msoffcrypto cannot parse is legacy/broken
        return False


def _probe_zip(p):
    try:
        with zipfile.ZipFile(p) as z:
            infos = z.infolist()
            bad = zip_infos_reason(infos)
            if bad:
                raise UnreadableWorkbook(p, bad)
            names = {i.filename for i in infos}
            other = _other_format(z, names)
            if other:
                return other
            if "xl/workbook.xml" not in names:
                return Probe("other", note="不是 .xlsx 工作簿（压缩包内没有 xl/workbook.xml），"
                                          + SAVE_AS)
            return Probe("xlsx", macros=any(n.lower().endswith("vbaproject.bin") for n in names))
    except zipfile.BadZipFile:
        raise UnreadableWorkbook(p, "文件已损坏或不完整（不是有效的 .xlsx），" + SAVE_AS) from None
    except (OSError, EOFError, ValueError, NotImplementedError) as e:
        if isinstance(e, OSError) and not isinstance(e, zipfile.BadZipFile) and e.errno:
            raise  # the file vanished or cannot be opened: the caller says so (races)
        raise UnreadableWorkbook(p, "文件已损坏或不完整（压缩数据有误），" + SAVE_AS) from None


ODS_REASON = ("这是 OpenDocument 电子表格（.ods，LibreOffice/WPS 的格式），不是 .xlsx；"
              "请在 LibreOffice 或 WPS 中用“另存为”选择“Excel 2007-365 (.xlsx)”后重新提交")
STRICT_REASON = ("这是“Strict Open XML 电子表格”格式的工作簿（严格模式，多数程序读不了）；"
                 "请在 Excel 中用“另存为”选择“Excel 工作簿 (*.xlsx)”后重新提交")


def _other_format(z, names):
    """A zip that is a spreadsheet in another format: OpenDocument or Strict OOXML."""
    if "mimetype" in names:
        try:
            with z.open("mimetype") as f:
                mime = f.read(100)
        except Exception:  # noqa: BLE001 - an unreadable entry: decided later as a broken zip
            mime = b""
        if mime.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
            return Probe("ods", note=ODS_REASON)
    if "xl/workbook.xml" in names:
        try:
            with z.open("xl/workbook.xml") as f:
                head = f.read(4096)
        except Exception:  # noqa: BLE001
            head = b""
        if b"purl.oclc.org/ooxml/spreadsheetml" in head:
            return Probe("strict", note=STRICT_REASON)
    return None


# ---------------------------------------------------------------------- workbook.xml
_REF_RE = re.compile(r"^(?:'((?:[^']|'')+)'|([^'!]+))!\$?([A-Z]{1,3})\$?(\d+)"
                     r"(?::\$?([A-Z]{1,3})\$?(\d+))?$")


def col_index(letters):
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def col_letter(n):
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


@lru_cache(maxsize=8192)
def parse_ref(text):
    """``'申请表'!$C$5`` -> ("申请表", row, col, row2, col2) 1-based; None if not a cell ref."""
    m = _REF_RE.match((text or "").strip())
    if not m:
        return None
    sheet = (m.group(1) or "").replace("''", "'") or m.group(2)
    r1, c1 = int(m.group(4)), col_index(m.group(3))
    r2 = int(m.group(6)) if m.group(6) else r1
    c2 = col_index(m.group(5)) if m.group(5) else c1
    return sheet, r1, c1, r2, c2


_CELL_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)\b([^>]*?)(/?)>")
_R_RE = re.compile(rb"\br=\"\$?([A-Z]{0,3})\$?(\d*)\"")
_DIM_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?dimension\b[^>]*?\bref=\"([^\"]*)\"")


@dataclass
class Extent:
    """How far a sheet reaches: the last row and column holding a value (1-based, from A1),
    and the ``<dimension>`` the file declares (not trusted, only reported)."""

    rows: int = 0
    cols: int = 0
    declared: str = ""

    @property
    def cells(self):
        return self.rows * self.cols

    @property
    def last_cell(self):
        return f"{col_letter(self.cols)}{self.rows}" if self.rows and self.cols else "A1"


def sheet_extent(xml, stop=False):
    """The extent of a worksheet part, from its XML bytes, without building anything.

    Only cells with content count (``<c …>…</c>``; an empty styled ``<c …/>`` does not,
    as the reader skips it). Cells and rows without ``r`` follow the previous one, as the
    reader places them. This is the exact measure, in Python: :func:`measure_sheet` calls
    it only when the fast upper bound (:func:`extent_bound`) is over the limits.

    Args:
        xml: the bytes of ``xl/worksheets/sheetN.xml`` (already bounded in size).
        stop: stop at the first cell past the limits (the extent is then at least that far).
    Returns:
        Extent
    """
    ext = Extent()
    m = _DIM_RE.search(xml, 0, 4096) or _DIM_RE.search(xml)
    if m:
        ext.declared = m.group(1).decode("ascii", "replace")[:40]
    row, col = 0, 0
    for m in _CELL_RE.finditer(xml):
        r = _R_RE.search(m.group(2))
        if m.group(1) == b"row":
            row = int(r.group(2)) if r and r.group(2) else row + 1
            col = 0
            continue
        if r and r.group(1):
            col = col_index(r.group(1).decode("ascii"))
            if r.group(2):
                row = int(r.group(2))
        else:
            col += 1
        if m.group(3):  # <c …/>: no value
            continue
        row = max(row, 1)
        if row > ext.rows:
            ext.rows = row
        if col > ext.cols:
            ext.cols = col
        if stop and (ext.rows > MAX_SHEET_ROWS or ext.cols > MAX_SHEET_COLS or
                     ext.cells > MAX_SHEET_CELLS):
            break
    return ext


# Every unprefixed cell tag (as _CELL_RE: ``<c`` and a word boundary), with its reference
# when ``r`` is its first attribute and plain (no ``$``, no leading zero), as every writer we
# know puts it. One literal prefix keeps
# the regular expression engine fast (a character class or a namespace prefix in front makes
# it 7× slower, measured); a prefixed cell (``<x:c``, .NET writers) takes the exact scan.
_CELL_REF_RE = re.compile(rb"<c\b(?: r=\"([A-Z]{1,3})([1-9]\d*)\")?")
_PREFIXED_CELL_RE = re.compile(rb":c\b")
_COL_KEY = operator.methodcaller("rjust", 3)  # b"Z" < b"AA" once right-justified: column order


def extent_bound(xml):
    """An upper bound of :func:`sheet_extent`, in C code (no Python per cell), or None when
    only the exact scan can tell: a cell without a plain leading ``r`` reference (it follows
    the one before it), a namespace-prefixed cell.

    Empty styled cells ``<c …/>`` count here (the exact scan leaves them out), so the bound
    is never below the extent; real files give the exact extent.

    Returns:
        Extent or None
    """
    return _bound_refs(xml)[0]


def _bound_refs(xml):
    """(:func:`extent_bound`, the (letters, digits) reference of every cell tag)."""
    if _PREFIXED_CELL_RE.search(xml):
        return None, ()
    refs = _CELL_REF_RE.findall(xml)
    ext = Extent()
    if not refs:
        return ext, refs
    letters, digits = zip(*refs)
    if b"" in letters:
        return None, ()
    rows = set(digits)  # a row per row; the longest numerals, then the greatest of them
    longest = max(map(len, rows))
    ext.rows = int(max(d for d in rows if len(d) == longest))
    ext.cols = col_index(max(set(letters), key=_COL_KEY).decode("ascii"))
    return ext, refs


def within_limits(ext):
    return ext.rows <= MAX_SHEET_ROWS and ext.cols <= MAX_SHEET_COLS and \
        ext.cells <= MAX_SHEET_CELLS


def extent_reason(sheet, ext):
    """The Chinese reason a sheet is too large to read, or None when it is within bounds."""
    if within_limits(ext):
        return None
    return (f"工作表“{sheet}”的使用区域过大（有内容的单元格一直到 {ext.last_cell}，"
            f"约 {ext.cells:,} 个单元格，上限 {MAX_SHEET_CELLS:,}），未读取；"
            "请删除多余的行和列（或远处误填的单元格）后重新提交")


def measure_sheet(name, xml):
    """The Chinese reason a sheet part is too large for calamine's dense grid, or None.

    The fast bound first; the exact scan (stopping at the limits) only when the bound is over
    them or cannot be taken — a far empty styled cell, cells without references.
    """
    ext = extent_bound(xml)
    if ext is not None and within_limits(ext):
        return None
    return extent_reason(name, sheet_extent(xml, stop=True))


def _sheet_xml(z, p, name, part, sizes):
    """The bytes of one sheet part, within its size limit (UnreadableWorkbook otherwise)."""
    if sizes.get(part, 0) > MAX_SHEET_XML:
        raise UnreadableWorkbook(p, f"工作表“{name}”过大（约 {sizes[part] // 2**20} MB），"
                                    "超出读取上限；请删除多余的行后重新提交")
    try:
        return z.read(part)
    except (OSError, zipfile.BadZipFile, EOFError, ValueError, NotImplementedError,
            RuntimeError):
        raise UnreadableWorkbook(p, f"工作表“{name}”已损坏，无法读取，" + SAVE_AS) from None


def check_sheets(z, p, sheets):
    """Measure every sheet part before any reader builds a grid of it (readers of whole
    workbooks: openpyxl in :func:`preflight`).

    Args:
        z: the open ZipFile; p: its path (for messages); sheets: from :func:`_workbook_parts`.
    Raises:
        UnreadableWorkbook: a sheet too large (XML size or extent).
    """
    sizes = {i.filename: i.file_size for i in z.infolist()}
    for name, _state, part in sheets:
        if not part or part not in sizes:
            continue
        reason = measure_sheet(name, _sheet_xml(z, p, name, part, sizes))
        if reason:
            raise UnreadableWorkbook(p, reason)


def preflight(path):
    """Everything a reader of a submitted workbook must know before opening it: it is a
    regular file (a named pipe would block), an .xlsx by content within size, zip-bomb and
    sheet-extent bounds. Used by readers that are not this module (openpyxl in `saq check`
    and `saq review collect`) so that every reader has the same bounds.

    Args:
        path: the file.
    Returns:
        Probe (format "xlsx").
    Raises:
        UnreadableWorkbook: with the Chinese reason.
    """
    p = Path(path)
    try:
        st = p.stat()
    except OSError as e:
        raise UnreadableWorkbook(p, os_reason(e)) from None
    if _stat.S_ISDIR(st.st_mode):
        raise UnreadableWorkbook(p, "这是一个文件夹，不是工作簿")
    if not _stat.S_ISREG(st.st_mode):
        raise UnreadableWorkbook(p, special_file_reason(st.st_mode))
    pr = probe(p)
    if pr.format == "ole":
        if pr.encrypted:
            raise UnreadableWorkbook(p, "文件设有打开密码（已加密），无法读取；请取消密码后重新提交")
        raise UnreadableWorkbook(p, "旧版 .xls/.et 格式无法可靠读取，" + SAVE_AS)
    if pr.format == "empty":
        raise UnreadableWorkbook(p, "文件为空（0 字节），" + SAVE_AS)
    if pr.format != "xlsx":
        raise UnreadableWorkbook(p, pr.note or "不是 Excel 工作簿（可能只是改了扩展名），" + SAVE_AS)
    try:
        with zipfile.ZipFile(p) as z:
            sheets, _names = _workbook_parts(z, p)
            check_sheets(z, p, sheets)
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, RuntimeError):
        raise UnreadableWorkbook(p, "文件已损坏或不完整（不是有效的 .xlsx），" + SAVE_AS) from None
    except OSError as e:
        raise UnreadableWorkbook(p, f"无法读取（{os_reason(e)}）") from None
    return pr


def _workbook_parts(z, p):
    """Sheets (name, state, part path) and workbook-level defined names from workbook.xml."""
    try:
        wb_xml = z.read("xl/workbook.xml")
    except KeyError:
        raise UnreadableWorkbook(p, "缺少 xl/workbook.xml，" + SAVE_AS) from None
    try:
        rels_xml = z.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        rels_xml = b""
    try:
        return _parse_parts(wb_xml, rels_xml)
    except Exception:  # noqa: BLE001 - defusedxml refuses entities/DTDs: a hostile file
        raise UnreadableWorkbook(p, "xl/workbook.xml 无法解析（内容有误或含不允许的 XML 实体），"
                                    "文件可能已损坏或被篡改，" + SAVE_AS) from None


@lru_cache(maxsize=64)
def _parse_parts(wb_xml, rels_xml):
    """Parsed once per distinct workbook.xml: files from one template share it (measured:
    parsing is a fifth of the reading time otherwise)."""
    wb = DET.fromstring(wb_xml)
    rels = DET.fromstring(rels_xml) if rels_xml else None
    targets = {}
    if rels is not None:
        for r in rels.findall("rel:Relationship", NS):
            t = r.get("Target", "")
            targets[r.get("Id")] = t.lstrip("/") if t.startswith("/") else \
                posixpath.normpath(posixpath.join("xl", t))
    sheets = []
    for s in wb.iterfind("m:sheets/m:sheet", NS):
        rid = s.get(f"{{{NS['r']}}}id")
        sheets.append((s.get("name"), s.get("state", "visible"), targets.get(rid)))
    names = {}
    for d in wb.iterfind("m:definedNames/m:definedName", NS):
        if d.get("localSheetId") is not None or (d.get("name") or "").startswith("_xlnm"):
            continue  # FIELDS.md: our names are workbook-level
        names[d.get("name")] = d.text or ""
    return tuple(sheets), MappingProxyType(names)  # cached: read-only


# ---------------------------------------------------------------------- reading
def read_submission(path, probed=None, names=None, expected=None, any_workbook=False):
    """Read one of our workbooks by defined names and table names.

    Only the sheets that hold what is asked for are decompressed, measured and read (the
    ``_meta`` sheet, the sheets the names point into, the sheets of the tables read); each is
    bounded just before calamine builds its grid (:class:`_Sheets`).

    Args:
        path: an .xlsx/.xlsm (any extension; the content decides).
        probed: the :func:`probe` result if already taken.
        names: the defined names to read (default: all); fewer names, fewer sheets parsed.
        expected: table name -> its column labels, or a function of the workbook's kind
            ("application", "recommender", …) that gives them. Only these tables are read (a
            table that was renamed, converted to a range or shrunk is found by these headers,
            issue 9, with a note saying so); None reads every table of the workbook.
        any_workbook: read a workbook without our ``_meta`` too (lists staff make by hand);
            its kind is then the template id, or "". Every sheet and table is read.
    Returns:
        Submission
    Raises:
        UnreadableWorkbook: broken, encrypted, legacy format, too big.
        NotOurWorkbook: a readable workbook without our ``_meta`` sheet.
    """
    p = Path(path)
    pr = probed or probe(p)
    if pr.format == "ole":
        if pr.encrypted:
            raise UnreadableWorkbook(p, "文件设有打开密码（已加密），无法读取；请取消密码后重新提交")
        if p.suffix.lower() in (".xlsx", ".xlsm"):  # an .xlsx in an OLE box: most likely a password
            raise UnreadableWorkbook(p, "文件是旧版 .xls 格式或设有打开密码（已加密），"
                                        "请另存为 .xlsx（不设密码）后重新提交")
        raise UnreadableWorkbook(p, "旧版 .xls/.et 格式无法可靠读取，" + SAVE_AS)
    if pr.format != "xlsx":
        raise UnreadableWorkbook(p, pr.note or "不是 Excel 工作簿")
    wanted = None if names is None else set(names)
    try:
        z = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, RuntimeError):
        raise UnreadableWorkbook(p, "文件已损坏或不完整（不是有效的 .xlsx），" + SAVE_AS) from None
    with z:
        try:
            sheets, names = _workbook_parts(z, p)
        except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, RuntimeError):
            raise UnreadableWorkbook(p, "文件已损坏或不完整（不是有效的 .xlsx），" + SAVE_AS) from None
        if wanted is not None:
            names = {k: v for k, v in names.items() if k in wanted}
        try:
            with open(p, "rb") as f:  # by content: an .xlsx saved as .xls is read as .xlsx
                wb = CalamineWorkbook.from_filelike(f, load_tables=True)
        except Exception:  # noqa: BLE001 - the reader's failure is the file's problem
            raise UnreadableWorkbook(p, "文件已损坏，无法读取，" + SAVE_AS) from None
        try:
            return _read(p, wb, _Sheets(wb, z, p, sheets), names, pr, expected, any_workbook)
        finally:
            try:
                wb.close()
            except Exception:  # noqa: BLE001
                pass


class _Sheets:
    """Sheets loaded on demand, once each (absolute coordinates from A1), each measured
    before calamine builds its dense grid: the one place where the extent is enforced."""

    def __init__(self, wb, z, p, sheets):
        self.wb, self.z, self.p = wb, z, p
        self.names = [s[0] for s in sheets]
        self.parts = {name: part for name, _state, part in sheets}
        self.hidden = {name for name, state, _part in sheets if state != "visible"}
        self.sizes = {i.filename: i.file_size for i in z.infolist()}
        self.cache = {}
        self.xml = {}  # sheet -> its XML while the file is read (the cells below a table)
        self.refs = {}  # sheet -> every cell's reference, when each cell carries one
        self.ref_sets = {}  # sheet -> set(refs)
        self.numfmts = None  # per cell style: how calamine gives a number (xl/styles.xml)
        self.date1904 = None
        self.plain = {}  # sheet -> False (not plain) or where its next named cell is looked for

    def bound(self, name):
        """Measure sheet ``name`` before anything reads it; False when it cannot be read
        (no such sheet, or a part we cannot place — then calamine does not read it either).

        Raises:
            UnreadableWorkbook: the sheet is too large (XML size or extent).
        """
        if name in self.xml:
            return True
        part = self.parts.get(name)
        if not part or part not in self.sizes:
            return False
        xml = _sheet_xml(self.z, self.p, name, part, self.sizes)
        ext, refs = _bound_refs(xml)
        if ext is None or not within_limits(ext):
            reason = extent_reason(name, sheet_extent(xml, stop=True))
            if reason:
                raise UnreadableWorkbook(self.p, reason)
        if ext is not None:
            self.refs[name] = refs
        self.xml[name] = xml
        return True

    def grid(self, name):
        if name not in self.cache:
            self.cache[name] = self._load(name)
        return self.cache[name]

    def _load(self, name):
        if not self.bound(name):
            return None  # a missing/renamed sheet: names are #REF!
        try:
            sheet = self.wb.get_sheet_by_name(name)
        except Exception:  # noqa: BLE001 - a sheet calamine cannot read: its names are empty
            return None
        end = sheet.end  # calamine's own dimensions: a second gate before any Python list
        if end is not None:
            reason = extent_reason(name, Extent(end[0] + 1, end[1] + 1))
            if reason:
                raise UnreadableWorkbook(self.p, reason)
        return sheet.to_python(skip_empty_area=False)

    def cell(self, name, r, c):
        if name not in self.cache:
            v = self._plain_cell(name, r, c)
            if v is not _UNSURE:
                return None if v == "" else v
        g = self.grid(name)
        if g is None or r > len(g) or c > len(g[r - 1]):
            return None
        v = g[r - 1][c - 1]
        return None if v == "" else v

    def _plain_cell(self, name, r, c):
        """Cell (r, c) of a sheet whose grid is not built, from its XML, as calamine gives it
        (None for no value), or _UNSURE (then the grid is built): the defined names read
        one cell each, and calamine builds — twice, for its merged cells — the whole sheet
        for each sheet it gives (issue 23)."""
        state = self.plain.get(name)
        if state is None:
            state = self.plain[name] = self._plain_sheet(name)
        if state is False:
            return _UNSURE
        key = (col_letter(c).encode("ascii"), str(r).encode("ascii"))
        if key not in self.ref_sets[name]:
            return None  # no such cell
        # Forward from the cell found last (names are looked up in the XML's order), then
        # from the start: the cell is there once (ref_sets), so one of the two finds it.
        xml, tag = self.xml[name], b'<c r="' + key[0] + key[1] + b'"'
        i = xml.find(tag, state)
        if i < 0:
            i = xml.find(tag, 0, state + len(tag))
        m = _ANY_PLAIN_CELL_RE.match(xml, i) if i >= 0 else None
        if m is None:
            return _UNSURE
        self.plain[name] = m.end()
        return self._plain_value(m.group(3), m.group(4))

    def _plain_sheet(self, name):
        """0 (where to look from) when a sheet's cells can be read from its XML, else False."""
        if not self.bound(name):  # a sheet too large raises here, as the grid's path would
            return False
        xml, refs = self.xml.get(name), self.refs.get(name)
        if xml is None or refs is None or not _utf8(xml):
            return False
        if not _markup_free(xml, len(xml)):
            return False
        here = self.ref_sets.get(name)
        if here is None:
            here = self.ref_sets[name] = set(refs)
        return 0 if len(here) == len(refs) else False

    def blank_cells(self, name, row, c1, c2):
        """True when row ``row``, columns c1..c2 of a measured sheet are certainly blank, told
        from the XML without building the sheet: no such cell, or one whose value is empty
        (a formula without a cached value, ``<v></v>``, blank inline text). False when in doubt.
        """
        xml, refs = self.xml.get(name), self.refs.get(name)
        if xml is None or refs is None:
            return False
        here = set(refs)
        digits = str(row).encode("ascii")
        for c in range(c1, c2 + 1):
            letters = col_letter(c).encode("ascii")
            if (letters, digits) not in here:
                continue
            tag = b'<c r="' + letters + digits + b'"'
            i = xml.find(tag)
            while i >= 0:
                if not _empty_cell(xml, i + len(tag)):
                    return False
                # a second cell at the same place (never written by Excel): look at each
                i = xml.find(tag, i + 1) if len(here) < len(refs) else -1
        return True

    def plain_cells(self, name, r1, c1, r2, c2):
        """Rows r1..r2, columns c1..c2 of a measured sheet from its XML, each value as
        calamine gives it ("" for none), or None when any cell there is not plainly one of:
        empty, a number in a General or text format, an inline string (``<is><t>``), a
        formula's cached text — or when the XML is not plain (cells without references, a
        cell given twice, another encoding)."""
        xml, refs = self.xml.get(name), self.refs.get(name)
        if xml is None or refs is None or not _utf8(xml):
            return None
        here = self.ref_sets.get(name)
        if here is None:
            here = self.ref_sets[name] = set(refs)
        if len(here) != len(refs):
            return None  # a cell given twice: which one calamine keeps is its business
        letters = tuple(col_letter(c).encode("ascii") for c in range(c1, c2 + 1))
        want = sum(1 for r in range(r1, r2 + 1) for lt in letters
                   if (lt, str(r).encode("ascii")) in here)
        # The rows' stretch of the XML: from the first row's tag to the next row's (the
        # whole sheet when either is missing); every cell of the table must be found there.
        start = xml.find(b'<row r="%d"' % r1) if want else -1
        start = max(start, 0)
        end = xml.find(b'<row r="%d"' % (r2 + 1), start)
        end = len(xml) if end < 0 else end
        if not _markup_free(xml, end):
            return None
        grid = [[""] * (c2 - c1 + 1) for _ in range(r2 - r1 + 1)]
        column = {lt: j for j, lt in enumerate(letters)}
        found = 0
        for lt, row, attrs, body in _plain_cell_re(letters).findall(xml, start, end):
            r = int(row)
            if r1 <= r <= r2:
                found += 1
                if body:  # <c …/> and <c …></c> hold no value
                    v = self._plain_value(attrs, body)
                    if v is _UNSURE:
                        return None
                    grid[r - r1][column[lt]] = "" if v is None else v
        return grid if found == want else None

    def _plain_value(self, attrs, body):
        """The value calamine gives a cell of these attributes and body: None for none (its
        Empty), "" for an empty text, or _UNSURE."""
        if not body:
            return None  # <c …/> or <c …></c>
        t, style = _cell_attrs(attrs)
        if t == b"inlineStr":
            m = _INLINE_BODY_RE.fullmatch(body)
            if not m:
                return _UNSURE
            text = _xml_text(m.group(2))
            if text is _UNSURE or (not m.group(1) and text != text.strip(" \t\n")):
                return _UNSURE  # calamine trims an unpreserved text (its versions differ)
            return text
        if t == b"str":
            m = _STR_BODY_RE.fullmatch(body)
            if not m:
                return _UNSURE
            if m.group(1) is not None:
                return _xml_text(m.group(1))
            return "" if m.group(2) else None
        if t is not None and t != b"n":
            return _UNSURE  # shared strings, booleans, errors, ISO dates: calamine's (and
            # an attribute given twice)
        m = _NUMBER_BODY_RE.fullmatch(body)
        if not m:
            return _UNSURE
        if not m.group(1):
            return None  # a formula never calculated, an empty <v>
        v = float(m.group(1))
        if not math.isfinite(v) or (v == 0 and m.group(1).strip(b"-0.").split(b"e")[0]
                                    .split(b"E")[0]):
            return _UNSURE  # past a double's range: calamine's own parser decides
        kind = _NUMBER if style is None else self._format(style)
        if kind is _NUMBER:
            return v
        if kind is _DATE and v.is_integer() and 61 <= v <= 2958465 and not self._1904():
            # calamine: a whole serial in a date format is a date from 1899-12-30
            return _EXCEL_EPOCH + datetime.timedelta(days=int(v))
        return _UNSURE  # a time, a serial before March 1900, a 1904 workbook, an unknown
        # format: calamine's

    def _format(self, style):
        """:data:`_NUMBER`, :data:`_DATE` or None: how calamine gives a number in cell style
        ``style`` (xl/styles.xml)."""
        if self.numfmts is None:
            try:
                xml = self.z.read("xl/styles.xml") if "xl/styles.xml" in self.sizes else b""
            except Exception:  # noqa: BLE001 - no styles we can read: no style is certain
                xml = b""
            self.numfmts = _number_formats(xml)
        return self.numfmts[style] if style < len(self.numfmts) else None

    def _1904(self):
        """The workbook may count dates from 1904 (or we cannot tell)."""
        if self.date1904 is None:
            try:
                self.date1904 = b"date1904" in self.z.read("xl/workbook.xml")
            except Exception:  # noqa: BLE001
                self.date1904 = True
        return self.date1904

    def release(self):
        self.xml.clear()
        self.refs.clear()
        self.ref_sets.clear()


# How calamine gives a number by its cell style's number format (its ``builtin_format_by_id``
# and custom format detection), where certain: built-in ids it takes as numbers (General,
# 0, 0.00, #,##0, …, percentages, scientific, fractions, accounting, ##0.0E+0, text) or as
# dates (14–22), and custom formats that start with a date letter (yyyy-mm-dd, …: calamine
# decides at that first letter). Anything else is left to calamine.
_NUMBER, _DATE = "number", "date"
_BUILTIN_FORMATS = {**{str(i).encode(): _NUMBER for i in (*range(0, 14), *range(37, 45), 48, 49)},
                    **{str(i).encode(): _DATE for i in range(14, 23)}}
_CELL_XFS_RE = re.compile(rb"<cellXfs\b[^>]*>(.*?)</cellXfs>", re.S)
_XF_RE = re.compile(rb"<xf\b([^>]*)>")
_NUMFMT_ID_RE = re.compile(rb'\bnumFmtId="([^"]*)"')
_CUSTOM_FMT_RE = re.compile(rb'<numFmt\b([^>]*)>')
_FORMAT_CODE_RE = re.compile(rb'\bformatCode="([^"]*)"')


@lru_cache(maxsize=64)
def _number_formats(styles_xml):
    """For each cell style (``cellXfs``, in order): :data:`_NUMBER`, :data:`_DATE` or None
    (not certain) — how calamine gives a number in that style."""
    m = _CELL_XFS_RE.search(styles_xml)
    if not m or styles_xml.count(b"<cellXfs") != 1:
        return ()
    custom = {}
    for attrs in _CUSTOM_FMT_RE.findall(styles_xml):
        i, code = _NUMFMT_ID_RE.search(attrs), _FORMAT_CODE_RE.search(attrs)
        if i:
            custom[i.group(1)] = code.group(1) if code else None
    out = []
    for attrs in _XF_RE.findall(m.group(1)):
        f = _NUMFMT_ID_RE.search(attrs)
        if f is None or attrs.count(b"numFmtId=") != 1:
            out.append(None)
        elif f.group(1) in custom:
            code = custom[f.group(1)]
            out.append(_DATE if code and code[:1] in b"yYdD" else None)
        else:
            out.append(_BUILTIN_FORMATS.get(f.group(1)))
    return tuple(out)


_EXCEL_EPOCH = datetime.date(1899, 12, 30)


_MARKUP_RE = re.compile(rb"<[!?]")
_DECLARATION_RE = re.compile(rb"(?:\xef\xbb\xbf)?<\?xml\s[^<>]*\?>")


def _markup_free(xml, end):
    """Every ``<c`` before ``end`` is a cell tag: no comment, CDATA section or document type
    (``<!``), no processing instruction (``<?``) but the XML declaration."""
    decl = _DECLARATION_RE.match(xml)
    return _MARKUP_RE.search(xml, decl.end() if decl else 0, end) is None


def _utf8(xml):
    """The part is UTF-8 (the reference scan and the plain cells read its bytes as such)."""
    head = xml[:200]
    if b"\x00" in head:
        return False
    m = re.search(rb"""encoding=["']([^"']*)["']""", head)
    return m is None or m.group(1).lower() in (b"utf-8", b"utf8")


_EMPTY_CELL_RE = re.compile(
    rb'(?:\s+(?!t="s")[a-zA-Z:]+="[^"<>]*")*\s*(?:/>|>'  # attributes (no shared string)
    rb'(?:<f\b[^<>]*/>|<f\b[^<>]*>[^<]*</f>)?'  # a formula,
    rb'(?:<v\s*/>|<v></v>|<is>(?:<t\b[^<>]*/>|<t\b[^<>]*>[ \t\r\n]*</t>)*</is>)?'  # no value
    rb'</c>)')


def _empty_cell(xml, i):
    """The cell whose tag's reference ends at ``i`` certainly holds no value."""
    return _EMPTY_CELL_RE.match(xml, i) is not None


def _read_meta(sh, p, any_id=False):
    candidates = [n for n in sh.names if n == META_SHEET]
    candidates += [n for n in sh.names if n != META_SHEET and n in sh.hidden]
    for name in candidates:
        g = sh.grid(name) or []
        meta = {}
        for row in g[:50]:
            if len(row) >= 2 and isinstance(row[0], str) and row[0].strip():
                v = row[1]  # calamine gives numbers as floats: a year stays 2023, not 2023.0
                meta[row[0].strip()] = int(v) if isinstance(v, float) and v.is_integer() else v
        if meta.get("template_id") in TEMPLATE_KINDS or (any_id and meta.get("template_id")):
            return meta
    raise NotOurWorkbook(p, "不是本活动下发的模板（没有 _meta 工作表或模板标识），"
                            "请使用下发的模板填写后重新提交")


def _read(p, wb, sh, names, pr, expected, any_workbook=False):
    try:
        meta = _read_meta(sh, p, any_workbook)
    except NotOurWorkbook:
        if not any_workbook:
            raise
        meta = {}
    tid = meta.get("template_id")
    kind = TEMPLATE_KINDS.get(tid, str(tid or ""))
    values, locations, notes, where = {}, {}, [], {}
    for name, ref in names.items():
        parsed = parse_ref(ref)
        if parsed is None:
            if "#REF" in ref:
                notes.append(f"名称 {name} 指向的单元格已被删除（#REF!）")
            continue
        where[name] = parsed
    # Each sheet's cells in the order of its XML (a sheet read from its XML is then searched
    # forward once), the sheets in the order the names first meet them (as before: the
    # first sheet too large to read is the one a refusal names).
    rank = {}
    for sheet, *_ in where.values():
        rank.setdefault(sheet, len(rank))
    got = {}
    for name, (sheet, r1, c1, r2, c2) in sorted(
            where.items(), key=lambda item: (rank[item[1][0]], item[1][1], item[1][2])):
        v = None
        # A name over a merged range: the value sits in its top-left cell.
        for r in range(r1, min(r2, r1 + 20) + 1):
            for c in range(c1, min(c2, c1 + 20) + 1):
                v = sh.cell(sheet, r, c)
                if v is not None:
                    break
            if v is not None:
                break
        got[name] = v
    for name, (sheet, r1, c1, _r2, _c2) in where.items():
        values[name] = got[name]
        locations[name] = (sheet, f"{col_letter(c1)}{r1}")
    if callable(expected):
        expected = expected(kind)
    tables = {}
    reader = _Tables(p, wb, sh)
    if expected is None or any_workbook:
        reader.read_all(tables, notes)
    else:
        for tname in expected:
            reader.read(tname, tables, notes)
        if any(t not in tables for t in expected):  # renamed? the other tables' headers tell
            reader.read_all(tables, notes)
    for tname, labels in (expected or {}).items():
        _recover_table(p, sh, tables, tname, labels, notes)
    sub = Submission(p, kind, meta, values, tables, locations, pr.macros, notes)
    sub.sheet_names = list(sh.names)
    if any_workbook:  # readers of whole sheets (review lists): load them before the file closes
        for name in sub.sheet_names:
            sh.grid(name)
        sub.sheets = sh
    sh.release()
    return sub


class _Tables:
    """The workbook's tables, each read after its sheet is measured (calamine builds the
    whole sheet to read one table)."""

    def __init__(self, p, wb, sh):
        self.p, self.wb, self.sh = p, wb, sh
        self.names = _table_names(wb)
        self.where = None  # table name -> sheet, from the parts (before calamine reads any)
        self.where_part = None  # table name -> (sheet, its table part)

    def read_all(self, tables, notes):
        for tname in self.names:
            if tname not in tables:
                self.read(tname, tables, notes)

    def read(self, tname, tables, notes):
        if tname not in self.names or tname in tables:
            return
        if self.where is None:
            self.where_part = _table_parts(self.sh.z, self.sh.parts)
            self.where = {t: sheet for t, (sheet, _part) in self.where_part.items()}
        sheet = self.where.get(tname)
        if sheet is None or not self.sh.bound(sheet):
            notes.append(f"表格 {tname} 无法读取")  # calamine places it where we cannot measure
            return
        p = self.p
        plain = self._plain(tname, sheet)
        if plain is not None:
            tables[tname] = plain
            return
        size = _table_size(self.sh.z, self.where_part.get(tname, (None, None))[1])
        if size is not None:  # calamine builds the table's range as declared: bound it first
            n_rows, n_cols = size
            if n_rows > MAX_TABLE_ROWS:
                raise UnreadableWorkbook(p, f"表格 {tname} 有 {n_rows} 行，超出 "
                                            f"{MAX_TABLE_ROWS} 行上限；请删除多余的行后重新提交")
            if n_rows * n_cols > MAX_SHEET_CELLS:
                raise UnreadableWorkbook(p, f"表格 {tname} 的范围过大（{n_rows} 行 × {n_cols} 列），"
                                            "未读取；请删除多余的列后重新提交")
        try:
            t = self.wb.get_table_by_name(tname)
            rows = t.to_python()
            if len(rows) > MAX_TABLE_ROWS:
                raise UnreadableWorkbook(p, f"表格 {tname} 有 {len(rows)} 行，超出 "
                                            f"{MAX_TABLE_ROWS} 行上限；请删除多余的行后重新提交")
            tables[tname] = Table(tname, t.sheet, [str(c) for c in t.columns],
                                  [[None if v == "" else v for v in r] for r in rows],
                                  t.start[0] + 1, t.start[1] + 1)
        except UnreadableWorkbook:
            raise
        except Exception:  # noqa: BLE001 - a broken table part: report, go on
            notes.append(f"表格 {tname} 无法读取")


    def _plain(self, tname, sheet):
        """The table read without calamine, as calamine reads it, or None (then calamine
        reads it). calamine builds the table's whole sheet for each table it gives (the
        被访者名单 sheet is 1 MB of formulas below 100 rows: 7 ms a file, a third of
        consolidation's time, issue 23). The rows come from the sheet's grid when the names
        already built it, else from the sheet's XML, which the bound has just read — when
        every cell of the table is one we decode exactly as calamine does
        (:meth:`_Sheets.plain_cells`)."""
        layout = _table_layout(self.sh.z, self.where_part.get(tname, (None, None))[1])
        if layout is None or layout[0] != tname:
            return None  # calamine finds a table by its display name only
        _name, (r1, c1, r2, c2), columns = layout
        if (r2 - r1 + 1) > MAX_TABLE_ROWS or (r2 - r1 + 1) * (c2 - c1 + 1) > _PLAIN_CELLS:
            return None  # calamine's own path (and its limits' message)
        grid = self.sh.cache.get(sheet)
        if grid is not None:
            rows = [[(row[c - 1] if c <= len(row) else "") for c in range(c1, c2 + 1)]
                    for row in (grid[r - 1] if r <= len(grid) else () for r in range(r1, r2 + 1))]
        else:
            rows = self.sh.plain_cells(sheet, r1, c1, r2, c2)
            if rows is None:
                return None
        return Table(tname, sheet, list(columns),
                     [[None if v == "" else v for v in r] for r in rows], r1, c1)


_PLAIN_CELLS = 200_000  # cells of a table read without calamine (ours: 300; 附件3: ≈ 2 000)


def _table_names(wb):
    try:
        return list(wb.table_names)
    except Exception:  # noqa: BLE001
        return []


def _table_parts(z, parts):
    """Table name (and display name) -> (the sheet whose relationships hold its part, the
    part)."""
    present = set(z.namelist())
    out = {}
    for sheet, part in parts.items():
        if not part:
            continue
        folder, base = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", base + ".rels")
        if rels not in present:
            continue
        try:
            targets = _table_targets(z.read(rels))
        except Exception:  # noqa: BLE001 - unreadable relationships: its tables stay unread
            continue
        for target in targets:
            tpath = target.lstrip("/") if target.startswith("/") else \
                posixpath.normpath(posixpath.join(folder, target))
            if tpath not in present:
                continue
            try:
                ids = _table_ids(z.read(tpath))
            except Exception:  # noqa: BLE001
                continue
            for tname in ids:
                out.setdefault(tname, (sheet, tpath))
    return out


@lru_cache(maxsize=256)
def _table_targets(rels_xml):
    """Targets of a sheet's table relationships (parsed once per distinct part)."""
    root = DET.fromstring(rels_xml)
    return tuple(r.get("Target", "") for r in root.findall("rel:Relationship", NS)
                 if r.get("Type", "").endswith("/table"))


@lru_cache(maxsize=256)
def _table_ids(table_xml):
    root = DET.fromstring(table_xml)
    return tuple(n for n in (root.get("name"), root.get("displayName")) if n)


_TABLE_REF_RE = re.compile(r"([A-Z]{1,3})([1-9]\d{0,6}):([A-Z]{1,3})([1-9]\d{0,6})")


def _table_layout(z, part):
    """(display name, (first data row, first column, last row, last column), column names)
    of a table part as calamine reads it, or None when it is not as plain as ours: one
    header row, no totals row, a two-corner reference, names without raw whitespace (the
    XML parsers differ there)."""
    if not part:
        return None
    try:
        xml = z.read(part)
    except Exception:  # noqa: BLE001 - calamine says what it says of it
        return None
    return _parse_table_layout(xml)


def _table_size(z, part):
    """(rows, columns) of the range calamine builds for a table part — its reference, less
    the header rows as calamine counts them — or None when we cannot tell (calamine then
    says what it says)."""
    if not part:
        return None
    try:
        root = DET.fromstring(z.read(part))
        m = _TABLE_REF_RE.fullmatch(root.get("ref") or "")
        header = int(root.get("headerRowCount", "1"))
        totals = int(root.get("totalsRowCount", "0"))
    except Exception:  # noqa: BLE001
        return None
    if not m:
        return None
    r1, r2 = int(m.group(2)) + header, int(m.group(4)) - (header if totals else 0)
    return r2 - r1 + 1, col_index(m.group(3)) - col_index(m.group(1)) + 1


@lru_cache(maxsize=256)
def _parse_table_layout(xml):
    try:
        root = DET.fromstring(xml)
    except Exception:  # noqa: BLE001
        return None
    if root.tag != f"{{{NS['m']}}}table" or root.get("headerRowCount", "1") != "1" \
            or root.get("totalsRowCount", "0") != "0" or re.search(rb"=\s*\"[^\"]*[\t\n\r]", xml):
        return None
    m = _TABLE_REF_RE.fullmatch(root.get("ref") or "")
    if not m:
        return None
    r1, c1 = int(m.group(2)) + 1, col_index(m.group(1))  # the data rows, below the header
    r2, c2 = int(m.group(4)), col_index(m.group(3))
    if r1 > r2 or c1 > c2:
        return None
    columns = tuple(el.get("name") for el in root.iter()
                    if el.tag.rpartition("}")[2] == "tableColumn" and el.get("name") is not None)
    return root.get("displayName") or "", (r1, c1, r2, c2), columns


# The cells of a table read from the sheet's XML (_Sheets.plain_cells): only the forms whose
# value is certain, each as calamine gives it; any other cell in the table sends the table to
# calamine. A cell's attributes: r, s and t only, double-quoted.
_ANY_PLAIN_CELL_RE = re.compile(
    rb'<c r="([A-Z]{1,3})([1-9]\d*)"((?: (?:s="\d{1,6}"|t="[a-zA-Z]{1,9}"))*)\s*(?:/>|>(.*?)</c>)',
    re.S)


@lru_cache(maxsize=64)
def _plain_cell_re(letters):
    """The cells of columns ``letters`` (the table's): the literal start keeps the regular
    expression engine on its fast prefix search past every other cell."""
    cols = b"|".join(letters)
    return re.compile(rb'<c r="(' + cols + rb')([1-9]\d*)"((?: (?:s="\d{1,6}"|t="[a-zA-Z]{1,9}"))*)'
                      rb'\s*(?:/>|>(.*?)</c>)', re.S)


_T_ATTR_RE = re.compile(rb't="([a-zA-Z]+)"')
_S_ATTR_RE = re.compile(rb's="(\d+)"')
_FORMULA = rb'(?:<f>[^<]*</f>|<f(?: [a-zA-Z]+="[^"<>]*")+>[^<]*</f>|<f(?: [a-zA-Z]+="[^"<>]*")*/>)?'
_NUMBER_BODY_RE = re.compile(_FORMULA + rb'(?:<v>(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)</v>|(<v></v>|<v/>)?)')
_STR_BODY_RE = re.compile(_FORMULA + rb'(?:<v>([^<]*)</v>|(<v/>)?)')
_INLINE_BODY_RE = re.compile(rb'<is><t( xml:space="preserve")?>([^<]*)</t></is>')
_ENTITY_RE = re.compile(rb"&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));")
_ENTITIES = {b"amp": "&", b"lt": "<", b"gt": ">", b"quot": '"', b"apos": "'"}
_RAW_CONTROL_RE = re.compile(rb"[\x00-\x08\x0b-\x1f]")
_UNSURE = object()


@lru_cache(maxsize=1024)
def _cell_attrs(attrs):
    """(t or None, s as a number or None) of a plain cell's attributes; t is _UNSURE when an
    attribute is given twice."""
    if attrs.count(b" t=") > 1 or attrs.count(b" s=") > 1:
        return _UNSURE, None
    t, s = _T_ATTR_RE.search(attrs), _S_ATTR_RE.search(attrs)
    return (t.group(1) if t else None), (int(s.group(1)) if s else None)


def _entity(m):
    if m.group(1):
        return _ENTITIES[m.group(1)].encode()
    n = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
    if (n < 0x20 and n not in (9, 10)) or 0xD800 <= n <= 0xDFFF or n in (0xFFFE, 0xFFFF) \
            or n > 0x10FFFF:
        raise ValueError  # a control character: calamine's own reading decides
    return chr(n).encode("utf-8")


def _xml_text(raw):
    """Text of an element as calamine decodes it, or _UNSURE (an unknown entity, a control
    character or a carriage return, raw or written as an entity (XML reads a raw one as a
    line feed), an ``_xHHHH_`` escape, invalid UTF-8)."""
    if _RAW_CONTROL_RE.search(raw):
        return _UNSURE
    if b"&" in raw:
        if raw.count(b"&") != len(_ENTITY_RE.findall(raw)):
            return _UNSURE  # an entity XML does not define (calamine refuses or keeps it)
        try:
            raw = _ENTITY_RE.sub(_entity, raw)
        except ValueError:
            return _UNSURE
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _UNSURE
    return _UNSURE if "_x" in text else text


# ---------------------------------------------------------------------- lost tables
def _norm_header(v):
    return "".join(str(v).split()) if v is not None else ""


def _matches(columns, labels):
    """True when a header row carries most of a table's labels (a renamed or re-typed
    table still has them; two or three stray words do not)."""
    have = {_norm_header(c) for c in columns}
    hits = sum(1 for lb in labels if _norm_header(lb) in have)
    return hits >= max(2, (len(labels) * 2 + 2) // 3)


def _blank_row(row):
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _rows_below(grid, first_row, c1, c2):
    """Data rows from ``first_row`` (1-based) down to the first blank row, columns c1..c2."""
    out = []
    r = first_row
    while r <= len(grid) and len(out) < MAX_TABLE_ROWS:
        row = [(None if v == "" else v) for v in grid[r - 1][c1 - 1:c2]]
        row += [None] * (c2 - c1 + 1 - len(row))
        if _blank_row(row):
            break
        out.append(row)
        r += 1
    return out


def _recover_table(p, sh, tables, tname, labels, notes):
    """Find ``tname`` when the table part is gone or was cut short (issue 9/12: rows of a
    附件3 whose table was converted to a range, renamed or shrunk are never lost)."""
    t = tables.get(tname)
    if t is None:
        for other in list(tables.values()):
            if _matches(other.columns, labels):
                t = tables[tname] = Table(tname, other.sheet, other.columns, other.rows,
                                          other.first_row, other.first_col)
                notes.append(f"表格 {tname} 已被改名为 {other.name}，已按表头读取")
                break
    if t is None:
        t = _find_by_header(sh, tname, labels)
        if t is None:
            return
        tables[tname] = t
        notes.append(f"表格 {tname} 已不是 Excel 表格（可能被转换为普通区域），已按表头在"
                     f"“{t.sheet}”第 {t.first_row - 1} 行找到")
        return
    below, c1 = t.first_row + len(t.rows), t.first_col
    c2 = c1 + len(t.columns) - 1
    if sh.blank_cells(t.sheet, below, c1, c2):
        return  # nothing right below the table: its sheet is not built (issue 23)
    grid = sh.grid(t.sheet)
    if not grid:
        return
    below = _rows_below(grid, below, c1, c2)
    if below and len(t.rows) + len(below) <= MAX_TABLE_ROWS:
        t.rows.extend(below)
        notes.append(f"表格 {tname} 的范围比数据短，已读取表格下方紧接的 {len(below)} 行")


def _find_by_header(sh, tname, labels, need_all=False):
    """A header row carrying ``labels`` (most of them; all with ``need_all``), as a Table
    whose rows run down to the first blank row."""
    want = {_norm_header(lb) for lb in labels}
    for name in sh.names:
        if name == META_SHEET:
            continue
        grid = sh.grid(name) or []
        for r, row in enumerate(grid[:200], start=1):
            cells = [c for c in row if c not in ("", None)]
            if need_all:
                if not want <= {_norm_header(c) for c in cells}:
                    continue
            elif len(cells) < 2 or not _matches(cells, labels):
                continue
            c1 = next(j for j, v in enumerate(row, start=1) if v not in ("", None))
            c2 = max(j for j, v in enumerate(row, start=1) if v not in ("", None))
            columns = ["" if v is None else str(v) for v in row[c1 - 1:c2]]
            return Table(tname, name, columns, _rows_below(grid, r + 1, c1, c2), r + 1, c1)
    return None
