"""Typed errors of the library. Each carries one Chinese message a user can act on.

The CLI, the UDFs and the ribbon turn each of these into exactly one message; nothing
else of the library is meant to escape to a user.
"""

import errno
import os
import re

# The base and the campaign's error live with the rules (rules/ imports nothing of ours).
from xl_addin.rules.errors import CampaignError, SaqError, _rebuild  # noqa: F401 - re-exported


class InputFileError(SaqError):
    """A table or workbook given by the user cannot be read (names the file and why)."""

    def __init__(self, path, message):
        self.path, self.reason = str(path), message
        super().__init__(f"无法读取文件 {self.path}：{message}")


class OutputFileError(SaqError):
    """A result cannot be written where the user asked."""

    def __init__(self, path, message):
        self.path, self.reason = str(path), message
        super().__init__(f"无法写入文件 {self.path}：{message}")


class NotOurWorkbook(InputFileError):
    """A workbook without our hidden ``_meta`` sheet or with an unknown template id."""


_OS_REASONS = {
    errno.ENOENT: "文件夹或文件不存在", errno.EACCES: "没有权限", errno.EPERM: "没有权限",
    errno.EROFS: "磁盘只读", errno.ENOSPC: "磁盘已满", errno.EISDIR: "这是一个文件夹",
    errno.ENOTDIR: "路径中有一段不是文件夹", errno.EBUSY: "文件正被其他程序占用",
    errno.EFBIG: "文件超过系统允许的大小", errno.ENAMETOOLONG: "路径或文件名过长",
    errno.EIO: "磁盘读写出错", errno.EMFILE: "同时打开的文件过多", errno.EDQUOT: "磁盘配额已用完",
    errno.EPIPE: "输出管道已关闭", errno.ELOOP: "符号链接层数过多",
}


def os_reason(e):
    """An OSError in Chinese for a message, the system's own words kept in brackets."""
    said = getattr(e, "strerror", None) or str(e)
    known = _OS_REASONS.get(getattr(e, "errno", None))
    return f"{known}（{said}）" if known else said


def as_os_error(e):
    """The OSError behind ``e``, or None. XML writers report a full disk or a file-size
    limit as their own error ("IO_ENOSPC", "IO_EFBIG" from lxml): the user is told the
    same as for any OSError, never a class name (issue 12 §9)."""
    if isinstance(e, OSError):
        return e
    m = re.search(r"\bIO_(E[A-Z0-9]+)\b", str(e))
    code = getattr(errno, m.group(1), None) if m else None
    if code is None:
        return None
    return OSError(code, os.strerror(code))


class RegistryError(SaqError):
    """The campaign registry (评价档案.sqlite) cannot be used as it is: missing, empty, another
    campaign's, written by a newer program, locked by someone, read-only or on a full disk.
    The message names the file and says what to do; nothing was changed."""

    def __init__(self, path, message):
        self.path = str(path)
        super().__init__(message)
