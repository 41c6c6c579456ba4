"""Benchmark: `saq review assign` and `saq review collect`, 300 applications × 15 experts.

Baseline, measured in the same run on the same inputs: the expert workbook as it was
before issue 14, whose rows parse every rubric part in cells of their own (~200 formulas a
row; its plan is kept in benchmarks/baseline_expert_plan.py). Both runs go through the same
code (`workflow.run_assign`, `workflow.run_collect`); only the row's formula plan differs.
Each expert's workbook is filled by the simulated experts (not timed) before collect.

    python benchmarks/bench_review.py                 # 300 applications, 15 experts, k = 3
    python benchmarks/bench_review.py --apps 600 --experts 20 --keep /tmp/bench

Targets (issue 14): each step under 3 s; ≤ 40 formula cells per expert row.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def write_inputs(root, n_apps, n_experts, seed=1):
    """A master (CSV, the columns of 汇总) and an experts list; a few restricted experts."""
    from xl_addin.campaign import load
    c = load()
    cats = [x.name for x in c.categories]
    rnd = random.Random(seed)
    recs = [f"第{i}行业协会" for i in range(18)]
    head = ["申请编号", "企业名称", "推荐单位", "申请类别", "申请等级", "满意度（百分制得分）",
            "申报项目名称", "来源文件", "问题代码"]
    rows = [",".join(head)]
    for i in range(n_apps):
        rows.append(",".join([f"2023-{i + 1:03d}", f"上海第{i}号企业有限公司", rnd.choice(recs),
                              cats[i % len(cats)], "用户满意", f"{rnd.uniform(76, 94):.1f}",
                              f"第{i}号项目", f"申报/申请书_{i}.xlsx", ""]))
    (root / "master.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
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
    from xl_addin.review import workflow
    from xl_addin.review import simulate as S
    out = root / label
    t = time.perf_counter()
    a = workflow.run_assign(root / "master.csv", root / "experts.csv", out, c, k)
    t_assign = time.perf_counter() - t
    sizes = sum(p.stat().st_size for p in a.workbooks)
    n_rows = sum(len(v) for v in a.manifest.by_app.values())
    formulas, chars = formula_cells_per_row(a.workbooks[0])
    for e in a.manifest.experts:
        if e.name in a.manifest.files:
            S.fill_workbook(out / a.manifest.files[e.name], c, e.name)
    t = time.perf_counter()
    res, _ = workflow.run_collect(out, root / f"{label}_结果.xlsx", c)
    t_collect = time.perf_counter() - t
    loads = {}
    for names in a.manifest.by_app.values():
        for n in names:
            loads[n] = loads.get(n, 0) + 1
    return {"assign_s": t_assign, "collect_s": t_collect, "formulas_per_row": formulas,
            "formula_chars_per_row": chars, "bytes_per_row": sizes / max(n_rows, 1),
            "workbooks": len(a.workbooks), "rows": n_rows,
            "complete": sum(1 for x in res.review.apps if x.complete),
            "load_min": min(loads.values()), "load_max": max(loads.values())}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--apps", type=int, default=300)
    ap.add_argument("--experts", type=int, default=15)
    ap.add_argument("-k", type=int, default=3)
    ap.add_argument("--keep", default=None, help="folder to keep the generated files in")
    args = ap.parse_args(argv)
    import baseline_expert_plan
    from xl_addin.review import expert_form
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep or tmp)
        root.mkdir(parents=True, exist_ok=True)
        c = write_inputs(root, args.apps, args.experts)
        today = run(root, c, "today", args.k)
        light = expert_form.expert_plan
        expert_form.expert_plan = baseline_expert_plan.expert_plan
        try:
            base = run(root, c, "baseline", args.k)
        finally:
            expert_form.expert_plan = light
    report = {"applications": args.apps, "experts": args.experts, "k": args.k,
              "today": today, "baseline": base,
              "assign_speedup": base["assign_s"] / today["assign_s"],
              "collect_speedup": base["collect_s"] / today["collect_s"]}
    print(json.dumps(report, ensure_ascii=False, indent=1))
    print(f"\nassign : {today['assign_s']:.2f} s (baseline {base['assign_s']:.2f} s, "
          f"{report['assign_speedup']:.1f}× faster)")
    print(f"collect: {today['collect_s']:.2f} s (baseline {base['collect_s']:.2f} s, "
          f"{report['collect_speedup']:.1f}× faster)")
    print(f"row    : {today['formulas_per_row']} formula cells, "
          f"{today['formula_chars_per_row'] / 1024:.1f} KB of formulas "
          f"(baseline {base['formulas_per_row']}, {base['formula_chars_per_row'] / 1024:.1f} KB)")
    print(f"loads  : {today['load_min']}–{today['load_max']} applications per expert")
    ok = today["assign_s"] < 3 and today["collect_s"] < 3 and today["formulas_per_row"] <= 40
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
