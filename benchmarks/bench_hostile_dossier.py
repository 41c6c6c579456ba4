"""Benchmark: the bounds of issue 19 §7 on hostile dossier files, each against a baseline
measured in the same run.

1. A 3 MB 实践报告.docx zip bomb (its word/document.xml inflates to 3 GB) in a dossier:
   peak memory of `saq check 文件夹` (a fresh subprocess, its own maximum RSS), against the
   same dossier with its real 实践报告 — and, for the record, the reader used before
   (python-docx, which inflates every part) on the same bomb, under an address-space cap
   so that it cannot take the machine down (it used to reach 1.5 GB).
   Target: under 200 MB, about the same as the real dossier.
2. A 256 GB sparse file in a dossier inside the inbox: `saq consolidate` of that inbox,
   against the same inbox without it. Before, every file was hashed byte by byte (killed
   at 120 s); the old hash's throughput on the sparse file is measured for a few seconds
   and its time for the whole file extrapolated. Target: the ratio to the baseline ≈ 1.

    python benchmarks/bench_hostile_dossier.py
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bombs import docx_bomb, sparse_file  # noqa: E402

CHECK = """
import json, resource, sys, time
from xl_addin.cli import main
import contextlib, io
t = time.perf_counter()
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "seconds": time.perf_counter() - t,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "last": out.getvalue().splitlines()[-2:]}))
"""

OLD_READER = """
import json, resource, sys, time
cap = int(sys.argv[2]) * 2**20
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
t = time.perf_counter()
try:
    import docx
    docx.Document(sys.argv[1])
    what = "read"
except MemoryError:
    what = "MemoryError"
except Exception as e:
    what = type(e).__name__
print(json.dumps({"what": what, "seconds": time.perf_counter() - t,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def sub(code, *args, timeout=600):
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                         text=True, timeout=timeout, cwd=str(ROOT))
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bomb_case(tmp, cap_mb):
    from xl_addin.demo.dossier import write_dossier
    from xl_addin.rules.campaign import load
    good = tmp / "完整材料"
    write_dossier(good, "服务类", campaign=load(2023))
    bad = tmp / "炸弹材料"
    import shutil
    shutil.copytree(good, bad)
    report = next(bad.glob("*-实践报告.docx"))
    t = time.perf_counter()
    docx_bomb(report, 3 * 2**30)
    made = time.perf_counter() - t
    size = report.stat().st_size / 2**20
    base = sub(CHECK, "check", good)
    now = sub(CHECK, "check", bad)
    old = sub(OLD_READER, report, cap_mb)
    print(f"1. 实践报告.docx 压缩炸弹：{size:.1f} MB，解压后 3 GB（生成用时 {made:.1f} 秒）")
    print(f"   基线（同一文件夹、正常的实践报告）saq check 文件夹：峰值 {base['peak_mb']:.0f} MB，"
          f"{base['seconds']:.1f} 秒")
    print(f"   压缩炸弹 saq check 文件夹：峰值 {now['peak_mb']:.0f} MB，{now['seconds']:.1f} 秒，"
          f"退出码 {now['code']}；{now['last'][0].strip()}")
    print(f"   比值 ratio（炸弹 / 基线）= {now['peak_mb'] / base['peak_mb']:.2f}")
    print(f"   改前的读法（python-docx，地址空间上限 {cap_mb} MB）：{old['what']}，"
          f"峰值 {old['peak_mb']:.0f} MB，{old['seconds']:.1f} 秒")
    return now["peak_mb"]


CONSOLIDATE = """
import json, resource, sys, time
from xl_addin.consolidate import consolidate
from xl_addin.rules.campaign import load
t = time.perf_counter()
res = consolidate(sys.argv[1], sys.argv[2], load(2023), progress=False, workers=1)
print(json.dumps({"seconds": time.perf_counter() - t, "files": len(res.files),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def old_hash_rate(path, seconds=3.0):
    """Bytes per second the hash before issue 19 reads this file at (it read every byte)."""
    h, n, t = hashlib.sha256(), 0, time.perf_counter()
    with open(path, "rb") as f:
        while time.perf_counter() - t < seconds:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
    return n / (time.perf_counter() - t)


def sparse_case(tmp, n_apps):
    from xl_addin.demo import write_campaign
    from xl_addin.rules.campaign import load
    inbox = tmp / "收件"
    write_campaign(inbox, n_apps=n_apps, n_recommenders=2, broken=False, campaign=load(2023),
                   dossiers=True)
    base = sub(CONSOLIDATE, inbox, tmp / "基线.xlsx")
    db = next(inbox.rglob("*-数据库.sav"))
    db.unlink()
    sparse_file(db, 256 * 2**30)
    now = sub(CONSOLIDATE, inbox, tmp / "稀疏.xlsx")
    rate = old_hash_rate(db)
    print(f"2. 收件中某申报材料文件夹内有 256 GB 稀疏文件（{db.name}），{base['files']} 个文件")
    print(f"   基线（同一收件、无稀疏文件）saq consolidate：{base['seconds']:.1f} 秒，峰值 {base['peak_mb']:.0f} MB")
    print(f"   有稀疏文件：{now['seconds']:.1f} 秒，峰值 {now['peak_mb']:.0f} MB；"
          f"比值 ratio = {now['seconds'] / base['seconds']:.2f}")
    print(f"   改前逐字节计算校验值：{rate / 2**30:.2f} GB/秒，整个文件约需 "
          f"{256 * 2**30 / rate / 60:.0f} 分钟")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--apps", type=int, default=40, help="applications in the inbox of case 2")
    ap.add_argument("--cap", type=int, default=800,
                    help="address-space cap (MB) for the old reader on the bomb")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        (tmp / "1").mkdir()
        (tmp / "2").mkdir()
        peak = bomb_case(tmp / "1", args.cap)
        sparse_case(tmp / "2", args.apps)
    print("目标：炸弹峰值 < 200 MB —", "达到" if peak < 200 else "未达到")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
