"""A small demo campaign taken through the README's commands to the points the stage tests
start from (issue 19): ``staged`` (合议 and 审定 decided, 现场评审 entered), ``publicized``
(公示 held) and ``published`` (发布 done, the year frozen). Built once per test run
(conftest.shared_once); a test works on a copy."""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import range_boundaries

from xl_addin import cli
from xl_addin.rules.campaign import load

C = load()
Y = C.year
WB, REG = "评定.xlsx", "评价档案.sqlite"
OVERRIDE_REASON = "已核实：E06 不成立（审定会议）"
SHEET_TABLES = {"合议": "deliberation", "现场评审": "onsite_results", "审定": "approval",
                "公示": "publication"}


def saq(*argv):
    """``saq`` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


def table(wb, sheet, name):
    ws = wb[sheet]
    c1, r1, c2, r2 = range_boundaries(ws.tables[name].ref)
    head = {ws.cell(r1, c).value: c for c in range(c1, c2 + 1)}
    return ws, head, list(range(r1 + 1, r2 + 1))


def rows_of(path, sheet, name):
    wb = load_workbook(path)
    ws, head, rng = table(wb, sheet, name)
    return [{h: ws.cell(r, c).value for h, c in head.items()} for r in rng]


class TEXT(str):
    """Text typed as text (Excel: '=…), though it starts like a formula."""


def edit(path, sheet, changes):
    """Type into ``sheet``: {row index (0 = first data row) or app id: {header: value}}."""
    wb = load_workbook(path)
    ws, head, rng = table(wb, sheet, SHEET_TABLES[sheet])
    ids = {ws.cell(r, head["申请编号"]).value: r for r in rng}
    for which, cells in changes.items():
        r = rng[which] if isinstance(which, int) else ids[which]
        for h, v in cells.items():
            ws.cell(r, head[h]).value = str(v) if isinstance(v, TEXT) else v
            if isinstance(v, TEXT):
                ws.cell(r, head[h]).data_type = "s"
    wb.save(path)


def excluded_rows(path):
    return [str(r["依据"]) for r in rows_of(path, "审定", "approval")
            if str(r["依据"]).startswith("未参加专家评审")]


def excluded_ids(path):
    return [r["申请编号"] for r in rows_of(path, "审定", "approval")
            if str(r["依据"]).startswith("未参加专家评审")]


def to_confirm(path):
    """Applications whose 审定 row shows a warning to confirm (RULES.md P3)."""
    return [r["申请编号"] for r in rows_of(path, "审定", "approval")
            if "须核实：" in str(r["提醒"] or "")]


def reviewed_ids(path):
    return [r["申请编号"] for r in rows_of(path, "审定", "approval")
            if not str(r["依据"]).startswith("未参加专家评审")]


def _pipeline(root):
    from xl_addin import demo
    from xl_addin.consolidate import consolidate
    from xl_addin.review.stage_demo import write_inputs
    demo.write_campaign(root / "收件", n_apps=12, n_recommenders=2, broken=False, campaign=C)
    consolidate(root / "收件", root / "汇总表.xlsx", C, progress=False)
    experts, history = write_inputs(root, C)
    for argv in (["history", "import", history, "--year", Y - 1, "--registry", root / REG],
                 ["consolidate", root / "收件", "-o", root / "汇总表.xlsx", "-q"],
                 ["review", "assign", root / "汇总表.xlsx", "--experts", experts, "-o",
                  root / "专家评审"],
                 ["review", "simulate", root / "专家评审"],
                 ["stage", "start", root / "专家评审", "-o", root / WB, "--by", "张三"]):
        rc, out, err = saq(*argv)
        assert rc == 0, (argv, out, err)
    wbp = root / WB
    # an excluded application whose errors may be overruled (not an identity error, P2)
    ex = [a for a, r in zip(excluded_ids(wbp), excluded_rows(wbp))
          if not ("（E16）" in r or "（E20）" in r)]
    assert ex, "the demo must have an excluded application"
    edit(wbp, "合议", {0: {"合议等级": "用户满意亮诺", "合议理由": "合议：证据不足。"}})
    # the warnings staff must confirm before 公示 (RULES.md P3), confirmed in 审定
    confirm = to_confirm(wbp)
    changes = {a: {"核实": "已核实"} for a in confirm}
    changes.setdefault(ex[0], {}).update({"审定等级": "用户满意亮诺", "审定理由": OVERRIDE_REASON})
    edit(wbp, "审定", changes)
    rc, out, err = saq("stage", "update", wbp, "--by", "施卫丹")
    assert rc == 0 and f"本次记录 {4 + len(confirm)} 项改动" in out, (out, err)
    # 现场评审 results, so that 公示 may be held
    wb = load_workbook(wbp)
    if "onsite_results" in wb["现场评审"].tables:
        ws, h, rng = table(wb, "现场评审", "onsite_results")
        for r in rng:
            ws.cell(r, h["现场评审结论"]).value = "通过"
        wb.save(wbp)
    rc, out, err = saq("stage", "update", wbp, "--by", "施卫丹")
    assert rc == 0, (out, err)


def build_bases(root):
    """The three bases under ``root``: {"staged", "publicized", "published"} -> folder."""
    root = Path(root)
    staged = root / "staged"
    _pipeline(staged)
    publicized = root / "publicized"
    shutil.copytree(staged, publicized)
    rc, out, err = saq("stage", "publicize", publicized / WB, "--start", f"{Y}-09-18",
                       "--no-pdf", "--by", "施卫丹")
    assert rc == 0, (out, err)
    published = root / "published"
    shutil.copytree(publicized, published)
    rc, out, err = saq("stage", "publish", published / WB, "--date", f"{Y}-09-28", "--no-pdf",
                       "--by", "施卫丹")
    assert rc == 0, (out, err)
    return {"staged": staged, "publicized": publicized, "published": published}
