"""The `expert_scores` table (FIELDS.md 专家评分表): its columns, and the Python reading of
one row — the same numbers the row's formulas show, computed by the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xl_addin.review.expert_plan import required_keys, use_choices, use_expected
from xl_addin.rules import checks, parse, rubric, stars
from xl_addin.rules.codes.selfeval import e29
from xl_addin.rules.engine import Evaluation, Reader, field_labels, risk_fact, scored
from xl_addin.rules.rubric import score_spellings, typed_score

TABLE = "expert_scores"
WORDS = {"recused": "回避", "complete": "已完成", "empty": "未填写"}
INPUT_CODES = ("E23", "E29")  # unreadable value, value outside the allowed set (S1)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    role: str  # "info" (locked), "input", "computed"
    width: float = 7


def columns(campaign):
    """The table's columns in order. Keys of rubric parts are the se_ keys (FIELDS.md)."""
    labels = field_labels(campaign, "application")
    rb = campaign.rubric
    cols = [Column("app_id", "申请编号", "info", 10), Column("org_name", "申请组织名称", "info", 24),
            Column("project_name", "申报项目名称", "info", 20),
            Column("category", "申请类别", "info", 8), Column("level", "申请等级", "info", 10),
            Column("satisfaction", "满意度", "info", 7),
            Column("recused", "回避", "input", 6)]
    cols += [Column(p.key, labels[p.key], "input", 7) for p in rb.parts]
    cols += [Column(rb.veto_key, rb.veto_label, "input", 9),
             Column("report_use", "测量报告应用", "input", 9),
             Column("risk", "风险", "input", 6),
             Column("comment", "评审意见", "input", 30),
             Column("total", "专家总分", "computed", 8),
             Column("conclusion", "评价结论", "computed", 8),
             Column("achievable", "可评等级", "computed", 12),
             Column("missing", "缺项数", "computed", 6),
             Column("invalid", "无效项数", "computed", 6),
             Column("status", "填写状态", "computed", 16),
             Column("source_file", "来源文件", "info", 28)]
    return cols


INPUT_KEYS_EXTRA = ("report_use", "risk")
ROW_FIELDS = ("category", "satisfaction", "level", "report_use", "risk")
_LABELS = {}


def evaluate_expert_row(raw, campaign):
    """The engine's evaluation of an expert row's fields only.

    ``engine.evaluate_application`` parses all ~120 fields of an application and runs every
    application check; on an expert row all but these are blank, and that took most of
    `review collect`'s time (issue 14). This reads the same fields with the engine's own
    reading step (``engine.Reader``, as ``engine.normalise`` does), scores with
    ``rubric.score``, rates with ``stars.evaluate`` and flags E29 with ``codes.selfeval.e29`` — the
    same functions, so the result equals evaluate_application's on these fields
    (tests/test_review_rows.py).

    Args:
        raw: key -> value of :data:`ROW_FIELDS`, the rubric parts and the veto.
    Returns:
        engine.Evaluation (values, the E23 / E29 flags, rubric, star, conclusion).
    """
    c = campaign
    labels = _LABELS.get(id(c))
    if labels is None:
        labels = _LABELS[id(c)] = field_labels(c, "application")
    reader = Reader(raw, c, labels)
    for key in ROW_FIELDS:
        if key == "report_use":  # the expert form offers only the choice (no free text)
            reader.read(key, _strict_use(c))
        else:
            reader.read_field(c.field("application", key))
    # a score as the expert form reads it (issue 20 §5): a number, or a text of
    # rubric.score_spellings (５, １．５, 2分) — the sheet looks text up in the same list
    reader.read_rubric(number=_typed_score(c))
    values, unreadable, flags = reader.values, reader.unreadable, reader.flags
    rub = rubric.score(values, c)
    star = stars.evaluate(c, values.get("category"), rub.conclusion, values.get("satisfaction"),
                          values.get("report_use"), risk_fact(values, unreadable, raw), rub.veto,
                          values.get("level"), scored(rub, unreadable, c))
    flags += e29(checks.Context(c, values, unreadable, labels, rub, star))
    return Evaluation(values, sorted(flags, key=lambda f: (f.code, f.field)), rub, star,
                      rub.conclusion)


@dataclass
class RowState:
    """What one expert row says, as collect counts it."""

    recused: bool
    missing: int
    invalid: int
    status: str
    total: float | None = None
    conclusion: str | None = None
    achievable: int = 0
    report_use: str | None = None
    risk: str | None = None
    veto: str | None = None
    comment: str = ""
    problems: list = field(default_factory=list)  # Chinese messages of the invalid cells

    @property
    def counted(self):
        return not self.recused and self.invalid == 0 and self.missing == 0


def _typed_score(c):
    hit = _SCORES.get(id(c))
    if hit is None or hit[0] is not c:
        hit = _SCORES[id(c)] = (c, typed_score(score_spellings(c)))
    return hit[1]


_SCORES = {}


def _strict_use(c):
    """测量报告应用 in the expert form: one of the drop-down words (or its short value),
    compared as the sheet's choice cell compares (parse._key: folded, lower case, no
    spaces) — an expert chooses; free text is not read."""
    words = use_choices(c)

    def read(v):
        if parse.is_blank(v):
            return None
        got = words.get(parse._key(v))
        if got is None:
            raise parse.Unreadable(v, use_expected(c))
        return got
    return read


def read_row(campaign, row, app=None):
    """Evaluate one row of the table.

    Args:
        row: column key -> raw value (see :func:`columns`).
        app: optional Application whose category / satisfaction / level replace the row's
            (the locked cells could have been edited; the assignment is the authority).
    Returns:
        RowState
    """
    raw = {k: row.get(k) for k in [p.key for p in campaign.rubric.parts] +
           [campaign.rubric.veto_key, "report_use", "risk", "category", "satisfaction", "level"]}
    if app is not None:
        raw.update(category=app.category, satisfaction=app.satisfaction, level=app.level)
    ev = evaluate_expert_row(raw, campaign)
    inputs = {p.key for p in campaign.rubric.parts} | {campaign.rubric.veto_key} | \
        set(INPUT_KEYS_EXTRA)
    bad = [f for f in ev.flags if f.code in INPUT_CODES and f.field in inputs]
    bad_fields = {f.field for f in bad}
    unread = {f.field for f in bad if f.code != "E29"}
    need = required_keys(campaign)
    missing = sum(1 for k in need if ev.values.get(k) is None and k not in unread)
    # Exactly 是 (the cell's list), as the row formula tests it.
    recused = parse.text(row.get("recused")) == "是"
    n_req = len(need)
    if recused:
        status = WORDS["recused"]
    elif bad_fields:
        status = f"有 {len(bad_fields)} 项填写无效"
    elif missing == 0:
        status = WORDS["complete"]
    elif missing == n_req:
        status = WORDS["empty"]
    else:
        status = f"未完成（缺 {missing} 项）"
    return RowState(recused, missing, len(bad_fields), status, ev.rubric.total,
                    ev.rubric.conclusion, ev.star.achievable if ev.star else 0,
                    ev.values.get("report_use"), ev.values.get("risk"),
                    ev.values.get(campaign.rubric.veto_key), comment_text(row.get("comment")),
                    [f.message for f in bad])


def comment_text(value):
    """评审意见 exactly as typed: no width folding, no trimming of inner text (issue 14:
    "，" must not become ","). A number typed into the cell reads as Excel shows it."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
