"""The engine against the sheet's own formulas on many generated applications (issue 20).

Generates N applications with tests/diff_cases.py (seeded: boundary cases, random plausible
ones, typed variants, 测量报告应用 phrasings, blanks, totals at the conclusion limits) and
evaluates every output of the application sheet with the project's evaluator
(xl_addin/sheet/xlcalc.py) in P processes, comparing each with the engine. The baseline,
measured in the same run on the same cases, is the engine alone. Prints the rate, the ratio
and the differences; exits 1 if there is any difference.

    python benchmarks/bench_sheet_differential.py [N] [SEED] [PROCESSES]   # 10000 2023 2
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import diff_cases  # noqa: E402
from plan_eval import PlanRow  # noqa: E402

from xl_addin.rules.campaign import load  # noqa: E402
from xl_addin.rules.engine import evaluate_application  # noqa: E402
from xl_addin.sheet.formulas import application_plan  # noqa: E402


def _compare(chunk):
    c = load()
    row = PlanRow(application_plan(c))
    out = []
    for i, case in chunk:
        got = row.evaluate(case, diff_cases.APP_OUTPUTS)
        out += [(i, k, g, w) for k, g, w in diff_cases.differences(got, diff_cases.expected(case, c))]
    return out


def main(n=10_000, seed=2023, processes=2):
    c = load()
    cases = diff_cases.cases(n, seed, c)
    t0 = time.perf_counter()
    for case in cases:
        evaluate_application(dict(case), c)
    engine_s = time.perf_counter() - t0
    chunks = [list(enumerate(cases))[k::processes * 8] for k in range(processes * 8)]
    t0 = time.perf_counter()
    with multiprocessing.Pool(processes) as pool:
        diffs = [d for part in pool.map(_compare, chunks) for d in part]
    sheet_s = time.perf_counter() - t0
    print(f"{n} generated applications (seed {seed}), {processes} processes")
    print(f"  sheet formulas (xlcalc) vs engine: {sheet_s:.1f} s, {n / sheet_s:.0f} applications/s")
    print(f"  baseline, the engine alone (1 process): {engine_s:.1f} s, {n / engine_s:.0f} applications/s")
    print(f"  differences: {len(diffs)}")
    for i, k, g, w in sorted(diffs)[:10]:
        print(f"    case {i} {k}: sheet {g!r} / engine {w!r}")
    return 1 if diffs else 0


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:4]]
    sys.exit(main(*args))
