"""测量报告应用 read by its grammar (RULES.md E24 decision; issue 20 §1).

tests/cases/report_use_phrasings.yaml is a readable table: more than 300 real-sounding
phrasings, grouped by their reading. The same table runs through

1. the engine (``engine.normalise`` — what `saq check`, consolidation and `saq eval` use),
2. the sheet's formula, evaluated by the project's evaluator (xl_addin/sheet/xlcalc.py),
3. the sheet's formula recalculated by LibreOffice (the whole table, one recalculation),

and each must give the table's reading: the value (战略 / 管理 / 无) and whether E24 is
raised, and why (含否定说法 / 说法不明确).
"""

from __future__ import annotations

import re
from pathlib import Path

import lo_diff
import pytest
import yaml
from plan_eval import PlanRow

from xl_addin.rules import engine, report_use
from xl_addin.rules.campaign import load
from xl_addin.sheet.builder import Builder

TABLE = Path(__file__).parent / "cases" / "report_use_phrasings.yaml"
# A group heading -> (value, why): "无（E24 含否定说法）" is 无 with E24, because negated.
WHY = {"含否定说法": report_use.NEGATED, "说法不明确": report_use.UNCLEAR}
# Words that look like negation but are not (the decision names the first five).
NOT_NEGATION = re.compile("不断|非常|无论|不仅|并非仅|不只|不但|不光|非但|无不|不少|不得不|"
                          "无时无刻不|不在于|不管|不可不|不能不")
C = load()


def reading_of(heading):
    m = re.fullmatch(r"(战略|管理|无)(?:（E24 (含否定说法|说法不明确)）)?", heading)
    assert m, f"unknown heading {heading!r}"
    return m.group(1), WHY.get(m.group(2))


def phrasings():
    data = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    return [(text, *reading_of(heading)) for heading, texts in data.items() for text in texts]


ROWS = phrasings()


def test_the_table_is_large_and_real():
    texts = [t for t, _, _ in ROWS]
    assert len(texts) >= 300 and len(set(texts)) == len(texts)
    assert sum(1 for t in texts if NOT_NEGATION.search(t)) >= 60
    readings = {(v, why) for _, v, why in ROWS}
    assert readings == {("战略", None), ("管理", None), ("无", None), ("无", "negated"),
                        ("无", "unclear"), ("管理", "unclear")}
    # the notice's own two sentences are in it, read exactly
    assert ("测量报告应用于组织战略的制定、改进领域的实施方案", "战略", None) in ROWS
    assert ("在组织的管理活动中有应用", "管理", None) in ROWS


def test_the_engine_reads_each_phrasing_as_the_table_says():
    wrong = []
    for text, value, why in ROWS:
        readings = {}
        values, _unreadable, flags = engine.normalise({"report_use": text}, C, "application",
                                                      readings)
        got_why = readings["report_use"][1].why if "report_use" in readings else None
        if (values["report_use"], got_why) != (value, why) or flags:
            wrong.append((text, values["report_use"], got_why, value, why))
    assert wrong == []


def test_e24_says_why_and_how_the_level_reads():
    from lo_cases import base_application
    base = base_application(C)
    for text, value, why in ROWS[::7]:
        ev = engine.evaluate_application({**base, "report_use": text}, C)
        e24 = [f for f in ev.flags if f.code == "E24"]
        if why is None:
            assert e24 == [], text
        else:
            spec = C.flags["E24"]
            assert len(e24) == 1 and e24[0].severity == "warning"
            assert f"{spec[why]}，暂按“{value}”评定等级" in e24[0].message, e24[0].message


def _plan():
    b = Builder(C, "application")
    b.parse_field(C.field("application", "report_use"))
    return PlanRow(b.p)


def test_the_sheet_formula_reads_each_phrasing_as_the_table_says():
    """The formula of the application sheet (Builder.report_use_cells → report_use.formula),
    evaluated by xl_addin/sheet/xlcalc.py."""
    row = _plan()
    wrong = []
    for text, value, why in ROWS:
        got = row.evaluate({"report_use": text}, ["v:report_use", "why:report_use"])
        if (got["v:report_use"], got["why:report_use"]) != (value, why or ""):
            wrong.append((text, got, value, why))
    assert wrong == []


@pytest.mark.libreoffice
@pytest.mark.skipif(not lo_diff.lo_available(), reason="LibreOffice + python3-uno")
def test_libreoffice_reads_each_phrasing_as_the_table_says(tmp_path):
    row = _plan()
    got = row.recalculated([{"report_use": t} for t, _, _ in ROWS],
                           ["v:report_use", "why:report_use"], tmp_path)
    wrong = [(text, g, value, why) for (text, value, why), g in zip(ROWS, got)
             if (g["v:report_use"], g["why:report_use"]) != (value, why or "")]
    assert len(got) == len(ROWS) and wrong == []
