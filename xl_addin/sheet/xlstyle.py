"""The typeface of every workbook we generate (issue 11), set in one place.

等线 (DengXian), Excel 2016's default, is missing on Office 2010/2013 and Windows 7; the
fallback changed column widths and cut printed text. 宋体 (SimSun) ships with every Chinese
Windows since XP and with WPS; headings may use 微软雅黑 (Microsoft YaHei, Vista and later,
also in WPS). LibreOffice on Linux substitutes a CJK face for both.
"""

from __future__ import annotations

from copy import copy

from openpyxl.styles import Font
from openpyxl.utils.indexed_list import IndexedList

BODY_FONT = "宋体"
HEADING_FONT = "微软雅黑"
BODY_SIZE = 11


def apply_default_font(wb, name=BODY_FONT, size=BODY_SIZE):
    """Make ``name`` the workbook's default font (the Normal style and unstyled cells).

    Call right after ``Workbook()``, before any cell is styled.

    Args:
        wb: a new openpyxl Workbook (normal or write-only).
        name: the typeface.
        size: the point size.
    """
    base = Font(name=name, size=size, family=3, charset=134, scheme=None)  # GB2312
    wb._fonts = IndexedList()
    wb._fonts.add(base)
    normal = wb._named_styles["Normal"]
    normal.font = copy(base)
