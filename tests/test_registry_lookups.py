"""Registry lookups that do not grow with applications × registry rows (issue 23): an index
on 统一社会信用代码, and consolidation's answers read in one query (registry.Known) that equal
`saq check`'s lookup, organisation by organisation (RULES.md K4, E06, E33).
"""

from __future__ import annotations

import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from xl_addin import registry
from xl_addin.rules.campaign import load
from xl_addin.rules.engine import normalise
from xl_addin.rules.uscc import make

C = load(2023)


def code(n):
    return make(f"9131011{n:010d}"[:17])


def test_known_answers_equal_the_lookup_of_each_organisation(tmp_path):
    rows = [  # (year, uscc, category, project, level, rank)
        (2022, code(1), "服务类", "热线", "用户满意标杆", 4),
        (2022, code(1), "企业类", "", "用户满意明星", 3),
        (2021, code(1), "产品类", "空调", "用户满意", 1),
        (2022, code(2), "企业类", "", "用户满意", 1),
        (2021, code(3), "工程类", "桥", "不达标", 0),
        (2023, code(4), "服务类", "今年", "用户满意明星", 3),  # the campaign's own year
        (2020, code(5), "产品类", "冰箱", "用户满意", 1),
    ]
    with registry.Registry(tmp_path / "r.sqlite") as reg:
        for y, u, cat, proj, level, rank in rows:
            reg.record_result(y, u, f"组织{u[-4:]}", cat, proj, level, rank, "测试", who="测试员")
        known = registry.Known(reg, C.year, C)
        for u in [code(n) for n in range(1, 8)] + [None, ""]:
            assert known.get(u) == registry.lookup(reg, u, C.year, C), u
    assert known.get(code(1))["last_year"] == "服务类·用户满意标杆（热线）；企业类·用户满意明星"
    assert known.engine_inputs(code(6)) == {registry.PRIOR_PASS_KEY: "否", registry.RECORD_KEY: "否"}


def test_an_empty_registry_changes_no_engine_input(tmp_path):
    with registry.Registry(tmp_path / "r.sqlite") as reg:
        known = registry.Known(reg, C.year, C)
    assert known.engine_inputs(code(1)) == {} and known.get(code(1))["last_year"] == ""
    assert registry.known_before(tmp_path / "none.sqlite", C) is None


def test_lookups_by_uscc_use_an_index(tmp_path):
    with registry.Registry(tmp_path / "r.sqlite"):
        pass
    db = sqlite3.connect(tmp_path / "r.sqlite")
    plan = " ".join(str(r) for r in db.execute(
        "EXPLAIN QUERY PLAN SELECT year FROM results WHERE uscc=?", ("x",)))
    db.close()
    assert "USING INDEX idx_results_uscc" in plan


@given(st.one_of(st.none(), st.text(max_size=20), st.integers(), st.floats(allow_nan=False)))
def test_the_registry_key_is_the_uscc_the_engine_reads(value):
    values, _unreadable, _flags = normalise({"uscc": value}, C, "application")
    assert registry.uscc_key(value) == values["uscc"]


def test_years_are_found_by_the_index(tmp_path):
    with registry.Registry(tmp_path / "r.sqlite") as reg:
        assert reg.years() == []
        for y in (2022, 2020, 2022, 2021):
            reg.record_result(y, code(y), "组织", "企业类", "", "用户满意", 4, "测试", who="测试员")
        assert reg.years() == [2020, 2021, 2022]
