"""The formula builder: turns the campaign's data into Excel formulas, form by form.

:func:`application_plan`, :func:`row_plan` and :func:`header_plan` read a form's inputs
(:mod:`xl_addin.sheet.builder`), compute the self-evaluation and the star level, and add
the formula of every E code the form checks, from the code registry
(:mod:`xl_addin.rules.codes`, each formula beside its Python check). Every constant
(thresholds, dates, choice lists, message wording) is read from the campaign or obtained by
probing the engine's own parsers, so the sheet and :mod:`xl_addin.rules.engine` cannot drift
apart; the differential test against LibreOffice proves they agree.

Only functions common to Excel 2010, WPS and LibreOffice 7.4 are used: IF, AND, OR, NOT,
ISNUMBER, ISERROR, TRIM, UPPER, LOWER, SUBSTITUTE, LEN, MID, LEFT, RIGHT, FIND, TEXT, EDATE, DATE,
DAY, VALUE, REPT, INT, MOD, MAX, MIN, SUM, SUMPRODUCT. Array constants appear only inside
SUMPRODUCT.
"""

from __future__ import annotations

from xl_addin.rules import codes
from xl_addin.rules import rubric as rubric_mod
from xl_addin.rules.codes.identity import uscc_templates
from xl_addin.rules.engine import rubric_keys
from xl_addin.rules.expr import Const, array_const, lit, num, switch, template
from xl_addin.sheet.builder import Builder, Instance, Plan, blank_words, expected_text, render, yesno_mapping

# What the forms, the expert form and the tests import from here besides the plans.
__all__ = ["application_plan", "row_plan", "header_plan", "rubric_cells", "conclusion_expr",
           "Builder", "Instance", "Plan", "blank_words", "expected_text", "render",
           "yesno_mapping", "uscc_templates", "Const", "array_const", "lit", "num", "switch",
           "template"]

# ---------------------------------------------------------------------- application
def rubric_cells(b):
    """Item, section, base, bonus, total and conclusion cells (S1–S4)."""
    c, rb = b.c, b.c.rubric
    for item in rb.items:
        for part in item.parts:
            fn = lambda v, part=part, item=item: rubric_mod.read_part(part, v, item)  # noqa: E731
            b.parsed(part.key, "part", expected_text=expected_text(fn),
                     words=item.choices or None)
        if item.penalty:
            b.parse_penalty(item.penalty.key)
    b.parse_penalty(rb.veto_key)
    for item in rb.items:
        vals = [b.V(p.key) for p in item.parts]
        if item.kind == "errors":
            v = vals[0]
            total = f"IF({v}=\"\",{num(item.max)},MAX(0,{num(item.max)}-{v}))"
        else:
            total = "SUM(" + ",".join(vals) + ")"
        if item.penalty:
            total = f"IF({b.V(item.penalty.key)}=\"是\",MAX(0,{total}-{num(item.penalty.points)}),{total})"
        b.p.add(f"item:{item.id}", total)
    for sec in rb.sections:
        items = [f"[[item:{i.id}]]" for i in rb.items_of(sec.id)]
        b.p.add(f"sec:{sec.id}", "+".join(items) if items else "0")
    base = "+".join(f"[[sec:{s.id}]]" for s in rb.sections if not s.bonus) or "0"
    bonus = "+".join(f"[[sec:{s.id}]]" for s in rb.sections if s.bonus) or "0"
    b.p.add("se_base", base)
    b.p.add("se_bonus", bonus)
    b.p.add("se_total", "[[se_base]]+[[se_bonus]]" if c.decisions.get("bonus_counts", True)
            else "[[se_base]]")
    veto = b.p.add("veto", f"IF({b.V(rb.veto_key)}=\"\",\"否\",{b.V(rb.veto_key)})")
    b.p.add("se_conclusion", conclusion_expr(c, "[[se_total]]", veto))
    for k in ("se_base", "se_bonus", "se_total", "se_conclusion"):
        b.p.outputs[k] = k


def conclusion_expr(c, total, veto=None):
    concl = c.rubric.conclusions
    out = lit(concl[-1][0])
    for name, minimum in reversed(concl[:-1]):
        out = f"IF({total}>={num(minimum)},{lit(name)},{out})"
    if veto is not None:
        out = f"IF({veto}=\"是\",{lit(concl[-1][0])},{out})"
    return out


def application_plan(campaign):
    """The plan of the application workbook (inputs ``in:<key>``, plus ``in:respondents_listed``).

    Returns:
        Plan with outputs se_base … warning_count, status and the rubric/section cells.
    """
    c = campaign
    b = Builder(c, codes.APPLICATION, deadline=c.application_deadline)
    p = b.p
    for f in c.fields["application"]:
        if f.block != "derived":
            b.parse_field(f)
    rubric_cells(b)
    cat, q = b.V("category"), b.V("satisfaction")
    facts = {"category": cat, "conclusion": "[[se_conclusion]]", "satisfaction": q,
             "report_use": b.V("report_use"),
             # L1: a blank or unreadable answer is not 无; the reason shows what was typed
             "risk": p.add("risk_fact", f"IF({b.unreadable('risk')},{b.folded('risk')},{b.V('risk')})"),
             "veto": "[[veto]]"}
    b.star(facts, b.V("level"), unscored="[[unscored]]")
    for k in ("achievable_level", "proposed_level", "level_reason"):
        p.outputs[k] = k
    codes.add_formulas(b)
    # RULES.md E29, E19: an unreadable (E23) or out-of-range (E29) scoring input leaves the
    # level 无法评定 until corrected (engine.scored)
    bad = [f"[[{n}]]<>\"\"" for k in rubric_keys(c) for n in (f"u:{k}", f"m:E29:{k}")
           if n in p.cells]
    p.add("unscored", "OR(" + ",".join("OR(" + ",".join(bad[i:i + 40]) + ")"
                                       for i in range(0, len(bad), 40)) + ")")
    b.finish_flags()
    return p


# ---------------------------------------------------------------------- 附件3 rows
def row_plan(campaign):
    """The plan of one ``recommendations`` row (inputs ``in:<key>`` of recommendation_row).

    Outputs: flags, flag_text, error_count, warning_count, status, achievable_level,
    proposed_level, level_reason, row_conclusion; every flag is "" for an empty row.
    """
    c = campaign
    b = Builder(c, codes.ROW)
    keys = [f.key for f in c.fields["recommendation_row"]]
    empty = "AND(" + ",".join(f"TRIM({b.inp(k)}&\"\")=\"\"" for k in keys) + ")"
    b.p.add("empty", empty)
    b.guard = "[[empty]]"
    for f in c.fields["recommendation_row"]:
        b.parse_field(f)
    score = b.V("self_score")
    concl = b.p.add("row_conclusion", f"IF({score}=\"\",\"\",{conclusion_expr(c, score)})")
    facts = {"category": b.V("category"), "conclusion": concl,
             "satisfaction": b.V("satisfaction"),
             **{k: Const(v) for k, v in c.decisions["row_best_case"].items()}}  # L5a
    star = b.star(facts, b.V("level"))
    star["present"] = f"{concl}<>\"\""  # L5a: E30 only where the self-score gives a conclusion
    codes.add_formulas(b)
    b.finish_flags()
    for k in ("achievable_level", "proposed_level", "level_reason", "row_conclusion"):
        b.p.outputs[k] = k
    return b.p


def header_plan(campaign):
    """The plan of the 附件3 header: E21 (手机), E28 (邮箱), E22 (填表日期 after C3)."""
    c = campaign
    b = Builder(c, codes.RECOMMENDER, deadline=c.recommendation_deadline)
    for f in c.fields["recommender"]:
        b.parse_field(f)
    codes.add_formulas(b)  # E20 表头必填 (issue 13), E21, E28, E22
    b.finish_flags()
    return b.p
