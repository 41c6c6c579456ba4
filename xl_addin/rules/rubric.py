"""Scoring of the 附件2-5 self-evaluation rubric (RULES.md §S).

Parts are summed as typed (S1: a value outside its allowed set is flagged E29, never
clamped); M1's penalty applies once and never takes the item below 0 (S2); A3 is its maximum
minus the errors found, never below 0; the score is base + bonus when ``bonus_counts`` (S3);
the conclusion follows S4.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from decimal import Decimal

from xl_addin.rules import parse
from xl_addin.rules.show import fmt_number


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


def read_part(part, raw, item, number=None):
    """The number a part cell holds (N1 also takes its words: 非常明确 → 5).

    Args:
        number: how a number is read: ``parse.number`` (the application form), or a reader
            such as :func:`typed_score` (the expert form).
    """
    if part.kind == "penalty":
        return parse.yesno(raw)
    if item.choices and isinstance(raw, str):
        k = parse.fold(raw)
        if k in item.choices:
            return float(item.choices[k])
    if number is not None:
        return number(raw)
    return parse.number(raw, expected=SCORE_EXPECTED)


SCORE_EXPECTED = "应为分值（数字）"
WHOLE_MAX = 20  # the whole numbers an expert may type as text (scores and errors found)
_WIDE = {ch: chr(ord(ch) + 0xFEE0) for ch in "0123456789."}


def score_spellings(campaign):
    """Every text the expert form reads as a score (issue 20 §5), text -> value: the
    multiples of the rubric's step up to the largest part, and the whole numbers up to
    :data:`WHOLE_MAX` (errors found), each in half- and full-width digits (５, １．５, mixed),
    with or without 分 after it. The sheet holds this list in a hidden range and looks a text
    cell up in it; `review collect` looks it up here (:func:`typed_score`): both read exactly
    the same texts. Longer or other texts (1.0, 01, 五) are unreadable in both."""
    rb = campaign.rubric
    top = max((p.max for p in rb.parts if p.kind in ("score", "range")), default=0)
    values = {round(k * rb.step, 9) for k in range(int(top / rb.step) + 1)}
    values |= set(range(WHOLE_MAX + 1))
    out = {}
    for v in sorted(values):
        text = fmt_number(v)
        for chars in itertools.product(*[(ch, _WIDE[ch]) for ch in text]):
            for unit in ("", "分"):
                out["".join(chars) + unit] = float(v)
    return out


def typed_score(spellings):
    """The expert form's reading of a score cell: a number, or one of ``spellings`` after
    the ideographic space and outer spaces are taken off (as the sheet's TRIM does)."""
    def read(raw):
        if parse.is_blank(raw):
            return None
        if isinstance(raw, bool):
            raise parse.Unreadable(raw, SCORE_EXPECTED)
        if isinstance(raw, (int, float)):
            return parse.number(raw, expected=SCORE_EXPECTED)
        k = re.sub(" +", " ", str(raw).replace("\u3000", " ")).strip(" ")  # TRIM
        if k in spellings:
            return spellings[k]
        raise parse.Unreadable(raw, SCORE_EXPECTED)
    return read


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
