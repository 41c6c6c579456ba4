"""Small openpyxl helpers shared by the review workbooks: styles, safe values, atomic save."""

from __future__ import annotations

import unicodedata
from copy import copy

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from xl_addin.rules.parse import is_blank
from xl_addin.sheet.paper import fit_rows
from xl_addin.sheet.xlstyle import BODY_FONT, apply_default_font
from xl_addin.tables import save_workbook, set_text_safe

HEADER_FILL = "DDEBF7"
INPUT_FILL = "FFF9E5"
COMPUTED_FILL = "EDEDED"

FONT = BODY_FONT  # 宋体: on every Chinese Windows since XP and in WPS (issue 11)


def new_workbook():
    """An empty Workbook whose default font is the review workbooks' font."""
    wb = Workbook()
    apply_default_font(wb, FONT)
    return wb


def verbatim(v):
    """Text exactly as typed, trimmed at the ends only: names and comments keep their
    full-width punctuation (“，” stays “，”; parse.text folds it for matching only)."""
    if is_blank(v):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def title_cell(ws, ref, text, size=14):
    c = ws[ref]
    set_text_safe(c, text)
    c.font = Font(bold=True, size=size, name=FONT)
    return c


def style_header(ws, row, ncols, first_col=1, height=None, wrap=True):
    thin = Side(style="thin", color="9BB7D4")
    first = ws.cell(row, first_col)
    first.font = Font(bold=True, name=FONT)
    first.fill = PatternFill("solid", fgColor=HEADER_FILL)
    first.alignment = Alignment(wrap_text=wrap, vertical="center", horizontal="center")
    first.border = Border(bottom=thin, top=thin, left=thin, right=thin)
    for j in range(first_col + 1, first_col + ncols):  # copies: styling each cell is slow
        ws.cell(row, j)._style = copy(first._style)
    if height:
        ws.row_dimensions[row].height = height


def put(ws, row, col, value):
    """Write a value; submitted text that looks like a formula stays text."""
    c = ws.cell(row, col)
    set_text_safe(c, value)
    return c


def save_atomic(wb, path):
    """Save to a temporary file in the same folder, then rename (no half-written file).

    Raises:
        OutputFileError
    """
    return save_workbook(wb, path)


def add_table(ws, name, first_row, first_col, last_row, last_col, style="TableStyleMedium2"):
    """An Excel table over the range (a table needs at least one data row)."""
    last_row = max(last_row, first_row + 1)
    ref = f"{get_column_letter(first_col)}{first_row}:{get_column_letter(last_col)}{last_row}"
    t = Table(displayName=name, ref=ref)
    # Name the columns here: left to openpyxl, saving reads every cell of the range.
    heads = []
    for j, c in enumerate(range(first_col, last_col + 1), start=1):
        v = ws.cell(first_row, c).value
        heads.append(str(v) if v is not None else f"Column{j}")
    t.tableColumns = [TableColumn(id=j, name=h) for j, h in enumerate(heads, start=1)]
    t.tableStyleInfo = TableStyleInfo(name=style, showRowStripes=True)
    ws.add_table(t)
    return t


def set_widths(ws, widths, first_col=1):
    for j, w in enumerate(widths, start=first_col):
        ws.column_dimensions[get_column_letter(j)].width = w


def write_meta(wb, items):
    """The hidden `_meta` sheet (as reader.py expects): a header row, then key | value."""
    ws = wb.create_sheet("_meta")
    ws.cell(1, 1, "key")
    ws.cell(1, 2, "value")  # reader.py reads from row 2
    for i, (k, v) in enumerate(items.items(), start=2):
        ws.cell(i, 1, k)
        put(ws, i, 2, v)
    ws.sheet_state = "hidden"
    return ws


def text_width(text):
    """Display width in Excel column units: a CJK character is about two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def fit_row_heights(ws, first_row, last_row, widths, line=None, max_lines=None):
    """Set row heights so wrapped text shows (LibreOffice does not grow rows on load);
    the shared rule of every printed sheet (sheet.paper.fit_rows, issue 22): no line cap,
    a text wider than its column wraps."""
    fit_rows(ws, first_row, last_row, len(widths))
