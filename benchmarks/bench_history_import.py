"""Benchmark: `saq history import` of 20,000 rows in one transaction (issues 19, 23).

Before, each row was its own fsync'd commit (111× a bare insert of the same rows). Now the
whole list is read, checked (统一社会信用代码 check digit, category, level, duplicates) and
written in one transaction, with one audit line. Measured in the same run, median of
``--repeat`` runs, each into a fresh empty registry:

- baseline: a bare ``executemany`` of the same 20,000 result rows into the registry's
  ``results`` table, in one transaction (no reading, no checks);
- ``import_history`` end to end (CSV → checks → one transaction);
- its registry transaction alone (the rows already read and checked).

    python benchmarks/bench_history_import.py [--rows 20000] [--repeat 5]
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from xl_addin import registry  # noqa: E402
from xl_addin.review import history  # noqa: E402
from xl_addin.rules.campaign import load  # noqa: E402
from xl_addin.rules.uscc import make  # noqa: E402


def write_list(path, n, c, seed=1):
    rnd = random.Random(seed)
    levels = [lv.name for lv in c.levels]
    rows, lines = [], ["统一社会信用代码,企业名称,申请类别,申报项目名称,等级"]
    for i in range(n):
        u, lv = make(f"91310000{i:09d}"), rnd.choice(levels)
        lines.append(f"{u},上海测试{i}有限公司,服务类,服务{i},{lv}")
        rows.append((u, f"上海测试{i}有限公司", "服务类", f"服务{i}", lv,
                     next(x.rank for x in c.levels if x.name == lv)))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return rows


def bare(path, rows, year):
    db = sqlite3.connect(path, isolation_level=None)
    t = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    db.executemany("INSERT OR REPLACE INTO results VALUES(?,?,?,?,?,?,?,?,?)",
                   [(year, u, o, c, p, lv, r, "bench", "2023-01-01 00:00:00")
                    for u, o, c, p, lv, r in rows])
    db.execute("COMMIT")
    dt = time.perf_counter() - t
    db.close()
    return dt


def imported(path, csv, year, c):
    t = time.perf_counter()
    res = history.import_history(csv, year, path, c, who="bench")
    dt = time.perf_counter() - t
    assert res.new and not res.skipped, res.skipped[:3]
    return dt


def transaction(path, rows, year):
    """The registry side of the import: the year held looked up, rows written, one audit
    line — under the writer's lock, in one transaction."""
    t = time.perf_counter()
    with registry.writing(path, "bench", "bench") as reg, reg.transaction():
        held = reg.held_results(year)
        reg.put_results(year, [r for r in rows if (r[0], r[2], r[3]) not in held], "bench")
        reg.audit("往年结果", None, f"{year} 年结果", "导入", None, f"新增 {len(rows)}", "bench",
                  "bench", year)
    return time.perf_counter() - t


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    c = load()
    year = c.year - 1
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        csv = tmp / "名单.csv"
        rows = write_list(csv, args.rows, c)
        empty = tmp / "empty.sqlite"
        with registry.Registry(empty):
            pass
        times = {"bare": [], "import": [], "transaction": []}
        for k in range(args.repeat):
            for name in times:
                p = tmp / f"{name}{k}.sqlite"
                shutil.copy(empty, p)
                if name == "bare":
                    times[name].append(bare(p, rows, year))
                elif name == "import":
                    times[name].append(imported(p, csv, year, c))
                else:
                    times[name].append(transaction(p, rows, year))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{args.rows:,} 行，{args.repeat} 次取中位数")
    print(f"基线：一次 executemany 写入同样的行（不读文件、不检查）: {med['bare']:6.3f} 秒")
    print(f"saq history import 全程（读 CSV、检查、一个事务）:      {med['import']:6.3f} 秒"
          f"  ratio = {med['import'] / med['bare']:.1f}×")
    print(f"其中评价档案的事务（锁、查已有年度、写入、审计）:       {med['transaction']:6.3f} 秒"
          f"  ratio = {med['transaction'] / med['bare']:.1f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
