"""Read the experts' returned workbooks from a folder and account for every file and row.

Every file of the folder ends up in the file list as 已使用, 已忽略 or 已拒收 with a Chinese
reason; every assigned (application, expert) pair gets exactly one ExpertScore; a row that
matches no assignment is listed, not dropped. Nothing here raises on a bad submission.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from xl_addin.errors import InputFileError
from xl_addin.files import list_files
from xl_addin.review import manifest as mf
from xl_addin.review.aggregate import COUNTED, NO_ROW, ExpertScore, aggregate
from xl_addin.review.expert_form import TEMPLATE_ID
from xl_addin.review.expert_table import TABLE, WORDS, columns, read_row
from xl_addin.review.xlread import _key, find_table, open_workbook, read_meta, table_rows
from xl_addin.rules import parse

USED, IGNORED, REJECTED = "已使用", "已忽略", "已拒收"
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".et")
OTHER_KINDS = {"saq-application": "申请书", "saq-recommender": "推荐表", "saq-master": "汇总表",
               mf.TEMPLATE_ID: "分配表", "saq-review-results": "评审结果",
               "saq-experts-list": "专家名单"}


@dataclass
class FileEntry:
    rel: str
    status: str
    reason: str = ""
    expert: str = ""
    rows: int = 0
    counted: int = 0


@dataclass
class ParsedBook:
    entry: FileEntry
    expert: str
    rows: dict  # app id -> (sheet row, ExpertScore)
    extra: list  # (sheet row, Chinese reason)
    batch: int = 0  # 0 = the first workbook; n = the n-th `saq review add` for this expert


@dataclass
class CollectResult:
    manifest: object
    review: object  # aggregate.ReviewResult
    files: list
    extra_rows: list = field(default_factory=list)  # (file, row, reason)


def collect(folder, campaign, publication_start=None, skip=()):
    """Read 分配表.xlsx and the expert workbooks in ``folder`` and aggregate them.

    Args:
        folder: the folder `saq review assign` wrote (experts' returned files put back in it,
            sub-folders allowed).
        publication_start: first day of 公示 (default from the campaign, see aggregate).
        skip: paths not to read (the results file being written).
    Returns:
        CollectResult
    Raises:
        InputFileError: the folder or its 分配表.xlsx is missing or unreadable.
    """
    root = Path(folder)
    if not root.is_dir():
        raise InputFileError(root, "不是文件夹")
    man = mf.read_manifest(root / mf.FILE_NAME, campaign)
    assigned = {}
    for app_id, names in man.by_app.items():
        for n in names:
            assigned.setdefault(n, set()).add(app_id)
    apps = {a.id: a for a in man.apps}
    skip = {Path(s).resolve() for s in skip}
    files, books = [], []
    for rec in list_files(root):  # every entry, names made showable (issue 12 §5, §8)
        p, rel = rec.path, rec.rel
        if rec.status:  # a link, a pipe, a folder that cannot be opened, a path too long
            files.append(FileEntry(rel, rec.status, rec.reason))
            continue
        if p.resolve() in skip or p.name == mf.FILE_NAME:
            files.append(FileEntry(rel, IGNORED, "本程序生成的文件，未读取"))
            continue
        got = _read_book(p, rel, campaign, man, assigned, apps)
        if isinstance(got, FileEntry):
            files.append(got)
        else:
            books.append(got)
    chosen = _choose(books, files)
    batch_of = {(app_id, b.expert): b.number for b in man.batches for app_id in b.app_ids}
    scores, extra = {}, []
    for b in chosen.values():
        for app_id, (_, s) in b.rows.items():
            scores[(app_id, b.expert)] = s
        extra += [(b.entry.rel, r, why) for r, why in b.extra]
    for b in chosen.values():
        # An application the expert's workbook of its batch does not list (a missing
        # workbook of another batch leaves it to aggregate's 未收到评分表).
        for app_id in sorted(assigned.get(b.expert, ())):
            if (app_id, b.expert) not in scores and batch_of.get((app_id, b.expert), 0) == b.batch:
                scores[(app_id, b.expert)] = ExpertScore(b.expert, NO_ROW)
    review = aggregate(campaign, man.apps, man.by_app, scores, man.k, publication_start,
                       man.not_assigned)
    files.sort(key=lambda f: f.rel)
    return CollectResult(man, review, files, extra)


def _choose(books, files):
    """One workbook per expert and batch: the one with most counted rows, then the later
    file name."""
    by_expert = {}
    for b in books:
        by_expert.setdefault((b.expert, b.batch), []).append(b)
    chosen = {}
    for (name, _), group in by_expert.items():
        group.sort(key=lambda b: (b.entry.counted, b.entry.rel), reverse=True)
        chosen[(name, group[0].batch)] = group[0]
        group[0].entry.status = USED
        files.append(group[0].entry)
        for other in group[1:]:
            other.entry.status = IGNORED
            other.entry.reason = f"同一专家（{name}）另有评分表 {group[0].entry.rel}，已使用该文件"
            files.append(other.entry)
    return chosen


def _read_book(p, rel, campaign, man, assigned, apps):
    if p.name.startswith("~$"):
        return FileEntry(rel, IGNORED, "Excel 临时锁定文件")
    if p.suffix.lower() not in WORKBOOK_SUFFIXES:
        return FileEntry(rel, IGNORED, "不是 Excel 工作簿")
    try:
        wb = open_workbook(p)
    except InputFileError as e:
        return FileEntry(rel, REJECTED, str(e))
    try:
        meta = read_meta(wb)
        tid = meta.get("template_id")
        if tid in OTHER_KINDS:
            return FileEntry(rel, IGNORED, f"{OTHER_KINDS[tid]}，不是专家评分表")
        if tid != TEMPLATE_ID:
            return FileEntry(rel, REJECTED, "不是本活动生成的专家评分表（缺少 _meta 工作表或模板类型不符），"
                                            "请使用分配时下发的评分表")
        if str(meta.get("campaign_year")) != str(campaign.year):
            return FileEntry(rel, REJECTED, f"评分表属于 {meta.get('campaign_year')} 年活动")
        expert = parse.text(meta.get("expert_name")) or ""
        if expert not in assigned and expert not in {e.name for e in man.experts}:
            return FileEntry(rel, REJECTED, f"评分表的专家“{expert}”不在分配表中")
        cols = columns(campaign)
        label_key = {_key(c.label): c.key for c in cols}
        first_part = next(c for c in cols if c.key == campaign.rubric.parts[0].key)
        must = ["申请编号", first_part.label]
        where = find_table(wb, TABLE, must)
        if where is None:
            return FileEntry(rel, REJECTED, "找不到评分表格（expert_scores，含“申请编号”等列）",
                             expert)
        entry = FileEntry(rel, USED, "", expert)
        try:
            batch = parse.integer(meta.get("batch")) or 0
        except parse.Unreadable:
            batch = 0
        want_id = man.assignment_ids.get(expert) if batch == 0 else next(
            (b.assignment_id for b in man.batches if b.expert == expert and b.number == batch),
            None)
        if meta.get("assignment_id") and want_id and meta.get("assignment_id") != want_id:
            entry.reason = "评分表与当前分配表不一致（分配已变更），按申请编号对应"
        mine = assigned.get(expert, set())
        rows, extra = {}, []
        for r, raw in table_rows(wb, where, stop_blank=False):
            row = {label_key[h]: v for h, v in raw.items() if h in label_key}
            app_id = parse.text(row.get("app_id"))
            where_txt = f"{where[0]}!第 {r} 行"
            if not app_id:
                extra.append((where_txt, "申请编号为空，该行未计入"))
                continue
            if app_id not in mine:
                extra.append((where_txt, f"申请 {app_id} 未分配给{expert}，该行未计入"))
                continue
            if app_id in rows:
                extra.append((where_txt, f"申请 {app_id} 重复出现（已使用第 {rows[app_id][0]} 行）"))
                continue
            st = read_row(campaign, row, apps.get(app_id))
            status = COUNTED if st.counted else st.status
            if st.recused or status == WORDS["empty"]:
                # nothing scored: an empty rubric would read as 1 point (A3's full mark)
                score = ExpertScore(expert, status, comment=st.comment)
            else:
                score = ExpertScore(expert, status, st.total, st.conclusion, st.report_use,
                                    st.risk, st.veto, st.comment, problems=st.problems)
            rows[app_id] = (r, score)
        entry.rows = len(rows)
        entry.counted = sum(1 for _, s in rows.values() if s.counted)
        return ParsedBook(entry, expert, rows, extra, batch)
    except Exception:  # noqa: BLE001 - a malformed workbook must not stop the run
        return FileEntry(rel, REJECTED, "读取失败，文件内容有误或已损坏；请使用分配时下发的评分表")
    finally:
        wb.close()
