"""Benchmark: consolidation against a 20,000-row campaign registry vs an empty one (issue 23).

2,000 generated applications (and their 推荐表) are consolidated with ``--registry`` naming
an empty 评价档案.sqlite, then one holding 20,000 results of the three years before the
campaign (every applicant among them, so every lookup finds rows: E06/E33 and 上年结果 are
computed for every application). Each run is a fresh interpreter, by CPU time (reading
processes included). The two run in pairs, one right after the other, the order swapped
from pair to pair (the load of a shared machine drifts within minutes); the extra cost is
the median over the pairs of full ÷ empty. Target: under 5 % more CPU.

It also times one organisation's lookup as `saq check` makes it (registry.lookup), with
the index on 统一社会信用代码 and, for comparison, on a copy without it.

    python benchmarks/bench_registry.py [--apps 2000] [--rows 20000] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import measure  # noqa: E402
from bench_consolidate import CONSOLIDATE  # noqa: E402

SEED = 2023


def corpus(folder, n_apps, c):
    from xl_addin.demo import write_campaign
    n_rec = max(16, round(n_apps / 17))
    if not folder.exists() or not any(folder.rglob("*.xlsx")):
        t = time.perf_counter()
        write_campaign(folder, seed=SEED, n_apps=n_apps, n_recommenders=n_rec, broken=False,
                       campaign=c)
        print(f"生成 {n_apps} 份申请书、{n_rec} 份推荐表，用时 {time.perf_counter() - t:.0f} 秒",
              flush=True)
    from xl_addin.demo import build
    apps, _headers = build(c, SEED, n_apps, n_rec)  # the same applicants, without writing
    return sorted({a.values["uscc"] for a in apps if a.values.get("uscc")})


def registries(base, usccs, n_rows, c):
    """(empty, full): two registry files; the full one holds ``n_rows`` earlier results."""
    from xl_addin import registry
    from xl_addin.rules.uscc import make
    empty, full = base / "empty.sqlite", base / "full.sqlite"
    for p in (empty, full):
        p.unlink(missing_ok=True)
        registry.Registry(p).close()
    rng = random.Random(SEED)
    cats = [x.name for x in c.categories]
    levels = [(lv.name, lv.rank) for lv in c.levels] + [("不达标", 0)]
    rows, keys = [], set()
    years = [c.year - 3, c.year - 2, c.year - 1]
    orgs = list(usccs)
    while len(orgs) < n_rows // 2:  # organisations that did not apply this year
        orgs.append(make(f"9131{rng.randrange(10**13):013d}"))
    while len(rows) < n_rows:
        u = orgs[len(rows) % len(orgs)] if len(rows) < len(orgs) else rng.choice(orgs)
        y, cat = rng.choice(years), rng.choice(cats)
        project = "" if cat == "企业类" else f"项目{rng.randrange(1000)}"
        if (y, u, cat, project) in keys:
            continue
        keys.add((y, u, cat, project))
        level, rank = rng.choice(levels)
        rows.append((y, u, f"组织{u[-6:]}", cat, project, level, rank, "基准", "2020-01-01"))
    db = sqlite3.connect(full)
    with db:
        db.executemany("INSERT INTO results VALUES(?,?,?,?,?,?,?,?,?)", rows)
    db.close()
    return empty, full


def lookups(path, usccs, c, drop_index=False):
    """ms per registry.lookup (saq check's path) over every applicant."""
    from xl_addin import registry
    p = path
    if drop_index:
        p = path.with_name("noindex.sqlite")
        shutil.copy(path, p)
        db = sqlite3.connect(p)
        db.execute("DROP INDEX IF EXISTS idx_results_uscc")
        db.commit()
        db.close()
    reg = registry.Registry.__new__(registry.Registry)  # open as is: no schema script,
    reg.path, reg.db = p, sqlite3.connect(p)  # which would put the index back
    reg.readonly, reg._depth, reg._head, reg._years = True, 0, None, None
    t = time.process_time()
    for u in usccs:
        registry.lookup(reg, u, c.year, c)
    ms = (time.process_time() - t) / len(usccs) * 1000
    reg.close()
    return ms


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--apps", type=int, default=2000)
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=5, help="pairs of runs")
    ap.add_argument("--keep", help="generate into (or reuse) this folder")
    args = ap.parse_args(argv)
    from xl_addin.rules.campaign import load
    c = load()
    measure.warm()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(args.keep or tmp)
        base.mkdir(parents=True, exist_ok=True)
        inbox = base / f"registry_inbox{args.apps}"
        usccs = corpus(inbox, args.apps, c)
        empty, full = registries(base, usccs, args.rows, c)
        print(f"开始：负载 {measure.load_average()}", flush=True)
        runs = {"empty": [], "full": []}
        for k in range(args.repeat):
            pair = (("empty", empty), ("full", full))
            for label, reg in (pair if k % 2 == 0 else pair[::-1]):
                out = base / f"master_{label}_{k}.xlsx"
                runs[label].append(measure.run(CONSOLIDATE, inbox, out, "default", reg))
                for f in out.parent.glob(out.stem + "*"):
                    f.unlink()
                print(f"  第 {k + 1} 次 {label}: CPU {runs[label][-1]['cpu']:.1f} 秒", flush=True)
        with_index = lookups(full, usccs, c)
        without = lookups(full, usccs, c, drop_index=True)
        load_after = measure.load_average()
    e, f = measure.median(runs["empty"], "cpu"), measure.median(runs["full"], "cpu")
    fe, ff = runs["empty"][-1], runs["full"][-1]
    ratios = [b["cpu"] / a["cpu"] for a, b in zip(runs["empty"], runs["full"])]
    more = (statistics.median(ratios) - 1) * 100
    print(f"{fe['entries']} 项申请（{fe['files']} 个文件），{fe['workers']} 个读取进程；负载 {load_after}")
    print(f"空评价档案          : CPU {e:7.1f} 秒（中位数），墙钟 {measure.median(runs['empty'], 'wall'):7.1f} 秒；"
          f"{fe['errors']} 个错误、{fe['warnings']} 个提醒")
    print(f"{args.rows:,} 行评价档案 : CPU {f:7.1f} 秒（中位数），墙钟 {measure.median(runs['full'], 'wall'):7.1f} 秒；"
          f"{ff['errors']} 个错误、{ff['warnings']} 个提醒（E06/E33 按档案判断）")
    print("每对 满÷空：" + "，".join(f"{r:.3f}" for r in ratios))
    print(f"多用 {more:+.1f}% CPU（各对比值的中位数；目标 < 5%）：{'达到' if more < 5 else '未达到'}")
    print(f"单个组织查询（saq check 的路径）：有统一社会信用代码索引 {with_index:.3f} 毫秒，"
          f"无索引 {without:.3f} 毫秒")
    return 0 if more < 5 else 1


if __name__ == "__main__":
    sys.exit(main())
