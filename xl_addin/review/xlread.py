"""The review's view of a workbook — expert forms, the assignment, expert lists, the master —
through the one reader (:mod:`xl_addin.read.workbook`, issue 9): bounded, defused, macros never
run, a table found by name or, when renamed or deleted, by its header row.

Every failure is an InputFileError with a Chinese reason.
"""

from __future__ import annotations

from pathlib import Path

from xl_addin.errors import InputFileError
from xl_addin.read import workbook as fastread
from xl_addin.rules.parse import norm

HEADER_SCAN_ROWS = 30
META_SHEET = fastread.META_SHEET


class Book:
    """A workbook as read by fastread: meta, sheets (on demand) and tables."""

    def __init__(self, sub):
        self.sub, self.meta = sub, sub.meta
        self.sheetnames = list(sub.sheet_names)

    def rows(self, sheet):
        return self.sub.sheet_rows(sheet)

    def close(self):
        """Nothing to release: the reader closed the file (kept for the callers' finally)."""


def open_workbook(path):
    """Read ``path`` (any workbook; ours or a list staff made by hand).

    Returns:
        Book
    Raises:
        InputFileError
    """
    p = Path(path)
    if not p.exists():
        raise InputFileError(p, "文件不存在")
    if not p.is_file():
        raise InputFileError(p, "不是普通文件，未读取")
    try:
        pr = fastread.probe(p)
        if pr.format in ("empty", "text", "other") and not pr.note:
            raise InputFileError(p, "不是 Excel 工作簿，" + fastread.SAVE_AS)
        return Book(fastread.read_submission(p, pr, names=(), any_workbook=True))
    except fastread.UnreadableWorkbook as e:
        raise InputFileError(p, e.reason) from None


def read_meta(book):
    """key -> value of the hidden ``_meta`` sheet; {} if none."""
    return dict(book.meta)


def _key(text):
    return norm(text).replace(" ", "") if text is not None else ""


def find_table(book, table_name, must_have):
    """Locate a table: the Excel table ``table_name``, else a header row (in the first 30
    rows of a sheet) that holds every label of ``must_have``.

    Returns:
        (sheet, header row number, {normalised header: column number}) or None.
    """
    for name, t in book.sub.tables.items():
        if name.lower() == table_name.lower():
            cols = {_key(h): t.first_col + j for j, h in enumerate(t.columns) if h not in (None, "")}
            return t.sheet, t.first_row - 1, cols
    want = {_key(h) for h in must_have}
    for sheet in book.sheetnames:
        if sheet == fastread.META_SHEET:
            continue
        for r, row in enumerate(book.rows(sheet)[:HEADER_SCAN_ROWS], start=1):
            keys = {_key(v): c for c, v in enumerate(row, start=1) if v is not None}
            if want <= set(keys):
                return sheet, r, keys
    return None


def table_rows(book, where, stop_blank=True):
    """Data rows under a header found by :func:`find_table`: list of (row number, {header: value}).

    Reading stops at the first wholly blank row when ``stop_blank``.
    """
    sheet, header_row, cols = where
    grid = book.rows(sheet)
    out = []
    for r in range(header_row + 1, len(grid) + 1):
        row = grid[r - 1]
        vals = {h: (row[c - 1] if c - 1 < len(row) else None) for h, c in cols.items()}
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in vals.values()):
            if stop_blank:
                break
            continue
        out.append((r, vals))
    return out
