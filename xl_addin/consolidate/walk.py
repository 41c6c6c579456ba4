"""Walk a folder and classify every file: ours (application / recommender), not ours,
broken, or to ignore — each with a reason a person understands (issue 4 §4).

Content decides, not the extension: a renamed .xlsx is read, an .xls that is really an
encrypted .xlsx says so. Nothing here raises for a bad file.
"""

from __future__ import annotations

import stat

from xl_addin.consolidate.model import KIND_APPLICATION, KIND_RECOMMENDER
from xl_addin.files import IGNORED, IMPORTED, REJECTED, sha256, special_file_reason, vanished_reason
from xl_addin.read import verdict
from xl_addin.read import workbook as fastread

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
        rec.sha256 = sha256(p)
    except OSError as e:
        _set(rec, "其他", REJECTED, vanished_reason(e))
        return False
    if rec.status:
        return False
    if rec.sha256 in seen_hashes:
        _set(rec, "重复文件", IGNORED, f"与 {seen_hashes[rec.sha256]} 内容完全相同（重复文件），只导入一次")
        return False
    seen_hashes[rec.sha256] = rec.rel
    return True


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
        return _set(rec, "其他", IGNORED, "不是 Excel 文件（如盖章扫描件、文档），未读取")
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
        return _set(rec, KIND_NAMES.get(e.kind, e.kind), IGNORED if ours_elsewhere else REJECTED,
                    e.reason)
    except (fastread.NotOurWorkbook, fastread.UnreadableWorkbook) as e:
        return _set(rec, kind_label, REJECTED, e.reason)
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
