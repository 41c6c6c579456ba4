"""The two review steps as the CLI and the ribbon call them (thin over the pure modules)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from xl_addin.errors import InputFileError, OutputFileError
from xl_addin.review import manifest as mf
from xl_addin.review.aggregate import NO_FILE, NO_ROW, settings
from xl_addin.review.assign import add_experts, assign
from xl_addin.review.collect import collect
from xl_addin.review.expert_form import assignment_id, write_expert_workbook
from xl_addin.review.expert_table import WORDS
from xl_addin.review.experts import read_experts, write_template
from xl_addin.review.master import read_master
from xl_addin.review.results import write_results

_UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')


@dataclass
class AssignRun:
    folder: Path
    manifest: object
    shortfalls: list
    problems: list = field(default_factory=list)
    workbooks: list = field(default_factory=list)
    template: Path | None = None  # written when the experts file did not exist


def workbook_name(expert_name):
    """File name of an expert's workbook (characters Windows forbids replaced)."""
    return f"专家评分表_{_UNSAFE.sub('_', expert_name).strip('_') or '专家'}.xlsx"


def run_assign(master, experts_path, folder, campaign, k=None):
    """`saq review assign`: read master and experts, assign, write the workbooks and 分配表.

    When ``experts_path`` does not exist, the experts.xlsx template is written there instead
    and nothing is assigned (``AssignRun.template`` is set).

    Returns:
        AssignRun
    Raises:
        InputFileError, OutputFileError
    """
    k = settings(campaign, k)["k"]
    out = Path(folder)
    ep = Path(experts_path)
    if not ep.exists():
        return AssignRun(out, None, [], template=write_template(ep, campaign))
    if out.exists() and not out.is_dir():
        raise OutputFileError(out, "已存在同名文件，不是文件夹")
    apps, mproblems = read_master(master, campaign)
    elist = read_experts(ep, campaign)
    if not elist.experts:
        raise InputFileError(ep, "没有可用的专家（姓名列为空？）")
    result = assign(apps, elist.experts, k)
    problems = [(Path(master).name, f"第 {r} 行", m) for r, m in mproblems] + \
               [(ep.name, f"第 {r} 行", m) for r, m in elist.problems]
    by_expert = result.by_expert()
    byid = {a.id: a for a in apps}
    man = mf.Manifest(k, apps, result.by_app, elist.experts,
                      not_assigned=[(byid[i], why) for i, why in result.not_assigned])
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for e in elist.experts:
        ids = by_expert.get(e.name, [])
        if not ids:
            continue
        name = workbook_name(e.name)
        n = 2
        while name in man.files.values():  # two names that sanitise alike
            name = workbook_name(f"{e.name}_{n}")
            n += 1
        written.append(write_expert_workbook(out / name, campaign, e, [byid[i] for i in ids]))
        man.files[e.name] = name
        man.assignment_ids[e.name] = assignment_id(e.name, ids)
    mf.write_manifest(out / mf.FILE_NAME, campaign, man, result.shortfalls, problems)
    return AssignRun(out, man, result.shortfalls, problems, written)


@dataclass
class AddRun:
    folder: Path
    manifest: object
    added: dict  # app id -> tuple of added expert names
    shortfalls: list
    workbooks: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    why: dict = field(default_factory=dict)  # app id -> {回避 / 未交回 / 未完成或填写无效: n}
    busy: list = field(default_factory=list)  # experts not chosen: they owe scores (P4)
    waiting: dict = field(default_factory=dict)  # app id -> added experts not back yet
    returned: bool = True  # any expert workbook came back at all


RECUSED, NOT_BACK, UNFINISHED = "回避", "未交回", "未完成或填写无效"


def _missing_kind(s):
    """Why a score is not valid: recused; not back (no workbook, no row, or the row still
    blank as it was sent — the workbooks are written into the folder the experts' copies
    come back to); or started but incomplete or invalid."""
    if s.recused:
        return RECUSED
    return NOT_BACK if s.status in (NO_FILE, NO_ROW, WORDS["empty"]) else UNFINISHED


def shortages(review, batches, again=False):
    """What `saq review add` must replace (RULES.md P4): per application, the valid scores
    it lacks — an expert recused, never returned his workbook, or left the row incomplete
    or invalid — less the experts added earlier who have not returned their new workbook
    yet (unless ``again``). The experts who still owe scores are never chosen.

    Returns:
        (needs, why, waiting, busy): app id -> how many more experts; app id -> {kind: n};
        app id -> names added earlier and not back; names of the experts who owe scores.
    """
    added = {(app_id, b.expert) for b in batches for app_id in b.app_ids}
    needs, why, waiting, busy = {}, {}, {}, []
    for a in review.apps:
        for s in a.scores:
            if not s.counted and not s.recused and s.expert not in busy:
                busy.append(s.expert)
        late = [s.expert for s in a.scores if (a.app.id, s.expert) in added
                and _missing_kind(s) == NOT_BACK]
        if late and not again:
            waiting[a.app.id] = tuple(late)
        short = a.k - a.n - (0 if again else len(late))
        if short > 0:
            needs[a.app.id] = short
            kinds = {}
            for s in a.scores:
                if not s.counted and (again or s.expert not in late):
                    kinds[_missing_kind(s)] = kinds.get(_missing_kind(s), 0) + 1
            why[a.app.id] = kinds
    return needs, why, waiting, busy


def run_add(folder, campaign, experts_path=None, again=False):
    """`saq review add`: give applications short of valid scores more experts (RULES.md P4).

    An application is short when it has fewer valid scores than k: an expert recused, never
    returned his workbook, or left its row incomplete or invalid. Experts added by an
    earlier run who have not returned their new workbook are waited for (``again``: they
    are replaced too). New experts come from the 分配表's list, plus anyone new in
    ``experts_path``; an expert who still owes scores is never chosen. Each expert who gets
    applications receives a new workbook (``…_增派n.xlsx``) holding only those; every
    workbook already written or returned, and every score in it, stays as it is.
    分配表.xlsx is rewritten with the added experts and the new workbooks.

    Returns:
        AddRun
    Raises:
        InputFileError, OutputFileError
    """
    out = Path(folder)
    res = collect(out, campaign)
    man = res.manifest
    experts = list(man.experts)
    problems = []
    if experts_path:
        elist = read_experts(Path(experts_path), campaign)
        known = {e.name for e in experts}
        experts += [e for e in elist.experts if e.name not in known]
        problems = [(Path(experts_path).name, f"第 {r} 行", m) for r, m in elist.problems]
    returned = any(s.counted or _missing_kind(s) != NOT_BACK
                   for a in res.review.apps for s in a.scores)
    if not returned:  # nobody has returned anything: nothing is known to be missing yet
        return AddRun(out, man, {}, [], problems=problems, returned=False)
    needs, why, waiting, busy = shortages(res.review, man.batches, again)
    free = [e for e in experts if e.name not in set(busy)]
    added, shortfalls = add_experts(man.apps, free, man.by_app, needs,
                                    left_out=len(experts) - len(free))
    run = AddRun(out, man, added, shortfalls, problems=problems, why=why,
                 busy=[n for n in busy if any(n == e.name for e in experts)], waiting=waiting)
    if not added:
        return run
    byid = {a.id: a for a in man.apps}
    per_expert = {}
    for app_id, names in added.items():
        man.by_app[app_id] = tuple(man.by_app.get(app_id, ())) + names
        for n in names:
            per_expert.setdefault(n, []).append(app_id)
    man.experts = experts
    order = {a.id: i for i, a in enumerate(man.apps)}
    for e in experts:
        ids = sorted(per_expert.get(e.name, ()), key=order.get)
        if not ids:
            continue
        number = 1 + sum(1 for b in man.batches if b.expert == e.name)
        name = workbook_name(f"{e.name}_增派{number}")
        n = 2
        taken = set(man.files.values()) | {b.file for b in man.batches}
        while name in taken or (out / name).exists():
            name = workbook_name(f"{e.name}_增派{number}_{n}")
            n += 1
        run.workbooks.append(write_expert_workbook(out / name, campaign, e,
                                                   [byid[i] for i in ids], batch=number))
        man.batches.append(mf.Batch(number, e.name, name, assignment_id(e.name, ids),
                                    tuple(ids)))
    mf.write_manifest(out / mf.FILE_NAME, campaign, man, shortfalls,
                      list(man.problems) + problems)
    return run


def add_summary(run):
    """Chinese lines for the terminal after `saq review add`."""
    if not run.returned:
        return ["尚未收到任何专家评分表：专家交回评分表后，再为回避、未交回或未完成的评分增派专家（P4）。"]
    lines = []
    if run.added:
        n = sum(len(v) for v in run.added.values())
        kinds = {}
        for app_id in run.added:
            for k, c in run.why.get(app_id, {}).items():
                kinds[k] = kinds.get(k, 0) + c
        because = "、".join(f"{k} {kinds[k]} 人次" for k in (RECUSED, NOT_BACK, UNFINISHED)
                           if kinds.get(k))
        lines.append(f"已为 {len(run.added)} 份申请增派 {n} 人次专家" +
                     (f"（缺少的评分：{because}）" if because else "") +
                     f"；{len(run.workbooks)} 份增派评分表已写入 {run.folder}。")
        lines.append("已有的评分表与已填的评分未改动。")
        for b in run.manifest.batches[-len(run.workbooks):]:
            lines.append(f"  {b.expert}：{b.file}（{len(b.app_ids)} 份申请）")
    elif not run.shortfalls:
        lines.append("没有需要增派专家的申请。")
    if run.busy and (run.added or run.shortfalls):
        lines.append(f"未增派给尚欠评分的专家（未交回或未完成自己的评分）：{'、'.join(run.busy)}。")
    if run.waiting:
        first = next(iter(run.waiting.items()))
        lines.append(f"{len(run.waiting)} 份申请已增派的专家尚未交回评分表（如 申请 {first[0]}："
                     f"{'、'.join(first[1])}），暂不另派；如需另派，请加 --again。")
    for s in run.shortfalls:
        lines.append(f"注意：申请 {s.app_id} 仍缺专家（已分配 {s.got} 位，需 {s.needed} 位）：{s.reason}")
    for src, where, msg in run.problems:
        lines.append(f"提示：{src} {where}：{msg}")
    if run.added:
        lines.append(f"分配表已更新：{run.folder / mf.FILE_NAME}")
    return lines


def run_collect(folder, output, campaign, publication_start=None):
    """`saq review collect`: read the folder, aggregate, write the results workbook.

    Returns:
        (CollectResult, Path written)
    """
    res = collect(folder, campaign, publication_start, skip=[output])
    return res, write_results(output, campaign, res)


def assign_summary(run):
    """Chinese lines for the terminal after `saq review assign`."""
    if run.template:
        return [f"专家名单不存在，已生成空白模板：{run.template}",
                "请填写姓名、单位、回避单位、专业后重新运行本命令。"]
    m = run.manifest
    loads = {}
    for names in m.by_app.values():
        for n in names:
            loads[n] = loads.get(n, 0) + 1
    lines = [f"已分配 {len(m.by_app)} 份申请，每份 {m.k} 位专家；"
             f"{len(run.workbooks)} 位专家的评分表已写入 {run.folder}。"]
    if loads:
        lines.append(f"专家负荷：最少 {min(loads.get(e.name, 0) for e in m.experts)} 份，"
                     f"最多 {max(loads.values())} 份。")
    if m.not_assigned:
        lines.append(f"{len(m.not_assigned)} 份申请有错误，未参加评审（见分配表“未参加评审”）。")
    for s in run.shortfalls:
        lines.append(f"注意：申请 {s.app_id} 仅分配到 {s.got} 位专家（需 {s.needed} 位）：{s.reason}")
    for src, where, msg in run.problems:
        lines.append(f"提示：{src} {where}：{msg}")
    lines.append(f"分配表：{run.folder / mf.FILE_NAME}")
    return lines


def collect_summary(res, path):
    """Chinese lines for the terminal after `saq review collect`."""
    rv = res.review
    used = sum(1 for f in res.files if f.status == "已使用")
    bad = [f for f in res.files if f.status == "已拒收"]
    lines = [f"读取 {len(res.files)} 个文件：{used} 份专家评分表已使用，{len(bad)} 个已拒收。"]
    for f in bad:
        lines.append(f"  已拒收 {f.rel}：{f.reason}")
    done = sum(1 for a in rv.apps if a.complete)
    lines.append(f"{done}/{len(rv.apps)} 份申请评分已完成；现场评审 {len(rv.onsite)} 份，"
                 f"入围标杆级 {len(rv.shortlist)} 份，公示 {len(rv.publication_list)} 份。")
    if rv.below_k:
        lines.append(f"{len(rv.below_k)} 份申请有效评分不足（见“评分不足”与“进度”工作表）。")
    if res.extra_rows:
        lines.append(f"{len(res.extra_rows)} 行未计入（见“文件清单”）。")
    lines.append(f"结果已写入 {path}")
    return lines
