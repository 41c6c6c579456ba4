"""The base of every error a user may see, and the campaign file's error.

Here, with the rules, because rules/ imports nothing outside itself and the standard library;
``xl_addin.errors`` re-exports both beside the file errors of the rest of the library.
"""


class SaqError(Exception):
    """Base of every error a user may see. ``str(error)`` is the Chinese message."""

    exit_code = 2

    def __reduce__(self):
        # Subclasses take other arguments than their message: without this, an error
        # raised in a worker process cannot come back and the user sees BrokenProcessPool.
        return (_rebuild, (type(self), str(self), dict(self.__dict__)))


def _rebuild(cls, message, state):
    """An error as it was pickled: same class, message and attributes."""
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class CampaignError(SaqError):
    """The campaign file is missing, unreadable or inconsistent (names file and key)."""

    def __init__(self, path, key, message):
        self.path, self.key = str(path), key
        where = f"{self.path}" + (f" 的 {key}" if key else "")
        super().__init__(f"活动配置文件 {where}：{message}")
