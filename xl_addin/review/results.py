"""评审结果.xlsx: the results of `saq review collect`, one sheet per list.

Sheets: 评审结果 (per application), 评分明细 (per expert score), 现场评审名单 (L6),
入围标杆级名单, 公示名单 (C5 window), 进度 (who owes what), 评分不足 (待补评, RULES.md P4),
未评审申请, 文件清单 (every file and unmatched row), 说明 (settings used).
"""

from __future__ import annotations

from copy import copy

from openpyxl.styles import Alignment, Font

from xl_addin import __version__
from xl_addin.review.publish import Listed, grouped, level_heading
from xl_addin.review.sheets import (
    FONT,
    add_table,
    new_workbook,
    put,
    save_atomic,
    set_widths,
    style_header,
    text_width,
    title_cell,
    write_meta,
)
from xl_addin.rules.decide import exclusion_text, onsite_reason, pending_word
from xl_addin.rules.show import fmt_number
from xl_addin.sheet.paper import print_table

TEMPLATE_ID = "saq-review-results"


def _r(x, nd=2):
    return None if x is None else round(x, nd)


def _sheet(wb, title, heading, headers, rows, widths, table=None, notes=(), printed=None):
    """A sheet: title line, notes, header row, rows; an Excel table when ``table``.

    Printed (sheet.paper, issue 22): A4, one page wide, the header row on every page, the
    first ``printed`` columns (default all); every row as tall as its text.
    """
    ws = wb.create_sheet(title)
    title_cell(ws, "A1", heading, size=13)
    r0 = 2
    for n in notes:
        put(ws, r0, 1, n).font = Font(name=FONT, color="595959")
        r0 += 1
    hr = r0 + 1
    for j, h in enumerate(headers, start=1):
        put(ws, hr, j, h)
    style_header(ws, hr, len(headers), height=32)
    wide_cols = {j for row in rows for j, v in enumerate(row, start=1)
                 if isinstance(v, str) and text_width(v) > 8}
    styles = {}  # one styled cell per look, then copies: styling each cell is slow
    for i, row in enumerate(rows, start=hr + 1):
        for j, v in enumerate(row, start=1):
            c = ws.cell(i, j)
            width = widths[j - 1] if j <= len(widths) else 10
            long_text = isinstance(v, str) and (text_width(v) > width - 1 or "\n" in v)
            wide = j in wide_cols  # names and sentences read better left-aligned
            look = (long_text, wide)
            if look not in styles:
                c.font = Font(name=FONT)
                c.alignment = Alignment(vertical="top", wrap_text=long_text,
                                        horizontal="left" if wide else "center")
                styles[look] = copy(c._style)  # before put() may add quotePrefix
            else:
                c._style = copy(styles[look])
            put(ws, i, j, v)
    if table and rows:
        add_table(ws, table, hr, 1, hr + len(rows), len(headers), style="TableStyleLight9")
    if not rows:
        put(ws, hr + 1, 1, "（无）")
    set_widths(ws, widths)
    ws.freeze_panes = ws.cell(hr + 1, 3)
    print_table(ws, hr, printed or len(headers), hr + max(len(rows), 1))
    return ws


def _text_column(ws, col, n):
    """Format a column's data cells as text (@) so Excel never reads them as numbers."""
    hr = ws.freeze_panes and ws[ws.freeze_panes].row - 1
    for r in range(hr + 1, hr + n + 1):
        ws.cell(r, col).number_format = "@"


def _publication_sheet(wb, campaign, rv, window):
    """公示名单 (draft): only organisation, project, category and level, grouped by level
    then category — no 申请编号, no scores, no rule codes (issue 14). The list staff publish
    comes from `saq stage publicize` after 合议, 现场评审 and 审定."""
    items = [Listed(a.app.org_name, a.app.project_name or "", a.app.category or "", a.proposed)
             for a in rv.publication_list]
    rows = []
    for rank, groups in grouped(items, campaign):
        for cat, its in groups:
            for i in its:
                rows.append([len(rows) + 1, i.org_name, i.project_name, cat,
                             level_heading(campaign, rank)])
    _sheet(wb, "公示名单", f"{campaign.title} 公示名单（草稿：专家评审建议等级）",
           ["序号", "组织名称", "项目名称", "申请类别", "等级"], rows, [6, 36, 30, 9, 26],
           "publication_list",
           notes=[window, "草稿：须经合议、现场评审和审定；审定后另行生成正式公示名单。"])


def write_results(path, campaign, res):
    """Write the results workbook of a CollectResult: one ``_write_*`` step per sheet.

    Returns:
        Path
    """
    rv = res.review
    wb = new_workbook()
    wb.remove(wb.active)
    window = _window_text(rv)
    _write_results_sheet(wb, campaign, rv)
    _write_scores(wb, rv)
    _write_onsite(wb, campaign, rv)
    _write_shortlist(wb, campaign, rv)
    _publication_sheet(wb, campaign, rv, window)
    _write_progress(wb, res)
    _write_below_k(wb, campaign, rv)
    _write_not_reviewed(wb, rv)
    _write_files(wb, res)
    _write_about(wb, campaign, rv, window)
    wb.properties.title = f"{campaign.title} 专家评审结果"  # issue 22: the document says what it is
    write_meta(wb, {"template_id": TEMPLATE_ID, "campaign_year": campaign.year,
                    "generator_version": __version__})
    return save_atomic(wb, path)


def _level_text(campaign, rank):
    """A level as the lists show it: "用户满意（四星）"; 不达标 for none."""
    lvl = campaign.level(rank) if rank else None
    return f"{lvl.name}（{lvl.stars}）" if lvl else campaign.level_name(0)


def _window_text(rv):
    start, end = rv.publication
    if not start:
        return "公示期：未定"
    return f"公示期：{start.year}年{start.month}月{start.day}日至{end.year}年{end.month}月{end.day}日"


def _warnings(campaign, a):
    """The application's warnings from the master, one a line (RULES.md P2, P3)."""
    return exclusion_text([f for f in a.app.findings if not f.is_error], campaign)


def _write_results_sheet(wb, campaign, rv):
    """评审结果: the printed summary columns first (one A4 page across), the rest after them,
    then the experts' columns (评分明细 has every expert's score)."""
    slots = max([len(a.scores) for a in rv.apps] + [1])
    # The printed columns first (one A4 page across, issue 22), then the rest of the
    # summary (提醒: the application's warnings, P3), then the experts' columns.
    heads = ["申请编号", "申请组织名称", "申请类别", "申请等级", "满意度", "有效评分", "评审得分",
             "评价结论", "建议等级", "分歧", "现场评审", "入围标杆", "状态",
             "平均分", "去极值均值", "极差", "测量报告应用", "风险", "否决项", "可评等级", "等级说明",
             "提醒"]
    n_printed = 13
    for i in range(1, slots + 1):
        heads += [f"专家{i}", f"得分{i}", f"结论{i}", f"标准分{i}"]
    rows = []
    for a in rv.apps:
        st = a.star
        row = [a.app.id, a.app.org_name, a.app.category,
               campaign.level(a.app.level).applied if a.app.level else "", a.app.satisfaction,
               f"{a.n}/{a.k}", _r(a.final), a.conclusion,
               _level_text(campaign, a.proposed) if st else "", a.disagreement or "",
               "是" if a.onsite else "", "是" if a.shortlist else "", a.status,
               _r(a.mean), _r(a.trimmed), _r(a.range), a.report_use or "", a.risk or "",
               a.veto or "", _level_text(campaign, st.achievable) if st else "",
               st.reason if st else "", _warnings(campaign, a)]
        for i in range(slots):
            if i < len(a.scores):
                s = a.scores[i]
                row += [s.expert, _r(s.total) if s.counted else s.status,
                        s.conclusion if s.counted else "", _r(s.normalised, 1)]
            else:
                row += ["", "", "", ""]
        rows.append(row)
    widths = [11, 28, 7, 10, 7, 7, 8, 8, 19, 20, 7, 7, 14,
              7, 8, 6, 9, 6, 6, 18, 34, 40] + [8, 9, 6, 7] * slots
    cfg = rv.settings
    _sheet(wb, "评审结果", f"{campaign.title} 专家评审结果", heads, rows, widths,
           "review_results",
           notes=[f"评审得分：有效评分不少于 {cfg['trimmed_min']} 个时去掉一个最高分和一个最低分"
                  f"后取平均，否则取平均分；极差大于 {fmt_number(cfg['disagreement_range'])} "
                  f"分或结论不一致标记为“分歧”。标准分为按专家标准化后的得分（仅供参考）。"
                  f"每份申请需 {cfg['k']} 个有效评分。“提醒”为汇总表中该申请的提醒，"
                  f"须核实的在审定中核实（P3）。"], printed=n_printed)


def _write_scores(wb, rv):
    """评分明细: one row per expert score."""
    detail = []
    for a in rv.apps:
        for s in a.scores:
            detail.append([a.app.id, a.app.org_name, s.expert, s.status, _r(s.total),
                           s.conclusion or "", s.report_use or "", s.risk or "", s.veto or "",
                           _r(s.z, 3), _r(s.normalised, 1), "是" if s.counted else "否",
                           s.comment, "；".join(s.problems)])
    wd = _sheet(wb, "评分明细", "每位专家的评分", ["申请编号", "申请组织名称", "专家", "状态", "专家总分",
                                             "评价结论", "测量报告应用", "风险", "否决项", "z 分数",
                                             "标准分", "计入", "评审意见", "填写问题"], detail,
                [11, 24, 10, 16, 8, 8, 9, 6, 6, 7, 7, 5, 30, 50], "review_scores")
    _text_column(wd, 13, len(detail))  # 评审意见 exactly as typed ("-数据不全", "+1")


LIST_HEADS = ["序号", "申请编号", "申请组织名称", "申报项目名称", "申请类别", "建议等级", "评审得分",
              "推荐单位"]
LIST_WIDTHS = [5, 11, 26, 22, 8, 21, 8, 22]  # 建议等级: “用户满意标杆（五星）” on one line


def _listing(campaign, apps, extra):
    return [[i, a.app.id, a.app.org_name, a.app.project_name, a.app.category,
             _level_text(campaign, a.proposed), _r(a.final), a.app.recommender] + extra(a)
            for i, a in enumerate(apps, start=1)]


def _write_onsite(wb, campaign, rv):
    """现场评审名单 (L6): the reason of each row is asked from the rule (rules.decide)."""
    _sheet(wb, "现场评审名单", "现场评审名单", LIST_HEADS + ["原因"],
           _listing(campaign, rv.onsite, lambda a: [onsite_reason(
               campaign, a.app.category, a.app.level, a.proposed)]),
           LIST_WIDTHS + [40], "onsite_list",
           notes=[campaign.decision_labels.get("L6", "")])


def _write_shortlist(wb, campaign, rv):
    _sheet(wb, "入围标杆级名单", "入围标杆级名单", LIST_HEADS + ["现场评审"],
           _listing(campaign, rv.shortlist, lambda a: ["是" if a.onsite else ""]),
           LIST_WIDTHS + [9], "shortlist")


def _write_progress(wb, res):
    """进度: who still owes which scores."""
    rv = res.review
    prog = []
    owed_by = {}
    for a in rv.apps:
        for s in a.scores:
            owed_by.setdefault(s.expert, []).append((a.app.id, s))
    files = {f.expert: f for f in res.files if f.expert and f.status == "已使用"}
    for e in res.manifest.experts:
        mine = owed_by.get(e.name, [])
        done = sum(1 for _, s in mine if s.counted)
        rec = sum(1 for _, s in mine if s.recused)
        owed = [f"{i}（{s.status}）" for i, s in mine if not s.counted and not s.recused]
        f = files.get(e.name)
        prog.append([e.name, e.unit, len(mine), done, rec, len(owed),
                     f.rel if f else ("未收到" if mine else "无分配"), "；".join(owed)])
    _sheet(wb, "进度", "评分进度：谁还欠哪些评分", ["专家", "单位", "已分配", "已完成", "回避",
                                           "未完成", "评分表文件", "未完成明细"], prog,
           [10, 24, 7, 7, 6, 7, 30, 70], "review_progress")


def _write_below_k(wb, campaign, rv):
    """评分不足: the applications 待补评 (RULES.md P4) and what to do about each."""
    short = []
    for a in rv.below_k:
        rec = "、".join(s.expert for s in a.scores if s.recused)
        owed = "、".join(f"{s.expert}（{s.status}）" for s in a.scores
                        if not s.counted and not s.recused)
        lacking = len(a.scores) - sum(s.recused for s in a.scores) < a.k
        short.append([a.app.id, a.app.org_name, a.app.category, a.n, a.k, rec, owed,
                      "需增派专家（saq review add）" if lacking else
                      "待专家完成评分；专家不能完成时用 saq review add 增派"])
    _sheet(wb, "评分不足", f"{pending_word(campaign)}：有效评分少于规定人数的申请（P4，含回避）",
           ["申请编号", "申请组织名称", "申请类别", "有效评分", "规定人数", "回避专家", "未完成",
            "处理"], short, [11, 26, 8, 8, 8, 20, 40, 30], "below_k",
           notes=["待补评的申请不预填合议等级，列入名单时不能公示（P4）。"])


def _write_not_reviewed(wb, rv):
    """未评审申请: why each was excluded — every error with its words, then the warnings
    (RULES.md P2)."""
    _sheet(wb, "未评审申请", "未参加专家评审的申请", ["申请编号", "申请组织名称", "申请类别", "原因"],
           [[a.id, a.org_name, a.category, why] for a, why in rv.not_reviewed],
           [11, 26, 8, 80], "not_reviewed",
           notes=["原因中先列全部错误，再列提醒（P2）。"])


def _write_files(wb, res):
    frows = [[f.rel, f.status, f.expert, f.rows, f.counted, f.reason] for f in res.files]
    frows += [[f, "未计入的行", "", None, None, f"{where}：{why}"] for f, where, why in
              res.extra_rows]
    _sheet(wb, "文件清单", "读取的文件与未计入的行", ["文件", "状态", "专家", "行数", "有效评分", "说明"],
           frows, [34, 10, 10, 6, 8, 80], "file_list")


def _write_about(wb, campaign, rv, window):
    cfg = rv.settings
    about = [["每份申请专家人数 k", cfg["k"]], ["分歧：极差大于（分）", cfg["disagreement_range"]],
             ["去极值均值的最少评分数", cfg["trimmed_min"]],
             ["评审得分取去极值均值", "是" if cfg["use_trimmed"] else "否"],
             ["多数意见平票时", "取导致较低等级的意见（从严）"],
             ["公示期（默认，C5 共 {} 天）".format(campaign.calendar["C5"].days),
              window.removeprefix("公示期：")],
             ["活动", campaign.title], ["生成程序版本", __version__]]
    _sheet(wb, "说明", "计算说明", ["项目", "取值"], about, [28, 70])
