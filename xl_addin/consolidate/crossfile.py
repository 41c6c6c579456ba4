"""Rules that need several files (RULES.md E25, E26, E35) and the matching of 附件3 rows to
applicant workbooks. Unmatched workbooks and unmatched rows both stay (issue 4 §3).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import PurePosixPath

from xl_addin.consolidate.collect import app_flags, row_flags
from xl_addin.consolidate.model import Entry, FlagRecord
from xl_addin.rules import parse
from xl_addin.rules.checks import show

SATISFACTION_TOLERANCE = 1e-6
# E26 compares these 附件3 columns with the workbook (RULES.md E26): row key -> how to get
# the workbook's value from its evaluation.
E26_FIELDS = (
    ("org_name", lambda ev: ev.values.get("org_name")),
    ("category", lambda ev: ev.values.get("category")),
    ("level", lambda ev: ev.values.get("level")),
    ("satisfaction", lambda ev: ev.values.get("satisfaction")),
    ("self_score", lambda ev: ev.rubric.total if ev.rubric else None),
)


def app_key(values):
    """The key of an application (E25): 统一社会信用代码 + 类别 + 项目名称, normalised."""
    uscc = (values.get("uscc") or "").upper().replace(" ", "")
    project = parse.norm(values.get("project_name") or "").replace(" ", "")
    return uscc, values.get("category") or "", project


def key_text(key):
    return "|".join(key)


def _name(values):
    return parse.norm(values.get("org_name") or "").replace(" ", "")


def match(apps, rows):
    """Pair each 附件3 row with at most one applicant workbook.

    Order of preference: same full key; same USCC and category; same USCC and project; the
    only workbook with that USCC. Rows without a USCC match by organisation name + category.
    Returns:
        list of Entry (matched pairs, then lone workbooks, then lone rows; input order).
    """
    by_uscc, by_name = defaultdict(list), defaultdict(list)
    for a in apps:
        k = app_key(a.evaluation.values)
        if k[0]:
            by_uscc[k[0]].append(a)
        by_name[(_name(a.evaluation.values), k[1])].append(a)
    taken, pairs = set(), {}
    for r in rows:
        rk = app_key(r.evaluation.values)
        if rk[0]:
            cands = [a for a in by_uscc.get(rk[0], []) if id(a) not in taken]
            tests = (lambda a, rk=rk: app_key(a.evaluation.values) == rk,
                     lambda a, rk=rk: app_key(a.evaluation.values)[1] == rk[1],
                     lambda a, rk=rk: app_key(a.evaluation.values)[2] == rk[2])
        else:
            cands = [a for a in by_name.get((_name(r.evaluation.values), rk[1]), [])
                     if id(a) not in taken]
            tests = ()
        hit = None
        for t in tests:
            hits = [a for a in cands if t(a)]
            if hits:
                hit = hits[0]
                break
        if hit is None and len(cands) == 1:
            hit = cands[0]
        if hit is not None:
            taken.add(id(hit))
            pairs[id(r)] = hit
    entries = []
    for r in rows:
        if id(r) in pairs:
            entries.append(Entry(app=pairs[id(r)], row=r))
    entries += [Entry(app=a) for a in apps if id(a) not in taken]
    entries += [Entry(row=r) for r in rows if id(r) not in pairs]
    return entries


def _same(key, a, b):
    if a is None or b is None:
        return a is None and b is None
    if key in ("satisfaction", "self_score"):
        return abs(float(a) - float(b)) <= SATISFACTION_TOLERANCE
    if key == "org_name":
        return parse.norm(a).replace(" ", "") == parse.norm(b).replace(" ", "")
    return a == b


def _shown(campaign, key, v):
    if key == "level" and v is not None:
        return campaign.level(v).applied if campaign.level(v) else show(v)
    return show(v)


def e26(entry, campaign, labels):
    """E26: a 附件3 row that disagrees with the applicant's own workbook."""
    spec = campaign.flags["E26"]
    out = []
    rv, ev = entry.row.evaluation.values, entry.app.evaluation
    for key, get in E26_FIELDS:
        if key in entry.row.evaluation.values and key not in _unreadable(entry.row):
            a, b = rv.get(key), get(ev)
            if b is None and a is None:
                continue
            if not _same(key, a, b):
                sheet, cell = entry.row.cells.get(key, (entry.row.sheet, ""))
                msg = spec["message"].format(label=labels[key], row_value=_shown(campaign, key, a),
                                             app_value=_shown(campaign, key, b))
                out.append(FlagRecord("E26", spec["severity"], msg, key, entry.row.file.rel,
                                      sheet, cell))
    return out


def _unreadable(row):
    return {f.field for f in row.evaluation.flags if f.code == "E23"}


def _file_name(rel):
    return PurePosixPath(str(rel).replace("\\", "/")).name


def describe(entry):
    """Where an entry comes from, for a message read in the master, 合议 and 审定: its
    recommender and file name as ``推荐单位/文件名`` (with every folder, a dossier's among
    them, the line grew long and hard to read; the words around it are the campaign's), or a
    附件3 file (named after its recommender) and row."""
    if entry.app is not None:
        rec = entry.recommender
        name = _file_name(entry.app.file.rel)
        return f"{rec}/{name}" if rec else name
    return f"{_file_name(entry.row.file.rel)} 第 {entry.row.excel_row} 行"


def e25(entries, campaign):
    """E25: the same application (USCC + category + project) more than once."""
    spec = campaign.flags["E25"]
    groups = defaultdict(list)
    for e in entries:
        k = app_key(e.values)
        if k[0] and k[1]:
            groups[k].append(e)
    for group in groups.values():
        if len(group) < 2:
            continue
        for e in group:
            others = "、".join(describe(o) for o in group if o is not e)
            msg = spec["message"].format(other=others)
            if e.app is not None:
                sheet, cell = e.app.locations.get("uscc", ("", ""))
                f = e.app.file.rel
            else:
                sheet, cell = e.row.cells.get("uscc", (e.row.sheet, ""))
                f = e.row.file.rel
            e.flags.append(FlagRecord("E25", spec["severity"], msg, "uscc", f, sheet, cell))


def _project(values):
    return parse.norm(values.get("project_name") or "").replace(" ", "")


def _where(e, key):
    """(file, sheet, cell) of an entry's field, for 问题清单."""
    if e.app is not None:
        sheet, cell = e.app.locations.get(key, ("", ""))
        return e.app.file.rel, sheet, cell
    sheet, cell = e.row.cells.get(key, (e.row.sheet, ""))
    return e.row.file.rel, sheet, cell


def _typed(e, key, campaign):
    """A field as the applicant typed it (names are shown exactly, issue 14)."""
    if e.app is not None:
        raw = e.app.raw.get(key)
    else:
        labels = {f.key: f.label for f in campaign.fields["recommendation_row"]}
        raw = e.row.raw.get(labels.get(key))
    raw = str(raw).strip() if raw is not None else ""
    return raw or str(e.values.get(key) or "")


def e35(entries, campaign):
    """E35 (RULES.md P6): one organisation + project under several 统一社会信用代码 (same
    申请组织名称 + 申报项目名称), or one 统一社会信用代码 + 申报项目名称 under several names.
    Every entry of such a group is flagged, naming the others; 审定 settles it (P3)."""
    spec = campaign.flags["E35"]
    by_name, by_uscc = defaultdict(list), defaultdict(list)
    for e in entries:
        uscc = app_key(e.values)[0]
        if _name(e.values):
            by_name[(_name(e.values), _project(e.values))].append(e)
        if uscc:
            by_uscc[(uscc, _project(e.values))].append(e)
    # (group, how an entry's differing value is read, the field flagged, the message)
    checks = [(by_name, lambda e: app_key(e.values)[0], "uscc", spec["message"]),
              (by_uscc, lambda e: _name(e.values), "org_name", spec["names_message"])]
    for groups, value, key, template in checks:
        for group in groups.values():
            shown = {}
            for e in group:
                v = value(e)
                if v:
                    shown.setdefault(v, _typed(e, key, campaign) or v)
            if len(shown) < 2:
                continue
            for e in group:
                if not value(e):  # no USCC (or name): E20 says so, not E35
                    continue
                others = "、".join(describe(o) for o in group
                                  if value(o) and value(o) != value(e))
                msg = template.format(other=others, values="、".join(shown.values()))
                e.flags.append(FlagRecord("E35", spec["severity"], msg, key, *_where(e, key)))


def build_entries(apps, rows, campaign):
    """Match, then attach every flag: the engine's, E26, E25 and E35.

    A matched row's own flags repeat the workbook's: they are kept apart (``row_flags``,
    listed under the 附件3 file) and not counted twice; its disagreements with the workbook
    are E26. A row without a workbook keeps its own flags.
    """
    labels = {f.key: f.label for f in campaign.fields["recommendation_row"]}
    entries = match(apps, rows)
    for e in entries:
        if e.app is not None:
            e.flags.extend(app_flags(e.app))
            if e.row is not None:
                e.flags.extend(e26(e, campaign, labels))
                e.row_flags = row_flags(e.row)
        else:
            e.flags.extend(row_flags(e.row))
    e25(entries, campaign)
    e35(entries, campaign)
    return entries
