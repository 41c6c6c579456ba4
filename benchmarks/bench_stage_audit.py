"""Benchmark: `saq stage update` with 100 and with 100,000 audit lines (issue 19 §7).

Before, every stage command read the whole audit trail and wrote it into the 审计记录 sheet:
with 10^5 lines `stage update` took 81 s and 923 MB. Now it reads only the lines it shows
(the newest 500 of the year; `saq history audit` exports all) and counts the rest with the
index on the audit's year. Two copies of the same small campaign (12 applications, after
`saq stage start`) differ only in the number of audit lines; `saq stage update` runs on each
in its own process, alternately, median of ``--repeat``: wall time, CPU time and peak memory.
The baseline is the run with 100 lines, measured in the same run.

    python benchmarks/bench_stage_audit.py [--lines 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from xl_addin import cli, registry  # noqa: E402
from xl_addin.rules.campaign import load  # noqa: E402

BOOT = """
import resource, sys, time
t0, c0 = time.perf_counter(), time.process_time()
from xl_addin.cli import main
code = main(sys.argv[1:])
with open("/proc/self/status") as f:
    peak = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) * 1024
print("BENCH", code, time.perf_counter() - t0, time.process_time() - c0, peak, file=sys.stderr)
"""


def campaign(root, c):
    """A small campaign up to `saq stage start` (the README's commands)."""
    from xl_addin import demo
    from xl_addin.consolidate import consolidate
    from xl_addin.review.stage_demo import write_inputs
    demo.write_campaign(root / "收件", n_apps=12, n_recommenders=2, broken=False, campaign=c)
    consolidate(root / "收件", root / "汇总表.xlsx", c, progress=False)
    experts, history = write_inputs(root, c)
    for argv in (["history", "import", history, "--year", c.year - 1, "--registry",
                  root / registry.FILE_NAME],
                 ["review", "assign", root / "汇总表.xlsx", "--experts", experts, "-o",
                  root / "专家评审"],
                 ["review", "simulate", root / "专家评审"],
                 ["stage", "start", root / "专家评审", "-o", root / "评定.xlsx"]):
        assert cli.main([str(a) for a in argv]) == 0, argv


def pad(path, total, year):
    """Audit lines of ``year`` until the registry holds ``total`` (one transaction)."""
    with registry.writing(path, "bench", "bench") as reg, reg.transaction():
        n = reg.audit_count()
        lines = [(f"2023-09-{1 + i % 28:02d} 10:00:00", "施卫丹", year, "审定", f"{year}-{i % 999:03d}",
                  f"上海测试{i}有限公司", "审定理由", None, f"理由 {i}", "") for i in range(total - n)]
        reg.audit_many(lines)
        return reg.audit_count()


def update(folder):
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8")
    r = subprocess.run([sys.executable, "-c", BOOT, "stage", "update", str(folder / "评定.xlsx")],
                       capture_output=True, env=env, text=True)
    line = next(x for x in r.stderr.splitlines() if x.startswith("BENCH"))
    _, code, wall, cpu, peak = line.split()
    assert code == "0", r.stdout + r.stderr
    return float(wall), float(cpu), int(peak)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    c = load()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        t = time.perf_counter()
        campaign(base, c)
        small, big = Path(tmp) / "small", Path(tmp) / "big"
        shutil.copytree(base, small)
        shutil.copytree(base, big)
        n_small = pad(small / registry.FILE_NAME, 100, c.year)
        n_big = pad(big / registry.FILE_NAME, args.lines, c.year)
        print(f"准备：{time.perf_counter() - t:.0f} 秒（12 份申请；审计记录 {n_small} 条 / {n_big:,} 条）")
        runs = {"small": [], "big": []}
        for _ in range(args.repeat):
            runs["small"].append(update(small))
            runs["big"].append(update(big))
    med = {k: [statistics.median(x[i] for x in v) for i in range(3)] for k, v in runs.items()}
    for k, label in (("small", f"{n_small} 条（基线）"), ("big", f"{n_big:,} 条")):
        wall, cpu, peak = med[k]
        print(f"saq stage update，审计记录 {label}: {wall:6.2f} 秒，CPU {cpu:5.2f} 秒，"
              f"峰值内存 {peak / 2**20:5.0f} MB")
    print(f"ratio（{n_big:,} 条 / {n_small} 条）: 时间 {med['big'][0] / med['small'][0]:.2f}×，"
          f"CPU {med['big'][1] / med['small'][1]:.2f}×，内存 {med['big'][2] / med['small'][2]:.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
