"""分配表.xlsx: what `saq review assign` decided, read back by `saq review collect`.

It is the authority for which expert owes which application and for each application's
category, level and satisfaction (an expert could overwrite the locked cells of their copy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from openpyxl.styles import Alignment

from xl_addin import __version__
from xl_addin.errors import InputFileError
from xl_addin.review.assign import Application, Expert, split_list
from xl_addin.review.sheets import (
    add_table,
    fit_row_heights,
    new_workbook,
    put,
    save_atomic,
    set_widths,
    style_header,
    title_cell,
    verbatim,
    write_meta,
)
from xl_addin.review.xlread import find_table, open_workbook, read_meta, table_rows
from xl_addin.rules import decide, parse
from xl_addin.sheet.paper import print_table

FILE_NAME = "分配表.xlsx"
TEMPLATE_ID = "saq-review-assignment"
APPS_TABLE, EXPERTS_TABLE = "review_apps", "review_experts"
# The printed columns first (issue 22: one page wide); the rest stay on screen. Read back
# by header, so the order is free. 提醒: the application's warnings from the master, one a
# line (the stages show those staff must confirm, RULES.md P3).
APP_HEADERS = ("申请编号", "申请组织名称", "申报项目名称", "申请类别", "申请等级", "评审专家",
               "分配说明", "统一社会信用代码", "推荐单位", "满意度", "专家人数", "来源文件", "提醒")
APP_WIDTHS = (11, 28, 24, 8, 11, 30, 36, 21, 20, 7, 8, 30, 60)
APP_PRINTED = 7  # 申请编号 … 分配说明
EXPERT_HEADERS = ("姓名", "单位", "回避单位", "专业", "分配申请数", "评分表文件", "分配编号")
SEP = "、"
NOT_ASSIGNED_MORE = ("统一社会信用代码", "申报项目名称", "推荐单位", "申请等级")


@dataclass
class Manifest:
    k: int
    apps: list  # Application (assigned or not)
    by_app: dict  # app id -> tuple of expert names
    experts: list  # Expert
    files: dict = field(default_factory=dict)  # expert name -> workbook file name
    assignment_ids: dict = field(default_factory=dict)  # expert name -> fingerprint
    not_assigned: list = field(default_factory=list)  # (Application, reason)
    batches: list = field(default_factory=list)  # Batch: experts added by `saq review add`
    problems: list = field(default_factory=list)  # (source, where, message) of the inputs


@dataclass(frozen=True)
class Batch:
    """One workbook of experts added later (`saq review add`), besides their first one."""

    number: int  # 1, 2, … per expert
    expert: str
    file: str
    assignment_id: str
    app_ids: tuple


BATCH_SHEET, BATCH_TABLE = "增派", "review_batches"
BATCH_HEADERS = ("批次", "姓名", "评分表文件", "分配编号", "申请编号")


def write_manifest(path, campaign, manifest, shortfalls, problems):
    """Write 分配表.xlsx.

    Args:
        manifest: Manifest; shortfalls: assign.Shortfall list;
        problems: (source, where, message) of the inputs (master, experts.xlsx).
    """
    wb = new_workbook()
    ws = wb.active
    ws.title = "分配"
    title_cell(ws, "A1", f"{campaign.title} 专家评审分配表（每份申请 {manifest.k} 位专家）")
    short = {s.app_id: s for s in shortfalls}
    for j, h in enumerate(APP_HEADERS, start=1):
        put(ws, 3, j, h)
    style_header(ws, 3, len(APP_HEADERS))
    r = 3
    for a in manifest.apps:
        names = manifest.by_app.get(a.id)
        if names is None:
            continue
        r += 1
        note = ""
        if a.id in short:
            note = f"仅分配 {short[a.id].got} 位（需 {short[a.id].needed} 位）：{short[a.id].reason}"
        lvl = campaign.level(a.level).applied if a.level else None
        for j, v in enumerate([a.id, a.org_name, a.project_name, a.category, lvl,
                               SEP.join(names), note, a.uscc, a.recommender, a.satisfaction,
                               len(names), a.source_file, decide.exclusion_text(a.findings, campaign)],
                              start=1):
            put(ws, r, j, v)
    add_table(ws, APPS_TABLE, 3, 1, r, len(APP_HEADERS))
    _wrap(ws, len(APP_HEADERS), 4, r)
    set_widths(ws, APP_WIDTHS)
    ws.freeze_panes = "C4"
    print_table(ws, 3, APP_PRINTED, max(r, 4))
    fit_row_heights(ws, 4, r, APP_WIDTHS)  # the 提醒 column too, beyond the printed ones

    we = wb.create_sheet("专家")
    for j, h in enumerate(EXPERT_HEADERS, start=1):
        put(we, 1, j, h)
    style_header(we, 1, len(EXPERT_HEADERS))
    loads = {e.name: 0 for e in manifest.experts}
    for names in manifest.by_app.values():
        for n in names:
            loads[n] += 1
    for i, e in enumerate(manifest.experts, start=2):
        for j, v in enumerate([e.name, e.unit, SEP.join(e.avoid),
                               SEP.join(e.categories) or "全部", loads[e.name],
                               manifest.files.get(e.name, ""),
                               manifest.assignment_ids.get(e.name, "")], start=1):
            put(we, i, j, v)
    add_table(we, EXPERTS_TABLE, 1, 1, len(manifest.experts) + 1, len(EXPERT_HEADERS))
    set_widths(we, [12, 26, 30, 24, 10, 30, 14])
    print_table(we, 1, len(EXPERT_HEADERS) - 1, len(manifest.experts) + 1)

    wn = wb.create_sheet("未参加评审")
    # 原因: every error with its words, then the warnings, one a line (RULES.md P2). The last
    # four columns let the stages after review (issue 14) publish or override an excluded
    # application with its key and project.
    heads = ("申请编号", "申请组织名称", "申请类别", "原因") + NOT_ASSIGNED_MORE
    for j, h in enumerate(heads, start=1):
        put(wn, 1, j, h)
    style_header(wn, 1, len(heads))
    for i, (a, why) in enumerate(manifest.not_assigned, start=2):
        lvl = campaign.level(a.level).applied if a.level else None
        for j, v in enumerate([a.id, a.org_name, a.category, why, a.uscc, a.project_name,
                               a.recommender, lvl], start=1):
            put(wn, i, j, v)
    _wrap(wn, 4, 2, len(manifest.not_assigned) + 1)
    set_widths(wn, [11, 26, 8, 60, 21, 22, 20, 11])
    print_table(wn, 1, 4, max(len(manifest.not_assigned) + 1, 2))

    wb_ = wb.create_sheet(BATCH_SHEET)
    for j, h in enumerate(BATCH_HEADERS, start=1):
        put(wb_, 1, j, h)
    style_header(wb_, 1, len(BATCH_HEADERS))
    for i, b in enumerate(manifest.batches, start=2):
        for j, v in enumerate([b.number, b.expert, b.file, b.assignment_id,
                               SEP.join(b.app_ids)], start=1):
            put(wb_, i, j, v)
    add_table(wb_, BATCH_TABLE, 1, 1, len(manifest.batches) + 1, len(BATCH_HEADERS))
    set_widths(wb_, [6, 12, 36, 14, 60])
    print_table(wb_, 1, len(BATCH_HEADERS), len(manifest.batches) + 1)

    wp = wb.create_sheet("问题")
    for j, h in enumerate(("来源", "位置", "说明"), start=1):
        put(wp, 1, j, h)
    style_header(wp, 1, 3)
    rows = [("分配", f"申请 {s.app_id}", f"仅分配 {s.got} 位专家（需 {s.needed} 位）：{s.reason}")
            for s in shortfalls] + list(problems)
    for i, (src, row, msg) in enumerate(rows, start=2):
        for j, v in enumerate([str(src), row, msg], start=1):
            put(wp, i, j, v)
    set_widths(wp, [24, 14, 90])
    print_table(wp, 1, 3, len(rows) + 1)
    wb.properties.title = f"{campaign.title} 专家评审分配表"
    write_meta(wb, {"template_id": TEMPLATE_ID, "campaign_year": campaign.year,
                    "generator_version": __version__, "per_application": manifest.k})
    return save_atomic(wb, path)


def _wrap(ws, col, first, last):
    """Wrap the column that holds one problem a line (P2); the rows read from the top."""
    top, wrap = Alignment(vertical="top"), Alignment(vertical="top", wrap_text=True)
    for r in range(first, last + 1):
        for c in range(1, ws.max_column + 1):
            ws.cell(r, c).alignment = wrap if c == col else top


def read_manifest(path, campaign):
    """Read 分配表.xlsx back.

    Raises:
        InputFileError: missing, unreadable, or not an assignment file of this campaign.
    """
    p = Path(path)
    if not p.exists():
        raise InputFileError(p, f"找不到分配表（{FILE_NAME}），请先运行 saq review assign，"
                                "并把专家交回的评分表放在同一文件夹")
    wb = open_workbook(p)
    meta = read_meta(wb)
    if meta.get("template_id") != TEMPLATE_ID:
        raise InputFileError(p, "不是 saq review assign 生成的分配表")
    if str(meta.get("campaign_year")) != str(campaign.year):
        raise InputFileError(p, f"分配表属于 {meta.get('campaign_year')} 年活动，"
                                f"当前为 {campaign.year} 年")
    k = parse.integer(meta.get("per_application")) or campaign.review["per_application"]
    where = find_table(wb, APPS_TABLE, ["申请编号", "评审专家"])
    wexp = find_table(wb, EXPERTS_TABLE, ["姓名", "分配编号"])
    if where is None or wexp is None:
        raise InputFileError(p, "分配表缺少“分配”或“专家”表，请重新运行 saq review assign")
    experts, files, ids = [], {}, {}
    for _, row in table_rows(wb, wexp):
        name = parse.text(row.get("姓名"))
        if not name:
            continue
        cats = () if row.get("专业") in (None, "全部") else split_list(row.get("专业"))
        experts.append(Expert(name, parse.text(row.get("单位")) or "",
                              split_list(row.get("回避单位")), cats))
        files[name] = parse.text(row.get("评分表文件")) or ""
        ids[name] = parse.text(row.get("分配编号")) or ""
    apps, by_app = [], {}
    for _, row in table_rows(wb, where):
        app_id = parse.text(row.get("申请编号"))
        if not app_id:
            continue
        try:
            lvl = parse.level(row.get("申请等级"), campaign)
        except parse.Unreadable:
            lvl = None
        sat = row.get("满意度")
        apps.append(Application(app_id, verbatim(row.get("申请组织名称")),
                                parse.text(row.get("申请类别")),
                                parse.text(row.get("推荐单位")) or "",
                                parse.text(row.get("统一社会信用代码")) or "", True, lvl,
                                float(sat) if isinstance(sat, (int, float)) else None,
                                verbatim(row.get("申报项目名称")),
                                source_file=str(row.get("来源文件") or "").strip(),
                                findings=decide.findings_from_text(row.get("提醒"), campaign)))
        by_app[app_id] = split_list(row.get("评审专家"))
    not_assigned = []
    if "未参加评审" in wb.sheetnames:
        for row in wb.rows("未参加评审")[1:]:
            row = row + [None] * (4 - len(row))
            if row and row[0]:
                more = dict(zip(NOT_ASSIGNED_MORE, row[4:]))
                try:
                    lvl = parse.level(more.get("申请等级"), campaign)
                except parse.Unreadable:
                    lvl = None
                a = Application(str(row[0]), verbatim(row[1]), parse.text(row[2]),
                                parse.text(more.get("推荐单位")) or "",
                                parse.text(more.get("统一社会信用代码")) or "", False, lvl,
                                None, verbatim(more.get("申报项目名称")),
                                note=verbatim(row[3]),
                                findings=decide.findings_from_text(row[3], campaign))
                not_assigned.append((a, a.note))
    batches = []
    wb_ = find_table(wb, BATCH_TABLE, ["批次", "分配编号"]) if BATCH_SHEET in wb.sheetnames \
        else None
    for _, row in (table_rows(wb, wb_) if wb_ else ()):
        try:
            number = parse.integer(row.get("批次"))
        except parse.Unreadable:
            number = None
        name = parse.text(row.get("姓名"))
        if number and name:
            batches.append(Batch(number, name, str(row.get("评分表文件") or ""),
                                 str(row.get("分配编号") or ""),
                                 split_list(row.get("申请编号"))))
    problems = []
    if "问题" in wb.sheetnames:  # the inputs' problems, carried over when rewritten
        for row in wb.rows("问题")[1:]:
            row = tuple(row[:3]) + (None,) * (3 - len(row[:3]))
            if row[0] and row[0] != "分配":
                problems.append(tuple("" if v is None else str(v) for v in row))
    return Manifest(k, apps, by_app, experts, files, ids, not_assigned, batches, problems)
