"""Issue 14: the expert row's own evaluation (expert_table.evaluate_expert_row, used by
collect for speed) equals engine.evaluate_application on every field an expert row has —
on plausible rows, on typing mistakes, and on random rows (hypothesis)."""

from __future__ import annotations

from hypo import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from xl_addin.review import simulate as S
from xl_addin.review.expert_table import INPUT_CODES, ROW_FIELDS, evaluate_expert_row
from xl_addin.rules import parse, report_use, rubric
from xl_addin.rules.campaign import load
from xl_addin.rules.engine import evaluate_application

C = load()
PARTS = [p.key for p in C.rubric.parts]
KEYS = PARTS + [C.rubric.veto_key] + list(ROW_FIELDS)


USE_WORDS = {parse._key(w) for w in report_use.words(C).choices}  # as expert_plan.use_choices


SPELLINGS = rubric.typed_score(rubric.score_spellings(C))


def _typed_only_by_the_application(v):
    """A text the application form reads as a number (parse.number: 1.0, 01, 85%) but the
    expert form does not (rubric.score_spellings, issue 20 §5)."""
    if not isinstance(v, str) or parse.is_blank(v):
        return False
    try:
        parse.number(v)
    except parse.Unreadable:
        return False
    try:
        SPELLINGS(v)
    except parse.Unreadable:
        return True
    return False


def _same(raw):
    strict = [k for k in PARTS if _typed_only_by_the_application(raw.get(k))]
    if strict:  # E23 in the expert form; otherwise as if the cell were empty
        codes = {(f.code, f.field) for f in evaluate_expert_row(raw, C).flags}
        assert {("E23", k) for k in strict} <= codes, strict
        return _same({**raw, **{k: None for k in strict}})
    use = raw.get("report_use")
    if not parse.is_blank(use) and parse._key(use) not in USE_WORDS:
        # The expert form offers 测量报告应用 as a choice: other text is E23 there, as the
        # sheet's own count says (test_review_form_lo); everything else is as the engine's.
        codes = [(f.code, f.field) for f in evaluate_expert_row(raw, C).flags
                 if f.field == "report_use"]
        assert codes == [("E23", "report_use")], use
        raw = dict(raw, report_use=None)
    fast, full = evaluate_expert_row(raw, C), evaluate_application(raw, C)
    inputs = set(KEYS)
    want = [(f.code, f.field, f.message) for f in full.flags
            if f.code in INPUT_CODES and f.field in inputs]
    got = [(f.code, f.field, f.message) for f in fast.flags]
    assert got == want
    assert fast.rubric.total == full.rubric.total
    assert fast.conclusion == full.conclusion
    assert (fast.star.achievable, fast.star.proposed, fast.star.reason) == \
        (full.star.achievable, full.star.proposed, full.star.reason)
    assert {k: fast.values.get(k) for k in KEYS} == {k: full.values.get(k) for k in KEYS}


def test_plausible_and_mistyped_rows():
    cats = [c.name for c in C.categories]
    for i in range(40):
        row = S.expert_row(C, f"A{i}", "甲", seed=i, noise=0.3)
        row.update(category=cats[i % 4], satisfaction=C.flags["E15"]["min"] + i % 25, level=(i % 3) + 3)
        _same(row)
    mistakes = [{PARTS[1]: 3}, {PARTS[1]: "二"}, {PARTS[0]: "基本明确"}, {PARTS[0]: "-"},
                {PARTS[0]: "５"}, {PARTS[1]: "1.0"}, {PARTS[1]: "２分"}, {PARTS[2]: "01"},
                {"risk": "可能"}, {"report_use": "用于战略规划"}, {C.rubric.veto_key: "√"},
                {"satisfaction": "很高"}, {"category": "食品类"}, {"level": "五星"}]
    for m in mistakes:
        row = S.expert_row(C, "B1", "乙")
        row.update({"category": "企业类", "satisfaction": 88, "level": 5, **m})
        _same(row)


values = st.one_of(st.none(), st.integers(-2, 9), st.sampled_from([0.5, 1.5, 2.25, 7.5]),
                   st.sampled_from(["", "-", "无数据", "是", "否", "有", "无", "战略", "管理",
                                    "非常明确", "x", "２", " 1 ", "1.0", "１．５", "2分", "85%"]))


@settings(max_examples=examples(150), deadline=None)
@given(st.fixed_dictionaries({k: values for k in PARTS + [C.rubric.veto_key, "report_use",
                                                          "risk"]}),
       st.sampled_from([c.name for c in C.categories] + [None, "服务"]),
       st.one_of(st.none(), st.floats(60, 100, allow_nan=False)),
       st.sampled_from([None, 3, 4, 5, "用户满意"]))
def test_random_rows(row, category, satisfaction, level):
    _same(dict(row, category=category, satisfaction=satisfaction, level=level))
