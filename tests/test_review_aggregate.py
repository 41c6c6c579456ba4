"""Aggregation of the experts' scores (issue 5) against hand-computed tables."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xl_addin.review.aggregate import COUNTED, NO_FILE, ExpertScore, aggregate, default_publication_start, trimmed_mean
from xl_addin.review.assign import Application
from xl_addin.rules.campaign import load

C = load()


def s(expert, total, concl=None, use="战略", risk="无", veto="否", status=COUNTED):
    if concl is None and total is not None:
        concl = "优良" if total >= 80 else ("合格" if total >= 60 else "不合格")
    return ExpertScore(expert, status, total, concl, use, risk, veto)


def run(app, rows, k=3, start=None):
    names = tuple(r.expert for r in rows)
    res = aggregate(C, [app], {app.id: names}, {(app.id, r.expert): r for r in rows}, k,
                    start or dt.date(2023, 10, 8))
    return res, res.apps[0]


A = Application("A1", "甲公司", "企业类", level=5, satisfaction=88)

# Hand-computed: scores → mean, trimmed mean, range, disagreement, final score.
TABLE = [
    # scores                      mean   trimmed  range  disagree
    ([80, 85, 90],                85.0,  None,    10.0,  False),  # range 10 is not > 10
    ([80, 85, 90.5],              85.1667, None,  10.5,  True),
    ([60, 70, 80, 90, 100],       80.0,  80.0,    40.0,  True),   # trimmed: (70+80+90)/3
    ([81, 82, 83, 84, 99],        85.8,  83.0,    18.0,  True),
    ([90, 90, 90, 90, 90, 90],    90.0,  90.0,    0.0,   False),
]


@pytest.mark.parametrize("scores, mean, trimmed, rng, disagree", TABLE)
def test_statistics_by_hand(scores, mean, trimmed, rng, disagree):
    _, a = run(A, [s(f"专家{i}", v) for i, v in enumerate(scores)], k=3)
    assert a.mean == pytest.approx(mean, abs=1e-4)
    assert a.trimmed == (pytest.approx(trimmed) if trimmed is not None else None)
    assert a.range == pytest.approx(rng)
    assert bool(a.disagreement) == disagree
    assert a.final == pytest.approx(trimmed if trimmed is not None else mean, abs=1e-4)


def test_trimmed_mean_needs_five():
    assert trimmed_mean([1, 2, 3, 4], 5) is None
    assert trimmed_mean([1, 2, 3, 4, 100], 5) == 3


def test_conclusions_differ_is_disagreement_even_with_small_range():
    _, a = run(A, [s("甲", 79.5), s("乙", 80), s("丙", 81)])
    assert a.range == 1.5 and "评价结论不一致" in a.disagreement


def test_final_conclusion_on_mean_s4():
    # mean (79 + 80 + 80.5) / 3 = 79.83 → 合格 (S4: ≥ 80 优良, ≥ 60 合格)
    _, a = run(A, [s("甲", 79), s("乙", 80), s("丙", 80.5)])
    assert a.final == pytest.approx(79.8333, abs=1e-4)
    assert a.conclusion == "合格"
    assert a.star.achievable == 4  # L1 needs 优良; L2 holds (Q 88, 战略)


def test_majority_use_and_risk_give_the_level():
    # 2 of 3 say 战略 and 无 risk → L1 holds: 企业类, 优良, Q 88 ≥ 85 → 五星
    _, a = run(A, [s("甲", 90), s("乙", 88, use="管理"), s("丙", 92, risk="有")])
    assert (a.report_use, a.risk) == ("战略", "无")
    assert a.star.achievable == 5 and a.proposed == 5
    assert a.shortlist and a.onsite  # L6: proposed 五星 of 企业类


def test_tie_goes_to_the_lower_level():
    # Two counted scores: 战略 vs 管理 tie → 管理 (lower level); 无 vs 有 tie → 有.
    res, a = run(A, [s("甲", 90), s("乙", 90, use="管理", risk="有"),
                     s("丙", None, status="回避")], k=2)
    assert a.report_use == "管理" and a.risk == "有"
    assert a.star.achievable == 4


def test_majority_veto_means_fail():
    _, a = run(A, [s("甲", 95, "不合格", veto="是"), s("乙", 95, "不合格", veto="是"),
                   s("丙", 95)])
    assert a.veto == "是" and a.conclusion == "不合格"
    assert a.star.achievable == 0


def test_recused_score_is_not_counted_and_listed_below_k():
    rows = [s("甲", 90), s("乙", 70, status="回避"), s("丙", None, status="未填写")]
    res, a = run(A, rows)
    assert a.n == 1 and a.mean == 90 and not a.complete
    assert res.below_k == [a]
    assert "回避 1 人" in a.status and "待评 1 人" in a.status
    assert a not in res.publication_list  # lists hold only completed reviews


def test_missing_workbook_counts_as_owed():
    res = aggregate(C, [A], {"A1": ("甲", "乙", "丙")}, {("A1", "甲"): s("甲", 90)}, 3,
                    dt.date(2023, 10, 8))
    assert [x.status for x in res.apps[0].scores] == [COUNTED, NO_FILE, NO_FILE]


def test_engineering_at_four_stars_goes_on_site_l6():
    eng = Application("E1", "乙工程", "工程类", level=4, satisfaction=90)
    _, a = run(eng, [s("甲", 90), s("乙", 91), s("丙", 92)])
    assert a.star.achievable == 4 and a.onsite and not a.shortlist


def test_product_at_three_stars_is_published_not_on_site():
    p = Application("P1", "丙产品", "产品类", level=4, satisfaction=75)
    res, a = run(p, [s("甲", 70), s("乙", 72), s("丙", 74)])
    assert a.proposed == 3 and not a.onsite
    assert res.publication_list == [a]


def test_zscores_by_hand():
    # Expert 甲 scores 80 and 90 (mean 85, sd 5) → z = -1, +1.
    apps = [Application(f"A{i}", "x", "企业类", level=5, satisfaction=90) for i in (1, 2)]
    rows = {("A1", "甲"): s("甲", 80), ("A2", "甲"): s("甲", 90),
            ("A1", "乙"): s("乙", 70), ("A2", "乙"): s("乙", 70)}
    res = aggregate(C, apps, {"A1": ("甲", "乙"), "A2": ("甲", "乙")}, rows, 2,
                    dt.date(2023, 10, 8))
    z = {(a.app.id, x.expert): x for a in res.apps for x in a.scores}
    assert z[("A1", "甲")].z == pytest.approx(-1) and z[("A2", "甲")].z == pytest.approx(1)
    assert z[("A1", "乙")].z is None  # all equal: no spread to normalise
    # pooled: 80, 90, 70, 70 → mean 77.5, population sd 8.2916
    assert z[("A2", "甲")].normalised == pytest.approx(77.5 + 8.2915619758885, abs=1e-6)


def test_publication_window_c5():
    res, _ = run(A, [s("甲", 90), s("乙", 90), s("丙", 90)], start=dt.date(2023, 10, 8))
    assert res.publication == (dt.date(2023, 10, 8), dt.date(2023, 10, 14))  # 7 days
    # default: the day after the expert review period C4 ends
    # issue 14: the campaign's [stages] default, within September (通知 §五 第7项), not 10-01
    start = default_publication_start(C)
    assert start == C.stages["publication_start"]
    assert C.publication_window(start)[1].month == 9


def test_thresholds_come_from_the_campaign(tmp_path):
    import dataclasses
    c2 = dataclasses.replace(C, review=dict(C.review, disagreement_range=20,
                                            trimmed_min_scores=3))
    res = aggregate(c2, [A], {"A1": ("甲", "乙", "丙")},
                    {("A1", n): s(n, v) for n, v in (("甲", 80), ("乙", 85), ("丙", 95))}, 3,
                    dt.date(2023, 10, 8))
    a = res.apps[0]
    assert a.trimmed == 85 and a.final == 85  # 3 scores now enough to trim
    assert not a.disagreement  # range 15 ≤ 20


def test_campaign_review_table_is_checked(tmp_path):
    from xl_addin.errors import CampaignError
    from xl_addin.rules.campaign import CAMPAIGN_DIR
    text = (CAMPAIGN_DIR / "2023.toml").read_text(encoding="utf-8")
    assert "[review]" in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("[review]\n", "[review]\ndisagreement_rnage = 12\n"),
                   encoding="utf-8")
    with pytest.raises(CampaignError, match="review.disagreement_rnage"):
        load(str(bad))
    bad.write_text(text.replace("shortlist_level = 5", "shortlist_level = 9"), encoding="utf-8")
    with pytest.raises(CampaignError, match="shortlist_level"):
        load(str(bad))



@given(st.lists(st.integers(0, 220).map(lambda x: x / 2), min_size=1, max_size=9),
       st.lists(st.sampled_from(["战略", "管理", "无"]), min_size=9, max_size=9))
def test_aggregate_properties(totals, uses):
    rows = [s(f"专家{i}", v, use=uses[i]) for i, v in enumerate(totals)]
    _, a = run(A, rows, k=len(rows))
    assert min(totals) <= a.final <= max(totals)
    assert a.range == max(totals) - min(totals)
    assert (a.trimmed is not None) == (len(totals) >= 5)
    concl = {r.conclusion for r in rows}
    assert bool(a.disagreement) == (a.range > 10 or len(concl) > 1)
    assert a.complete and a.n == len(totals)
    # the majority answer is one that the most experts gave
    counts = {u: uses[:len(totals)].count(u) for u in set(uses[:len(totals)])}
    assert counts[a.report_use] == max(counts.values())
