"""A folder's entries, listed without opening any (issue 12 §8), and each file's identity.

Shared by consolidation (the inbox), `review collect` (the experts' folder) and the dossier
check: every entry appears as a :class:`FileRecord` — regular files to read; links, pipes,
devices, folders that cannot be opened and paths too long for the system with their status
and reason already set. Nothing here raises for a bad entry.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from xl_addin.errors import os_reason
from xl_addin.tables import clean_text

# 文件清单 status words (issue 4): imported, rejected, ignored.
IMPORTED, REJECTED, IGNORED = "已导入", "已拒收", "已忽略"

@dataclass
class FileRecord:
    """One file seen in the folder (a row of 文件清单)."""

    path: Path
    rel: str  # path relative to the folder, with "/" separators
    size: int = 0
    sha256: str = ""
    kind: str = ""  # 申请书 / 推荐表 / 专家评分表 / 其他
    status: str = ""
    reason: str = ""
    template_version: str = ""
    rows_read: int = 0
    macros: bool = False
    name_note: str = ""  # the name was not valid text (GBK bytes, control characters)
    stamp: tuple | None = None  # (size, mtime) when hashed: a change during the run shows
    other_year: int | None = None  # refused as another campaign year's template (issue 20 §7)


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
                                 reason=special_file_reason(mode), name_note=note)
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


# Hashing is bounded (issue 19 §7): consolidation hashes every file it lists to set exact
# copies aside, and a 256 GB sparse file in a dossier was read byte by byte. No workbook we
# read is larger than read/workbook.MAX_FILE_BYTES (50 MB); past this cap a file is not
# hashed at all and is recorded as huge (or sparse) instead.
HASH_MAX_BYTES = 64 * 1024 * 1024
# A sparse file: its size is mostly holes (st_blocks counts what is really on disk). Only
# large files are judged, with a wide margin, so a file on a compressing file system (ZFS,
# btrfs) or a small file stored inline in its inode is never taken for one.
SPARSE_MIN_BYTES = 64 * 1024 * 1024
SPARSE_RATIO = 64


def sha256(path, max_bytes=HASH_MAX_BYTES):
    """The SHA-256 of a file of at most ``max_bytes`` bytes.

    Returns:
        hex digest, or None when the file holds more than ``max_bytes`` (it is then not
        hashed: reading stops one chunk past the cap, whatever its size says).
    """
    h = hashlib.sha256()
    seen = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            seen += len(chunk)
            if seen > max_bytes:
                return None
            h.update(chunk)
    return h.hexdigest()


def human_size(n):
    """Bytes as a person reads them: 512 字节, 3.2 MB, 256 GB."""
    for unit, k in (("TB", 40), ("GB", 30), ("MB", 20), ("KB", 10)):
        if n >= 1 << k:
            x = n / (1 << k)
            return f"{x:.0f} {unit}" if x >= 100 or x == int(x) else f"{x:.1f} {unit}"
    return f"{n} 字节"


def is_sparse(st):
    """True when the file's size is mostly holes (a sparse file: nothing real to read)."""
    blocks = getattr(st, "st_blocks", None)  # not on Windows: never judged sparse there
    return blocks is not None and st.st_size >= SPARSE_MIN_BYTES and \
        blocks * 512 * SPARSE_RATIO < st.st_size


def size_note(st, max_bytes=HASH_MAX_BYTES):
    """Why a file is not hashed or read, from its stat: sparse or huge; "" otherwise."""
    if is_sparse(st):
        return (f"稀疏文件（标称 {human_size(st.st_size)}，实际只占 "
                f"{human_size(st.st_blocks * 512)}），不是真实的文件内容")
    if st.st_size > max_bytes:
        return f"文件过大（{human_size(st.st_size)}，超过 {human_size(max_bytes)}）"
    return ""


# Characters that must not reach a terminal raw (issue 19 §10): C0 and C1 controls (CR
# rewrites the line, ESC starts a sequence that can recolour or erase it), DEL, lone
# surrogates, and the bidirectional overrides that make a name read differently than it is.
_TERMINAL_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def terminal_text(text, lines=False):
    """``text`` as it can be printed: every unsafe character shown as an escape (\\x0D, \\x1B,
    \\u202E); a name that is not valid text (GBK bytes) decoded as :func:`display_name` does.
    Idempotent (a backslash is left as it is).

    Args:
        lines: keep line breaks (a message of several lines); else "\\n" is escaped too.
    """
    text = str(text)
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        text = display_name(text)[0]
    if lines:
        return "\n".join(_TERMINAL_UNSAFE.sub(_escape_char, ln) for ln in text.split("\n"))
    return _TERMINAL_UNSAFE.sub(_escape_char, text)


def _escape_char(m):
    # as cli.terminal_text writes them (and the workbooks, for C0): \x0D, \x1B; \u0085, \u202E
    n = ord(m.group())
    return f"\\x{n:02X}" if n < 0x20 else f"\\u{n:04X}"


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


def special_file_reason(mode):
    """Why a path that is not a regular file is not read (pipes would block a reader)."""
    if stat.S_ISFIFO(mode):
        return "这是命名管道（FIFO），不是文件，未读取"
    if stat.S_ISSOCK(mode):
        return "这是套接字，不是文件，未读取"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "这是设备文件，不是普通文件，未读取"
    return "不是普通文件，未读取"
