"""Fill the templates through their defined names and tables (for the demo and tests).

Values are written as typed: numbers as numbers, dates as dates, text as text (text that
starts with = + - @ stays text — tables.set_text_safe). The files have no cached values;
Excel, WPS and LibreOffice calculate the formulas when they open them.
"""

from __future__ import annotations

import datetime as dt

from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries

from xl_addin.forms.application import RESPONDENT_TABLE, build_application
from xl_addin.forms.print_sheets import fit_row_heights
from xl_addin.forms.recommender import DEFAULT_ROWS, TABLE, build_recommender
from xl_addin.rules.engine import to_keys
from xl_addin.tables import save_workbook, set_text_safe

DERIVED = ("respondents_listed", "stored_total")


def _cell_of(wb, name):
    dn = wb.defined_names.get(name)
    if dn is None:
        return None
    sheet, coord = next(iter(dn.destinations))
    return wb[sheet][coord.replace("$", "")]


def _put(cell, value):
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time() else value
    if isinstance(value, str):
        set_text_safe(cell, value)
    else:
        cell.value = value


def _table(wb, name):
    for ws in wb.worksheets:
        for t in ws.tables.values():
            if t.displayName == name:
                c1, r1, c2, r2 = range_boundaries(t.ref)
                heads = [ws.cell(r1, c).value for c in range(c1, c2 + 1)]
                return ws, c1, r1, r2, heads
    raise KeyError(name)


def _save(wb, path_out):
    return save_workbook(wb, path_out)


def fill_application(path_out, values, respondents=None, *, campaign):
    """Write a filled 申请书.

    Args:
        path_out: the .xlsx to write.
        values: field key (or FIELDS.md label) -> value; rubric parts by their se_ keys.
            ``respondents_listed`` (a count) is honoured when ``respondents`` is None: that
            many placeholder names are listed. ``stored_total`` is ignored (computed).
        respondents: list of (姓名, 联系方式) for the 被访者名单 table.
        campaign: the Campaign whose form is filled (keyword; required).
    Returns:
        Path of the file written.
    Raises:
        KeyError: a key that is not a field of the application.
        OutputFileError: the file cannot be written.
    """
    c = campaign
    wb = build_application(c)
    values = to_keys(values, c, "application")
    for key, v in values.items():
        if key in DERIVED:
            continue
        cell = _cell_of(wb, key)
        if cell is None:
            raise KeyError(f"申请书没有名为 {key} 的填写项")
        if v is not None:
            _put(cell, v)
    if respondents is None and values.get("respondents_listed"):
        # E17: a respondent counts only with both 姓名 and 联系方式
        respondents = [(f"被访者{i + 1}", f"138{i:08d}")
                       for i in range(int(values["respondents_listed"]))]
    if respondents:
        ws, c1, r1, r2, heads = _table(wb, RESPONDENT_TABLE)
        _ensure_rows(ws, RESPONDENT_TABLE, len(respondents))
        ws, c1, r1, r2, heads = _table(wb, RESPONDENT_TABLE)
        for i, (name, contact) in enumerate(respondents):
            r = r1 + 1 + i
            seq = ws.cell(r, c1 + heads.index("序号"))
            if seq.data_type != "f":  # the template numbers its rows itself
                seq.value = i + 1
            _put(ws.cell(r, c1 + heads.index("姓名")), name)
            if contact:
                _put(ws.cell(r, c1 + heads.index("联系方式")), contact)
        ws.print_area = f"A1:C{r1 + len(respondents)}"  # the listed rows only (issue 22)
    return _save(wb, path_out)


def _ensure_rows(ws, name, n):
    """Grow a table downwards when more rows are needed than the template has."""
    for t in ws.tables.values():
        if t.displayName == name:
            c1, r1, c2, r2 = range_boundaries(t.ref)
            if r2 - r1 < n:
                t.ref = f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r1 + n}"


def fill_recommender(path_out, header, rows, campaign):
    """Write a filled 附件3.

    Args:
        path_out: the .xlsx to write.
        header: recommender, filler_name, … fill_date (keys or labels).
        rows: one dict per application, by key of fields.recommendation_row or label.
        campaign: the Campaign whose form is filled.
    Returns:
        Path of the file written.
    Raises:
        KeyError: an unknown header key or column; OutputFileError.
    """
    c = campaign
    # as many table rows as applications (the blank template has DEFAULT_ROWS): the file
    # prints its filled rows only, in Excel and WPS as through `saq pdf` (issue 22)
    wb = build_recommender(c, rows=len(rows) or DEFAULT_ROWS)
    for key, v in to_keys(header, c, "recommender").items():
        cell = _cell_of(wb, key)
        if cell is None:
            raise KeyError(f"推荐表没有名为 {key} 的填写项")
        if v is not None:
            _put(cell, v)
    ws, c1, r1, r2, heads = _table(wb, TABLE)
    labels = {f.key: f.label for f in c.fields["recommendation_row"]}
    for i, row in enumerate(rows):
        for key, v in to_keys(row, c, "recommendation_row").items():
            if key not in labels:
                raise KeyError(f"推荐表没有“{key}”列")
            if v is not None:
                _put(ws.cell(r1 + 1 + i, c1 + heads.index(labels[key])), v)
    fit_row_heights(ws, range(r1 + 1, r1 + 1 + len(rows)), c1, len(labels))  # 推荐意见 whole
    return _save(wb, path_out)
