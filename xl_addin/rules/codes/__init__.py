"""The E codes (RULES.md §E): one registry, each code's Python check and sheet formula side by side.

A family module (``dates``, ``answers``, ``scope``, ``levels``, ``identity``, ``lists``,
``selfeval``, ``values``) holds a few codes; each code is one :class:`~base.Rule` in its ``RULES``.
The engine runs the checks of a form (:func:`checks_for`), the formula builder lays out the
formulas of the same form in the same order (:func:`add_formulas`): adding a code touches
the campaign file (``[flags.Exx]``), one family module and its cases in ``tests/cases``.

A value that could not be read has already got E23 and is skipped by the checks, so one
mistake gives one message.
"""

from __future__ import annotations

from xl_addin.rules.codes import answers, dates, identity, levels, lists, scope, selfeval, values
from xl_addin.rules.codes.base import APPLICATION, FORMS, RECOMMENDER, ROW, Rule

__all__ = ["APPLICATION", "ROW", "RECOMMENDER", "FORMS", "Rule", "RULES", "ELSEWHERE",
           "ELSEWHERE_PARAMS", "params", "placed", "checks_for", "add_formulas", "APPLICATION_CHECKS", "ROW_CHECKS",
           "RECOMMENDER_CHECKS"]

FAMILIES = (dates, answers, scope, levels, identity, lists, selfeval, values)

RULES = {r.code: r for r in sorted((r for m in FAMILIES for r in m.RULES), key=lambda r: r.code)}
assert len(RULES) == sum(len(m.RULES) for m in FAMILIES), "an E code registered twice"

# Codes of the campaign checked outside the registry, and where.
ELSEWHERE = {
    "E23": "a value that cannot be read: the parsers of both sides raise it on every field "
           "(engine.normalise, sheet.builder.Builder.parsed)",
    "E25": "the same application submitted twice: needs every file (consolidate/crossfile.py)",
    "E26": "a 附件3 row against the applicant's workbook: needs both files "
           "(consolidate/crossfile.py)",
    "E35": "one organisation + project under two USCCs or two names: needs every file "
           "(consolidate/crossfile.py; RULES.md P6)",
}

# The [flags.Exx] parameters of the codes checked elsewhere (a Rule's are its ``params``):
# their checks live above rules/, where the campaign loader must not look.
ELSEWHERE_PARAMS = {
    "E35": ("names_message",),  # one USCC + project under two names (consolidate/crossfile.py)
}
assert set(ELSEWHERE_PARAMS) <= set(ELSEWHERE), "parameters of a code not checked elsewhere"


def params(code):
    """The keys ``[flags.<code>]`` may carry besides the common ones (severity, rule, message,
    missing, decision, decision_label, categories): the Rule's ``params``, else the code's
    ELSEWHERE_PARAMS, else none."""
    rule = RULES.get(code)
    return rule.params if rule is not None else ELSEWHERE_PARAMS.get(code, ())


def placed(form):
    """The rules checked on ``form``, in the order of the sheet's cells and of the checks.

    Code order, except the codes ``late`` on the form, which come after the others.
    """
    return tuple(sorted((r for r in RULES.values() if form in r.forms),
                        key=lambda r: (form in r.late, r.code)))


def checks_for(form):
    """The Python checks of ``form``: ``check(x)`` for a checks.Context of that form."""
    return tuple(r.check for r in placed(form))


def add_formulas(b):
    """Add every sheet formula of the Builder's form to its plan, in :func:`placed` order."""
    for r in placed(b.form):
        if r.formula is not None:
            r.formula(b)


APPLICATION_CHECKS = checks_for(APPLICATION)
ROW_CHECKS = checks_for(ROW)
RECOMMENDER_CHECKS = checks_for(RECOMMENDER)
