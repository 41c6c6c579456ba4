"""Values kept as typed: E34 描述性数字.

A descriptive number (员工人数, 营业收入, 专项服务工作人员数, 直接服务受益的用户数: FIELDS.md,
``flags.E34.fields``) feeds no rule, so a value that cannot be read as a number ("约120万")
is not an error (E23) but kept exactly as typed, with this warning for the experts. The
engine's reader keeps it (engine._parser → parse.Kept, in ``x.readings``); the sheet's reader
marks it in the cell ``kept:<key>`` (sheet.builder.Builder.parsed).
"""

from __future__ import annotations

from xl_addin.rules import parse
from xl_addin.rules.checks import show
from xl_addin.rules.codes.base import APPLICATION, Rule
from xl_addin.rules.expr import Const


def e34(x):
    """E34: a descriptive field whose value is not a number, kept as typed."""
    for key in x.spec("E34")["fields"]:
        hit = x.readings.get(key)
        if hit and isinstance(hit[1], parse.Kept):
            yield x.flag("E34", key, label=x.labels.get(key, key), value=show(hit[0]))


def e34_sheet(b):
    """E34 from the reader's cell ``kept:<key>``; the value shown is the cell as typed."""
    for key in b.c.flags["E34"]["fields"]:
        if f"kept:{key}" not in b.p.cells:
            continue  # not a field of this form
        msg = b.msg("E34", label=Const(b.labels.get(key, key)), value=f"{b.inp(key)}&\"\"")
        b.instance("E34", key, f"IF([[kept:{key}]],{msg},\"\")")


RULES = (Rule("E34", (APPLICATION,), e34, e34_sheet, params=("fields",)),)
