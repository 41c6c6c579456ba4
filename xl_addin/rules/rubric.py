"""Scoring of the 附件2-5 self-evaluation rubric (RULES.md §S).

Parts are summed as typed (S1: a value outside its allowed set is flagged E29, never
clamped); M1's penalty applies once and never takes the item below 0 (S2); A3 is its maximum
minus the errors found, never below 0; the score is base + bonus when ``bonus_counts`` (S3);
the conclusion follows S4.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from xl_addin.rules import parse


@dataclass
class RubricResult:
    items: dict = field(default_factory=dict)  # item id -> score
    sections: dict = field(default_factory=dict)  # section id -> score
    base: float = 0.0
    bonus: float = 0.0
    total: float = 0.0
    conclusion: str = ""
    veto: str = "否"
    bad_parts: list = field(default_factory=list)  # (Part, raw value) outside allowed (E29)
    from_stored: bool = False  # no parts given: the total is the table's own 自评分


def part_ok(part, value, step):
    """S0/S1: is ``value`` an allowed value of ``part``?"""
    if part.kind == "score":
        return any(abs(value - a) < 1e-9 for a in part.allowed)
    if part.kind == "range":
        return 0 <= value <= part.max and Decimal(str(value)) % Decimal(str(step)) == 0
    if part.kind == "errors":
        return value >= 0 and float(value).is_integer()
    return True


def read_part(part, raw, item):
    """The number a part cell holds (N1 also takes its words: 非常明确 → 5)."""
    if part.kind == "penalty":
        return parse.yesno(raw)
    if item.choices and isinstance(raw, str):
        k = parse.fold(raw)
        if k in item.choices:
            return float(item.choices[k])
    return parse.number(raw, expected="应为分值（数字）")


def score(values, campaign):
    """Score parsed rubric values.

    Args:
        values: part key -> number (or 是/否 for the penalty and veto); missing or None = 0.
        campaign: the Campaign.
    Returns:
        RubricResult
    """
    rb = campaign.rubric
    res = RubricResult()
    for item in rb.items:
        total = 0.0
        for part in item.parts:
            v = values.get(part.key)
            if v is None:
                continue
            if not part_ok(part, v, rb.step):
                res.bad_parts.append((part, v))
            if part.kind == "errors":
                total += max(0.0, item.max - v)
            else:
                total += v
        if item.kind == "errors" and values.get(item.parts[0].key) is None:
            total = item.max  # no errors reported: the full point
        if item.penalty and values.get(item.penalty.key) == "是":
            total = max(0.0, total - item.penalty.points)
        res.items[item.id] = total
    for sec in rb.sections:
        res.sections[sec.id] = sum(res.items[i.id] for i in rb.items_of(sec.id))
    res.base = sum(res.sections[s.id] for s in rb.sections if not s.bonus)
    res.bonus = sum(res.sections[s.id] for s in rb.sections if s.bonus)
    res.total = res.base + res.bonus if campaign.decisions.get("bonus_counts", True) else res.base
    res.veto = values.get(rb.veto_key) or "否"
    res.conclusion = conclusion(res.total, res.veto, campaign)
    return res


def conclusion(total, veto, campaign):
    """S4: V1 = 是 → the lowest conclusion; else the first threshold the score reaches."""
    concl = campaign.rubric.conclusions
    if veto == "是" or total is None:
        return concl[-1][0]
    for name, minimum in concl:
        if total >= minimum:
            return name
    return concl[-1][0]
