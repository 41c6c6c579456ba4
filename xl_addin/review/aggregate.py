"""Aggregate the experts' scores per application (pure; no files).

Per application: each expert's score and conclusion; mean; trimmed mean when there are at
least ``trimmed_min_scores`` scores (one highest and one lowest dropped); range; a
disagreement flag (range above ``disagreement_range`` or conclusions differ); per-expert
z-scores (information only); the final score and conclusion (S4); the majority 测量报告应用,
风险 and 否决项, and the achievable / proposed level (L5) with its reason; the lists of L6
(现场评审), the 标杆 shortlist and the publication list (C5). Thresholds come from the
campaign's [review] table.
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from collections import Counter
from dataclasses import dataclass, field

from xl_addin.rules import rubric, stars
from xl_addin.rules.show import fmt_number

COUNTED = "已完成"
NO_FILE = "未收到评分表"
NO_ROW = "评分表中无此申请"


@dataclass
class ExpertScore:
    expert: str
    status: str  # COUNTED, 回避, 未完成…, 有 n 项填写无效, NO_FILE, NO_ROW
    total: float | None = None
    conclusion: str | None = None
    report_use: str | None = None
    risk: str | None = None
    veto: str | None = None
    comment: str = ""
    z: float | None = None
    normalised: float | None = None
    problems: list = field(default_factory=list)

    @property
    def counted(self):
        return self.status == COUNTED

    @property
    def recused(self):
        return self.status == "回避"


@dataclass
class AppResult:
    app: object  # assign.Application
    scores: list  # ExpertScore, in assignment order
    k: int
    mean: float | None = None
    trimmed: float | None = None
    range: float | None = None
    disagreement: str = ""  # the reason, empty when none
    final: float | None = None
    conclusion: str = ""
    report_use: str | None = None
    risk: str | None = None
    veto: str | None = None
    star: object = None  # stars.StarResult
    onsite: bool = False
    shortlist: bool = False

    @property
    def counted(self):
        return [s for s in self.scores if s.counted]

    @property
    def proposed(self):
        """L5 proposed rank (the achievable one when no level was applied for)."""
        if self.star is None:
            return None
        return self.star.proposed if self.star.proposed is not None else self.star.achievable

    @property
    def n(self):
        return len(self.counted)

    @property
    def complete(self):
        return self.n >= self.k

    @property
    def status(self):
        if self.complete:
            return "已完成"
        rec = sum(1 for s in self.scores if s.recused)
        owed = sum(1 for s in self.scores if not s.counted and not s.recused)
        parts = [f"有效评分 {self.n}/{self.k}"]
        if rec:
            parts.append(f"回避 {rec} 人")
        if owed:
            parts.append(f"待评 {owed} 人")
        if len(self.scores) < self.k:
            parts.append(f"仅分配 {len(self.scores)} 位专家")
        return "，".join(parts)


@dataclass
class ReviewResult:
    apps: list  # AppResult, in application order
    not_reviewed: list  # (Application, reason)
    publication: tuple  # (start, end)
    settings: dict

    @property
    def onsite(self):
        return [a for a in self.apps if a.complete and a.onsite]

    @property
    def shortlist(self):
        return [a for a in self.apps if a.complete and a.shortlist]

    @property
    def publication_list(self):
        return [a for a in self.apps if a.complete and (a.proposed or 0) > 0]

    @property
    def below_k(self):
        return [a for a in self.apps if not a.complete]


def settings(campaign, k=None):
    """The [review] values of the campaign (all required there); ``k`` overrides
    per_application."""
    r = campaign.review
    return {"k": int(k or r["per_application"]),
            "disagreement_range": float(r["disagreement_range"]),
            "trimmed_min": int(r["trimmed_min_scores"]),
            "use_trimmed": bool(r["use_trimmed_mean"]),
            "shortlist_level": r["shortlist_level"],
            "publication_after": r["publication_after"]}


def default_publication_start(campaign):
    """The campaign's [stages].publication_start (within September, 通知 §五 第7项); else
    the day after the calendar entry named by [review].publication_after (C4)."""
    if campaign.stages.get("publication_start"):
        return campaign.stages["publication_start"]
    entry = campaign.calendar.get(settings(campaign)["publication_after"])
    end = entry and (entry.end or entry.date)
    return end + dt.timedelta(days=1) if end else None


def trimmed_mean(values, minimum):
    """Mean without one highest and one lowest value when there are ≥ ``minimum`` values."""
    if len(values) < max(minimum, 3):
        return None
    v = sorted(values)[1:-1]
    return sum(v) / len(v)


def zscores(per_app_scores):
    """Per-expert z-score of each counted score, and that z mapped back onto the pooled
    mean and standard deviation (what Evalato calls a normalised score). Experts with fewer
    than two scores, or all scores equal, get None.

    Args:
        per_app_scores: iterable of ExpertScore (all applications); updated in place.
    """
    counted = [s for s in per_app_scores if s.counted]
    if len(counted) < 2:
        return
    pooled_mean = statistics.fmean(s.total for s in counted)
    pooled_sd = statistics.pstdev([s.total for s in counted])
    by_expert = {}
    for s in counted:
        by_expert.setdefault(s.expert, []).append(s)
    for mine in by_expert.values():
        if len(mine) < 2:
            continue
        m = statistics.fmean(s.total for s in mine)
        sd = statistics.pstdev([s.total for s in mine])
        if sd == 0:
            continue
        for s in mine:
            s.z = (s.total - m) / sd
            s.normalised = pooled_mean + s.z * pooled_sd


def _majority(values, campaign, choices):
    """Values with the highest count (several on a tie), in the campaign's choice order."""
    cnt = Counter(v for v in values if v is not None)
    if not cnt:
        return [None]
    top = max(cnt.values())
    return [v for v in choices if cnt.get(v) == top] or sorted(k for k, n in cnt.items()
                                                              if n == top)


def _favour(campaign, fld, value):
    """How many star conditions accept ``value`` (战略 2, 管理 1, 无 0): a tie that does not
    change the level still shows the less favourable answer."""
    return sum(1 for rule in campaign.stars for c in rule.conditions
               if c.field == fld and value in c.allowed)


def decide(campaign, app, final, counted):
    """Majority 测量报告应用 / 风险 / 否决项; a tie goes to the value giving the lower level.

    Returns:
        (report_use, risk, veto, conclusion, StarResult)
    """
    uses = _majority([s.report_use for s in counted], campaign, campaign.choices["report_use"])
    risks = _majority([s.risk for s in counted], campaign, campaign.choices["risk"])
    vetos = _majority([s.veto or "否" for s in counted], campaign, campaign.choices["yesno"])
    order = [name for name, _ in campaign.rubric.conclusions]
    best = None
    for u, r, v in itertools.product(uses, risks, vetos):
        concl = rubric.conclusion(final, v, campaign)
        st = stars.evaluate(campaign, app.category, concl, app.satisfaction, u, r, v, app.level)
        key = (st.achievable, -order.index(concl), _favour(campaign, "report_use", u),
               _favour(campaign, "risk", r), _favour(campaign, "veto", v))
        if best is None or key < best[0]:
            best = (key, (u, r, v, concl, st))
    return best[1]


def aggregate(campaign, apps, by_app, scores, k=None, publication_start=None,
              not_reviewed=()):
    """Aggregate the experts' rows.

    Args:
        apps: Application list (assigned ones), in order.
        by_app: app id -> tuple of expert names (the assignment).
        scores: (app id, expert name) -> ExpertScore; a pair missing here counts as
            NO_FILE (the expert's workbook did not arrive).
        k: required scores per application (default: campaign [review].per_application).
        publication_start: first day of 公示 (default: :func:`default_publication_start`).
        not_reviewed: (Application, reason) of applications that were not assigned.
    Returns:
        ReviewResult
    """
    cfg = settings(campaign, k)
    results = []
    for app in apps:
        row = [scores.get((app.id, e)) or ExpertScore(e, NO_FILE) for e in by_app.get(app.id, ())]
        results.append(AppResult(app, row, cfg["k"]))
    zscores([s for a in results for s in a.scores])
    for a in results:
        vals = [s.total for s in a.counted]
        if not vals:
            continue
        a.mean = sum(vals) / len(vals)
        a.trimmed = trimmed_mean(vals, cfg["trimmed_min"])
        a.range = max(vals) - min(vals)
        reasons = []
        if a.range > cfg["disagreement_range"]:
            reasons.append(f"极差 {fmt_number(round(a.range, 2))} 分，超过 "
                           f"{fmt_number(cfg['disagreement_range'])} 分")
        concl = Counter(s.conclusion for s in a.counted)
        if len(concl) > 1:
            reasons.append("评价结论不一致（" + "、".join(f"{c} {n} 人" for c, n in
                                                          sorted(concl.items())) + "）")
        a.disagreement = "；".join(reasons)
        a.final = a.trimmed if (cfg["use_trimmed"] and a.trimmed is not None) else a.mean
        a.report_use, a.risk, a.veto, a.conclusion, a.star = decide(campaign, a.app, a.final,
                                                                   a.counted)
        a.onsite = stars.needs_onsite_review(campaign, a.app.category, a.app.level, a.proposed)
        a.shortlist = a.proposed == cfg["shortlist_level"]
    start = publication_start or default_publication_start(campaign)
    window = campaign.publication_window(start) if start else (None, None)
    return ReviewResult(results, list(not_reviewed), window, cfg)
