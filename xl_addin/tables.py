"""Read and write flat tables (CSV or xlsx) for `saq eval`, safely.

Text that starts with = + - @ (or a tab / carriage return) is written as text, never as a
formula: a submission must not be able to put a formula into our output.
"""

from __future__ import annotations

import csv
import errno
import io
import os
import re
import tempfile
import zipfile
from pathlib import Path

from python_calamine import CalamineWorkbook

from xl_addin.errors import InputFileError, OutputFileError, as_os_error, os_reason
from xl_addin.sheet.xlcache import save_with_values

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# Characters XML 1.0 does not allow (openpyxl refuses them: one used to end a whole run,
# issue 12 §1), lone surrogates (undecodable file names) and the two non-characters.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# OOXML's own escape "_x001B_": Excel and the reader decode it back into the control
# character, so its underscore is escaped ("_x005F_") and the text reads back as typed.
_OOXML_ESCAPE = re.compile("_(x[0-9A-Fa-f]{4}_)")


def visible_escape(ch):
    """How a character that cannot be written is shown instead: ``\\x1B``, ``\\uDCD6``."""
    n = ord(ch)
    return f"\\x{n:02X}" if n < 0x100 else f"\\u{n:04X}"


def clean_text(value):
    """``value`` with every character a workbook cannot hold shown as a visible escape
    (for text read from a file: the caller warns, naming the file and field).

    Args:
        value: anything; only ``str`` is changed.
    Returns:
        (cleaned value, True when something was changed)
    """
    if not isinstance(value, str) or not _ILLEGAL.search(value):
        return value, False
    return _ILLEGAL.sub(lambda m: visible_escape(m.group()), value), True


def clean(value):
    """Text as it is written into a workbook: :func:`clean_text`, and OOXML's own escape
    sequences protected, so that "_x001B_" reads back as typed, not as a control character.
    Apply once, at the moment of writing."""
    if not isinstance(value, str):
        return value
    value = clean_text(value)[0]
    return _OOXML_ESCAPE.sub(r"_x005F_\1", value) if "_x" in value else value


def is_formula_like(v):
    return isinstance(v, str) and v.startswith(FORMULA_START)


def set_text_safe(cell, value):
    """Assign ``value`` to an openpyxl cell: characters XML cannot hold become visible
    escapes (:func:`clean_text`); formula-like text stays text, with a quote prefix."""
    value = clean(value)
    cell.value = value
    if is_formula_like(value):
        cell.data_type = "s"
        cell.quotePrefix = True


def read_table(path):
    """Rows of a CSV or the first sheet of an xlsx, as (headers, list of dicts).

    Raises:
        InputFileError: missing file, unknown format, unreadable content.
    """
    p = Path(path)
    if not p.exists():
        raise InputFileError(p, "文件不存在")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        return _read_csv(p)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(p)
    if suffix in (".xls", ".et"):
        raise InputFileError(p, "不支持旧版 .xls/.et 格式，请另存为 .xlsx 后重新提交")
    raise InputFileError(p, f"不支持的文件类型“{suffix or '无扩展名'}”，请使用 .xlsx 或 .csv")


def csv_text(p):
    """The text of a CSV file people saved: UTF-8 (with or without BOM) or, as Excel and WPS
    save it on Chinese Windows, GB18030."""
    raw = p.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputFileError(p, "无法识别文件编码，请以 UTF-8 保存")


def _read_csv(p):
    text = csv_text(p)
    # A quoted cell may hold line breaks (a master's 问题说明, one problem a line): read the
    # text as a stream so they stay in the cell.
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return _to_dicts(p, rows)


# The bounds of read/workbook.py (issue 19 §7: zip member sizes are checked before any .xlsx
# is parsed); a table staff export is far below them.
ZIP_MAX_ENTRIES = 5000
ZIP_MAX_ENTRY = 60 * 1024 * 1024
ZIP_MAX_TOTAL = 200 * 1024 * 1024
ZIP_MAX_RATIO = 120  # inflated / compressed, above ZIP_RATIO_FLOOR
ZIP_RATIO_FLOOR = 2 * 1024 * 1024


def zip_bounds_reason(path):
    """Why a zip (an .xlsx) is not to be inflated — too many parts, a part or the whole too
    large once inflated, a compression ratio no real file has — or "" when it is fine.
    Only the zip's directory is read."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return "不是有效的 .xlsx 文件（可能已损坏或已加密）"
    return zip_infos_reason(infos)


def zip_infos_reason(infos):
    """:func:`zip_bounds_reason` of a zip's directory already read (``ZipFile.infolist()``):
    the one gate of every .xlsx reader (read/workbook.probe too)."""
    if len(infos) > ZIP_MAX_ENTRIES:
        return f"压缩包内文件过多（{len(infos)} 个），疑似异常文件，未读取"
    total = 0
    for i in infos:
        total += i.file_size
        if i.file_size > ZIP_MAX_ENTRY or total > ZIP_MAX_TOTAL:
            return (f"解压后过大（{i.filename} 声明 {i.file_size // 2**20} MB），"
                    "疑似压缩炸弹或超大工作表，未读取")
        if i.file_size > ZIP_RATIO_FLOOR and i.file_size > ZIP_MAX_RATIO * max(1, i.compress_size):
            return (f"压缩比异常（{i.filename} 为 {i.file_size // max(1, i.compress_size)} 倍），"
                    "疑似压缩炸弹，未读取")
    return ""


def _read_xlsx(p):
    if not zipfile.is_zipfile(p):
        raise InputFileError(p, "不是有效的 .xlsx 文件（可能已损坏或已加密）")
    bad = zip_bounds_reason(p)
    if bad:
        raise InputFileError(p, bad)
    try:
        wb = CalamineWorkbook.from_path(str(p))
        rows = wb.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception:  # noqa: BLE001 - any reader failure is the file's problem
        raise InputFileError(p, "无法读取工作表，文件可能已损坏；请另存为 .xlsx 后重试") from None
    return _to_dicts(p, [[("" if c is None else c) for c in r] for r in rows])


def _to_dicts(p, rows):
    rows = [r for r in rows if any(str(c).strip() for c in r)]
    if not rows:
        raise InputFileError(p, "表格为空")
    headers = [str(h).strip() for h in rows[0]]
    if not any(headers):
        raise InputFileError(p, "第一行应为表头")
    out = []
    for r in rows[1:]:
        r = list(r) + [""] * (len(headers) - len(r))
        out.append({h: (None if v == "" else v) for h, v in zip(headers, r) if h})
    return [h for h in headers if h], out


def normal_file_mode(path):
    """mkstemp makes files 0600; give a finished file the rights a saved file has."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def temp_prefix():
    """Temporary files carry the writer's pid: a later run knows a killed run's leftovers
    (consolidate.output.remove_stale_temps)."""
    return f".saq-{os.getpid()}-"


def write_atomic(path, write):
    """Write a file through a temporary file in the same folder, then rename it into place,
    so that a reader never sees half a file.

    Args:
        path: the final path; its folder is created if needed.
        write: called with the temporary path; writes the whole file there.
    Raises:
        OutputFileError: the folder or file cannot be written (e.g. open in Excel).
    """
    p = Path(path)
    tmp = None
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(), suffix=p.suffix, dir=p.parent)
        os.close(fd)
        try:
            write(tmp)
        except Exception as e:  # noqa: BLE001 - lxml reports a full disk as its own error
            err = as_os_error(e)
            if err is None:
                raise
            raise err from None
        normal_file_mode(tmp)
        os.replace(tmp, p)
    except OSError as e:
        if tmp and os.path.exists(tmp):
            try:
                os.unlink(tmp)
            except OSError:
                pass
        hint = "" if e.errno in (errno.ENOSPC, errno.EFBIG, errno.EROFS) else "（文件是否正在 Excel 中打开？）"
        raise OutputFileError(p, f"{os_reason(e)}{hint}") from None
    return p


def save_workbook(wb, path):
    """Save an openpyxl workbook atomically (see :func:`write_atomic`), with the value of
    every formula cell cached in the file (:mod:`xl_addin.sheet.xlcache`, issue 11)."""
    from xl_addin.sheet.paper import set_properties  # lazy: it loads openpyxl (see _write_xlsx)
    if wb.properties.creator in (None, "", "openpyxl"):  # ours: the association, the real time
        set_properties(wb.properties, wb.properties.title)
    return write_atomic(path, lambda tmp: save_with_values(wb, tmp))


def write_table(path, headers, rows):
    """Write rows (lists) as CSV or xlsx, atomically (temporary file, then rename)."""
    def write(tmp):
        if Path(path).suffix.lower() == ".csv":
            with open(tmp, "w", encoding="utf-8-sig", newline="") as f:
                w = csv.writer(f)
                w.writerow(headers)
                for r in rows:
                    w.writerow(["'" + v if is_formula_like(v) else v for v in map(clean, r)])
        else:
            _write_xlsx(tmp, headers, rows)
    return write_atomic(path, write)


def _write_xlsx(path, headers, rows):
    # lazy: openpyxl costs ≈270 ms; saq check imports this module and only reads (calamine)
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    wb = Workbook()
    ws = wb.active
    ws.title = "评估结果"
    for j, h in enumerate(headers, 1):
        c = ws.cell(1, j)
        set_text_safe(c, h)
        c.font = Font(bold=True)
        c.fill = PatternFill("solid", fgColor="DDEBF7")
    for i, r in enumerate(rows, 2):
        for j, v in enumerate(r, 1):
            set_text_safe(ws.cell(i, j), v)
    for j, h in enumerate(headers, 1):
        ws.column_dimensions[ws.cell(1, j).column_letter].width = min(40, max(8, len(h) * 2 + 2))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    for row in ws.iter_rows(min_row=2):
        for c in row:
            c.alignment = Alignment(vertical="top", wrap_text=isinstance(c.value, str) and "\n" in c.value)
    wb.save(path)
