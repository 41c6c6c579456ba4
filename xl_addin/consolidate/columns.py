"""The columns of 汇总 (FIELDS.md "Master workbook"), generated from the campaign fields.

Each column is (header, width, getter(entry, campaign) -> value, field keys it shows —
used to colour a flagged cell).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from xl_addin.consolidate.crossfile import app_key, key_text
from xl_addin.consolidate.materials import dossier_word  # issue 13: 齐全 / 缺 N 项 where a dossier folder is
from xl_addin.rules.stars import needs_onsite_review, proposed_name

STAFF_COLUMNS = ("审定意见", "备注")
KEY_HEADER = "申请键"
SOURCE_HEADER = "来源文件"
STATUS_ERROR, STATUS_WARNING, STATUS_OK = "有错误", "仅有提醒", "无问题"
MATCHED, APP_ONLY, ROW_ONLY = "均有", "缺推荐表", "缺申请书"  # 申请书 / 附件3 行
# Lead columns (after status), in the order staff read them.
LEAD_KEYS = ("org_name", "uscc", "category", "level", "project_name", "satisfaction")
PRINTED = 10  # 状态 … 备注: the columns 汇总 prints (issue 22)
VERBATIM = ("org_name", "project_name")


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    get: object
    keys: tuple = ()
    wrap: bool = False


def status(entry):
    if entry.errors:
        return STATUS_ERROR
    if entry.warnings:
        return STATUS_WARNING
    return STATUS_OK


def errors_first(entry):
    """The entry's flags, every error before the warnings (RULES.md P2), each group in the
    order found: the review reads 问题说明 back line by line."""
    return sorted(entry.flags, key=lambda f: f.severity != "error")


def matching(entry):
    if entry.app is not None and entry.row is not None:
        return MATCHED
    return APP_ONLY if entry.app is not None else ROW_ONLY


def value_of(entry, key, campaign):
    """A field's value as the master shows it: parsed, or the raw text when unreadable."""
    src = entry.app or entry.row
    ev = src.evaluation
    if any(f.code == "E23" and f.field == key for f in ev.flags):
        raw = src.raw.get(key) if entry.app is not None else _row_raw(entry.row, key, campaign)
        return None if raw is None else str(raw)
    v = ev.values.get(key)
    if key in VERBATIM and isinstance(v, str):
        # Names are published exactly as typed (issue 14): parsing folds “，” to “,”.
        raw = src.raw.get(key) if entry.app is not None else _row_raw(entry.row, key, campaign)
        return str(raw).strip() if isinstance(raw, str) and raw.strip() else v
    if key == "level" and v is not None:
        lv = campaign.level(v)
        return lv.applied if lv else v
    return v


def _row_raw(row, key, campaign):
    for f in campaign.fields["recommendation_row"]:
        if f.key == key:
            return row.raw.get(f.label)
    return None


def _app_only(fn):
    return lambda e, c: fn(e, c) if e.app is not None else None


def _row_value(key):
    return lambda e, c: value_of_row(e, key, c) if e.row is not None else None


def value_of_row(entry, key, campaign):
    v = entry.row.evaluation.values.get(key)
    if v is None:
        raw = _row_raw(entry.row, key, campaign)
        return None if raw is None else str(raw)
    return v


def _source(e):
    return (e.app.file.rel if e.app else e.row.file.rel)


def _source_sheet(e):
    if e.app is not None:
        return e.app.locations.get("org_name", ("", ""))[0]
    return e.row.sheet


def _source_row(e):
    if e.app is not None:
        return e.app.locations.get("org_name", ("", ""))[1]
    return e.row.excel_row


def build_columns(campaign):
    """Every column of 汇总, in order.

    Returns:
        list of Column
    """
    fields = {f.key: f for f in campaign.fields["application"]}
    row_labels = {f.key: f.label for f in campaign.fields["recommendation_row"]}
    def field(k, width):
        return Column(fields[k].label, width, lambda e, c, k=k: value_of(e, k, c), (k,))

    # The printed block first (issue 22: 汇总 prints one A4 page across, PRINTED columns):
    # what staff decide from; the rest of the row follows on screen.
    cols = [
        Column("状态", 9, lambda e, c: status(e)),
        Column("推荐单位", 18, lambda e, c: e.recommender, ("recommender",)),
        field("org_name", 24), field("category", 8), field("level", 10),
        field("project_name", 20),
        Column("建议等级", 12, _app_only(lambda e, c: proposed_name(  # 无法评定 as the sheet says
            c, e.app.evaluation.star, e.app.evaluation.values.get("level")))),
        Column("问题说明", 44, lambda e, c: "\n".join(f.message for f in errors_first(e)), wrap=True),
    ]
    cols += [Column(h, 14 if h == STAFF_COLUMNS[0] else 12, lambda e, c, h=h: e.staff.get(h),
                    wrap=True) for h in STAFF_COLUMNS]
    cols += [
        Column("匹配情况", 9, lambda e, c: matching(e)),
        field("uscc", 21), field("satisfaction", 9),
        Column("重算自评分", 9, _app_only(lambda e, c: e.app.evaluation.rubric.total),
               ("se_total", "self_score", "stored_total")),
        Column("自评结论", 8, _app_only(lambda e, c: e.app.evaluation.rubric.conclusion),
               (campaign.rubric.veto_key,)),
        Column("可评等级", 12, _app_only(lambda e, c: c.level_name(e.app.evaluation.star.achievable))),
        Column("等级说明", 28, _app_only(lambda e, c: e.app.evaluation.star.reason), wrap=True),
        Column("现场评审", 8, _app_only(lambda e, c: "是" if needs_onsite_review(  # L6: applied
            c, e.app.evaluation.values.get("category"), e.app.evaluation.values.get("level"),
            e.app.evaluation.star.proposed) else "")),
        # Earlier results from the campaign registry (issue 14), set by registry.annotate_entries.
        Column("上年结果", 16, lambda e, c: getattr(e, "prior_result", None), wrap=True),
        Column("错误数", 6, lambda e, c: e.errors),
        Column("提醒数", 6, lambda e, c: e.warnings),
        Column("问题代码", 14, lambda e, c: " ".join(dict.fromkeys(f.code for f in errors_first(e))),
               wrap=True),
    ]
    lead = set(LEAD_KEYS) | {"recommender"}
    for f in campaign.fields["application"]:
        if f.key in lead or f.block == "derived":
            continue
        cols.append(Column(f.label, 12, lambda e, c, k=f.key: value_of(e, k, c) if e.app else None,
                           (f.key,)))
    cols.append(Column("自评表记录的总分", 10, _app_only(lambda e, c: e.app.raw.get("stored_total"))))
    cols.append(Column("被访者名单人数", 10, _app_only(lambda e, c: e.app.respondents_listed)))
    cols.append(Column("申报材料", 10, _app_only(lambda e, c: dossier_word(e.app.dossier))))
    for s in campaign.rubric.sections:
        cols.append(Column(f"自评·{s.name}", 9,
                           _app_only(lambda e, c, s=s: e.app.evaluation.rubric.sections.get(s.id)),
                           tuple(p.key for it in campaign.rubric.items_of(s.id)
                                 for p in it.parts + ((it.penalty,) if it.penalty else ()))))
    for k in ("self_score", "surveyor_score", "opinion"):
        cols.append(Column(f"推荐表·{row_labels[k]}", 12, _row_value(k)))
    cols += [
        Column(SOURCE_HEADER, 30, lambda e, c: _source(e)),
        Column("来源工作表", 12, lambda e, c: _source_sheet(e)),
        Column("来源行", 8, lambda e, c: _source_row(e)),
        Column("推荐表文件", 30, lambda e, c: e.row.file.rel if e.row else None),
        Column("推荐表行", 8, lambda e, c: e.row.excel_row if e.row else None),
        Column(KEY_HEADER, 30, lambda e, c: key_text(app_key(e.values))),
    ]
    return cols


def is_date(v):
    return isinstance(v, (dt.date, dt.datetime))
