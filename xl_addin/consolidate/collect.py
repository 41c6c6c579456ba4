"""Turn read workbooks into evaluated sources: one AppSource per applicant workbook, one
RowSource per non-empty 附件3 row, one RecommenderHeader per recommender workbook.

Every score, level and flag is recomputed by the engine from the inputs; cached values
of the workbook are used only to detect a disagreement (E27 via ``stored_total``).
"""

from __future__ import annotations

from .. import parse
from ..engine import (count_respondents, evaluate_application, evaluate_recommender,
                      evaluate_row)
from .model import WHOLE_FILE, AppSource, FlagRecord, RecommenderHeader, Rejected, RowSource

RESPONDENT_TABLE = "respondent_list"
RECOMMENDATION_TABLE = "recommendations"
STORED_TOTAL_NAME = "se_total"  # the workbook's computed total (FIELDS.md), for E27 only


def application_input_keys(campaign):
    """Defined names that are inputs of an application (FIELDS.md)."""
    keys = [f.key for f in campaign.fields["application"] if f.block != "derived"]
    keys += [p.key for p in campaign.rubric.parts]
    keys.append(campaign.rubric.veto_key)
    return keys


def count_listed(table):
    """E17/F4: rows of 被访者名单 with both 姓名 and 联系方式 (engine.count_respondents)."""
    if table is None:
        return None
    cols = [parse.norm(c) for c in table.columns]
    name, contact = (cols.index(h) if h in cols else None for h in ("姓名", "联系方式"))

    def cell(r, j):
        return r[j] if j is not None and j < len(r) else None
    return count_respondents((cell(r, name), cell(r, contact)) for r in table.rows)


def read_application(sub, rec, campaign):
    """Evaluate an applicant workbook.

    Returns:
        AppSource
    """
    raw = {k: sub.values.get(k) for k in application_input_keys(campaign)}
    listed = count_listed(sub.tables.get(RESPONDENT_TABLE))
    raw["respondents_listed"] = listed
    raw["stored_total"] = sub.values.get(STORED_TOTAL_NAME)
    ev = evaluate_application(raw, campaign)
    if RESPONDENT_TABLE not in sub.tables:
        rec.reason = "；".join(x for x in (rec.reason, "未找到被访者名单表格") if x)
    rec.rows_read = 1
    return AppSource(rec, ev, raw, dict(sub.locations), listed)


def app_flags(src):
    """The engine's flags of an application, with the sheet and cell of each field."""
    out = []
    for f in src.evaluation.flags:
        sheet, cell = src.locations.get(f.field, ("", ""))
        out.append(FlagRecord(f.code, f.severity, f.message, f.field, src.file.rel, sheet, cell))
    return out


def read_recommender(sub, rec, campaign):
    """Evaluate a 附件3 workbook: its header and every non-empty row.

    Returns:
        (RecommenderHeader, [RowSource], [Rejected])
    """
    hdr_keys = [f.key for f in campaign.fields["recommender"]]
    hdr_ev = evaluate_recommender({k: sub.values.get(k) for k in hdr_keys}, campaign)
    name = hdr_ev.values.get("recommender") or f"（未填推荐单位：{rec.path.stem}）"
    header = RecommenderHeader(rec, name)
    for f in hdr_ev.flags:
        sheet, cell = sub.locations.get(f.field, ("", ""))
        header.flags.append(FlagRecord(f.code, f.severity, f.message, f.field, rec.rel, sheet, cell))
    table = sub.tables.get(RECOMMENDATION_TABLE)
    if table is None:
        rec.reason = "；".join(x for x in (rec.reason, "未找到推荐表格（recommendations），没有读取到推荐行") if x)
        return header, [], []
    fields = campaign.fields["recommendation_row"]
    labels = {parse.norm(f.label).replace(" ", ""): f for f in fields}
    col_of = {}  # field key -> column index
    for j, c in enumerate(table.columns):
        f = labels.get(parse.norm(c).replace(" ", ""))
        if f is not None and f.key not in col_of:
            col_of[f.key] = j
    content_keys = [f.key for f in fields if f.key != "seq" and f.key in col_of]
    rows, rejected = [], []
    for i, r in enumerate(table.rows, start=1):
        cells = {k: (r[j] if j < len(r) else None) for k, j in col_of.items()}
        if all(parse.is_blank(cells.get(k)) for k in content_keys):
            continue  # an unused row of the template
        rec.rows_read += 1
        excel_row = table.first_row + i - 1
        if parse.is_blank(cells.get("org_name")) and parse.is_blank(cells.get("uscc")):
            rejected.append(Rejected(rec.rel, f"第 {excel_row} 行", table.sheet,
                                     "没有申请组织名称和统一社会信用代码，无法确定是哪一项申请",
                                     summarise(cells)))
            continue
        raw = {f.label: cells.get(f.key) for f in fields if f.key in col_of}
        ev = evaluate_row(raw, campaign)
        where = {k: table_cell(table, i - 1, j) for k, j in col_of.items()}
        rows.append(RowSource(rec, name, i, table.sheet, excel_row, ev, raw, where))
    return header, rows, rejected


def row_flags(src):
    out = []
    for f in src.evaluation.flags:
        sheet, cell = src.cells.get(f.field, (src.sheet, ""))
        out.append(FlagRecord(f.code, f.severity, f.message, f.field, src.file.rel, sheet, cell))
    return out


def table_cell(table, i, j):
    from ..fastread import col_letter
    return table.sheet, f"{col_letter(table.first_col + j)}{table.first_row + i}"


def summarise(cells, limit=120):
    """A rejected row's content, for a person to recognise it."""
    s = " | ".join(str(v) for v in cells.values() if not parse.is_blank(v))
    return s[:limit]


def reject_file(rec):
    return Rejected(rec.rel, WHOLE_FILE, "", rec.reason)
