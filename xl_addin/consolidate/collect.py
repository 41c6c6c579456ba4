"""Turn read workbooks into evaluated sources: one AppSource per applicant workbook, one
RowSource per non-empty 附件3 row, one RecommenderHeader per recommender workbook.

Every score, level and flag is recomputed by the engine from the inputs; cached values
of the workbook are used only to detect a disagreement (E27 via ``stored_total``).
"""

from __future__ import annotations

from xl_addin.consolidate.materials import (
    dossier_flags,  # issue 13: the dossier folder, when there is one
    scan_flag,  # issue 13: M12, the stamped scan beside the 附件3
)
from xl_addin.consolidate.model import WHOLE_FILE, AppSource, FlagRecord, RecommenderHeader, Rejected, RowSource
from xl_addin.read import verdict as V
from xl_addin.registry import uscc_key
from xl_addin.rules.engine import evaluate_application, evaluate_recommender, evaluate_row, field_labels
from xl_addin.rules.materials import checklist_names  # the 材料清单: its 不适用 answers only
from xl_addin.tables import clean_text


def clean_values(values, labels, rec, where=""):
    """Submitted text with characters a workbook cannot hold made visible (issue 12 §1);
    the file's reason names the fields so the sender can be told.

    Args:
        values: key -> raw value; labels: key -> the field's label (for the note);
        rec: the FileRecord the note goes to; where: "第 8 行" for a table row.
    Returns:
        the cleaned dict.
    """
    out, dirty = {}, []
    for k, v in values.items():
        out[k], changed = clean_text(v)
        if changed:
            dirty.append(f"“{labels.get(k, k)}”")
    if dirty:
        note = (f"{where}{'、'.join(dirty)}含表格不能保存的控制字符，"
                "已改为可见的转义形式（如 \\x1B）")
        rec.reason = "；".join(x for x in (rec.reason, note) if x)
    return out


def read_application(sub, rec, campaign, known=None):
    """Evaluate an applicant workbook (the engine input is :func:`verdict.application_input`,
    the same as `saq check`'s).

    Args:
        known: the campaign registry's answers (registry.Known), or None: added to the
            engine input before the one evaluation (K4/E06, E33; issue 14).
    Returns:
        AppSource
    """
    raw = clean_values(V.application_input(sub, campaign), field_labels(campaign, "application"),
                       rec)
    if known is not None:
        raw.update(known.engine_inputs(uscc_key(raw.get("uscc"))))
    ev = evaluate_application(raw, campaign)
    if V.RESPONDENT_TABLE not in sub.tables:
        rec.reason = "；".join(x for x in (rec.reason, "未找到被访者名单表格") if x)
    rec.rows_read = 1
    answers = {k: sub.values[k] for k in checklist_names(campaign) if k in sub.values}
    return AppSource(rec, ev, raw, dict(sub.locations), raw["respondents_listed"],
                     dossier_flags(rec.path, ev.values, campaign, rec.rel, answers))


def app_flags(src):
    """The engine's flags of an application, with the sheet and cell of each field."""
    out = []
    for f in src.evaluation.flags:
        sheet, cell = src.locations.get(f.field, ("", ""))
        out.append(FlagRecord(f.code, f.severity, f.message, f.field, src.file.rel, sheet, cell))
    return out + list(src.dossier or [])


def read_recommender(sub, rec, campaign):
    """Evaluate a 附件3 workbook: its header and every non-empty row
    (:func:`verdict.recommendation_rows`, the same rows `saq check` evaluates).

    Returns:
        (RecommenderHeader, [RowSource], [Rejected])
    """
    read = V.recommendation_rows(sub, campaign)
    hdr_ev = evaluate_recommender(clean_values(read.header, field_labels(campaign, "recommender"),
                                               rec), campaign)
    name = hdr_ev.values.get("recommender") or f"（未填推荐单位：{rec.path.stem}）"
    header = RecommenderHeader(rec, name)
    for f in hdr_ev.flags:
        sheet, cell = sub.locations.get(f.field, ("", ""))
        header.flags.append(FlagRecord(f.code, f.severity, f.message, f.field, rec.rel, sheet, cell))
    scan = scan_flag(rec.path, campaign, rec.rel)
    if scan is not None:
        header.flags.append(scan)
    if read.note:
        rec.reason = "；".join(x for x in (rec.reason, read.note) if x)
    rows, rejected = [], []
    for r in read.rows:
        rec.rows_read += 1
        sheet = next(iter(r.cells.values()))[0]
        raw = clean_values(r.raw, {}, rec, f"第 {r.excel_row} 行")
        if r.unplaceable:
            rejected.append(Rejected(rec.rel, f"第 {r.excel_row} 行", sheet, r.unplaceable,
                                     clean_text(r.summary)[0]))
            continue
        rows.append(RowSource(rec, name, r.index, sheet, r.excel_row,
                              evaluate_row(raw, campaign), raw, r.cells))
    return header, rows, rejected


def row_flags(src):
    out = []
    for f in src.evaluation.flags:
        sheet, cell = src.cells.get(f.field, (src.sheet, ""))
        out.append(FlagRecord(f.code, f.severity, f.message, f.field, src.file.rel, sheet, cell))
    return out


def reject_file(rec):
    return Rejected(rec.rel, WHOLE_FILE, "", rec.reason)
