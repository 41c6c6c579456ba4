"""The rules of deciding and publishing (RULES.md P, issue 18): pure functions the stages
after expert review call — 合议, 现场评审, 审定, 公示, 发布 — and the review lists that show
why an application was excluded.

Everything is read from the campaign's ``[deciding.Pn]`` tables (labels, parameters and the
Chinese lines of every refusal); nothing here opens a file or knows a sheet. ``row`` in the
functions below is the text that names a sheet row and its application, made by
:func:`row_text` ("审定!第 7 行 上海某某有限公司·某某服务").

A finding (:class:`xl_addin.rules.findings.Finding`, the one type of the engine, the verdict
and the dossier) is one problem of an application: its code, severity, message (words, then
the code) and the field it is about. Consolidation knows the field of every
flag; where a finding is read back from text (the master's 问题说明, the 分配表), the field
comes from the message: the code's message template names it by its label (E20: 必填项
“统一社会信用代码”未填写), which :func:`finding_from_line` maps back to the field key. That is
how an E20 finding names its field for P2's identity errors.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from functools import lru_cache

from xl_addin.rules.findings import Finding
from xl_addin.rules.parse import norm
from xl_addin.rules.text import onsite_text

CODE_AT_END = re.compile(r"[（(]([EMP]\d{2})[）)]\s*$")


def _level_word(campaign, rank):
    return campaign.level_name(rank)


def row_text(where, org_name, project_name=""):
    """How a refusal names a row: ``where`` (a sheet and row, "审定!第 7 行") and the
    application (organisation·project)."""
    subject = org_name + (f"·{project_name}" if project_name else "")
    return f"{where} {subject}".strip()


# ---------------------------------------------------------------------- findings
def findings_of(flags):
    """Findings from the engine's or consolidation's flags (anything with code, severity,
    message and field): code, severity, message and field only, so a finding of the engine
    and the same one read back from a 问题说明 (:func:`finding_from_line`) are equal."""
    return tuple(Finding(code=f.code, severity=f.severity, message=f.message,
                         field=getattr(f, "field", "") or "")
                 for f in flags)


def ordered(findings):
    """Errors first, then warnings; each group in its own order (P2)."""
    return tuple(sorted(findings, key=lambda f: not f.is_error))


_TEMPLATES = {}  # (campaign file, year) -> {code: [(regex, severity, group names)]}


def _variants(campaign, code):
    """(template, severity) of every message a code may give."""
    spec = campaign.flags.get(code) or campaign.materials.get(code) or {}
    base = spec.get("severity", "error")
    out = []
    for k, v in spec.items():
        if not isinstance(v, str) or not (k in ("message", "missing") or k.endswith("_message")):
            continue
        sev = base if k in ("message", "missing", "kind_message") else \
            spec.get(f"{k.removesuffix('_message')}_severity", base)
        out.append((v, sev))
    return out, base


@lru_cache(maxsize=256)
def _compile(template):
    parts, names = [], []
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is not None:
            names.append(name)
            parts.append(f"(?P<g{len(names)}>.*?)")
    return re.compile("".join(parts) + r"\s*$", re.S), names


def _templates(campaign, code):
    key = (campaign.path, campaign.year)
    table = _TEMPLATES.setdefault(key, {})
    if code not in table:
        variants, base = _variants(campaign, code)
        compiled = []
        for template, sev in variants:
            try:
                rx, names = _compile(template)
            except ValueError:  # a brace that is not a placeholder: no template to match
                continue
            compiled.append((rx, sev, names))
        table[code] = (compiled, base)
    return table[code]


def _label_keys(campaign):
    out = {}
    for form in campaign.fields.values():
        for f in form:
            out.setdefault(f.label, f.key)
    return out


def _message_template(campaign, rid, key):
    return campaign.deciding[rid][key]


def finding_from_line(line, campaign):
    """One line of a 问题说明 (the master's, or of :func:`exclusion_lines`) as a Finding.

    The code is the one in brackets at the end; the severity is the line's prefix (错误： /
    提醒：, P2) or else that of the code's message the line matches (E08's relaxed variant
    is a warning); the field is the one the message names by its label (E20), where the
    template has a ``{label}``.

    Returns:
        Finding, or None for a blank line.
    """
    text = str(line).strip()
    if not text:
        return None
    severity = None
    for sev, key in (("error", "error_message"), ("warning", "warning_message")):
        rx, _ = _compile(_message_template(campaign, "P2", key))
        m = rx.match(text)
        if m and m.group("g1"):
            severity, text = sev, m.group("g1").strip()
            break
    m = CODE_AT_END.search(text)
    if not m:
        return Finding(code="", severity=severity or "error", message=text)
    code = m.group(1)
    compiled, base = _templates(campaign, code)
    fld = ""
    for rx, sev, names in compiled:
        hit = rx.match(text)
        if hit:
            severity = severity or sev
            if "label" in names:
                label = hit.group(f"g{names.index('label') + 1}")
                fld = _label_keys(campaign).get(label, "")
            break
    return Finding(code=code, severity=severity or base, message=text, field=fld)


# A message ends with its code in brackets: text run together without a line break (a cell
# pasted into one line) is cut after each code.
_AFTER_CODE = re.compile(r"(?<=[（(][EM]\d{2}[）)])(?=\s*\S)")


def findings_from_text(text, campaign):
    """Every line of a 问题说明 cell as Findings (blank lines left out), in their order."""
    if text is None:
        return ()
    lines = [part for line in str(text).split("\n") for part in _AFTER_CODE.split(line)]
    out = (finding_from_line(x, campaign) for x in lines)
    return tuple(f for f in out if f is not None)


# ---------------------------------------------------------------------- P2 exclusions
def exclusion_lines(findings, campaign):
    """P2: the lines of an exclusion — every error (its words, then its code), then every
    warning, each on its own line marked 错误： / 提醒：."""
    p2 = campaign.deciding["P2"]
    return [p2["error_message" if f.is_error else "warning_message"].format(message=f.message)
            for f in ordered(findings)]


def exclusion_text(findings, campaign, sep="\n"):
    """P2: :func:`exclusion_lines` joined (one per line by default)."""
    return sep.join(exclusion_lines(findings, campaign))


def is_identity_error(finding, campaign):
    """P2: an error that cannot be overruled in 审定 (E16; E20 on 企业名称, 统一社会信用代码,
    申请类别 — the campaign's P2 ``identity`` table)."""
    if not finding.is_error:
        return False
    keys = campaign.deciding["P2"]["identity"].get(finding.code)
    if keys is None:
        return False
    return not keys or finding.field in keys


def identity_errors(findings, campaign):
    """P2: the findings that cannot be overruled, in order."""
    return tuple(f for f in findings if is_identity_error(f, campaign))


def problems_text(findings, campaign):
    """The errors an override overrules, each its message (words, then code), joined."""
    return "；".join(f.message for f in findings if f.is_error)


def override_refusal(campaign, row, findings, reason, reason_field="审定理由"):
    """P2: why an 审定 level above 不达标 for an excluded application is refused, or None.

    Identity errors are never overruled; any other exclusion needs a reason.

    Returns:
        one Chinese line, or None when the override may be recorded.
    """
    p2 = campaign.deciding["P2"]
    ident = identity_errors(findings, campaign)
    if ident:
        return p2["identity_message"].format(
            row=row, problems="、".join(f.message for f in ident))
    if not (reason or "").strip():
        return p2["reason_message"].format(row=row, reason_field=reason_field,
                                           problems=problems_text(findings, campaign))
    return None


def override_reason(campaign, findings, reason):
    """P2: the reason recorded with an override; it names the codes it overrules."""
    return campaign.deciding["P2"]["override_message"].format(
        problems=problems_text(findings, campaign), reason=reason.strip())


# ---------------------------------------------------------------------- P1 levels
def highest_level(campaign, category, applied):
    """P1: the highest level a decision may give — the applied level and the category's
    cap (K3), whichever is lower; the top level when neither is known.

    Args:
        category: the category name (or None); applied: the applied rank (or None).
    Returns:
        rank
    """
    cat = campaign.category(category) if category else None
    bounds = [r for r in (applied, cat.cap if cat else None) if r]
    return min(bounds) if bounds else max(lv.rank for lv in campaign.levels)


def level_refusal(campaign, row, field_name, rank, category, applied):
    """P1: the line that refuses a typed level above :func:`highest_level`, or None.

    Args:
        row: :func:`row_text`; field_name: the column (合议等级, 现场评审后等级, 审定等级);
        rank: the typed level's rank (0 = 不达标); category, applied: the application's.
    Returns:
        one Chinese line naming the row, the rule (P1) and the highest allowed level, or None.
    """
    if rank is None:
        return None
    top = highest_level(campaign, category, applied)
    if rank <= top:
        return None
    p1 = campaign.deciding["P1"]
    cat = campaign.category(category) if category else None
    why = []
    if applied and applied == top:
        why.append(p1["applied_message"].format(applied=campaign.level(applied).applied))
    if cat and cat.cap == top and cat.cap < max(lv.rank for lv in campaign.levels):
        why.append(p1["cap_message"].format(category=cat.name,
                                            cap=campaign.level(cat.cap).applied))
    return p1["refused_message"].format(row=row, field=field_name,
                                        value=_level_word(campaign, rank),
                                        highest=_level_word(campaign, top),
                                        why="，".join(why))


def needs_reason(rank, achievable):
    """P1: a level above the achievable level of the experts' conclusion (L5 with the
    experts' S4) needs a reason. Unknown levels need none."""
    return rank is not None and achievable is not None and rank > achievable


def reason_refusal(campaign, row, field_name, rank, achievable, reason, reason_field):
    """P1: the line that refuses a level above the achievable one typed without a reason,
    or None."""
    if not needs_reason(rank, achievable) or (reason or "").strip():
        return None
    return campaign.deciding["P1"]["reason_message"].format(
        row=row, field=field_name, value=_level_word(campaign, rank),
        achievable=_level_word(campaign, achievable), reason_field=reason_field)


# ---------------------------------------------------------------------- P3 warnings
def confirm_codes(campaign):
    """P3: the warning codes staff must confirm, from the campaign."""
    return campaign.deciding["P3"]["confirm"]


def to_confirm(findings, campaign):
    """P3: an application's warnings that staff must confirm, in order."""
    codes = set(confirm_codes(campaign))
    return tuple(f for f in findings if not f.is_error and f.code in codes)


def confirmed_codes(text, findings, campaign):
    """P3: the codes a 核实 cell confirms.

    Blank: none. A text that names codes (“E06 已电话核实”): those codes. A text that starts
    with a confirming word of the campaign (已核实, 是, √ …): every warning to confirm.
    Anything else (“否”, “待核实”): none, and it is not readable as a confirmation.

    Returns:
        (frozenset of codes, readable)
    """
    t = str(text or "").strip()
    if not t:
        return frozenset(), True
    wanted = {f.code for f in to_confirm(findings, campaign)}
    named = set(re.findall(r"[EM]\d{2}", t.upper()))
    if named:
        return frozenset(named & wanted), True
    if any(t.startswith(w) for w in campaign.deciding["P3"]["confirm_words"]):
        return frozenset(wanted), True
    return frozenset(), False


def open_warnings(findings, confirmed, campaign):
    """P3: the warnings to confirm that are not yet confirmed."""
    return tuple(f for f in to_confirm(findings, campaign) if f.code not in set(confirmed))


def warnings_text(findings):
    """Warnings as one clause: their messages (words, then code), joined."""
    return "；".join(f.message for f in findings)


def warning_lines(findings, confirmed, campaign):
    """P2, P3: the lines of an application's 提醒 cell in 合议 and 审定 — every warning with
    its words, in order; one staff must confirm reads 须核实：… until it is confirmed, then
    已核实：…; any other reads 提醒：…."""
    p2, p3 = campaign.deciding["P2"], campaign.deciding["P3"]
    codes, done = set(confirm_codes(campaign)), set(confirmed)
    out = []
    for f in findings:
        if f.is_error:
            continue
        if f.code in codes:
            key = "confirmed_message" if f.code in done else "open_message"
            out.append(p3[key].format(message=f.message))
        else:
            out.append(p2["warning_message"].format(message=f.message))
    return out


# ---------------------------------------------------------------------- P4 scoring
def is_pending(n, k):
    """P4: 待补评 — fewer valid expert scores (n) than the experts each application needs
    (k, the 分配表's number)."""
    return n is not None and k is not None and n < k


def pending_word(campaign):
    return campaign.deciding["P4"]["status"]


def pending_line(campaign, row, n, k):
    return campaign.deciding["P4"]["line_message"].format(row=row, n=n, k=k)


# ---------------------------------------------------------------------- blockers (公示, 发布)
@dataclass(frozen=True)
class Candidate:
    """An application on the list to publish, as the blockers see it.

    Args:
        where: its 审定 row ("审定!第 7 行"); rank: the 审定 level (> 0);
        findings: its findings; confirmed: codes confirmed in 核实;
        scores: (valid scores, needed) — None for an application not reviewed (an
        override of an exclusion, which P2 handles).
    """

    where: str
    org_name: str
    project_name: str
    uscc: str
    rank: int
    findings: tuple = ()
    confirmed: frozenset = field(default_factory=frozenset)
    scores: tuple | None = None

    @property
    def row(self):
        return row_text(self.where, self.org_name, self.project_name)


def _folded(v):
    return norm(v or "").replace(" ", "")


def same_pairs(candidates):
    """P6: groups (two or more) of candidates that are one organisation + project: the same
    name and project, or the same USCC and project (E35); in list order."""
    parent = list(range(len(candidates)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    seen = {}
    for i, c in enumerate(candidates):
        keys = [("name", _folded(c.org_name), _folded(c.project_name))]
        if _folded(c.uscc):
            keys.append(("uscc", _folded(c.uscc).upper(), _folded(c.project_name)))
        for key in keys:
            if key in seen:
                parent[root(i)] = root(seen[key])
            else:
                seen[key] = i
    groups = {}
    for i in range(len(candidates)):
        groups.setdefault(root(i), []).append(candidates[i])
    return [g for g in groups.values() if len(g) > 1]


def _blocked(campaign, rid, lines, action):
    if not lines:
        return []
    head = campaign.deciding[rid]["blocked_message"].format(count=len(lines), action=action)
    return [head] + [f"  {x}" for x in lines]


def pair_lines(campaign, candidates):
    """P6: one line per organisation + project listed more than once."""
    out = []
    for g in same_pairs(candidates):
        results = "、".join(f"{c.where} {c.org_name}（{c.uscc or '无统一社会信用代码'}）"
                           f"{_level_word(campaign, c.rank)}" for c in g)
        out.append(campaign.deciding["P6"]["line_message"].format(
            subject=row_text("", g[0].org_name, g[0].project_name), org=g[0].org_name,
            project=g[0].project_name or "—", count=len(g), results=results))
    return out


def blockers(candidates, campaign, action="公示"):
    """What stops 公示 (``action`` = "公示") or 发布 (= "发布"): P3 unconfirmed warnings,
    P4 待补评 rows, P6 one organisation + project listed twice — each a heading line and one
    line per application, in Chinese; empty when nothing stops it.

    Args:
        candidates: Candidate list (the applications on the list, 审定 level > 0).
    Returns:
        list of str
    """
    listed = [c for c in candidates if c.rank]
    p3 = []
    for c in listed:
        left = open_warnings(c.findings, c.confirmed, campaign)
        if left:
            p3.append(campaign.deciding["P3"]["line_message"].format(
                row=c.row, warnings=warnings_text(left)))
    p4 = [pending_line(campaign, c.row, *c.scores) for c in listed
          if c.scores is not None and is_pending(*c.scores)]
    return (_blocked(campaign, "P3", p3, action) + _blocked(campaign, "P4", p4, action)
            + _blocked(campaign, "P6", pair_lines(campaign, listed), action))


def publicize_blockers(candidates, campaign):
    """:func:`blockers` for `saq stage publicize` (P3, P4, P6)."""
    return blockers(candidates, campaign, "公示")


def publish_blockers(candidates, campaign):
    """:func:`blockers` for `saq stage publish`: the same checks again (decisions may have
    changed after 公示), P6 above all (RULES.md P6)."""
    return blockers(candidates, campaign, "发布")


# ---------------------------------------------------------------------- L6 sentence
def onsite_reason(campaign, category, applied, proposed):
    """L6: why this application needs 现场评审, from the campaign's onsite_review rule
    (by the applied level, or by the proposed one), e.g.
    "服务类申请标杆级，须现场评审（L6）；专家评审建议用户满意标杆（五星）"."""
    lv = campaign.level(applied) if applied else None
    pv = campaign.level(proposed) if proposed else None
    proposed_text = f"{pv.name}（{pv.stars}）" if pv else campaign.level_name(proposed)
    if campaign.onsite.get("by", "applied") == "applied":
        return (f"{category}申请{lv.applied if lv else '（未填）'}，须现场评审（L6）；"
                f"专家评审建议{proposed_text}")
    return f"{category}建议等级为{proposed_text}，须现场评审（L6）"


def onsite_sentence(campaign):
    """L6 as one sentence for the 现场评审 sheet's note, from the campaign."""
    return f"现场评审（通知 §四(六)，L6）：{onsite_text(campaign)}。"
