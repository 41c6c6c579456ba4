"""Writing the master safely (issue 4 §6): a lock file stops two runs at once; the master
is written to a temporary file and renamed; a master that is open in Excel (its ~$ lock
file exists) or cannot be replaced gets a clear message and a copy written beside it.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from xl_addin.errors import OutputFileError, SaqError, os_reason
from xl_addin.tables import normal_file_mode, temp_prefix


class RunLocked(SaqError):
    """Another consolidation is writing the same master."""

    def __init__(self, lock, info):
        super().__init__(f"另一个汇总正在写入同一个汇总表（锁文件 {lock}，{info}）。"
                         "请等它结束；若确认没有在运行，删除该锁文件后重试。")


def lock_path(master):
    m = Path(master)
    return m.with_name(f".{m.name}.saq-lock")


def excel_lock(master):
    """The lock file Excel/WPS keep beside an open workbook."""
    m = Path(master)
    return m.with_name("~$" + m.name)


class RunLock:
    """Exclusive lock file beside the master (O_EXCL; a stale one of a dead process is taken over)."""

    def __init__(self, master):
        self.path = lock_path(master)

    def __enter__(self):
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except PermissionError as e:
                raise OutputFileError(self.path.parent, f"没有写入权限（{os_reason(e)}）") from None
            except FileExistsError:
                info = self._read()
                if self._stale(info):
                    self.path.unlink(missing_ok=True)
                    continue
                raise RunLocked(self.path, info) from None
            with os.fdopen(fd, "w") as f:
                f.write(f"pid={os.getpid()} start={dt.datetime.now():%Y-%m-%d %H:%M:%S}")
            return self
        raise RunLocked(self.path, self._read())

    def __exit__(self, *exc):
        self.path.unlink(missing_ok=True)

    def _read(self):
        try:
            return self.path.read_text(encoding="utf-8", errors="replace")[:200]
        except OSError:
            return ""

    @staticmethod
    def _stale(info):
        try:
            pid = int(info.split("pid=")[1].split()[0])
        except (IndexError, ValueError):
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


def temp_beside(master):
    m = Path(master)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(), suffix=".xlsx", dir=m.parent)
    os.close(fd)
    normal_file_mode(tmp)  # the master must open for others, like any saved file
    return Path(tmp)


STALE_UNKNOWN_SECONDS = 3600  # a temp file without our pid in its name: left by an old run


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale_temps(master):
    """Remove temporary files a killed run left beside the master (issue 12 §9).

    Our temporary files are named ``.saq-<pid>-….xlsx``: one whose process is gone is
    stale; one without a pid is stale after an hour. Files of a live process are kept.

    Returns:
        number of files removed.
    """
    folder = Path(master).parent
    n = 0
    try:
        found = list(folder.glob(".saq-*"))
    except OSError:
        return 0
    for p in found:
        m = re.match(r"\.saq-(\d+)-", p.name)
        try:
            if m:
                stale = not _pid_alive(int(m.group(1)))
            else:
                stale = time.time() - p.stat().st_mtime > STALE_UNKNOWN_SECONDS
            if stale and p.is_file() and not p.name.endswith(".saq-lock"):
                p.unlink()
                n += 1
        except OSError:
            continue  # not ours to fight over: left in place
    return n


def publish(tmp, master, stamp):
    """Move the finished temporary file into place.

    Returns:
        (path written, message or None): the master, or a copy beside it when the master is
        open in Excel or cannot be replaced.
    """
    m = Path(master)
    reason = None
    if excel_lock(m).exists():
        reason = "正在被 Excel 或 WPS 打开"
    else:
        try:
            os.replace(tmp, m)
            return m, None
        except OSError as e:
            reason = f"无法替换（{os_reason(e)}）"
    copy = m.with_name(f"{m.stem}_{stamp:%Y%m%d_%H%M%S}{m.suffix}")
    os.replace(tmp, copy)
    return copy, f"汇总表 {m} {reason}，本次结果已另存为 {copy}；关闭原文件后可重新运行。"


KEEP_BACKUPS = 5


def backup(master, stamp, keep=KEEP_BACKUPS):
    """Copy the previous master before a run replaces it (issue 12 §4); keep the last
    ``keep`` copies (``汇总表_备份_20230701_120000.xlsx``), remove older ones.

    Returns:
        the backup's path.
    Raises:
        OSError: the copy cannot be made.
    """
    m = Path(master)
    b = m.with_name(f"{m.stem}_备份_{stamp:%Y%m%d_%H%M%S}{m.suffix}")
    shutil.copy2(m, b)
    olds = sorted(m.parent.glob(f"{glob_escape(m.stem)}_备份_*{m.suffix}"))
    for old in olds[:-keep] if keep else []:
        try:
            old.unlink()
        except OSError:
            pass
    return b


def glob_escape(text):
    return glob.escape(text)
