"""What decides the level: E14 类别上限 (K3), E15 满意度, E18 自评不合格, E19 否决项,
E24 测量报告应用的文字, E30 可评等级 (L5, L5a).

Each code: its Python check (``check(x)``, x a checks.Context) and its sheet formula
(``formula(b)``, b a sheet.builder.Builder), from the same campaign data.
"""

from __future__ import annotations

from xl_addin.rules import parse
from xl_addin.rules.codes.base import APPLICATION, ROW, Rule
from xl_addin.rules.expr import AMP_EMPTY, lit, num


def e14(x):
    """E14 (K3): applied level above the category's cap."""
    cat, lv = x.c.category(x.category) if x.category else None, x.v.get("level")
    if cat and lv and lv > cat.cap:
        yield x.flag("E14", "level", category=cat.name, cap=x.c.level(cat.cap).applied,
                     level=x.c.level(lv).applied)


def e14_sheet(b):
    """E14 (K3): applied level above the category's cap (cell ``cap``)."""
    cat, lv = b.V("category"), b.V("level")
    cap = b.p.add("cap", f"IF({cat}=\"\",\"\",{b.cap_of(cat)})")
    body = (f"IF(OR({cat}=\"\",{lv}=\"\"),\"\",IF({lv}>{cap},"
            + b.msg("E14", category=cat, cap=b.level_word(cap),
                    level=b.level_word(lv)) + ",\"\"))")
    b.instance("E14", "level", body)


def e15(x):
    """E15: 满意度 below the campaign's minimum."""
    q, spec = x.v.get("satisfaction"), x.spec("E15")
    if q is not None and q < spec["min"]:
        yield x.flag("E15", "satisfaction", value=q)


def e15_sheet(b):
    """E15: 满意度 below the campaign's minimum."""
    q = b.V("satisfaction")
    m = b.msg('E15', value=q + AMP_EMPTY)
    body = f"IF({q}=\"\",\"\",IF({q}<{num(b.c.flags['E15']['min'])},{m},\"\"))"
    b.instance("E15", "satisfaction", body)


def e18(x):
    """E18 (S4): the self-evaluation's conclusion is the lowest (不合格) without a veto."""
    r = x.rubric
    if r is not None and r.veto != "是" and r.conclusion == x.c.rubric.conclusions[-1][0]:
        yield x.flag("E18", "se_total", value=r.total)


def e18_sheet(b):
    """E18 (S4) from the rubric cells ``veto`` and ``se_conclusion``."""
    last = lit(b.c.rubric.conclusions[-1][0])
    m18 = b.msg('E18', value='[[se_total]]' + AMP_EMPTY)
    b.instance("E18", "se_total", f"IF(AND([[veto]]<>\"是\",[[se_conclusion]]={last}),"
               f"{m18},\"\")")


def e19(x):
    """E19 (V1): 否决项 = 是."""
    if x.rubric is not None and x.rubric.veto == "是":
        yield x.flag("E19", x.c.rubric.veto_key)


def e19_sheet(b):
    """E19 (V1): 否决项 = 是."""
    b.instance("E19", b.c.rubric.veto_key, f"IF([[veto]]=\"是\",{b.msg('E19')},\"\")")


def e24(x):
    """E24: 测量报告应用 in words that are negated or unclear: the least favourable reading."""
    hit = x.readings.get("report_use")
    if hit and hit[1].why:
        raw, reading = hit
        spec = x.spec("E24")
        yield x.flag("E24", "report_use", value=parse.text(raw), why=spec[reading.why],
                     reading=reading.value)


def e24_sheet(b):
    """E24 from the cell ``why:report_use`` (Builder.report_use_cells reads the words)."""
    spec = b.c.flags["E24"]
    why = "[[why:report_use]]"
    why_text = f"IF({why}=\"negated\",{lit(spec['negated'])},{lit(spec['unclear'])})"
    m24 = b.msg("E24", value=b.folded("report_use"), reading=b.V("report_use"), why=why_text)
    b.instance("E24", "report_use", f"IF({why}=\"\",\"\",{m24})")


def e30(x):
    """E30 (L5, L5a): applied level above the achievable level."""
    s, lv = x.star, x.v.get("level")
    if s is not None and s.achievable is not None and lv and x.v.get("satisfaction") is not None \
            and x.category and lv > s.achievable:
        yield x.flag("E30", "level", level=x.c.level(lv).applied,
                     achievable=x.c.level_name(s.achievable), reason=s.failed or "")


def e30_sheet(b):
    """E30 (L5, L5a) from the star cells (Builder.star_cells; ``present`` on a 附件3 row)."""
    star = b.star_cells
    cat, lv, q = b.V("category"), b.V("level"), b.V("satisfaction")
    body = (f"IF(OR({lv}=\"\",{q}=\"\",{cat}=\"\",{star['ach']}=\"\"),\"\",IF({lv}>{star['ach']},"
            + b.msg("E30", level=b.level_word(lv), achievable=b.level_name(star["ach"]),
                    reason=star["failed"]) + ",\"\"))")
    if star.get("present"):
        body = f"IF({star['present']},{body},\"\")"
    b.instance("E30", "level", body)


RULES = (
    Rule("E14", (APPLICATION, ROW), e14, e14_sheet),
    Rule("E15", (APPLICATION, ROW), e15, e15_sheet, params=("min",)),
    Rule("E18", (APPLICATION,), e18, e18_sheet),
    Rule("E19", (APPLICATION,), e19, e19_sheet),
    Rule("E24", (APPLICATION,), e24, e24_sheet,
         params=("none_words", "negators", "negation_links", "use_words", "negated_phrases",
                 "not_negation", "strategy_words", "management_words", "unclear_words",
                 "negated", "unclear")),
    Rule("E30", (APPLICATION, ROW), e30, e30_sheet, late=(APPLICATION,)),
)
