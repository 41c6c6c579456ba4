"""Assign k experts to every eligible application (pure; no files).

Constraints (issue 5): an expert judges only categories listed in 专业; never an application
whose organisation or recommender is on their 回避单位 list or is their own 单位. Load is
balanced (issue 14): greedy, most-constrained application first, least-loaded expert first;
then chains of moves (expert A hands an application to B, B one to C …) from a heavy
expert to one at least 2 lighter, until no such chain exists. At that point no expert can
shed load to anyone reachable who is 2 lighter, so experts who may judge the same
applications differ by at most 1, and the whole pool does whenever the constraints allow
it. Ties break on input order, so the same inputs give the same assignment. What cannot be
met is returned as a :class:`Shortfall`, never skipped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from xl_addin.rules.parse import norm

# Shortest avoid entry that may match by containment ("某某集团" in "某某集团有限公司");
# shorter entries (e.g. "上海") must match exactly, or they would exclude everyone.
MIN_CONTAINED = 4
_SPLIT = re.compile(r"[、,，;；\n\r/|]+")


@dataclass(frozen=True)
class Application:
    id: str
    org_name: str
    category: str | None
    recommender: str = ""
    uscc: str = ""
    eligible: bool = True
    level: int | None = None  # applied level rank
    satisfaction: float | None = None
    project_name: str = ""
    note: str = ""  # why it is not eligible: every error, then the warnings (RULES.md P2)
    source_file: str = ""  # the application workbook it came from (shown to the expert)
    # Its problems from the master (rules.findings.Finding): the stages show the errors of an
    # excluded application (P2) and the warnings staff must confirm (P3).
    findings: tuple = ()


@dataclass(frozen=True)
class Expert:
    name: str
    unit: str = ""
    avoid: tuple = ()
    categories: tuple = ()  # empty = every category


@dataclass(frozen=True)
class Shortfall:
    app_id: str
    needed: int
    got: int
    reason: str


@dataclass
class Assignment:
    k: int
    by_app: dict = field(default_factory=dict)  # app id -> tuple of expert names
    shortfalls: list = field(default_factory=list)
    not_assigned: list = field(default_factory=list)  # (app id, reason): ineligible ones

    def by_expert(self):
        """expert name -> list of app ids, in application order."""
        out = {}
        for app_id, names in self.by_app.items():
            for n in names:
                out.setdefault(n, []).append(app_id)
        return out

    def loads(self, experts):
        counts = {e.name: 0 for e in experts}
        for names in self.by_app.values():
            for n in names:
                counts[n] += 1
        return counts


def split_list(text):
    """A cell such as "甲公司、乙协会；丙" as a tuple of names."""
    if text is None:
        return ()
    return tuple(s for s in (norm(x) for x in _SPLIT.split(str(text))) if s)


def _same_org(a, b):
    a, b = norm(a or "").replace(" ", ""), norm(b or "").replace(" ", "")
    if not a or not b:
        return False
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    return len(short) >= MIN_CONTAINED and short in long_


def conflict(expert, app):
    """Why ``expert`` must not judge ``app`` (a Chinese sentence), or None."""
    if _same_org(expert.unit, app.org_name):
        return f"{expert.name}所在单位即申请组织"
    for entry in expert.avoid:
        if _same_org(entry, app.org_name) or (app.uscc and norm(entry).upper() == app.uscc):
            return f"{expert.name}须回避申请组织“{entry}”"
        if _same_org(entry, app.recommender):
            return f"{expert.name}须回避推荐单位“{entry}”"
    return None


def may_judge(expert, app):
    """The expert covers the category and has no conflict with the application."""
    if expert.categories and app.category not in expert.categories:
        return False
    return conflict(expert, app) is None


def assign(applications, experts, k):
    """Assign ``k`` experts to each eligible application.

    Args:
        applications: Application list (ids unique).
        experts: Expert list (names unique); its order is the tie-break.
        k: experts per application (≥ 1).
    Returns:
        Assignment: experts per application (in expert order), shortfalls, ineligible ones.
    Raises:
        ValueError: k < 1, or duplicate ids / names (the caller reports them in Chinese).
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    if len({a.id for a in applications}) != len(applications):
        raise ValueError("duplicate application id")
    if len({e.name for e in experts}) != len(experts):
        raise ValueError("duplicate expert name")
    order = {e.name: i for i, e in enumerate(experts)}
    result = Assignment(k)
    eligible = []
    for a in applications:
        if a.eligible:
            eligible.append(a)
        else:
            result.not_assigned.append((a.id, a.note or "资格审查未通过"))
    allowed = {a.id: [e for e in experts if may_judge(e, a)] for a in eligible}
    load = {e.name: 0 for e in experts}
    chosen = {}
    # Most constrained first, so scarce experts are kept for the applications that need them.
    for a in sorted(eligible, key=lambda a: (len(allowed[a.id]), a.id)):
        picks = sorted(allowed[a.id], key=lambda e: (load[e.name], order[e.name]))[:k]
        chosen[a.id] = {e.name for e in picks}
        for e in picks:
            load[e.name] += 1
    _rebalance(eligible, allowed, chosen, load, order)
    for a in eligible:
        result.by_app[a.id] = tuple(sorted(chosen[a.id], key=order.get))
        if len(chosen[a.id]) < k:
            result.shortfalls.append(Shortfall(a.id, k, len(chosen[a.id]),
                                               _why_short(a, experts)))
    return result


def _rebalance(apps, allowed, chosen, load, order):
    """Shift load along chains from heavy experts to experts at least 2 lighter.

    A chain e0 → e1 → … → en moves one application from each expert to the next (e_i holds
    it, e_(i+1) may judge it and does not hold it yet): e0 loses one, en gains one, the
    others keep their load. Each chain lowers the sum of squared loads, so the loop ends.
    When it ends, every expert reachable from e holds at least load(e) − 1.
    """
    holders = {}  # expert -> application ids held, in application order
    for a in apps:
        for n in chosen[a.id]:
            holders.setdefault(n, []).append(a.id)
    allowed_names = {a.id: [e.name for e in allowed[a.id]] for a in apps}
    names = sorted(load, key=order.get)
    while True:
        chain = None
        for src in sorted(names, key=lambda n: (-load[n], order[n])):
            chain = _find_chain(src, load, holders, allowed_names, chosen, order)
            if chain:
                break
        if not chain:
            return
        for giver, taker, app_id in chain:
            chosen[app_id].remove(giver)
            chosen[app_id].add(taker)
            holders[giver].remove(app_id)
            holders.setdefault(taker, []).append(app_id)
        load[chain[0][0]] -= 1
        load[chain[-1][1]] += 1


def _find_chain(src, load, holders, allowed_names, chosen, order):
    """Breadth-first search from ``src`` for the lightest expert ≤ load(src) − 2.

    Returns:
        list of (giver, taker, app id) steps, or None.
    """
    parent = {src: None}
    frontier = [src]
    while frontier:
        nxt = []
        for u in frontier:
            for app_id in holders.get(u, ()):
                for v in allowed_names[app_id]:
                    if v in parent or v in chosen[app_id]:
                        continue
                    parent[v] = (u, app_id)
                    nxt.append(v)
        frontier = nxt
    targets = [v for v in parent if load[v] <= load[src] - 2]
    if not targets:
        return None
    v = min(targets, key=lambda n: (load[n], order[n]))
    steps = []
    while parent[v] is not None:
        u, app_id = parent[v]
        steps.append((u, v, app_id))
        v = u
    return steps[::-1]


def _why_short(app, experts):
    covering = [e for e in experts if not e.categories or app.category in e.categories]
    conflicts = [conflict(e, app) for e in covering]
    conflicts = [c for c in conflicts if c]
    text = f"可评{app.category or '（类别未填）'}的专家 {len(covering)} 人"
    if conflicts:
        text += f"，其中 {len(conflicts)} 人须回避（" + "；".join(conflicts[:3]) + \
            ("…" if len(conflicts) > 3 else "") + "）"
    return text


def add_experts(applications, experts, by_app, needs, left_out=0):
    """Choose experts to add to applications short of scores (`saq review add`, issue 14).

    Finished work is never moved: experts already on an application (whether they scored,
    recused or still owe it) stay and are not chosen for it again. New experts go to the
    most constrained applications first, each time the least loaded expert first (load =
    everything already assigned plus what is added here).

    Args:
        applications: Application list (those of ``needs`` must be in it).
        experts: Expert list; its order is the tie-break.
        by_app: app id -> names already assigned.
        needs: app id -> how many more experts it needs.
        left_out: how many experts the caller did not offer (they still owe scores, P4),
            named in a shortfall's reason.
    Returns:
        (added, shortfalls): app id -> tuple of added names (expert order); Shortfall list
        for applications that still lack experts.
    """
    order = {e.name: i for i, e in enumerate(experts)}
    load = {e.name: 0 for e in experts}
    for names in by_app.values():
        for n in names:
            if n in load:
                load[n] += 1
    byid = {a.id: a for a in applications}
    wanted = [byid[i] for i, n in needs.items() if n > 0 and i in byid]
    allowed = {a.id: [e for e in experts if e.name not in by_app.get(a.id, ())
                      and may_judge(e, a)] for a in wanted}
    added, shortfalls = {}, []
    for a in sorted(wanted, key=lambda a: (len(allowed[a.id]) - needs[a.id], a.id)):
        picks = sorted(allowed[a.id], key=lambda e: (load[e.name], order[e.name]))[:needs[a.id]]
        for e in picks:
            load[e.name] += 1
        if picks:
            added[a.id] = tuple(sorted((e.name for e in picks), key=order.get))
        if len(picks) < needs[a.id]:
            have = len(by_app.get(a.id, ())) + len(picks)
            busy = f"，另有 {left_out} 位专家尚欠评分未选" if left_out else ""
            shortfalls.append(Shortfall(a.id, have - len(picks) + needs[a.id], have,
                                        _why_short(a, experts) + busy +
                                        "，已分配过的专家不重复分配"))
    return added, shortfalls
