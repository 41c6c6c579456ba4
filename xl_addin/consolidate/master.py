"""Write the master workbook: 汇总, 问题清单, 文件清单, 拒收, 统计, 说明 (issue 4 §2).

Every submitted text goes through ``tables.set_text_safe`` (formula injection, issue 4 §5).
The sheets are Excel tables with filters and frozen headers; flagged cells are coloured.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections import Counter, defaultdict
from copy import copy
from functools import lru_cache, partial

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from xl_addin import __version__
from xl_addin.consolidate.charts import (
    CHART_COLUMNS,
    add_stats_charts,  # issue 14: native charts below the tables
    possible,
)
from xl_addin.consolidate.columns import (
    APP_ONLY,
    PRINTED,
    ROW_ONLY,
    STAFF_COLUMNS,
    STATUS_ERROR,
    STATUS_OK,
    STATUS_WARNING,
    build_columns,
    is_date,
    matching,
    status,
)
from xl_addin.consolidate.materials import scan_word  # issue 13: M12 per recommender
from xl_addin.consolidate.staff import UNMATCHED_HEADERS, UNMATCHED_SHEET
from xl_addin.rules.findings import severity_word
from xl_addin.sheet.paper import height_for, lines_needed, page_setup, set_properties, text_units
from xl_addin.sheet.xlcache import finish_workbook
from xl_addin.sheet.xlstyle import BODY_FONT, HEADING_FONT, apply_default_font
from xl_addin.tables import clean, is_formula_like

FILL_ERROR = PatternFill("solid", fgColor="FFC7CE")
FILL_WARNING = PatternFill("solid", fgColor="FFEB9C")
FILL_OK = PatternFill("solid", fgColor="C6EFCE")
FILL_HEAD = PatternFill("solid", fgColor="DDEBF7")
FONT_HEAD = Font(bold=True, name=BODY_FONT)
FONT_TITLE = Font(bold=True, size=13, name=HEADING_FONT)
THIN = Border(*(Side(style="thin", color="BFBFBF"),) * 4)
TOP = Alignment(vertical="top")
WRAP = Alignment(vertical="top", wrap_text=True)
HEAD_ALIGN = Alignment(vertical="center", horizontal="center", wrap_text=True)
TITLE_ALIGN = Alignment(vertical="center", wrap_text=True)
DATE_FORMAT = "yyyy-mm-dd"
UNRATED = "未评定"


def sort_key(entry):
    """Error rows first, then warnings, then clean; stable by recommender, name, source."""
    rank = {STATUS_ERROR: 0, STATUS_WARNING: 1, STATUS_OK: 2}
    v = entry.values
    src = entry.app.file.rel if entry.app else entry.row.file.rel
    row = entry.row.excel_row if entry.row else 0
    return (rank[status(entry)], entry.recommender, v.get("org_name") or "", src, row)


class Sheet:
    """A write-only sheet (streamed: fast and small for a thousand rows × a hundred columns).

    Plain values are appended as they are; a cell object is made only where it is needed:
    formula-like text (written as text with a quote prefix — issue 4 §5, issue 12 §7),
    dates, styles. Every text is cleaned of characters XML cannot hold (issue 12 §1).
    """

    def __init__(self, wb, title, freeze="A2", align=None):
        self.align, self._styles = align, {}
        self.ws = wb.create_sheet(title)
        if hasattr(self.ws, "_values_to_row"):  # openpyxl's write-only sheet (3.1)
            self.ws._values_to_row = partial(_values_to_row, self.ws)
        self.ws.freeze_panes = freeze  # write-only: views are written before the rows
        self.rows = 0
        self.widths = []  # column widths, for row heights and the page (sheet.paper)
        self.header_row = None
        self.sized = None  # column indexes (0-based) that size the rows; None: all
        # sheetPr is streamed before the first row: fit-to-page must be known now.
        self.ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)

    def widths_from(self, widths):
        """Set the columns' widths (when a sheet has no single header row)."""
        self.widths = list(widths)
        for j, w in enumerate(widths, 1):
            self.ws.column_dimensions[get_column_letter(j)].width = w

    def finish(self, last_col=None, last_row=None):
        """Print setup (sheet.paper, issue 22): A4, one page wide over the first
        ``last_col`` columns, the header row on every page, the rows written so far."""
        last_col = last_col or len(self.widths)
        hr = (self.header_row, self.header_row) if self.header_row else None
        page_setup(self.ws, last_col, last_row or max(self.rows, 1), hr,
                   widths=self.widths[:last_col], margins=(0.4, 0.5))

    def title(self, text, font=None, last_col=None):
        """A title line merged over the printed columns, as tall as its text."""
        last_col = last_col or len(self.widths) or 1
        r = self.rows + 1
        if last_col > 1:
            self.ws.merged_cells.add(f"A{r}:{get_column_letter(last_col)}{r}")
        width = sum(self.widths[:last_col]) or 10
        size = float(font.sz) if font is not None and font.sz else 11.0
        self.ws.row_dimensions[r].height = max(20, height_for(lines_needed(text, width, size),
                                                             size))
        self._plain_append([self.cell(text, font=font, align=TITLE_ALIGN)])

    def cell(self, v, fill=None, font=None, align=None, border=None):
        if isinstance(v, float) and not math.isfinite(v):
            v = str(v)  # "inf" is not a number Excel can read back (a hostile 1e999)
        elif isinstance(v, float) and v.is_integer():
            v = int(v)
        elif isinstance(v, str):
            v = clean(v)
        if v is None and fill is None and border is None:
            return None  # nothing to show: not written at all (most of 汇总 is empty)
        align = align or self.align
        plain = fill is None and font is None and align is None and border is None
        date, formula_like = is_date(v), is_formula_like(v)
        if plain and not date and not formula_like:
            return v
        c = WriteOnlyCell(self.ws, v)  # v is cleaned above (clean once: it escapes "_x")
        if formula_like:
            c.data_type, c.quotePrefix = "s", True
        # The quote prefix is part of the style: a cached style without it would drop it.
        key = (id(fill), id(font), id(align), id(border), date, formula_like)
        style = self._styles.get(key)
        if style is None:  # style once, then copy: styling each cell is slow in openpyxl
            if date:
                c.number_format = DATE_FORMAT
            for attr, val in (("fill", fill), ("font", font), ("alignment", align),
                              ("border", border)):
                if val is not None:
                    setattr(c, attr, val)
            self._styles[key] = copy(c._style)
        else:
            c._style = copy(style)
        return c

    def append(self, cells):
        """Append a row; a text wider than its column wraps and the row grows to show it
        (a streamed sheet cannot be sized afterwards; no application sizes rows on opening
        a file, issue 22)."""
        lines, out = 1, []
        for j, c in enumerate(cells):
            if isinstance(c, str) or (self.align is not None and c is not None
                                      and not isinstance(c, Cell)):
                c = self.cell(c)  # numbers too take the sheet's alignment (top)
            v = c.value if isinstance(c, Cell) else c
            width = self.widths[j] if j < len(self.widths) else None
            if self.sized is not None and j not in self.sized:
                width = None
            if isinstance(v, str) and v and width and self.rows + 1 != self.header_row:
                size = float(c.font.sz) if isinstance(c, Cell) and c.font and \
                    c.font.sz else 11.0
                n = lines_needed(v, width, size)
                if n > 1 or text_units(v, size) > width - 1.2:
                    c = self._wrapped(c)
                    lines = max(lines, n)
            out.append(c)
        r = self.rows + 1
        if lines > 1:
            have = self.ws.row_dimensions[r].height or 0
            self.ws.row_dimensions[r].height = max(have, height_for(lines))
        self._plain_append(out)

    def _wrapped(self, c):
        """``c`` as a cell that wraps its text (top-aligned), its other looks kept."""
        if not isinstance(c, Cell):
            return self.cell(c, align=WRAP)
        al = c.alignment
        if al is not None and al.wrap_text:
            return c
        w = WriteOnlyCell(self.ws, c.value)
        w._style = copy(c._style)
        w.alignment = _wrap_alignment(al.horizontal if al else None,
                                      al.vertical if al and al.vertical else "top")
        if c.data_type == "s":
            w.data_type = "s"
        return w

    def _plain_append(self, cells):
        # A bare string would be taken as a formula when it starts with "=": never append one.
        self.ws.append([self.cell(c) if isinstance(c, str) else c for c in cells])
        self.rows += 1

    def header(self, headers, widths):
        self.widths_from(widths)
        self.header_row = self.rows + 1
        self.headers = list(headers)
        lines = max(lines_needed(h, w) for h, w in zip(headers, widths))
        self.ws.row_dimensions[self.header_row].height = max(32, height_for(lines))
        self._plain_append([self.cell(h, FILL_HEAD, FONT_HEAD, HEAD_ALIGN) for h in headers])

    def table(self, name, ncols, nrows):
        """An Excel table over header and data (at least one row, as Excel needs)."""
        if nrows == 0:
            self.append([None] * ncols)
        ref = f"A1:{get_column_letter(ncols)}{max(2, nrows + 1)}"
        t = Table(displayName=name, ref=ref, autoFilter=AutoFilter(ref=ref))
        # Write-only sheets do not read their header back: name the columns here.
        t.tableColumns = [TableColumn(id=j, name=str(h)) for j, h in enumerate(self.headers, 1)]
        t.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
        with warnings.catch_warnings():  # the columns are named above
            warnings.simplefilter("ignore", UserWarning)
            self.ws.add_table(t)


def _values_to_row(ws, values, row_idx):
    """openpyxl's ``WriteOnlyWorksheet._values_to_row``, taking a cell as it is: openpyxl
    first tries a cell as a value, which raises (its message formats the cell's repr) —
    for each of the master's tens of thousands of styled cells."""
    cell = WriteOnlyCell(ws)
    for col_idx, value in enumerate(values, 1):
        if value is None:
            continue
        if isinstance(value, Cell):
            cell = value
        else:
            cell.value = value
        cell.column = col_idx
        cell.row = row_idx
        if cell.hyperlink is not None:
            cell.hyperlink.ref = cell.coordinate
        yield cell
        if cell.has_style or cell.hyperlink:  # reset cell if style applied
            cell = WriteOnlyCell(ws)


@lru_cache(maxsize=64)
def _wrap_alignment(horizontal, vertical):
    """One wrapping Alignment per look (a thousand rows would make one each)."""
    return Alignment(horizontal=horizontal, vertical=vertical, wrap_text=True)


def write_master(path, result, campaign, folder, started):
    """Write the whole master workbook to ``path`` (a temporary file; the caller renames).

    Args:
        path: where to save.
        result: the RunResult (files, entries, rejected, headers).
        campaign: the Campaign.
        folder: the folder that was consolidated (shown in 说明).
        started: datetime of the run (shown in 说明).
    """
    wb = Workbook(write_only=True)
    apply_default_font(wb)  # 宋体 (issue 11)
    entries = sorted(result.entries, key=sort_key)
    _summary(Sheet(wb, "汇总", freeze="E2", align=TOP), entries, campaign)  # 状态…企业名称 stay visible
    # every cell from the top of its row (issue 22: one baseline when a neighbour wraps)
    _issues(Sheet(wb, "问题清单", align=TOP), entries, result.headers)
    _files(Sheet(wb, "文件清单", align=TOP), result.files)
    _rejected(Sheet(wb, "拒收", align=TOP), result.rejected)
    if result.unmatched:  # only when there are some: the usual layout stays as it was
        _unmatched(Sheet(wb, UNMATCHED_SHEET, align=TOP), result.unmatched)
    stats = Sheet(wb, "统计", freeze="B4", align=TOP)
    _stats(stats, entries, result.headers, campaign)
    add_stats_charts(stats, entries, campaign, lambda e: proposed_bucket(e, campaign), UNRATED)
    stats.finish()
    _about(Sheet(wb, "说明", freeze=None), result, campaign, folder, started)
    meta = wb.create_sheet("_meta")
    for row in (("key", "value"), ("template_id", "saq-master"),
                ("template_version", campaign.template_version),
                ("campaign_year", campaign.year), ("generator_version", __version__)):
        meta.append(row)
    meta.sheet_state = "hidden"
    set_properties(wb.properties, f"{campaign.title} 汇总表")
    wb.save(path)
    finish_workbook(path)  # cached values, no recalculation on load (issue 11)


def _summary(sh, entries, campaign):
    cols = build_columns(campaign)
    sh.header([c.header for c in cols], [c.width for c in cols])
    # rows fit the printed columns and the columns that wrap on screen (等级说明 …); the
    # others keep one line on screen, as before
    sh.sized = {j for j, c in enumerate(cols) if j < PRINTED or c.wrap}
    key_cols = defaultdict(list)
    for j, col in enumerate(cols):
        for k in col.keys:
            key_cols[k].append(j)
    status_fill = {STATUS_ERROR: FILL_ERROR, STATUS_WARNING: FILL_WARNING, STATUS_OK: FILL_OK}
    for e in entries:
        fills = {}
        for f in e.flags:  # errors win over warnings on the same cell
            for j in key_cols.get(f.field, ()):
                if f.severity == "error" or fills.get(j) is not FILL_ERROR:
                    fills[j] = FILL_ERROR if f.severity == "error" else FILL_WARNING
        vals = [col.get(e, campaign) for col in cols]
        fills[0] = status_fill[vals[0]]
        sh.append([sh.cell(v, fills.get(j), None, WRAP if col.wrap else None)
                   for j, (col, v) in enumerate(zip(cols, vals))])
    sh.table("master_list", len(cols), len(entries))
    # Print the columns staff decide from (状态 … 备注, one A4 page across); the rest stay on
    # screen (issue 22).
    sh.finish(PRINTED)


ISSUE_HEADS = ["序号", "类别", "问题说明", "推荐单位", "企业名称", "申报项目名称", "工作表", "单元格",
               "问题代码", "来源文件"]
ISSUE_PRINTED = 8  # 序号 … 单元格: the words print; the codes are in 问题说明 (issue 22)


def _issues(sh, entries, headers):
    heads = ISSUE_HEADS
    sh.header(heads, [6, 6, 48, 18, 24, 20, 12, 8, 9, 30])
    rows = []
    for h in headers:
        for f in h.flags:
            rows.append((f, h.name, "（推荐表表头）", ""))
    for e in entries:
        for f in e.flags + e.row_flags:
            rows.append((f, e.recommender, e.values.get("org_name") or "",
                         e.values.get("project_name") or ""))
    rows.sort(key=lambda x: (x[0].severity != "error", x[0].code, x[1], x[2], x[0].file, x[0].cell))
    for i, (f, rec, org, proj) in enumerate(rows, 1):
        fill = FILL_ERROR if f.severity == "error" else FILL_WARNING
        sh.append([i, sh.cell(f.severity_label, fill), sh.cell(f.message, align=WRAP),
                   sh.cell(rec), sh.cell(org), sh.cell(proj), sh.cell(f.sheet), sh.cell(f.cell),
                   sh.cell(f.code), sh.cell(f.file)])
    sh.table("issue_list", len(heads), len(rows))
    sh.finish(ISSUE_PRINTED)


def _files(sh, files):
    heads = ["序号", "文件", "类型", "状态", "原因/说明", "模板版本", "读取行数", "大小(KB)", "SHA-256"]
    sh.header(heads, [6, 44, 10, 8, 44, 10, 8, 9, 66])
    fills = {"已拒收": FILL_ERROR, "已忽略": FILL_WARNING, "已导入": FILL_OK}
    for i, f in enumerate(files, 1):
        sh.append([i, sh.cell(f.rel), f.kind, sh.cell(f.status, fills.get(f.status, FILL_WARNING)),
                   sh.cell(f.reason, align=WRAP), sh.cell(f.template_version), f.rows_read,
                   round(f.size / 1024, 1), f.sha256])
    sh.table("file_list", len(heads), len(files))
    sh.finish(len(heads) - 1)  # the SHA-256 stays on screen


def _rejected(sh, rejected):
    heads = ["序号", "文件", "范围", "工作表", "原因", "内容摘要"]
    sh.header(heads, [6, 40, 10, 12, 60, 50])
    for i, r in enumerate(rejected, 1):
        sh.append([i, sh.cell(r.file), r.scope, sh.cell(r.sheet), sh.cell(r.reason, align=WRAP),
                   sh.cell(r.content, align=WRAP)])
    sh.table("rejected_list", len(heads), len(rejected))
    sh.finish()


def _unmatched(sh, notes):
    """Staff notes of the last master that match no application now (issue 12 §4)."""
    sh.header(UNMATCHED_HEADERS, [16, 24, 22, 30, 30, 8, 30, 30])
    for n in notes:
        sh.append([sh.cell(v, align=WRAP) for v in (n.origin, n.org, n.project, n.key, n.source,
                                                     n.row)] +
                  [sh.cell(n.notes.get(h), align=WRAP) for h in STAFF_COLUMNS])
    sh.table("unmatched_notes", len(UNMATCHED_HEADERS), len(notes))
    sh.finish()


def proposed_bucket(entry, campaign):
    """The 建议等级 an entry counts under in 统计 (未评定 without a workbook or level)."""
    if entry.app is None or entry.app.evaluation.star.proposed is None:
        return UNRATED
    return campaign.level_name(entry.app.evaluation.star.proposed)


def stats_tables(entries, headers, campaign):
    """The numbers of 统计, as plain data (tested directly).

    Returns:
        (recommenders, buckets, counts[(rec, category, bucket)], per_rec rows, code counts)
    """
    buckets = [lv.name for lv in campaign.levels] + [campaign.no_level, UNRATED]
    recs = sorted({e.recommender for e in entries} | {h.name for h in headers})
    counts = Counter((e.recommender, e.values.get("category") or "（未填）",
                      proposed_bucket(e, campaign)) for e in entries)
    hdr_flags = Counter()
    for h in headers:
        hdr_flags[h.name] += len(h.flags)
    per = []
    for r in recs:
        mine = [e for e in entries if e.recommender == r]
        per.append((r, len(mine), sum(1 for e in mine if e.errors),
                    sum(1 for e in mine if not e.errors and e.warnings),
                    sum(e.errors for e in mine), sum(e.warnings for e in mine), hdr_flags[r],
                    sum(1 for e in mine if matching(e) == ROW_ONLY),
                    sum(1 for e in mine if matching(e) == APP_ONLY)))
    codes = Counter()
    for e in entries:
        codes.update(f.code for f in e.flags)
    for h in headers:
        codes.update(f.code for f in h.flags)
    return recs, buckets, counts, per, codes


def _stats(sh, entries, headers, campaign):
    recs, buckets, counts, per, codes = stats_tables(entries, headers, campaign)
    cats = [c.name for c in campaign.categories]
    if any(k[1] not in cats for k in counts):
        cats.append("（未填）")
    ws = sh.ws
    # Only the levels a category can get (K3 caps: no 产品类 × 标杆), unless one has it anyway.
    cb = {cat: [b for b in buckets if possible(campaign, cat, b) or
                any(k[1] == cat and k[2] == b and n for k, n in counts.items())] for cat in cats}
    ncol = 1 + sum(len(v) for v in cb.values()) + 1
    printed = max(ncol, CHART_COLUMNS)  # the tables and the charts beside them
    sh.widths_from([26] + [7.5] * (printed - 1))
    head = lambda v: sh.cell(v, FILL_HEAD, FONT_HEAD, HEAD_ALIGN, THIN)  # noqa: E731
    sh.title("一、按推荐单位 × 申请类别 × 建议等级统计（申请数）", FONT_TITLE)
    # Two header rows: the category over its levels (no merged cells: filters and sorting work).
    top = [head("推荐单位")]
    for cat in cats:
        top += [head(cat)] + [head(None) for _ in cb[cat][1:]]
    sh.append(top + [head("合计")])
    ws.row_dimensions[sh.rows + 1].height = 30
    sh.append([head(None)] + [head(b) for cat in cats for b in cb[cat]] + [head(None)])
    totals = Counter()
    center = Alignment(horizontal="center")
    for rec in recs + ["合计"]:
        bold = FONT_HEAD if rec == "合计" else None
        row, row_total = [sh.cell(rec, font=bold, border=THIN)], 0
        for cat in cats:
            for b in cb[cat]:
                n = totals[(cat, b)] if rec == "合计" else counts[(rec, cat, b)]
                if rec != "合计":
                    totals[(cat, b)] += n
                row_total += n
                row.append(sh.cell(n or None, font=bold, align=center, border=THIN))
        row.append(sh.cell(row_total, font=FONT_HEAD, border=THIN))
        sh.append(row)
    sh.append([])
    sh.title("二、各推荐单位的错误与提醒", FONT_TITLE)
    heads = ["推荐单位", "申请数", "有错误的申请", "仅有提醒的申请", "错误数", "提醒数",
             "推荐表表头问题", "缺申请书", "缺推荐表", "盖章扫描件"]
    sh.append([head(h) for h in heads])
    scans = {h.name: scan_word(h) for h in headers}
    for row in per:
        cells = []
        for j, v in enumerate(row + (scans.get(row[0]),), 1):
            fill = FILL_ERROR if j == 3 and v else FILL_WARNING if j == 4 and v else None
            cells.append(sh.cell(v, fill, border=THIN))
        sh.append(cells)
    sh.append([])
    sh.title("三、各类问题的次数", FONT_TITLE)
    sh.append([head(h) for h in ("问题（代码）", "类别", "次数")])
    for code in sorted(codes):
        spec = campaign.flags.get(code) or campaign.materials.get(code, {})
        sev = severity_word(spec.get("severity"))
        rule = spec.get("rule", "") or "问题"
        sh.append([sh.cell(v, border=THIN) for v in (f"{rule}（{code}）", sev, codes[code])])


def _about(sh, result, campaign, folder, started):
    sh.widths_from([22, 90])
    rows = [
        ("活动", campaign.title),
        ("依据", campaign.reference),
        ("模板版本", campaign.template_version),
        ("汇总目录", str(folder)),
        ("生成时间", started.strftime("%Y-%m-%d %H:%M:%S")),
        ("用时（秒）", round(result.seconds, 1)),
        ("程序版本", f"saq {__version__}"),
        ("文件数", len(result.files)),
        ("申请数（汇总行数）", len(result.entries)),
        ("错误 / 提醒", f"{result.errors} / {result.warnings}"),
        ("拒收", len(result.rejected)),
        ("", ""),
        ("本次适用的决定", "通知未写明、由本活动确定的做法，依据见《规则说明》（saq rules）"),
    ]
    rows += [(f"决定 {i}", v) for i, v in enumerate(campaign.decision_labels.values(), 1)]
    rows += [
        ("", ""),
        ("工作表说明", ""),
        ("汇总", "每项申请一行；有错误的排在最前。"
               "程序按各项分值重新计算自评分、等级和问题，不采用提交文件中的计算结果。"
               "“审定意见”“备注”两列供工作人员填写，重新汇总时按申请键（其次按来源文件）保留；"
               "对应不到申请的列入“未匹配备注”工作表，不会删除。每次汇总前，原汇总表备份为"
               "“汇总表_备份_日期_时间.xlsx”（保留最近 5 份）。请勿删除或改名“申请键”“来源文件”列。"),
        ("问题清单", "每个问题一行：代码、类别、说明、来源文件、工作表和单元格。"),
        ("文件清单", "目录中的每个文件（以及符号链接、管道、打不开的文件夹）：类型、状态（已导入 / 已拒收 / "
                 "已忽略）、原因、SHA-256、模板版本、读取行数。"),
        ("拒收", "无法导入的文件或推荐表行，以及原因。"),
        ("统计", "按推荐单位、申请类别、建议等级统计；各推荐单位的错误与提醒；各问题代码的次数。"),
        ("颜色", "红色 = 错误；黄色 = 提醒；绿色 = 无问题。"),
    ]
    for k, v in rows:
        v = str(v) if isinstance(v, (int, float)) else v  # a sentence column: left-aligned
        sh.append([sh.cell(k, font=FONT_HEAD, align=TOP), sh.cell(v, align=WRAP)])
    sh.ws.sheet_view.showGridLines = False
    sh.finish()


def now():
    return dt.datetime.now().replace(microsecond=0)
