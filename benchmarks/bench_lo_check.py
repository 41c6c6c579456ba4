"""Benchmark: applications per second that the LibreOffice check covers (issue 3).

Fills N applications (tests/lo_cases.py) into the committed 申请书 template through its
defined names, recalculates each in one LibreOffice process (tests/lo_runner.py) and reads
every computed name back. The baseline, measured in the same run on the same cases, is the
Python engine alone (evaluate_application); the ratio says how much slower the spreadsheet
path is. Not a test: it prints numbers and exits 0.

    python benchmarks/bench_lo_check.py [N]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import lo_cases  # noqa: E402
import lo_diff  # noqa: E402

from xl_addin.forms.templates import template_names  # noqa: E402
from xl_addin.rules.campaign import load  # noqa: E402
from xl_addin.rules.engine import evaluate_application  # noqa: E402


def main(n=300):
    c = load()
    cases = lo_cases.applications(n_random=n, seed=99, c=c)[-n:]
    template = ROOT / "workbooks" / template_names(c)["application"]
    if not lo_diff.lo_available():
        print("LibreOffice with python3-uno is not available; nothing measured.")
        return 0
    t0 = time.perf_counter()
    for case in cases:
        evaluate_application(dict(case), c)
    engine_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pairs, lo_s = lo_diff.run_applications(template, cases, c)
    wall_s = time.perf_counter() - t0
    diffs = sum(1 for g, e in pairs if g != e)
    print(f"cases: {n}   differences sheet vs engine: {diffs}")
    print(f"engine (baseline): {n / engine_s:10.1f} applications/s")
    print(f"LibreOffice check: {n / lo_s:10.1f} applications/s inside LibreOffice "
          f"({n / wall_s:.1f}/s end to end, with start-up and engine reference)")
    print(f"ratio engine / LibreOffice: {lo_s / engine_s:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
