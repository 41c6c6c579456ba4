"""The formula builder (xl_addin/sheet/formulas.py) without a spreadsheet engine: the function
subset, Excel's limits, the wording probes and the flag coverage. The values themselves are
proven against LibreOffice in test_formulas_lo.py."""

from __future__ import annotations

import re

import pytest

from xl_addin.forms.application import build_application
from xl_addin.forms.recommender import build_recommender
from xl_addin.rules.campaign import load
from xl_addin.rules.uscc import ALPHABET, make, problem
from xl_addin.sheet import formulas as F

# Functions that Excel 2010, WPS or LibreOffice 7.4 lack (issue 3 §2).
FORBIDDEN = ("LET", "LAMBDA", "XLOOKUP", "XMATCH", "FILTER", "TEXTJOIN", "IFS", "CONCAT",
             "SWITCH", "MAXIFS", "MINIFS", "SEQUENCE", "UNIQUE", "SORT", "SORTBY", "IFNA",
             "RANDARRAY")
ALLOWED = {"IF", "AND", "OR", "NOT", "ISNUMBER", "ISERROR", "TRIM", "UPPER", "LOWER", "SUBSTITUTE",
           "LEN", "MID", "LEFT", "RIGHT", "FIND", "TEXT", "EDATE", "DATE", "INT", "MOD", "MAX",
           "MIN", "SUM", "SUMPRODUCT", "ABS", "CHAR", "COUNTIF", "N",
           # issue 10 (typed-variant parity): VALUE, REPT, DAY read typed numbers and dates
           "VALUE", "REPT", "DAY"}


@pytest.fixture(scope="module")
def c():
    return load()


@pytest.fixture(scope="module")
def all_formulas(c):
    """Every formula of both templates: cells, conditional formats, validations."""
    out = []
    for wb in (build_application(c), build_recommender(c, rows=3)):
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str) and cell.value.startswith("="):
                        out.append((f"{ws.title}!{cell.coordinate}", cell.value))
            for rng in ws.conditional_formatting:
                for rule in rng.rules:
                    for f in rule.formula or []:
                        out.append((f"{ws.title} CF {rng.sqref}", "=" + f))
            for dv in ws.data_validations.dataValidation:
                if dv.type == "custom":
                    out.append((f"{ws.title} DV {dv.sqref}", "=" + dv.formula1))
    return out


def _strip_strings(f):
    return re.sub(r'"(?:[^"]|"")*"', '""', f)


def test_only_common_functions(all_formulas):
    used = set()
    for where, f in all_formulas:
        names = set(re.findall(r"([A-Z][A-Z0-9.]*)\(", _strip_strings(f)))
        bad = names & set(FORBIDDEN)
        assert not bad, (where, bad)
        used |= names
    assert used <= ALLOWED, used - ALLOWED


def test_excel_limits(all_formulas):
    """Excel: formula ≤ 8192 characters, ≤ 64 nested levels, string constants ≤ 255."""
    for where, f in all_formulas:
        assert len(f) <= 8192, where
        depth = deepest = 0
        for ch in _strip_strings(f):
            depth += ch == "("
            depth -= ch == ")"
            deepest = max(deepest, depth)
        assert depth == 0, where
        assert deepest <= 64, (where, deepest)
        for s in re.findall(r'"((?:[^"]|"")*)"', f):
            assert len(s.replace('""', '"')) <= 255, where
        assert "[[" not in f, where  # every plan reference resolved


@pytest.mark.parametrize("text, params, expected", [
    ("满意度 {value} 低于 {min} 分（E15）", {"value": "A1&\"\""}, '"满意度 "&A1&""&" 低于 70 分（E15）"'),
    ("固定文字", {}, '"固定文字"'),
    ("{x}", {"x": F.Const("常量")}, '"常量"'),
    ('含"引号"{x}', {"x": "B2"}, '"含""引号"""&B2'),
])
def test_template(text, params, expected):
    assert F.template(text, params, {"min": 70}) == expected


def test_template_refuses_unknown_placeholder():
    with pytest.raises(KeyError):
        F.template("{nope}", {})


def test_long_literal_is_split():
    s = "字" * 600
    out = F.lit(s)
    pieces = re.findall(r'"([^"]*)"', out)
    assert "".join(pieces) == s and all(len(p) <= 255 for p in pieces)


@pytest.mark.parametrize("code", [
    "91310115MA1K3YJH3",      # 17 characters
    "91310115MA1K3YJH35",     # wrong check character
    "9131O115MA1K3YJH34",     # letter O is not in the alphabet
    "I" + "0" * 17,
    "9431011500000000" + "00",  # positions 1–2 not a GB 32100 pair
    "9131A115MA1K3YJH30",     # a letter in positions 3–8
])
def test_uscc_templates_match_engine(code):
    short, bad, wrong, pair, div = F.uscc_templates()
    p = problem(code)
    candidates = [short.format(n=len(code)), bad.format(ch=next((ch for ch in code if ch in "IOZSV"), "?")),
                  pair.format(pair=code[:2]), div.format(div=code[2:8])]
    if all(ch in ALPHABET for ch in code[:17]):
        candidates.append(wrong.format(want=make(code[:17])[-1], got=code[-1]))
    assert p in candidates


def test_every_flag_has_an_in_sheet_formula(c):
    app = {i.code for i in F.application_plan(c).instances}
    # E25/E26/E35 need several files (consolidation); E27 compares a stored total with the
    # recomputed one — the sheet computes the total itself, so only `saq check` raises it;
    # E28 (e-mail) belongs to the 附件3 header; E33 needs the campaign registry (issue 14).
    assert set(c.flags) - {"E25", "E26", "E27", "E28", "E33", "E35"} == app
    assert "E23" in app
    row = {i.code for i in F.row_plan(c).instances}
    assert {"E14", "E15", "E16", "E20", "E23", "E30"} <= row
    head = {i.code for i in F.header_plan(c).instances}
    assert {"E21", "E22", "E28"} <= head


def test_instances_sorted_like_engine(c):
    keys = [(i.code, i.field) for i in F.application_plan(c).instances]
    assert keys == sorted(keys)


def test_shape_translation_refuses_unknown_shape(c):
    import dataclasses
    flags = dict(c.flags)
    flags["E21"] = dict(flags["E21"], shape="a#")  # a word then a digit: no sheet formula
    other = dataclasses.replace(c, flags=flags)
    with pytest.raises(NotImplementedError):
        F.header_plan(other)
