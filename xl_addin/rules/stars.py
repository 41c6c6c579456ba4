"""Star level (RULES.md §L): achievable level, proposed level and the sentence why.

The conditions are data (``[[stars]]`` of the campaign file); this module only walks them
from the top level down. The workbook formulas are generated from the same data.
"""

from __future__ import annotations

from dataclasses import dataclass

from xl_addin.rules.show import fmt_number

MISSING = "未填写"


@dataclass(frozen=True)
class StarResult:
    achievable: int | None  # rank, 0 = 不达标, None = inputs missing (无法评定)
    proposed: int | None  # rank, None when no applied level is given
    reason: str
    failed: str | None  # the failure sentence of the rule just above the achievable level


def condition_holds(cond, facts, campaign, level):
    v = facts.get(cond.field)
    if cond.cap:
        cat = campaign.category(v) if v else None
        return cat is not None and cat.cap >= level
    if cond.min is not None:
        return v is not None and v >= cond.min
    return v in cond.allowed


def first_failure(rule, facts, campaign):
    """The ``fail`` sentence of the first condition of ``rule`` that does not hold, or None."""
    for cond in rule.conditions:
        if not condition_holds(cond, facts, campaign, rule.level):
            shown = {k: (fmt_number(v) if isinstance(v, (int, float)) else (v or MISSING))
                     for k, v in facts.items()}
            return cond.fail.format(**shown)
    return None


def evaluate(campaign, category, conclusion, satisfaction, report_use, risk="无", veto="否",
             applied=None, scored=True):
    """The star level of one application (L1–L5).

    Args:
        category: 企业类 … (None if unknown); conclusion: 优良 / 合格 / 不合格;
        satisfaction: float or None; report_use: 战略 / 管理 / 无; risk: 无 / 有 (anything
        else, None included, is not 无: L1);
        veto: 是 / 否; applied: applied level rank or None.
        scored: False when a rubric part or the veto cannot be read or is outside its
            allowed values (E23, E29): the level waits for the correction (RULES.md E29, E19).
    Returns:
        StarResult; achievable (and proposed) None = 无法评定.
    """
    text = campaign.star_text
    if satisfaction is None or category is None:
        return StarResult(None, None, text["unknown"], text["unknown"])
    if not scored:
        why = text.get("unscored", text["unknown"])
        return StarResult(None, None, why, why)
    facts = {"category": category, "conclusion": conclusion, "satisfaction": satisfaction,
             "report_use": report_use, "risk": risk, "veto": veto or "否"}  # L1: blank risk is not 无
    achievable, failures = 0, {}
    for rule in campaign.stars:  # high to low
        fail = first_failure(rule, facts, campaign)
        if fail is None:
            achievable = rule.level
            break
        failures[rule.level] = fail
    above = [r for r in campaign.stars if r.level > achievable]
    nxt = min(above, key=lambda r: r.level) if above else None
    failed = text["not_met"].format(fail=failures[nxt.level], stars=_stars(campaign, nxt.level)) \
        if nxt else None
    proposed = min(applied, achievable) if applied else None
    if applied and applied < achievable:
        reason = text["capped_by_applied"].format(applied=campaign.level(applied).applied)
    elif applied and applied == achievable:
        reason = text["met_top"].format(stars=_stars(campaign, achievable))
    elif failed:
        reason = failed
    else:
        reason = text["met_top"].format(stars=_stars(campaign, achievable))
    return StarResult(achievable, proposed, reason, failed)


def proposed_name(campaign, star, applied):
    """The 建议等级 as every surface shows it: nothing without an applied level; 无法评定
    while the achievable level is (issue 20 §8: the sheet says the same)."""
    if applied is None or star is None:
        return None
    return campaign.level_name(star.proposed)


def _stars(campaign, rank):
    lv = campaign.level(rank)
    return lv.stars if lv else campaign.no_level


def needs_onsite_review(campaign, category, applied, proposed):
    """L6: is an application on the 现场评审 list?

    The notice (§四(六)) names the APPLIED level: 申请标杆级的企业类、服务类 and 申请用户满意级
    的工程类; only an application still in the running (a proposed level above 不达标) goes.
    The campaign's ``onsite_review.by`` may say "proposed" to use the proposed level instead.

    Args:
        category: 企业类 …; applied: applied level rank or None; proposed: proposed rank or None.
    Returns:
        bool
    """
    if not proposed:
        return False
    rank = applied if campaign.onsite.get("by", "applied") == "applied" else proposed
    if not rank:
        return False
    return rank in campaign.onsite["levels"] or \
        rank in campaign.onsite["category_levels"].get(category, ())
