"""Benchmark: a UDF call vs its library function, and `saq check` start-up (issue 23).

UDFs. Each Excel function of the add-in (xl_addin/excel/udfs.py) is timed with a blank year
(the current campaign) and with the year given, against the library doing the same from the
same raw arguments (the parse functions and the library call the UDF wraps, with the
campaign from ``load(year)``, cached). Also the campaign choice alone — the part issue 23
measured at 22 µs against 0.2 µs, when every call re-read and re-parsed current.toml — and
what that re-read costs ("before"). In-process, ``timeit``, best of 7. Target: within 3×.

Start-up. `saq check FILE` on one filled 申请书 in a fresh interpreter, CPU time (median of
9), split into the bare interpreter, the imports, the campaign's parsing and the check
itself; with bytecode caches (as an installed copy runs) and without them
(PYTHONDONTWRITEBYTECODE=1: every module compiled at each start).

    python benchmarks/bench_udf.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import timeit
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import measure  # noqa: E402

ROOT = measure.ROOT
sys.path.insert(0, str(ROOT))


def best(fn, number=2000):
    return min(timeit.repeat(fn, number=number, repeat=7)) / number * 1e6  # µs per call


def udf_cases():
    from xl_addin.excel import udfs
    from xl_addin.rules import campaign as cm
    from xl_addin.rules import parse, rubric, sampling, stars
    from xl_addin.rules import report_use as ru
    from xl_addin.rules.engine import evaluate_application
    c = cm.load(2023)
    words = ru.words(c)
    parts = [p.max if p.kind in ("score", "range") else (0 if p.kind == "errors" else "否")
             for p in c.rubric.parts]

    def lib_campaign(year):
        y = parse.integer(year)
        return cm.load() if y is None else cm.load(y)

    def before(year):  # the current campaign as it was chosen: current.toml read each call
        cm.tomllib.loads(cm.CURRENT_FILE.read_text(encoding="utf-8"))
        return lib_campaign(year)

    def lib_star(year):
        k = lib_campaign(year)
        r = stars.evaluate(k, parse.category("服务类", k), parse.text("优良"), parse.number(86),
                           ru.read("战略", words).value, parse.hasnot("无") or "无",
                           parse.yesno("否") or "否", parse.level("", k))
        return k.level_name(r.proposed if r.proposed is not None else r.achievable)

    def lib_selfeval(year):
        k = lib_campaign(year)
        return evaluate_application(dict(zip([p.key for p in k.rubric.parts], parts)), k).rubric.total

    def lib_sample(year):
        k = lib_campaign(year)
        d = k.sampling
        return sampling.sample_size(parse.number(0.05),
                                    parse.number("") or d["default_confidence"],
                                    parse.number("") or None, parse.number("") or d["default_p"])

    def lib_flag(year):
        k = lib_campaign(year)
        code = (parse.text("E06") or "").upper()
        spec = k.flags[code]
        return f"{code}（{'错误' if spec['severity'] == 'error' else '提醒'}）：{spec['rule']}"

    return [
        ("活动选择 _campaign", lambda y: udfs._campaign(y), lambda y: cm.load(2023), before),
        ("saq_conclusion", lambda y: udfs.saq_conclusion(80.0, None, y),
         lambda y: rubric.conclusion(parse.number(80.0), parse.yesno(None) or "否",
                                     lib_campaign(y)), None),
        ("saq_star", lambda y: udfs.saq_star("服务类", "优良", 86, "战略", "无", "", "否", y),
         lib_star, None),
        ("saq_selfeval", lambda y: udfs.saq_selfeval(parts, y), lib_selfeval, None),
        ("saq_sample_size", lambda y: udfs.saq_sample_size(0.05, "", "", "", y), lib_sample,
         None),
        ("saq_flag_text", lambda y: udfs.saq_flag_text("E06", y), lib_flag, None),
    ]


def udfs_report():
    lines, worst = [], 0.0
    for name, udf, lib, before in udf_cases():
        number = 200 if name == "saq_selfeval" else 2000
        for year in ("", 2023):
            u = best(partial(udf, year), number)
            b = best(partial(lib, year), number)
            worst = max(worst, u / b)
            extra = ""
            if before is not None:
                extra = f"；改前（每次读 current.toml）{best(partial(before, year), 500):.2f} µs"
            lines.append(f"  {name:20s} 年度 {year or '空':4}: UDF {u:8.2f} µs，库函数 {b:8.2f} µs，"
                         f"{u / b:.2f}×{extra}")
    return lines, worst


STAGES = [
    ("解释器", ["-c", "pass"]),
    ("+ 导入", ["-c", "import xl_addin.cli, xl_addin.read.check"]),
    ("+ 活动配置", ["-c", "import xl_addin.cli, xl_addin.read.check\n"
                      "from xl_addin.rules.campaign import load; load()"]),
]


def startup(app, n):
    import subprocess
    out = {}
    for cached in (True, False):
        env = measure.child_env()
        if not cached:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
            env.pop("PYTHONPYCACHEPREFIX")
        rows = []
        for label, args in STAGES + [("saq check", ["-m", "xl_addin", "check", str(app)])]:
            cpus = []
            for _ in range(n):
                import resource
                r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                subprocess.run([sys.executable, *args], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
                r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpus.append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
            rows.append((label, statistics.median(cpus) * 1000))
        out[cached] = rows
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9, help="start-up runs of each stage (median)")
    args = ap.parse_args(argv)
    print(f"开始：负载 {measure.load_average()}")
    lines, worst = udfs_report()
    print("UDF 与库函数（同样的原始参数）：")
    print("\n".join(lines))
    print(f"最大比值 {worst:.2f}×（目标 ≤ 3×）：{'达到' if worst <= 3 else '未达到'}")
    measure.warm()
    with tempfile.TemporaryDirectory() as tmp:
        from xl_addin.demo import write_campaign
        from xl_addin.rules.campaign import load
        demo = write_campaign(Path(tmp) / "in", n_apps=3, n_recommenders=1, broken=False,
                              campaign=load())
        app = sorted(demo.folder.rglob("申请书/*.xlsx"))[0]
        res = startup(app, args.runs)
    for cached, rows in res.items():
        print("saq check 启动（CPU 中位数）" + ("，有字节码缓存（安装后的情形）：" if cached else
                                            "，无字节码缓存（PYTHONDONTWRITEBYTECODE=1）："))
        prev, total = 0.0, rows[-1][1]
        for label, ms in rows:
            print(f"  {label:10s} 累计 {ms:6.0f} ms（本段 {ms - prev:5.0f} ms，占 {100 * (ms - prev) / total:3.0f}%）")
            prev = ms
    print(f"结束：负载 {measure.load_average()}")
    return 0 if worst <= 3 else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    sys.exit(main())
