"""Dates: E01 成立日期, E03 调查开始, E07 交付使用, E22 填表日期, E31 验收日期, E32 调查起止.

Each code: its Python check (``check(x)``, x a checks.Context) and its sheet formula
(``formula(b)``, b a sheet.builder.Builder), from the same ``[flags.Exx]`` parameters.
"""

from __future__ import annotations

from xl_addin.rules import parse
from xl_addin.rules.checks import show
from xl_addin.rules.codes.base import APPLICATION, RECOMMENDER, Rule
from xl_addin.rules.expr import DATE_FMT, Const, date_lit


def _date_bound(code, key, param, too_early):
    """E01, E03: a date that must not be later (E01) or earlier (E03) than a campaign date."""
    def check(x):
        limit, d = x.spec(code)[param], x.v.get(key)
        if x.skip(key):
            return
        if d is None:
            yield x.flag(code, key, "missing", limit=limit)
        elif (d < limit) if too_early else (d > limit):
            yield x.flag(code, key, value=d, limit=limit)

    def formula(b):
        limit = b.c.flags[code][param]
        bad = f"{b.V(key)}{'<' if too_early else '>'}{date_lit(limit)}"
        b.instance(code, key, b.missing_or(code, key, bad, value=b.shown_date(key),
                                           limit=Const(show(limit))))
    check.__name__ = code.lower()
    check.__doc__ = formula.__doc__ = \
        f"{code}: {key} {'on or after' if too_early else 'on or before'} flags.{code}.{param}."
    return Rule(code, (APPLICATION,), check, formula, params=(param,))


E01 = _date_bound("E01", "established_date", "established_by", too_early=False)
E03 = _date_bound("E03", "survey_start", "survey_from", too_early=True)


def delivery_window(campaign):
    """E07: the earliest and latest delivery dates that are 1–3 years before C6."""
    spec, ref = campaign.flags["E07"], campaign.reference_date
    return (parse.add_months(ref, -12 * spec["max_years"]),
            parse.add_months(ref, -12 * spec["min_years"]))


def e07(x):
    """E07 工程类: 交付使用 1–3 years before C6."""
    if not x.applies("E07") or x.skip("delivery_date"):
        return
    d = x.v.get("delivery_date")
    if d is None:
        yield x.flag("E07", "delivery_date", "missing")
        return
    earliest, latest = delivery_window(x.c)
    if not earliest <= d <= latest:
        yield x.flag("E07", "delivery_date", value=d, earliest=earliest, latest=latest,
                     reference=x.c.reference_date)


def e07_sheet(b):
    """E07 with EDATE from the reference date (C6), as delivery_window counts."""
    c, spec = b.c, b.c.flags["E07"]
    ref = date_lit(c.reference_date)
    earliest = f"EDATE({ref},{-12 * spec['max_years']})"
    latest = f"EDATE({ref},{-12 * spec['min_years']})"
    dd = b.V("delivery_date")
    b.instance("E07", "delivery_date",
               f"IF(NOT({b.applies('E07')}),\"\","
               + b.missing_or("E07", "delivery_date", f"OR({dd}<{earliest},{dd}>{latest})",
                              value=b.shown_date("delivery_date"),
                              earliest=f"TEXT({earliest},\"{DATE_FMT}\")",
                              latest=f"TEXT({latest},\"{DATE_FMT}\")",
                              reference=Const(show(c.reference_date))) + ")")


def e22(x):
    """E22: 填表日期 after the form's deadline (C2 / C3), or before the campaign year."""
    d = x.v.get("fill_date")
    if d is not None and x.deadline is not None and d > x.deadline:
        yield x.flag("E22", "fill_date", value=d, limit=x.deadline)
    elif d is not None and d < x.spec("E22")["earliest"]:
        yield x.flag("E22", "fill_date", "early_message", value=d)


def e22_sheet(b):
    """E22 against the Builder's deadline (the one the engine gives its Context)."""
    d, deadline = b.V("fill_date"), b.deadline
    earliest = b.c.flags["E22"]["earliest"]
    body = (f"IF({d}=\"\",\"\",IF({d}>{date_lit(deadline)},"
            + b.msg("E22", value=f"TEXT({d},\"{DATE_FMT}\")", limit=Const(show(deadline)))
            + f",IF({d}<{date_lit(earliest)},"
            + b.msg("E22", "early_message", value=f"TEXT({d},\"{DATE_FMT}\")")
            + ",\"\")))")
    b.instance("E22", "fill_date", body)


def e31(x):
    """E31 工程类 需完成验收: 验收日期 given and not after 交付使用日期."""
    if not x.applies("E31") or x.skip("acceptance_date"):
        return
    a, d = x.v.get("acceptance_date"), x.v.get("delivery_date")
    if a is None:
        yield x.flag("E31", "acceptance_date", "missing")
    elif d is not None and a > d:
        yield x.flag("E31", "acceptance_date", value=a, delivery=d)


def e31_sheet(b):
    """E31 工程类 需完成验收: 验收日期 given and not after 交付使用日期."""
    acc, dd = b.V("acceptance_date"), b.V("delivery_date")
    b.instance("E31", "acceptance_date",
               f"IF(NOT({b.applies('E31')}),\"\","
               + b.missing_or("E31", "acceptance_date", f"AND({dd}<>\"\",{acc}>{dd})",
                              value=b.shown_date("acceptance_date"),
                              delivery=b.shown_date("delivery_date")) + ")")


def e32(x):
    """E32 第三方调查: ends before it starts, or starts after the application deadline C2."""
    start, end = x.v.get("survey_start"), x.v.get("survey_end")
    if start is not None and end is not None and end < start:
        yield x.flag("E32", "survey_end", value=end, start=start)
    if start is not None and start > x.c.application_deadline:
        yield x.flag("E32", "survey_start", "late_message", value=start,
                     limit=x.c.application_deadline)


def e32_sheet(b):
    """E32 第三方调查: ends before it starts, or starts after the application deadline C2."""
    ss, se = b.V("survey_start"), b.V("survey_end")
    b.instance("E32", "survey_end",
               f"IF(OR({ss}=\"\",{se}=\"\"),\"\",IF({se}<{ss},"
               f"{b.msg('E32', value=b.shown_date('survey_end'), start=b.shown_date('survey_start'))},\"\"))")
    dl = b.c.application_deadline
    b.instance("E32", "survey_start",
               f"IF({ss}=\"\",\"\",IF({ss}>{date_lit(dl)},"
               f"{b.msg('E32', 'late_message', value=b.shown_date('survey_start'), limit=Const(show(dl)))},\"\"))")


RULES = (
    E01, E03,
    Rule("E07", (APPLICATION,), e07, e07_sheet, params=("min_years", "max_years")),
    Rule("E22", (APPLICATION, RECOMMENDER), e22, e22_sheet, late=(RECOMMENDER,),
         params=("earliest", "early_message")),
    Rule("E31", (APPLICATION,), e31, e31_sheet),
    Rule("E32", (APPLICATION,), e32, e32_sheet, params=("late_message",)),
)
