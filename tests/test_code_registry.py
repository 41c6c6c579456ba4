"""The registry of E codes (issue 9 §2; RULES.md §E): each code lives in one place, its
Python check and its sheet formula side by side in xl_addin/rules/codes/.

Done-when: every E code of every campaign file is registered with both sides, or says why
it has only one (python-only) or is checked elsewhere (E23 by the parsers, E25/E26 by
consolidation); the engine and the formula builder take their codes from the registry;
developer guide's short path for an E code names files that exist. (tests/test_registry.py is the
campaign registry of issue 14, 评价档案 — another thing.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xl_addin.errors import CampaignError
from xl_addin.rules import codes
from xl_addin.rules.campaign import CAMPAIGN_DIR, load
from xl_addin.rules.codes.identity import shape_formula, shape_regex
from xl_addin.rules.expr import lit
from xl_addin.sheet import formulas, xlcalc

ROOT = Path(__file__).resolve().parents[1]
YEARS = sorted(int(p.stem) for p in CAMPAIGN_DIR.glob("[0-9][0-9][0-9][0-9].toml"))
PLANS = {codes.APPLICATION: formulas.application_plan, codes.ROW: formulas.row_plan,
         codes.RECOMMENDER: formulas.header_plan}

# Where each code was checked before the registry (checks.APPLICATION_CHECKS, ROW_CHECKS,
# RECOMMENDER_CHECKS): the registry must place them the same. E34 (issue 20) came later,
# on the application.
BEFORE = {
    codes.APPLICATION: {f"E{i:02d}" for i in range(1, 35)} - {"E23", "E25", "E26", "E28"},
    codes.ROW: {"E14", "E15", "E16", "E20", "E30"},
    codes.RECOMMENDER: {"E20", "E21", "E22", "E28"},
}


@pytest.mark.parametrize("year", YEARS)
def test_every_campaign_code_is_registered_or_placed_elsewhere(year):
    c = load(year)
    for code in c.flags:
        assert (code in codes.RULES) != (code in codes.ELSEWHERE), code
    assert set(codes.RULES) | set(codes.ELSEWHERE) <= set(c.flags)


def test_each_rule_has_both_sides_or_says_why():
    for code, r in codes.RULES.items():
        assert r.code == code and callable(r.check)
        assert (r.formula is None) == bool(r.python_only), code
        docs = [r.check.__doc__] + ([r.formula.__doc__] if r.formula else [])
        for doc in docs:  # a one-line docstring citing the code
            assert doc and code in doc.splitlines()[0], (code, doc)
    for code, why in codes.ELSEWHERE.items():
        assert why.strip(), code


@pytest.mark.parametrize("form", codes.FORMS)
def test_placements_are_those_of_the_former_check_lists(form):
    assert {r.code for r in codes.placed(form)} == BEFORE[form]
    assert codes.checks_for(form) == tuple(r.check for r in codes.placed(form))


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize("form", codes.FORMS)
def test_the_sheet_has_exactly_the_registered_formulas(year, form):
    """A plan's flag instances are the registry's sheet formulas of the form, and E23."""
    c = load(year)
    got = {i.code for i in PLANS[form](c).instances}
    want = {r.code for r in codes.placed(form) if r.formula is not None}
    assert got - {c.decisions.get("unreadable_value_code", "E23")} == want


def test_a_new_rule_must_say_which_side_it_lacks():
    with pytest.raises(ValueError):
        codes.Rule("E99", (codes.APPLICATION,), lambda x: ())
    with pytest.raises(ValueError):
        codes.Rule("E99", ("附件9",), lambda x: (), lambda b: None)


@pytest.mark.parametrize("code", ["E21", "E28"])
@pytest.mark.parametrize("text", [
    "13812345678", "1381234567", "23812345678", "1381234567a", "138 1234 5678",
    "a@b.c", "x.y@z.w.v", "a@b", "@b.c", "a@.c", "a@b.", "a b@c.d", "a@@b.c", "李@例子.中国",
])
def test_shape_regex_and_formula_agree(code, text):
    """E21 / E28 (issue 9 §2): one `shape` in the campaign gives the regex and the formula."""
    shape = load().flags[code]["shape"]
    cell = xlcalc.compile_node(xlcalc.parse(shape_formula(shape, lit(text))))(None)
    assert cell is bool(re.fullmatch(shape_regex(shape), text))


def test_developer_guide_path_for_an_e_code_names_files_that_exist():
    text = (ROOT / "docs" / "DEVELOPING.md").read_text(encoding="utf-8")
    para = re.search(r"- \*\*An E code\*\*(.*?)\n- \*\*", text, re.S).group(1)
    paths = [p for p in re.findall(r"`([^`]+)`", para) if "/" in p]
    assert "xl_addin/rules/codes/" in paths and "tests/cases/" in paths
    for p in paths:
        assert (ROOT / p).exists(), p
    assert Path(__file__).name in para
    assert "Rule.params" in para and "ELSEWHERE" in para


# The keys every [flags.Exx] may carry whatever its code (campaign._build).
COMMON = {"severity", "rule", "message", "missing", "decision", "decision_label", "categories"}


@pytest.mark.parametrize("code,key", [("E28", "ignore"), ("E01", "threshold"), ("E35", "shape")])
def test_a_flag_key_its_rule_does_not_declare_is_refused(tmp_path, code, key):
    """[flags.Exx] takes the common keys and its Rule's params (issue 21): E28 does not
    declare E21's `ignore`, E01 not E17's `threshold`, E35 (checked elsewhere) not `shape`."""
    assert key not in codes.params(code) and key not in COMMON
    src = (CAMPAIGN_DIR / "2023.toml").read_text(encoding="utf-8")
    head = f"[flags.{code}]\n"
    assert src.count(head) == 1
    bad = tmp_path / "2023.toml"
    bad.write_text(src.replace(head, f'{head}{key} = "x"\n'), encoding="utf-8")
    with pytest.raises(CampaignError) as e:
        load(str(bad))
    assert str(e.value) == f"活动配置文件 {bad} 的 flags.{code}.{key}：未知的键（拼写错误？）"


@pytest.mark.parametrize("year", YEARS)
def test_declared_params_are_what_the_campaign_may_use(year):
    """Every key of a [flags.Exx] is common or declared by its code (the loader's check)."""
    c = load(year)
    for code, spec in c.flags.items():
        assert set(spec) - COMMON <= set(codes.params(code)), code


def test_every_declared_param_is_used_by_the_2023_campaign():
    """No Rule declares a parameter the 2023 campaign does not set: each one is read by the
    check or the formula (RULES.md §E), so a declared name nobody sets is a stale one."""
    c = load(2023)
    declared = {code: r.params for code, r in codes.RULES.items()} | codes.ELSEWHERE_PARAMS
    assert sum(map(len, declared.values())) >= 40
    for code, names in declared.items():
        assert len(set(names)) == len(names), code
        assert not set(names) & COMMON, code
        for name in names:
            assert name in c.flags[code], f"{code}.{name}"
    for code in codes.RULES:
        assert codes.params(code) == codes.RULES[code].params
    assert codes.params("E35") == ("names_message",) and codes.params("E23") == ()


def test_rule_params_must_be_a_tuple_of_names():
    with pytest.raises(ValueError):
        codes.Rule("E99", (codes.APPLICATION,), lambda x: (), lambda b: None, params="min")
    assert codes.Rule("E99", (codes.APPLICATION,), lambda x: (), lambda b: None,
                      params=("min",)).params == ("min",)
