"""Print sheets of the 申请书: the notice's 附件2 layouts, filled by formula (issue 13).

封面, 目录, 附件2-1, 附件2-2, 附件2-3 and its 续 page, 附件2-5 — A4, fit to width, no
hints and no banners: what the applicant prints, stamps, signs and scans. Every value is a
formula on the input cells (or the plan's parsed values), so the sheets follow the form as
it is filled; the official wording is campaign data ([dossier.print]). `saq pdf` prints
these sheets, in this order, then the 被访者名单 (pdf.py).
"""

from __future__ import annotations

import math

from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from xl_addin.forms import common as C
from xl_addin.rules.show import fmt_number
from xl_addin.sheet.formulas import lit
from xl_addin.sheet.paper import height_for, lines_needed, page_setup

# sheet titles in the notice's order (附件2 填报说明 二)
COVER, CONTENTS, PLEDGE, DECLARATION, FORM, FORM_CONT, RUBRIC = (
    "封面", "目录", "附件2-1", "附件2-2", "附件2-3", "附件2-3（续）", "附件2-5")
PRINT_SHEETS = (COVER, CONTENTS, PLEDGE, DECLARATION, FORM, FORM_CONT, RUBRIC)
TAIL_SHEETS = ("被访者名单",)  # printed after the forms by `saq pdf`
FONT = "宋体"  # the official forms' face; LibreOffice falls back to Noto Serif/Sans CJK
THIN = Side(style="thin", color="000000")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
LEFT_TOP = Alignment(horizontal="left", vertical="top", wrap_text=True)
MID = Alignment(horizontal="center", vertical="center", wrap_text=True)
RIGHT = Alignment(horizontal="right", vertical="center")
CHECKED, UNCHECKED = "☑", "☐"


def _font(size=12, bold=False):
    return Font(name=FONT, size=size, bold=bold)


class _Page:
    """One print sheet: rows are written top-down, each spanning the sheet's columns."""

    def __init__(self, wb, title, widths, index):
        self.ws = wb.create_sheet(title, index=index)
        self.widths = widths
        self.ncol = len(widths)
        self.row = 1
        for j, w in enumerate(widths, 1):
            self.ws.column_dimensions[chr(64 + j)].width = w
        self.ws.sheet_view.showGridLines = False

    def line(self, value, size=12, bold=False, align=LEFT, height=None, chars=None,
             first=1, last=None, border=False):
        """A merged row from column ``first`` to ``last``; height from the text's length."""
        r = self.row
        last = last or self.ncol
        cl = self.ws.cell(r, first, value)
        cl.font = _font(size, bold)
        cl.alignment = align
        if last > first:
            self.ws.merge_cells(start_row=r, start_column=first, end_row=r, end_column=last)
        if border:
            self.box(r, first, last)
        self.ws.row_dimensions[r].height = height or self.fit(chars or value, size, first, last)
        self.row += 1
        return cl

    def fit(self, text, size, first=1, last=None):
        """Row height for ``text`` wrapped in columns first..last (CJK: 2 width units)."""
        width = sum(self.widths[first - 1:(last or self.ncol)])
        n = len(str(text)) if not isinstance(text, int) else text
        lines = max(1, math.ceil(n * 2 * size / 11 / max(width - 2, 1)))
        return lines * size * 1.55 + 6

    def box(self, r, first, last):
        for j in range(first, last + 1):
            self.ws.cell(r, j).border = GRID

    def gap(self, height=12):
        self.ws.row_dimensions[self.row].height = height
        self.row += 1

    def finish(self):
        page_setup(self.ws, self.ncol, self.row - 1)  # sheet.paper: A4 portrait, one page wide
        C.protect(self.ws)


def _v(ref):
    """A cell's value for display; blank stays blank."""
    return f'IF({ref}="","",{ref})'


def _date_words(ref, blank):
    """2023 年 6 月 1 日, or the blank 年 月 日 line to write by hand."""
    return (f'IF(ISNUMBER({ref}),TEXT({ref},"yyyy")&" 年 "&TEXT({ref},"m")&" 月 "&'
            f'TEXT({ref},"d")&" 日",{lit(blank)})')


def _box(cond, word):
    return f'IF({cond},"{CHECKED}","{UNCHECKED}")&{lit(word)}'


def add_print_sheets(wb, c, resolve, inputs):
    """Add the print sheets after 结果.

    Args:
        wb: the application workbook being built.
        c: the Campaign.
        resolve: plan cell name -> absolute reference (``v:key`` parsed values, ``item:N1``
            item scores, ``se_*``).
        inputs: field key -> absolute reference of the input cell.
    Returns:
        tuple of the sheet titles added, in print order.
    """
    t = c.dossier["print"]
    at = wb.sheetnames.index("结果") + 1
    cat, lvl = resolve("v:category"), resolve("v:level")
    org = inputs["org_name"]

    # ---- 封面 ------------------------------------------------------------------------------
    p = _Page(wb, COVER, [15, 15, 15, 15, 15, 15], at)
    p.gap(90)
    p.line(t["cover_title"], 20, True, MID, 60)
    p.gap(60)
    cats = "&\"　\"&".join(_box(f"{cat}={lit(x.name)}", x.name) for x in c.categories)
    p.line(f'="申请类别　　"&{cats}', 13, False, MID, 36)
    levels = "&\"　\"&".join(_box(f"{lvl}={lv.rank}", lv.applied) for lv in c.levels)
    p.line(f'="申请等级　　"&{levels}', 13, False, MID, 36)
    p.gap(80)
    p.line(f'="组织名称："&{_v(org)}&"（盖章）"', 14, False, LEFT, 40, 40, 2, 6)
    p.line(f'="推荐单位："&{_v(inputs["recommender"])}', 14, False, LEFT, 40, 40, 2, 6)
    # the parsed date: "2023.9.18" or "2023年9月18日" typed as text prints as a date too
    p.line(f'="填表日期："&{_date_words(resolve("v:fill_date"), t["date_blank"])}', 14, False,
           LEFT, 40, 40, 2, 6)
    for r in (p.row - 3, p.row - 2, p.row - 1):
        for j in range(2, 7):
            p.ws.cell(r, j).border = Border(bottom=THIN)
    p.finish()

    # ---- 目录 ------------------------------------------------------------------------------
    p = _Page(wb, CONTENTS, [84], at + 1)
    p.gap(30)
    p.line(t["contents_title"], 18, True, MID, 50)
    p.gap(20)
    for entry in t["contents"]:
        p.line(entry, 13, False, LEFT, None)
    p.finish()

    # ---- 附件2-1 / 附件2-2 -------------------------------------------------------------------
    for k, (title, label, intro, clauses, closing, sign) in enumerate((
            (PLEDGE, t["pledge_label"], t["pledge_intro"], t["pledge_clauses"], None,
             [f'="{t["pledge_sign"]}"&{_v(org)}']),
            (DECLARATION, t["declaration_label"], t["declaration_intro"],
             t["declaration_clauses"], t["declaration_close"],
             [f'="单位名称："&{_v(org)}&"（盖章）"', t["declaration_signature"]]))):
        p = _Page(wb, title, [84], at + 2 + k)
        p.line(label, 12, True, LEFT, 24)
        p.line(t["pledge_title"] if title == PLEDGE else t["declaration_title"], 18, True, MID, 50)
        p.line(intro, 12, False, LEFT_TOP)
        for cl in clauses:
            p.line(cl, 12, False, LEFT_TOP)
        if closing:
            p.line(closing, 12, False, LEFT_TOP)
        p.gap(40)
        for s in sign:
            p.line(s, 12, False, LEFT, 34, 40)
        p.gap(16)
        p.line(t["date_blank"], 12, False, RIGHT, 30)
        p.finish()

    _form(wb, c, t, resolve, inputs, at + 4)
    _form_cont(wb, c, t, resolve, inputs, at + 5)
    _rubric(wb, c, t, resolve, inputs, at + 6)
    return PRINT_SHEETS


def _cell(p, r, j, value, size=11, align=LEFT, bold=False, number_format=None):
    cl = p.ws.cell(r, j, value)
    cl.font = _font(size, bold)
    cl.alignment = align
    cl.border = GRID
    if number_format:
        cl.number_format = number_format
    return cl


def _grid_row(p, pairs, height=30):
    """One row of label/value pairs across four columns (a pair may span to the end)."""
    r = p.row
    j = 1
    for label, value, span in pairs:
        _cell(p, r, j, label, 11, MID)
        _cell(p, r, j + 1, value, 11, LEFT)
        if span > 1:
            for x in range(j + 2, j + 1 + span):
                p.ws.cell(r, x).border = GRID
            p.ws.merge_cells(start_row=r, start_column=j + 1, end_row=r, end_column=j + span)
        j += 1 + span
    p.ws.row_dimensions[r].height = height
    p.row += 1


def _form(wb, c, t, resolve, inputs, index):
    """附件2-3 申请表: the official grid, checkboxes by formula, room for 盖公章."""
    p = _Page(wb, FORM, [18, 24, 16, 24], index)
    I = inputs  # noqa: E741 - short, read like the form
    cat, lvl = resolve("v:category"), resolve("v:level")
    p.line(t["form_label"], 12, True, LEFT, 24)
    p.line(t["form_title"], 18, True, MID, 46)
    r = p.row
    _cell(p, r, 1, "企业名称", 11, MID)
    _cell(p, r, 2, f"={_v(I['org_name'])}", 11, LEFT)
    p.ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=3)
    p.ws.cell(r, 3).border = GRID
    _cell(p, r, 4, "（盖公章）", 11, Alignment(horizontal="right", vertical="bottom"))
    p.ws.row_dimensions[r].height = 60
    p.row += 1
    _grid_row(p, [("统一社会信用代码", f"={_v(I['uscc'])}", 1),
                  ("企业类型", f"={_v(I['org_type'])}", 1)])
    _grid_row(p, [("行业分类", f"={_v(I['industry'])}", 1),
                  ("组织规模", f"={_v(I['org_size'])}", 1)])
    lines = []
    for x in c.categories:
        boxes = "&\"　\"&".join(_box(f"AND({cat}={lit(x.name)},{lvl}={lv.rank})", lv.applied)
                               for lv in c.levels if lv.rank <= x.cap)
        lines.append(f'{lit(x.name + "：")}&{boxes}')
    _grid_row(p, [("申请类别与等级", "=" + "&CHAR(10)&".join(lines), 3)], 84)
    # the form's note stays under the name (notice 附件2-3, word for word)
    _grid_row(p, [("申报项目名称", f"={_v(I['project_name'])}&CHAR(10)&{lit(t['form_project_note'])}",
                   3)], 50)
    first = t["form_first"]
    review = resolve("v:review_type")
    kinds = c.choices["review_type"]
    rv = ("=" + _box(f"{review}={lit(kinds[0])}", first) + '&"　"&'
          + _box(f"{review}={lit(kinds[1])}", kinds[1]))
    _grid_row(p, [("满意度（百分制得分）", f"={_v(I['satisfaction'])}", 1), ("初评/复评", rv, 1)])
    _grid_row(p, [("联系人", f"={_v(I['contact_name'])}", 1),
                  ("部门", f"={_v(I['contact_dept'])}", 1)])
    _grid_row(p, [("职务", f"={_v(I['contact_title'])}", 1),
                  ("手机", f"={_v(I['contact_mobile'])}", 1)])
    _grid_row(p, [("联系地址", f"={_v(I['contact_address'])}", 3)], 34)
    r = p.row  # the form's last row: the QR code of the association's account (its text;
    # the picture is the association's to print, docs/printing.md)
    _cell(p, r, 1, t["form_qr"], 10.5, LEFT)
    p.ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=4)
    for j in (2, 3, 4):
        p.ws.cell(r, j).border = GRID
    p.ws.row_dimensions[r].height = 30
    p.row += 1
    p.gap(30)
    p.line("申请单位（盖公章）：", 12, False, LEFT, 30, None, 3, 4)
    p.line(t["date_blank"], 12, False, RIGHT, 30, None, 3, 4)
    p.finish()


def _form_cont(wb, c, t, resolve, inputs, index):
    """附件2-3 续: one block per category; only the applicant's block carries values."""
    p = _Page(wb, FORM_CONT, [11, 17, 21, 17, 21], index)
    I = inputs  # noqa: E741
    cat = resolve("v:category")
    p.line(t["form_cont_title"], 16, True, MID, 40)
    p.line(t["form_cont_note"], 11, False, MID, 26, None, 1, 5, border=True)

    def only(key, name):
        # main_customers / beneficiaries are shared by three blocks: shown in their own only
        return f'=IF({cat}={lit(name)},{_v(I[key])},"")'

    def pair_row(pairs, height=30):
        r = p.row
        j = 2
        for label, value in pairs:
            _cell(p, r, j, label, 10.5, MID)
            _cell(p, r, j + 1, value, 10.5, LEFT)
            j += 2
        p.ws.row_dimensions[r].height = height
        p.row += 1

    def block(name, rows):
        start = p.row
        for row in rows:
            row()
        _cell(p, start, 1, f"{name}填写", 11, MID, True)
        for rr in range(start, p.row):
            p.ws.cell(rr, 1).border = GRID
        p.ws.merge_cells(start_row=start, start_column=1, end_row=p.row - 1, end_column=1)

    rev = c.field("application", "revenue_last").label
    block("企业类", [
        lambda: pair_row([("员工人数", f"={_v(I['employees'])}"), (rev, f"={_v(I['revenue_last'])}")]),
        lambda: pair_row([("主要的产品/服务", f"={_v(I['main_products'])}"),
                          ("所在行业的标杆企业", f"={_v(I['industry_benchmark'])}")]),
        lambda: pair_row([("主要服务对象", only("main_customers", "企业类")),
                          ("直接服务受益的用户数", only("beneficiaries", "企业类"))])])
    block("服务类", [
        lambda: pair_row([("主要业务职能", f"={_v(I['service_function'])}"),
                          ("专项服务工作人员数", f"={_v(I['service_staff'])}")]),
        lambda: pair_row([("主要服务对象", only("main_customers", "服务类")),
                          ("直接服务受益的用户数", only("beneficiaries", "服务类"))])])
    block("产品类", [
        lambda: pair_row([("商标名称", f"={_v(I['brand'])}"), ("产品型号及规格", f"={_v(I['model_spec'])}")]),
        lambda: pair_row([("主要销售对象", only("main_customers", "产品类")),
                          ("直接服务受益的用户数", only("beneficiaries", "产品类"))])])
    eng = resolve("v:eng_type")

    def wide(label_or_formula, height=30, align=LEFT):
        r = p.row
        _cell(p, r, 2, label_or_formula, 10.5, align)
        for j in range(3, 6):
            p.ws.cell(r, j).border = GRID
        p.ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=5)
        p.ws.row_dimensions[r].height = height
        p.row += 1

    def eng_types():
        r = p.row
        _cell(p, r, 2, "工程类别", 10.5, MID)
        boxes = "&\"　\"&".join(_eng_box(eng, x, t, c) for x in t["form_eng_boxes"])
        _cell(p, r, 3, "=" + boxes, 10.5, LEFT)
        for j in (4, 5):
            p.ws.cell(r, j).border = GRID
        p.ws.merge_cells(start_row=r, start_column=3, end_row=r, end_column=5)
        p.ws.row_dimensions[r].height = 36
        p.row += 1

    block("工程类", [
        eng_types,
        lambda: wide(f'="建设单位（用户）名称："&{_v(I["client_name"])}'),
        lambda: wide(f'="工程地点："&{_v(I["site"])}'),
        lambda: pair_row([("工程造价（万元）", f"={_v(I['cost'])}"),
                          ("建筑面积（万平方米）", f"={_v(I['area'])}")]),
        lambda: pair_row([("竣工日期", f"={_v(I['completion_date'])}"),
                          ("验收日期", f"={_v(I['acceptance_date'])}")]),
        lambda: pair_row([("工程设计单位", f"={_v(I['designer'])}"),
                          ("工程监理单位", f"={_v(I['supervisor'])}")]),
        lambda: wide(f'={lit(t["form_eng_opinion"])}&CHAR(10)&{_v(I["client_opinion"])}', 150,
                     LEFT_TOP),
        lambda: wide(t["form_eng_sign"] + "\n\n" + " " * 60 + t["date_blank"], 70, LEFT_TOP),
        lambda: wide(t["form_eng_note"], 30)])
    _date_cells(p, I)
    p.finish()


def _eng_box(eng, box, t, c):
    """One of the form's 工程类别 boxes: ticked by its own value and by the input values
    the form has no box for (园林工程 → 市政工程; 水利工程 → 其他, the word beside it)."""
    mine = [box] + [v for v, b in t["form_eng_box_of"].items() if b == box]
    cond = "OR(" + ",".join(f"{eng}={lit(v)}" for v in mine) + ")"
    word = lit(box)
    if box == t["form_eng_boxes"][-1]:  # 其他: say which, as a hand would
        for v in mine[1:]:
            word += f'&IF({eng}={lit(v)},{lit("（" + v + "）")},"")'
    return f'IF({cond},"{CHECKED}","{UNCHECKED}")&{word}'


def _date_cells(p, inputs):
    for row in p.ws.iter_rows(min_row=1, max_row=p.row):
        for cl in row:
            v = cl.value
            if isinstance(v, str) and any(inputs[k].split("!")[-1] in v and inputs[k] in v
                                          for k in ("completion_date", "acceptance_date")):
                cl.number_format = "yyyy-mm-dd"


def _rubric(wb, c, t, resolve, inputs, index):
    """附件2-5: 企业名称 / 申报项目名称 header, the official rubric and the scores."""
    rb = c.rubric
    p = _Page(wb, RUBRIC, [10, 7, 52, 6, 7], index)
    p.line(t["rubric_label"], 12, True, LEFT, 22)
    p.line(t["rubric_title"], 16, True, MID, 36)
    proj = inputs["project_name"]
    cat = resolve("v:category")
    no_project = [x.name for x in c.categories if not x.project_required]
    proj_shown = (f'IF(OR({",".join(f"{cat}={lit(n)}" for n in no_project)}),"",{_v(proj)})'
                  if no_project else _v(proj))
    p.line(f'="企业名称："&{_v(inputs["org_name"])}&"　　申报项目名称："&{proj_shown}&'
           f'{lit(t["rubric_project_free"])}', 11, False, LEFT, 34)
    p.line(t["rubric_note"], 10, False, LEFT, 20)
    r = p.row
    for j, h in enumerate(("评价项", "权重", "评价内容", "分值", "评分"), 1):
        _cell(p, r, j, h, 10.5, MID, True)
    p.ws.row_dimensions[r].height = 24
    p.row += 1
    for sec in rb.sections:
        if sec.bonus:
            continue
        start = p.row
        for item in rb.items_of(sec.id):
            r = p.row
            _cell(p, r, 3, item.text, 9.5, LEFT)
            _cell(p, r, 4, item.max, 10, MID)
            _cell(p, r, 5, f"={resolve('item:' + item.id)}", 10, MID)
            p.ws.row_dimensions[r].height = p.fit(len(item.text), 9.5, 3, 3)
            p.row += 1
        _cell(p, start, 1, sec.name, 10.5, MID)
        _cell(p, start, 2, f"{fmt_number(sec.weight)}%", 10, MID)
        for rr in range(start, p.row):
            for j in (1, 2):
                p.ws.cell(rr, j).border = GRID
        if p.row - 1 > start:
            for j in (1, 2):
                p.ws.merge_cells(start_row=start, start_column=j, end_row=p.row - 1, end_column=j)
    r = p.row
    _cell(p, r, 1, "合计", 10.5, MID, True)
    _cell(p, r, 2, f"{fmt_number(rb.base_total)}%", 10, MID)
    _cell(p, r, 3, "", 10)
    _cell(p, r, 4, rb.base_total, 10, MID)
    _cell(p, r, 5, f"={resolve('se_base')}", 10, MID, True)
    p.ws.row_dimensions[r].height = 22
    p.row += 1
    bonus = [s for s in rb.sections if s.bonus]
    for sec in bonus:
        start = p.row
        for item in rb.items_of(sec.id):
            r = p.row
            _cell(p, r, 2, item.text, 9.5, LEFT)
            p.ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=3)
            p.ws.cell(r, 3).border = GRID
            _cell(p, r, 4, item.max, 10, MID)
            _cell(p, r, 5, f"={resolve('item:' + item.id)}", 10, MID)
            p.ws.row_dimensions[r].height = p.fit(len(item.text), 9.5, 2, 3)
            p.row += 1
        _cell(p, start, 1, f"{sec.name}（共 {fmt_number(sec.weight)} 分）", 10, MID)
        for rr in range(start, p.row):
            p.ws.cell(rr, 1).border = GRID
        p.ws.merge_cells(start_row=start, start_column=1, end_row=p.row - 1, end_column=1)
    r = p.row
    _cell(p, r, 1, "否决项", 10.5, MID)
    _cell(p, r, 2, rb.veto_label.split("：")[-1], 10, LEFT)
    p.ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=4)
    for j in (3, 4):
        p.ws.cell(r, j).border = GRID
    _cell(p, r, 5, f"={_v(inputs[rb.veto_key])}", 10, MID)
    p.ws.row_dimensions[r].height = 24
    p.row += 1
    r = p.row
    concl = resolve("se_conclusion")
    words = [f"{name}/{fmt_number(lo)} 分及以上" if lo > 0 else
             f"{name}/{fmt_number(rb.conclusions[i - 1][1])} 分以下"
             for i, (name, lo) in enumerate(rb.conclusions)]
    boxes = "&\"　\"&".join(_box(f"{concl}={lit(name)}", w)
                           for (name, _lo), w in zip(rb.conclusions, words))
    _cell(p, r, 1, "评价结论", 10.5, MID)
    _cell(p, r, 2, "=" + boxes, 10.5, LEFT)
    p.ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=5)
    for j in (3, 4, 5):
        p.ws.cell(r, j).border = GRID
    p.ws.row_dimensions[r].height = 28
    p.row += 1
    p.gap(8)
    for line in t["rubric_foot"]:
        p.line(line, 10, False, LEFT, 18)
    p.ws.print_title_rows = f"{5}:{5}"
    p.finish()


FLAG_LINES = 30  # 问题说明 rows on 结果: more messages than any application can raise at once
FLAG_SIZE = 9.5  # the messages' font size: two lines hold the longest message (E07, E08)


def nth_line(src, k):
    """Formula: the k-th line (1-based) of the CHAR(10)-joined text at ``src``, or "".

    The (k-1)-th and k-th line breaks are found by SUBSTITUTE's instance number, so a line
    is taken whole whatever the lengths of the lines before it (issue 22: the fixed-width
    SUBSTITUTE trick of issue 13 cut a message in two once the earlier lines added up to
    250 characters).
    """
    t = f"{src}&CHAR(10)"
    lines = f"LEN({t})-LEN(SUBSTITUTE({t},CHAR(10),\"\"))"  # the text ends with a break
    end = f"FIND(CHAR(1),SUBSTITUTE({t},CHAR(10),CHAR(1),{k}))"
    start = "1" if k == 1 else f"FIND(CHAR(1),SUBSTITUTE({t},CHAR(10),CHAR(1),{k - 1}))+1"
    return f"IF({lines}<{k},\"\",MID({t},{start},{end}-({start})))"


def flag_lines(ws, row, flag_text_at, n=FLAG_LINES):
    """结果: 问题说明 one message per row (wrapped), so no message is cut on screen or paper.

    The named ``flag_text`` cell keeps the whole text (readers, the differential test) but
    its row is hidden; row k shows its k-th line, whole (:func:`nth_line`), in a row tall
    enough for two lines of the merged B:C (sheet.paper).

    Args:
        ws: the 结果 sheet; row: the first free row; flag_text_at: (sheet, "B17").
    Returns:
        the next free row.
    """
    src = C.ref(*flag_text_at)
    ws.row_dimensions[int(flag_text_at[1][1:])].hidden = True
    ws.cell(row, 1, "问题说明")
    ws.cell(row, 1).font = C.font(10.5, True)
    ws.cell(row, 1).fill = C.HEAD_FILL
    ws.cell(row, 1).alignment = Alignment(vertical="top")
    for k in range(n):
        r = row + k
        ws.cell(r, 2, "=" + nth_line(src, k + 1))
        ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=3)
        ws.cell(r, 2).alignment = Alignment(wrap_text=True, vertical="top", horizontal="left")
        ws.cell(r, 2).font = C.font(FLAG_SIZE)
        for j in (1, 2, 3):
            ws.cell(r, j).border = C.BOX
        ws.row_dimensions[r].height = height_for(2, FLAG_SIZE)
    # column A is not merged down: the lines flow over the page break like any rows
    return row + n


def printable_order(wb):
    """For `saq pdf` of a 申请书: only the print sheets (in order) and the 被访者名单 stay
    visible; the input sheets, the checklist and 结果 are hidden. Other workbooks: unchanged.

    Returns:
        True when the workbook is a 申请书 with print sheets.
    """
    if not all(t in wb.sheetnames for t in PRINT_SHEETS):
        return False
    keep = PRINT_SHEETS + TAIL_SHEETS
    for ws in wb.worksheets:
        if ws.title not in keep:
            ws.sheet_state = "hidden"
            # LibreOffice exports a hidden sheet that has a print range: drop it
            ws.print_area = None
            ws.print_title_rows = None
            ws.print_title_cols = None
    for title in TAIL_SHEETS:  # after the forms
        if title in wb.sheetnames:
            ws = wb[title]
            wb.move_sheet(ws, offset=len(wb.sheetnames) - 1 - wb.sheetnames.index(title))
            _compact_list(ws)
    wb.active = wb.sheetnames.index(PRINT_SHEETS[0])
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws.title == PRINT_SHEETS[0]
    return True


def _compact_list(ws):
    """被访者名单: print the listed rows only (at least one, so the heading prints)."""
    last = 4
    for r in range(4, ws.max_row + 1):
        if str(ws.cell(r, 2).value or "").strip():
            last = r
    if ws.print_area:
        ws.print_area = f"A1:C{last}"


def text_width(text):
    """Width of a text in Excel column units at 10 pt: CJK 1.9, other characters 1."""
    return sum(1.9 if ord(ch) > 0x2E7F else 1.0 for ch in str(text))


def fit_row_heights(ws, rows, first_col, last_col, size=10, min_height=20):
    """Give each row the height its wrapped text needs (no application sizes rows on
    opening a file we wrote, so a long 推荐意见 would print cut) — sheet.paper's rule.

    Args:
        ws: the sheet; rows: row numbers; first_col/last_col: the printed columns.
    """
    for r in rows:
        lines = 1
        for col in range(first_col, last_col + 1):
            v = ws.cell(r, col).value
            if v is None or (isinstance(v, str) and v.startswith("=")):
                continue
            w = ws.column_dimensions[get_column_letter(col)].width or 8.43
            lines = max(lines, lines_needed(v, w, size))
        ws.row_dimensions[r].height = max(min_height, height_for(lines, size))
