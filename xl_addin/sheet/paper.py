"""Paper: the page setup of every sheet we print, in one place (issue 22).

Every writer of a printed sheet (分配表, the expert form's 评分说明, 评审结果 and its lists,
合议 / 现场评审 / 审定, the master's sheets, the 申请书's 结果 and print sheets, 附件3)
calls :func:`page_setup`: A4; portrait or landscape by the printed width; one page wide
(``fitToWidth = 1``, as many pages down as needed); the heading rows repeated on each page;
a print area over the filled rows and printed columns only, so Excel, WPS and LibreOffice
(``saq pdf``) print the same thing. :func:`fit_rows` gives each row the height its wrapped
text needs — no application sizes rows by itself on opening a file we wrote — and
:func:`fit_title` makes a title or a note as wide as the printed columns.

Widths are Excel column units (the width of "0" in the body font, 宋体 11, about 8 pixels):
a CJK character is about 1.85 units at 11 pt. LibreOffice draws the same text narrower (a
unit is 7 points there, its CJK face 1 em wide), so a height that fits Excel's 宋体 fits
LibreOffice's too (``tests/test_print.py`` checks every printed cell in LibreOffice's PDF).
Line height: 1.46 × the font size (Noto Sans CJK's ascent + descent; 宋体 needs 1.23).
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from functools import lru_cache
from itertools import repeat

from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break, RowBreak
from openpyxl.worksheet.properties import PageSetupProperties

A4 = 9  # openpyxl's PAPERSIZE_A4
BODY_SIZE = 11.0  # the size a column unit is measured at (the body font)
PORTRAIT_UNITS = 100  # printed columns wider than this go landscape
MAX_HEIGHT = 409  # Excel's largest row height (points)
LINE = 1.46  # line height / font size
PAD = 4  # points above and below the text of a row
SLACK = 1.08  # line breaks at punctuation and between Latin words leave room unused
ORG = "上海市质量协会"


@lru_cache(maxsize=8192)
def char_units(ch, size=BODY_SIZE):
    """Width of one character in column units at ``size`` points."""
    wide = unicodedata.east_asian_width(ch) in "WFA" and ord(ch) > 0x2000
    return (1.85 if wide else 1.0) * size / BODY_SIZE


def text_units(text, size=BODY_SIZE):
    """Width of a one-line text in column units at ``size`` points."""
    return _text_units(str(text), size)


@lru_cache(maxsize=4096)
def _text_units(text, size):
    # A master sizes each of its thousands of rows by its texts, most of them repeated
    # (statuses, recommenders, levels): each text is measured once.
    return sum(map(char_units, text, repeat(size, len(text))))


def lines_needed(text, width, size=BODY_SIZE):
    """Lines ``text`` takes when wrapped in a cell ``width`` units wide."""
    usable = max(width - 1.2, 1.0)
    return sum(max(1, math.ceil(text_units(part, size) * SLACK / usable))
               for part in str(text).split("\n"))


def height_for(lines, size=BODY_SIZE):
    """Row height (points) for ``lines`` lines at ``size`` points."""
    return min(MAX_HEIGHT, round(lines * size * LINE + PAD, 1))


def shown_text(cell):
    """What a cell shows, for sizing: its value, or for a formula its cached value when the
    writer left one (``cell.saq_shown``), else nothing (formulas are sized by their writer)."""
    v = cell.value
    if v is None:
        return ""
    if isinstance(v, str) and v.startswith("="):
        return str(getattr(cell, "saq_shown", "") or "")
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (dt.date, dt.datetime)):
        return "2023-01-01"
    return str(v)


def _width(ws, col):
    dim = ws.column_dimensions.get(get_column_letter(col))
    if dim is None:
        return 8.43
    if dim.hidden:
        return 0.0
    return dim.width if dim.width else 8.43


def _size(cell):
    f = cell.font
    return float(f.sz) if f is not None and f.sz else BODY_SIZE


def printed_width(ws, last_col, first_col=1):
    """Sum of the widths of the printed (not hidden) columns."""
    return sum(_width(ws, j) for j in range(first_col, last_col + 1))


def _merges(ws):
    """(row, col) of each merged range's top-left cell -> (last row, last col)."""
    out = {}
    for m in ws.merged_cells.ranges:
        out[(m.min_row, m.min_col)] = (m.max_row, m.max_col)
    return out


def fit_rows(ws, first_row, last_row, last_col, min_height=None, wrap_long=True, texts=None):
    """Give rows first_row..last_row the height their text needs.

    A cell whose text is wider than its column (merged columns together) is set to wrap
    (``wrap_long``), so it never runs into its neighbour or off the page; a merged cell over
    several rows shares its lines among them. Rows only grow from the height they have.

    Args:
        ws: an openpyxl worksheet (not write-only).
        first_row, last_row, last_col: the printed block.
        min_height: a floor for every row (None: the row's own height, or one line).
        wrap_long: wrap cells whose text is wider than the cell.
        texts: (row, col) -> the text a formula cell will show (sizing only).
    """
    merges = _merges(ws)
    covered = set()
    for (r0, c0), (r1, c1) in merges.items():
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                if (r, c) != (r0, c0):
                    covered.add((r, c))
    need = {}
    spans = []
    for r in range(first_row, last_row + 1):
        if ws.row_dimensions[r].hidden:
            continue
        for c in range(1, last_col + 1):
            if (r, c) in covered:
                continue
            cell = ws.cell(r, c)
            text = (texts or {}).get((r, c)) or shown_text(cell)
            if not text:
                continue
            r1, c1 = merges.get((r, c), (r, c))
            width = printed_width(ws, min(c1, last_col), c)
            if width <= 0:
                continue
            size = _size(cell)
            al = cell.alignment
            wrap = bool(al and al.wrap_text)
            long = not wrap and text_units(text, size) > width - 1.2 and wrap_long
            if long or not (al and al.vertical):  # one baseline: every cell from the top
                cell.alignment = Alignment(horizontal=al.horizontal if al else None,
                                           vertical=(al.vertical if al and al.vertical else "top"),
                                           wrap_text=wrap or long, indent=al.indent if al else 0)
                wrap = wrap or long
            lines = lines_needed(text, width, size) if wrap else text.count("\n") + 1
            h = height_for(lines, size)
            if r1 > r:
                spans.append((r, r1, h))
            else:
                need[r] = max(need.get(r, 0), h)
    for r in range(first_row, last_row + 1):
        dim = ws.row_dimensions[r]
        if dim.hidden:
            continue
        floor = min_height if min_height is not None else (dim.height or height_for(1))
        want = max(floor, need.get(r, 0))
        if want != dim.height:
            dim.height = want
    for r0, r1, h in spans:  # a cell merged down: its rows together hold its lines
        have = sum(ws.row_dimensions[r].height or height_for(1) for r in range(r0, r1 + 1))
        if have < h:
            extra = (h - have) / (r1 - r0 + 1)
            for r in range(r0, r1 + 1):
                ws.row_dimensions[r].height = min(
                    MAX_HEIGHT, round((ws.row_dimensions[r].height or height_for(1)) + extra, 1))


def fit_title(ws, row, last_col, first_col=1):
    """A title or note line as wide as the printed columns: merged over them, wrapped, and
    as tall as its text needs (it never runs off the page or under a neighbour)."""
    cell = ws.cell(row, first_col)
    for m in list(ws.merged_cells.ranges):
        if m.min_row <= row <= m.max_row and m.min_col <= first_col <= m.max_col:
            ws.unmerge_cells(str(m))
    if last_col > first_col:
        ws.merge_cells(f"{get_column_letter(first_col)}{row}:{get_column_letter(last_col)}{row}")
    al = cell.alignment
    cell.alignment = Alignment(horizontal=(al.horizontal if al else None) or "left",
                               vertical="center", wrap_text=True)
    text = shown_text(cell)
    width = printed_width(ws, last_col, first_col)
    lines = lines_needed(text, width, _size(cell)) if text else 1
    ws.row_dimensions[row].height = max(ws.row_dimensions[row].height or 0,
                                        height_for(lines, _size(cell)))


def last_filled_row(ws, last_col, first_row=1):
    """The last row with a value in columns 1..last_col (first_row at least)."""
    last = first_row
    for row in ws.iter_rows(min_row=first_row, max_col=last_col):
        for cell in row:
            if cell.value not in (None, ""):
                last = max(last, cell.row)
                break
    return last


def page_setup(ws, last_col, last_row=None, header_rows=None, landscape=None, widths=None,
               margins=(0.5, 0.6), center=True, breaks=True):
    """A4, orientation by width, one page wide, heading rows repeated, print area set.

    Works on write-only sheets too (give ``last_row`` and ``widths``).

    Args:
        ws: the worksheet.
        last_col: the last printed column (number); columns after it stay on screen only.
        last_row: the last printed row (None: the last filled row in the printed columns).
        header_rows: (first, last) rows repeated at the top of each page, or None.
        landscape: force an orientation (None: landscape when the printed columns are
            wider than PORTRAIT_UNITS).
        widths: the printed columns' widths (a write-only sheet cannot read them back).
        margins: (left/right, top/bottom) in inches.
        center: centre the printed block horizontally.
        breaks: set the page breaks (:func:`page_breaks`; not on write-only sheets).
    Returns:
        the print area ("A1:K40").
    """
    if last_row is None:
        last_row = last_filled_row(ws, last_col)
    width = sum(widths) if widths is not None else printed_width(ws, last_col)
    if landscape is None:
        landscape = width > PORTRAIT_UNITS
    ps = ws.page_setup
    ps.paperSize = A4
    ps.orientation = "landscape" if landscape else "portrait"
    ps.fitToWidth, ps.fitToHeight = 1, 0
    ps.scale = None
    if ws.sheet_properties.pageSetUpPr is None:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    else:
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = margins[0]
    ws.page_margins.top = ws.page_margins.bottom = margins[1]
    ws.print_options.horizontalCentered = center
    ws.print_title_cols = None
    if header_rows:
        ws.print_title_rows = f"{header_rows[0]}:{header_rows[1]}"
    area = f"A1:{get_column_letter(last_col)}{max(last_row, 1)}"
    ws.print_area = area
    if breaks and not getattr(ws, "_write_only", False) and hasattr(ws, "merged_cells") \
            and hasattr(ws, "cell"):
        page_breaks(ws, last_row, width, landscape, header_rows, margins[1])
    return area


PAGE_POINTS = {False: (595.3, 841.9), True: (841.9, 595.3)}  # A4 (width, height)
UNIT_POINTS = 5.5  # a column unit on paper at 100 % (Excel: 7–8 pixels; LibreOffice: 7 pt)
ROW_POINTS = 15.0  # a row without a height of its own
SAFETY = 0.95  # of a page's height: what a page may hold by our count


def _bound(ws, m, h):
    """The last row a merged range keeps on the page of its first: all of them, unless its
    text stands at the top — then only the rows its lines need."""
    cell = ws.cell(m.min_row, m.min_col)
    al = cell.alignment
    text = shown_text(cell)
    if not text or not al or al.vertical != "top":
        return m.max_row
    width = printed_width(ws, m.max_col, m.min_col)
    need = height_for(lines_needed(text, width, _size(cell)), _size(cell)) if al.wrap_text \
        else height_for(text.count("\n") + 1, _size(cell))
    have, r = 0.0, m.min_row
    while r < m.max_row:
        have += h(r)
        if have >= need:
            break
        r += 1
    return r


def page_breaks(ws, last_row, width, landscape, header_rows=None, margin_tb=0.6):
    """Manual page breaks, so that every application breaks the pages alike and no block
    of merged rows (a section of 附件2-5, an item's wording over its parts) is cut in two.

    The scale is the one fit-to-width gives with the widest column unit of the three
    applications (UNIT_POINTS): Excel's pages, the fullest, hold what we count, LibreOffice's
    a little more; both break where we say. A block taller than a page starts a page.

    Args:
        ws: the worksheet (rows sized already).
        last_row: the last printed row.
        width: the printed columns' width in units.
        landscape: the orientation.
        header_rows: (first, last) rows repeated on every page, or None.
        margin_tb: top and bottom margin (inches).
    Returns:
        the number of pages by this count.
    """
    page_w, page_h = PAGE_POINTS[bool(landscape)]
    scale = min(1.0, (page_w - 72) / max(width * UNIT_POINTS, 1))
    cap = (page_h - 2 * 72 * margin_tb) / scale * SAFETY

    def h(r):
        dim = ws.row_dimensions.get(r) if hasattr(ws.row_dimensions, "get") else None
        if dim is None:
            return ROW_POINTS
        return 0.0 if dim.hidden else (dim.height or ROW_POINTS)

    titles = sum(h(r) for r in range(header_rows[0], header_rows[1] + 1)) if header_rows else 0
    block_end = {}
    for m in ws.merged_cells.ranges:
        if m.max_row > m.min_row:
            block_end[m.min_row] = max(block_end.get(m.min_row, 0), _bound(ws, m, h))
    ws.row_breaks = RowBreak()
    used, pages, r = 0.0, 1, 1
    while r <= last_row:
        end = r
        scan = r  # a block may hold another that reaches further down
        while scan <= end:
            end = max(end, block_end.get(scan, scan))
            scan += 1
        end = min(end, last_row)
        height = sum(h(x) for x in range(r, end + 1))
        if used > 0 and used + height > cap:
            ws.row_breaks.append(Break(id=r - 1))
            pages += 1
            used = titles if header_rows and r > header_rows[1] else 0.0
        used += height
        r = end + 1
    return pages


def set_properties(props, title, when=None):
    """Document properties of a file we write (.xlsx via openpyxl, .docx via python-docx):
    the association as author, the campaign's title, the real time of writing.

    Args:
        props: ``wb.properties`` (openpyxl) or ``doc.core_properties`` (python-docx).
        title: the document's title (the campaign title and what the document is).
        when: the creation time (default: now).
    """
    when = (when or dt.datetime.now()).replace(microsecond=0)
    if hasattr(props, "author"):  # python-docx
        props.author = ORG
        props.comments = ""
    if hasattr(props, "creator"):
        props.creator = ORG
    if hasattr(props, "last_modified_by"):  # python-docx
        props.last_modified_by = ORG
    if hasattr(props, "lastModifiedBy"):  # openpyxl
        props.lastModifiedBy = ORG
    props.title = title
    props.created = when
    props.modified = when
    if hasattr(props, "revision"):
        props.revision = 1


def print_table(ws, header_row, last_col, last_row=None, landscape=None, fit=True):
    """The usual printed sheet: title and note lines above a table whose heading row
    repeats on every page.

    Lines above ``header_row`` that hold text become as wide as the printed columns
    (:func:`fit_title`); the heading and data rows get the height their text needs
    (:func:`fit_rows`); then :func:`page_setup`.

    Args:
        ws: the worksheet (not write-only).
        header_row: the table's heading row.
        last_col: the last printed column (number).
        last_row: the last printed row (None: the last filled one).
        landscape: force an orientation (None: by width).
        fit: size the rows (False: the writer sized them).
    Returns:
        the print area.
    """
    if last_row is None:
        last_row = last_filled_row(ws, last_col)
    for r in range(1, header_row):
        if ws.cell(r, 1).value not in (None, ""):
            fit_title(ws, r, last_col)
    if fit:
        fit_rows(ws, header_row, last_row, last_col)
    return page_setup(ws, last_col, last_row, (header_row, header_row), landscape)
