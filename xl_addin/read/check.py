"""`saq check FILE`: the verdict on one filled workbook, as consolidation would give it.

The file is read by the one reader (fastread: bounded, by defined names and table names,
with a header fallback), accepted or refused for the campaign, and evaluated by the engine
through :mod:`xl_addin.read.verdict` — never by the workbook's own formulas — so a tampered or
never-calculated file is judged exactly as its row in the master (issue 9).
"""

from __future__ import annotations

import stat
from pathlib import Path

from xl_addin import registry as regmod
from xl_addin.errors import InputFileError, NotOurWorkbook, os_reason
from xl_addin.read import verdict
from xl_addin.read import workbook as fastread


def check_file(path, campaign, registry=None, materials=True):
    """Read and evaluate one workbook.

    Args:
        path: a filled 申请书 or 附件3 (.xlsx).
        campaign: the Campaign of the run.
        registry: the campaign registry (.sqlite) to look the applicant up in (K4/E06, E33;
            issue 14); default 评价档案.sqlite beside the workbook when it exists.
        materials: judge the 材料清单 as the sheet does (`saq check FILE`); False where a
            dossier folder's files are the evidence instead (`saq check 文件夹`, RULES.md M).
    Returns:
        verdict.Verdict: the form's findings, then the 材料清单 items not provided (M codes,
        also in ``materials``); ``status`` is the sheet's banner.
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
    # materials=True: the 材料清单 joins the verdict, so `saq check` says what the sheet's
    # banner says (材料：缺 N 项, RULES.md M).
    return verdict.verdict(sub, campaign, _registry_inputs(p, registry, sub, campaign),
                           materials=materials)


def _registry_inputs(path, registry, sub, campaign):
    """What the registry knows of the applicant (issue 14); {} without a registry."""
    if sub.kind != "application":
        return {}
    reg = regmod.open_if_exists(registry or regmod.default_path(path))
    if reg is None:
        return {}
    with reg:
        uscc = regmod.uscc_key(sub.values.get("uscc"))  # as the engine reads it
        return regmod.engine_inputs(regmod.lookup(reg, uscc, campaign.year, campaign))

