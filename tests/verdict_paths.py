"""The three places a workbook's verdict shows (issue 9): the sheet itself when recalculated,
`saq check --json`, and its rows in the master. Each function returns the same shape, so a
test compares them with ==.

Shape: {"codes": sorted list of the codes found, each once (the sheet's 问题代码 cell names
a code once, issue 20 §8), "total": float|None, "achievable": str|None,
"proposed": str|None} for an application; {"codes": sorted list} for a 附件3 (header and rows).
The sheet and `saq check` also give the application's 材料清单 (RULES.md M, issue 13):
"materials" (items missing) and "banner" (the status line, word for word). The master has
neither (consolidation judges materials from a dossier folder's files): compare it
:func:`without_materials`.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections import defaultdict

from master_sheets import sheet

from xl_addin.cli import main
from xl_addin.read import workbook as fastread
from xl_addin.rules import parse

# Codes only consolidation can give (several files) or only a reader can see (the stored
# total of the file against its own parts): not part of a single sheet's verdict.
CROSS_FILE = {"E25", "E26", "E35", "M12"}  # M12: the stamped scan beside a 附件3 (issue 13)
READER_ONLY = {"E27"}


def _codes(text):
    return sorted(str(text or "").split())


def _num(v):
    return None if v in (None, "") else round(float(v), 6)


def _text(v):
    return None if v in (None, "") else str(v)


def from_check(path, campaign):
    """`saq check FILE --json --campaign Y`, as a user runs it."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["check", str(path), "--json", "--campaign", str(campaign.year)])
    got = json.loads(buf.getvalue())
    assert code == (1 if got["errors"] else 0)
    mat = got["materials"]
    listed = sorted(i["code"] for i in (mat or {}).get("items", []))
    codes = sorted(f["code"] for f in got["errors"] + got["warnings"])
    for m in listed:  # the 材料清单 items are findings too; the sheet counts them apart
        codes.remove(m)
    codes = sorted(set(codes))
    if got["kind"] == "application":
        out = {"codes": codes, "total": _num(got["selfeval_total"]),
               "achievable": _text(got["achievable_level"]),
               "proposed": _text(got["proposed_level"])}
        if mat is not None:
            assert mat["missing"] == len(listed)
            out.update(materials=mat["missing"], banner=got["status"])
        return out
    assert mat is None
    return {"codes": codes}


def from_master(master, unplaced=()):
    """file (relative, as 文件清单 names it) -> its verdict as the master shows it.

    Args:
        unplaced: not used for applications; 附件3 rows that went to 拒收 carry no flags.
    """
    flags = defaultdict(list)
    for r in sheet(master, "问题清单"):
        if r["问题代码"] not in CROSS_FILE:
            flags[r["来源文件"]].append(r["问题代码"])
    out = {}
    for r in sheet(master, "文件清单"):
        rel = r.get("文件") or r.get("文件路径") or r.get("相对路径")
        out[rel] = {"codes": sorted(set(flags.get(rel, [])))}
    for r in sheet(master, "汇总"):
        if r["匹配情况"] == "缺申请书":
            continue
        out[r["来源文件"]].update(total=_num(r["重算自评分"]), achievable=_text(r["可评等级"]),
                                proposed=_text(r["建议等级"]))
    return out


def from_sheet(recalculated):
    """The verdict the workbook's own formulas give, read from a recalculated copy (None for
    a workbook without the template's formulas)."""
    return sheet_verdict(fastread.read_submission(recalculated))


def from_libreoffice(path):
    """The verdict the workbook's own formulas give when LibreOffice recalculates ``path``
    (the worker's session, tests/lo_session.py: read over UNO, nothing exported); None for a
    workbook without the template's formulas."""
    from lo_session import read_recalculated
    return sheet_verdict(read_recalculated(path, names=SHEET_VERDICT_NAMES,
                                           tables=("recommendations",)))


# The defined names sheet_verdict reads (with the 附件3 table recommendations).
SHEET_VERDICT_NAMES = ("flags", "header_flags", "se_total", "achievable_level", "proposed_level",
                       "materials_missing", "banner")


def sheet_verdict(sub):
    """The verdict of a recalculated workbook read by name (a read/workbook Submission)."""
    v = sub.values
    if "flags" not in v and "header_flags" not in v:
        return None
    if sub.kind == "application":
        out = {"codes": _codes(v.get("flags")), "total": _num(v.get("se_total")),
               "achievable": _text(v.get("achievable_level")),
               "proposed": _text(v.get("proposed_level"))}
        if "materials_missing" in v:  # the 材料清单 and the two-part banner (issue 13)
            out.update(materials=int(v["materials_missing"]), banner=_text(v.get("banner")))
        return out
    codes = _codes(v.get("header_flags"))
    t = sub.tables["recommendations"]
    col = t.columns.index("问题代码")
    for row in t.rows:
        if not parse.is_blank(row[col]):
            codes += _codes(row[col])
    return {"codes": sorted(set(codes))}


def without_materials(verdict):
    """The verdict less the 材料清单's part (what the master shows of a workbook)."""
    return {k: v for k, v in verdict.items() if k not in ("materials", "banner")}


def without_dossier(verdict):
    """The verdict less the M codes: a master row of an application in its dossier folder also
    carries what the folder's files lack (RULES.md M, "the files are the evidence"), which
    `saq check FILE` of the workbook alone cannot see (`saq check 文件夹` does: test_demo)."""
    return {**verdict, "codes": [c for c in verdict["codes"] if not c.startswith("M")]}


def without(verdict, codes):
    out = dict(verdict)
    out["codes"] = [c for c in verdict["codes"] if c not in codes]
    return out
