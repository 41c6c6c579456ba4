"""Benchmark: consolidation's dossier lookup over one folder of n applications (issue 13).

Every application asks whether its folder is its own 申报材料文件夹 (materials.dossier_flags).
Without a listing cache each asks afresh: it lists the folder, classifies every name and,
when a file there names a material, probes every workbook beside it — O(n) per application,
O(n²) per folder. Consolidation now runs inside ``materials.run_cache()``: each folder is
listed and probed once per run. The baseline is the same calls without the cache, measured
in the same run on the same folder (exactly the lookup before the cache).

    python benchmarks/bench_dossier_lookup.py [--n 60]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from xl_addin.consolidate import materials  # noqa: E402
from xl_addin.demo import write_campaign  # noqa: E402
from xl_addin.rules.campaign import load  # noqa: E402


def lookups(books, c):
    t = time.perf_counter()
    for p in books:
        materials.dossier_flags(p, {}, c)
    return time.perf_counter() - t


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=60, help="applications in the one folder")
    args = ap.parse_args(argv)
    c = load()
    with tempfile.TemporaryDirectory() as tmp:
        demo = write_campaign(Path(tmp) / "收件", n_apps=args.n, n_recommenders=1, broken=False,
                              campaign=c)
        books = sorted(demo.folder.rglob("申请书/*.xlsx"))
        folder = books[0].parent
        (folder / "营业执照.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")  # a material: probe all
        before = lookups(books, c)  # no cache: as every run did before
        with materials.run_cache():
            after = lookups(books, c)
    print(f"{len(books)} 份申请书在同一文件夹（另有一个材料文件）")
    print(f"无缓存（改前，每份申请列一次文件夹）: {before:7.2f} 秒")
    print(f"run_cache（每次汇总每个文件夹列一次）: {after:7.2f} 秒")
    print(f"速度比 ratio = {before / after:.0f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
