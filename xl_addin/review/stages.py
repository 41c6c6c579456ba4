"""The stages after expert review (通知 §四(六)(七)): 合议, 现场评审, 审定, 公示, 发布.

One staff workbook (评定.xlsx) carries a sheet per stage; staff type their decisions in the
yellow columns. Every command first reads the workbook back and compares each cell with what
the registry remembers the workbook showed (the registry's ``shown`` table, never a sheet of
the workbook a user can delete); every difference in a yellow cell is an edit, recorded as a
decision with an audit line (who, when, old → new, reason) unless a validator refuses it
(:func:`refusal`), in which case it is audited as 未采纳 and the row shows what was refused.
Then the workbook is written anew from the expert review and the registry, so a re-run never
loses a decision, and the 审计记录 sheet lists the trail.

No decision is ever lost (issue 19):

- The registry is the truth, and it is guarded (RULES.md P8). 评定.xlsx records the
  registry's identity and generation. A missing, empty, different or newer registry is
  refused, never recreated; only ``saq stage start`` (no workbook yet) creates one, and says so.
- A workbook older than the registry's generation is a stale copy: its edits are shown as
  conflicts against the current values (who recorded them, when) and nothing from it is
  recorded; ``--refresh`` rewrites it from the registry.
- A missing or renamed required column or sheet refuses the run, naming it: silence is never
  read as a decision. Edits in computed columns, rows with unknown ids, duplicated and
  missing rows are reported.
- One writer at a time (registry.writing), and each command is one transaction: the files it
  writes are staged (review.staging) and renamed after the registry's commit, so a failure
  leaves the registry and the folder as they were. The last 5 backups of 评定.xlsx are kept.

Level of an application, stage by stage:
- 专家评审: the proposed level of aggregate (L5), or excluded (an error in consolidation).
- 合议: the panel's agreed level, prefilled with the proposed level; rows with a
  disagreement flag (极差 or 结论不一致) come first and are marked.
- 现场评审 (L6 list): result 通过 / 不通过 and the level after the visit.
- 审定: the program's result (合议 level, or the level after the visit; excluded → 不达标),
  which staff may change — an excluded application included — with a reason.
- 公示: the list of 审定 levels above 不达标, in a window set by staff (C5 days, default in the
  campaign's [stages] table); objections are entered in the 公示 sheet.
- 发布 (P5): only after a recorded 公示 and on a day after it ends; its levels go into the
  registry for next year's E06 and 复评, and the year is frozen until ``saq stage reopen``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from copy import copy
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from xl_addin import __version__
from xl_addin import registry as regmod
from xl_addin.errors import InputFileError, OutputFileError, RegistryError, SaqError
from xl_addin.review.collect import collect
from xl_addin.review.history import _rank
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
from xl_addin.review.staging import Staging, open_by, remove_stale_temps
from xl_addin.review.xlread import open_workbook, read_meta, table_rows
from xl_addin.rules import decide, parse
from xl_addin.rules.stars import needs_onsite_review
from xl_addin.sheet.paper import print_table
from xl_addin.tables import clean_text

TEMPLATE_ID = "saq-stage-workbook"
SHOWN = "_shown"  # the hidden sheet of workbooks before issue 19 (read once, when migrating)
ALL = "*"  # app_id of campaign-wide decisions (公示 window, 发布)
RELEASED = "本年发布"  # the registry's source of results recorded by `saq stage publish`
SHOW_CHANGES = 12  # changes listed on the terminal; the 审计记录 sheet has them all
AUDIT_SHOWN = 500  # newest audit lines in the 审计记录 sheet (`saq history audit` exports all)
COMPUTED = "#"  # the field under which the registry remembers a row's computed cells
REFUSED = "未采纳的改动"  # the column that shows an edit a validator refused
DELIB, ONSITE, APPROVAL, PUBLICATION, RELEASE = "合议", "现场评审", "审定", "公示", "发布"
RELEASED_LEVEL = "发布等级"  # a RELEASE decision per application: the level published
CONFIRM = "核实"  # the input column of P3 in 合议 and 审定 (the campaign's [deciding.P3].column)
WARNINGS = "提醒"  # the computed column beside it: every warning, those to confirm marked (P3)
# P1: each level column and the column that holds its reason.
LEVEL_REASON = {"合议等级": "合议理由", "现场评审后等级": "现场评审说明", "审定等级": "审定理由"}


class StageError(SaqError):
    """A stage cannot run yet (e.g. 发布 before 公示), or the run was refused; nothing changed."""

    exit_code = 1


class Blocked(StageError):
    """公示 or 发布 refused by the rules of deciding (P3, P4, P6): ``details`` names every
    application in the way, one line each (printed before the error line)."""

    def __init__(self, message, details):
        super().__init__(message)
        self.details = list(details)


class StaleCopy(StageError):
    """The workbook is older than the registry and holds edits that differ from it.

    Attributes:
        details: one line per conflict (printed before the error line).
    """

    def __init__(self, message, details):
        super().__init__(message)
        self.details = list(details)


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
    findings: tuple = ()  # rules.findings.Finding: errors (P2) and warnings (P3), in order
    achievable: int | None = None  # the experts' achievable level (L5 with their S4), P1
    valid: int | None = None  # valid expert scores …
    needed: int | None = None  # … of the experts each application needs (P4)

    @property
    def pending(self):
        """P4: 待补评 — fewer valid scores than the experts it needs."""
        return self.reviewed and decide.is_pending(self.valid, self.needed)

    @property
    def subject(self):
        return self.org_name + (f"·{self.project_name}" if self.project_name else "")


@dataclass
class Sheet:
    """A stage sheet: its table name, the input columns (header -> kind), reason column."""

    title: str
    table: str
    inputs: dict
    reason: str = ""


SHEETS = {
    DELIB: Sheet("合议", "deliberation", {"合议等级": "level", "合议理由": "text", CONFIRM: "text"},
                 "合议理由"),
    ONSITE: Sheet("现场评审", "onsite_results",
                  {"现场评审日期": "date", "现场评审专家": "text", "现场评审结论": "onsite",
                   "现场评审后等级": "level", "现场评审说明": "text"}, "现场评审说明"),
    APPROVAL: Sheet("审定", "approval", {"审定等级": "level", "审定理由": "text", CONFIRM: "text"},
                    "审定理由"),
    PUBLICATION: Sheet("公示", "publication", {"异议与处理": "text"}, "异议与处理"),
}
KEY_COLUMN = "申请编号"
EMPTY = "（无）"  # written under the header of a sheet without rows


@dataclass
class StageRun:
    workbook: Path
    registry: Path
    changes: list = field(default_factory=list)  # (stage, app id, field, old, new)
    problems: list = field(default_factory=list)  # Chinese messages
    outputs: list = field(default_factory=list)  # documents written
    counts: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)  # what the run did besides (a new registry, …)


# ---------------------------------------------------------------------- the applications
def stage_apps(res, campaign):
    """StageApp list from a review CollectResult, by application id, each with its findings
    (P2, P3); a 待补评 application (P4) proposes no level and is not sent to 现场评审 yet."""
    out = []
    for a in res.review.apps:
        app = a.app
        out.append(StageApp(app.id, app.org_name, app.project_name or "", app.category or "",
                            app.level, app.uscc, app.recommender, True,
                            "" if a.complete else a.status,
                            None if a.final is None else round(a.final, 2), f"{a.n}/{a.k}",
                            a.disagreement, a.proposed if a.complete else None,
                            a.onsite and a.complete, tuple(app.findings),
                            a.star.achievable if a.star is not None else None, a.n, a.k))
    for app, why in res.review.not_reviewed:
        findings = tuple(app.findings) or decide.findings_from_text(why, campaign)
        out.append(StageApp(app.id, app.org_name, app.project_name or "", app.category or "",
                            app.level, app.uscc, app.recommender, False, why,
                            findings=findings))
    return sorted(out, key=lambda a: a.id)


def level_text(campaign, rank):
    return "" if rank is None else campaign.level_name(rank)


def read_level(v, campaign):
    """A level word typed by staff → rank (0 = 不达标); raises parse.Unreadable."""
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
            if self.frozen():  # P5: after 发布 the published level stands, whatever arrives
                return self.dec[RELEASE].get((app.id, RELEASED_LEVEL)) or c.no_level
            return level_text(c, self.program_result(app)[0])
        return ""

    def frozen(self):
        """The 发布 date while the year's results are frozen (P5), else ""."""
        return self.dec[RELEASE].get((ALL, "发布日期")) or ""

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
        if not app.reviewed:  # P2: every error with its words first, then the warnings
            return 0, f"未参加专家评审：{decide.exclusion_text(app.findings, c) or app.note}"
        agreed = self.rank(DELIB, app, "合议等级")
        if agreed is None:
            if app.pending:  # P4: no level before the scoring is complete
                return None, f"{decide.pending_word(c)}（有效评分 {app.n}），合议等级未填写"
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

    def confirmed(self, app):
        """P3: the warning codes confirmed in the 核实 cells of 合议 and 审定."""
        codes = set()
        for stage in (DELIB, APPROVAL):
            codes |= decide.confirmed_codes(self.get(stage, app, CONFIRM), app.findings,
                                            self.c)[0]
        return frozenset(codes)

    def warnings_cell(self, app):
        """The 提醒 cell of 合议 and 审定: every warning, those to confirm marked (P2, P3)."""
        return "\n".join(decide.warning_lines(app.findings, self.confirmed(app), self.c))

    def open_warnings(self, app):
        return decide.open_warnings(app.findings, self.confirmed(app), self.c)

    def window(self):
        start = self.get(PUBLICATION, None, "公示开始日期")
        if not start:
            return None, None
        return self.c.publication_window(dt.date.fromisoformat(start))


# ---------------------------------------------------------------------- cells as text
def _cell_text(v, kind, campaign):
    """A typed input cell as the text recorded; raises parse.Unreadable."""
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


def shown_text(v):
    """Any cell's value as the registry remembers it (what we write and what a reader reads
    back give the same text: numbers without a trailing .0, characters a workbook cannot
    hold as their visible escapes)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return clean_text(str(v))[0]


def read_shown(wb):
    """(stage, app id, field) -> value of a workbook's hidden ``_shown`` sheet (workbooks
    written before issue 19; read only when the registry remembers nothing yet)."""
    if SHOWN not in wb.sheetnames:
        return {}
    out = {}
    for row in wb.rows(SHOWN)[1:]:
        row = list(row) + [None] * 4
        if row[0]:
            out[(row[0], str(row[1]), row[2])] = "" if row[3] is None else str(row[3])
    return out


def _key(text):
    return parse.norm(str(text)).replace(" ", "") if text is not None else ""


# ---------------------------------------------------------------------- reading staff input
@dataclass
class Edit:
    """A yellow cell whose value differs from what the registry remembers it showed."""

    stage: str
    app: StageApp
    field: str
    old: str  # what the workbook showed (the registry's value)
    new: str | None  # the value as recorded; None when unreadable
    raw: object  # as typed
    reason: str  # the row's reason cell, as typed
    sheet: str
    row: int
    error: str = ""  # why ``raw`` cannot be read

    @property
    def typed(self):
        return self.new if self.new is not None else shown_text(self.raw)

    @property
    def where(self):
        return f"{self.sheet}!第 {self.row} 行 {self.app.org_name}"


@dataclass
class Reading:
    edits: list = field(default_factory=list)
    notes: list = field(default_factory=list)


def _locate(book, sh):
    """(sheet, header row, {header: column}) of a stage table: the Excel table by its name,
    else (a table turned into a range) the header row of the sheet of the same title that
    holds 申请编号. The headers are the cells as read now: a renamed header is renamed here
    even when the table's own column list is not."""
    found = None
    for name, t in book.sub.tables.items():
        if name.lower() == sh.table.lower():
            found = (t.sheet, t.first_row - 1)
            break
    if found is None and sh.title in book.sheetnames:
        for r, row in enumerate(book.rows(sh.title)[:30], start=1):
            if any(_key(v) == _key(KEY_COLUMN) for v in row):
                found = (sh.title, r)
                break
    if found is None:
        return None
    sheet, hr = found
    grid = book.rows(sheet)
    header = grid[hr - 1] if 0 < hr <= len(grid) else []
    cols = {}
    for c, v in enumerate(header, start=1):
        k = _key(v)
        if k and k not in cols:
            cols[k] = c
    return sheet, hr, cols


def read_edits(book, path, campaign, apps, baseline):
    """The staff's edits in the workbook ``book``, against ``baseline`` (what the registry
    remembers this workbook showed).

    Returns:
        Reading: edits (every yellow cell that differs) and notes (computed cells changed,
        rows with unknown ids, duplicated and missing rows).
    Raises:
        InputFileError: a sheet, table or required column the workbook showed is gone
            (deleted or renamed): silence is never read as a decision.
    """
    byid = {a.id: a for a in apps}
    listed, tracked = {}, {}
    for (stage, app_id, f) in baseline:
        listed.setdefault(stage, set()).add(app_id)
        tracked.setdefault(stage, set()).add(f)
    out, missing = Reading(), []
    for stage, sh in SHEETS.items():
        expect = listed.get(stage, set())
        where = _locate(book, sh)
        if where is None:
            if expect:
                missing.append(f"“{sh.title}”工作表的表格（表头应有 {KEY_COLUMN}、"
                               f"{'、'.join(sh.inputs)}）")
            continue
        sheet, hr, cols = where
        # only the columns the workbook showed: one written before a column was added (the
        # 核实 column of P3) is read without it
        lost = [h for h in [KEY_COLUMN, *sh.inputs] if _key(h) not in cols
                and (h == KEY_COLUMN or h in tracked.get(stage, ()))]
        if lost:
            if expect:
                missing.append(f"“{sheet}”工作表的" + "、".join(f"“{h}”" for h in lost) + "列")
            continue
        _read_sheet(book, (sheet, hr, cols), stage, sh, expect, byid, campaign, baseline, out)
    if missing:
        raise InputFileError(path, (
            "、".join(missing) + "不见了（被删除或改名？）。程序不会把缺少的列当作空白记录，"
            "本次未记录任何改动，评价档案和工作簿都未改动；请改回原来的列名或工作表（或从备份恢复），"
            f"或运行 saq stage update {Path(path).name} --refresh 按评价档案重写工作簿"))
    return out


def _read_sheet(book, where, stage, sh, expect, byid, campaign, baseline, out):
    sheet, _hr, cols = where
    seen, unknown, blank_id = {}, [], []
    for r, raw in table_rows(book, where, stop_blank=False):
        app_id = parse.text(raw.get(_key(KEY_COLUMN)))
        if app_id == parse.text(EMPTY) and all(parse.is_blank(raw.get(_key(h)))
                                                for h in sh.inputs):
            continue  # the placeholder under the header of an empty sheet
        if not app_id:
            if any(not parse.is_blank(raw.get(_key(h))) for h in sh.inputs):
                blank_id.append(r)
            continue
        if app_id not in expect:
            unknown.append((r, app_id))
            continue
        seen.setdefault(app_id, []).append((r, raw))
    for r, app_id in unknown:
        what = "不是本次评审的申请" if app_id not in byid else "不在此工作表列出的申请中"
        out.notes.append(f"“{sheet}”工作表第 {r} 行：申请编号“{app_id}”{what}，该行未记录")
    if blank_id:
        out.notes.append(f"“{sheet}”工作表第 {'、'.join(map(str, blank_id[:5]))} 行没有申请编号，"
                         "其中填写的内容未记录")
    gone = sorted(expect - set(seen))
    if gone:
        first = byid.get(gone[0])
        out.notes.append(f"“{sheet}”工作表缺少 {len(gone)} 项申请的行（如 {gone[0]}"
                         f"{' ' + first.org_name if first else ''}）：缺行不当作改动，这些申请的"
                         "决定保持不变")
    computed = []
    for app_id, rows in sorted(seen.items()):
        app = byid.get(app_id)
        if app is None:
            out.notes.append(f"“{sheet}”工作表的申请 {app_id} 已不在本次评审中，该行未记录")
            continue
        if len(rows) > 1:
            texts = {tuple(shown_text(raw.get(_key(h))) for h in sh.inputs) for _, raw in rows}
            nums = "、".join(str(r) for r, _ in rows)
            if len(texts) > 1:
                out.notes.append(f"“{sheet}”工作表第 {nums} 行是同一申请 {app_id}（{app.org_name}），"
                                 "内容不同，均未采纳；请删去多余的行")
                continue
            out.notes.append(f"“{sheet}”工作表第 {nums} 行是同一申请 {app_id}（{app.org_name}）的"
                             "重复行，按一行处理")
        r, raw = rows[0]
        was = json.loads(baseline.get((stage, app_id, COMPUTED)) or "{}")
        for h, text in was.items():
            k = _key(h)
            if k in cols and shown_text(raw.get(k)) != text:
                computed.append((r, h, shown_text(raw.get(k))))
        reason_cell = raw.get(_key(sh.reason)) if sh.reason else None
        reason = "" if parse.is_blank(reason_cell) else str(reason_cell).strip()
        for fld, kind in sh.inputs.items():
            key = (stage, app_id, fld)
            if key not in baseline or _key(fld) not in cols:
                continue
            old, typed = baseline[key], raw.get(_key(fld))
            try:
                new, err = _cell_text(typed, kind, campaign), ""
            except parse.Unreadable as e:
                new, err = None, f"“{shown_text(e.raw)}”无法识别，{e.expected}"
            if new == old:
                continue
            out.edits.append(Edit(stage, app, fld, old, new, typed, reason, sheet, r, err))
    if computed:
        r, h, v = computed[0]
        out.notes.append(f"“{sheet}”工作表有 {len(computed)} 处计算列（非黄色列）被改动，未记录（只有"
                         f"黄色列记入评价档案），如第 {r} 行“{h}”改为“{v}”")


# ---------------------------------------------------------------------- judging an edit
@dataclass
class Review:
    """What a validator sees: the campaign and the state before this run's edits."""

    campaign: object
    state: State


def _unreadable(edit, review):
    return edit.error or None


def _frozen(edit, review):
    day = review.state.frozen()
    if day:
        return (f"本年度结果已于 {day} 发布，已冻结（规则 P5）；如需更改，先运行 saq stage reopen "
                "评定.xlsx --reason 原因")
    return None


def row_of(edit):
    """How a rule's refusal names the edited row: "审定!第 7 行 组织·项目" (rules.decide)."""
    return decide.row_text(f"{edit.sheet}!第 {edit.row} 行", edit.app.org_name,
                           edit.app.project_name)


def _typed_rank(edit, campaign):
    """The level typed in a level column (P1), as a rank; None for anything else."""
    if edit.field not in LEVEL_REASON or not edit.new:
        return None
    try:
        return read_level(edit.new, campaign)
    except parse.Unreadable:
        return None


def is_override(edit, campaign):
    """An 审定 level above 不达标 for an application excluded from expert review (P2)."""
    return (edit.stage == APPROVAL and edit.field == "审定等级" and not edit.app.reviewed
            and bool(_typed_rank(edit, campaign)))


def _identity_error(edit, review):
    """P2: E16, and E20 on 企业名称/统一社会信用代码/申请类别, are never overruled."""
    c = review.campaign
    if is_override(edit, c) and decide.identity_errors(edit.app.findings, c):
        return decide.override_refusal(c, row_of(edit), edit.app.findings, edit.reason,
                                       LEVEL_REASON[edit.field])
    return None


def _above_highest(edit, review):
    """P1: never above the applied level or the category's cap (K3)."""
    c = review.campaign
    return decide.level_refusal(c, row_of(edit), edit.field, _typed_rank(edit, c),
                                edit.app.category, edit.app.level_applied)


def _override_needs_reason(edit, review):
    """P2: an override of an exclusion needs a reason (and names what it overrules)."""
    c = review.campaign
    if is_override(edit, c):
        return decide.override_refusal(c, row_of(edit), edit.app.findings, edit.reason,
                                       LEVEL_REASON[edit.field])
    return None


def _above_achievable(edit, review):
    """P1: above the experts' achievable level only with a reason in the row."""
    c = review.campaign
    if not edit.app.reviewed or edit.field not in LEVEL_REASON:
        return None
    return decide.reason_refusal(c, row_of(edit), edit.field, _typed_rank(edit, c),
                                 edit.app.achievable, edit.reason, LEVEL_REASON[edit.field])


# The validators, in order; the first that answers refuses the edit. Each is
# ``(edit, review) -> reason text or None``; its refusals are audited as 未采纳 and shown
# on the row. The rules of deciding (RULES.md P1, P2) answer with their whole line, which
# names the row and ends with the rule id (:func:`is_rule_line`).
VALIDATORS = [_unreadable, _frozen, _identity_error, _above_highest, _override_needs_reason,
              _above_achievable]

_RULE_LINE = re.compile(r"^(\S+!第 \d+ 行 .*?)：(.*（P\d+）)$", re.S)


def is_rule_line(why):
    """A refusal of a rule of deciding: a whole line, the row first, the rule id last."""
    return bool(_RULE_LINE.match(why or ""))


def refusal_words(why):
    """A refusal as the row's own cell shows it: a rule line without its row."""
    m = _RULE_LINE.match(why or "")
    return m.group(2) if m else why


def refusal(edit, review):
    """Why a staff edit is refused (the first validator's answer), or None: it is taken."""
    for check in VALIDATORS:
        why = check(edit, review)
        if why:
            return why
    return None


def take_edits(reg, edits, review, who):
    """Record each edit as a decision, or, when :func:`refusal` refuses it, as 未采纳 (audit
    line and the row's 未采纳的改动 cell). Returns (changes, refused: [(edit, why)])."""
    c = review.campaign
    changes, refused = [], []
    for e in edits:
        why = refusal(e, review)
        if why:
            reg.refuse(c.year, e.stage, e.app.id, e.field, e.old, e.typed, why, who,
                       e.app.org_name)
            refused.append((e, why))
            continue
        reason = e.reason if e.field != SHEETS[e.stage].reason else ""
        if is_override(e, c):  # P2: the audit names the errors it overrules
            reason = decide.override_reason(c, e.app.findings, e.reason)
        reg.decide(c.year, e.stage, e.app.id, e.field, e.old, e.new, who, reason, e.app.subject)
        changes.append((e.stage, e.app.id, e.field, e.old, e.new))
    return changes, refused


def refusal_lines(refused, review):
    """Terminal lines for refused edits: one line for all of a frozen year (P5), else one
    per edit."""
    lines, frozen = [], [e for e, why in refused if why == _frozen(e, review)]
    if frozen:
        lines.append(f"本年度结果已于 {review.state.frozen()} 发布，已冻结（规则 P5）：工作簿中的 "
                     f"{len(frozen)} 处改动未采纳（已记入审计记录，见各表“{REFUSED}”列）；如需更改，"
                     "先运行 saq stage reopen 评定.xlsx --reason 原因")
    for e, why in refused:
        if e in frozen:
            continue
        if is_rule_line(why):  # P1, P2: the rule's own line names the row and the rule
            lines.append(why)
            continue
        lines.append(f"{e.where}：“{e.field}”改为“{e.typed}”未采纳：{why}；仍为“{e.old}”")
    return lines


# ---------------------------------------------------------------------- writing the workbook
_HEADER_BELOW_NOTES = 3  # _write_sheet's header row: heading (row 1), the notes, a blank row


def _write_sheet(wb, title, heading, notes, headers, rows, widths, table, inputs=(),
                 validations=None, mark_rows=(), stage=None, shown=None, refused=None):
    """One sheet: heading, notes, a table. With ``stage``, every row's cells are remembered
    in ``shown`` (inputs one by one, the computed ones together under COMPUTED) and refused
    edits get a comment on their cell."""
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
    marked = set(mark_rows)
    styles = {}  # a style made once, then copied: styling each cell is slow in openpyxl
    for i, row in enumerate(rows, start=hr + 1):
        for j, v in enumerate(row, start=1):
            c = ws.cell(i, j)
            long_text = isinstance(v, str) and text_width(v) > widths[j - 1] - 1
            kind = (long_text, "in" if j in in_cols else "mark" if (i - hr - 1) in marked
                    else "")
            if kind in styles:
                c._style = copy(styles[kind])
            else:
                c.font = Font(name=FONT)
                c.alignment = Alignment(vertical="top", wrap_text=long_text)
                if kind[1] == "in":
                    c.fill = fill
                elif kind[1] == "mark":
                    c.fill = mark
                styles[kind] = copy(c._style)
            put(ws, i, j, v)  # the value last: a quote prefix stays with this cell
        if stage is not None:
            app_id = str(row[0])
            computed = {}
            for h, v in zip(headers, row):
                if h == KEY_COLUMN:
                    continue
                if h in inputs:
                    shown[(stage, app_id, h)] = shown_text(v)
                    got = (refused or {}).get((stage, app_id, h))
                    if got:
                        ws.cell(i, headers.index(h) + 1).comment = Comment(
                            f"未采纳：“{got['value'] or ''}”\n{refusal_words(got['why'])}", "saq")
                else:
                    computed[h] = shown_text(v)
            shown[(stage, app_id, COMPUTED)] = json.dumps(computed, ensure_ascii=False,
                                                          sort_keys=True)
    last = hr + max(len(rows), 1)
    if rows:
        add_table(ws, table, hr, 1, last, len(headers), style="TableStyleLight1")
    else:
        put(ws, hr + 1, 1, EMPTY)
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


def _confirm_word(campaign):
    return campaign.deciding["P3"]["confirm_words"][0]


def approval_notes(campaign, frozen):
    """The lines above the 审定 table (their number sets the table's first row:
    :func:`approval_rows`)."""
    return [
        "审定会议确定每项申请的最终等级（通知 §四(七)）。“程序结果”来自专家评审、合议和现场评审；"
        "未参加评审的申请也可改（推翻自动排除，须填写审定理由）。",
        "审定等级不高于申请等级和类别最高等级（规则 P1，产品类、工程类最高为用户满意级），高于专家评审"
        "可评等级须填写审定理由；统一社会信用代码无效等身份信息错误不能推翻（规则 P2）。",
        f"“{WARNINGS}”列中“须核实”的提醒，核实后在“{CONFIRM}”列填“已核实”（或写明核实了哪个代码）；"
        "尚有未核实的提醒或待补评的申请不能公示（规则 P3、P4）。",
        (f"本年度结果已于 {frozen} 发布，已冻结（规则 P5）：改动不会被采纳；如需更改，先运行 "
         "saq stage reopen 评定.xlsx --reason 原因。") if frozen else
        "每一处改动记入审计记录；重新运行不会丢失已记录的决定。"]


def approval_rows(campaign, apps, state):
    """Where each application stands in the 审定 sheet: {app id: "审定!第 r 行"} (the table
    starts under the notes, the heading and a blank line; one row per application, in
    ``apps`` order) — how the 公示/发布 refusals name a row."""
    first = len(approval_notes(campaign, state.frozen())) + _HEADER_BELOW_NOTES + 1
    return {a.id: f"{APPROVAL}!第 {first + i} 行" for i, a in enumerate(apps)}


def candidates(campaign, apps, state):
    """Every application as the 公示/发布 checks see it (rules.decide.Candidate): its 审定
    row and level, findings, confirmed warnings, and (valid, needed) scores when reviewed."""
    where = approval_rows(campaign, apps, state)
    return [decide.Candidate(where[a.id], a.org_name, a.project_name, a.uscc,
                             state.final(a) or 0, a.findings, state.confirmed(a),
                             (a.valid, a.needed) if a.reviewed else None) for a in apps]


def blocked(campaign, apps, state, action):
    """Blocked, when the rules of deciding stop 公示 / 发布 (P3, P4, P6); else None."""
    c = campaign
    cands = candidates(c, apps, state)
    lines = (decide.publicize_blockers if action == PUBLICATION else
             decide.publish_blockers)(cands, c)
    if not lines:
        return None
    rules = [rid for rid in ("P3", "P4", "P6") if any(f"（{rid}）" in x for x in lines)]
    n = sum(1 for x in lines if x.startswith("  "))
    return Blocked(f"不能{action}：{n} 项须先处理（见上，规则 {'、'.join(rules)}）；评价档案和文件夹"
                   "都未改动", lines)


def _refused_text(refused, stage, app_id):
    """The 未采纳的改动 cell of a row: each refused edit with what was typed, why, who, when."""
    parts = []
    for (s, a, f), r in sorted(refused.items()):
        if s == stage and a == app_id:
            if is_rule_line(r["why"]):  # its words name the field, the value and the rule
                parts.append(f"{refusal_words(r['why'])}（{r['who']} {r['at']}）")
            else:
                parts.append(f"{f}“{r['value'] or ''}”未采纳：{r['why']}（{r['who']} {r['at']}）")
    return "；".join(parts)


@dataclass
class Built:
    """A stage workbook in memory: the openpyxl Workbook, what each tracked cell shows, the
    counts for the terminal, and the 说明 cell that will show the generation."""

    wb: object
    shown: dict
    counts: dict
    version_cell: tuple


def build_workbook(campaign, apps, state, reg):
    """The stage workbook from the review and the registry's decisions (not yet saved; no
    ``_meta`` yet: :func:`finish_workbook`).

    Returns:
        Built
    """
    c = campaign
    levels = [lv.name for lv in c.levels] + [c.no_level]
    refused = reg.refusals(c.year)
    wb = Workbook()
    wb.remove(wb.active)
    shown = {}

    # 合议: disagreements first, then the 待补评 rows (P4)
    reviewed = [a for a in apps if a.reviewed]
    order = sorted(reviewed, key=lambda a: (not a.disagreement, not a.pending, a.id))
    pending = decide.pending_word(c)
    rows, marks = [], []
    for i, a in enumerate(order):
        if a.disagreement or a.pending:
            marks.append(i)
        status = a.note and (f"（{pending}：{a.note}）" if a.pending else f"（{a.note}）")
        rows.append([a.id, a.org_name, _subject(a), a.category, c_applied(c, a.level_applied),
                     a.n, a.score, level_text(c, a.proposed),
                     "\n".join(x for x in (a.disagreement, status) if x),
                     state.get(DELIB, a, "合议等级"), state.get(DELIB, a, "合议理由"),
                     state.warnings_cell(a), state.get(DELIB, a, CONFIRM),
                     _refused_text(refused, DELIB, a.id)])
    n_dis = sum(1 for a in reviewed if a.disagreement)
    n_pending = sum(1 for a in reviewed if a.pending)
    _write_sheet(wb, "合议", f"{c.title} 合议", [
        f"专家评审后，评审组对每项申请合议，确定建议等级（通知 §四(六)）。有分歧的 {n_dis} 项排在前面并标色，"
        f"其次是{pending}的 {n_pending} 项（有效评分不足，不预填合议等级，规则 P4）。",
        "黄色列由评审组填写：合议等级（下拉选择；不高于申请等级和类别最高等级，高于专家评审可评等级须写"
        f"合议理由，规则 P1）、合议理由、{CONFIRM}（“{WARNINGS}”列中“须核实”的提醒核实后填“已核实”，"
        "或写明核实了哪个代码，规则 P3）。",
        "保存后运行 saq stage update 评定.xlsx：每一处改动连同操作人、时间、原值和新值记入审计记录。"],
        ["申请编号", "申请组织名称", "申报项目名称", "申请类别", "申请等级", "有效评分", "评审得分",
         "专家建议等级", "分歧 / 评分情况", "合议等级", "合议理由", WARNINGS, CONFIRM, REFUSED], rows,
        [11, 36, 28, 8, 10, 7, 8, 13, 34, 13, 34, 44, 16, 40], "deliberation",
        inputs=SHEETS[DELIB].inputs, validations={"合议等级": levels, CONFIRM: [_confirm_word(c)]},
        mark_rows=marks, stage=DELIB, shown=shown, refused=refused)

    # 现场评审 (L6)
    on = [a for a in reviewed if state.needs_onsite(a)]
    rows = []
    for a in on:
        rows.append([a.id, a.org_name, _subject(a), a.category,
                     c_applied(c, a.level_applied), state.get(DELIB, a, "合议等级"),
                     decide.onsite_reason(c, a.category, a.level_applied,
                                          state.rank(DELIB, a, "合议等级"))] +
                    [state.get(ONSITE, a, f) for f in SHEETS[ONSITE].inputs] +
                    [_refused_text(refused, ONSITE, a.id)])
    _write_sheet(wb, "现场评审", f"{c.title} 现场评审结果", [
        decide.onsite_sentence(c),
        "黄色列录入现场评审结果；结论为“不通过”且未填现场评审后等级时，审定取不需现场评审的最高等级。",
        "现场评审后等级不高于申请等级和类别最高等级，高于专家评审可评等级须写现场评审说明（规则 P1）。"],
        ["申请编号", "申请组织名称", "申报项目名称", "申请类别", "申请等级", "合议等级", "现场评审原因"] +
        list(SHEETS[ONSITE].inputs) + [REFUSED], rows,
        [11, 36, 28, 8, 10, 13, 30, 12, 16, 12, 13, 30, 40],
        "onsite_results", inputs=SHEETS[ONSITE].inputs,
        validations={"现场评审结论": c.stages.get("onsite_results", ["通过", "不通过"]),
                     "现场评审后等级": levels}, stage=ONSITE, shown=shown, refused=refused)

    # 审定
    rows, marks = [], []
    for i, a in enumerate(apps):
        rank, basis = state.program_result(a)
        if not a.reviewed or a.pending:
            marks.append(i)
        decided = state.get(APPROVAL, a, "审定等级")
        rows.append([a.id, a.org_name, _subject(a), a.category, c_applied(c, a.level_applied),
                     level_text(c, rank), basis, decided, state.get(APPROVAL, a, "审定理由"),
                     "是" if (not a.reviewed and decided and decided != c.no_level) else "",
                     state.warnings_cell(a), state.get(APPROVAL, a, CONFIRM),
                     _refused_text(refused, APPROVAL, a.id)])
    frozen = state.frozen()
    _write_sheet(wb, "审定", f"{c.title} 审定", approval_notes(c, frozen),
                 ["申请编号", "申请组织名称", "申报项目名称", "申请类别", "申请等级", "程序结果", "依据",
                  "审定等级", "审定理由", "推翻自动排除", WARNINGS, CONFIRM, REFUSED], rows,
                 [11, 36, 28, 8, 10, 13, 40, 13, 34, 12, 44, 16, 40], "approval",
                 inputs=SHEETS[APPROVAL].inputs,
                 validations={"审定等级": levels, CONFIRM: [_confirm_word(c)]}, mark_rows=marks,
                 stage=APPROVAL, shown=shown, refused=refused)

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
                                 state.get(PUBLICATION, a, "异议与处理"),
                                 _refused_text(refused, PUBLICATION, a.id)])
    window = f"公示期：{start:%Y-%m-%d} 至 {end:%Y-%m-%d}" if start else \
        "尚未公示：审定完成后运行 saq stage publicize 评定.xlsx [--start 日期]"
    _write_sheet(wb, "公示", f"{c.title} 公示名单", [
        window, "公示名单只列组织名称、项目名称、类别和等级；公示期间收到的异议及处理结果填在黄色列，"
        "如需改变等级，请在“审定”工作表修改。"],
        ["申请编号", "序号", "组织名称", "项目名称", "申请类别", "等级", "异议与处理", REFUSED], rows,
        [11, 6, 34, 30, 9, 22, 36, 40], "publication", inputs=SHEETS[PUBLICATION].inputs,
        stage=PUBLICATION, shown=shown, refused=refused)

    # 审计记录: the newest lines of the year (a command reads only what it shows, issue 19 §7)
    total = reg.audit_count(c.year)
    audit = reg.audit_rows(c.year, last=AUDIT_SHOWN)
    names = {a.id: a for a in apps}
    arows = [[x["at"], x["who"], x["stage"], "" if x["app_id"] in (None, ALL) else x["app_id"],
              x["subject"] or (names[x["app_id"]].org_name if x["app_id"] in names else ""),
              x["field"] or "", x["old"] or "（空）", x["new"] or "（空）", x["reason"] or ""]
             for x in audit]
    shown_note = (f"共 {total} 条，此处列出最近 {len(arows)} 条；全部记录可用 saq history audit 导出。"
                  if total > len(arows) else f"共 {total} 条。")
    _write_sheet(wb, "审计记录", "审计记录：工作人员的每一项决定", [
        f"来自评价档案 {Path(reg.path).name}（只增不改，每条带前一条的哈希，可用 saq history verify 检查）；"
        "每次运行 saq stage 命令时把工作簿中的改动记入。" + shown_note],
        ["时间", "操作人", "阶段", "申请编号", "对象", "事项", "原值", "新值", "理由 / 说明"], arows,
        [19, 10, 9, 11, 40, 14, 18, 24, 44], "audit_trail")

    counts = {"apps": len(apps), "reviewed": len(reviewed), "disagreements": n_dis,
              "onsite": len(on), "onsite_missing": sum(1 for a in on if not state.get(
                  ONSITE, a, "现场评审结论") and state.rank(ONSITE, a, "现场评审后等级") is None),
              "approved": len(listed),
              "overrides": sum(1 for a in apps if not a.reviewed and (state.final(a) or 0) > 0),
              "refused": len(refused), "pending": n_pending,
              "unconfirmed": sum(1 for a in apps if state.open_warnings(a))}
    about = [["活动", c.title], ["评价档案", str(reg.path)], ["评价档案编号", reg.id],
             ["工作簿版本", ""],
             ["申请", f"{len(apps)} 项（参加专家评审 {len(reviewed)} 项）"],
             ["合议", f"有分歧 {n_dis} 项；已记录合议决定 {len(state.dec[DELIB])} 项"],
             ["现场评审", f"{len(on)} 项，结果未录入 {counts['onsite_missing']} 项"],
             ["审定", f"列入名单 {len(listed)} 项；推翻自动排除 {counts['overrides']} 项"],
             [decide.pending_word(c), f"{n_pending} 项（规则 P4：列入名单时不能公示）"],
             ["须核实的提醒", f"{counts['unconfirmed']} 项申请尚有未核实的提醒（规则 P3：列入名单时不能公示）"],
             ["公示", window.removeprefix("公示期：")],
             ["发布", (f"{frozen}（已冻结，更改须先 saq stage reopen）" if frozen else
                      _release_note(state))],
             ["未采纳的改动", f"{len(refused)} 项（见各表“{REFUSED}”列）"],
             ["生成程序版本", __version__]]
    _write_sheet(wb, "说明", "各阶段状态", [], ["项目", "内容"], about, [18, 90], "stage_about")
    version_row = 3 + 1 + [r[0] for r in about].index("工作簿版本")  # under the header (row 3)
    return Built(wb, shown, counts, ("说明", version_row, 2))


def _release_note(state):
    if (ALL, "发布日期") in state.dec[RELEASE]:
        return "已重新开放，待重新发布（见审计记录）"
    return "尚未发布"


def finish_workbook(built, campaign, meta, generation):
    """Write the generation into 说明 and the hidden ``_meta`` (template, year, registry's
    identity and generation, folders)."""
    sheet, r, c = built.version_cell
    put(built.wb[sheet], r, c, f"第 {generation} 版（较旧的副本中的改动不会被记录）")
    built.wb.properties.title = f"{campaign.title} 评定"  # issue 22: the document says what it is
    write_meta(built.wb, {"template_id": TEMPLATE_ID, "campaign_year": campaign.year,
                          "generator_version": __version__, **meta,
                          "registry_generation": generation})
    return built.wb


def write_workbook(path, campaign, apps, state, reg, meta, published=False):
    """Write 评定.xlsx directly (no registry bookkeeping; the commands use :func:`_run`).

    Returns:
        (Path, dict of counts)
    """
    built = build_workbook(campaign, apps, state, reg)
    finish_workbook(built, campaign, meta, reg.generation())
    return save_atomic(built.wb, path), built.counts


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


# ---------------------------------------------------------------------- the workbook on disk
@dataclass
class _Book:
    """The stage workbook as found before a command: its meta and what it recorded."""

    path: Path
    book: object = None  # xlread.Book, None when the file does not exist
    meta: dict = field(default_factory=dict)
    digest: str = ""

    @property
    def exists(self):
        return self.book is not None

    @property
    def generation(self):
        v = self.meta.get("registry_generation")
        try:
            return None if v in (None, "") else int(float(v))
        except (TypeError, ValueError):
            return None


def _digest(p):
    try:
        return hashlib.sha256(Path(p).read_bytes()).hexdigest()
    except OSError:
        return ""


def _read_book(wbp, campaign):
    """Read the stage workbook (when it exists) and check it is ours and of this year."""
    if not wbp.exists():
        return _Book(wbp)
    lock = open_by(wbp)
    if lock is not None:
        raise StageError(f"{wbp} 正在 Excel、WPS 或 LibreOffice 中打开（有锁文件 {lock.name}）：程序读不到"
                         "未保存的改动，也不会在它打开时替换它。请保存并关闭后再运行；如确认没有打开，"
                         "删除该锁文件后重试。本次未作任何改动")
    digest = _digest(wbp)
    book = open_workbook(wbp)
    meta = read_meta(book)
    if meta.get("template_id") != TEMPLATE_ID:
        raise InputFileError(wbp, "不是评定工作簿（saq stage start 生成的文件）")
    if str(meta.get("campaign_year")).split(".")[0] != str(campaign.year):
        raise InputFileError(wbp, f"评定工作簿属于 {meta.get('campaign_year')} 年活动，"
                                  f"当前为 {campaign.year} 年")
    return _Book(wbp, book, meta, digest)


def _registry_path(wbp, meta, registry):
    if registry:
        return Path(registry)
    rec = meta.get("registry")
    if rec:
        return Path(rec) if Path(rec).is_absolute() else wbp.parent / rec
    return regmod.default_path(wbp)


def _where_it_was(meta, rp):
    """" …上次在 X" for a message: where the workbook's registry last was."""
    was = meta.get("registry_path")
    if not was:
        return ""
    ident = meta.get("registry_id")
    text = f"（{Path(was)}" + (f"，编号 {str(ident)[:8]}" if ident else "") + "）"
    if Path(was) != rp and Path(was).exists():
        text += f"；那里仍有评价档案，请用 --registry {Path(was)} 指定"
    return "评定工作簿记录的评价档案上次在" + text


def _check_present(rp, found, create):
    """Refuse a missing registry before anything is read (never recreated, P8)."""
    if rp.exists() or (create and not found.exists):
        return
    where = _where_it_was(found.meta, rp)
    raise RegistryError(rp, (
        f"找不到评价档案 {rp}" + (f"：{where}" if where else "") + "。评价档案不会重新建立"
        "（否则已记录的决定和往年结果都会丢失）；请把原来的评价档案放回原处，或用 --registry 指定它。"
        "本次未作任何改动"))


def _check_identity(reg, found):
    """The registry must be the one the workbook was written from, and not older (P8)."""
    want = found.meta.get("registry_id")
    if want and str(want) != reg.id:
        where = _where_it_was(found.meta, reg.path)
        raise RegistryError(reg.path, (
            f"{reg.path} 不是 {found.path.name} 所用的评价档案（该工作簿记录的档案编号 {str(want)[:8]}，"
            f"此文件的编号 {reg.id[:8]}）" + (f"；{where}" if where else "") +
            "。本次未作任何改动；请用 --registry 指定正确的评价档案"))
    g = found.generation
    if g is not None and g > reg.generation():
        raise RegistryError(reg.path, (
            f"评价档案 {reg.path} 比 {found.path.name} 旧（档案第 {reg.generation()} 版，工作簿第 {g} 版）："
            "它可能是从旧备份恢复的，缺少之后记录的决定。本次未作任何改动；请找回最新的评价档案，"
            "或用 --registry 指定它"))


def _relative(path, base):
    """``path`` relative to ``base`` when it can be (the campaign folder may move)."""
    try:
        return os.path.relpath(Path(path).resolve(), Path(base).resolve())
    except ValueError:  # another drive on Windows
        return str(Path(path).resolve())


def c_applied(campaign, rank):
    lv = campaign.level(rank) if rank else None
    return lv.applied if lv else ""


# ---------------------------------------------------------------------- one command, whole
@dataclass
class Session:
    """A stage command while it holds the registry: what its action may use."""

    campaign: object
    wbp: Path
    reg: object
    apps: list
    user: str
    run: StageRun
    staging: Staging
    out_dir: Path
    pdf: bool = True

    def state(self):
        return State(self.campaign, self.apps, self.reg)

    def decide_all(self, stage, fld, old, new, reason, subject):
        """A campaign-wide decision (公示开始日期, 发布日期)."""
        self.reg.decide(self.campaign.year, stage, ALL, fld, old or None, new, self.user,
                        reason, subject)
        self.run.changes.append((stage, ALL, fld, old, new))


def _run(workbook, campaign, command, act=None, review_folder=None, registry=None, who=None,
         create=False, refresh=False, out_dir=None, pdf=True):
    """A stage command, whole or not at all.

    1. The workbook is read and checked (ours, this year, not open in Excel); the registry
       is found (``--registry``, else the one the workbook records, else beside it) and must
       exist unless ``create`` and there is no workbook yet.
    2. The expert review is collected (read only).
    3. Holding the registry's writer lock, in one transaction: the applications are recorded,
       the workbook's edits read against what the registry remembers it showed (a stale
       copy's are only compared), taken or refused, ``act(session)`` does the command's own
       work (its output files staged), the new workbook is built and its cells remembered
       under a new generation when anything changed.
    4. After the commit the staged files are renamed into place (评定.xlsx backed up first).
    """
    wbp = Path(workbook)
    cleaned = remove_stale_temps(wbp.parent)
    if out_dir and Path(out_dir).resolve() != wbp.parent.resolve():
        cleaned += remove_stale_temps(out_dir)
    found = _read_book(wbp, campaign)
    folder = review_folder or found.meta.get("review_folder")
    if not folder:
        raise InputFileError(wbp, "评定工作簿不存在；请先运行 saq stage start 专家评审文件夹 -o 评定.xlsx")
    rp = _registry_path(wbp, found.meta, registry)
    _check_present(rp, found, create)
    if rp.exists():  # fail fast, before the review is read (checked again under the lock)
        with regmod.Registry(rp, create=False, readonly=True) as peek:
            _check_identity(peek, found)
    folder = Path(folder)
    if not folder.is_absolute() and not review_folder:
        folder = wbp.parent / folder  # recorded relative to the workbook
    res = collect(folder, campaign, skip=[wbp])
    apps = stage_apps(res, campaign)
    user = regmod.current_user(who)
    run = StageRun(wbp, rp)
    if cleaned:
        run.notes.append(f"已清理上次中断的运行留下的临时文件 {cleaned} 个。")
    staging = Staging()
    c = campaign
    with regmod.writing(rp, user, f"saq stage {command}", create=create and not found.exists) \
            as reg:
        if reg.created:
            run.notes.append(f"已新建评价档案：{rp}（此前没有评价档案；往年结果可用 saq history import "
                             "导入）。以后的 saq stage 命令都使用它，请与评定工作簿放在一起保管。")
        _check_identity(reg, found)
        if found.exists and _digest(wbp) != found.digest:  # saved while we waited
            found = _read_book(wbp, campaign)
        try:
            with reg.transaction():
                reg.record_applications(c.year, [
                    (a.id, a.uscc, a.org_name, a.category, a.project_name,
                     c_applied(c, a.level_applied), a.recommender, int(a.reviewed), a.note)
                    for a in apps])
                reg.record_experts(c.year, res.manifest.experts, res.manifest.by_app)
                session = Session(c, wbp, reg, apps, user, run, staging,
                                  Path(out_dir) if out_dir else wbp.parent, pdf)
                _take_workbook(session, found, refresh)
                if act is not None:
                    act(session)
                state = session.state()
                built = build_workbook(c, apps, state, reg)
                gen = reg.generation()
                if run.changes or reg.shown(c.year) != built.shown:
                    gen = reg.bump_generation()
                    reg.record_shown(c.year, gen, built.shown)
                meta = {"review_folder": _relative(folder, wbp.parent),
                        "registry": _relative(rp, wbp.parent),
                        "registry_path": str(rp.resolve()), "registry_id": reg.id}
                finish_workbook(built, c, meta, gen)
                staging.backup(wbp)
                save_atomic(built.wb, staging.temp_for(wbp, "workbook"))
            # committed: now the files take their places
            written = staging.commit()
        except BaseException:
            staging.discard()
            raise
    run.counts = built.counts
    run.problems += staging.messages
    if wbp not in written:  # kept under another name (staging.messages says which)
        run.workbook = next((p for p in written if p.suffix == wbp.suffix and
                             p.name.startswith(wbp.stem)), wbp)
    return run


def _take_workbook(s, found, refresh):
    """Read the workbook's edits and take them (or compare them, for a stale copy)."""
    c, reg, run = s.campaign, s.reg, s.run
    if not found.exists:
        return
    current_gen = reg.generation()
    g = found.generation
    stale = g is not None and g < current_gen
    baseline = reg.shown(c.year, g if stale else None)
    if not baseline:  # a registry that remembers nothing yet (made before issue 19)
        baseline = read_shown(found.book) or build_workbook(c, s.apps, s.state(), reg).shown
    try:
        reading = read_edits(found.book, found.path, c, s.apps, baseline)
    except InputFileError:
        if not refresh:
            raise
        reading = None
        run.notes.append(f"{found.path.name} 的表格不完整，未读取其中的改动；已按评价档案重写。")
    if reading is not None:
        run.problems += reading.notes
    if refresh:
        dropped = [e for e in (reading.edits if reading else [])]
        if dropped:
            reg.audit("工作簿", None, found.path.name, "按评价档案重写", None, None,
                      f"--refresh：放弃工作簿中 {len(dropped)} 处未记录的改动", s.user, c.year)
            run.notes.append(f"已按评价档案重写 {found.path.name}，放弃其中 {len(dropped)} 处未记录的改动"
                             "（已记入审计记录）：")
            run.notes += ["  " + _edit_line(e) for e in dropped[:SHOW_CHANGES]]
        elif stale:
            run.notes.append(f"{found.path.name} 是旧副本（第 {g} 版），已按评价档案第 {current_gen} 版重写。")
        return
    if stale:
        current = reg.shown(c.year)
        conflicts = [e for e in reading.edits
                     if e.new is None or current.get((e.stage, e.app.id, e.field)) != e.new]
        if conflicts:
            decided = reg.decision_rows(c.year)
            details = [_conflict_line(e, current, decided) for e in conflicts]
            raise StaleCopy(
                f"{found.path.name} 是旧副本（工作簿第 {g} 版，评价档案已是第 {current_gen} 版）："
                f"其中 {len(conflicts)} 处改动与档案当前的值不同（见上），本次未记录任何内容，工作簿也未"
                "改动。请在最新的评定工作簿中重新录入这些改动；如要放弃它们并按档案重写此工作簿，运行 "
                f"saq stage update {found.path.name} --refresh", details)
        run.notes.append(f"{found.path.name} 是旧副本（第 {g} 版），其中没有与评价档案不同的改动，"
                         f"已按档案第 {current_gen} 版刷新。")
        return
    review = Review(c, s.state())
    changes, refused = take_edits(reg, reading.edits, review, s.user)
    run.changes += changes
    run.problems += refusal_lines(refused, review)


def _edit_line(e):
    return f"{e.stage} {e.app.id} {e.app.org_name} {e.field}：“{e.old or '（空）'}” → “{e.typed or '（空）'}”"


def _conflict_line(e, current, decided):
    cur = current.get((e.stage, e.app.id, e.field), "")
    got = decided.get((e.stage, e.app.id, e.field))
    by = f"{got[1]} {got[2]} 记录" if got else "程序值"
    return (f"  冲突：{e.stage} {e.app.id} {e.app.org_name} {e.field}：此副本改为“{e.typed or '（空）'}”，"
            f"档案当前为“{cur or '（空）'}”（{by}）")


# ---------------------------------------------------------------------- the commands
def update(workbook, campaign, review_folder=None, registry=None, who=None, create=False,
           refresh=False):
    """`saq stage start` / `saq stage update`: record staff edits, then rewrite the workbook.

    Args:
        workbook: 评定.xlsx (created when missing).
        review_folder: the folder of `saq review assign` with the experts' returned files
            (required the first time; later read from the workbook).
        registry: the registry file (default: the one the workbook records, else
            评价档案.sqlite beside the workbook).
        who: the person acting (default: the OS user).
        create: `saq stage start`: make the registry when it is missing and there is no
            workbook yet (the run says so).
        refresh: rewrite the workbook from the registry, dropping its unrecorded edits
            (a stale copy, a damaged table).
    Returns:
        StageRun
    """
    return _run(workbook, campaign, "start" if create else "update", None, review_folder,
                registry, who, create, refresh)


def publicize(workbook, campaign, start=None, out_dir=None, registry=None, who=None,
              pdf=True):
    """`saq stage publicize`: fix the 公示 window, write 公示名单 (.docx, .pdf, .xlsx).

    Args:
        start: first day of 公示 (date); default the recorded one, else the campaign's
            [stages].publication_start. The window lasts C5 days.
    Returns:
        StageRun
    Raises:
        StageError: 现场评审 results missing for applications still at an on-site level;
            the year is frozen (P5) and the window would change.
        Blocked: a listed application has an unconfirmed warning (P3), is 待补评 (P4), or
            one organisation + project is listed twice (P6).
    """
    def act(s):
        c, run = s.campaign, s.run
        state = s.state()
        missing = [a for a in s.apps if a.reviewed and state.needs_onsite(a)
                   and not state.decided(APPROVAL, a.id, "审定等级")
                   and state.program_result(a)[1] == "现场评审结果未录入"]
        if missing:
            raise StageError(f"有 {len(missing)} 项申请的现场评审结果未录入（见“现场评审”工作表，"
                             f"如 {missing[0].org_name}），不能公示")
        old = state.get(PUBLICATION, None, "公示开始日期")
        new = (start or (dt.date.fromisoformat(old) if old else
                         c.stages.get("publication_start"))).isoformat()
        if new != old:
            if state.frozen():
                raise StageError(f"本年度结果已于 {state.frozen()} 发布，已冻结（规则 P5），不能改公示期；"
                                 "如需更改，先运行 saq stage reopen 评定.xlsx --reason 原因")
            s.decide_all(PUBLICATION, "公示开始日期", old, new,
                         f"公示 {c.calendar['C5'].days} 天", "公示期")
        state = s.state()
        stop = blocked(c, s.apps, state, PUBLICATION)  # P3, P4, P6
        if stop is not None:
            raise stop
        b, e = state.window()
        month = c.stages.get("approval_month")
        if month and (f"{b:%Y-%m}" != month or f"{e:%Y-%m}" != month):
            run.problems.append(f"注意：公示期 {b:%Y-%m-%d} 至 {e:%Y-%m-%d} 不在通知规定的"
                                f"{int(month[5:])}月（§五 第7项）")
        _write_lists(s, publication_items(s.apps, state), "公示", (b, e), b)

    return _run(workbook, campaign, "publicize", act, None, registry, who, out_dir=out_dir,
                pdf=pdf)


def _write_lists(s, items, kind, window, issued):
    """公示名单 / 发布名单 (.docx, .xlsx, .pdf) to staged temporary files; a failure names
    the list and says that nothing changed (the transaction is rolled back)."""
    name = f"{kind}名单"
    undone = f"本次未{kind}，评价档案和文件夹都未改动"
    docx_final, xlsx_final = s.out_dir / f"{name}.docx", s.out_dir / f"{name}.xlsx"
    docx_tmp = s.staging.temp_for(docx_final)
    try:
        write_docx(docx_tmp, s.campaign, items, kind, window if kind == "公示" else None,
                   issued=issued)
        write_xlsx(s.staging.temp_for(xlsx_final), s.campaign, items, kind,
                   window if kind == "公示" else None)
    except OutputFileError as e:
        final = xlsx_final if Path(e.path).suffix == ".xlsx" else docx_final
        raise OutputFileError(final, f"{e.reason}；{undone}") from None
    outs = [docx_final, xlsx_final]
    if s.pdf:
        pdf_final = s.out_dir / f"{name}.pdf"
        pdf_tmp = s.staging.temp_for(pdf_final)
        try:
            docx_to_pdf(docx_tmp, pdf_tmp)
        except OutputFileError as e:
            why = e.reason.split("；")[0]
            raise StageError(f"{name}的 PDF 无法生成（{why}）；{undone}。可安装 LibreOffice"
                             "（libreoffice-writer-nogui）后重新运行，或加 --no-pdf 只生成 .docx 和 .xlsx") from None
        outs.insert(1, pdf_final)
    s.run.outputs += outs


def publish(workbook, campaign, out_dir=None, registry=None, who=None, pdf=True, on=None):
    """`saq stage publish`: the final list (发布名单 .docx, .pdf, .xlsx); its levels are
    recorded in the registry as this year's results (next year's E06 and 复评 read them),
    and the year's results are frozen (P5).

    Raises:
        StageError: 公示 has not been held, or ``on`` is not after its end (P5); the year is
            frozen with another 发布 date.
        Blocked: two results for one organisation + project (P6, E35), or a listed
            application with an unconfirmed warning (P3) or 待补评 (P4).
    """
    def act(s):
        c, reg, run = s.campaign, s.reg, s.run
        state = s.state()
        day = on or dt.date.today()
        frozen = state.frozen()
        if frozen and frozen != day.isoformat():
            raise StageError(f"本年度结果已于 {frozen} 发布，已冻结（规则 P5）；如需重新发布，先运行 "
                             "saq stage reopen 评定.xlsx --reason 原因")
        b, e = state.window()
        if b is None:
            raise StageError("尚未公示，不能发布：请先运行 saq stage publicize 评定.xlsx"
                             "（规则 P5：发布须在公示期结束之后）")
        if day <= e:
            raise StageError(f"发布日期 {day.isoformat()} 不在公示期结束之后：公示期为 {b.isoformat()} 至 "
                             f"{e.isoformat()}，发布日期最早为 {(e + dt.timedelta(days=1)).isoformat()}"
                             "（规则 P5）")
        stop = blocked(c, s.apps, state, RELEASE)  # P3, P4 and above all P6, again
        if stop is not None:
            raise stop
        items = publication_items(s.apps, state)
        if not frozen:
            s.decide_all(RELEASE, "发布日期", state.get(RELEASE, None, "发布日期"),
                         day.isoformat(), f"发布 {len(items)} 项", "发布")
            listed = {it.app.id: c.level_name(it.rank) for it in items}
            for a in s.apps:
                old = state.dec[RELEASE].get((a.id, RELEASED_LEVEL)) or ""
                new = listed.get(a.id, "")
                if new != old:
                    reg.decide(c.year, RELEASE, a.id, RELEASED_LEVEL, old or None, new or None,
                               s.user, "发布", a.subject)
        keyless = [it for it in items if not it.uscc]
        if keyless:
            run.problems.append(f"{len(keyless)} 项没有统一社会信用代码，未记入评价档案（如 "
                                f"{keyless[0].org_name}）")
        for it in items:
            if it.uscc:
                reg.record_result(c.year, it.uscc, it.org_name, it.category, it.project_name,
                                  c.level_name(it.rank), it.rank, RELEASED, s.user)
        reg.withdraw_results(c.year, RELEASED,
                             {(it.uscc, it.category, it.project_name or "") for it in items},
                             s.user)
        _write_lists(s, items, "发布", None, day)

    return _run(workbook, campaign, "publish", act, None, registry, who, out_dir=out_dir,
                pdf=pdf)


def reopen(workbook, campaign, reason, registry=None, who=None):
    """`saq stage reopen`: lift the freeze after 发布 (P5) so that results may change again;
    audited with the reason. The published results stay in the registry until the next
    `saq stage publish` replaces them.

    Raises:
        StageError: the year is not frozen, or no reason was given.
    """
    reason = (reason or "").strip()
    if not reason:
        raise StageError("重新开放须说明理由：saq stage reopen 评定.xlsx --reason 原因")

    def act(s):
        state = s.state()
        day = state.frozen()
        if not day:
            raise StageError("本年度结果尚未发布（或已重新开放），无需 reopen")
        s.decide_all(RELEASE, "发布日期", day, None, f"重新开放：{reason}", "重新开放")

    return _run(workbook, campaign, "reopen", act, None, registry, who)


def summary_lines(run):
    """Chinese lines for the terminal."""
    k = run.counts
    lines = list(run.notes)
    lines += [f"评定工作簿：{run.workbook}（申请 {k.get('apps', 0)} 项，参加专家评审 "
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
