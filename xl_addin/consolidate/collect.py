"""Turn read workbooks into evaluated sources: one AppSource per applicant workbook, one
RowSource per non-empty 附件3 row, one RecommenderHeader per recommender workbook.

Every score, level and flag is recomputed by the engine from the inputs; cached values
of the workbook are used only to detect a disagreement (E27 via ``stored_total``).
"""

from __future__ import annotations

from .. import verdict as V
from ..engine import evaluate_application, evaluate_recommender, evaluate_row
from .model import WHOLE_FILE, AppSource, FlagRecord, RecommenderHeader, Rejected, RowSource


def read_application(sub, rec, campaign):
    """Evaluate an applicant workbook (the engine input is :func:`verdict.application_input`,
    the same as `saq check`'s).

    Returns:
        AppSource
    """
    raw = V.application_input(sub, campaign)
    ev = evaluate_application(raw, campaign)
    if V.RESPONDENT_TABLE not in sub.tables:
        rec.reason = "；".join(x for x in (rec.reason, "未找到被访者名单表格") if x)
    rec.rows_read = 1
    return AppSource(rec, ev, raw, dict(sub.locations), raw["respondents_listed"])


def app_flags(src):
    """The engine's flags of an application, with the sheet and cell of each field."""
    out = []
    for f in src.evaluation.flags:
        sheet, cell = src.locations.get(f.field, ("", ""))
        out.append(FlagRecord(f.code, f.severity, f.message, f.field, src.file.rel, sheet, cell))
    return out


def read_recommender(sub, rec, campaign):
    """Evaluate a 附件3 workbook: its header and every non-empty row
    (:func:`verdict.recommendation_rows`, the same rows `saq check` evaluates).

    Returns:
        (RecommenderHeader, [RowSource], [Rejected])
    """
    read = V.recommendation_rows(sub, campaign)
    hdr_ev = evaluate_recommender(read.header, campaign)
    name = hdr_ev.values.get("recommender") or f"（未填推荐单位：{rec.path.stem}）"
    header = RecommenderHeader(rec, name)
    for f in hdr_ev.flags:
        sheet, cell = sub.locations.get(f.field, ("", ""))
        header.flags.append(FlagRecord(f.code, f.severity, f.message, f.field, rec.rel, sheet, cell))
    if read.note:
        rec.reason = "；".join(x for x in (rec.reason, read.note) if x)
    rows, rejected = [], []
    for r in read.rows:
        rec.rows_read += 1
        sheet = next(iter(r.cells.values()))[0]
        if r.unplaceable:
            rejected.append(Rejected(rec.rel, f"第 {r.excel_row} 行", sheet, r.unplaceable, r.summary))
            continue
        rows.append(RowSource(rec, name, r.index, sheet, r.excel_row,
                              evaluate_row(r.raw, campaign), r.raw, r.cells))
    return header, rows, rejected


def row_flags(src):
    out = []
    for f in src.evaluation.flags:
        sheet, cell = src.cells.get(f.field, (src.sheet, ""))
        out.append(FlagRecord(f.code, f.severity, f.message, f.field, src.file.rel, sheet, cell))
    return out


def reject_file(rec):
    return Rejected(rec.rel, WHOLE_FILE, "", rec.reason)
