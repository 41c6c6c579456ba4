"""Benchmark: `saq consolidate` against three baselines measured in the same run (issue 23).

At N = 300, 1,000 and 3,000 generated submissions (about 1 推荐表 per 17; the demo's
writers fill the live templates), each of these runs in a fresh interpreter, one after the
other, ``--repeat`` times (the median is reported), by CPU time (user + system, the
reading processes included) and wall time:

- consolidate: `saq consolidate` as a user runs it (default reading processes), every
  score, level and flag recomputed and the master written;
- all-sheets floor: a raw python-calamine read of every sheet of every file (open, build,
  ``to_python``) — nothing checked, nothing written;
- needed-sheets floor: the same, of only the sheets the verdict reads (``_meta``, the sheets
  the defined names point into, the sheet of the kind's table); which sheets is found before
  the clock starts;
- naive loop: ``pandas.read_excel(path, sheet_name=None)`` of every file (every sheet: the
  data are in 申请表, 自评表 and 被访者名单) and ``pandas.concat`` of the first sheets — no
  checks. With ``--first-sheet``, the older, lighter loop that reads only each file's first
  sheet is measured too: it reads a fraction of what consolidation reads.

It prints the ratios at each N, the growth exponent (slope of log CPU over log N; 1 is
linear) and whether the targets hold at N = 1,000: at least 10× less CPU than the naive loop
and at most 2× the all-sheets floor. The machine's load average is printed with each N.

    python benchmarks/bench_consolidate.py                      # 300, 1,000, 3,000; 3 runs
    python benchmarks/bench_consolidate.py --n 300 --repeat 1 --keep /tmp/bench
    python benchmarks/bench_consolidate.py --n 3000 --json big.json   # one N on its own,
    python benchmarks/bench_consolidate.py --report small.json big.json  # then the report of all
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import measure  # noqa: E402

CONSOLIDATE = measure.PEAK + """
import sys
from xl_addin.consolidate import consolidate
w = None if sys.argv[3] == "default" else int(sys.argv[3])
from xl_addin.rules.campaign import load
res = consolidate(sys.argv[1], sys.argv[2], load(2023), progress=False, workers=w,
                  registry=sys.argv[4] if len(sys.argv) > 4 else None)
from xl_addin.consolidate.run import default_workers
print(json.dumps({"entries": len(res.entries), "files": len(res.files),
                  "errors": res.errors, "warnings": res.warnings,
                  "rejected": len(res.rejected), "workers": w or default_workers(), **peak()}))
"""

FLOOR_ALL = measure.PEAK + """
import sys
from pathlib import Path
from python_calamine import CalamineWorkbook
cells = 0
for p in sorted(Path(sys.argv[1]).rglob("*.xlsx")):
    wb = CalamineWorkbook.from_path(str(p))
    for name in wb.sheet_names:
        cells += sum(len(r) for r in wb.get_sheet_by_name(name).to_python())
    wb.close()
print(json.dumps({"cells": cells, **peak()}))
"""

FLOOR_NEEDED = measure.PEAK + """
import sys, time, zipfile
from pathlib import Path
from python_calamine import CalamineWorkbook
from xl_addin.read import verdict as V, workbook as fr
from xl_addin.rules.campaign import load
t0 = time.process_time()
c = load()
wanted = V.wanted_names(c)
plan = []
for p in sorted(Path(sys.argv[1]).rglob("*.xlsx")):
    with zipfile.ZipFile(p) as z:
        sheets, names = fr._workbook_parts(z, p)
        need = {fr.META_SHEET}
        need |= {fr.parse_ref(v)[0] for k, v in names.items() if k in wanted and fr.parse_ref(v)}
        tables = fr._table_parts(z, {n: part for n, _s, part in sheets})
        need |= {tables[t][0] for t in (V.RESPONDENT_TABLE, V.RECOMMENDATION_TABLE) if t in tables}
    plan.append((str(p), [n for n, _s, _p in sheets if n in need]))
plan_cpu = time.process_time() - t0
cells = sheets_read = 0
for p, need in plan:
    wb = CalamineWorkbook.from_path(p)
    for name in need:
        cells += sum(len(r) for r in wb.get_sheet_by_name(name).to_python())
        sheets_read += 1
    wb.close()
print(json.dumps({"cells": cells, "sheets": sheets_read, "plan_cpu": plan_cpu, **peak()}))
"""

NAIVE_ALL = measure.PEAK + """
import sys
from pathlib import Path
import pandas as pd
frames, sheets = [], 0
for p in sorted(Path(sys.argv[1]).rglob("*.xlsx")):
    try:
        book = pd.read_excel(p, sheet_name=None)
    except Exception:
        continue
    sheets += len(book)
    df = next(iter(book.values()))
    df["来源文件"] = str(p)
    frames.append(df)
out = pd.concat(frames, ignore_index=True)
print(json.dumps({"rows": len(out), "files": len(frames), "sheets": sheets, **peak()}))
"""

NAIVE_FIRST = measure.PEAK + """
import sys
from pathlib import Path
import pandas as pd
frames = []
for p in sorted(Path(sys.argv[1]).rglob("*.xlsx")):
    try:
        df = pd.read_excel(p)
    except Exception:
        continue
    df["来源文件"] = str(p)
    frames.append(df)
out = pd.concat(frames, ignore_index=True)
print(json.dumps({"rows": len(out), "files": len(frames), **peak()}))
"""

KINDS = [("consolidate", "saq consolidate"), ("floor_all", "全部工作表下限（calamine）"),
         ("floor_needed", "所需工作表下限（calamine）"), ("naive_all", "pandas 循环（全部工作表）"),
         ("naive_first", "pandas 循环（仅第一个工作表）")]


def generate(folder, n):
    """``n`` submissions: about 1 recommender per 17 applications, no broken files."""
    from xl_addin.demo import write_campaign
    from xl_addin.rules.campaign import load
    n_rec = max(16, round(n / 17))
    t = time.perf_counter()
    write_campaign(folder, seed=2023, n_apps=n - n_rec, n_recommenders=n_rec, broken=False,
                   campaign=load(2023))
    files = sum(1 for _ in Path(folder).rglob("*.xlsx"))
    print(f"生成 {files} 个提交文件（{n_rec} 个推荐表），用时 {time.perf_counter() - t:.0f} 秒",
          flush=True)


def measure_n(base, n, repeat, workers, first_sheet=False):
    inbox = base / f"inbox{n}"
    if not inbox.exists() or not any(inbox.rglob("*.xlsx")):
        generate(inbox, n)
    runs = {k: [] for k, _ in KINDS}
    load_before = measure.load_average()
    for k in range(repeat):
        out = base / f"master{n}_{k}.xlsx"
        r = measure.run(CONSOLIDATE, inbox, out, workers)
        runs["consolidate"].append(r)
        for f in out.parent.glob(out.stem + "*"):  # the master and its backups: a fresh run
            f.unlink()
        runs["floor_all"].append(measure.run(FLOOR_ALL, inbox))
        r = measure.run(FLOOR_NEEDED, inbox)
        r["cpu"] -= r["plan_cpu"]  # finding which sheets is not the floor's work
        runs["floor_needed"].append(r)
        runs["naive_all"].append(measure.run(NAIVE_ALL, inbox))
        if first_sheet:
            runs["naive_first"].append(measure.run(NAIVE_FIRST, inbox))
        print(f"  N={n} 第 {k + 1} 次：" + "，".join(
            f"{k2} {v[-1]['cpu']:.1f}" for k2, v in runs.items() if v) + " CPU 秒", flush=True)
    return {"n": n, "load_before": load_before, "load_after": measure.load_average(),
            "runs": runs,
            "cpu": {k: measure.median(v, "cpu") for k, v in runs.items() if v},
            "wall": {k: measure.median(v, "wall") for k, v in runs.items() if v},
            "facts": runs["consolidate"][-1]}


def report(results):
    lines = []
    for res in results:
        n, cpu, wall, f = res["n"], res["cpu"], res["wall"], res["facts"]
        lines.append(f"N = {n:,}（负载 {res['load_before']} → {res['load_after']}；"
                     f"{f['files']} 个文件 → {f['entries']} 项申请，{f['errors']} 个错误、"
                     f"{f['warnings']} 个提醒、拒收 {f['rejected']} 条；{f['workers']} 个读取进程；"
                     f"峰值内存 {f['peak_mb']:.0f} MB + 读取进程 ≤ {f['child_peak_mb']:.0f} MB）")
        for k, label in KINDS:
            if k in cpu:
                lines.append(f"  {label:28s} CPU {cpu[k]:8.1f} 秒   墙钟 {wall[k]:8.1f} 秒")
        c = cpu["consolidate"]
        lines.append(f"  比值（CPU）：比全部工作表下限慢 {c / cpu['floor_all']:.2f}×，比所需工作表下限慢 "
                     f"{c / cpu['floor_needed']:.2f}×，比 pandas 循环（全部工作表）快 "
                     f"{cpu['naive_all'] / c:.1f}×" +
                     (f"，比 pandas 循环（仅第一个工作表）快 {cpu['naive_first'] / c:.1f}×"
                      if "naive_first" in cpu else ""))
        lines.append(f"  比值（墙钟）：全部工作表下限的 {wall['consolidate'] / wall['floor_all']:.2f}×，"
                     f"比 pandas 循环（全部工作表）快 {wall['naive_all'] / wall['consolidate']:.1f}×")
    ns = [r["n"] for r in results]
    if len(ns) > 1:
        exps = {k: measure.exponent(ns, [r["cpu"][k] for r in results])
                for k, _ in KINDS if all(k in r["cpu"] for r in results)}
        lines.append("增长指数（CPU，log-log 斜率，1 为线性）：" +
                     "，".join(f"{label} {exps[k]:.2f}" for k, label in KINDS if k in exps))
    return lines, (measure.exponent(ns, [r["cpu"]["consolidate"] for r in results])
                   if len(ns) > 1 else None)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[300, 1000, 3000],
                    help="numbers of submissions (default 300 1000 3000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each; the median is reported")
    ap.add_argument("--keep", help="generate into (or reuse) this folder instead of a temp one")
    ap.add_argument("--workers", default="default",
                    help="reading processes of consolidate (default: as `saq consolidate`)")
    ap.add_argument("--first-sheet", action="store_true",
                    help="also measure the pandas loop that reads only each file's first sheet")
    ap.add_argument("--json", help="also write the measurements to this file (after each N)")
    ap.add_argument("--report", nargs="+", metavar="JSON",
                    help="measure nothing: report the measurements of earlier runs together")
    args = ap.parse_args(argv)
    if args.report:
        results = sorted((r for f in args.report
                          for r in json.loads(Path(f).read_text(encoding="utf-8"))),
                         key=lambda r: r["n"])
    else:
        results = measure_all(args)
    lines, exp = report(results)
    print("\n".join(lines))
    ok = True
    at = next((r for r in results if r["n"] == 1000), None)
    if at:
        cpu = at["cpu"]
        faster, floor = cpu["naive_all"] / cpu["consolidate"], cpu["consolidate"] / cpu["floor_all"]
        ok = faster >= 10 and floor <= 2
        print(f"目标（N = 1,000，CPU）：比 pandas 循环快 ≥ 10×：{faster:.1f}× "
              f"{'达到' if faster >= 10 else '未达到'}；不超过全部工作表下限的 2×：{floor:.2f}× "
              f"{'达到' if floor <= 2 else '未达到'}")
    if exp is not None:
        ok = ok and exp < 1.15
        print(f"增长：CPU 指数 {exp:.2f}（{'线性' if exp < 1.15 else '超线性'}）")
    return 0 if ok else 1


def measure_all(args):
    measure.warm()
    print(f"开始：负载 {measure.load_average()}（2 核机器上的 1/5/15 分钟平均）", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(args.keep or tmp)
        base.mkdir(parents=True, exist_ok=True)
        for n in args.n:
            results.append(measure_n(base, n, args.repeat, args.workers, args.first_sheet))
            if args.json:  # after each N: a long run stopped halfway keeps what it measured
                Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1),
                                           encoding="utf-8")
    return results


if __name__ == "__main__":
    sys.exit(main())
