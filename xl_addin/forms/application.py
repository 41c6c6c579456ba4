"""The 申请书 template (one per applying organisation, RULES.md F1–F4).

Sheets: 申请表 (cover, 附件2-3 with the four category blocks, 资格自查), 自评表 (附件2-5,
one input cell per rubric part beside the official wording), 被访者名单 (table
``respondent_list``), 结果 (scores, levels, flags, banner) and the hidden _calc, _lists and
_meta. Every formula comes from :func:`xl_addin.sheet.formulas.application_plan`.

:func:`build_application` only orders the steps; each sheet (and each block of a sheet) is
laid out by its own small function below. The order of the steps is part of the output
(defined names, merged ranges, validations and conditional formats are written in the order
they are added), so the committed templates stay byte-stable only if it is kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Protection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo

from xl_addin.forms import common as C
from xl_addin.forms.checklist import BANNER_NAME, add_checklist, banner_formula  # issue 13 (M)
from xl_addin.forms.print_sheets import add_print_sheets, flag_lines  # issue 13
from xl_addin.rules.campaign import Field
from xl_addin.rules.checks import part_label
from xl_addin.rules.codes.lists import respondent_formula  # E17's count, beside its rule
from xl_addin.rules.show import fmt_number
from xl_addin.sheet.formulas import application_plan
from xl_addin.sheet.paper import fit_rows, fit_title, height_for, lines_needed, page_setup

TEMPLATE_ID = "saq-application"
COVER_KEYS = ("recommender", "fill_date", "category", "level")
RESPONDENT_TABLE = "respondent_list"
RESPONDENT_COLUMNS = ("序号", "姓名", "联系方式")
COUNT_COL = "G"  # hidden: 1 when the row has both 姓名 and 联系方式 (E17)
RESULT_NAMES = ("se_base", "se_bonus", "se_total", "se_conclusion", "achievable_level",
                "proposed_level", "level_reason", "flags", "flag_text", "error_count",
                "warning_count", "status")
RESULT_LABELS = {"se_base": "基础分", "se_bonus": "加分项", "se_total": "评价得分（基础分 + 加分项）",
                 "se_conclusion": "评价结论（自评）", "achievable_level": "可评等级",
                 "proposed_level": "建议等级", "level_reason": "等级说明",
                 "error_count": "错误项数", "warning_count": "提醒项数", "flags": "问题代码",
                 "flag_text": "问题说明", "status": "表格检查"}
RUBRIC_HEADS = ("部分", "序号", "项目", "评分标准（附件2-5 原文）", "分项", "允许值", "自评分",
                "项目得分", "提示")
RUBRIC_WIDTHS = (10, 6, 18, 44, 18, 12, 9, 9, 30)
BANNER = "A3"  # the banner on 申请表 (the same formula stands in 结果!A2)


@dataclass
class _Build:
    """What the sheet builders share while one workbook is laid out."""
    wb: object
    c: object  # the Campaign
    plan: object  # sheet.formulas.Plan
    lists: dict  # choice list name -> (range, values), from C.lists_sheet
    inputs: dict = field(default_factory=dict)  # input key -> absolute reference
    input_cells: dict = field(default_factory=dict)  # input key -> (worksheet, coordinate)
    placed: dict = field(default_factory=dict)  # plan cell -> (worksheet, coordinate)

    def add_input(self, key, ws, coord):
        """Name an input cell and remember where it is (formulas, hints, formats)."""
        C.add_name(self.wb, key, ws, coord)
        self.inputs[key] = C.ref(ws, coord)
        self.input_cells[key] = (ws, coord)


@dataclass
class _Form:
    """What the 申请表 sheet tells the later steps."""
    cat_ref: str | None = None  # the 申报类别 cell
    greyed: list = field(default_factory=list)  # (cells, only-categories)
    last_row: int = 0


def _groups(c):
    """Blocks of the 申请表 sheet: (title, fields, only-categories or None)."""
    fields = [f for f in c.fields["application"] if f.block != "derived"]
    by_key = {f.key: f for f in fields}
    out = [("封面", [by_key[k] for k in COVER_KEYS], None)]
    main = [f for f in fields if f.block == "main" and not f.only and f.key not in COVER_KEYS]
    out.append(("附件2-3 申请表 · 基本信息", [f for f in main if not f.key.startswith("contact_")], None))
    out.append(("联系人", [f for f in main if f.key.startswith("contact_")], None))
    seen = []
    for f in fields:
        if f.block == "main" and f.only and f.only not in seen:
            seen.append(f.only)
    for only in seen:
        names = "、".join(only)
        out.append((f"{names}填写（其他类别不填）",
                    [f for f in fields if f.block == "main" and f.only == only], only))
    out.append(("资格自查（申请条件，附件1）", [f for f in fields if f.block == "eligibility"], None))
    return out


def _hint(f, c):
    bits = []
    if f.type == "date":
        bits.append("日期")
    elif f.type in ("number", "integer"):
        bits.append("整数" if f.type == "integer" else "数字")
        if f.unit:
            bits.append(f"单位{f.unit}")
    elif f.type in ("choice", "category", "level", "report_use"):
        bits.append("下拉选择")
    if f.only:
        bits.append("仅" + "、".join(f.only))
    return "；".join(bits)


def build_application(campaign):
    """The application workbook (openpyxl Workbook), formulas generated from the campaign.

    Args:
        campaign: the Campaign the form is generated from.
    Returns:
        openpyxl.Workbook
    """
    c = campaign
    plan = application_plan(c)
    wb = C.new_workbook()
    ws = wb.active
    ws.title = "申请表"
    wr = wb.create_sheet("自评表")
    wl = wb.create_sheet("被访者名单")
    wo = wb.create_sheet("结果")
    b = _Build(wb, c, plan, C.lists_sheet(wb, c))
    C.meta_sheet(wb, TEMPLATE_ID, c)
    C.fixed_properties(wb, f"{c.title} 申请书")

    form = _form_sheet(b, ws)
    summary_rows, rubric_last = _rubric_sheet(b, wr)
    respondent_last = _respondent_sheet(b, wl)
    result_last = _result_sheet(b, wo)
    resolve = _formulas(b, ws, wo)
    for key, rrow in summary_rows.items():
        wr.cell(rrow, 8).value = f"={resolve(key)}"
    _banner_formats(c, ws, wo)
    _field_hints(b, ws, resolve)
    _grey_blocks(ws, form)
    _grey_static_hints(ws, form.last_row)
    _pages({ws: form.last_row, wr: rubric_last, wl: respondent_last, wo: result_last})
    C.localize_rule_references(wb)  # no sheet names in CF/DV formulas (issue 11)
    return wb


def _pages(last_rows):
    """Protection and paper (sheet.paper, issue 22) of 申请表, 自评表, 被访者名单 and 结果:
    A4, one page wide, orientation by width, heading rows repeated, print areas.

    Args:
        last_rows: worksheet -> its last printed row, in that order.
    """
    ws, wr, wl, wo = last_rows
    for sheet, last in last_rows.items():
        C.protect(sheet)
        fit_rows(sheet, 1, last, 9 if sheet is wr else 3)  # labels and notes never cut
    fit_title(wl, 2, 3)
    page_setup(ws, 3, last_rows[ws], (1, 1))
    page_setup(wr, 9, last_rows[wr], (1, 2))
    page_setup(wl, 3, last_rows[wl], (3, 3))
    page_setup(wo, 3, last_rows[wo])
    ws.freeze_panes = "A4"


# ---- 申请表 -------------------------------------------------------------------------------
def _form_sheet(b, ws):
    """The 申请表 sheet: title, notes, banner row, then one block per :func:`_groups` entry."""
    _form_title(ws, b.c)
    form = _Form()
    row = 4
    for title, flds, only in _groups(b.c):
        row = _block_head(ws, row + 1, title)
        for f in flds:
            _form_row(b, ws, row, f, only, form)
            row += 1
    form.last_row = row - 1
    return form


def _form_title(ws, c):
    """Rows 1–3: title, how to fill, and the (merged) banner row."""
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 36
    ws.column_dimensions["C"].width = 56
    C.title_row(ws, f"{c.title} 申请书", 16, "C", 30)
    ws["A2"] = ("黄色单元格为填写项；选择项请用下拉列表，日期如 2023-05-01，数字不带单位。"
                "填写有误时单元格变红（错误）或变黄（提醒），右侧“提示”列说明原因。")
    ws["A2"].alignment = C.WRAP
    ws["A2"].font = C.font(9.5, color="595959")
    ws.merge_cells("A2:C2")
    ws.row_dimensions[2].height = 30
    ws.merge_cells(f"{BANNER}:C{BANNER[1:]}")
    ws.row_dimensions[int(BANNER[1:])].height = 26


def _block_head(ws, row, title):
    """A block's heading row; returns the row below it."""
    ws.cell(row, 1, title)
    _band(ws, row, (1, 2, 3), 11, C.BLOCK_FILL)
    ws.cell(row, 3, "提示")
    return row + 1


def _band(ws, row, cols, size, fill=C.HEAD_FILL):
    """Cells ``cols`` of ``row`` as a heading band: filled, boxed, bold."""
    for j in cols:
        ws.cell(row, j).fill = fill
        ws.cell(row, j).border = C.BOX
        ws.cell(row, j).font = C.font(size, True)


def _form_row(b, ws, row, f, only, form):
    """One field: label (A), input (B, named ``f.key``), 提示 (C)."""
    C.style_label(ws.cell(row, 1, f.label))
    C.style_input(ws.cell(row, 2), f)
    coord = f"B{row}"
    b.add_input(f.key, ws, coord)
    hint = ws.cell(row, 3)
    hint.alignment = C.WRAP
    hint.border = C.BOX
    hint.font = C.font(9.5, color="9C0006")
    C.validation_for(ws, f, b.c, b.lists, coord)
    if f.key == "category":
        form.cat_ref = C.ref(ws, coord)
    if f.only or only:
        form.greyed.append((f"A{row}:B{row}", f.only or only))
    # rows whose field can be flagged get room for a two-line message
    tall = f.key in b.plan.field_flags or len(f.label) > 15
    ws.row_dimensions[row].height = 30 if tall else 20


# ---- 自评表 -------------------------------------------------------------------------------
def _rubric_sheet(b, wr):
    """The 自评表 sheet (附件2-5).

    Returns:
        (summary key -> row of its 项目得分 cell, last row)
    """
    rb = b.c.rubric
    C.header_row(wr, 2, RUBRIC_HEADS, RUBRIC_WIDTHS)
    C.title_row(wr, f"附件2-5 满意度测量项目自评表（{b.c.year}）", 14, "I", 26)
    r = 3
    for sec in rb.sections:
        sec_start = r
        for item in rb.items_of(sec.id):
            r = _rubric_item(b, wr, r, item)
        _section_total(b, wr, r, sec)
        _section_label(wr, sec, sec_start, r)
        r += 1
    _veto_row(b, wr, r)
    summary_rows = _summary_rows(wr, b.c, r + 1)
    wr.freeze_panes = "A3"
    return summary_rows, max(summary_rows.values())


def _rubric_item(b, wr, r, item):
    """One rubric item from row ``r``: a row per part (and penalty), the item's wording merged
    beside them. Returns the row below the item."""
    parts = list(item.parts) + ([item.penalty] if item.penalty else [])
    start = r
    for part in parts:
        _part_row(b, wr, r, item, part)
        r += 1
    end = r - 1
    wr.cell(start, 2, item.id)
    wr.cell(start, 3, f"{item.name}（{fmt_number(item.max)} 分）")
    wr.cell(start, 4, item.text)
    b.placed[f"item:{item.id}"] = (wr, f"H{start}")
    for j in (2, 3, 4, 8):
        cl = wr.cell(start, j)
        cl.border = C.BOX
        cl.alignment = C.WRAP_TOP if j == 4 else C.CENTER
        cl.font = C.font(9.5 if j == 4 else 10)
        if end > start:
            wr.merge_cells(start_row=start, start_column=j, end_row=end, end_column=j)
    # Row heights: the official wording needs ~ (chars * 2 / width) lines.
    lines = math.ceil(len(item.text) * 2.1 / RUBRIC_WIDTHS[3]) + 1
    per = max(18, lines * 14 / (end - start + 1))
    for rr in range(start, end + 1):
        wr.row_dimensions[rr].height = per
    return r


def _part_row(b, wr, r, item, part):
    """One rubric part: 分项, 允许值 and the 自评分 input (G, named ``part.key``)."""
    rb = b.c.rubric
    wr.cell(r, 5, part.label if (len(item.parts) > 1 or part.kind in ("penalty", "errors"))
            else "—")
    allowed = part.allowed_text(rb.step)
    if item.hint:  # A3: say plainly that the cell wants the number of errors
        allowed = item.hint
    if item.choices:
        allowed = "、".join(f"{k} {fmt_number(v)}" for k, v in item.choices.items())
    wr.cell(r, 6, allowed)
    cell = wr.cell(r, 7)
    C.style_input(cell)
    cell.alignment = C.CENTER
    coord = f"G{r}"
    b.add_input(part.key, wr, coord)
    _part_validation(wr, part, item, coord, rb.step, b.c, b.lists)
    for j in (5, 6, 9):
        wr.cell(r, j).border = C.BOX
        wr.cell(r, j).alignment = C.WRAP
        wr.cell(r, j).font = C.font(9.5)
    wr.cell(r, 9).font = C.font(9, color="9C0006")


def _section_total(b, wr, r, sec):
    """The section's 小计 row (its 项目得分 cell is the plan cell ``sec:<id>``)."""
    wr.cell(r, 5, f"{sec.name}小计（满分 {fmt_number(sec.weight)}）")
    wr.merge_cells(start_row=r, start_column=5, end_row=r, end_column=7)
    b.placed[f"sec:{sec.id}"] = (wr, f"H{r}")
    _band(wr, r, range(2, 10), 10)


def _section_label(wr, sec, start, end):
    """The section's name and weight, merged down column A over its rows."""
    wr.cell(start, 1, f"{sec.name}\n（{fmt_number(sec.weight)}）")
    # in its first row, not merged down: a section may go over a page break, and a merged
    # name would be drawn across it (issue 22); the rows below keep the box
    wr.cell(start, 1).alignment = Alignment(horizontal="center", vertical="top", wrap_text=True)
    wr.cell(start, 1).font = C.font(10, True)
    thin = C.THIN
    for r in range(start, end + 1):
        wr.cell(r, 1).border = Border(left=thin, right=thin, top=thin if r == start else None,
                                      bottom=thin if r == end else None)


def _veto_row(b, wr, r):
    """The 否决项 row: a yes/no input (G, named ``rubric.veto_key``)."""
    rb = b.c.rubric
    wr.cell(r, 1, "否决项")
    wr.cell(r, 2, rb.veto_key.removeprefix("se_"))
    wr.cell(r, 3, rb.veto_label)
    wr.merge_cells(start_row=r, start_column=3, end_row=r, end_column=6)
    C.style_input(wr.cell(r, 7))
    b.add_input(rb.veto_key, wr, f"G{r}")
    C.validation_for(wr, _yesno_field(b.c, rb.veto_key, rb.veto_label), b.c, b.lists, f"G{r}")
    for j in range(1, 10):
        wr.cell(r, j).border = C.BOX
        wr.cell(r, j).font = C.font(10, True)
    wr.row_dimensions[r].height = 24


def _summary_rows(wr, c, r):
    """基础分, 加分项, 评价得分, 评价结论 from row ``r`` (formulas come later).

    Returns:
        summary key -> row
    """
    out = {}
    base, bonus = fmt_number(c.rubric.base_total), fmt_number(c.rubric.bonus_total)
    for key, label in (("se_base", f"基础分（满分 {base}）"), ("se_bonus", f"加分项（满分 {bonus}）"),
                       ("se_total", "评价得分"), ("se_conclusion", "评价结论")):
        wr.cell(r, 5, label)
        wr.merge_cells(start_row=r, start_column=5, end_row=r, end_column=7)
        out[key] = r
        _band(wr, r, range(5, 9), 11)
        r += 1
    return out


# ---- 被访者名单 ----------------------------------------------------------------------------
def _respondent_sheet(b, wl):
    """The 被访者名单 sheet: table ``respondent_list`` and the counted 已列人数 (E17/F4).

    Returns:
        the last row of the table (for the print area)
    """
    need = b.c.flags["E17"]["threshold"]
    n_rows = need + 50
    # centred and wrapped: the title is wider than the three columns
    C.title_row(wl, f"被访者名单（不超过 {need} 人须全部列出，超过 {need} 人至少列出 {need} 人）",
                13, "C", 40)
    wl["A2"] = "姓名和联系方式都填写的才计入人数（E17）；联系方式填写手机或电话。"
    wl["A2"].font = C.font(9.5, color="595959")
    C.header_row(wl, 3, RESPONDENT_COLUMNS, (8, 20, 28), fill=None, alignment=None)
    for rr in range(4, 4 + n_rows):
        for j in (1, 2, 3):
            cl = wl.cell(rr, j)
            cl.protection = Protection(locked=False)
            cl.number_format = "General" if j == 1 else "@"  # names, phones stay text (issue 11)
            cl.border = C.BOX  # printed with borders (issue 13)
        wl.cell(rr, 1, f'=IF(LEN(TRIM(B{rr}))>0,{rr - 3},"")')  # 序号 follows the names
    tab = Table(displayName=RESPONDENT_TABLE, ref=f"A3:C{3 + n_rows}")
    tab.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    wl.add_table(tab)
    wl.freeze_panes = "A4"
    _respondent_count(b, wl, 3 + n_rows + 1000)
    return 3 + n_rows


def _respondent_count(b, wl, last):
    """已列人数 (E4, named ``respondents_listed``) over rows 4..``last``.

    E17/F4: a respondent counts only with both 姓名 and 联系方式 — the rule's own formula
    (rules.codes.lists.respondent_formula, beside its Python count), one hidden helper cell
    per row.
    """
    listed_coord = "E4"
    wl["E3"] = "已列人数"
    wl["E3"].font = C.font(10.5, True)
    wl.column_dimensions["E"].width = 12
    for rr in range(4, last + 1):
        wl[f"{COUNT_COL}{rr}"] = respondent_formula(f"$B{rr}", f"$C{rr}")
    wl.column_dimensions[COUNT_COL].hidden = True
    wl[listed_coord] = f"=SUM(${COUNT_COL}$4:${COUNT_COL}${last})"
    C.add_name(b.wb, "respondents_listed", wl, listed_coord)
    b.inputs["respondents_listed"] = C.ref(wl, listed_coord)


# ---- 结果 ---------------------------------------------------------------------------------
def _result_sheet(b, wo):
    """The 结果 sheet: banner (A2), section scores, the named results, 问题说明 lines and the
    decisions note.

    Returns:
        its last row (for the print area)
    """
    wo.column_dimensions["A"].width = 24
    wo.column_dimensions["B"].width = 14
    wo.column_dimensions["C"].width = 60  # A:C fit a portrait page (sheet.paper)
    C.title_row(wo, f"{b.c.title} 自评结果（随填写自动计算）", 15, "C", 28, alignment=None)
    wo.merge_cells("A2:C2")
    wo.row_dimensions[2].height = 30
    rr = _section_scores(b, wo, 4)
    rr = _result_rows(b, wo, rr + 1)
    rr = flag_lines(wo, rr, b.placed["flag_text"])  # issue 13: 问题说明 one message a row, never cut
    return _decisions_note(wo, b.c, rr + 1)


def _section_scores(b, wo, rr):
    """部分 / 满分 / 得分 from row ``rr``, one row per section; returns the row below."""
    for h, j in (("部分", 1), ("满分", 2), ("得分", 3)):
        cl = wo.cell(rr, j, h)
        cl.font = C.font(10.5, True)
        cl.fill = C.HEAD_FILL
        cl.border = C.BOX
    rr += 1
    for sec in b.c.rubric.sections:
        wo.cell(rr, 1, sec.name)
        wo.cell(rr, 2, sec.weight)
        for j in (1, 2, 3):
            wo.cell(rr, j).border = C.BOX
            wo.cell(rr, j).font = C.font()
            wo.cell(rr, j).alignment = Alignment(horizontal="left" if j == 1 else "center")
        placed_sec = b.placed[f"sec:{sec.id}"]
        wo.cell(rr, 3).value = f"={C.ref(placed_sec[0], placed_sec[1])}"
        rr += 1
    return rr


def _result_rows(b, wo, rr):
    """One row per RESULT_NAMES from row ``rr`` (B named, formula from the plan); returns
    the row below."""
    for key in RESULT_NAMES:
        wo.cell(rr, 1, RESULT_LABELS[key])
        wo.cell(rr, 1).font = C.font(10.5, True)
        wo.cell(rr, 1).alignment = Alignment(vertical="top")
        wo.cell(rr, 1).fill = C.HEAD_FILL
        wo.merge_cells(start_row=rr, start_column=2, end_row=rr, end_column=3)
        b.placed[key] = (wo, f"B{rr}")
        C.add_name(b.wb, key, wo, f"B{rr}")
        for j in (1, 2, 3):
            wo.cell(rr, j).border = C.BOX
        wo.cell(rr, 2).alignment = Alignment(wrap_text=True, vertical="top", horizontal="left")
        wo.cell(rr, 2).font = C.font(10.5, key in ("se_total", "se_conclusion", "proposed_level"))
        wo.row_dimensions[rr].height = {"flag_text": 180, "level_reason": 34}.get(key, 20)
        if key == "flags":  # the codes alone: the 问题说明 lines carry them after the words
            wo.row_dimensions[rr].hidden = True
        rr += 1
    return rr


def _decisions_note(wo, c, row):
    """决定说明: the campaign's decisions, merged over A:C at ``row``; returns ``row``."""
    text = "决定说明：" + "；".join(c.decision_labels.values())
    wo[f"A{row}"] = text
    wo[f"A{row}"].alignment = C.WRAP_TOP
    wo[f"A{row}"].font = C.font(9, color="595959")
    wo.merge_cells(start_row=row, start_column=1, end_row=row, end_column=3)
    wo.row_dimensions[row].height = height_for(lines_needed(text, 98, 9), 9)  # never cut
    return row


# ---- formulas, banner, hints ----------------------------------------------------------------
def _formulas(b, ws, wo):
    """Lay the plan into the sheets (_calc for what is not placed), add 材料清单, the banner
    and the 附件2 print sheets.

    Returns:
        resolve(name) -> absolute reference (forms.common.calc_sheet)
    """
    _wc, resolve = C.calc_sheet(b.wb, b.plan, b.placed, b.inputs)
    missing_ref = add_checklist(b.wb, b.c, resolve, b.lists)
    banner = "=" + banner_formula(b.c, resolve("error_count"), resolve("warning_count"), missing_ref)
    ws[BANNER] = wo["A2"] = banner
    C.add_name(b.wb, BANNER_NAME, wo, "A2")
    add_print_sheets(b.wb, b.c, resolve, b.inputs)  # issue 13: 附件2 print layouts
    return resolve


def _banner_formats(c, ws, wo):
    """Green / red banner on 申请表 and 结果, in the banner font."""
    _status_formats(c, ws, BANNER, f"${BANNER[0]}${BANNER[1:]}")
    _status_formats(c, wo, "A2", "$A$2")
    for cl in (ws[BANNER], wo["A2"]):
        cl.font = C.font(14, True)
        cl.alignment = C.CENTER
        cl.border = C.BOX


def _field_hints(b, ws, resolve):
    """Per input: the 提示 cell (flag messages, or a static hint on 申请表) and red/amber
    conditional formats."""
    fields = {f.key: f for f in b.c.fields["application"]}
    for key, (sheet, coord) in b.input_cells.items():
        hint_col = "C" if sheet is ws else "I"
        rownum = int("".join(ch for ch in coord if ch.isdigit()))
        msg = C.field_messages(b.plan, key, resolve)
        if msg:
            sheet[f"{hint_col}{rownum}"] = msg
        elif sheet is ws:
            sheet[f"{hint_col}{rownum}"] = _hint(fields[key], b.c) if key in fields else None
        C.add_flag_formats(sheet, coord, b.plan, key, resolve)


def _grey_blocks(ws, form):
    """Rows of another category's block turn grey once 申报类别 is chosen."""
    for cells, only in form.greyed:
        cond = "OR(" + ",".join(f'{form.cat_ref}="{x}"' for x in only) + ")"
        ws.conditional_formatting.add(cells, FormulaRule(
            formula=[f'AND({form.cat_ref}<>"",NOT({cond}))'], fill=C.GREY_FILL,
            font=C.font(color="A6A6A6")))


def _grey_static_hints(ws, last_row):
    """Static hints (fields without flags) on 申请表 stay, in grey."""
    for rrow in range(5, last_row + 1):
        if ws.cell(rrow, 3).value and not str(ws.cell(rrow, 3).value).startswith("="):
            ws.cell(rrow, 3).font = C.font(9, color="7F7F7F")


def _yesno_field(c, key, label):
    return Field(key, label, "choice", "yesno")


def _part_validation(ws, part, item, coord, step, c, lists):
    """Validation for a rubric cell: its allowed values (S0/S1)."""
    if part.kind == "penalty":
        C.validation_for(ws, _yesno_field(c, part.key, part.label), c,
                         lists, coord)
        return
    if part.kind == "score":
        values = sorted(set(part.allowed) | set(item.choices.values()))
        dv = DataValidation(type="list", formula1='"' + ",".join(fmt_number(v) for v in values) + '"',
                            allow_blank=True)
    elif part.kind == "range":
        dv = DataValidation(type="custom", allow_blank=True,
                            formula1=f"AND(ISNUMBER({coord}),{coord}>=0,{coord}<={fmt_number(part.max)},"
                                     f"MOD({coord},{fmt_number(step)})=0)")
    else:
        dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0",
                            allow_blank=True)
    allowed = part.allowed_text(step)
    dv.promptTitle = part_label(c, part)[:32]
    dv.prompt = item.hint or f"允许值：{allowed}"  # A3: the number of errors, not a score
    dv.errorTitle = "分值不在允许值之内"
    dv.error = f"“{part_label(c, part)}”只能填写：{allowed}（规则 S1）"
    dv.showInputMessage = dv.showErrorMessage = True
    dv.add(coord)
    ws.add_data_validation(dv)


def _status_formats(c, ws, coord, banner_ref):
    # green only when the banner says 可以提交 (表格 and 材料 both clean, issue 13)
    ok = c.dossier["banner_ready"]
    ws.conditional_formatting.add(coord, FormulaRule(
        formula=[f'ISNUMBER(FIND("{ok}",{banner_ref}))'], fill=C.GREEN_FILL, stopIfTrue=True))
    ws.conditional_formatting.add(coord, FormulaRule(
        formula=[f'NOT(ISNUMBER(FIND("{ok}",{banner_ref})))'], fill=C.RED_FILL))
