"""One small check per eligibility rule (RULES.md §E), for a single application or row.

Each check reads parsed values and the campaign's parameters and yields flags; messages
are the campaign's templates filled with the offending value. A value that could not be
read has already got E23 and is skipped here, so one mistake gives one message.
E25 and E26 need several files and live in consolidation.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from xl_addin.rules import parse
from xl_addin.rules.campaign import fmt_number
from xl_addin.rules.uscc import problem as uscc_problem

BLANK = "（空）"


@dataclass(frozen=True)
class Flag:
    code: str
    severity: str  # "error" or "warning"
    field: str  # the key of the field it is about
    message: str

    @property
    def severity_label(self):
        return "错误" if self.severity == "error" else "提醒"


def show(v):
    """A value as a message shows it."""
    if v is None:
        return BLANK
    if isinstance(v, (dt.date, dt.datetime)):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return fmt_number(v)
    return str(v)


class Context:
    """What every check sees: parsed values, the campaign, computed results."""

    def __init__(self, campaign, values, unreadable, labels, rubric=None, star=None,
                 deadline=None, readings=None):
        self.c, self.v, self.unreadable, self.labels = campaign, values, unreadable, labels
        self.rubric, self.star, self.deadline = rubric, star, deadline
        self.readings = readings or {}  # key -> (raw, parse.UseReading) of free-text readings

    def spec(self, code):
        return self.c.flags[code]

    def flag(self, code, field, variant="message", **params):
        spec = self.spec(code)
        sev_key = "severity" if variant in ("message", "missing") else \
            f"{variant.removesuffix('_message')}_severity"
        severity = spec.get(sev_key, spec["severity"])
        fill = {k: show(v) for k, v in spec.items() if not isinstance(v, (list, dict))}
        fill.update({k: show(v) for k, v in params.items()})
        return Flag(code, severity, field, spec[variant].format(**fill))

    def blank(self, key):
        """True when the field is empty and was not merely unreadable (E23 covers that)."""
        return self.v.get(key) is None and key not in self.unreadable

    def skip(self, key):
        return key in self.unreadable

    @property
    def category(self):
        return self.v.get("category")

    def applies(self, code):
        """Does ``code`` apply to this application's category (its `categories` setting)?"""
        cats = self.spec(code).get("categories")
        return cats is None or self.category in cats


# ---------------------------------------------------------------------- checks
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
    check.__name__ = code.lower()
    return check


e01 = _date_bound("E01", "established_date", "established_by", too_early=False)


def e02(x):
    for i, key in enumerate(("revenue_y1", "revenue_y2", "revenue_y3")):
        year = x.c.year - 3 + i
        if x.skip(key):
            continue
        v = x.v.get(key)
        if v is None:
            yield x.flag("E02", key, "missing", year=year)
        elif v <= 0:
            yield x.flag("E02", key, value=v, year=year)


e03 = _date_bound("E03", "survey_start", "survey_from", too_early=True)


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
    check.__name__ = code.lower()
    return check


e04 = _must_be("E04")
e05 = _must_be("E05")


def e06(x):
    """K4: 企业类 初评 only (a 复评 is exempt); a warning settled in 审定 ("原则上")."""
    if not x.applies("E06") or x.v.get("review_type") in x.spec("E06")["exempt_review_types"]:
        return
    # K4: the campaign registry's answer (by 统一社会信用代码), when the caller has one,
    # replaces the self-declared prior_pass.
    prior = x.v.get("registry_prior_pass") or x.v.get("prior_pass")
    if prior == "是" or x.v.get("credit_a") == "是":
        return
    yield x.flag("E06", "prior_pass", since=x.spec("E06")["credit_a_since"])


def delivery_window(campaign):
    """E07: the earliest and latest delivery dates that are 1–3 years before C6."""
    spec, ref = campaign.flags["E07"], campaign.reference_date
    return (parse.add_months(ref, -12 * spec["max_years"]),
            parse.add_months(ref, -12 * spec["min_years"]))


def e07(x):
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


def e08(x):
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


e09 = _must_be("E09")
e10 = _must_be("E10")


def e11(x):
    if not x.applies("E11") or x.skip("product_kind"):
        return
    v = x.v.get("product_kind")
    if v is None:
        yield x.flag("E11", "product_kind", "missing")
    elif v in x.spec("E11")["excluded"]:
        yield x.flag("E11", "product_kind", value=v)


def squeeze(s):
    """Text compared for containment: upper case, no spaces (the sheet: UPPER(SUBSTITUTE()))."""
    return s.upper().replace(" ", "")


def e12(x):
    """产品类项目名称必须填写型号、规格，填写系列产品无效: a series, no 型号规格, or a name
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


def e13(x):
    if not x.applies("E13"):
        return
    name = x.v.get("project_name")
    if name and name.endswith(tuple(x.spec("E13")["institution_suffixes"])):
        yield x.flag("E13", "project_name", value=name)


def e14(x):
    cat, lv = x.c.category(x.category) if x.category else None, x.v.get("level")
    if cat and lv and lv > cat.cap:
        yield x.flag("E14", "level", category=cat.name, cap=x.c.level(cat.cap).applied,
                     level=x.c.level(lv).applied)


def e15(x):
    q, spec = x.v.get("satisfaction"), x.spec("E15")
    if q is not None and q < spec["min"]:
        yield x.flag("E15", "satisfaction", value=q)


def e16(x):
    code = x.v.get("uscc")
    if code:
        p = uscc_problem(code)
        if p:
            yield x.flag("E16", "uscc", value=code, problem=p)


def e17(x):
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


def e18(x):
    r = x.rubric
    if r is not None and r.veto != "是" and r.conclusion == x.c.rubric.conclusions[-1][0]:
        yield x.flag("E18", "se_total", value=r.total)


def e19(x):
    if x.rubric is not None and x.rubric.veto == "是":
        yield x.flag("E19", x.c.rubric.veto_key)


def required_keys(x, keys):
    cat = x.c.category(x.category) if x.category else None
    for key in keys:
        if key == "project_name" and cat is not None and not cat.project_required:
            continue
        yield key


def e20_for(list_name):
    def check(x):
        for key in required_keys(x, x.spec("E20")[list_name]):
            if x.blank(key):
                yield x.flag("E20", key, label=x.labels.get(key, key))
    return check


e20 = e20_for("required")
e20_row = e20_for("required_row")
e20_header = e20_for("required_header")  # 附件3 表头 (issue 13)


def _pattern_check(code, key):
    def check(x):
        v = x.v.get(key)
        if v and not re.fullmatch(x.spec(code)["pattern"], v):
            yield x.flag(code, key, value=v)
    return check


e21 = _pattern_check("E21", "contact_mobile")
e21_filler = _pattern_check("E21", "filler_mobile")
e28 = _pattern_check("E28", "filler_email")


def e22(x):
    d = x.v.get("fill_date")
    if d is not None and x.deadline is not None and d > x.deadline:
        yield x.flag("E22", "fill_date", value=d, limit=x.deadline)
    elif d is not None and d < x.spec("E22")["earliest"]:
        yield x.flag("E22", "fill_date", "early_message", value=d)


def e24(x):
    """测量报告应用 in words that are negated or unclear: the least favourable reading."""
    hit = x.readings.get("report_use")
    if hit and hit[1].why:
        raw, reading = hit
        spec = x.spec("E24")
        yield x.flag("E24", "report_use", value=parse.text(raw), why=spec[reading.why],
                     reading=reading.value)


def e31(x):
    """工程类 需完成验收: 验收日期 given and not after 交付使用日期."""
    if not x.applies("E31") or x.skip("acceptance_date"):
        return
    a, d = x.v.get("acceptance_date"), x.v.get("delivery_date")
    if a is None:
        yield x.flag("E31", "acceptance_date", "missing")
    elif d is not None and a > d:
        yield x.flag("E31", "acceptance_date", value=a, delivery=d)


def e32(x):
    """第三方调查: ends before it starts, or starts after the application deadline C2."""
    start, end = x.v.get("survey_start"), x.v.get("survey_end")
    if start is not None and end is not None and end < start:
        yield x.flag("E32", "survey_end", value=end, start=start)
    if start is not None and start > x.c.application_deadline:
        yield x.flag("E32", "survey_start", "late_message", value=start,
                     limit=x.c.application_deadline)


def e27(x):
    stored = x.v.get("stored_total")
    if stored is not None and x.rubric is not None and not x.rubric.from_stored and \
            abs(stored - x.rubric.total) > x.spec("E27")["tolerance"]:
        yield x.flag("E27", "se_total", stored=stored, computed=x.rubric.total)


def e29(x):
    if x.rubric is None:
        return
    for part, v in x.rubric.bad_parts:
        yield x.flag("E29", part.key, label=part_label(x.c, part), value=v,
                     allowed=part.allowed_text(x.c.rubric.step))


def e30(x):
    s, lv = x.star, x.v.get("level")
    if s is not None and lv and x.v.get("satisfaction") is not None and x.category \
            and lv > s.achievable:
        yield x.flag("E30", "level", level=x.c.level(lv).applied,
                     achievable=x.c.level_name(s.achievable), reason=s.failed or "")


def part_label(campaign, part):
    """How a rubric part is named to users: "P3 问卷设计·指标结构完整"."""
    for item in campaign.rubric.items:
        if part.item == item.id:
            if part.kind == "penalty" or len(item.parts) > 1:
                return f"{item.id} {item.name}·{part.label}"
            return f"{item.id} {item.name}"
    return part.label


APPLICATION_CHECKS = (e01, e02, e03, e04, e05, e06, e07, e08, e09, e10, e11, e12, e13, e14,
                      e15, e16, e17, e18, e19, e20, e21, e22, e24, e27, e29, e30, e31, e32)
ROW_CHECKS = (e14, e15, e16, e20_row, e30)
RECOMMENDER_CHECKS = (e20_header, e21_filler, e28, e22)


def e33(x):
    """A 复评 of an organisation the registry has no earlier result for (issue 14)."""
    if x.v.get("review_type") == "复评" and x.v.get("registry_record") == "否":
        yield x.flag("E33", "review_type")


# Appended, not inserted, so that this addition merges cleanly with edits of the tuple.
APPLICATION_CHECKS += (e33,)
