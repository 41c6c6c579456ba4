"""Files a stage command writes, made safe (issue 19 §5): written to temporary files first,
renamed into place only after the registry has committed; the previous stage workbook kept
as one of the last :data:`KEEP_BACKUPS` backups; a killed run's temporary files removed; a
file open in Excel, WPS, Word or LibreOffice (its ``~$`` or ``.~lock`` file beside it) never
replaced under the user's hands.

Order of a command: write every output to a temporary name (:meth:`Staging.temp_for`) →
commit the registry → :meth:`Staging.commit` renames them. A failure before the commit
(SIGKILL, a full disk, LibreOffice missing) leaves the folder as it was, bar temporary files
that the next run removes (:func:`remove_stale_temps`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import os
import re
import shutil
import time
import uuid
from pathlib import Path

from xl_addin.errors import OutputFileError, os_reason
from xl_addin.registry import pid_alive
from xl_addin.tables import normal_file_mode, temp_prefix

KEEP_BACKUPS = 5
STALE_UNKNOWN_SECONDS = 3600
_TEMP = re.compile(r"\.saq-(\d+)-")


def owner_files(path):
    """The lock files an office program keeps beside a file it has open."""
    p = Path(path)
    names = {"~$" + p.name, f".~lock.{p.name}#"}
    if len(p.stem) > 6:  # Word shortens long names: ~$ replaces the first two characters
        names.add("~$" + p.name[2:])
    return [p.with_name(n) for n in sorted(names)]


def open_by(path):
    """The lock file showing ``path`` is open in an office program, or None."""
    for f in owner_files(path):
        if f.exists():
            return f
    return None


def remove_stale_temps(folder):
    """Remove the temporary files a killed run left in ``folder`` (``.saq-<pid>-…`` whose
    process no longer runs; one without a pid after an hour).

    Returns:
        number removed.
    """
    n = 0
    try:
        found = list(Path(folder).glob(".saq-*"))
    except OSError:
        return 0
    for p in found:
        m = _TEMP.match(p.name)
        try:
            if not p.is_file() or p.name.endswith(".saq-lock"):
                continue
            stale = (not pid_alive(int(m.group(1)))) if m else \
                time.time() - p.stat().st_mtime > STALE_UNKNOWN_SECONDS
            if stale:
                p.unlink()
                n += 1
        except OSError:
            continue
    return n


def backup_name(path, stamp, folder=None):
    p = Path(path)
    base = f"{p.stem}_备份_{stamp:%Y%m%d_%H%M%S}"
    where = Path(folder) if folder else p.parent
    out, k = where / f"{base}{p.suffix}", 2
    while out.exists():
        out, k = where / f"{base}_{k}{p.suffix}", k + 1
    return out


def prune_backups(path, keep=KEEP_BACKUPS):
    """Keep the newest ``keep`` backups of ``path``; remove older ones."""
    p = Path(path)
    olds = sorted(p.parent.glob(f"{glob.escape(p.stem)}_备份_*{p.suffix}"))
    for old in olds[:-keep] if keep else olds:
        with contextlib.suppress(OSError):
            old.unlink()


class Staging:
    """Outputs of one command on temporary names until :meth:`commit`.

    Attributes:
        messages: Chinese lines about what happened at commit (a file kept under another
            name because it could not be replaced).
        written: the final paths, in order.
    """

    def __init__(self):
        self.items = []  # (temporary path, final path, kind)
        self.messages = []
        self.written = []

    def temp_for(self, final, kind="file"):
        """A temporary path in ``final``'s folder, renamed to ``final`` at commit.

        Raises:
            OutputFileError: ``final`` is open in an office program (its lock file exists).
        """
        final = Path(final)
        lock = open_by(final)
        if lock is not None:
            raise OutputFileError(final, f"文件正在被打开（有锁文件 {lock.name}），程序不会在它打开"
                                         "时替换它；请关闭后重新运行。如确认没有打开，删除该锁文件。"
                                         "本次未作任何改动")
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise OutputFileError(final.parent, os_reason(e)) from None
        tmp = final.with_name(f"{temp_prefix()}{uuid.uuid4().hex[:8]}-{final.name}")
        self.items.append((tmp, final, kind))
        return tmp

    def backup(self, path):
        """Copy ``path`` (about to be replaced) to a temporary file now; it becomes a
        ``<name>_备份_<time>`` backup at commit.

        Raises:
            OutputFileError
        """
        p = Path(path)
        if not p.exists():
            return None
        tmp = p.with_name(f"{temp_prefix()}{uuid.uuid4().hex[:8]}-backup{p.suffix}")
        try:
            shutil.copy2(p, tmp)
        except OSError as e:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise OutputFileError(p, f"无法备份（{os_reason(e)}）；本次未作任何改动") from None
        self.items.append((tmp, p, "backup"))
        return tmp

    def discard(self):
        """Remove every temporary file (the command failed before its commit)."""
        for tmp, _, _ in self.items:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        self.items = []

    def commit(self):
        """Rename every temporary file into place (after the registry's commit).

        A file that cannot be replaced (open on Windows, permissions) is kept beside it under
        a name with the time, and :attr:`messages` says so; nothing is lost.
        """
        stamp = dt.datetime.now()
        for tmp, final, kind in self.items:
            if kind == "backup":
                target = backup_name(final, stamp)
                try:
                    os.replace(tmp, target)
                    prune_backups(final)
                except OSError as e:
                    self.messages.append(f"注意：{final.name} 的备份未能保存（{os_reason(e)}）")
                    with contextlib.suppress(OSError):
                        os.unlink(tmp)
                continue
            try:
                normal_file_mode(tmp)
                os.replace(tmp, final)
                self.written.append(final)
            except OSError as e:
                alt = final.with_name(f"{final.stem}_{stamp:%Y%m%d_%H%M%S}{final.suffix}")
                try:
                    os.replace(tmp, alt)
                    self.written.append(alt)
                    self.messages.append(f"注意：{final} 无法替换（{os_reason(e)}），本次结果已另存为 "
                                         f"{alt}；评价档案已记录")
                except OSError as e2:
                    self.messages.append(f"注意：{final} 无法写入（{os_reason(e2)}）；评价档案已记录，"
                                         "请关闭文件或腾出空间后重新运行同一命令")
        self.items = []
        return self.written
