"""Formula text: the small pure helpers every formula is written with.

Excel string and number constants, ``str.format`` templates turned into concatenations,
nested IF switches and array constants. Nothing here knows a form or a plan; the plan and
the builder are in :mod:`xl_addin.sheet.builder`, the formulas of each E code beside its
Python check in :mod:`xl_addin.rules.codes`.
"""

from __future__ import annotations

import string

from xl_addin.rules.checks import show
from xl_addin.rules.show import fmt_number

MAX_LITERAL = 255  # Excel's limit on one string constant in a formula
DATE_FMT = "yyyy-mm-dd"
NL = "CHAR(10)"
AMP_EMPTY = '&""'  # number & "" = the number as General shows it
LEN_MAX = 32767
DIGITS = "0123456789"


# ---------------------------------------------------------------------- literals
def lit(s):
    """An Excel string constant; long text is split into concatenated pieces (≤255 chars)."""
    s = str(s)
    if not s:
        return '""'
    parts = [s[i:i + MAX_LITERAL] for i in range(0, len(s), MAX_LITERAL)]
    return "&".join('"' + p.replace('"', '""') + '"' for p in parts)


def num(x):
    """A number constant as Excel reads it."""
    return fmt_number(x)


def date_lit(d):
    return f"DATE({d.year},{d.month},{d.day})"


def is_const(expr):
    return isinstance(expr, Const)


class Const(str):
    """A Python-side constant text standing in for an expression (folds statically)."""


def template(text, params, spec=None):
    """Excel expression for a ``str.format`` template.

    Args:
        text: the campaign's wording with ``{name}`` placeholders.
        params: name -> Excel text expression (or Const for a fixed text).
        spec: the flag's table; its scalar entries fill the remaining names (``show``-ed,
            as checks.Context.flag does).
    Returns:
        an Excel text expression.
    """
    fixed = {}
    for k, v in (spec or {}).items():
        if not isinstance(v, (list, dict)):
            fixed[k] = show(v)
    pieces, buf = [], ""
    for literal, name, _spec, _conv in string.Formatter().parse(text):
        buf += literal
        if name is None:
            continue
        if name in params:
            v = params[name]
            if is_const(v):
                buf += str(v)
            else:
                if buf:
                    pieces.append(lit(buf))
                    buf = ""
                pieces.append(v)
        elif name in fixed:
            buf += fixed[name]
        else:
            raise KeyError(f"template placeholder {name!r} has no value")
    if buf or not pieces:
        pieces.append(lit(buf))
    return "&".join(pieces)


def switch(expr, mapping, default='""'):
    """Nested IF: expr = key → value (keys and values already Excel expressions)."""
    out = default
    for k, v in reversed(list(mapping.items())):
        out = f"IF({expr}={k},{v},{out})"
    return out


def any_equal(expr, values):
    values = list(values)
    if not values:
        return "FALSE"
    if len(values) == 1:
        return f"{expr}={values[0]}"
    return "OR(" + ",".join(f"{expr}={v}" for v in values) + ")"


def array_const(values):
    return "{" + ",".join(str(v) for v in values) + "}"
