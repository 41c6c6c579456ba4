"""Read the applications to review from the master workbook (issue 4's sheet 汇总).

An adapter: the master's columns are FIELDS.md labels. Eligibility = the master's 错误数 is
0 when it has that column (consolidation saw every file, so it knows E25/E26); otherwise the
engine finds no error on the row, counting only codes the master's 问题代码 also lists when
it has that column (so a master without the 资格自查 columns does not make every row
ineligible), plus the multi-file code E25 (RULES.md E25).
"""

from __future__ import annotations

from pathlib import Path

from xl_addin.errors import InputFileError
from xl_addin.review.assign import Application
from xl_addin.review.sheets import verbatim
from xl_addin.review.xlread import find_table, open_workbook, table_rows
from xl_addin.rules import parse
from xl_addin.rules.engine import evaluate_application

SHEET = "汇总"
ID = "申请编号"
NAME_LABELS = ("企业名称", "申请组织名称")
CODES = "问题代码"
ERRORS = "错误数"
MESSAGES = "问题说明"
MULTI_FILE_ERRORS = ("E25",)
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
        from xl_addin.tables import read_table
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
    from xl_addin.review.xlread import _key
    for r, row in enumerate(wb.rows(sheet)[:30], start=1):
        keys = {_key(v): c for c, v in enumerate(row, start=1) if v is not None}
        if "申请类别" in keys:
            return sheet, r, {str(row[c - 1]).strip(): c for c in keys.values()}
    return None


def _application(app_id, name, raw, campaign):
    from dataclasses import replace
    app = _evaluated(app_id, name, raw, campaign)
    src = str(raw.get(SOURCE) or "").strip()  # a file name as it is, not normalised
    return replace(app, source_file=src.replace("\\", "/").rsplit("/", 1)[-1])


def _evaluated(app_id, name, raw, campaign):
    ev = evaluate_application(raw, campaign)
    v = ev.values
    n_err = raw.get(ERRORS)
    if isinstance(n_err, (int, float)) and not isinstance(n_err, bool):
        # Consolidation counted the errors with every file in view (E25, E26): trust it.
        note = str(raw.get(MESSAGES) or "").strip().split("\n")[0] if n_err else ""
        if n_err and not note:
            note = f"汇总表记录 {int(n_err)} 项错误"
        return Application(app_id, name, v.get("category"), v.get("recommender") or "",
                           v.get("uscc") or "", not n_err, v.get("level"),
                           v.get("satisfaction"), _project(raw, v), note)
    listed = None
    if CODES in raw:
        listed = set((parse.text(raw.get(CODES)) or "").replace("，", " ").replace(",", " ").split())
    errors = [f for f in ev.errors if listed is None or f.code in listed]
    extra = [code for code in MULTI_FILE_ERRORS if listed and code in listed]
    note = "；".join([f.message for f in errors[:2]] +
                     [f"{code} {campaign.flags[code]['rule']}" for code in extra])
    v = ev.values
    return Application(app_id, name, v.get("category"), v.get("recommender") or "",
                       v.get("uscc") or "", not errors and not extra, v.get("level"),
                       v.get("satisfaction"), _project(raw, v), note)


def _project(raw, values):
    """申报项目名称 as typed (names are published exactly, issue 14)."""
    return verbatim(raw.get(PROJECT)) or values.get("project_name") or ""
