"""Read the applications to review from the master workbook (issue 4's sheet 汇总).

An adapter: the master's columns are FIELDS.md labels. Eligibility = the master's 错误数 is
0 when it has that column (consolidation saw every file, so it knows E25/E26/E35); otherwise
the engine finds no error on the row, counting only codes the master's 问题代码 also lists
when it has that column (so a master without the 资格自查 columns does not make every row
ineligible), plus the cross-file codes it lists (RULES.md E25, E26, E35).

Each application keeps its findings (errors and warnings, rules.findings.Finding): an excluded
one's reason is every error with its words, then the warnings (RULES.md P2), and the stages
show the warnings staff must confirm (P3).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from xl_addin.errors import InputFileError
from xl_addin.review.assign import Application
from xl_addin.review.sheets import verbatim
from xl_addin.review.xlread import _key, find_table, open_workbook, table_rows
from xl_addin.rules import decide, parse
from xl_addin.rules.engine import evaluate_application
from xl_addin.rules.findings import Finding
from xl_addin.tables import read_table

SHEET = "汇总"
ID = "申请编号"
NAME_LABELS = ("企业名称", "申请组织名称")
CODES = "问题代码"
ERRORS = "错误数"
MESSAGES = "问题说明"
CROSS_FILE = ("E25", "E26", "E35")  # codes only consolidation can give (several files)
SOURCE = "来源文件"  # the master's column naming the application workbook
PROJECT = "申报项目名称"


def read_master(path, campaign):
    """Applications of the master workbook, in its row order.

    Returns:
        (applications, problems): Application list; (row, Chinese message) for rows skipped.
    Raises:
        InputFileError: unreadable, or no 汇总 table with 申请类别.
    """
    p = Path(path)
    if p.suffix.lower() == ".csv":
        _, dict_rows = read_table(p)
        rows = list(enumerate(dict_rows, start=2))
    else:
        wb = open_workbook(p)
        where = None
        if SHEET in wb.sheetnames:
            where = _find_in(wb, SHEET)
        where = where or find_table(wb, "master", ["申请类别"])
        if where is None:
            raise InputFileError(p, "找不到汇总表（含“申请类别”列的表头）")
        rows = table_rows(wb, where, stop_blank=False)
    apps, problems, used = [], [], set()
    for n, (r, raw) in enumerate(rows, start=1):
        raw = {str(k).strip(): v for k, v in raw.items() if k is not None}
        name = next((verbatim(raw.get(k)) for k in NAME_LABELS if not parse.is_blank(raw.get(k))),
                    None)
        if not name:
            problems.append((r, "企业名称未填写，未参加评审分配"))
            continue
        app_id = parse.text(raw.get(ID)) or f"{campaign.year}-{n:03d}"
        if app_id in used:
            problems.append((r, f"申请编号“{app_id}”重复，未参加评审分配"))
            continue
        used.add(app_id)
        apps.append(_application(app_id, name, raw, campaign))
    return apps, problems


def _find_in(wb, sheet):
    for r, row in enumerate(wb.rows(sheet)[:30], start=1):
        keys = {_key(v): c for c, v in enumerate(row, start=1) if v is not None}
        if "申请类别" in keys:
            return sheet, r, {str(row[c - 1]).strip(): c for c in keys.values()}
    return None


def _application(app_id, name, raw, campaign):
    app = _evaluated(app_id, name, raw, campaign)
    src = str(raw.get(SOURCE) or "").strip()  # a file name as it is, not normalised
    return replace(app, source_file=src.replace("\\", "/").rsplit("/", 1)[-1])


def _evaluated(app_id, name, raw, campaign):
    ev = evaluate_application(raw, campaign)
    v = ev.values
    n_err = _count(raw.get(ERRORS))
    if n_err is not None:
        # Consolidation counted the errors with every file in view (E25, E26, E35): trust
        # it, and read its 问题说明 back line by line (errors first since issue 18).
        findings = decide.findings_from_text(raw.get(MESSAGES), campaign)
        if n_err and not any(f.is_error for f in findings):
            findings = (Finding(code="", severity="error", message=f"汇总表记录 {int(n_err)} 项错误"),) \
                + findings
        eligible = not n_err
    else:
        listed = None
        if CODES in raw:
            listed = set((parse.text(raw.get(CODES)) or "").replace("，", " ").replace(",", " ")
                         .split())
        found = [f for f in ev.flags if listed is None or f.code in listed]
        extra = tuple(Finding(code=code, severity=campaign.flags[code]["severity"],
                              message=f"{campaign.flags[code]['rule']}（{code}）")
                      for code in CROSS_FILE if listed and code in listed and code in campaign.flags)
        findings = decide.findings_of(found) + extra
        eligible = not any(f.is_error for f in findings)
    findings = decide.ordered(findings)
    note = "" if eligible else decide.exclusion_text(findings, campaign)
    return Application(app_id, name, v.get("category"), v.get("recommender") or "",
                       v.get("uscc") or "", eligible, v.get("level"), v.get("satisfaction"),
                       _project(raw, v), note, findings=findings)


def _count(v):
    """The master's 错误数: a number, or a number written as text (a CSV export)."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return v
    try:
        return parse.integer(v) if isinstance(v, str) and v.strip() else None
    except parse.Unreadable:
        return None


def _project(raw, values):
    """申报项目名称 as typed (names are published exactly, issue 14)."""
    return verbatim(raw.get(PROJECT)) or values.get("project_name") or ""
