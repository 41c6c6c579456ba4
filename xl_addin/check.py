"""`saq check FILE`: the verdict on one filled workbook, as consolidation would give it.

The file is read by the one reader (fastread: bounded, by defined names and table names,
with a header fallback), accepted or refused for the campaign, and evaluated by the engine
through :mod:`xl_addin.verdict` — never by the workbook's own formulas — so a tampered or
never-calculated file is judged exactly as its row in the master (issue 9).
"""

from __future__ import annotations

import stat
from pathlib import Path

from . import fastread, verdict
from .errors import InputFileError, NotOurWorkbook


def check_file(path, campaign):
    """Read and evaluate one workbook.

    Args:
        path: a filled 申请书 or 附件3 (.xlsx).
        campaign: the Campaign of the run.
    Returns:
        verdict.Verdict
    Raises:
        InputFileError (NotOurWorkbook included): the file cannot be read or is not taken —
        with the reason consolidation gives for the same file.
    """
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputFileError(p, "文件不存在") from None
    except OSError as e:
        from .errors import os_reason
        raise InputFileError(p, f"无法读取（{os_reason(e)}）") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputFileError(p, "这是一个文件夹，不是工作簿")
    if not stat.S_ISREG(st.st_mode):
        raise InputFileError(p, "不是普通文件（可能是管道或设备），未读取")
    try:
        sub = verdict.read(p, campaign)
    except fastread.NotOurWorkbook as e:
        raise NotOurWorkbook(p, e.reason) from None
    except fastread.UnreadableWorkbook as e:
        raise InputFileError(p, e.reason) from None
    except verdict.NotAccepted as e:
        raise NotOurWorkbook(p, e.reason) from None
    return verdict.verdict(sub, campaign)
