"""Errors of the add-in builder (kept here so xl_addin/errors.py needs no edit)."""

from xl_addin.errors import SaqError


class AddinBuildError(SaqError):
    """SAQ.xlam cannot be built (names the missing or broken source)."""


class NotWindowsError(SaqError):
    """`saq addin install` outside Windows: Excel add-ins install only on Windows."""
