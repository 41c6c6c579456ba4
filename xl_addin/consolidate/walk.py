"""Walk a folder and classify every file: ours (application / recommender), not ours,
broken, or to ignore — each with a reason a person understands (issue 4 §4).

Content decides, not the extension: a renamed .xlsx is read, an .xls that is really an
encrypted .xlsx says so. Nothing here raises for a bad file.
"""

from __future__ import annotations

import stat

from xl_addin.consolidate.model import KIND_APPLICATION, KIND_RECOMMENDER
from xl_addin.files import (
    HASH_MAX_BYTES,
    IGNORED,
    IMPORTED,
    REJECTED,
    human_size,
    sha256,
    size_note,
    special_file_reason,
    vanished_reason,
)
from xl_addin.read import verdict
from xl_addin.read import workbook as fastread
from xl_addin.read.dossier import classify as item_of

EXCEL_EXTS = {".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlsb", ".et", ".ett", ".csv"}
KIND_NAMES = {"application": KIND_APPLICATION, "recommender": KIND_RECOMMENDER,
              "expert": "专家评分表", "master": "汇总表"}


def _set(rec, kind, status, reason):
    rec.kind, rec.status, rec.reason = kind, status, reason
    return None


def prepare(rec, seen_hashes):
    """First pass, cheap: size, SHA-256; lock files, hidden files and exact copies are set
    aside here (so the reading pass can run in parallel).

    Args:
        rec: the FileRecord (filled in place).
        seen_hashes: sha256 -> rel of files already kept.
    Returns:
        True when the file is to be read.
    """
    if rec.status:
        return False  # set by list_files: a link, a pipe, a folder or path not to read
    p, name = rec.path, rec.path.name
    if name.startswith("~$"):
        _set(rec, "临时文件", IGNORED, "Office 临时锁文件（有人正打开原文件时产生），不是提交的文件")
    elif name.startswith(".") or "__MACOSX" in rec.rel.split("/"):
        _set(rec, "其他", IGNORED, "系统隐藏文件，未读取")
    try:
        st = p.stat()
        if not stat.S_ISREG(st.st_mode):  # replaced by a pipe since it was listed
            _set(rec, "特殊文件", IGNORED, special_file_reason(st.st_mode))
            return False
        rec.size, rec.stamp = st.st_size, (st.st_size, st.st_mtime_ns)
        # Hashing is bounded (issue 19 §7): a sparse or huge file is recorded as such and
        # never read; no workbook we take is that large.
        note = size_note(st)
        rec.sha256 = "" if note else sha256(p)
        if rec.sha256 is None:  # it grew past the cap since it was listed
            note, rec.sha256 = f"文件过大（超过 {human_size(HASH_MAX_BYTES)}）", ""
    except OSError as e:
        _set(rec, "其他", REJECTED, vanished_reason(e))
        return False
    if rec.status:
        return False
    if note:
        excel = p.suffix.lower() in EXCEL_EXTS
        _set(rec, "Excel 文件" if excel else "其他", REJECTED if excel else IGNORED,
             f"{note}，未读取" + ("；请提交正常大小的 .xlsx 工作簿" if excel else ""))
        return False
    if rec.sha256 in seen_hashes:
        _set(rec, "重复文件", IGNORED, f"与 {seen_hashes[rec.sha256]} 内容完全相同（重复文件），只导入一次")
        return False
    seen_hashes[rec.sha256] = rec.rel
    return True


MATERIAL = "申报材料"


def _material(rec, campaign):
    """A file of a dossier that is not a workbook of ours (被访者名单.xlsx, 数据库.csv, the
    scans): set aside as 申报材料, with its item — the dossier check beside the 申请书 judges
    it (RULES.md M).

    Returns:
        True when the file names a material item (``rec`` is then set).
    """
    it = item_of(rec.path.name, campaign)
    if it is not None and rec.path.suffix.lower().lstrip(".") not in it["kinds"]:
        it = None  # 申请表_某公司.xlsx is a workbook sent in the wrong form, not the 申请表 scan
    if it is not None:
        _set(rec, MATERIAL, IGNORED, f"申报材料（{it['name']}），随申请书一并核对，不单独汇总")
    return it is not None


def classify(rec, campaign):
    """Second pass: fill ``rec`` (kind, status, reason) and return the Submission if ours.

    Args:
        rec: a FileRecord that :func:`prepare` kept.
        campaign: the Campaign (its year and template version).
    Returns:
        fastread.Submission or None.
    """
    p = rec.path
    ext = p.suffix.lower()
    excel_like = ext in EXCEL_EXTS
    try:
        pr = fastread.probe(p)
    except fastread.UnreadableWorkbook as e:
        return _set(rec, "Excel 文件" if excel_like else "其他", REJECTED, e.reason)
    if pr.format in ("ods", "strict"):
        return _set(rec, "电子表格", REJECTED, pr.note)
    if not excel_like and pr.format != "xlsx" and not (pr.format == "ole" and pr.encrypted):
        if not _material(rec, campaign):
            _set(rec, "其他", IGNORED, "不是 Excel 文件（如盖章扫描件、文档），未读取")
        return None
    if pr.format == "text" and ext == ".csv":
        kind_label = "CSV 文件"
    else:
        kind_label = "Excel 文件"
    rec.macros = pr.macros
    try:
        sub = verdict.read(p, campaign, pr)
    except verdict.NotAccepted as e:
        # Ours, but not for this run: a master or expert form is set aside, another
        # year's template is refused — the same reasons `saq check` gives.
        ours_elsewhere = e.kind in ("master", "expert")
        rec.other_year = e.year
        return _set(rec, KIND_NAMES.get(e.kind, e.kind), IGNORED if ours_elsewhere else REJECTED,
                    e.reason)
    except (fastread.NotOurWorkbook, fastread.UnreadableWorkbook) as e:
        if not _material(rec, campaign):
            _set(rec, kind_label, REJECTED, e.reason)
        return None
    except OSError:
        raise  # gone or unreadable during the run: the caller says so (issue 12 §6)
    except Exception:  # noqa: BLE001 - never stop the run on one file (issue 4 §4)
        return _set(rec, kind_label, REJECTED, "内容有误，无法读取，" + fastread.SAVE_AS)
    rec.template_version = str(sub.meta.get("template_version") or "")
    kind = KIND_NAMES.get(sub.kind, sub.kind)
    notes = list(sub.notes)
    if rec.template_version and rec.template_version != campaign.template_version:
        notes.insert(0, f"模板版本 {rec.template_version}（当前为 {campaign.template_version}），已按名称读取")
    if sub.macros:
        notes.append("含宏（未运行）")
    _set(rec, kind, IMPORTED, "；".join(notes))
    return sub
