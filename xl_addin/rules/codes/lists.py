"""What must be there: E02 近三年收入, E17 被访者名单, E20 必填项.

Each code: its Python check (``check(x)``, x a checks.Context) and its sheet formula
(``formula(b)``, b a sheet.builder.Builder), from the same ``[flags.Exx]`` parameters.
"""

from __future__ import annotations

from xl_addin.rules import parse
from xl_addin.rules.codes.base import APPLICATION, RECOMMENDER, ROW, Rule
from xl_addin.rules.expr import AMP_EMPTY, Const, any_equal, lit, num

REVENUE_KEYS = ("revenue_y1", "revenue_y2", "revenue_y3")  # years Y-3, Y-2, Y-1


def e02(x):
    """E02: revenue of each of the three years before the campaign given and > 0."""
    for i, key in enumerate(REVENUE_KEYS):
        year = x.c.year - 3 + i
        if x.skip(key):
            continue
        v = x.v.get(key)
        if v is None:
            yield x.flag("E02", key, "missing", year=year)
        elif v <= 0:
            yield x.flag("E02", key, value=v, year=year)


def e02_sheet(b):
    """E02: revenue of each of the three years before the campaign given and > 0."""
    for i, key in enumerate(REVENUE_KEYS):
        year = Const(str(b.c.year - 3 + i))
        b.instance("E02", key, b.missing_or("E02", key, f"{b.V(key)}<=0",
                                            value=f"{b.V(key)}&\"\"", year=year))


def count_respondents(rows):
    """E17/F4: how many 被访者名单 rows count — those with both 姓名 and 联系方式 ("被访者名单
    至少含姓名、联系方式"). :func:`respondent_formula` is the same count as a sheet formula.

    Args:
        rows: (name, contact) pairs as read.
    Returns:
        int
    """
    return sum(1 for name, contact in rows
               if not parse.is_blank(name) and not parse.is_blank(contact))


def _present(cell):
    """Excel: a cell that is not blank as parse.is_blank reads it (none of the blank words,
    also in their full-width forms, around spaces of either width)."""
    t = f'TRIM(SUBSTITUTE({cell}&"","\u3000"," "))'
    words = sorted(set([""] + parse.blank_spellings()))
    return "AND(" + ",".join(f"{t}<>{lit(w)}" for w in words) + ")"


def respondent_formula(name, contact):
    """E17/F4 as a sheet formula for one 被访者名单 row: 1 when both its 姓名 (``name``) and
    联系方式 (``contact``) are given, as :func:`count_respondents` counts (an empty row costs
    one LEN: the form has a helper cell per row, cheaper than an array over the column)."""
    return (f"=IF(OR(LEN({name})=0,LEN({contact})=0),0,"
            f"IF(AND({_present(name)},{_present(contact)}),1,0))")


def e17(x):
    """E17 (F4): the 被访者名单 lists min(N, threshold) respondents, and not more than N."""
    if x.skip("respondents"):
        return
    n, listed = x.v.get("respondents"), x.v.get("respondents_listed")
    if n is None:
        yield x.flag("E17", "respondents", "missing")
        return
    if listed is None:
        return
    needed = min(n, x.spec("E17")["threshold"])
    if listed < needed:
        yield x.flag("E17", "respondents", total=n, listed=listed, needed=needed)
    elif listed > n:
        yield x.flag("E17", "respondents", "too_many_message", total=n, listed=listed)


def e17_sheet(b):
    """E17 (F4) against the input ``respondents_listed`` (the list's count formula)."""
    n, listed = b.V("respondents"), "[[in:respondents_listed]]"
    needed = f"MIN({n},{num(b.c.flags['E17']['threshold'])})"
    m17 = b.msg('E17', total=n + AMP_EMPTY, listed=listed + AMP_EMPTY, needed=needed + AMP_EMPTY)
    many = b.msg('E17', 'too_many_message', total=n + AMP_EMPTY, listed=listed + AMP_EMPTY)
    b.instance("E17", "respondents",
               f"IF({b.unreadable('respondents')},\"\",IF({n}=\"\",{b.msg('E17', 'missing')},"
               f"IF({listed}<{needed},{m17},IF({listed}>{n},{many},\"\"))))")


# E20: the list of flags.E20 each form checks (附件3 表头: issue 13)
REQUIRED = {APPLICATION: "required", ROW: "required_row", RECOMMENDER: "required_header"}


def required_keys(x, keys):
    """The keys of a required list that apply: 项目名称 not for a category without one."""
    cat = x.c.category(x.category) if x.category else None
    for key in keys:
        if key == "project_name" and cat is not None and not cat.project_required:
            continue
        yield key


def top_rank(campaign):
    """The highest level's rank (标杆级)."""
    return max(lv.rank for lv in campaign.levels)


def e20(x):
    """E20: a required field of the form (flags.E20 `required`…) is empty; on an application
    for the highest level also the fields of `required_top` (L1: 风险 must be answered 无)."""
    keys = list(required_keys(x, x.spec("E20")[REQUIRED[x.form]]))
    if x.form == APPLICATION and x.v.get("level") == top_rank(x.c):
        keys += [k for k in x.spec("E20").get("required_top", ()) if k not in keys]
    for key in keys:
        if x.blank(key):
            yield x.flag("E20", key, label=x.labels.get(key, key))


def e20_sheet(b):
    """E20: a required field of the form is empty (and not unreadable: E23 says that)."""
    cat = b.V("category")
    optional = [ct.name for ct in b.c.categories if not ct.project_required]
    for key in b.c.flags["E20"][REQUIRED[b.form]]:
        cond = f"AND({b.V(key)}=\"\",NOT({b.unreadable(key)}))"
        if key == "project_name" and optional:
            cond = f"AND({cond},NOT({any_equal(cat, [lit(x) for x in optional])}))"
        body = f"IF({cond},{b.msg('E20', label=Const(b.labels.get(key, key)))},\"\")"
        b.instance("E20", key, body)
    if b.form == APPLICATION:  # L1: required of an application for the highest level
        for key in b.c.flags["E20"].get("required_top", ()):
            cond = (f"AND({b.V('level')}={num(top_rank(b.c))},{b.V(key)}=\"\","
                    f"NOT({b.unreadable(key)}))")
            b.instance("E20", key, f"IF({cond},{b.msg('E20', label=Const(b.labels.get(key, key)))},\"\")")


RULES = (
    Rule("E02", (APPLICATION,), e02, e02_sheet),
    Rule("E17", (APPLICATION,), e17, e17_sheet, params=("threshold", "too_many_message")),
    Rule("E20", (APPLICATION, ROW, RECOMMENDER), e20, e20_sheet,
         params=("required", "required_row", "required_header", "required_top")),
)
