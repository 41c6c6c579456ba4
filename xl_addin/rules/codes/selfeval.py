"""The self-evaluation (附件2-5): E27 记录的总分, E29 分值 (S1).

Each code: its Python check (``check(x)``, x a checks.Context) and its sheet formula
(``formula(b)``, b a sheet.builder.Builder), from the same campaign data.
"""

from __future__ import annotations

from xl_addin.rules.checks import part_label
from xl_addin.rules.codes.base import APPLICATION, Rule
from xl_addin.rules.expr import Const, num


def e27(x):
    """E27: the stored total of a self-evaluation differs from the one recomputed from its parts."""
    stored = x.v.get("stored_total")
    if stored is not None and x.rubric is not None and not x.rubric.from_stored and \
            abs(stored - x.rubric.total) > x.spec("E27")["tolerance"]:
        yield x.flag("E27", "se_total", stored=stored, computed=x.rubric.total)


def e29(x):
    """E29 (S1): a rubric part outside its allowed values."""
    if x.rubric is None:
        return
    for part, v in x.rubric.bad_parts:
        yield x.flag("E29", part.key, label=part_label(x.c, part), value=v,
                     allowed=part.allowed_text(x.c.rubric.step))


def e29_sheet(b):
    """E29 (S1): a rubric part outside its allowed values (a score list, a range, a count)."""
    c, V = b.c, b.V
    step = c.rubric.step
    for part in c.rubric.parts:
        if part.kind == "penalty":
            continue
        v = V(part.key)
        if part.kind == "score":
            ok = "OR(" + ",".join(f"ABS({v}-{num(a)})<1E-9" for a in part.allowed) + ")"
        elif part.kind == "range":
            ok = f"AND({v}>=0,{v}<={num(part.max)},MOD({v},{num(step)})=0)"
        else:  # errors: a whole number ≥ 0
            ok = f"AND({v}>=0,{v}=INT({v}))"
        body = (f"IF({v}=\"\",\"\",IF({ok},\"\","
                + b.msg("E29", label=Const(part_label(c, part)), value=f"{v}&\"\"",
                        allowed=Const(part.allowed_text(step))) + "))")
        b.instance("E29", part.key, body)


RULES = (
    Rule("E27", (APPLICATION,), e27, params=("tolerance",),
         python_only="the sheet computes the total from the parts itself; only a table that "
                     "stores a total (`saq eval`, an export) can disagree with its parts"),
    Rule("E29", (APPLICATION,), e29, e29_sheet, late=(APPLICATION,)),
)
