"""BASELINE for benchmarks/bench_review.py: the expert row's formula plan before issue 14
(every rubric part parsed in two cells of its own, ~200 formulas per row), kept verbatim
so the benchmark can measure today's plan against it in the same run.

The formula plan of one expert row, built with issue 3's formula builder.

``formulas.Builder`` parses the row's inputs exactly as the engine does (blanks such as
"-", full-width digits, N1's words, E23) and gives 专家总分 (se_total), 评价结论
(se_conclusion) and 可评等级 (achievable_level) from the campaign data. This module adds
only what the expert workbook needs besides: how many required cells are blank and how
many inputs are invalid (E23 / E29, RULES.md S1), for the 填写状态 column and the progress
counter. The expert form lays the plan out in hidden columns of each row.
"""

from __future__ import annotations

from xl_addin.rules.show import fmt_number
from xl_addin.sheet.formulas import Builder, lit, rubric_cells

# Parts an expert must fill for the row to count (the penalty, error count and veto default).
REQUIRED_KINDS = ("score", "range")
STAR_INPUTS = ("category", "satisfaction", "report_use", "risk")
CHOICE_INPUTS = ("report_use", "risk")
CHUNK = 20  # terms per helper cell (an Excel formula must stay under 8192 characters)


def required_keys(campaign):
    """Input keys a complete row must have, rubric parts first, then 测量报告应用 and 风险."""
    return [p.key for p in campaign.rubric.parts if p.kind in REQUIRED_KINDS] + \
        list(CHOICE_INPUTS)


def input_keys(campaign):
    """Every input the plan reads from the row (``in:<key>``)."""
    rb = campaign.rubric
    return [p.key for p in rb.parts] + [rb.veto_key] + list(STAR_INPUTS)


def _allowed_ok(campaign, part, v):
    """S0/S1 as a formula on a parsed value (rubric.part_ok)."""
    if part.kind == "score":
        return "OR(" + ",".join(f"{v}={fmt_number(a)}" for a in part.allowed) + ")"
    if part.kind == "range":
        step = fmt_number(campaign.rubric.step)
        return f"AND({v}>=0,{v}<={fmt_number(part.max)},ABS({v}/{step}-ROUND({v}/{step},0))<1E-9)"
    if part.kind == "errors":
        return f"AND({v}>=0,INT({v})={v})"
    return "TRUE"


def _unread(b, key):
    return f"[[u:{key}]]<>\"\"" if f"u:{key}" in b.p.cells else "FALSE"


def _sum_chunked(b, name, terms):
    refs = []
    for i in range(0, len(terms), CHUNK):
        refs.append(b.p.add(f"{name}:{i // CHUNK}", "+".join(terms[i:i + CHUNK])))
    return "+".join(refs) if refs else "0"


def expert_plan(campaign, words, order=None):  # order: unused (today's signature)
    """Plan cells of one expert row.

    Args:
        words: the status words (expert_table.WORDS).
    Returns:
        formulas.Plan with outputs ``total``, ``conclusion``, ``achievable``, ``missing``,
        ``invalid``, ``status`` (the row's visible computed cells refer to these), and the
        input ``in:recused`` besides :func:`input_keys`.
    """
    c = campaign
    b = Builder(c, "application")
    for key in STAR_INPUTS:
        b.parse_field(c.field("application", key))
    rubric_cells(b)
    facts = {"category": b.V("category"), "conclusion": "[[se_conclusion]]",
             "satisfaction": b.V("satisfaction"), "report_use": b.V("report_use"),
             # stars.evaluate reads a blank risk as 无 (``risk or "无"``)
             "risk": b.p.add("risk_or_none", f"IF({b.V('risk')}=\"\",\"无\",{b.V('risk')})"),
             "veto": "[[veto]]"}
    b.star(facts, None)
    p = b.p
    # A row counts only when every required cell holds a readable value.
    missing = [f"IF(AND({b.V(k)}=\"\",NOT({_unread(b, k)})),1,0)" for k in required_keys(c)]
    p.add("missing", _sum_chunked(b, "miss", missing))
    invalid = []
    for part in c.rubric.parts:
        v = b.V(part.key)
        if part.kind == "penalty":
            invalid.append(f"IF({_unread(b, part.key)},1,0)")
        else:
            invalid.append(f"IF({_unread(b, part.key)},1,IF({v}=\"\",0,"
                           f"IF({_allowed_ok(c, part, v)},0,1)))")
    for key in (c.rubric.veto_key,) + CHOICE_INPUTS:
        invalid.append(f"IF({_unread(b, key)},1,0)")
    p.add("invalid", _sum_chunked(b, "bad", invalid))
    n_req = len(required_keys(c))
    p.add("status", f"IF([[in:recused]]=\"是\",{lit(words['recused'])},"
                    f"IF([[invalid]]>0,\"有 \"&[[invalid]]&\" 项填写无效\","
                    f"IF([[missing]]=0,{lit(words['complete'])},"
                    f"IF([[missing]]={n_req},{lit(words['empty'])},"
                    f"\"未完成（缺 \"&[[missing]]&\" 项）\"))))")
    p.outputs.update(total="se_total", conclusion="se_conclusion",
                     achievable="achievable_level", missing="missing", invalid="invalid",
                     status="status")
    return p
