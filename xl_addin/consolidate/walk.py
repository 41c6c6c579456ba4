"""Walk a folder and classify every file: ours (application / recommender), not ours,
broken, or to ignore — each with a reason a person understands (issue 4 §4).

Content decides, not the extension: a renamed .xlsx is read, an .xls that is really an
encrypted .xlsx says so. Nothing here raises for a bad file.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path

from xl_addin.read import workbook as fastread

from xl_addin.read import verdict
from xl_addin.consolidate.model import IGNORED, IMPORTED, KIND_APPLICATION, KIND_RECOMMENDER, REJECTED, FileRecord
from xl_addin.errors import os_reason

EXCEL_EXTS = {".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlsb", ".et", ".ett", ".csv"}
KIND_NAMES = {"application": KIND_APPLICATION, "recommender": KIND_RECOMMENDER,
              "expert": "专家评分表", "master": "汇总表"}


MAX_DEPTH = 64  # folder levels below the input folder
PATH_MAX = 4096  # bytes the system takes in one path (Linux); longer ones cannot be opened
NAME_MAX = 255


def display_name(name):
    """A file or folder name as it can be shown and written (issue 12 §5).

    A name that is not valid in the system's encoding (GBK bytes from a zip unpacked on
    Linux) is decoded as GB18030, else shown with visible escapes; control characters are
    escaped too. Never returns a surrogate.

    Returns:
        (shown name, note in Chinese or "")
    """
    from xl_addin.tables import clean_text
    note = ""
    if any("\udc80" <= ch <= "\udcff" for ch in name):
        raw = os.fsencode(name)
        try:
            name, note = raw.decode("gb18030"), "文件名不是 UTF-8 编码，已按 GBK/GB18030 解读"
        except UnicodeDecodeError:
            name = raw.decode("utf-8", "backslashreplace")
            note = "文件名含无法识别的字节，已显示为转义形式"
    shown, changed = clean_text(name)
    if changed and not note:
        note = "文件名含控制字符，已显示为转义形式"
    return shown, note


def list_files(folder, skip=()):
    """Every entry under ``folder``, sorted, as FileRecords (nothing opened yet).

    Every entry appears (issue 12 §8): regular files to read; symbolic links (never
    followed), named pipes, devices, folders that cannot be opened and paths too long for
    the system are listed with their status and reason already set.

    Args:
        folder: the folder to walk (recursively).
        skip: paths to leave out (the master being written, its lock file).
    """
    root = Path(folder)
    root_real = os.path.realpath(root)
    skip = {os.path.realpath(s) for s in skip}
    out = []

    def walk(path, parts, depth, parent_note=""):
        try:
            with os.scandir(path) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            if parts:  # the folder itself (the top one failing is the caller's error)
                out.append(_folder_record(path, parts, e))
            return
        for e in entries:
            shown, note = display_name(e.name)
            note = note or parent_note  # a folder's odd name shows in its files' reasons
            sub = parts + [shown]
            p = os.path.join(path, e.name)
            try:
                is_link = e.is_symlink()
                is_dir = not is_link and e.is_dir(follow_symlinks=False)
                is_file = not is_link and e.is_file(follow_symlinks=False)
            except OSError as err:
                out.append(_rejected(p, sub, "其他", f"无法读取（{os_reason(err)}）", note))
                continue
            if len(os.fsencode(p)) >= PATH_MAX:
                out.append(_rejected(p, sub, "文件夹" if is_dir else "其他", _too_long(p), note))
                continue
            if is_link:
                out.append(_link_record(p, sub, root_real, note))
            elif is_dir:
                if depth >= MAX_DEPTH:
                    out.append(_rejected(p, sub, "文件夹", f"文件夹层级过深（超过 {MAX_DEPTH} 层），"
                                         "其中的文件未读取；请把文件移到较浅的文件夹", note))
                else:
                    walk(p, sub, depth + 1, note)
            elif is_file:
                if os.path.realpath(p) in skip:
                    continue
                out.append(FileRecord(Path(p), "/".join(sub), name_note=note))
            else:
                try:
                    mode = e.stat(follow_symlinks=False).st_mode
                except OSError:
                    mode = 0
                rec = FileRecord(Path(p), "/".join(sub), kind="特殊文件", status=IGNORED,
                                 reason=fastread.special_file_reason(mode), name_note=note)
                out.append(rec)

    walk(str(root), [], 0)
    return out


def _too_long(p):
    n = len(os.fsencode(p))
    return (f"路径过长（{n} 字节，系统上限 {PATH_MAX}），无法读取；"
            "请把文件移到层级较浅、名称较短的文件夹后重新汇总")


def _rejected(p, parts, kind, reason, note=""):
    return FileRecord(Path(p), "/".join(parts), kind=kind, status=REJECTED, reason=reason,
                      name_note=note)


def _folder_record(path, parts, e):
    if getattr(e, "errno", None) == errno.ENAMETOOLONG:
        reason = _too_long(path)
    else:
        reason = f"无法打开文件夹（{os_reason(e)}），其中的文件未读取；请检查权限后重新汇总"
    return _rejected(path, parts, "文件夹", reason)


def _link_record(p, parts, root_real, note):
    """A symbolic link is listed, never followed: its target, when inside the folder, is
    listed on its own; outside the folder it is not ours to read."""
    rec = FileRecord(Path(p), "/".join(parts), kind="符号链接", status=IGNORED, name_note=note)
    target = os.path.realpath(p)
    inside = target == root_real or target.startswith(root_real + os.sep)
    if not os.path.exists(target):
        rec.reason = "符号链接，指向的文件不存在，未读取"
    elif inside:
        rel = display_name(os.path.relpath(target, root_real).replace(os.sep, "/"))[0]
        rec.reason = f"符号链接，指向文件夹内的 {rel}（已单独列出），不重复读取"
    else:
        rec.reason = "符号链接，指向汇总文件夹之外，出于安全未读取；如需汇总请复制原文件到文件夹内"
    return rec


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def vanished_reason(e):
    """Why a listed file could not be read: gone during the run, or an OS error."""
    if isinstance(e, FileNotFoundError):
        return "文件在汇总过程中被删除或移走，未读取；如仍需汇总请放回后重新运行"
    return f"无法读取文件（{os_reason(e)}）"


def changed_since(rec):
    """True when the file is not the one hashed at the start of the run (issue 12 §6).

    Raises:
        OSError: the file is gone.
    """
    st = rec.path.stat()
    return rec.stamp is not None and (st.st_size, st.st_mtime_ns) != tuple(rec.stamp)


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
            _set(rec, "特殊文件", IGNORED, fastread.special_file_reason(st.st_mode))
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
