"""Every rule id of the campaign that applies to one application has a readable case."""

import functools
from pathlib import Path

import pytest
import yaml

from xl_addin.rules.campaign import CAMPAIGN_DIR, load

CASES = Path(__file__).parent / "cases"
DOCS = Path(__file__).parents[1] / "docs" / "reference"  # the project's own rules reference
CAMPAIGNS = sorted(int(p.stem) for p in CAMPAIGN_DIR.glob("[0-9]*.toml"))
# Rules that need several files: their cases live with consolidation (RULES.md E25, E26, E35:
# tests/test_consolidate_crossfile.py).
MULTI_FILE = {"E25", "E26", "E35"}
# Rules of the stage commands' mechanics, with no pure function to put in a table: P7 (history
# import against the year a list states) and P8 (the registry is found, never invented) are
# tested through `saq history import` / `saq stage` (tests/test_review_stages.py, issue 18/19).
STAGE_MECHANICS = {"P7", "P8"}


@functools.cache  # the YAML files are read once, not once per rule id
def case_rule_ids():
    ids = set()
    for f in CASES.glob("*.yaml"):
        data = yaml.safe_load(f.read_text(encoding="utf-8"))
        if isinstance(data, list):
            for case in data:
                r = case["rule"]
                ids.update(r if isinstance(r, list) else [r])
    return frozenset(ids)


@pytest.mark.parametrize("year", CAMPAIGNS)
def test_every_single_application_rule_has_a_case(year):
    covered = case_rule_ids()
    missing = [r for r in load(year).rule_ids()
               if r not in MULTI_FILE | STAGE_MECHANICS and r not in covered]
    assert missing == [], f"规则没有测试案例：{missing}"


def test_there_is_more_than_one_campaign():
    assert len(CAMPAIGNS) >= 2 and 2023 in CAMPAIGNS


@pytest.mark.parametrize("year", CAMPAIGNS)
def test_cases_name_only_known_rules(year):
    known = set(load(year).rule_ids()) | {"F1", "F2", "F3", "F4", "F5", "A1"}
    unknown = sorted(case_rule_ids() - known)
    assert unknown == [], f"案例引用了不存在的规则：{unknown}"


def test_rules_md_ids_are_all_in_the_campaign():
    """The campaign knows every rule id that RULES.md numbers (C, K, S, L, E, M, P)."""
    import re
    text = DOCS / "RULES.md"
    ids = set(re.findall(r"^\| (C\d|E\d\d|M\d\d) \|", text.read_text(encoding="utf-8"), re.M))
    ids |= set(re.findall(r"^- ([KSLP]\d+a?) ", text.read_text(encoding="utf-8"), re.M))
    assert ids, "RULES.md not found or not parsed"
    assert {f"P{i}" for i in range(1, 10)} <= ids  # the P section was parsed (issue 18)
    assert sorted(ids - set(load(2023).rule_ids())) == []
