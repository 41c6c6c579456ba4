"""Expert assignment (issue 5): constraints, balance, determinism, shortfalls; experts.xlsx."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xl_addin.review.assign import Application, Expert, assign, conflict, may_judge, split_list
from xl_addin.review.experts import read_experts, write_template
from xl_addin.rules.campaign import load

C = load()
CATS = [c.name for c in C.categories]
ORGS = ["上海甲科技有限公司", "上海乙服务中心", "丙工程集团", "丁电器有限公司", "戊银行"]
RECS = ["仪器仪表行业协会", "建筑施工行业协会", "浦东新区质量协会"]


def app(i, cat="企业类", org=None, rec="仪器仪表行业协会", eligible=True):
    return Application(f"A{i:03d}", org or f"组织{i}", cat, rec, eligible=eligible)


# ---------------------------------------------------------------- conflicts (case table)
@pytest.mark.parametrize("expert, application, conflicted", [
    # own unit is always avoided
    (Expert("甲", "上海甲科技有限公司"), app(1, org="上海甲科技有限公司"), True),
    # avoid list names the organisation (short form contained in the full name, ≥ 4 chars)
    (Expert("甲", "大学", ("乙服务中心",)), app(1, org="上海乙服务中心"), True),
    # avoid list names the recommender
    (Expert("甲", "大学", ("建筑施工行业协会",)), app(1, rec="建筑施工行业协会"), True),
    # a short avoid entry ("上海") must match exactly, else it would exclude everyone
    (Expert("甲", "大学", ("上海",)), app(1, org="上海甲科技有限公司"), False),
    # full-width / spacing differences do not matter
    (Expert("甲", "大学", ("上海乙 服务中心",)), app(1, org="上海乙服务中心"), True),
    (Expert("甲", "大学", ()), app(1), False),
])
def test_conflict_cases(expert, application, conflicted):
    assert (conflict(expert, application) is not None) == conflicted


def test_split_list_separators():
    assert split_list("甲公司、乙协会；丙,丁\n戊") == ("甲公司", "乙协会", "丙", "丁", "戊")
    assert split_list(None) == ()


# ---------------------------------------------------------------- worked example
def test_small_assignment_by_hand():
    experts = [Expert("甲", "", (), ("企业类",)), Expert("乙"), Expert("丙"),
               Expert("丁", "", ("组织2",))]
    apps = [app(1), app(2), app(3, cat="工程类"), app(4, eligible=False)]
    res = assign(apps, experts, 2)
    # 甲 judges only 企业类; 丁 must avoid 组织2; A004 is not eligible.
    assert "甲" not in res.by_app["A003"]
    assert "丁" not in res.by_app["A002"]
    assert all(len(v) == 2 for v in res.by_app.values())
    assert res.not_assigned == [("A004", "资格审查未通过")]
    loads = res.loads(experts)
    assert sum(loads.values()) == 6 and max(loads.values()) - min(loads.values()) <= 1


def test_shortfall_is_reported_not_skipped():
    experts = [Expert("甲", "", (), ("企业类",)), Expert("乙", "", ("组织1",))]
    res = assign([app(1), app(2, cat="工程类")], experts, 2)
    short = {s.app_id: s for s in res.shortfalls}
    assert short["A001"].got == 1 and short["A001"].needed == 2
    assert "须回避" in short["A001"].reason
    assert short["A002"].got == 1  # only 乙 covers 工程类
    assert res.by_app["A002"] == ("乙",)


def test_bad_arguments():
    with pytest.raises(ValueError):
        assign([app(1)], [Expert("甲")], 0)
    with pytest.raises(ValueError):
        assign([app(1), app(1)], [Expert("甲")], 1)
    with pytest.raises(ValueError):
        assign([app(1)], [Expert("甲"), Expert("甲")], 1)


# ---------------------------------------------------------------- properties
experts_st = st.lists(
    st.builds(lambda n, unit, avoid, cats: Expert(f"专家{n}", unit, tuple(avoid), tuple(cats)),
              st.integers(0, 10**6), st.sampled_from([""] + ORGS),
              st.lists(st.sampled_from(ORGS + RECS), max_size=2),
              st.lists(st.sampled_from(CATS), max_size=3, unique=True)),
    min_size=1, max_size=9, unique_by=lambda e: e.name)
apps_st = st.lists(
    st.builds(lambda i, cat, org, rec, ok: Application(f"A{i:04d}", org, cat, rec, eligible=ok),
              st.integers(0, 9999), st.sampled_from(CATS), st.sampled_from(ORGS),
              st.sampled_from(RECS), st.booleans()),
    max_size=25, unique_by=lambda a: a.id)


@given(apps_st, experts_st, st.integers(1, 4))
def test_assignment_constraints_hold(apps, experts, k):
    res = assign(apps, experts, k)
    byname = {e.name: e for e in experts}
    eligible = [a for a in apps if a.eligible]
    assert set(res.by_app) == {a.id for a in eligible}
    assert {i for i, _ in res.not_assigned} == {a.id for a in apps if not a.eligible}
    short = {s.app_id for s in res.shortfalls}
    for a in eligible:
        names = res.by_app[a.id]
        assert len(set(names)) == len(names)  # nobody twice
        assert all(may_judge(byname[n], a) for n in names)  # category and no conflict
        can = sum(1 for e in experts if may_judge(e, a))
        assert len(names) == min(k, can)  # as many as possible, up to k
        assert (a.id in short) == (can < k)  # shortfalls reported, never silent


@given(apps_st, experts_st, st.integers(1, 4))
def test_same_inputs_same_output(apps, experts, k):
    assert assign(apps, experts, k).by_app == assign(list(apps), list(experts), k).by_app


@given(st.integers(1, 40), st.integers(1, 9), st.integers(1, 4))
def test_unconstrained_load_is_even(n_apps, n_experts, k):
    experts = [Expert(f"专家{i}") for i in range(n_experts)]
    res = assign([app(i) for i in range(n_apps)], experts, k)
    loads = res.loads(experts).values()
    assert max(loads) - min(loads) <= 1


@given(apps_st, experts_st, st.integers(1, 3))
def test_no_move_would_improve_balance(apps, experts, k):
    """Local optimum: no assigned expert could hand an application to one 2+ lighter."""
    res = assign(apps, experts, k)
    loads = res.loads(experts)
    for a in (a for a in apps if a.eligible):
        names = res.by_app[a.id]
        for n in names:
            for e in experts:
                if e.name not in names and may_judge(e, a):
                    assert loads[e.name] >= loads[n] - 1


# ---------------------------------------------------------------- experts.xlsx
def test_template_round_trip(tmp_path):
    from openpyxl import load_workbook
    p = write_template(tmp_path / "experts.xlsx", C)
    wb = load_workbook(p)
    ws = wb["专家名单"]
    tbl = ws.tables["experts"]
    hr = int(tbl.ref.split(":")[0][1:])
    rows = [("王立群", "上海交通大学", "甲协会、乙公司", "企业类、服务"),
            ("李敏", "复旦大学", None, "全部"),
            (None, "无名单位", None, None),
            ("王立群", "重复", None, None),
            ("张伟", "某大学", None, "食品类")]
    for i, r in enumerate(rows, start=hr + 1):
        for j, v in enumerate(r, start=1):
            ws.cell(i, j, v)
    tbl.ref = f"A{hr}:D{hr + len(rows)}"
    wb.save(p)
    got = read_experts(p, C)
    assert [e.name for e in got.experts] == ["王立群", "李敏"]
    assert got.experts[0].avoid == ("甲协会", "乙公司")
    assert got.experts[0].categories == ("企业类", "服务类")
    assert got.experts[1].categories == ()  # 全部
    msgs = " ".join(m for _, m in got.problems)
    assert "姓名未填写" in msgs and "重复" in msgs and "食品类" in msgs


def test_experts_csv(tmp_path):
    p = tmp_path / "experts.csv"
    p.write_text("姓名,单位,回避单位,专业\n甲,某大学,,工程类\n", encoding="utf-8")
    got = read_experts(p, C)
    assert got.experts == [Expert("甲", "某大学", (), ("工程类",))]


# ---------------------------------------------------------------- balance (issue 14)
def _reach(res, experts, apps, src):
    """Experts that ``src`` could hand load to along a chain of moves."""
    by_name = {e.name: e for e in experts}
    seen, todo = {src}, [src]
    while todo:
        u = todo.pop()
        for a in apps:
            names = res.by_app.get(a.id, ())
            if u not in names:
                continue
            for v in by_name:
                if v not in seen and v not in names and may_judge(by_name[v], a):
                    seen.add(v)
                    todo.append(v)
    return seen


pools_st = st.lists(
    st.builds(lambda n, avoid, cats: Expert(f"专家{n}", "", tuple(avoid), tuple(cats)),
              st.integers(0, 10**6), st.lists(st.sampled_from(ORGS + RECS), max_size=2),
              st.lists(st.sampled_from(CATS), max_size=2, unique=True)),
    min_size=1, max_size=12, unique_by=lambda e: e.name)
big_apps_st = st.lists(
    st.builds(lambda i, cat, org, rec: Application(f"A{i:04d}", org, cat, rec),
              st.integers(0, 9999), st.sampled_from(CATS), st.sampled_from(ORGS),
              st.sampled_from(RECS)),
    max_size=60, unique_by=lambda a: a.id)


@given(big_apps_st, pools_st, st.integers(1, 4))
def test_experts_eligible_for_the_same_applications_differ_by_at_most_one(apps, experts, k):
    """Random pools (categories) and recusals (回避 lists): experts who may judge exactly the
    same applications end with loads at most 1 apart."""
    res = assign(apps, experts, k)
    loads = res.loads(experts)
    groups = {}
    for e in experts:
        groups.setdefault(frozenset(a.id for a in apps if may_judge(e, a)), []).append(e.name)
    for names in groups.values():
        ls = [loads[n] for n in names]
        assert max(ls) - min(ls) <= 1, (names, ls)


@given(big_apps_st, pools_st, st.integers(1, 3))
def test_no_chain_of_moves_would_improve_balance(apps, experts, k):
    """Nobody can shed load along a chain to an expert 2 or more lighter, so the loads are
    as even as the constraints allow (the whole pool within 1 when nobody is restricted)."""
    res = assign(apps, experts, k)
    loads = res.loads(experts)
    for e in experts:
        for v in _reach(res, experts, apps, e.name):
            assert loads[v] >= loads[e.name] - 1


def test_chains_balance_what_single_moves_cannot():
    """甲 takes only 企业类, 乙 only 服务类, 丙 both: 甲 and 乙 never share an application, yet
    their loads even out through 丙 (a chain 甲 → 丙 → 乙 when needed)."""
    experts = [Expert("丙", "", (), ("企业类", "服务类")), Expert("甲", "", (), ("企业类",)),
               Expert("乙", "", (), ("服务类",))]
    apps = [app(i, cat="企业类") for i in range(6)] + [app(10 + i, cat="服务类") for i in range(2)]
    loads = assign(apps, experts, 1).loads(experts)
    assert max(loads.values()) - min(loads.values()) <= 1 and sum(loads.values()) == 8
