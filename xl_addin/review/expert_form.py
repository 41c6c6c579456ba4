"""One expert workbook (专家评分表): the `expert_scores` table with validated input cells,
live per-row formulas (issue 3's formula builder, see expert_plan; laid out in hidden
columns right of the table), a progress counter 已评 n / m, a rubric guide sheet and
the hidden `_meta` sheet (template_id ``saq-expert``).
"""

from __future__ import annotations

import hashlib
from copy import copy

from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils import column_index_from_string as idx
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.pagebreak import Break, ColBreak

from xl_addin import __version__
from xl_addin.review.expert_plan import LISTS, expert_plan, score_list
from xl_addin.review.expert_table import TABLE, WORDS, columns
from xl_addin.review.sheets import (
    COMPUTED_FILL,
    FONT,
    INPUT_FILL,
    add_table,
    new_workbook,
    put,
    save_atomic,
    set_widths,
    style_header,
    title_cell,
    write_meta,
)
from xl_addin.rules.show import fmt_number
from xl_addin.sheet.formulas import render
from xl_addin.sheet.paper import fit_rows, fit_title, print_table

TEMPLATE_ID = "saq-expert"
SHEET = "专家评分"
GUIDE = "评分说明"
HEADER_ROW = 6
INFO_KEYS = ("app_id", "org_name", "project_name", "category", "level", "satisfaction",
             "source_file")
VISIBLE_PLAN = ("missing", "invalid", "status")  # plan outputs written in their own column
LISTS_SHEET = "_lists"  # hidden: the score spellings an expert may type as text (issue 20)


def assignment_id(expert_name, app_ids):
    """A short fingerprint of what this expert was given (checked back by collect)."""
    h = hashlib.sha256(("|".join([expert_name] + list(app_ids))).encode("utf-8"))
    return h.hexdigest()[:12]


def _allowed_hint(campaign, key):
    for p in campaign.rubric.parts:
        if p.key == key:
            if p.kind == "score":
                return "/".join(fmt_number(v) for v in p.allowed)
            if p.kind == "range":
                return f"0–{fmt_number(p.max)}"
            if p.kind == "errors":
                return "错误数"
            return "是/否"
    return ""


def write_expert_workbook(path, campaign, expert, apps, batch=0):
    """Write the scoring workbook of one expert.

    Args:
        path: target .xlsx.
        campaign: the Campaign.
        expert: assign.Expert.
        apps: the assign.Application objects given to this expert, in order.
        batch: 0 for the first workbook; 1, 2 … for applications added later
            (`saq review add`), so that collect reads every batch of an expert.
    Returns:
        Path
    """
    cols = columns(campaign)
    letter = {c.key: get_column_letter(i) for i, c in enumerate(cols, start=1)}
    first, last = HEADER_ROW + 1, HEADER_ROW + max(len(apps), 1)
    wb = new_workbook()
    ws = wb.active
    ws.title = SHEET
    _write_heading(wb, ws, campaign, expert, batch, letter["status"], first, last, len(apps))
    _write_bands(ws, campaign, cols)
    _write_header(ws, cols)
    lists = _write_lists(wb, campaign)
    _write_rows(ws, campaign, cols, letter, apps, first, last, lists)
    add_table(ws, TABLE, HEADER_ROW, 1, last, len(cols))
    _validations(ws, campaign, cols, letter, first, last)
    _status_colours(ws, letter["status"], first, last)
    _write_page(ws, campaign, cols, letter, first, last)
    _guide(wb.create_sheet(GUIDE), campaign)
    wb.properties.title = f"{campaign.title} 专家评分表（{expert.name}）"
    write_meta(wb, {"template_id": TEMPLATE_ID, "template_version": campaign.template_version,
                    "campaign_year": campaign.year, "generator_version": __version__,
                    "expert_name": expert.name, "expert_unit": expert.unit,
                    "assignment_id": assignment_id(expert.name, [a.id for a in apps]),
                    "applications": len(apps), "batch": batch})
    return save_atomic(wb, path)


def _write_heading(wb, ws, campaign, expert, batch, status_col, first, last, n):
    """Rows 1–3: title, the expert, the progress counter 已评 n / m (named
    ``review_progress``) and how to fill the sheet."""
    title_cell(ws, "A1", f"{campaign.title} 专家评分表")
    put(ws, 2, 1, "评审专家").font = Font(bold=True, name=FONT)
    put(ws, 2, 2, f"{expert.name}" + (f"（{expert.unit}）" if expert.unit else "")
        + (f" 增派第 {batch} 批" if batch else ""))
    put(ws, 2, 3, "已评").font = Font(bold=True, name=FONT)
    st = f"${status_col}${first}:${status_col}${last}"
    prog = ws.cell(2, 4, f'=COUNTIF({st},"{WORDS["complete"]}")&" / "&'
                         f'({n}-COUNTIF({st},"{WORDS["recused"]}"))')
    prog.font = Font(bold=True, size=12, color="C00000", name=FONT)
    wb.defined_names["review_progress"] = DefinedName("review_progress",
                                                      attr_text=f"'{SHEET}'!$D$2")
    c4 = campaign.calendar.get("C4")
    period = f"评审期 {c4.start:%Y-%m-%d} 至 {c4.end:%Y-%m-%d}。" if c4 and c4.start else ""
    put(ws, 3, 1, "每行一份申请。分项从下拉列表选择（见第 5 行允许值与“评分说明”工作表）；"
                  "发现须回避时在“回避”列选“是”；专家总分、评价结论、可评等级自动计算。" + period)


def _write_bands(ws, campaign, cols):
    """Row 4: the section bands over the part columns; row 5: the allowed values."""
    part_cols = {p.key: i for i, c in enumerate(cols, start=1) for p in campaign.rubric.parts
                 if c.key == p.key}
    for sec in campaign.rubric.sections:
        idx = [part_cols[p.key] for it in campaign.rubric.items_of(sec.id)
               for p in it.parts + ((it.penalty,) if it.penalty else ())]
        a, b = min(idx), max(idx)
        cell = put(ws, 4, a, f"{sec.name}（{fmt_number(sec.weight)}分）" if b > a else sec.name)
        if b > a:
            ws.merge_cells(start_row=4, start_column=a, end_row=4, end_column=b)
        cell.alignment = Alignment(horizontal="center", shrink_to_fit=b == a)
        cell.font = Font(bold=True, name=FONT)
        cell.fill = PatternFill("solid", fgColor="FCE4D6" if sec.bonus else "E2EFDA")
    put(ws, 5, 1, "允许值").font = Font(italic=True, name=FONT)
    for i, c in enumerate(cols, start=1):
        hint = _allowed_hint(campaign, c.key) if c.role == "input" else ""
        if c.key in ("recused", campaign.rubric.veto_key):
            hint = "是/否"
        elif c.key == "report_use":
            hint = "/".join(campaign.choices["report_use"])
        elif c.key == "risk":
            hint = "/".join(campaign.choices["risk"])
        if hint:
            put(ws, 5, i, hint).alignment = Alignment(horizontal="center", shrink_to_fit=True)


def _write_header(ws, cols):
    """Row 6: the table's header."""
    for i, c in enumerate(cols, start=1):
        put(ws, HEADER_ROW, i, c.label)
    style_header(ws, HEADER_ROW, len(cols), height=96)


def _write_lists(wb, campaign):
    """The hidden sheet of the plan's lists (the score spellings an expert may type as text,
    issue 20 §5). Returns list name -> absolute range."""
    wl = wb.create_sheet(LISTS_SHEET)
    rows = score_list(campaign)
    for r, row in enumerate(rows, start=1):
        for j, v in enumerate(row, start=1):
            wl.cell(r, j, v)
    wl.sheet_state = "hidden"
    return {name: f"'{LISTS_SHEET}'!${get_column_letter(j + 1)}$1:${get_column_letter(j + 1)}${len(rows)}"
            for name, j in LISTS.items()}


def _write_rows(ws, campaign, cols, letter, apps, first, last, lists):
    """The plan's formulas laid out per row (visible outputs in their columns, the helpers
    in hidden columns right of the table), the styles, and each application's info cells."""
    keys = [c.key for c in cols]
    plan = _plan(campaign, tuple(keys))
    # Plan cells the row shows go to their visible column; the rest to hidden columns
    # right of the table, one blank column apart.
    shown = {plan.outputs[k]: letter[k] for k in VISIBLE_PLAN}
    hidden = [name for name in plan.cells if name not in shown]
    calc = {name: get_column_letter(len(cols) + 2 + i) for i, name in enumerate(hidden)}
    for name, col in calc.items():
        ws[f"{col}{HEADER_ROW}"] = name
        ws.column_dimensions[col].hidden = True
    calc.update(shown)
    in_col = {k: letter[k] for k in keys}
    unlocked = Protection(locked=False)
    fill_out = PatternFill("solid", fgColor=COMPUTED_FILL)
    # shared: styling is slow; from the top, as the wrapped names beside them (issue 22)
    font, centred = Font(name=FONT), Alignment(horizontal="center", vertical="top")
    wrap_top = Alignment(wrap_text=True, vertical="top")
    first_input, last_input = letter[campaign.rubric.parts[0].key], letter["risk"]
    # The row's formulas differ only in their row number: render once with a marker.
    mark = "\x00"

    def resolve(n):
        if n.startswith("in:"):
            return f"{in_col[n[3:]]}{mark}"
        if n.startswith("list:"):
            return lists[n[5:]]
        return f"{calc[n]}{mark}"
    templates = {name: render(body, resolve) for name, body in plan.cells.items()}
    out = {k: f"{calc[v]}{mark}" for k, v in plan.outputs.items()}
    total = f"{letter['total']}{mark}"
    # Blank until the expert enters something in the row (parts … 风险).
    templates["_total"] = f'=IF(COUNTA({first_input}{mark}:{last_input}{mark})=0,"",{out["total"]})'
    templates["_conclusion"] = f'=IF({total}="","",{out["conclusion"]})'
    templates["_achievable"] = f'=IF({total}="","",{out["achievable"]})'
    places = dict(calc)
    places.update(_total=letter["total"], _conclusion=letter["conclusion"],
                  _achievable=letter["achievable"])
    # Input cells stay empty until the expert types: their look (unlocked, font, centred,
    # 评审意见 as text) is the column's style, the yellow a conditional format over the
    # table's input range; so a row writes only its info and formula cells. Styling and
    # writing ~100 cells a row took most of `review assign`'s time (issue 14 benchmark).
    for c in cols:
        if c.role != "input":
            continue
        dim = ws.column_dimensions[letter[c.key]]
        dim.font = font
        dim.protection = unlocked
        if c.key == "comment":
            dim.alignment = wrap_top
            dim.number_format = "@"  # "-数据不全", "+1" stay text
        else:
            dim.alignment = centred
    inputs = [letter[c.key] for c in cols if c.role == "input"]
    for a, b in _runs(inputs):
        ws.conditional_formatting.add(f"{a}{first}:{b}{last}", FormulaRule(
            formula=["TRUE"], fill=PatternFill("solid", fgColor=INPUT_FILL, bgColor=INPUT_FILL)))
    protos = {}
    for i, c in enumerate(cols, start=1):  # one styled cell per column, then copies
        if c.role == "input":
            continue
        cell = ws.cell(first, i)
        cell.font = font
        if c.role == "computed":
            cell.fill = fill_out
            cell.alignment = centred
        protos[i] = copy(cell._style)  # before put() may add quotePrefix
    info_col = {k: keys.index(k) + 1 for k in INFO_KEYS}
    place_col = {name: column_index_from_string(col) for name, col in places.items()}
    for r, app in zip(range(first, last + 1), apps):
        if r != first:
            for i, style in protos.items():
                ws.cell(r, i)._style = copy(style)
        info = {"app_id": app.id, "org_name": app.org_name,
                "project_name": app.project_name or None, "category": app.category,
                "level": campaign.level(app.level).applied if app.level else None,
                "satisfaction": app.satisfaction, "source_file": app.source_file or None}
        for key, v in info.items():
            put(ws, r, info_col[key], v)
        row = str(r)
        for name, f in templates.items():
            ws.cell(r, place_col[name], f.replace(mark, row))


def _write_page(ws, campaign, cols, letter, first, last):
    """Column widths, frozen panes, sheet protection and the A3 print setup."""
    keys = [c.key for c in cols]
    set_widths(ws, [c.width for c in cols])
    for sec in campaign.rubric.sections:  # a one-column section needs room for its name
        keys_of = [p.key for it in campaign.rubric.items_of(sec.id) for p in it.parts]
        if len(keys_of) == 1:
            ws.column_dimensions[letter[keys_of[0]]].width = 9
    # id, name, project, category, level, satisfaction, 回避 stay visible
    ws.freeze_panes = f"{get_column_letter(keys.index('recused') + 2)}{first}"
    ws.protection.sheet = True  # no password: guards the formulas against slips only
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    # ~80 columns cannot fit one readable page: A4 pages across, the application's number
    # and name and the header rows repeated on each; the hidden plan columns are not printed (the
    # one sheet not printed one page wide, issue 22: docs/printing.md).
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.scale = 60
    ws.print_title_rows = f"4:{HEADER_ROW}"
    ws.print_title_cols = "A:B"  # 申请编号, 申请组织名称 on every page across
    ws.print_area = f"A1:{get_column_letter(len(cols))}{last}"
    # sheet.paper (issue 22): the title lines as wide as the repeated columns, names and
    # projects wrapped in rows as tall as they need
    for r in (1, 3):  # within the columns repeated on every page across
        fit_title(ws, r, 2)
    fit_rows(ws, HEADER_ROW, last, len(cols))  # the part labels and the names, whole
    part_cols = {p.key: i for i, c in enumerate(cols, start=1) for p in campaign.rubric.parts
                 if c.key == p.key}
    _column_breaks(ws, campaign, cols, part_cols, 2)


_PLANS = {}
UNIT_ON_PAPER = 7.0  # points per column unit at 100 % (LibreOffice's, the widest)


def _column_breaks(ws, campaign, cols, part_cols, n_title):
    """Pages across end between the rubric's sections, never inside one: a section's band
    (row 4) is merged over its parts and would be cut in two (sheet.paper, issue 22)."""
    scale = (ws.page_setup.scale or 100) / 100
    page = (PAGE_WIDTH - 72) / (UNIT_ON_PAPER * scale) * 0.97
    width = [ws.column_dimensions[get_column_letter(i)].width or 8.43
             for i in range(1, len(cols) + 1)]
    room = page - sum(width[:n_title])  # the repeated columns stand on every page
    starts = set()
    for sec in campaign.rubric.sections:
        idx = [part_cols[p.key] for it in campaign.rubric.items_of(sec.id)
               for p in it.parts + ((it.penalty,) if it.penalty else ())]
        starts.add(min(idx))
    ws.col_breaks = ColBreak()
    last_part = max(part_cols.values())
    used, j = 0.0, n_title + 1
    while j <= len(cols):
        end = j  # a block: a section's part columns, or one column outside them
        if j in starts:
            nxt = sorted(i for i in starts if i > j)
            end = (nxt[0] - 1) if nxt else last_part
        block = sum(width[j - 1:end])
        if used and used + block > room:
            ws.col_breaks.append(Break(id=j - 1))
            used = 0.0
        used += block
        j = end + 1


PAGE_WIDTH = 841.9  # A4 landscape, points


def _plan(campaign, keys):
    """The row plan, built once per campaign and column order (every expert's is the same)."""
    key = (id(campaign), keys, expert_plan)
    if key not in _PLANS:
        _PLANS.clear()  # one campaign at a time; no growth across campaigns
        _PLANS[key] = expert_plan(campaign, WORDS, order=list(keys))
    return _PLANS[key]


def _runs(letters):
    """Adjacent column letters as (first, last) runs."""
    runs = []
    for x in letters:
        if runs and idx(x) == idx(runs[-1][1]) + 1:
            runs[-1][1] = x
        else:
            runs.append([x, x])
    return runs


def _validations(ws, campaign, cols, letter, first, last):
    parts = {p.key: p for p in campaign.rubric.parts}
    same = {}  # one validation per rule, over all its columns (fewer objects to write)

    def add(dv, key):
        dv.error = dv.error or "输入的值不在允许范围内，请从下拉列表选择。"
        rule = (dv.type, dv.operator, dv.formula1, dv.formula2, dv.error)
        if rule not in same:
            dv.errorTitle = "无效的分值"
            dv.showErrorMessage = True
            ws.add_data_validation(dv)
            same[rule] = dv
        same[rule].add(f"{letter[key]}{first}:{letter[key]}{last}")

    def lst(values):
        return DataValidation(type="list", formula1='"' + ",".join(values) + '"',
                              allow_blank=True)

    for c in cols:
        if c.role != "input" or c.key == "comment":
            continue
        p = parts.get(c.key)
        if c.key in ("recused", campaign.rubric.veto_key) or (p and p.kind == "penalty"):
            add(lst(campaign.choices["yesno"]), c.key)
        elif c.key in ("report_use", "risk"):
            add(lst(campaign.choices[c.key]), c.key)
        elif p.kind == "score":
            add(lst([fmt_number(v) for v in p.allowed]), c.key)
        elif p.kind == "range":
            dv = DataValidation(type="decimal", operator="between", formula1="0",
                                formula2=fmt_number(p.max), allow_blank=True)
            dv.error = f"应为 0 到 {fmt_number(p.max)} 之间 " \
                       f"{fmt_number(campaign.rubric.step)} 的倍数。"
            add(dv, c.key)
        elif p.kind == "errors":
            dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0",
                                allow_blank=True)
            dv.error = "应为不小于 0 的整数（发现的错误项数）。"
            add(dv, c.key)


def _status_colours(ws, col, first, last):
    rng = f"{col}{first}:{col}{last}"
    top = f"{col}{first}"
    rules = [(f'{top}="{WORDS["complete"]}"', "C6EFCE"), (f'LEFT({top},1)="有"', "FFC7CE"),
             (f'LEFT({top},3)="未完成"', "FFEB9C"), (f'{top}="{WORDS["recused"]}"', "D9D9D9")]
    for formula, colour in rules:
        ws.conditional_formatting.add(rng, FormulaRule(
            formula=[formula], fill=PatternFill("solid", fgColor=colour, bgColor=colour)))


def _guide(ws, campaign):
    title_cell(ws, "A1", "满意度测量项目评分说明（附件2-5）")
    heads = ["项目", "名称", "满分", "评分说明", "分项（允许值）"]
    for j, h in enumerate(heads, start=1):
        put(ws, 3, j, h)
    style_header(ws, 3, len(heads))
    r = 4
    secs = {s.id: s for s in campaign.rubric.sections}
    proto = ws.cell(r, 1)
    proto.alignment = Alignment(wrap_text=True, vertical="top")
    style = proto._style
    for it in campaign.rubric.items:
        parts = it.parts + ((it.penalty,) if it.penalty else ())
        text = "；".join(f"{p.label}（{p.allowed_text(campaign.rubric.step)}）" for p in parts)
        for j, v in enumerate([it.id, f"{secs[it.section].name}·{it.name}", it.max, it.text,
                               text], start=1):
            cell = ws.cell(r, j)
            cell._style = copy(style)  # copies: styling each cell is slow
            put(ws, r, j, v)
        r += 1
    put(ws, r, 1, "否决项")
    put(ws, r, 4, campaign.rubric.veto_label + "：选“是”则评价结论为不合格。")
    concl = "；".join(f"{name} ≥ {fmt_number(m)}" for name, m in campaign.rubric.conclusions[:-1])
    put(ws, r + 1, 4, f"评价结论：{concl}，其余为{campaign.rubric.conclusions[-1][0]}。"
                      + ("专家总分 = 基础分 + 加分项。" if campaign.decisions.get("bonus_counts")
                         else ""))
    set_widths(ws, [6, 24, 6, 62, 40])
    print_table(ws, 3, 5, r + 1)  # issue 22: one page wide, the heading on every page
