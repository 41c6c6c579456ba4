"""Consolidation's view of the dossiers (RULES.md M, issue 13): small hooks only.

- An application whose workbook sits in its own 申报材料文件夹 (the folder holds material
  files the campaign recognises, and this one 申请书), or has a folder of the same name
  beside it (申请书_X.xlsx and 申请书_X/), gets the folder's M findings: the
  汇总 shows 申报材料 齐全 / 缺 N 项 and the findings join its flags.
- A 附件3 gets M12 when no stamped scan (PDF or image) lies beside it; 统计 shows
  盖章扫描件 有/无 per recommender.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from xl_addin.consolidate.model import FlagRecord
from xl_addin.read.dossier import _application_workbooks, classify, dossier_files, material_issues, scan_issue

COMPLETE, MISSING = "齐全", "缺 {n} 项"
SCAN_YES, SCAN_NO = "有", "无"


@dataclass
class _Listing:
    """One folder as the dossier lookup sees it, taken once per run."""

    files: list  # dossier_files(folder)
    items: dict  # path -> the material item its name names (None: not a material)
    books: set | None = field(default=None)  # application workbooks among the non-materials


# folder -> _Listing while a run is on (:func:`run_cache`); None: no caching (every call
# lists afresh, as a lone caller such as a test expects).
_cache = None


@contextlib.contextmanager
def run_cache():
    """List each folder once for the whole of a consolidation run.

    Every application of a folder with n files used to list it (and classify its n files,
    and probe its workbooks) again: O(n) per application, O(n²) per folder. Within this
    context each folder is listed once; leaving it forgets the listings, so the next run
    sees the folder as it is then. A worker process forked inside the context starts with
    the listings taken so far and keeps its own for the run.
    """
    global _cache
    saved, _cache = _cache, {}
    try:
        yield
    finally:
        _cache = saved


def _listing(folder, campaign):
    key = str(folder)
    got = None if _cache is None else _cache.get(key)
    if got is None:
        files = dossier_files(folder)
        got = _Listing(files, {p: classify(p.name, campaign) for p in files})
        if _cache is not None:
            _cache[key] = got
    return got


def _books(listing):
    """The application workbooks among a folder's files that name no material (probed once
    per listing: probing opens every workbook)."""
    if listing.books is None:
        listing.books = set(_application_workbooks(
            [p for p in listing.files if listing.items[p] is None]))
    return listing.books


def _other_workbooks(listing, path):
    """Whether the folder holds a workbook besides ``path`` that names no material (only
    then need the workbooks be probed: an applicant's own folder holds one)."""
    return any(p != path and listing.items[p] is None and p.suffix.lower() in (".xlsx", ".xlsm")
               for p in listing.files)


def dossier_flags(path, values, campaign, rel="", answers=None):
    """M findings of the dossier folder around an application workbook.

    The files are the evidence (RULES.md M): each item is judged by its file, never by the
    workbook's 材料清单, whose answers only say which items are 不适用.

    Args:
        path: the workbook; values: the engine's parsed values (org_name, category …).
        campaign: the Campaign; rel: the workbook's path in the inbox (for the flags).
        answers: the workbook's 材料清单 cells (``mat_*``), for the items answered 不适用.
    Returns:
        list of FlagRecord, or None when the workbook is not in a dossier folder.
    """
    beside = path.with_suffix("")  # 申请书_X.xlsx with its materials in 申请书_X/
    folder = beside if beside.is_dir() else path.parent
    listing = _listing(folder, campaign)  # once per folder and run (run_cache)
    others = [p for p in listing.files if p != path]
    if not any(listing.items[p] for p in others):
        return None
    if _other_workbooks(listing, path) and _books(listing) - {path}:
        return None  # several applications share this folder: not one applicant's dossier
    issues, _ = material_issues(others, values.get("org_name"), values.get("project_name"),
                                values.get("category"), campaign, answers, folder)
    return [FlagRecord(i.code, i.severity, i.message, "", rel, "", i.where) for i in issues]


def dossier_word(flags):
    """The 汇总's 申报材料 cell: 齐全, 缺 N 项, or empty (no dossier folder)."""
    if flags is None:
        return None
    n = len(flags)
    return COMPLETE if n == 0 else MISSING.format(n=n)


def scan_flag(path, campaign, rel=""):
    """M12 as a header flag of a 附件3, or None when its stamped scan is beside it."""
    i = scan_issue(path, campaign)
    return None if i is None else FlagRecord(i.code, i.severity, i.message, "recommender", rel)


def scan_word(header):
    return SCAN_NO if any(f.code == "M12" for f in header.flags) else SCAN_YES
