"""Property tests (hypothesis): monotonicity and caps of the rules, for any input, under
every campaign file (issue 9). The strategies draw from the first campaign's vocabulary; each
test is run with every campaign (fixture ``C``)."""

import pytest
from hypo import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xl_addin.rules import engine, rubric, stars
from xl_addin.rules.campaign import CAMPAIGN_DIR, load

YEARS = sorted(int(p.stem) for p in CAMPAIGN_DIR.glob("[0-9]*.toml"))
C = load(YEARS[0])
CATS = [c.name for c in C.categories]
CONCL = [n for n, _ in C.rubric.conclusions]
USES = list(C.choices["report_use"])
RISKS = list(C.choices["risk"])


@pytest.fixture(params=YEARS, name="C")
def campaign(request):
    return load(request.param)


satisfaction = st.floats(min_value=0, max_value=100, allow_nan=False).map(lambda x: round(x, 1))


def part_value(p):
    if p.kind == "score":
        return st.sampled_from(p.allowed)
    if p.kind == "range":
        return st.integers(0, int(p.max / C.rubric.step)).map(lambda k: k * C.rubric.step)
    if p.kind == "errors":
        return st.integers(0, 3)
    return st.sampled_from(["是", "否"])


parts = st.fixed_dictionaries({p.key: part_value(p) for p in C.rubric.parts})


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(CATS), st.sampled_from(CONCL), satisfaction, satisfaction,
       st.sampled_from(USES), st.sampled_from(RISKS))
def test_more_satisfaction_never_lowers_the_level(C, cat, concl, q1, q2, use, risk):
    lo, hi = sorted((q1, q2))
    a = stars.evaluate(C, cat, concl, lo, use, risk).achievable
    b = stars.evaluate(C, cat, concl, hi, use, risk).achievable
    assert b >= a


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(CATS), satisfaction, st.sampled_from(USES), st.sampled_from(RISKS))
def test_a_better_conclusion_never_lowers_the_level(C, cat, q, use, risk):
    ranks = [stars.evaluate(C, cat, concl, q, use, risk).achievable for concl in CONCL]
    assert ranks == sorted(ranks, reverse=True)  # CONCL is best first


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(CATS), st.sampled_from(CONCL), satisfaction, st.sampled_from(USES),
       st.sampled_from(RISKS), st.sampled_from([None, 3, 4, 5]))
def test_caps_of_k3_always_hold(C, cat, concl, q, use, risk, applied):
    r = stars.evaluate(C, cat, concl, q, use, risk, applied=applied)
    cap = C.category(cat).cap
    assert r.achievable <= cap
    if applied:
        assert r.proposed == min(applied, r.achievable) <= cap


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=examples(60))
@given(parts, st.data())
def test_a_higher_part_score_never_lowers_the_total(C, values, data):
    scorable = [p for p in C.rubric.parts if p.kind in ("score", "range")]
    p = data.draw(st.sampled_from(scorable))
    higher = data.draw(part_value(p).filter(lambda v: v >= values[p.key]))
    before = rubric.score(values, C).total
    after = rubric.score({**values, p.key: higher}, C).total
    assert after >= before


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=examples(60))
@given(parts)
def test_totals_stay_within_100_and_10(C, values):
    r = rubric.score(values, C)
    assert 0 <= r.base <= C.rubric.base_total
    assert 0 <= r.bonus <= C.rubric.bonus_total
    assert r.total == r.base + r.bonus
    assert not r.bad_parts  # allowed values only: no E29


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=examples(40))
@given(parts, satisfaction, st.sampled_from(CATS))
def test_engine_never_raises_and_flags_carry_a_message(C, values, q, cat):
    ev = engine.evaluate_application({**values, "satisfaction": q, "category": cat}, C)
    assert all(f.message and f.severity in ("error", "warning") for f in ev.flags)
    assert ev.star.achievable <= C.category(cat).cap


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=examples(80))
@given(st.dictionaries(st.sampled_from(["满意度", "申请类别", "申请等级", "成立日期", "se_P1",
                                        "统一社会信用代码", "手机", "被访者总人数 N"]),
                       st.one_of(st.none(), st.text(max_size=12), st.floats(allow_nan=True),
                                 st.integers(-10**6, 10**6), st.booleans())))
def test_any_garbage_becomes_flags_never_an_exception(C, raw):
    ev = engine.evaluate_application(raw, C)
    assert isinstance(ev.codes, str)
