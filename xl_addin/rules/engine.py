"""Evaluate one application, one 附件3 row or one recommender header: the single source
of every score, level and flag that the CLI, UDFs, workbooks and consolidation show.

Input is a mapping of field keys (or the Chinese labels of FIELDS.md) to raw values as
they come from Excel or a table; output is an :class:`Evaluation` (a :class:`~xl_addin.rules.findings.Result`). Nothing
here raises on bad input: an unreadable value is flag E23 on its field.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xl_addin.rules import checks, codes, parse, report_use, rubric, stars, uscc
from xl_addin.rules.checks import Context, part_label
from xl_addin.rules.codes.lists import count_respondents  # noqa: F401  (E17; kept for callers)
from xl_addin.rules.findings import Finding, Result


@dataclass
class Evaluation(Result):
    """One evaluation: the parsed values, the findings (``flags``, sorted by code and field)
    and, for an application or a row, the rubric and the star level."""

    values: dict
    flags: list = field(default_factory=list)  # rules.findings.Finding
    rubric: rubric.RubricResult | None = None
    star: stars.StarResult | None = None
    conclusion: str | None = None  # the conclusion the star level used

    @property
    def findings(self):
        """The findings (:class:`~xl_addin.rules.findings.Result`); ``flags`` is kept as
        the field's name: engine callers, consolidation and the UDFs read ``ev.flags``."""
        return self.flags

    @property
    def messages(self):
        return "\n".join(f.message for f in self.flags)


# ---------------------------------------------------------------------- keys and labels
def field_labels(campaign, form):
    """key -> label for a form, rubric parts included for applications."""
    labels = {f.key: f.label for f in campaign.fields[form]}
    if form == "application":
        for p in campaign.rubric.parts:
            labels[p.key] = part_label(campaign, p)
        labels[campaign.rubric.veto_key] = campaign.rubric.veto_label
        labels["se_total"] = "自评得分"
    return labels


_KEY_CACHE = {}


def key_of(campaign, form):
    """label or variant (normalised) -> key, so tables may be headed in either (cached)."""
    hit = _KEY_CACHE.get((id(campaign), form))
    if hit is not None and hit[0] is campaign:
        return hit[1]
    out = _key_map(campaign, form)
    _KEY_CACHE[(id(campaign), form)] = (campaign, out)
    return out


def _key_map(campaign, form):
    out = {}
    for f in campaign.fields[form]:
        for name in (f.key, f.label) + f.variants:
            out[parse.norm(name).replace(" ", "")] = f.key
    if form == "application":
        for p in list(campaign.rubric.parts):
            out[p.key] = p.key
            out[parse.norm(part_label(campaign, p)).replace(" ", "")] = p.key
        out[campaign.rubric.veto_key] = campaign.rubric.veto_key
        out[parse.norm(campaign.rubric.veto_label).replace(" ", "")] = campaign.rubric.veto_key
    return out


def to_keys(raw, campaign, form):
    """Rename a label-keyed mapping to field keys; unknown names are kept as they are."""
    names = key_of(campaign, form)
    out = {}
    for k, v in raw.items():
        key = names.get(parse.norm(k).replace(" ", ""), k) if isinstance(k, str) else k
        if key not in out or parse.is_blank(out[key]):
            out[key] = v
    return out


# ---------------------------------------------------------------------- parsing
def descriptive_keys(campaign):
    """Fields that feed no rule (FIELDS.md "descriptive numbers", flags.E34.fields)."""
    return frozenset(campaign.flags.get("E34", {}).get("fields", ()))


def _parser(f, campaign):
    if f.key in descriptive_keys(campaign):  # E34: never E23; kept exactly as typed
        return parse.kept(_typed_parser(f, campaign))
    return _typed_parser(f, campaign)


def _typed_parser(f, campaign):
    t = f.type
    if t in ("text", "mobile", "email"):
        return parse.text
    if t == "uscc":
        # E16: full width, spaces and hyphens folded, lower case read as upper (uscc.clean)
        return lambda v: None if parse.is_blank(v) else uscc.clean(parse.text(v))
    if t == "report_use":
        words = report_use.words(campaign)
        return lambda v: report_use.read(v, words)
    if t == "date":
        return parse.date
    if t == "integer":
        return parse.integer
    if t == "number":
        def number(v):
            x = parse.number(v, unit=f.unit)
            if x is not None and ((f.min is not None and x < f.min) or
                                  (f.max is not None and x > f.max)):
                raise parse.Unreadable(v, f"应为 {f.min:g} 到 {f.max:g} 之间的数字")
            return x
        return number
    if t == "category":
        return lambda v: parse.category(v, campaign)
    if t == "level":
        return lambda v: parse.level(v, campaign)
    if t == "choice":
        if f.choices == "yesno":
            return parse.yesno
        if f.choices in ("hasnot", "risk"):
            return parse.hasnot
        return lambda v: parse.choice(v, campaign.choices[f.choices])
    raise ValueError(f"unknown field type {t}")


class Reader:
    """The reading step of :func:`normalise`, one value at a time: each key is parsed from
    ``raw`` into :attr:`values`; a value that cannot be read is None there, its key is in
    :attr:`unreadable` and an E23 flag (worded with ``labels``) is in :attr:`flags`.
    review.expert_table reads its few fields with it, so both word E23 the same way.

    Args:
        raw: key -> raw value (already keyed: :func:`to_keys`).
        campaign: the Campaign.
        labels: key -> label for the messages (:func:`field_labels`).
        readings: a dict to receive key -> (raw, reading) for fields read leniently: free
            text of 测量报告应用 (report_use.UseReading, E24) and descriptive values kept as
            typed (parse.Kept, E34); optional.
    """

    def __init__(self, raw, campaign, labels, readings=None):
        self.raw, self.campaign, self.labels = raw, campaign, labels
        self.readings = {} if readings is None else readings
        self.values, self.unreadable, self.flags = {}, set(), []
        self.code = campaign.decisions.get("unreadable_value_code", "E23")

    def read(self, key, fn):
        """Parse ``raw[key]`` with ``fn`` (raises parse.Unreadable on a bad value)."""
        try:
            got = fn(self.raw.get(key))
            if isinstance(got, report_use.UseReading):  # E24: keep how free text was read
                self.readings[key] = (self.raw.get(key), got)
                got = got.value
            elif isinstance(got, parse.Kept):  # E34: a descriptive value kept as typed
                self.readings[key] = (got.raw, got)
                got = got.raw
            self.values[key] = got
        except parse.Unreadable as e:
            self.values[key] = None
            self.unreadable.add(key)
            spec = self.campaign.flags[self.code]
            self.flags.append(Finding(
                code=self.code, severity=spec["severity"], field=key,
                message=spec["message"].format(label=self.labels.get(key, key),
                                               value=checks.show(e.raw), expected=e.expected)))

    def read_field(self, f):
        """One form field, with the parser of its type."""
        self.read(f.key, _parser(f, self.campaign))

    def read_rubric(self, number=None):
        """Every rubric part (penalties included) and the veto of an application.

        Args:
            number: how a part's number is read (rubric.read_part); the expert form passes
                rubric.typed_score.
        """
        rb = self.campaign.rubric
        for item in rb.items:
            for p in item.parts + ((item.penalty,) if item.penalty else ()):
                self.read(p.key, lambda v, p=p, item=item: rubric.read_part(p, v, item, number))
        self.read(rb.veto_key, parse.yesno)


def normalise(raw, campaign, form, readings=None):
    """Parse every known field of ``form`` (and the rubric for applications).

    Args:
        readings: a dict to receive key -> (raw, reading) for fields read leniently
            (E24, E34: see :class:`Reader`); optional.

    Returns:
        (values, unreadable, flags): parsed values by key, the keys that could not be read,
        and their E23 flags.
    """
    reader = Reader(to_keys(raw, campaign, form), campaign, field_labels(campaign, form), readings)
    for f in campaign.fields[form]:
        reader.read_field(f)
    if form == "application":
        reader.read_rubric()
    return reader.values, reader.unreadable, reader.flags


def _sorted(flags):
    return sorted(flags, key=lambda f: (f.code, f.field))


def risk_fact(values, unreadable, raw):
    """企业信用/舆情/行业风险 as the star level reads it (L1 decision): the answer; a blank or
    unreadable one is not 无 — None, or the text typed, which the reason sentence shows
    (E20 or E23 says why). The sheet's cell ``risk_fact`` says the same."""
    if "risk" in unreadable:
        return parse.text(raw.get("risk"))
    return values.get("risk")


def rubric_keys(campaign):
    """The scoring inputs: every rubric part, the penalties and the veto."""
    rb = campaign.rubric
    keys = [p.key for it in rb.items for p in it.parts + ((it.penalty,) if it.penalty else ())]
    return keys + [rb.veto_key]


def scored(rub, unreadable, campaign):
    """False while a scoring input is unreadable (E23) or outside its allowed values (E29):
    the level is 无法评定 until it is corrected (RULES.md E29, E19)."""
    return not rub.bad_parts and not unreadable.intersection(rubric_keys(campaign))


# ---------------------------------------------------------------------- evaluations
def evaluate_application(raw, campaign):
    """Everything about one application: rubric score, levels, flags (E01–E23, E27–E30).

    Args:
        raw: field key or label -> raw value; may carry ``respondents_listed`` (the count of
            the 被访者名单) and ``stored_total`` (the total the workbook showed, for E27).
        campaign: the Campaign (required: the engine never picks a year itself).
    Returns:
        Evaluation
    """
    c = campaign
    readings = {}
    values, unreadable, flags = normalise(raw, c, "application", readings)
    rub = rubric.score(values, c)
    part_keys = [p.key for p in c.rubric.parts]
    if values.get("stored_total") is not None and \
            all(values.get(k) is None and k not in unreadable for k in part_keys):
        # A table with only the total (an export of the online system): take it as given.
        rub.base = rub.total = values["stored_total"]
        rub.bonus, rub.from_stored = 0.0, True
        rub.conclusion = rubric.conclusion(rub.total, rub.veto, c)
    star = stars.evaluate(c, values.get("category"), rub.conclusion, values.get("satisfaction"),
                          values.get("report_use"),
                          risk_fact(values, unreadable, to_keys(raw, c, "application")),
                          rub.veto, values.get("level"), scored(rub, unreadable, c))
    ctx = Context(c, values, unreadable, field_labels(c, "application"), rub, star,
                  c.application_deadline, readings, form=codes.APPLICATION)
    for check in codes.APPLICATION_CHECKS:
        flags.extend(check(ctx))
    return Evaluation(values, _sorted(flags), rub, star, rub.conclusion)


def evaluate_row(raw, campaign):
    """One row of 附件3 (table ``recommendations``): E14, E15, E16, E20, E23, E30 (L5a).

    E30 uses the best case the row allows (L5a): report used for strategy, no risk, no veto,
    and the conclusion that the row's self-score gives.
    """
    c = campaign
    values, unreadable, flags = normalise(raw, c, "recommendation_row")
    score = values.get("self_score")
    concl = rubric.conclusion(score, c.decisions["row_best_case"]["veto"], c) \
        if score is not None else None
    star = None
    if concl is not None:
        best = c.decisions["row_best_case"]
        star = stars.evaluate(c, values.get("category"), concl, values.get("satisfaction"),
                              best["report_use"], best["risk"], best["veto"], values.get("level"))
    ctx = Context(c, values, unreadable, field_labels(c, "recommendation_row"), None, star,
                  form=codes.ROW)
    for check in codes.ROW_CHECKS:
        flags.extend(check(ctx))
    return Evaluation(values, _sorted(flags), None, star, concl)


def evaluate_recommender(raw, campaign):
    """The header of 附件3: E21 (手机), E28 (邮箱), E22 (填表日期 after C3)."""
    c = campaign
    values, unreadable, flags = normalise(raw, c, "recommender")
    ctx = Context(c, values, unreadable, field_labels(c, "recommender"),
                  deadline=c.recommendation_deadline, form=codes.RECOMMENDER)
    for check in codes.RECOMMENDER_CHECKS:
        flags.extend(check(ctx))
    return Evaluation(values, _sorted(flags))
