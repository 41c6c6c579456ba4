"""What both templates share: styles, the hidden _meta / _lists / _calc sheets, defined
names, data validation, conditional formats, protection and A4 print setup."""

from __future__ import annotations

import re

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from xl_addin import __version__
from xl_addin.sheet.formulas import Plan, render
from xl_addin.sheet.paper import set_properties
from xl_addin.sheet.xlcalc import Unsupported, tokenize
from xl_addin.sheet.xlstyle import BODY_FONT, HEADING_FONT, apply_default_font

META_SHEET = "_meta"
LISTS_SHEET = "_lists"
CALC_SHEET = "_calc"
FONT_NAME = BODY_FONT  # 宋体: every Chinese Windows since XP and WPS have it (issue 11)
HEADING_SIZE = 13  # titles from this size up use 微软雅黑

INPUT_FILL = PatternFill("solid", fgColor="FFF9DB")
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
BLOCK_FILL = PatternFill("solid", fgColor="BDD7EE")
CALC_FILL = PatternFill("solid", fgColor="F2F2F2")
RED_FILL = PatternFill("solid", fgColor="FFC7CE", bgColor="FFC7CE")
AMBER_FILL = PatternFill("solid", fgColor="FFEB9C", bgColor="FFEB9C")
GREY_FILL = PatternFill("solid", fgColor="D9D9D9", bgColor="D9D9D9")
GREEN_FILL = PatternFill("solid", fgColor="C6EFCE", bgColor="C6EFCE")
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="center")
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
DATE_FORMAT = "yyyy-mm-dd"


def font(size=10.5, bold=False, color=None):
    """The form font: 宋体, or 微软雅黑 for titles (size ≥ HEADING_SIZE)."""
    name = HEADING_FONT if size >= HEADING_SIZE else FONT_NAME
    return Font(name=name, size=size, bold=bold, color=color)


def new_workbook():
    """An empty Workbook whose default font is the form font."""
    wb = Workbook()
    apply_default_font(wb, FONT_NAME, 10.5)
    return wb


def ref(ws, coord, absolute=True):
    """'Sheet'!$A$1 for a cell (quoted sheet name)."""
    col = "".join(ch for ch in coord if ch.isalpha())
    row = "".join(ch for ch in coord if ch.isdigit())
    cell = f"${col}${row}" if absolute else coord
    return f"{quote_sheetname(ws.title)}!{cell}"


def add_name(wb, name, ws, coord):
    """A workbook-level defined name for one cell."""
    col = "".join(ch for ch in coord if ch.isalpha())
    row = "".join(ch for ch in coord if ch.isdigit())
    wb.defined_names[name] = DefinedName(name, attr_text=f"{quote_sheetname(ws.title)}!${col}${row}")


def meta_sheet(wb, template_id, campaign):
    """The hidden _meta sheet of the reader contract (key, value rows)."""
    ws = wb.create_sheet(META_SHEET)
    rows = [("key", "value"), ("template_id", template_id),
            ("template_version", campaign.template_version),
            ("campaign_year", campaign.year), ("generator_version", __version__)]
    for r in rows:
        ws.append(r)
    ws.sheet_state = "hidden"
    ws.protection.sheet = True
    return ws


def lists_sheet(wb, campaign, extra=None):
    """Hidden sheet with one column per choice list; returns list name -> range ref."""
    ws = wb.create_sheet(LISTS_SHEET)
    lists = dict(campaign.choices)
    lists["category"] = tuple(c.name for c in campaign.categories)
    lists["level"] = tuple(lv.applied for lv in campaign.levels)
    lists.update(extra or {})
    out = {}
    for j, (name, values) in enumerate(lists.items(), 1):
        ws.cell(1, j, name)
        for i, v in enumerate(values, 2):
            ws.cell(i, j, v)
        col = get_column_letter(j)
        out[name] = (f"{quote_sheetname(ws.title)}!${col}$2:${col}${len(values) + 1}", values)
    ws.sheet_state = "hidden"
    ws.protection.sheet = True
    return out


def choices_of(campaign, f):
    if f.type == "category":
        return "category"
    if f.type == "level":
        return "level"
    return f.choices


# field type -> (length, prompt, warning) of the text-length validation
TEXT_LENGTHS = {
    "mobile": (11, "请填写 1 开头的 11 位手机号", "手机号应为 1 开头的 11 位数字，确定要这样填写吗？"),
    "uscc": (18, "请填写 18 位统一社会信用代码（GB 32100-2015）",
             "统一社会信用代码应为 18 位，确定要这样填写吗？"),
}


def validation_for(ws, f, campaign, lists, cells):
    """Data validation with Chinese prompt and error for one input field."""
    label = f.label
    dv = None
    lname = choices_of(campaign, f)
    if lname:
        rng, values = lists[lname]
        shown = "、".join(values)
        dv = DataValidation(type="list", formula1=rng, allow_blank=True)
        dv.prompt = f"请从下拉列表中选择：{shown}" if len(shown) < 200 else "请从下拉列表中选择"
        dv.error = f"“{label}”只能从下拉列表中选择。"
    elif f.type == "date":
        dv = DataValidation(type="date", operator="between", formula1="DATE(1900,1,1)",
                            formula2="DATE(9999,12,31)", allow_blank=True)
        dv.prompt = "请填写日期，如 2023-05-01"
        dv.error = f"“{label}”应为日期，如 2023-05-01。"
    elif f.type in ("number", "integer"):
        lo = f.min if f.min is not None else -1e12
        hi = f.max if f.max is not None else 1e12
        dv = DataValidation(type="whole" if f.type == "integer" else "decimal",
                            operator="between", formula1=str(lo), formula2=str(hi),
                            allow_blank=True)
        rng = f"{lo:g} 到 {hi:g} 之间的" if f.min is not None else ""
        dv.prompt = f"请填写{rng}{'整数' if f.type == 'integer' else '数字'}" + \
            (f"（单位：{f.unit}）" if f.unit else "") + "，不要带单位或文字"
        dv.error = f"“{label}”应为{rng}{'整数' if f.type == 'integer' else '数字'}。"
    elif f.type in TEXT_LENGTHS:  # a warning: the user may keep it; the checks flag it
        length, prompt, error = TEXT_LENGTHS[f.type]
        dv = DataValidation(type="textLength", operator="equal", formula1=str(length),
                            allow_blank=True)
        dv.errorStyle = "warning"
        dv.prompt, dv.error = prompt, error
    elif f.type == "email":
        dv = DataValidation(type="custom", formula1=f'ISNUMBER(FIND("@",{cells.split(":")[0]}))',
                            allow_blank=True)
        dv.errorStyle = "warning"
        dv.prompt = "请填写邮箱，如 name@example.com"
        dv.error = "邮箱格式应为 name@example.com，确定要这样填写吗？"
    if dv is None:
        return None
    dv.promptTitle = label[:32]
    dv.errorTitle = "填写有误"
    dv.showInputMessage = True
    dv.showErrorMessage = True
    dv.add(cells)
    ws.add_data_validation(dv)
    return dv


def style_input(cell, f=None):
    cell.fill = INPUT_FILL
    cell.border = BOX
    cell.protection = Protection(locked=False)
    cell.alignment = WRAP
    cell.font = font()
    if f is not None:
        if f.type == "date":
            cell.number_format = DATE_FORMAT
        elif f.type in ("text", "mobile", "email", "uscc"):
            cell.number_format = "@"


def title_row(ws, text, size, last_col, height, alignment=CENTER):
    """Row 1: the sheet's title, bold, merged over columns A to ``last_col``.

    Args:
        ws: the worksheet.
        text: the title.
        size: the font size (from HEADING_SIZE up: 微软雅黑).
        last_col: the last column letter of the merged title.
        height: the row height.
        alignment: the title's alignment (None: leave it).
    """
    ws["A1"] = text
    ws["A1"].font = font(size, True)
    if alignment is not None:
        ws["A1"].alignment = alignment
    ws.merge_cells(f"A1:{last_col}1")
    ws.row_dimensions[1].height = height


def header_row(ws, row, heads, widths, size=10.5, fill=HEAD_FILL, alignment=CENTER):
    """A table's heading row: bold, boxed heads from column A, and the columns' widths.

    Args:
        ws: the worksheet.
        row: the row number.
        heads: the column heads, from column A.
        widths: the column widths, one per head.
        size: the font size.
        fill: the heads' fill (None: leave it).
        alignment: the heads' alignment (None: leave it).
    """
    for j, (h, w) in enumerate(zip(heads, widths), 1):
        cl = ws.cell(row, j, h)
        cl.font = font(size, True)
        if fill is not None:
            cl.fill = fill
        cl.border = BOX
        if alignment is not None:
            cl.alignment = alignment
        ws.column_dimensions[cl.column_letter].width = w


def style_label(cell, bold=False):
    cell.font = font(bold=bold)
    cell.border = BOX
    cell.alignment = WRAP
    cell.fill = HEAD_FILL if bold else PatternFill()


def flag_rule_formulas(plan: Plan, key, resolve):
    """(error condition, warning condition) for the input cell of ``key``, or None."""
    insts = plan.field_flags.get(key, [])
    if not insts:
        return None
    errs, warns = [], []
    for i in insts:
        m = resolve(i.msg)
        if i.const_severity:
            (errs if i.severity == "error" else warns).append(f'{m}<>""')
        else:
            s = resolve(i.severity)
            errs.append(f'{s}="error"')
            warns.append(f'{s}="warning"')
    e = "OR(" + ",".join(errs) + ")" if errs else None
    w = "OR(" + ",".join(warns) + ")" if warns else None
    return e, w


def add_flag_formats(ws, cells, plan, key, resolve):
    """Red fill for an error on the field, amber for a warning (conditional formats)."""
    rules = flag_rule_formulas(plan, key, resolve)
    if not rules:
        return
    e, w = rules
    if e:
        ws.conditional_formatting.add(cells, FormulaRule(formula=[e], fill=RED_FILL, stopIfTrue=True))
    if w:
        ws.conditional_formatting.add(cells, FormulaRule(formula=[w], fill=AMBER_FILL, stopIfTrue=True))


def field_messages(plan, key, resolve):
    """Formula joining the messages of the flags on one field (the 提示 column)."""
    insts = plan.field_flags.get(key, [])
    if not insts:
        return None
    parts = [f'IF({resolve(i.msg)}="","",CHAR(10)&{resolve(i.msg)})' for i in insts]
    return "=MID(" + "&".join(parts) + ",2,32767)"


def calc_sheet(wb, plan, placed, inputs, hidden=True):
    """Lay the plan's cells not ``placed`` elsewhere into _calc (A: name, B: formula).

    Args:
        placed: plan cell name -> (worksheet, coordinate) already chosen by the form.
        inputs: input key -> absolute reference of the input cell.
    Returns:
        resolve(name) -> absolute reference of a plan cell or input.
    """
    ws = wb.create_sheet(CALC_SHEET)
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 40
    where = {}
    row = 1
    ws.cell(row, 1, "name")
    ws.cell(row, 2, "value")
    for name in plan.cells:
        if name in placed:
            pws, coord = placed[name]
            where[name] = ref(pws, coord)
            continue
        row += 1
        ws.cell(row, 1, name)
        where[name] = ref(ws, f"B{row}")

    def resolve(name):
        if name.startswith("in:"):
            return inputs[name[3:]]
        return where[name]

    for name, body in plan.cells.items():
        target = where[name]
        sheet_part, cell_part = target.rsplit("!", 1)
        tws = placed[name][0] if name in placed else ws
        tws[cell_part.replace("$", "")] = render(body, resolve)
    if hidden:
        ws.sheet_state = "hidden"
    ws.protection.sheet = True
    return ws, resolve


def localize_rule_references(wb):
    """Conditional formats and data validations refer to other sheets through defined names.

    ECMA-376 forbids 3-D references in these formulas (Excel 2010+ keeps such rules only in
    its x14 extension and may "repair" the file, dropping every highlight), but allows
    defined names (issue 11). A reference to the rule's own sheet loses its sheet name; one
    to another sheet becomes the defined name of that cell (an existing one, or a new
    ``ref_<sheet>_<cell>``). Run on a finished workbook; idempotent.
    """
    by_target = {}
    for name, dn in wb.defined_names.items():
        if dn.attr_text:
            by_target.setdefault(dn.attr_text.replace("$", ""), name)

    def name_for(sheet, cells):
        target = f"{quote_sheetname(sheet)}!{cells}"
        key = target.replace("$", "")
        if key in by_target:
            return by_target[key]
        base = "ref_" + re.sub(r"\W", "", sheet).strip("_") + "_" + cells.replace("$", "").replace(":", "_")
        name, i = base, 1
        while name in wb.defined_names:
            i += 1
            name = f"{base}_{i}"
        wb.defined_names[name] = DefinedName(name, attr_text=target)
        by_target[key] = name
        return name

    def rewrite(formula, own):
        try:
            toks = tokenize(formula, spaces=True)
        except Unsupported:
            return formula
        out = []
        for kind, text in toks:
            if kind == "sref":
                sheet, cells = text.rsplit("!", 1)
                sheet = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet
                if sheet == own:
                    text = cells
                elif cells.count("$") == 2 * (cells.count(":") + 1):  # absolute
                    text = name_for(sheet, cells)
            out.append(text)
        return "".join(out)

    for ws in wb.worksheets:
        for cf in ws.conditional_formatting:
            for rule in cf.rules:
                if rule.formula:
                    rule.formula = [rewrite(f, ws.title) for f in rule.formula]
        for dv in ws.data_validations.dataValidation:
            for attr in ("formula1", "formula2"):
                f = getattr(dv, attr)
                if f and not f.startswith('"'):
                    setattr(dv, attr, rewrite(f, ws.title))


def protect(ws):
    """Sheet protection without a password: inputs (unlocked) stay editable."""
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.selectLockedCells = False
    ws.protection.selectUnlockedCells = False


def empty_input_format(ws, cells, top_left):
    """Yellow while empty, white once filled: a filled form prints white in Excel and WPS as
    it does through `saq pdf` (issue 22). ``top_left`` is the range's first cell."""
    ws.conditional_formatting.add(cells, FormulaRule(formula=[f'LEN({top_left})=0'],
                                                     fill=INPUT_FILL))


def comment(cell, text, author="saq"):
    c = Comment(text, author)
    c.width, c.height = 320, 120
    cell.comment = c


def fixed_properties(wb, title):
    """Document properties: the association as author, the title, the real time of writing
    (issue 22; docProps/core.xml is left out when committed templates are compared)."""
    set_properties(wb.properties, title)
