"""Issue 14: the master's 统计 carries native charts whose tables agree with 汇总, and no
category × level column the campaign makes impossible (K3 caps)."""

from __future__ import annotations

from collections import Counter

import pytest

from xl_addin.consolidate.charts import level_buckets, possible
from xl_addin.rules.campaign import load

C = load()


@pytest.fixture(scope="module")
def master(demo_master):
    """The master of `saq demo` (tests/conftest.py: made once per run, shared)."""
    return demo_master


def test_caps_decide_which_levels_a_category_can_get():
    top = max(C.levels, key=lambda lv: lv.rank)
    for cat in C.categories:  # K3: a level above the category's cap is impossible
        for lv in C.levels:
            assert possible(C, cat.name, lv.name) == (lv.rank <= cat.cap)
        assert possible(C, cat.name, C.no_level) and possible(C, cat.name, "未评定")
    assert any(not possible(C, c.name, top.name) for c in C.categories)  # e.g. 产品类 × 标杆
    assert level_buckets(C, "未评定")[0] == top.name


def _grid(ws):
    return [[c for c in row] for row in ws.iter_rows(values_only=True)]


def _block(grid, title):
    """Rows of the chart table under ``title`` (header row first), up to a blank row."""
    i = next(i for i, r in enumerate(grid) if r and r[0] == title)
    out = []
    for r in grid[i + 1:]:
        if not r or r[0] is None:
            break
        out.append(r)
    return out


def test_statistics_have_four_charts_agreeing_with_the_summary(master):
    from openpyxl import load_workbook
    wb = load_workbook(master)
    ws = wb["统计"]
    titles = sorted("".join(run.t for p in ch.title.tx.rich.p for run in p.r)
                    for ch in ws._charts)
    assert titles == sorted(["各推荐单位的申请数", "各申请类别的申请数（按建议等级）",
                             "各建议等级的申请数", "评价进度（各阶段的申请数）"])
    rows = list(wb["汇总"].iter_rows(values_only=True))
    head, rows = rows[0], rows[1:]
    col = {h: i for i, h in enumerate(head)}
    grid = _grid(ws)
    by_rec = {r[0]: r[1:4] for r in _block(grid, "按推荐单位：申请数")[1:]}
    want = Counter(r[col["推荐单位"]] for r in rows)
    assert {k: sum(v) for k, v in by_rec.items()} == dict(want)
    errs = Counter(r[col["推荐单位"]] for r in rows if r[col["错误数"]])
    assert {k: v[0] for k, v in by_rec.items()} == {k: errs.get(k, 0) for k in want}
    cat_block = _block(grid, next(r[0] for r in grid if r and str(r[0]).startswith("按申请类别")))
    levels = cat_block[0][1:]
    per_cat = {r[0]: sum(v or 0 for v in r[1:]) for r in cat_block[1:]}
    assert sum(per_cat.values()) == len(rows)
    assert per_cat == {k: v for k, v in Counter(r[col["申请类别"]] or "（未填）"
                                                 for r in rows).items()} | \
        {k: 0 for k in per_cat if k not in {r[col["申请类别"]] for r in rows}}
    for r in cat_block[1:]:  # an impossible level is blank, never 0 or a count
        for b, v in zip(levels, r[1:]):
            if b and not possible(C, r[0], b):
                assert v is None
    pipeline = [r[1] for r in _block(grid, "评价进度：各阶段的申请数")[1:]]
    has_app = [r for r in rows if r[col["匹配情况"]] != "缺申请书"]
    eligible = [r for r in has_app if not r[col["错误数"]]]
    rated = [r for r in eligible if r[col["建议等级"]] in {lv.name for lv in C.levels}]
    assert pipeline == [len(rows), len(has_app), len(eligible), len(rated)]


def test_no_impossible_category_level_column(master):
    from openpyxl import load_workbook
    ws = load_workbook(master)["统计"]
    top, sub = [[c.value for c in row] for row in ws.iter_rows(min_row=2, max_row=3)]
    cat = None
    pairs = []
    for t, s in zip(top[1:-1], sub[1:-1]):
        cat = t or cat
        pairs.append((cat, s))
    assert pairs and all(possible(C, c, b) for c, b in pairs)
    assert {c for c, _ in pairs} >= {c.name for c in C.categories}
