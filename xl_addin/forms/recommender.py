"""The 附件3 初审推荐意见表 template (one per 推荐单位, RULES.md F5).

One sheet prints as the official table for stamping: title, 推荐单位（盖章）, the two-row
heading of the notice, the rows (Excel table ``recommendations``), the filler line and the
note. Each row checks itself (E14, E15, E16, E20, E23, E30 per L5a) in computed columns
after the official ones (not printed); hidden helper columns further right hold the
intermediate formulas of :func:`xl_addin.sheet.formulas.row_plan`. The sheet 统计 counts rows,
errors and warnings and checks the header (E21, E22, E28).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openpyxl.styles import Alignment, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo

from xl_addin.forms import common as C
from xl_addin.sheet.formulas import Builder, header_plan, render, row_plan
from xl_addin.sheet.paper import page_setup

TEMPLATE_ID = "saq-recommender"
TABLE = "recommendations"
SHEET = "初审推荐意见表"
TOTALS_SHEET = "统计"
DEFAULT_ROWS = 50
# Computed columns after the official ones: label -> row-plan output.
COMPUTED = {"问题代码": "flags", "问题说明": "flag_text", "可评等级": "achievable_level",
            "建议等级": "proposed_level", "等级说明": "level_reason", "自评结论": "row_conclusion",
            "错误数": "error_count", "提醒数": "warning_count"}
STAR_OUTPUTS = ("achievable_level", "proposed_level", "level_reason")
WIDTHS = {"序号": 5, "申请组织名称": 24, "统一社会信用代码": 21, "申请类别": 8, "申请等级": 10,
          "申报项目名称": 20, "满意度得分": 11, "申请组织自评分": 15, "申请选择组织自评分": 19,
          "推荐意见": 44, "问题代码": 12, "问题说明": 50, "可评等级": 12, "建议等级": 12,
          "等级说明": 30, "自评结论": 8, "错误数": 6, "提醒数": 6}
HEADER_LAYOUT = (("filler_name", "filler_dept", "filler_title"),
                 ("filler_mobile", "filler_email", "fill_date"))
NOTE = ("注：此表在线自动生成 PDF 版，是推荐单位的正式汇总材料，请将打印加盖推荐单位公章的"
        "扫描件在线提交，谢谢。")


def form_title(c):
    """The heading of 附件3 as the notice prints it."""
    return f"{c.year} 年上海市用户满意度等级评价 初审推荐意见表"


@dataclass
class _Rec:
    """What the steps of one 附件3 share while it is laid out."""
    wb: object
    c: object  # the Campaign
    ws: object  # 初审推荐意见表
    wt: object  # 统计
    lists: dict  # choice list name -> (range, values), from C.lists_sheet
    fields: list  # fields.recommendation_row
    hfields: dict  # key -> field of fields.recommender
    rows: int
    labels: list = field(default_factory=list)  # official columns, then COMPUTED
    inputs: dict = field(default_factory=dict)  # header key -> absolute reference
    header_cells: dict = field(default_factory=dict)  # header key -> (sheet, coordinate)
    top: int = 4  # the group row of the two-row heading
    head: int = 5  # the table's header row
    out_col: dict = field(default_factory=dict)  # row-plan output -> column letter
    helper_col: dict = field(default_factory=dict)  # row-plan helper -> column letter
    note_row: int = 0

    @property
    def n_official(self):
        return len(self.fields)

    @property
    def first(self):
        return self.head + 1

    @property
    def last(self):
        return self.head + self.rows


def build_recommender(campaign, rows=DEFAULT_ROWS):
    """The 附件3 workbook (openpyxl Workbook) with ``rows`` prepared table rows.

    The steps below lay out one part each, in this order (the order is part of the file:
    defined names, validations and formats are written as they are added).

    Args:
        campaign: the Campaign the form is generated from.
        rows: number of data rows of the ``recommendations`` table.
    Returns:
        openpyxl.Workbook
    """
    c = campaign
    wb = C.new_workbook()
    ws = wb.active
    ws.title = SHEET
    wt = wb.create_sheet(TOTALS_SHEET)
    b = _Rec(wb, c, ws, wt, C.lists_sheet(wb, c), list(c.fields["recommendation_row"]),
             {f.key: f for f in c.fields["recommender"]}, max(rows, 1))
    C.meta_sheet(wb, TEMPLATE_ID, c)
    C.fixed_properties(wb, form_title(c))
    b.labels = [f.label for f in b.fields] + list(COMPUTED)
    _write_title(b)
    _write_heading(b)
    rp = row_plan(c)
    _write_rows(b, rp)
    _write_filler(b)
    _write_totals(b, rp, header_plan(c))
    _write_print(b)
    C.localize_rule_references(wb)  # no sheet names in CF/DV formulas (issue 11)
    return wb


def _write_title(b):
    """Rows 1–3: 附件 3, the title, 推荐单位（盖章） with its input (D3, ``recommender``)."""
    ws = b.ws
    last_official = get_column_letter(b.n_official)
    ws["A1"] = "附件 3"
    ws["A1"].font = C.font(11, True)
    ws["A2"] = form_title(b.c)
    ws["A2"].font = C.font(16, True)
    ws["A2"].alignment = C.CENTER
    ws.merge_cells(f"A2:{last_official}2")
    ws.row_dimensions[2].height = 32
    ws["A3"] = "推荐行业/各区/各集团（推荐单位盖章）："
    ws["A3"].font = C.font(11, True)
    ws.merge_cells("A3:C3")
    rec_cell = ws["D3"]
    C.style_input(rec_cell, b.hfields["recommender"])
    ws.merge_cells(f"D3:{get_column_letter(b.n_official - 1)}3")
    C.add_name(b.wb, "recommender", ws, "D3")
    ws.row_dimensions[3].height = 26
    b.inputs["recommender"] = C.ref(ws, "D3")
    b.header_cells["recommender"] = (ws, "D3")


def _write_heading(b):
    """The notice's two-row heading: group row ``top``, the table's header row ``head``;
    the computed columns after the official ones, marked 自动检查（不打印）."""
    ws, top, head = b.ws, b.top, b.head
    ncols = len(b.labels)
    group = {"申请组织自评分": "满意度测量项目", "申请选择组织自评分": None}
    for j, lab in enumerate(b.labels, 1):
        col = get_column_letter(j)
        ws.column_dimensions[col].width = WIDTHS.get(lab, 10)
        g = ws.cell(top, j)
        h = ws.cell(head, j, lab)
        for cl in (g, h):
            cl.font = C.font(10, True)
            cl.alignment = C.CENTER
            cl.border = C.BOX
            cl.fill = C.HEAD_FILL if j <= b.n_official else C.CALC_FILL
        if lab in group:
            if group[lab]:
                g.value = group[lab]
                ws.merge_cells(start_row=top, start_column=j, end_row=top, end_column=j + 1)
        elif lab == "推荐意见":
            g.value = "（针对材料进行亮点、改进点的总结与点评）"
            g.font = C.font(9)
        elif j > b.n_official:
            g.value = "自动检查（不打印）" if j == b.n_official + 1 else None
    ws.merge_cells(start_row=top, start_column=b.n_official + 1, end_row=top, end_column=ncols)
    ws.row_dimensions[top].height = 30
    ws.row_dimensions[head].height = 30
    note = next((f.note for f in b.fields if f.note), None)
    if note:
        j = next(i for i, f in enumerate(b.fields, 1) if f.note)
        C.comment(ws.cell(head, j), f"{b.fields[j - 1].label}：{note}")
    tab = Table(displayName=TABLE, ref=f"A{head}:{get_column_letter(ncols)}{b.last}")
    tab.tableStyleInfo = TableStyleInfo(name="TableStyleLight1", showRowStripes=False)
    ws.add_table(tab)


def _write_rows(b, rp):
    """The table rows: inputs (yellow while empty, white once filled: the printed table is
    white, issue 22), the computed columns, the hidden helper columns, red / amber flags."""
    ws, c = b.ws, b.c
    ncols = len(b.labels)
    helpers = [n for n in rp.cells if n not in COMPUTED.values()]
    b.helper_col = {n: get_column_letter(ncols + 2 + i) for i, n in enumerate(helpers)}
    b.out_col = {out: get_column_letter(b.n_official + 1 + i)
                 for i, out in enumerate(COMPUTED.values())}
    in_col = {f.key: get_column_letter(i) for i, f in enumerate(b.fields, 1)}
    for r in range(b.first, b.last + 1):
        def resolve(name, r=r):
            if name.startswith("in:"):
                return f"${in_col[name[3:]]}{r}"
            if name in b.out_col:
                return f"${b.out_col[name]}{r}"
            return f"${b.helper_col[name]}{r}"
        for f in b.fields:
            cl = ws[f"{in_col[f.key]}{r}"]
            C.style_input(cl, f)
            cl.fill = PatternFill()  # yellow by the format below, while empty
            cl.font = C.font(10)
            cl.alignment = Alignment(wrap_text=True, vertical="top")  # rows grow to fit
        for name in helpers:
            ws[f"{b.helper_col[name]}{r}"] = render(rp.cells[name], resolve)
        for name, col in b.out_col.items():
            body = rp.cells[name]
            if name in STAR_OUTPUTS:
                body = f'IF(OR([[empty]],[[row_conclusion]]=""),"",{body})'
            else:
                body = f'IF([[empty]],"",{body})'
            cl = ws[f"{col}{r}"]
            cl.value = render(body, resolve)
            cl.alignment = Alignment(wrap_text=True, vertical="top")
            cl.font = C.font(9, color="9C0006" if name in ("flags", "flag_text") else None)
            cl.border = C.BOX
        # no fixed height: Excel and LibreOffice size each row to its wrapped 推荐意见
        # (issue 13: a fixed 30 pt cut the opinion at both ends on screen and on paper);
        # a file we fill is sized by forms.fill (issue 22)
        for f in b.fields:
            C.add_flag_formats(ws, f"{in_col[f.key]}{r}", rp, f.key, resolve)
    last_in = get_column_letter(b.n_official)
    C.empty_input_format(ws, f"A{b.first}:{last_in}{b.last}", f"A{b.first}")
    for f in b.fields:
        C.validation_for(ws, f, c, b.lists, f"{in_col[f.key]}{b.first}:{in_col[f.key]}{b.last}")
    for col in b.helper_col.values():
        ws.column_dimensions[col].hidden = True


def _write_filler(b):
    """The filler lines under the table (填表人 … 填表日期, all required: E20) and the note."""
    ws, c = b.ws, b.c
    r = b.last + 2
    # (label from, label to, input from, input to): labels sit in the wide columns
    spans = ((1, 2, 3, 3), (4, 5, 6, 6), (7, 8, 9, 10))
    for line in HEADER_LAYOUT:
        for key, (l1, l2, i1, i2) in zip(line, spans):
            f = b.hfields[key]
            lab = ws.cell(r, l1, f"{f.label}：")
            if l2 > l1:
                ws.merge_cells(start_row=r, start_column=l1, end_row=r, end_column=l2)
            lab.font = C.font(10.5, True)
            lab.alignment = Alignment(horizontal="right", vertical="center")
            cl = ws.cell(r, i1)
            C.style_input(cl, f)
            if i2 > i1:
                ws.merge_cells(start_row=r, start_column=i1, end_row=r, end_column=i2)
            coord = f"{get_column_letter(i1)}{r}"
            C.add_name(b.wb, key, ws, coord)
            b.inputs[key] = C.ref(ws, coord)
            b.header_cells[key] = (ws, coord)
            C.validation_for(ws, f, c, b.lists, coord)
        ws.row_dimensions[r].height = 24
        r += 1
    r += 1
    ws.cell(r, 1, NOTE).font = C.font(10)
    ws.cell(r, 1).alignment = C.WRAP
    ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=b.n_official)
    ws.row_dimensions[r].height = 30
    b.note_row = r
    for sh, coord in b.header_cells.values():  # yellow while empty (issue 22)
        sh[coord].fill = PatternFill()
        C.empty_input_format(sh, coord, coord)


def _write_totals(b, rp, hp):
    """统计: rows, errors and warnings of the table plus the header's checks (E21, E22,
    E28), and the header flags' red / amber formats."""
    wt, c = b.wt, b.c
    wt.column_dimensions["A"].width = 18
    wt.column_dimensions["B"].width = 70
    wt["A1"] = "统计与表头检查（自动计算）"
    wt["A1"].font = C.font(14, True)
    wt.merge_cells("A1:B1")
    rows_spec = (("row_count", "推荐申请数"), ("error_count", "错误项数"),
                 ("warning_count", "提醒项数"), ("status", "状态"),
                 ("header_flags", "表头问题代码"), ("header_flag_text", "表头问题说明"))
    placed = {}
    for i, (name, lab) in enumerate(rows_spec, 3):
        wt.cell(i, 1, lab).font = C.font(10.5, True)
        wt.cell(i, 1).fill = C.HEAD_FILL
        for j in (1, 2):
            wt.cell(i, j).border = C.BOX
        wt.cell(i, 2).alignment = Alignment(wrap_text=True, vertical="top", horizontal="left")
        C.add_name(b.wb, name, wt, f"B{i}")
        wt.row_dimensions[i].height = 60 if name == "header_flag_text" else 20
        if name == "header_flags":  # the codes alone: the messages below carry them
            wt.row_dimensions[i].hidden = True
    placed["flags"] = (wt, "B7")
    placed["flag_text"] = (wt, "B8")
    _, hresolve = C.calc_sheet(b.wb, hp, placed, b.inputs)
    err_col, warn_col = b.out_col["error_count"], b.out_col["warning_count"]
    empty_col = b.helper_col["empty"]
    sheet = f"'{SHEET}'!"
    first, last = b.first, b.last
    # counts the non-empty rows; the empty flags are logicals, compared, not counted (issue 11)
    wt["B3"] = f"=SUMPRODUCT(--({sheet}${empty_col}${first}:${empty_col}${last}=FALSE))"
    wt["B4"] = f"=SUM({sheet}${err_col}${first}:${err_col}${last})+{hresolve('error_count')}"
    wt["B5"] = f"=SUM({sheet}${warn_col}${first}:${warn_col}${last})+{hresolve('warning_count')}"
    wt["B6"] = "=" + Builder(c, "recommender").status_expr("B4", "B5")
    for key, (sh, coord) in b.header_cells.items():
        C.add_flag_formats(sh, coord, hp, key, hresolve)


def _write_print(b):
    """Protection and paper (sheet.paper, issue 22): the official columns, landscape A4,
    one page wide, the two-row heading on every page, down to the note."""
    ws, wt = b.ws, b.wt
    C.protect(ws)
    C.protect(wt)
    page_setup(ws, b.n_official, b.note_row, (b.top, b.head), landscape=True)
    ws.freeze_panes = f"C{b.first}"
    page_setup(wt, 2, 8)
