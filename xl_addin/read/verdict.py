"""One verdict per workbook (issue 9): what the engine is given and what it says.

Every surface that judges a submitted workbook — `saq check`, consolidation, the ribbon's
校验 button — reads it with the one reader (:mod:`xl_addin.read.workbook`), accepts or rejects it
with :func:`acceptance`, builds the engine input with :func:`application_input` or
:func:`recommendation_rows`, and so gets the same codes, totals and levels. Nothing here
does I/O beyond what the reader did.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from xl_addin.read import workbook as fastread
from xl_addin.read.workbook import col_letter
from xl_addin.rules import parse
from xl_addin.rules.engine import (
    count_respondents,
    evaluate_application,
    evaluate_recommender,
    evaluate_row,
    field_labels,
)
from xl_addin.rules.findings import Result, banner_text, status_line
from xl_addin.rules.materials import checklist_missing, checklist_name, checklist_names, item_issue, material_items
from xl_addin.rules.stars import proposed_name

RESPONDENT_TABLE = "respondent_list"
RECOMMENDATION_TABLE = "recommendations"
STORED_TOTAL_NAME = "se_total"  # the workbook's computed total (FIELDS.md), for E27 only
SEQ_HEADER = "序号"
# Headers of the tables the forms carry (FIELDS.md); the reader uses them to find a table
# that was renamed or converted to a range.
RESPONDENT_COLUMNS = ("序号", "姓名", "联系方式")
KINDS = {"application": "申请书", "recommender": "初审推荐意见表（附件3）",
         "expert": "专家评分表", "master": "汇总表"}


class NotAccepted(Exception):
    """A readable workbook of ours that this campaign does not take (kind or year)."""

    def __init__(self, reason, kind="", year=None):
        super().__init__(reason)
        self.reason, self.kind = reason, kind  # kind: application | recommender | expert | master
        self.year = year  # the file's campaign year when that is why (int), else None


def wrong_year_reason(file_year, year):
    """Why a file of another campaign year is not taken, naming both years and both fixes
    (issue 20 §7: the old words told every sender to refill, when the run had the wrong year)."""
    return (f"这是 {file_year} 年活动的模板，本次按 {year} 年活动处理，未读取；"
            f"如本次应为 {file_year} 年活动，请加 --campaign {file_year} 重新运行"
            f"（或用 saq init {file_year} 写明文件夹的年度）；"
            f"如确是 {year} 年的申报，请用 {year} 年模板重新填写后提交")


# ---------------------------------------------------------------------- reading
TEXT_REASON = "文件内容是文本，不是 Excel 工作簿（可能只是改了扩展名），"
CSV_REASON = "CSV 文件无法确认模板和版本，请使用下发的模板填写，"
EMPTY_REASON = "文件为空（0 字节），"


def read(path, campaign, probed=None):
    """Read a submitted workbook with the one reader and accept it for ``campaign``.

    Args:
        path: the file.
        campaign: the Campaign the run uses.
        probed: the fastread.probe result when already taken.
    Returns:
        fastread.Submission
    Raises:
        fastread.UnreadableWorkbook, fastread.NotOurWorkbook: with the reason.
        NotAccepted: ours, but another kind or another year.
    """
    p = Path(path)
    pr = probed or fastread.probe(p)
    if pr.format == "empty":
        raise fastread.UnreadableWorkbook(p, EMPTY_REASON + fastread.SAVE_AS)
    if pr.format == "text":
        why = CSV_REASON if p.suffix.lower() == ".csv" else TEXT_REASON
        raise fastread.UnreadableWorkbook(p, why + fastread.SAVE_AS)
    sub = fastread.read_submission(p, pr, wanted_names(campaign),
                                   lambda kind: expected_tables(campaign, kind))
    acceptance(sub, campaign)
    return sub


def wanted_names(campaign):
    """The defined names a verdict needs: inputs of both forms and the stored total (E27).
    Computed names are not read: the engine recomputes them."""
    return frozenset(application_input_keys(campaign)) | {STORED_TOTAL_NAME} | \
        {f.key for f in campaign.fields["recommender"]} | set(checklist_names(campaign))


def expected_tables(campaign, kind=None):
    """Table name -> the column labels that identify it when its name is lost: the tables of
    ``kind`` only (an application is never searched for a 附件3 table, nor a 附件3 for the
    respondent list, issue 23); both when the kind is None, none for another kind."""
    out = {}
    if kind in (None, "recommender"):
        out[RECOMMENDATION_TABLE] = tuple(f.label for f in campaign.fields["recommendation_row"])
    if kind in (None, "application"):
        out[RESPONDENT_TABLE] = RESPONDENT_COLUMNS
    return out


def acceptance(sub, campaign):
    """Raise :class:`NotAccepted` unless ``sub`` is an application or 附件3 of this campaign.

    Args:
        sub: a fastread.Submission.
        campaign: the Campaign the run uses.
    Raises:
        NotAccepted: with the reason and the kind (Chinese) — the same words for every surface.
    """
    if sub.kind == "master":
        raise NotAccepted("这是本程序生成的汇总表，不是申请书或推荐表，未读取", sub.kind)
    if sub.kind == "expert":
        raise NotAccepted("这是专家评分表，请用“saq review collect”汇总；申请汇总不读取它", sub.kind)
    year = str(sub.meta.get("campaign_year") or "").split(".")[0]
    if year and year != str(campaign.year):
        raise NotAccepted(wrong_year_reason(year, campaign.year), sub.kind,
                          int(year) if year.isdigit() else None)


def application_input_keys(campaign):
    """Defined names that are inputs of an application (FIELDS.md)."""
    keys = [f.key for f in campaign.fields["application"] if f.block != "derived"]
    keys += [p.key for p in campaign.rubric.parts]
    keys.append(campaign.rubric.veto_key)
    return keys


def count_listed(table):
    """F4/E17: rows of 被访者名单 with both 姓名 and 联系方式 ("被访者名单至少含姓名、联系方式";
    engine.count_respondents, the sheet's count says the same).

    Returns:
        int, or None when the workbook has no respondents table.
    """
    if table is None:
        return None
    cols = [parse.norm(c) for c in table.columns]
    name, contact = (cols.index(h) if h in cols else None for h in ("姓名", "联系方式"))

    def cell(r, j):
        return r[j] if j is not None and j < len(r) else None
    return count_respondents((cell(r, name), cell(r, contact)) for r in table.rows)


def application_input(sub, campaign):
    """The engine's input for an application workbook: inputs by key, the number of
    respondents listed (F4, E17) and the stored total (E27)."""
    raw = {k: sub.values.get(k) for k in application_input_keys(campaign)}
    raw["respondents_listed"] = count_listed(sub.tables.get(RESPONDENT_TABLE))
    raw["stored_total"] = sub.values.get(STORED_TOTAL_NAME)
    return raw


@dataclass
class RowInput:
    """One non-empty row of a 附件3 table, as the engine gets it."""

    index: int  # 1-based position in the table
    excel_row: int
    raw: dict  # official label -> raw value
    cells: dict  # field key -> (sheet, "C12")
    first_cell: str  # "Sheet!A8", where a person finds the row
    unplaceable: str = ""  # why consolidation cannot place the row (no name and no code)
    summary: str = ""  # the row's content, for a person to recognise it


@dataclass
class RowsRead:
    header: dict  # recommender header key -> raw value
    rows: list = field(default_factory=list)  # RowInput
    note: str = ""  # why no row was read, when that is the case


def recommendation_rows(sub, campaign):
    """The 附件3 header and every non-empty table row, matched to fields by label.

    A row without both 申请组织名称 and 统一社会信用代码 cannot be placed and is rejected
    with a reason (nothing is dropped silently).
    """
    out = RowsRead({f.key: sub.values.get(f.key) for f in campaign.fields["recommender"]})
    table = sub.tables.get(RECOMMENDATION_TABLE)
    if table is None:
        out.note = "未找到推荐表格（recommendations），没有读取到推荐行"
        return out
    fields = campaign.fields["recommendation_row"]
    labels = {parse.norm(f.label).replace(" ", ""): f for f in fields}
    col_of = {}  # field key -> column index
    for j, c in enumerate(table.columns):
        f = labels.get(parse.norm(c).replace(" ", ""))
        if f is not None and f.key not in col_of:
            col_of[f.key] = j
    content_keys = [f.key for f in fields if f.key != "seq" and f.key in col_of]
    for i, r in enumerate(table.rows, start=1):
        cells = {k: (r[j] if j < len(r) else None) for k, j in col_of.items()}
        if all(parse.is_blank(cells.get(k)) for k in content_keys):
            continue  # an unused row of the template
        excel_row = table.first_row + i - 1
        raw = {f.label: cells.get(f.key) for f in fields if f.key in col_of}
        where = {k: (table.sheet, f"{col_letter(table.first_col + j)}{excel_row}")
                 for k, j in col_of.items()}
        row = RowInput(i, excel_row, raw, where,
                       _where((table.sheet, f"{col_letter(table.first_col)}{excel_row}")))
        if parse.is_blank(cells.get("org_name")) and parse.is_blank(cells.get("uscc")):
            row.unplaceable = "没有申请组织名称和统一社会信用代码，无法确定是哪一项申请"
            row.summary = summarise(cells)
        out.rows.append(row)
    return out


def summarise(cells, limit=120):
    """A rejected row's content, for a person to recognise it."""
    s = " | ".join(str(v) for v in cells.values() if not parse.is_blank(v))
    return s[:limit]


# ---------------------------------------------------------------------- the verdict
@dataclass
class Verdict(Result):
    """What a workbook gets, wherever it is judged: its findings (rules.findings.Finding,
    with the field's label and where it is) and its scores and levels."""

    kind: str  # application | recommender
    findings: list = field(default_factory=list)
    rows: int = 0  # 附件3 rows evaluated
    selfeval_total: float | None = None
    conclusion: str | None = None
    achievable_level: str | None = None
    proposed_level: str | None = None
    level_reason: str = ""
    notes: list = field(default_factory=list)  # reader notes (#REF! names, tables found by header)
    # The 材料清单 items not shown as provided (RULES.md M; also in ``findings``), or None:
    # not asked for (consolidation judges materials from a dossier folder's files) or the
    # workbook has no 材料清单 (an older template says nothing about materials).
    materials: list | None = None
    banner_words: dict | None = field(default=None, repr=False)  # campaign [dossier] words
    # What the sheet counts (issue 20 §8): codes, not findings — an application's form
    # findings, or a 附件3's header plus each row (findings.code_counts).
    # They are set, not derived from ``findings`` as Result does: a 附件3's rows are counted
    # one by one and summed, as its sheet's 统计 does.
    error_count: int = 0
    warning_count: int = 0

    @property
    def form_findings(self):
        """The findings of the form itself (what the sheet's 问题代码 and counts show)."""
        return [f for f in self.findings if f not in (self.materials or ())]

    @property
    def status(self):
        """The verdict in words. With a 材料清单: the sheet's own banner, word for word
        (表格 and 材料 separately; 可以提交 only when both are clean, issue 13)."""
        if self.materials is not None:
            return banner_text(self.banner_words, self.error_count, self.warning_count,
                               len(self.materials))
        return status_line(self.error_count, self.warning_count)

    def as_json(self):
        """The verdict for machines (`saq check --json`)."""
        def items(fs):
            return [f.as_json("code", "message", "field", "where") for f in fs]
        return {"kind": self.kind, "status": self.status, "rows": self.rows,
                "errors": items(self.errors), "warnings": items(self.warnings),
                "selfeval_total": self.selfeval_total, "conclusion": self.conclusion,
                "achievable_level": self.achievable_level,
                "proposed_level": self.proposed_level, "notes": list(self.notes),
                "materials": None if self.materials is None else {
                    "missing": len(self.materials),
                    "items": [{"code": f.code, "severity": f.severity, "item": f.label,
                               "where": f.where} for f in self.materials]}}


def _add_materials(out, sub, category, c):
    """The 材料清单 items the sheet counts as missing, as findings (RULES.md M): the same
    rule and category as the sheet's ``materials_missing`` (rules.materials.checklist_missing)."""
    if not any(checklist_name(it) in sub.values for it in material_items(c)):
        return  # no 材料清单: the sheet's banner has no 材料 part either
    out.banner_words = c.dossier
    out.materials = []
    for it in checklist_missing(sub.values, category, c):
        key = checklist_name(it)
        f = replace(item_issue(c, it), field=key, label=it["name"], where=_where(sub.locations.get(key)))
        out.materials.append(f)
        out.findings.append(f)


def _where(loc):
    if not loc:
        return ""
    sheet, cell = loc
    if not sheet.replace("_", "").isalnum():
        sheet = "'" + sheet.replace("'", "''") + "'"
    return f"{sheet}!{cell}"


def verdict(sub, campaign, extra=None, materials=False):
    """Evaluate a read workbook (after :func:`acceptance`).

    Args:
        sub: a fastread.Submission of kind application or recommender.
        campaign: the Campaign.
        extra: more engine input for an application — the campaign registry's answers
            (registry.engine_inputs, issue 14).
        materials: also judge the application's 材料清单 as its own sheet does (the
            banner's 材料：缺 N 项; `saq check FILE`, the ribbon's 校验). Consolidation leaves
            it off: it judges materials from the files of a dossier folder.
    Returns:
        Verdict
    """
    c = campaign
    out = Verdict(sub.kind, notes=list(sub.notes))
    if sub.kind == "application":
        ev = evaluate_application({**application_input(sub, c), **(extra or {})}, c)
        labels = field_labels(c, "application")
        if RESPONDENT_TABLE not in sub.tables:
            out.notes.append("未找到被访者名单表格")
        for f in ev.flags:
            out.findings.append(replace(f, label=labels.get(f.field, f.field),
                                        where=_where(sub.locations.get(f.field))))
        out.error_count, out.warning_count = ev.error_count, ev.warning_count
        s = ev.star
        out.selfeval_total, out.conclusion = ev.rubric.total, ev.rubric.conclusion
        out.achievable_level = c.level_name(s.achievable)
        out.proposed_level = proposed_name(c, s, ev.values.get("level"))
        out.level_reason = s.reason
        if materials:
            _add_materials(out, sub, ev.values.get("category"), c)
        return out
    read = recommendation_rows(sub, c)
    if read.note:
        out.notes.append(read.note)
    labels = field_labels(c, "recommender")
    header = evaluate_recommender(read.header, c)
    out.error_count, out.warning_count = header.error_count, header.warning_count
    for f in header.flags:
        out.findings.append(replace(f, label=labels.get(f.field, f.field),
                                    where=_where(sub.locations.get(f.field))))
    row_labels = field_labels(c, "recommendation_row")
    for r in read.rows:
        out.rows += 1
        where = f"第 {r.index} 行（{r.first_cell}）"
        ev = evaluate_row(r.raw, c)
        out.error_count += ev.error_count  # the sheet's 统计: each row's codes, summed
        out.warning_count += ev.warning_count
        for f in ev.flags:
            out.findings.append(replace(f, label=row_labels.get(f.field, f.field), where=where))
    return out
