"""Simulated experts filling their workbooks (tests, the README pictures, a dry run).

Deterministic: the values depend only on the seed, the application id and the expert.
Each application has a hidden quality so that experts roughly agree; each expert adds
noise. Behaviours model what real experts do: recuse, leave rows empty, type values
outside the allowed set, rename the sheet.
"""

from __future__ import annotations

import random
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import range_boundaries

from xl_addin.review.expert_table import TABLE, columns
from xl_addin.review.manifest import FILE_NAME, read_manifest
from xl_addin.sheet.xlcache import save_with_values
from xl_addin.tables import set_text_safe

DILIGENT, RECUSES, LEAVES_EMPTY, OUT_OF_RANGE, RENAMES = (
    "diligent", "recuses", "leaves_empty", "out_of_range", "renames")


def quality(app_id, seed=0):
    """The hidden quality (0.5–0.98) of an application's measurement project."""
    return 0.5 + 0.48 * random.Random(f"{seed}|{app_id}").random()


def expert_row(campaign, app_id, expert, seed=0, noise=0.12):
    """Plausible, valid inputs for one row: key -> value."""
    q = quality(app_id, seed)
    rnd = random.Random(f"{seed}|{app_id}|{expert}")
    row = {}
    bonus = {i.id for i in campaign.rubric.items
             if any(s.bonus and s.id == i.section for s in campaign.rubric.sections)}
    for p in campaign.rubric.parts:
        x = min(1.0, max(0.0, q + rnd.uniform(-noise, noise) - (0.4 if p.item in bonus else 0)))
        if p.kind == "score":
            row[p.key] = min(p.allowed, key=lambda a: abs(a - x * p.max))
        elif p.kind == "range":
            row[p.key] = round(x * p.max / campaign.rubric.step) * campaign.rubric.step
        elif p.kind == "errors":
            row[p.key] = 0 if x > 0.6 else 1
        else:
            row[p.key] = "是" if x < 0.3 else "否"
    row[campaign.rubric.veto_key] = "否"
    row["report_use"] = "战略" if q + rnd.uniform(-0.05, 0.05) > 0.7 else \
        ("管理" if q > 0.6 else "无")
    row["risk"] = "有" if q < 0.55 else "无"
    row["comment"] = "材料完整" if q > 0.6 else "=测量方案不完整"  # formula-like on purpose
    return row


def fill_workbook(path, campaign, expert, behaviour=DILIGENT, seed=0, recuse=(), out=None):
    """Fill an expert workbook as ``behaviour`` and save it (to ``out`` or in place).

    Args:
        recuse: app ids this expert marks 回避 (RECUSES).
    Returns:
        dict app id -> the values typed (empty for rows left blank), for the tests.
    """
    wb = load_workbook(path)
    ws = next(w for w in wb.worksheets if TABLE in w.tables)
    c1, r1, c2, r2 = range_boundaries(ws.tables[TABLE].ref)
    col = {c.key: c1 + i for i, c in enumerate(columns(campaign))}
    typed = {}
    for n, r in enumerate(range(r1 + 1, r2 + 1)):
        app_id = ws.cell(r, col["app_id"]).value
        if app_id is None:
            continue
        if behaviour == LEAVES_EMPTY and n % 2 == 1:
            typed[app_id] = {}
            continue
        row = expert_row(campaign, app_id, expert, seed)
        if behaviour == LEAVES_EMPTY and n % 4 == 2:
            for p in campaign.rubric.parts[:3]:  # a half-done row
                row.pop(p.key)
        if behaviour == OUT_OF_RANGE and n % 2 == 0:
            first = campaign.rubric.parts[1]  # a "score" part: one more than its maximum
            row[first.key] = max(first.allowed) + 1
        if app_id in recuse:
            row = {"recused": "是"}
        for key, v in row.items():
            set_text_safe(ws.cell(r, col[key]), v)  # "=…" typed as text (quote prefix)
        typed[app_id] = row
    if behaviour == RENAMES:
        ws.title = "我的评分"
    save_with_values(wb, out or path)
    return typed


def simulate_folder(folder, campaign, seed=0):
    """Fill every expert workbook listed in the folder's 分配表 as a diligent expert (demo).

    Returns:
        the number of workbooks filled.
    """
    root = Path(folder)
    man = read_manifest(root / FILE_NAME, campaign)
    for name, file in man.files.items():
        fill_workbook(root / file, campaign, name, DILIGENT, seed)
    return len(man.files)
