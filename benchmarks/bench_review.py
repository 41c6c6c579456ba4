"""Benchmark: `saq review assign` and `saq review collect`, 300 applications × 15 experts.

Baseline, measured in the same run on the same inputs: today's code with what issue 14
changed in the row put back (:func:`baseline_code`): the expert row that parses every
rubric part in cells of its own (~200 formulas a row; the plan is kept in
benchmarks/baseline_expert_plan.py) and the full application evaluation of each expert row.
The other speed-ups (styles copied rather than set cell by cell, input cells styled by
column, the one reader) stay in both, so the ratio understates the gain over the code
before issue 14.
Each expert's workbook is filled by the simulated experts (not timed) before collect.

    python benchmarks/bench_review.py                 # 300 applications, 15 experts, k = 3
    python benchmarks/bench_review.py --apps 600 --experts 20 --keep /tmp/bench

Targets (issue 14): each step under 3 s; ≤ 40 formula cells per expert row. Wall time and
this process's CPU time are both shown: on a shared machine the wall time also counts the
time other processes hold the cores (the load average is printed).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def write_inputs(root, n_apps, n_experts, seed=1):
    """A master (sheet 汇总 with its columns) and an experts list; a few restricted experts."""
    from xl_addin.rules.campaign import load
    c = load()
    cats = [x.name for x in c.categories]
    rnd = random.Random(seed)
    recs = [f"第{i}行业协会" for i in range(18)]
    head = ["申请编号", "企业名称", "推荐单位", "申请类别", "申请等级", "满意度（百分制得分）",
            "申报项目名称", "来源文件", "问题代码"]
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    ws.append(head)
    for i in range(n_apps):
        ws.append([f"2023-{i + 1:03d}", f"上海第{i}号企业有限公司", rnd.choice(recs),
                   cats[i % len(cats)], "用户满意", round(rnd.uniform(76, 94), 1),
                   f"第{i}号项目", f"申报/申请书_{i}.xlsx", None])
    wb.save(root / "master.xlsx")
    ex = ["姓名,单位,回避单位,专业"]
    for j in range(n_experts):
        cat = "全部" if j % 5 else cats[(j // 5) % len(cats)] + "、" + cats[(j // 5 + 1) % len(cats)]
        avoid = recs[j % len(recs)] if j % 3 == 0 else ""
        ex.append(f"专家{j:02d},第{j}大学,{avoid},{cat}")
    (root / "experts.csv").write_text("\n".join(ex) + "\n", encoding="utf-8")
    return c


def formula_cells_per_row(path):
    """Formula cells in the first data row of an expert workbook, and bytes per row."""
    from openpyxl import load_workbook

    from xl_addin.review.expert_table import TABLE
    wb = load_workbook(path)
    ws = next(w for w in wb.worksheets if TABLE in w.tables)
    r = int(ws.tables[TABLE].ref.split(":")[0].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) + 1
    cells = [c for c in ws[r] if isinstance(c.value, str) and c.value.startswith("=")]
    return len(cells), sum(len(c.value) for c in cells)


def run(root, c, label, k):
    from xl_addin.review import simulate as S
    from xl_addin.review import workflow
    out = root / label
    t, cpu = time.perf_counter(), time.process_time()
    a = workflow.run_assign(root / "master.xlsx", root / "experts.csv", out, c, k)
    t_assign, cpu_assign = time.perf_counter() - t, time.process_time() - cpu
    sizes = sum(p.stat().st_size for p in a.workbooks)
    n_rows = sum(len(v) for v in a.manifest.by_app.values())
    formulas, chars = formula_cells_per_row(a.workbooks[0])
    for e in a.manifest.experts:
        if e.name in a.manifest.files:
            S.fill_workbook(out / a.manifest.files[e.name], c, e.name)
    t, cpu = time.perf_counter(), time.process_time()
    res, _ = workflow.run_collect(out, root / f"{label}_结果.xlsx", c)
    t_collect, cpu_collect = time.perf_counter() - t, time.process_time() - cpu
    loads = {}
    for names in a.manifest.by_app.values():
        for n in names:
            loads[n] = loads.get(n, 0) + 1
    return {"assign_s": t_assign, "collect_s": t_collect, "assign_cpu_s": cpu_assign,
            "collect_cpu_s": cpu_collect, "formulas_per_row": formulas,
            "formula_chars_per_row": chars, "bytes_per_row": sizes / max(n_rows, 1),
            "workbooks": len(a.workbooks), "rows": n_rows,
            "complete": sum(1 for x in res.review.apps if x.complete),
            "load_min": min(loads.values()), "load_max": max(loads.values())}


@contextlib.contextmanager
def baseline_code():
    """Today's code with two things issue 14 changed put back: the per-row plan of ~200
    formulas, and the full application evaluation (every field, every check) of each
    expert row on collect."""
    import baseline_expert_plan

    from xl_addin.review import expert_form, expert_table
    from xl_addin.rules.engine import evaluate_application
    saved = (expert_form.expert_plan, expert_table.evaluate_expert_row)
    expert_form.expert_plan = baseline_expert_plan.expert_plan
    expert_table.evaluate_expert_row = lambda raw, c: evaluate_application(raw, c)
    try:
        yield
    finally:
        expert_form.expert_plan, expert_table.evaluate_expert_row = saved


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--apps", type=int, default=300)
    ap.add_argument("--experts", type=int, default=15)
    ap.add_argument("-k", type=int, default=3)
    ap.add_argument("--keep", default=None, help="folder to keep the generated files in")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep or tmp)
        root.mkdir(parents=True, exist_ok=True)
        c = write_inputs(root, args.apps, args.experts)
        today = run(root, c, "today", args.k)
        with baseline_code():
            base = run(root, c, "baseline", args.k)
    report = {"applications": args.apps, "experts": args.experts, "k": args.k,
              "today": today, "baseline": base,
              "assign_speedup": base["assign_s"] / today["assign_s"],
              "collect_speedup": base["collect_s"] / today["collect_s"]}
    print(json.dumps(report, ensure_ascii=False, indent=1))
    for step in ("assign", "collect"):
        print(f"{step:7}: {today[step + '_s']:.2f} s, CPU {today[step + '_cpu_s']:.2f} s "
              f"(baseline {base[step + '_s']:.2f} s, CPU {base[step + '_cpu_s']:.2f} s; "
              f"{report[step + '_speedup']:.1f}× faster, CPU "
              f"{base[step + '_cpu_s'] / today[step + '_cpu_s']:.1f}×)")
    print(f"row    : {today['formulas_per_row']} formula cells, "
          f"{today['formula_chars_per_row'] / 1024:.1f} KB of formulas "
          f"(baseline {base['formulas_per_row']}, {base['formula_chars_per_row'] / 1024:.1f} KB); "
          f"{today['bytes_per_row'] / 1024:.1f} KB of file per row "
          f"(baseline {base['bytes_per_row'] / 1024:.1f} KB)")
    print(f"loads  : {today['load_min']}–{today['load_max']} applications per expert")
    print(f"load   : {os.getloadavg()[0]:.1f} (1-minute load average of the machine)")
    ok = today["assign_s"] < 3 and today["collect_s"] < 3 and today["formulas_per_row"] <= 40
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
