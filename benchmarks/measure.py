"""What the benchmarks share: a fresh interpreter per measurement, its CPU time (children
included: consolidation's reading processes count), wall time and peak memory, medians,
a least-squares growth exponent, and the machine's load average at the time.

The machine is shared: CPU time, not wall time, is what the ratios compare. Every child
runs with a bytecode cache (in a temporary folder), as an installed copy does; a machine
that sets PYTHONDONTWRITEBYTECODE would otherwise compile every module at each start.
"""

from __future__ import annotations

import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_PYCACHE = Path(tempfile.gettempdir()) / "xl_addin_bench_pycache"


def child_env():
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(_PYCACHE)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONWARNINGS"] = "ignore"  # pandas' FutureWarnings are not what is measured
    return env


def run(code, *args):
    """Run ``code`` in a fresh interpreter; the last line it prints is JSON (merged in).

    Returns:
        dict with cpu (s, user + system, the child and everything it waited for), wall (s)
        and whatever the child reported.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], check=True,
                         capture_output=True, text=True, env=child_env())
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    got = {"cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
           "wall": wall}
    lines = out.stdout.strip().splitlines()
    if lines:
        got.update(json.loads(lines[-1]))
    return got


def warm():
    """Compile the project once into the bytecode cache (not measured)."""
    run("import xl_addin.cli, xl_addin.consolidate, xl_addin.read.check, python_calamine")


def median(runs, key):
    return statistics.median(r[key] for r in runs)


def exponent(ns, values):
    """The slope of log(value) over log(n): 1 is linear growth."""
    xs, ys = [math.log(n) for n in ns], [math.log(v) for v in values]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else float("nan")


def load_average():
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


PEAK = """
import json, resource
def peak():
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"peak_mb": me, "child_peak_mb": kids}
"""
