"""What may be rated: E08 工程规模, E11 产品品类, E12 产品型号规格, E13 专项服务.

Each code: its Python check (``check(x)``, x a checks.Context) and its sheet formula
(``formula(b)``, b a sheet.builder.Builder), from the same ``[flags.Exx]`` parameters.
"""

from __future__ import annotations

from xl_addin.rules.codes.base import APPLICATION, Rule
from xl_addin.rules.expr import any_equal, lit, num


def e08(x):
    """E08 工程类 scale: strict types need 面积 or 造价; relaxed types warn; others warn."""
    if not x.applies("E08") or x.skip("eng_type"):
        return
    spec, t = x.spec("E08"), x.v.get("eng_type")
    if t is None:
        yield x.flag("E08", "eng_type", "missing")
        return
    area, cost = x.v.get("area"), x.v.get("cost")
    big = (area is not None and area >= spec["min_area"]) or \
          (cost is not None and cost >= spec["min_cost"])
    params = dict(eng_type=t, area=area, cost=cost)
    if t in spec["strict"]:
        if not big:
            yield x.flag("E08", "area", **params)
    elif t in spec["relaxed"]:
        if not big:
            yield x.flag("E08", "area", "relaxed_message", **params)
    else:
        yield x.flag("E08", "eng_type", "other_message", **params)


def e08_sheet(b):
    """E08 工程类 scale; the severity is a cell (strict: error, relaxed / other: warning)."""
    spec, V = b.c.flags["E08"], b.V
    t, area, cost = V("eng_type"), V("area"), V("cost")
    big = (f"OR(IF(ISNUMBER({area}),{area}>={num(spec['min_area'])},FALSE),"
           f"IF(ISNUMBER({cost}),{cost}>={num(spec['min_cost'])},FALSE))")
    params = dict(eng_type=t, area=b.shown_number(area), cost=b.shown_number(cost))
    strict = any_equal(t, [lit(x) for x in spec["strict"]])
    relaxed = any_equal(t, [lit(x) for x in spec["relaxed"]])
    gate = f"OR(NOT({b.applies('E08')}),{b.unreadable('eng_type')},{t}=\"\")"
    b.instance("E08", "area",
               f"IF({gate},\"\",IF({big},\"\",IF({strict},{b.msg('E08', **params)},"
               f"IF({relaxed},{b.msg('E08', 'relaxed_message', **params)},\"\"))))",
               severity=f"IF({strict},{lit(spec['severity'])},{lit(spec['relaxed_severity'])})")
    b.instance("E08", "eng_type",
               f"IF(NOT({b.applies('E08')}),\"\",IF({b.unreadable('eng_type')},\"\","
               f"IF({t}=\"\",{b.msg('E08', 'missing')},IF(OR({strict},{relaxed}),\"\","
               f"{b.msg('E08', 'other_message', **params)}))))",
               severity=f"IF({t}=\"\",{lit(spec['severity'])},{lit(spec['other_severity'])})")


def e11(x):
    """E11 产品类: the excluded product kinds (食品, 药品 …)."""
    if not x.applies("E11") or x.skip("product_kind"):
        return
    v = x.v.get("product_kind")
    if v is None:
        yield x.flag("E11", "product_kind", "missing")
    elif v in x.spec("E11")["excluded"]:
        yield x.flag("E11", "product_kind", value=v)


def e11_sheet(b):
    """E11 产品类: the excluded product kinds (食品, 药品 …)."""
    pk = b.V("product_kind")
    excl = any_equal(pk, [lit(x) for x in b.c.flags["E11"]["excluded"]])
    b.instance("E11", "product_kind", f"IF(NOT({b.applies('E11')}),\"\","
               + b.missing_or("E11", "product_kind", excl, value=pk) + ")")


def squeeze(s):
    """Text compared for containment: upper case, no spaces (the sheet: squeeze_expr)."""
    return s.upper().replace(" ", "")


def squeeze_expr(e):
    """squeeze as a formula."""
    return f"UPPER(SUBSTITUTE({e},\" \",\"\"))"


def e12(x):
    """E12: 产品类项目名称必须填写型号、规格，填写系列产品无效: a series, no 型号规格, or a name
    that does not contain the 型号规格."""
    if not x.applies("E12"):
        return
    name, spec = x.v.get("project_name"), x.v.get("model_spec")
    if name and any(w in name for w in x.spec("E12")["series_words"]):
        yield x.flag("E12", "project_name", value=name)
    elif x.blank("model_spec"):
        yield x.flag("E12", "model_spec", "missing")
    elif name and spec and squeeze(spec) not in squeeze(name):
        yield x.flag("E12", "project_name", "spec_message", value=name, spec=spec)


def e12_sheet(b):
    """E12 产品类: a series, no 型号规格, or a name that does not contain the 型号规格."""
    name, spec_v = b.V("project_name"), b.V("model_spec")
    series = "OR(" + ",".join(f"ISNUMBER(FIND({lit(w)},{name}))"
                              for w in b.c.flags["E12"]["series_words"]) + ")"
    hit = f"AND({name}<>\"\",{series})"
    has_spec = f"ISNUMBER(FIND({squeeze_expr(spec_v)},{squeeze_expr(name)}))"
    b.instance("E12", "project_name",
               f"IF(NOT({b.applies('E12')}),\"\",IF({hit},{b.msg('E12', value=name)},"
               f"IF(OR({name}=\"\",{spec_v}=\"\"),\"\",IF({has_spec},\"\","
               f"{b.msg('E12', 'spec_message', value=name, spec=spec_v)}))))")
    b.instance("E12", "model_spec",
               f"IF(NOT({b.applies('E12')}),\"\",IF({hit},\"\",IF({spec_v}=\"\","
               f"{b.msg('E12', 'missing')},\"\")))")


def e13(x):
    """E13 服务类: 项目名称 ends like an institution (中心, 公司 …), not a 专项服务."""
    if not x.applies("E13"):
        return
    name = x.v.get("project_name")
    if name and name.endswith(tuple(x.spec("E13")["institution_suffixes"])):
        yield x.flag("E13", "project_name", value=name)


def e13_sheet(b):
    """E13 服务类: 项目名称 ends like an institution (中心, 公司 …), not a 专项服务."""
    name = b.V("project_name")
    ends = "OR(" + ",".join(f"RIGHT({name},{len(s)})={lit(s)}"
                            for s in b.c.flags["E13"]["institution_suffixes"]) + ")"
    b.instance("E13", "project_name",
               f"IF(NOT({b.applies('E13')}),\"\",IF({name}=\"\",\"\",IF({ends},"
               f"{b.msg('E13', value=name)},\"\")))")


RULES = (
    Rule("E08", (APPLICATION,), e08, e08_sheet,
         params=("min_area", "min_cost", "strict", "relaxed", "relaxed_severity", "relaxed_message",
                 "other_severity", "other_message")),
    Rule("E11", (APPLICATION,), e11, e11_sheet, params=("excluded",)),
    Rule("E12", (APPLICATION,), e12, e12_sheet, params=("series_words", "spec_message")),
    Rule("E13", (APPLICATION,), e13, e13_sheet, params=("institution_suffixes",)),
)
