"""`saq addin install`: put SAQ.xlam into Excel's start-up folder and write its config.

Windows only: xlwings' own add-in installer copies the file to XLSTART (and reloads it in
a running Excel); the user config file %USERPROFILE%\\.saq\\saq.conf then names this Python
(the interpreter that has xl_addin installed) and the UDF module. The add-in's VBA reads
that file through xlwings' GetConfig (PROJECT_NAME = "saq").
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from xlwings import cli as xlwings_cli  # xlwings' own add-in installer (XLSTART + reload)

from xl_addin.errors import OutputFileError
from xl_addin.excel.addin.errors import NotWindowsError
from xl_addin.excel.addin.xlam import ADDIN_NAME, PROJECT, UDF_MODULE, build


def config_path():
    """Where the add-in's VBA looks for the user config (xlwings GetConfigFilePath)."""
    return Path(os.environ.get("USERPROFILE", str(Path.home()))) / f".{PROJECT}" / f"{PROJECT}.conf"


def config_text(interpreter):
    """The config file's lines, in the quoted form VBA's ``Input #`` reads."""
    return (f'"INTERPRETER_WIN","{interpreter}"\n'
            f'"UDF MODULES","{UDF_MODULE}"\n')


def write_config(interpreter=None, path=None):
    """Write the user config (interpreter, UDF module); returns its path."""
    p = Path(path or config_path())
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        # VBA reads the file in the ANSI code page of Windows ("mbcs"); elsewhere UTF-8.
        enc = "mbcs" if sys.platform.startswith("win") else "utf-8"
        p.write_text(config_text(interpreter or sys.executable), encoding=enc)
    except (OSError, UnicodeEncodeError) as e:
        raise OutputFileError(p, f"{getattr(e, 'strerror', None) or e}") from None
    return p


def install(xlam=None, platform=None):
    """Install SAQ.xlam into Excel (Windows) and write the config.

    Args:
        xlam: the add-in file (default: build dist/SAQ.xlam first).
        platform: for tests; default ``sys.platform``.
    Returns:
        (installed add-in name, config path)
    Raises:
        NotWindowsError: not on Windows (exit code 2).
    """
    if not (platform or sys.platform).startswith("win"):
        raise NotWindowsError(
            "“saq addin install” 用于 Windows 上的 Excel：请在装有 Excel 的 Windows 电脑上运行。"
            "在本机可用“saq addin build”生成 dist/SAQ.xlam，再把它复制到 Windows 电脑安装"
            "（步骤见 docs/addin.md）。")
    path = Path(xlam) if xlam else build().path
    xlwings_cli._addin_install(str(path))
    return ADDIN_NAME, write_config()
