"""Declared answers: E04 资质, E05 事故/投诉, E06 初评企业类 (K4), E09 施工总承包, E10 优质工程,
E33 复评无档案.

Each code: its Python check (``check(x)``, x a checks.Context) and its sheet formula
(``formula(b)``, b a sheet.builder.Builder), from the same ``[flags.Exx]`` parameters.
"""

from __future__ import annotations

from xl_addin.rules.checks import show
from xl_addin.rules.codes.base import APPLICATION, Rule
from xl_addin.rules.expr import Const, any_equal, lit


def _must_be(code):
    """E04, E05, E09, E10: the field the flag names must hold the `wanted` answer."""
    def check(x):
        key, wanted = x.spec(code)["field"], x.spec(code)["wanted"]
        if not x.applies(code) or x.skip(key):
            return
        v = x.v.get(key)
        if v is None:
            yield x.flag(code, key, "missing")
        elif v != wanted:
            yield x.flag(code, key, value=v)

    def formula(b):
        spec = b.c.flags[code]
        key = spec["field"]
        body = b.missing_or(code, key, f"{b.V(key)}<>{lit(spec['wanted'])}")
        if "categories" in spec:  # x.applies: a code without categories applies to all
            body = f"IF(NOT({b.applies(code)}),\"\"," + body + ")"
        b.instance(code, key, body)
    check.__name__ = code.lower()
    check.__doc__ = formula.__doc__ = f"{code}: the answer flags.{code}.field is flags.{code}.wanted."
    return Rule(code, (APPLICATION,), check, formula, params=("field", "wanted"))


def e06(x):
    """E06 (K4): 企业类 初评 only (a 复评 is exempt); a warning settled in 审定 ("原则上")."""
    if not x.applies("E06") or x.v.get("review_type") in x.spec("E06")["exempt_review_types"]:
        return
    # K4: the campaign registry's answer (by 统一社会信用代码), when the caller has one,
    # replaces the self-declared prior_pass.
    prior = x.v.get("registry_prior_pass") or x.v.get("prior_pass")
    if prior == "是" or x.v.get("credit_a") == "是":
        return
    yield x.flag("E06", "prior_pass", since=x.spec("E06")["credit_a_since"])


def e06_sheet(b):
    """E06 (K4) on the declared answers (the registry is looked up only outside the sheet)."""
    spec, V = b.c.flags["E06"], b.V
    exempt = any_equal(V("review_type"), [lit(x) for x in spec["exempt_review_types"]])
    b.instance("E06", "prior_pass",
               f"IF(OR(NOT({b.applies('E06')}),{exempt}),\"\",IF(OR({V('prior_pass')}=\"是\",{V('credit_a')}=\"是\"),"
               f"\"\",{b.msg('E06', since=Const(show(spec['credit_a_since'])))}))")


def e33(x):
    """E33: a 复评 of an organisation the registry has no earlier result for (issue 14)."""
    if x.v.get("review_type") == "复评" and x.v.get("registry_record") == "否":
        yield x.flag("E33", "review_type")


RULES = (
    _must_be("E04"), _must_be("E05"),
    Rule("E06", (APPLICATION,), e06, e06_sheet, params=("credit_a_since", "exempt_review_types")),
    _must_be("E09"), _must_be("E10"),
    Rule("E33", (APPLICATION,), e33,
         python_only="needs the campaign registry (评价档案), which consolidation and "
                     "`saq check` look up by 统一社会信用代码; the workbook cannot"),
)
