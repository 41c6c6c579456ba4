"""The stages after expert review (通知 §四(六)(七)): 合议, 现场评审, 审定, 公示, 发布.

One staff workbook (评定.xlsx) carries a sheet per stage; staff type their decisions in the
yellow columns. Every command first reads the workbook back, compares each yellow cell with
what the program last showed there (hidden sheet ``_shown``), and records every difference
in the registry as a decision with an audit line (who, when, old → new, reason). Then the
workbook is written anew from the expert review and the registry's decisions, so a re-run
never loses a decision, and the 审计记录 sheet lists the whole trail.

Level of an application, stage by stage:
- 专家评审: the proposed level of aggregate (L5), or excluded (an error in consolidation).
- 合议: the panel's agreed level, prefilled with the proposed level; rows with a
  disagreement flag (极差 or 结论不一致) come first and are marked.
- 现场评审 (L6 list): result 通过 / 不通过 and the level after the visit.
- 审定: the program's result (合议 level, or the level after the visit; excluded → 不达标),
  which staff may change to any level — an excluded application included — with a reason.
- 公示: the list of 审定 levels above 不达标, in a window set by staff (C5 days, default in the
  campaign's [stages] table); objections are entered in the 公示 sheet.
- 发布: the final list; its levels go into the registry for next year's E06 and 复评.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from xl_addin import __version__
from xl_addin import registry as regmod
from xl_addin.errors import InputFileError, SaqError
from xl_addin.review.publish import Listed, docx_to_pdf, grouped, level_heading, write_docx, write_xlsx
from xl_addin.review.sheets import (
    FONT,
    INPUT_FILL,
    add_table,
    put,
    save_atomic,
    set_widths,
    style_header,
    text_width,
    title_cell,
    write_meta,
)
from xl_addin.review.xlread import find_table, open_workbook, read_meta, table_rows
from xl_addin.rules import parse
from xl_addin.rules.stars import needs_onsite_review
from xl_addin.sheet.paper import print_table

TEMPLATE_ID = "saq-stage-workbook"
SHOWN = "_shown"
ALL = "*"  # app_id of campaign-wide decisions (公示 window, 发布)
RELEASED = "本年发布"  # the registry's source of results recorded by `saq stage publish`
SHOW_CHANGES = 12  # changes listed on the terminal; the 审计记录 sheet has them all
DELIB, ONSITE, APPROVAL, PUBLICATION, RELEASE = "合议", "现场评审", "审定", "公示", "发布"


class StageError(SaqError):
    """A stage cannot run yet (e.g. 发布 before 公示)."""

    exit_code = 1


@dataclass
class StageApp:
    id: str
    org_name: str
    project_name: str
    category: str
    level_applied: int | None
    uscc: str
    recommender: str
    reviewed: bool
    note: str = ""  # why excluded / review status
    score: float | None = None
    n: str = ""
    disagreement: str = ""
    proposed: int | None = None
    onsite: bool = False


@dataclass
class Sheet:
    """A stage sheet: its table name, the input columns (header -> kind), reason column."""

    title: str
    table: str
    inputs: dict
    reason: str = ""


SHEETS = {
    DELIB: Sheet("合议", "deliberation", {"合议等级": "level", "合议理由": "text"}, "合议理由"),
    ONSITE: Sheet("现场评审", "onsite_results",
                  {"现场评审日期": "date", "现场评审专家": "text", "现场评审结论": "onsite",
                   "现场评审后等级": "level", "现场评审说明": "text"}, "现场评审说明"),
    APPROVAL: Sheet("审定", "approval", {"审定等级": "level", "审定理由": "text"}, "审定理由"),
    PUBLICATION: Sheet("公示", "publication", {"异议与处理": "text"}, "异议与处理"),
}


@dataclass
class StageRun:
    workbook: Path
    registry: Path
    changes: list = field(default_factory=list)  # (stage, app id, field, old, new)
    problems: list = field(default_factory=list)  # Chinese messages
    outputs: list = field(default_factory=list)  # documents written
    counts: dict = field(default_factory=dict)


# ---------------------------------------------------------------------- the applications
def stage_apps(res, campaign):
    """StageApp list from a review CollectResult: reviewed ones, then the excluded ones."""
    out = []
    for a in res.review.apps:
        app = a.app
        out.append(StageApp(app.id, app.org_name, app.project_name or "", app.category or "",
                            app.level, app.uscc, app.recommender, True,
                            "" if a.complete else a.status,
                            None if a.final is None else round(a.final, 2), f"{a.n}/{a.k}",
                            a.disagreement, a.proposed, a.onsite))
    for app, why in res.review.not_reviewed:
        out.append(StageApp(app.id, app.org_name, app.project_name or "", app.category or "",
                            app.level, app.uscc, app.recommender, False, why))
    return sorted(out, key=lambda a: a.id)


def level_text(campaign, rank):
    return "" if rank is None else campaign.level_name(rank)


def read_level(v, campaign):
    """A level word typed by staff → rank (0 = 不达标); raises parse.Unreadable."""
    from xl_addin.review.history import _rank
    return _rank(v, campaign)


class State:
    """Current values of every input cell: recorded decision, else the program's value."""

    def __init__(self, campaign, apps, reg):
        self.c, self.apps, self.reg = campaign, apps, reg
        self.dec = {s: reg.decisions(campaign.year, s) for s in (DELIB, ONSITE, APPROVAL,
                                                                  PUBLICATION, RELEASE)}

    def get(self, stage, app, fld):
        d = self.dec[stage]
        key = (app.id if app is not None else ALL, fld)
        if key in d:
            return d[key] or ""
        return self.auto(stage, app, fld)

    def decided(self, stage, app_id, fld):
        return (app_id, fld) in self.dec[stage]

    def auto(self, stage, app, fld):
        """The program's value of an input cell before anyone changes it."""
        c = self.c
        if stage == DELIB and fld == "合议等级":
            return level_text(c, app.proposed)
        if stage == APPROVAL and fld == "审定等级":
            return level_text(c, self.program_result(app)[0])
        return ""

    def rank(self, stage, app, fld):
        v = self.get(stage, app, fld)
        try:
            return read_level(v, self.c) if v else None
        except parse.Unreadable:
            return None

    def needs_onsite(self, app):
        r = self.rank(DELIB, app, "合议等级")
        return app.reviewed and (app.onsite or bool(r and needs_onsite_review(
            self.c, app.category, app.level_applied, r)))

    def program_result(self, app):
        """(rank, basis): what 审定 starts from."""
        c = self.c
        if not app.reviewed:
            return 0, f"未参加专家评审：{app.note}"
        agreed = self.rank(DELIB, app, "合议等级")
        if agreed is None:
            return None, "合议等级未填写"
        basis = "合议等级" if self.decided(DELIB, app.id, "合议等级") else "专家评审建议等级"
        if not self.needs_onsite(app):
            return agreed, basis
        after = self.rank(ONSITE, app, "现场评审后等级")
        verdict = self.get(ONSITE, app, "现场评审结论")
        if after is not None:
            return after, "现场评审后等级"
        if verdict == c.stages.get("onsite_results", ["通过"])[0]:
            return agreed, f"{basis}，现场评审通过"
        if verdict:
            lower = next((lv.rank for lv in c.levels if lv.rank < agreed and
                          not needs_onsite_review(c, app.category, lv.rank, lv.rank)), 0)
            return lower, f"现场评审{verdict}，取不需现场评审的最高等级"
        return agreed, "现场评审结果未录入"

    def final(self, app):
        return self.rank(APPROVAL, app, "审定等级")

    def window(self):
        start = self.get(PUBLICATION, None, "公示开始日期")
        if not start:
            return None, None
        return self.c.publication_window(dt.date.fromisoformat(start))


# ---------------------------------------------------------------------- reading staff input
def _cell_text(v, kind, campaign):
    """A typed cell as the text recorded; raises parse.Unreadable."""
    if parse.is_blank(v):
        return ""
    if kind == "level":
        return campaign.level_name(read_level(v, campaign))
    if kind == "date":
        d = parse.date(v)
        return d.isoformat() if d else ""
    if kind == "onsite":
        t = parse.norm(str(v))
        allowed = campaign.stages.get("onsite_results", ["通过", "不通过"])
        if t not in allowed:
            raise parse.Unreadable(v, "应为 " + " 或 ".join(allowed))
        return t
    return str(v).strip() if isinstance(v, str) else parse.text(v) or ""


def read_shown(wb):
    """(stage, app id, field) -> the value the program last wrote in that cell."""
    if SHOWN not in wb.sheetnames:
        return {}
    out = {}
    for row in wb.rows(SHOWN)[1:]:
        row = list(row) + [None] * 4
        if row[0]:
            out[(row[0], str(row[1]), row[2])] = "" if row[3] is None else str(row[3])
    return out


def sync(path, campaign, apps, reg, who):
    """Record every staff edit of the workbook at ``path`` as a decision (with audit).

    Returns:
        (changes, problems)
    """
    changes, problems = [], []
    p = Path(path)
    if not p.exists():
        return changes, problems
    wb = open_workbook(p)
    try:
        shown = read_shown(wb)
        byid = {a.id: a for a in apps}
        for stage, sh in SHEETS.items():
            where = find_table(wb, sh.table, ["申请编号"] + list(sh.inputs)[:1])
            if where is None:
                continue
            for r, raw in table_rows(wb, where, stop_blank=False):
                row = {parse.norm(str(k)).replace(" ", ""): v for k, v in raw.items()}
                app_id = parse.text(row.get("申请编号"))
                app = byid.get(app_id)
                if app is None:
                    continue
                reason_cell = row.get(parse.norm(sh.reason).replace(" ", "")) if sh.reason \
                    else None
                reason = "" if parse.is_blank(reason_cell) else str(reason_cell).strip()
                for fld, kind in sh.inputs.items():
                    key = (stage, app.id, fld)
                    if key not in shown:
                        continue  # a cell the program did not write: nothing to compare
                    try:
                        new = _cell_text(row.get(parse.norm(fld).replace(" ", "")), kind,
                                         campaign)
                    except parse.Unreadable as e:
                        msg = f"“{e.raw}”无法识别，{e.expected}；未采纳，仍为“{shown[key]}”"
                        problems.append(f"{sh.title}!第 {r} 行 {app.org_name}：“{fld}”的值{msg}")
                        reg.audit(stage, app.id, app.org_name, f"{fld}（未采纳）", shown[key],
                                  str(e.raw), msg, who, campaign.year)
                        continue
                    old = shown[key]
                    if new == old:
                        continue
                    subject = f"{app.org_name}" + (f"·{app.project_name}" if app.project_name
                                                   else "")
                    why = reason if fld != sh.reason else ""
                    if stage == APPROVAL and fld == "审定等级" and not app.reviewed:
                        if new and new != campaign.no_level:
                            if not reason:
                                problems.append(
                                    f"审定!第 {r} 行 {app.org_name}：推翻自动排除须填写审定理由；"
                                    f"未采纳，仍为“{old}”")
                                reg.audit(stage, app.id, app.org_name, f"{fld}（未采纳）", old,
                                          new, "推翻自动排除须填写审定理由，未采纳", who,
                                          campaign.year)
                                continue
                            why = f"推翻自动排除（{app.note}）：{reason}"
                    reg.decide(campaign.year, stage, app.id, fld, old, new, who, why, subject)
                    changes.append((stage, app.id, fld, old, new))
    finally:
        wb.close()
    return changes, problems


# ---------------------------------------------------------------------- writing the workbook
def _write_sheet(wb, title, heading, notes, headers, rows, widths, table, inputs=(),
                 validations=None, mark_rows=()):
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation
    ws = wb.create_sheet(title)
    title_cell(ws, "A1", heading, size=13)
    for i, n in enumerate(notes, start=2):
        put(ws, i, 1, n).font = Font(name=FONT, color="595959")
    hr = len(notes) + 3
    for j, h in enumerate(headers, start=1):
        put(ws, hr, j, h)
    style_header(ws, hr, len(headers), height=30)
    fill = PatternFill("solid", fgColor=INPUT_FILL)
    mark = PatternFill("solid", fgColor="FCE4D6")
    in_cols = {headers.index(h) + 1 for h in inputs if h in headers}
    for i, row in enumerate(rows, start=hr + 1):
        for j, v in enumerate(row, start=1):
            c = put(ws, i, j, v)
            long_text = isinstance(v, str) and text_width(v) > widths[j - 1] - 1
            c.font = Font(name=FONT)
            c.alignment = Alignment(vertical="top", wrap_text=long_text)
            if j in in_cols:
                c.fill = fill
            elif (i - hr - 1) in mark_rows:
                c.fill = mark
    last = hr + max(len(rows), 1)
    if rows:
        add_table(ws, table, hr, 1, last, len(headers), style="TableStyleLight1")
    else:
        put(ws, hr + 1, 1, "（无）")
    for h, choices in (validations or {}).items():
        if h in headers and rows:
            col = ws.cell(hr, headers.index(h) + 1).column_letter
            dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"',
                                allow_blank=True, showErrorMessage=False)
            dv.add(f"{col}{hr + 1}:{col}{last}")
            ws.add_data_validation(dv)
    set_widths(ws, widths)
    ws.freeze_panes = ws.cell(hr + 1, 3)
    print_table(ws, hr, len(headers), last)  # issue 22: A4, one page wide, rows fit their text
    return ws


def _subject(a):
    return a.project_name or "—"


def write_workbook(path, campaign, apps, state, reg, meta, published=False):
    """Write 评定.xlsx from the review and the registry's decisions.

    Returns:
        (Path, dict of counts)
    """
    from openpyxl import Workbook
    c = campaign
    levels = [lv.name for lv in c.levels] + [c.no_level]
    wb = Workbook()
    wb.remove(wb.active)
    shown = []

    def remember(stage, app, fld, value):
        shown.append((stage, app.id, fld, value))
        return value

    # 合议: disagreements first
    reviewed = [a for a in apps if a.reviewed]
    order = sorted(reviewed, key=lambda a: (not a.disagreement, a.id))
    rows, marks = [], []
    for i, a in enumerate(order):
        if a.disagreement:
            marks.append(i)
        rows.append([a.id, a.org_name, _subject(a), a.category, c_applied(c, a.level_applied),
                     a.n, a.score,
                     level_text(c, a.proposed), a.disagreement or (a.note and f"（{a.note}）"),
                     remember(DELIB, a, "合议等级", state.get(DELIB, a, "合议等级")),
                     remember(DELIB, a, "合议理由", state.get(DELIB, a, "合议理由"))])
    n_dis = len(marks)
    _write_sheet(wb, "合议", f"{c.title} 合议", [
        f"专家评审后，评审组对每项申请合议，确定建议等级（通知 §四(六)）。有分歧的 {n_dis} 项排在前面并标色；"
        "黄色列由评审组填写：合议等级（下拉选择）、合议理由。",
        "保存后运行 saq stage update 评定.xlsx：每一处改动连同操作人、时间、原值和新值记入审计记录。"],
        ["申请编号", "申请组织名称", "申报项目名称", "申请类别", "申请等级", "有效评分", "评审得分",
         "专家建议等级", "分歧 / 评分情况", "合议等级", "合议理由"], rows,
        [11, 36, 28, 8, 10, 7, 8, 13, 34, 13, 34], "deliberation",
        inputs=SHEETS[DELIB].inputs, validations={"合议等级": levels}, mark_rows=marks)

    # 现场评审 (L6)
    on = [a for a in reviewed if state.needs_onsite(a)]
    rows = []
    for a in on:
        rows.append([a.id, a.org_name, _subject(a), a.category,
                     c_applied(c, a.level_applied), state.get(DELIB, a, "合议等级")] +
                    [remember(ONSITE, a, f, state.get(ONSITE, a, f))
                     for f in SHEETS[ONSITE].inputs])
    _write_sheet(wb, "现场评审", f"{c.title} 现场评审结果", [
        "申请标杆级的企业类、服务类组织和申请用户满意级的工程项目，由专家现场评审（通知 §四(六)，规则 L6）。",
        "黄色列录入现场评审结果；结论为“不通过”且未填现场评审后等级时，审定取不需现场评审的最高等级。"],
        ["申请编号", "申请组织名称", "申报项目名称", "申请类别", "申请等级", "合议等级"] +
        list(SHEETS[ONSITE].inputs), rows, [11, 36, 28, 8, 10, 13, 12, 16, 12, 13, 30],
        "onsite_results", inputs=SHEETS[ONSITE].inputs,
        validations={"现场评审结论": c.stages.get("onsite_results", ["通过", "不通过"]),
                     "现场评审后等级": levels})

    # 审定
    rows, marks = [], []
    for i, a in enumerate(apps):
        rank, basis = state.program_result(a)
        if not a.reviewed:
            marks.append(i)
        decided = state.get(APPROVAL, a, "审定等级")
        rows.append([a.id, a.org_name, _subject(a), a.category, c_applied(c, a.level_applied),
                     level_text(c, rank), basis,
                     remember(APPROVAL, a, "审定等级", decided),
                     remember(APPROVAL, a, "审定理由", state.get(APPROVAL, a, "审定理由")),
                     "是" if (not a.reviewed and decided and decided != c.no_level) else ""])
    _write_sheet(wb, "审定", f"{c.title} 审定", [
        "审定会议确定每项申请的最终等级（通知 §四(七)）。“程序结果”来自专家评审、合议和现场评审；"
        "黄色列可改为任何等级，未参加评审的申请也可改（推翻自动排除，须填写审定理由）。",
        "每一处改动记入审计记录；重新运行不会丢失已记录的决定。"],
        ["申请编号", "申请组织名称", "申报项目名称", "申请类别", "申请等级", "程序结果", "依据",
         "审定等级", "审定理由", "推翻自动排除"], rows,
        [11, 36, 28, 8, 10, 13, 36, 13, 34, 12], "approval", inputs=SHEETS[APPROVAL].inputs,
        validations={"审定等级": levels}, mark_rows=marks)

    # 公示
    start, end = state.window()
    listed = publication_items(apps, state)
    rows = []
    if start:
        n = 0
        for rank, groups in grouped(listed, c):
            for cat, items in groups:
                for it in items:
                    n += 1
                    a = it.app
                    rows.append([a.id, n, a.org_name, a.project_name, cat, level_heading(c, rank),
                                 remember(PUBLICATION, a, "异议与处理",
                                          state.get(PUBLICATION, a, "异议与处理"))])
    window = f"公示期：{start:%Y-%m-%d} 至 {end:%Y-%m-%d}" if start else \
        "尚未公示：审定完成后运行 saq stage publicize 评定.xlsx [--start 日期]"
    _write_sheet(wb, "公示", f"{c.title} 公示名单", [
        window, "公示名单只列组织名称、项目名称、类别和等级；公示期间收到的异议及处理结果填在黄色列，"
        "如需改变等级，请在“审定”工作表修改。"],
        ["申请编号", "序号", "组织名称", "项目名称", "申请类别", "等级", "异议与处理"], rows,
        [11, 6, 34, 30, 9, 22, 36], "publication", inputs=SHEETS[PUBLICATION].inputs)

    # 审计记录
    audit = reg.audit_rows(c.year)
    names = {a.id: a for a in apps}
    arows = [[x["at"], x["who"], x["stage"], "" if x["app_id"] in (None, ALL) else x["app_id"],
              x["subject"] or (names[x["app_id"]].org_name if x["app_id"] in names else ""),
              x["field"] or "", x["old"] or "（空）", x["new"] or "（空）", x["reason"] or ""]
             for x in audit]
    _write_sheet(wb, "审计记录", "审计记录：工作人员的每一项决定", [
        f"来自评价档案 {Path(reg.path).name}（只增不改）；每次运行 saq stage 命令时把工作簿中的改动记入。"],
        ["时间", "操作人", "阶段", "申请编号", "对象", "事项", "原值", "新值", "理由 / 说明"], arows,
        [19, 10, 9, 11, 40, 14, 18, 24, 44], "audit_trail")

    counts = {"apps": len(apps), "reviewed": len(reviewed), "disagreements": n_dis,
              "onsite": len(on), "onsite_missing": sum(1 for a in on if not state.get(
                  ONSITE, a, "现场评审结论") and state.rank(ONSITE, a, "现场评审后等级") is None),
              "approved": len(listed),
              "overrides": sum(1 for a in apps if not a.reviewed and (state.final(a) or 0) > 0)}
    about = [["活动", c.title], ["评价档案", str(reg.path)],
             ["专家评审文件夹", meta.get("review_folder", "")],
             ["申请", f"{len(apps)} 项（参加专家评审 {len(reviewed)} 项）"],
             ["合议", f"有分歧 {n_dis} 项；已记录合议决定 {len(state.dec[DELIB])} 项"],
             ["现场评审", f"{len(on)} 项，结果未录入 {counts['onsite_missing']} 项"],
             ["审定", f"列入名单 {len(listed)} 项；推翻自动排除 {counts['overrides']} 项"],
             ["公示", window.removeprefix("公示期：")],
             ["发布", state.get(RELEASE, None, "发布日期") or "尚未发布"],
             ["生成程序版本", __version__]]
    _write_sheet(wb, "说明", "各阶段状态", [], ["项目", "内容"], about, [18, 90], "stage_about")
    ws = wb.create_sheet(SHOWN)
    ws.append(["阶段", "申请编号", "字段", "显示值"])
    for row in shown:
        ws.append(list(row))
    ws.sheet_state = "hidden"
    wb.properties.title = f"{c.title} 评定"  # issue 22: the document says what it is
    write_meta(wb, {"template_id": TEMPLATE_ID, "campaign_year": c.year,
                    "generator_version": __version__, **meta})
    return save_atomic(wb, path), counts


@dataclass(frozen=True)
class _Item(Listed):
    app: object = None


def publication_items(apps, state):
    """Applications with a 审定 level above 不达标, as list lines."""
    out = []
    for a in apps:
        r = state.final(a)
        if r:
            out.append(_Item(a.org_name, a.project_name, a.category, r, a.uscc, a))
    return out


# ---------------------------------------------------------------------- the commands
def _open(workbook, review_folder, campaign, registry_path):
    """Read the review and open the registry; the folder and registry default to those
    recorded in the workbook's _meta."""
    from xl_addin.review.collect import collect
    wbp = Path(workbook)
    meta = {}
    if wbp.exists():
        wb = open_workbook(wbp)
        try:
            meta = read_meta(wb)
        finally:
            wb.close()
        if meta.get("template_id") != TEMPLATE_ID:
            raise InputFileError(wbp, "不是评定工作簿（saq stage start 生成的文件）")
        if str(meta.get("campaign_year")).split(".")[0] != str(campaign.year):
            raise InputFileError(wbp, f"评定工作簿属于 {meta.get('campaign_year')} 年活动，"
                                      f"当前为 {campaign.year} 年")
    folder = review_folder or meta.get("review_folder")
    if not folder:
        raise InputFileError(wbp, "评定工作簿不存在；请先运行 saq stage start 专家评审文件夹 -o 评定.xlsx")
    folder = Path(folder)
    if not folder.is_absolute() and not review_folder:
        folder = wbp.parent / folder  # recorded relative to the workbook
    rec = meta.get("registry")
    if rec and not Path(rec).is_absolute():
        rec = wbp.parent / rec
    res = collect(folder, campaign, skip=[wbp])
    apps = stage_apps(res, campaign)
    rp = Path(registry_path or rec or regmod.default_path(wbp))
    reg = regmod.Registry(rp)
    reg.record_applications(campaign.year, [
        (a.id, a.uscc, a.org_name, a.category, a.project_name,
         c_applied(campaign, a.level_applied), a.recommender, int(a.reviewed), a.note)
        for a in apps])
    reg.record_experts(campaign.year, res.manifest.experts, res.manifest.by_app)
    meta = {"review_folder": _relative(folder, wbp.parent), "registry": _relative(rp, wbp.parent)}
    return apps, reg, meta


def _relative(path, base):
    """``path`` relative to ``base`` when it can be (the campaign folder may move)."""
    import os
    try:
        return os.path.relpath(Path(path).resolve(), Path(base).resolve())
    except ValueError:  # another drive on Windows
        return str(Path(path).resolve())


def c_applied(campaign, rank):
    lv = campaign.level(rank) if rank else None
    return lv.applied if lv else ""


def update(workbook, campaign, review_folder=None, registry=None, who=None):
    """`saq stage start` / `saq stage update`: record staff edits, then rewrite the workbook.

    Args:
        workbook: 评定.xlsx (created when missing).
        review_folder: the folder of `saq review assign` with the experts' returned files
            (required the first time; later read from the workbook).
        registry: the registry file (default 评价档案.sqlite beside the workbook).
        who: the person acting (default: the OS user).
    Returns:
        StageRun
    """
    apps, reg, meta = _open(workbook, review_folder, campaign, registry)
    with reg:
        user = regmod.current_user(who)
        changes, problems = sync(workbook, campaign, apps, reg, user)
        state = State(campaign, apps, reg)
        path, counts = write_workbook(workbook, campaign, apps, state, reg, meta)
    return StageRun(path, reg.path, changes, problems, [], counts)


def publicize(workbook, campaign, start=None, out_dir=None, registry=None, who=None,
              pdf=True):
    """`saq stage publicize`: fix the 公示 window, write 公示名单 (.docx, .pdf, .xlsx).

    Args:
        start: first day of 公示 (date); default the recorded one, else the campaign's
            [stages].publication_start. The window lasts C5 days.
    Returns:
        StageRun
    Raises:
        StageError: 现场评审 results missing for applications still at an on-site level.
    """
    apps, reg, meta = _open(workbook, None, campaign, registry)
    with reg:
        user = regmod.current_user(who)
        changes, problems = sync(workbook, campaign, apps, reg, user)
        state = State(campaign, apps, reg)
        missing = [a for a in apps if a.reviewed and state.needs_onsite(a)
                   and not state.decided(APPROVAL, a.id, "审定等级")
                   and state.program_result(a)[1] == "现场评审结果未录入"]
        if missing:
            write_workbook(workbook, campaign, apps, state, reg, meta)
            raise StageError(f"有 {len(missing)} 项申请的现场评审结果未录入（见“现场评审”工作表，"
                             f"如 {missing[0].org_name}），不能公示")
        old = state.get(PUBLICATION, None, "公示开始日期")
        new = (start or (dt.date.fromisoformat(old) if old else
                         campaign.stages.get("publication_start"))).isoformat()
        if new != old:
            reg.decide(campaign.year, PUBLICATION, ALL, "公示开始日期", old or None, new, user,
                       f"公示 {campaign.calendar['C5'].days} 天", "公示期")
            changes.append((PUBLICATION, ALL, "公示开始日期", old, new))
        state = State(campaign, apps, reg)
        unfinished = [a for a in apps if a.reviewed and a.note and (state.final(a) or 0) > 0
                      and not state.decided(APPROVAL, a.id, "审定等级")]
        if unfinished:
            problems.append(f"注意：{len(unfinished)} 项申请专家评分未完成（如 {unfinished[0].org_name}："
                            f"{unfinished[0].note}），其等级来自已有评分，请在审定时确认")
        s, e = state.window()
        month = campaign.stages.get("approval_month")
        if month and (f"{s:%Y-%m}" != month or f"{e:%Y-%m}" != month):
            problems.append(f"注意：公示期 {s:%Y-%m-%d} 至 {e:%Y-%m-%d} 不在通知规定的"
                            f"{int(month[5:])}月（§五 第7项）")
        items = publication_items(apps, state)
        folder = Path(out_dir) if out_dir else Path(workbook).parent
        outs = [write_docx(folder / "公示名单.docx", campaign, items, "公示", (s, e),
                           issued=s),
                write_xlsx(folder / "公示名单.xlsx", campaign, items, "公示", (s, e))]
        if pdf:
            outs.append(docx_to_pdf(outs[0]))
        path, counts = write_workbook(workbook, campaign, apps, state, reg, meta)
    return StageRun(path, reg.path, changes, problems, outs, counts)


def publish(workbook, campaign, out_dir=None, registry=None, who=None, pdf=True, on=None):
    """`saq stage publish`: the final list (发布名单 .docx, .pdf, .xlsx); its levels are
    recorded in the registry as this year's results (next year's E06 and 复评 read them).

    Raises:
        StageError: 公示 has not been held.
    """
    apps, reg, meta = _open(workbook, None, campaign, registry)
    with reg:
        user = regmod.current_user(who)
        changes, problems = sync(workbook, campaign, apps, reg, user)
        state = State(campaign, apps, reg)
        if not state.get(PUBLICATION, None, "公示开始日期"):
            raise StageError("尚未公示：请先运行 saq stage publicize 评定.xlsx")
        items = publication_items(apps, state)
        day = (on or dt.date.today()).isoformat()
        old = state.get(RELEASE, None, "发布日期")
        if old != day:
            reg.decide(campaign.year, RELEASE, ALL, "发布日期", old or None, day, user,
                       f"发布 {len(items)} 项", "发布")
            changes.append((RELEASE, ALL, "发布日期", old, day))
        keyless = [it for it in items if not it.uscc]
        if keyless:
            problems.append(f"{len(keyless)} 项没有统一社会信用代码，未记入评价档案（如 "
                            f"{keyless[0].org_name}）")
        for it in items:
            if not it.uscc:
                continue
            reg.record_result(campaign.year, it.uscc, it.org_name, it.category,
                              it.project_name, campaign.level_name(it.rank), it.rank,
                              RELEASED, user)
        reg.withdraw_results(campaign.year, RELEASED,
                             {(it.uscc, it.category, it.project_name or "") for it in items}, user)
        folder = Path(out_dir) if out_dir else Path(workbook).parent
        outs = [write_docx(folder / "发布名单.docx", campaign, items, "发布",
                           issued=dt.date.fromisoformat(day)),
                write_xlsx(folder / "发布名单.xlsx", campaign, items, "发布")]
        if pdf:
            outs.append(docx_to_pdf(outs[0]))
        state = State(campaign, apps, reg)
        path, counts = write_workbook(workbook, campaign, apps, state, reg, meta)
    return StageRun(path, reg.path, changes, problems, outs, counts)


def summary_lines(run):
    """Chinese lines for the terminal."""
    k = run.counts
    lines = [f"评定工作簿：{run.workbook}（申请 {k.get('apps', 0)} 项，参加专家评审 "
             f"{k.get('reviewed', 0)} 项，合议有分歧 {k.get('disagreements', 0)} 项，现场评审 "
             f"{k.get('onsite', 0)} 项（结果未录入 {k.get('onsite_missing', 0)} 项），列入名单 "
             f"{k.get('approved', 0)} 项，推翻自动排除 {k.get('overrides', 0)} 项）",
             f"评价档案：{run.registry}"]
    if run.changes:
        per = {}
        for stage, *_ in run.changes:
            per[stage] = per.get(stage, 0) + 1
        lines.append(f"本次记录 {len(run.changes)} 项改动（" +
                     "，".join(f"{s} {n} 项" for s, n in per.items()) + "），全部见“审计记录”工作表：")
        for stage, app_id, fld, old, new in run.changes[:SHOW_CHANGES]:
            lines.append(f"  {stage} {'' if app_id == ALL else app_id + ' '}{fld}："
                         f"“{old or '（空）'}” → “{new or '（空）'}”")
        if len(run.changes) > SHOW_CHANGES:
            lines.append(f"  ……另有 {len(run.changes) - SHOW_CHANGES} 项")
    else:
        lines.append("本次没有新的改动。")
    lines += run.problems
    lines += [f"已生成：{p}" for p in run.outputs]
    return lines
