"""Native Excel charts for the master's 统计 sheet (issue 14), with openpyxl.chart.

Four charts, each drawn from a small table written just before it (so the numbers stay
in cells, and Excel, WPS and LibreOffice draw the same chart):

1. applications by recommender, stacked by state (有错误 / 仅有提醒 / 无问题);
2. applications by category, stacked by 建议等级 — a category shows only the levels its
   cap allows (K3: 产品类 has no 标杆 series value), unless an application has one anyway;
3. applications by 建议等级;
4. the pipeline by stage, as far as consolidation knows it: listed (a 附件3 row or an
   application workbook), application workbook read, no error (may go to expert review),
   a proposed level above 不达标. Expert review and later stages are not in the master.

The module only appends rows and charts to a streamed (write-only) sheet through the
master's ``Sheet`` wrapper (``append``, ``cell``, ``rows``, ``ws``), and computes its numbers
from the same entries as the tables above it.
"""

from __future__ import annotations

from collections import Counter

from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Alignment, Font

ROW_CM = 0.53  # a default row (15 pt) in centimetres: rows to reserve below a chart
CHART_COL = "G"  # charts stand right of their data tables (columns A–F)
CHART_COLUMNS = 17  # the charts end before column Q (printed with 统计, issue 22)
STATES = ("有错误", "仅有提醒", "无问题")
STATE_COLOURS = ("E06666", "F6B26B", "93C47D")  # the master's red / yellow / green
LEVEL_COLOURS = ("38761D", "6AA84F", "B6D7A8", "E69138", "BFBFBF")  # top level … 未评定
ONE_COLOUR = "4472C4"


def level_buckets(campaign, unrated):
    """The 建议等级 buckets in display order: levels from the top, 不达标, 未评定."""
    return [lv.name for lv in sorted(campaign.levels, key=lambda lv: -lv.rank)] + \
        [campaign.no_level, unrated]


def possible(campaign, category, bucket):
    """Can an application of ``category`` get ``bucket``? (K3: the category's cap)."""
    cat = campaign.category(category)
    rank = {lv.name: lv.rank for lv in campaign.levels}.get(bucket)
    return cat is None or rank is None or rank <= cat.cap


def chart_data(entries, campaign, bucket_of, unrated):
    """The numbers of the four charts, as plain data (tested directly).

    Args:
        entries: the master's entries (``recommender``, ``errors``, ``warnings``, ``app``,
            ``values``).
        bucket_of: entry -> its 建议等级 bucket (master.proposed_bucket).
        unrated: the name of the bucket without a level (master.UNRATED).
    Returns:
        dict with ``by_recommender`` [(name, 有错误, 仅有提醒, 无问题)], ``categories``,
        ``buckets``, ``by_category`` {(category, bucket): n}, ``by_level`` [(bucket, n)],
        ``pipeline`` [(stage, n)].
    """
    recs = sorted({e.recommender for e in entries})
    by_rec = []
    for r in recs:
        mine = [e for e in entries if e.recommender == r]
        err = sum(1 for e in mine if e.errors)
        warn = sum(1 for e in mine if not e.errors and e.warnings)
        by_rec.append((r, err, warn, len(mine) - err - warn))
    buckets = level_buckets(campaign, unrated)
    cats = [c.name for c in campaign.categories]
    by_cat = Counter((e.values.get("category") or "（未填）", bucket_of(e)) for e in entries)
    if any(c not in cats for c, _ in by_cat):
        cats.append("（未填）")
    by_level = Counter(bucket_of(e) for e in entries)
    top = {lv.name for lv in campaign.levels}
    pipeline = [("列入推荐或提交申请书", len(entries)),
                ("申请书已读入", sum(1 for e in entries if e.app is not None)),
                ("无错误（可参加专家评审）", sum(1 for e in entries if e.app is not None and not e.errors)),
                ("有建议等级（三星及以上）",
                 sum(1 for e in entries if e.app is not None and not e.errors
                     and bucket_of(e) in top))]
    return {"by_recommender": by_rec, "categories": cats, "buckets": buckets,
            "by_category": dict(by_cat), "by_level": [(b, by_level.get(b, 0)) for b in buckets],
            "pipeline": pipeline}


def add_stats_charts(sh, entries, campaign, bucket_of, unrated):
    """Append the chart tables and the four charts to the 统计 sheet.

    Args:
        sh: the master's streamed ``Sheet`` (its rows so far are counted in ``sh.rows``).
        entries, campaign, bucket_of, unrated: as :func:`chart_data`.
    Returns:
        dict: chart title -> openpyxl chart (for the tests).
    """
    data = chart_data(entries, campaign, bucket_of, unrated)
    ws = sh.ws
    out = {}

    def table(title, heads, rows):
        sh.append([])
        sh.title(title, _bold(13), last_col=len(heads))
        head_row = sh.rows + 1
        sh.append([sh.cell(h, font=_bold(), align=_WRAP) for h in heads])
        for r in rows:
            sh.append([sh.cell(v) for v in r])
        return head_row, head_row + len(rows)

    def place(chart, title, head_row, last_row, n_cols, horizontal=False, stacked=False,
              labels=False, height=7.5, width=17, colours=None):
        cats = Reference(ws, min_col=1, min_row=head_row + 1, max_row=last_row)
        vals = Reference(ws, min_col=2, max_col=1 + n_cols, min_row=head_row, max_row=last_row)
        chart.add_data(vals, titles_from_data=True)
        chart.set_categories(cats)
        chart.type = "bar" if horizontal else "col"
        chart.title = title
        chart.height, chart.width = height, width
        chart.y_axis.title = "申请数"
        chart.y_axis.majorGridlines = None
        chart.y_axis.delete = False
        chart.x_axis.delete = False
        if horizontal:
            chart.x_axis.scaling.orientation = "maxMin"  # first recommender on top
        if stacked:
            chart.grouping = "stacked"
            chart.overlap = 100
        if labels:
            chart.dataLabels = DataLabelList()
            chart.dataLabels.showVal = True
            for attr in ("showSerName", "showCatName", "showLegendKey", "showPercent"):
                setattr(chart.dataLabels, attr, False)
        chart.gapWidth = 60
        for series, colour in zip(chart.series, colours or (ONE_COLOUR,)):
            series.graphicalProperties.solidFill = colour
            series.graphicalProperties.line.solidFill = colour
        if n_cols == 1:
            chart.legend = None
        else:
            chart.legend.position = "b"
        ws.add_chart(chart, f"{CHART_COL}{head_row - 1}")
        # Keep the next table below this chart.
        for _ in range(max(0, int(height / ROW_CM) + 2 - (last_row - head_row + 2))):
            sh.append([])
        out[title] = chart

    sh.append([])
    sh.title("四、图表（数据见各图左侧）", _bold(13))

    recs = data["by_recommender"]
    h, last = table("按推荐单位：申请数", ["推荐单位", *STATES], recs)
    place(BarChart(), "各推荐单位的申请数", h, last, len(STATES), horizontal=True, stacked=True,
          height=max(7.5, 0.75 * len(recs) + 3), colours=STATE_COLOURS)

    cats, buckets = data["categories"], data["buckets"]
    shown = [b for b in buckets if any(data["by_category"].get((c, b)) or
                                       possible(campaign, c, b) for c in cats)]
    rows = [[c] + [data["by_category"].get((c, b)) or (0 if possible(campaign, c, b) else None)
                   for b in shown] for c in cats]
    h, last = table("按申请类别与建议等级：申请数（空白为该类别不可评的等级）",
                    ["申请类别", *shown], rows)
    colours = [LEVEL_COLOURS[min(buckets.index(b), len(LEVEL_COLOURS) - 1)] for b in shown]
    place(BarChart(), "各申请类别的申请数（按建议等级）", h, last, len(shown), stacked=True,
          colours=colours)

    h, last = table("按建议等级：申请数", ["建议等级", "申请数"], data["by_level"])
    place(BarChart(), "各建议等级的申请数", h, last, 1, labels=True)

    h, last = table("评价进度：各阶段的申请数", ["阶段", "申请数"], data["pipeline"])
    place(BarChart(), "评价进度（各阶段的申请数）", h, last, 1, horizontal=True, labels=True,
          height=7, width=19)
    return out


def _wrap():
    return Alignment(wrap_text=True, vertical="center")


_WRAP = _wrap()


def _bold(size=None):
    return Font(bold=True, size=size)
