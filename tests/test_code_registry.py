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
    assert "FLAG_PARAMS" in para and "ELSEWHERE" in para
