"""Benchmark: `saq consolidate` on 1,000 generated submissions vs a naive baseline.

The baseline is what one would write without this tool: a loop of ``pandas.read_excel``
over the same files (first sheet of each, pandas' default engine), then ``pandas.concat``
— it reads less than consolidation does and checks nothing. Both run in fresh
subprocesses, one after the other, in the same run, so the ratio is measured on the same
machine under the same load. Peak memory is each subprocess's own maximum RSS.

    python benchmarks/bench_consolidate.py            # 1,000 submissions
    python benchmarks/bench_consolidate.py --n 300 --keep /tmp/bench

Targets (issue 4): at least 5× faster than the baseline, peak memory under 500 MB.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONSOLIDATE = """
import json, resource, sys, time
from xl_addin.consolidate import consolidate
from xl_addin.rules.campaign import load
t = time.perf_counter()
res = consolidate(sys.argv[1], sys.argv[2], load(2023), progress=False, workers=int(sys.argv[3]))
dt = time.perf_counter() - t
me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # largest worker
print(json.dumps({"seconds": dt, "rows": len(res.entries), "files": len(res.files),
                  "peak_mb": me, "worker_mb": kids, "workers": int(sys.argv[3])}))
"""

BASELINE = """
import json, resource, sys, time
from pathlib import Path
import pandas as pd
t = time.perf_counter()
frames = []
for p in sorted(Path(sys.argv[1]).rglob("*.xlsx")):
    try:
        df = pd.read_excel(p)
    except Exception:
        continue
    df["来源文件"] = str(p)
    frames.append(df)
out = pd.concat(frames, ignore_index=True)
dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "rows": len(out), "files": len(frames),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def generate(folder, n):
    """``n`` submissions: about 1 recommender per 16 applications, no broken files."""
    from xl_addin.demo import write_campaign
    from xl_addin.rules.campaign import load
    n_rec = max(16, round(n / 17))
    t = time.perf_counter()
    write_campaign(folder, seed=2023, n_apps=n - n_rec, n_recommenders=n_rec, broken=False,
                   campaign=load(2023))
    files = sum(1 for p in Path(folder).rglob("*.xlsx"))
    print(f"生成 {files} 个提交文件（{n_rec} 个推荐表），用时 {time.perf_counter() - t:.1f} 秒")


def measure(code, *args):
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="number of submissions (default 1000)")
    ap.add_argument("--keep", help="generate into (or reuse) this folder instead of a temp one")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each; the best is reported")
    ap.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1),
                    help="reading processes of consolidate (1 = serial)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(args.keep or tmp)
        inbox = base / "inbox"
        if not inbox.exists() or not any(inbox.rglob("*.xlsx")):
            generate(inbox, args.n)
        ours, naive = [], []
        for k in range(args.repeat):
            ours.append(measure(CONSOLIDATE, inbox, base / f"master{k}.xlsx", args.workers))
            naive.append(measure(BASELINE, inbox))
        o = min(ours, key=lambda r: r["seconds"])
        b = min(naive, key=lambda r: r["seconds"])
    ratio = b["seconds"] / o["seconds"] if o["seconds"] else math.inf
    total_mb = o["peak_mb"] + (o["workers"] * o["worker_mb"] if o["workers"] > 1 else 0)
    pool = (f"（{o['workers']} 个读取进程，每个 ≤ {o['worker_mb']:.0f} MB；合计上限 {total_mb:.0f} MB）"
            if o["workers"] > 1 else "（不并行）")
    print(f"saq consolidate : {o['seconds']:7.2f} 秒，峰值内存 {o['peak_mb']:6.0f} MB{pool}，"
          f"{o['files']} 个文件 → {o['rows']} 项申请（重算自评分、等级、问题并写出汇总表）")
    print(f"pandas 基线     : {b['seconds']:7.2f} 秒，峰值内存 {b['peak_mb']:6.0f} MB，"
          f"{b['files']} 个文件 → {b['rows']} 行（只读第一个工作表，不做任何检查）")
    print(f"速度比 ratio = {ratio:.1f}×（目标 ≥ 5×）；峰值内存目标 < 500 MB（合计上限）："
          f"{'达到' if total_mb < 500 else '未达到'}")
    return 0 if ratio >= 5 and total_mb < 500 else 1


if __name__ == "__main__":
    sys.exit(main())
