"""Typed errors of the library. Each carries one Chinese message a user can act on.

The CLI, the UDFs and the ribbon turn each of these into exactly one message; nothing
else of the library is meant to escape to a user.
"""


class SaqError(Exception):
    """Base of every error a user may see. ``str(error)`` is the Chinese message."""

    exit_code = 2


class CampaignError(SaqError):
    """The campaign file is missing, unreadable or inconsistent (names file and key)."""

    def __init__(self, path, key, message):
        self.path, self.key = str(path), key
        where = f"{self.path}" + (f" 的 {key}" if key else "")
        super().__init__(f"活动配置文件 {where}：{message}")


class InputFileError(SaqError):
    """A table or workbook given by the user cannot be read (names the file and why)."""

    def __init__(self, path, message):
        self.path = str(path)
        super().__init__(f"无法读取文件 {self.path}：{message}")


class OutputFileError(SaqError):
    """A result cannot be written where the user asked."""

    def __init__(self, path, message):
        self.path = str(path)
        super().__init__(f"无法写入文件 {self.path}：{message}")


class NotOurWorkbook(InputFileError):
    """A workbook without our hidden ``_meta`` sheet or with an unknown template id."""
