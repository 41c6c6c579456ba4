"""What every eligibility check (RULES.md §E) sees and gives: Context in, findings out
(:class:`xl_addin.rules.findings.Finding`, one per code and field; a "flag" in the code's
words is such a finding).

The checks themselves, one per E code beside its sheet formula, are in
:mod:`xl_addin.rules.codes`. Messages are the campaign's templates filled with the offending
value (:meth:`Context.flag`, :func:`show`).
"""

from __future__ import annotations

import datetime as dt

from xl_addin.rules.findings import Finding
from xl_addin.rules.show import fmt_number

BLANK = "（空）"


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
                 deadline=None, readings=None, form=None):
        self.c, self.v, self.unreadable, self.labels = campaign, values, unreadable, labels
        self.rubric, self.star, self.deadline = rubric, star, deadline
        self.form = form  # codes.APPLICATION / ROW / RECOMMENDER, where a check differs by form
        # key -> (raw, reading) of lenient readings: report_use.UseReading (E24), parse.Kept (E34)
        self.readings = readings or {}

    def spec(self, code):
        return self.c.flags[code]

    def flag(self, code, field, variant="message", **params):
        spec = self.spec(code)
        sev_key = "severity" if variant in ("message", "missing") else \
            f"{variant.removesuffix('_message')}_severity"
        severity = spec.get(sev_key, spec["severity"])
        fill = {k: show(v) for k, v in spec.items() if not isinstance(v, (list, dict))}
        fill.update({k: show(v) for k, v in params.items()})
        return Finding(code=code, severity=severity, message=spec[variant].format(**fill),
                       field=field)

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


def part_label(campaign, part):
    """How a rubric part is named to users: "P3 问卷设计·指标结构完整"."""
    for item in campaign.rubric.items:
        if part.item == item.id:
            if part.kind == "penalty" or len(item.parts) > 1:
                return f"{item.id} {item.name}·{part.label}"
            return f"{item.id} {item.name}"
    return part.label
