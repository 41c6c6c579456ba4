"""Every kind of workbook the project generates, written once into a folder (issue 11).

Used by the formula lint test and the cached-value tests, so a new generator (or a new sheet
in an existing one) is covered as soon as it appears here: templates, filled files (by
forms.fill, and the demo's inbox), 附件3, the master, the experts template, expert workbooks
(blank and filled) and the review results.

The demo's inbox files (``demo_*``) are written by its fast XML filler: like files saved by
a program without a calculation engine, they carry no values and ask for recalculation on
load; the files of forms.fill (``*_filled``) carry their values.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from xl_addin.rules.campaign import load

C = load()
EXPERTS = [("王立群", "复旦大学", None, "产品类、服务类、企业类、工程类"),
           ("李敏", "上海交通大学", None, "产品类、服务类、企业类、工程类"),
           ("张伟", "同济大学", None, "产品类、服务类、企业类、工程类"),
           ("刘洋", "上海大学", None, "产品类、服务类、企业类、工程类")]


def generate_all(root):
    """Write every generated workbook kind under ``root``.

    Returns:
        dict label -> Path of one workbook of that kind.
    """
    from openpyxl import load_workbook

    from xl_addin import cli
    from xl_addin.consolidate import consolidate
    from xl_addin.demo import write_campaign
    from xl_addin.forms.templates import write_templates
    from xl_addin.review import simulate as S
    from xl_addin.review.manifest import FILE_NAME, read_manifest

    root = Path(root)
    out = {}
    t = write_templates(root / "templates", C)
    out["application_template"] = t["application"]
    out["recommender_template"] = t["recommender"]
    inbox = root / "inbox"
    write_campaign(inbox, n_apps=12, n_recommenders=2, broken=False, campaign=C)
    apps = sorted(p for p in inbox.rglob("*.xlsx") if "申请" in p.name)
    recs = sorted(p for p in inbox.rglob("*.xlsx") if "推荐" in p.name or "附件3" in p.name)
    out["demo_application"] = apps[0]
    out["demo_recommender"] = recs[0]
    out.update(_refill(root / "filled", apps, recs[0]))
    res = consolidate(inbox, root / "master.xlsx", C, progress=False)
    out["master"] = Path(res.written_to)
    experts = root / "experts.xlsx"
    assert cli.main(["review", "assign", str(out["master"]), "--experts", str(experts),
                     "-o", str(root / "review")]) == 1
    out["experts_template"] = experts
    shutil.copy(experts, root / "experts_template.xlsx")
    out["experts_template"] = root / "experts_template.xlsx"
    wb = load_workbook(experts)
    ws = wb["专家名单"]
    tab = ws.tables["experts"]
    hr = int(tab.ref.split(":")[0][1:])
    for i, r in enumerate(EXPERTS, start=hr + 1):
        for j, v in enumerate(r, start=1):
            ws.cell(i, j, v)
    tab.ref = f"A{hr}:D{hr + len(EXPERTS)}"
    wb.save(experts)
    review = root / "review"
    assert cli.main(["review", "assign", str(out["master"]), "--experts", str(experts),
                     "-o", str(review)]) == 0
    man = read_manifest(review / FILE_NAME, C)
    out["manifest"] = review / FILE_NAME
    first = sorted(man.files)[0]
    out["expert_blank"] = root / "expert_blank.xlsx"
    shutil.copy(review / man.files[first], out["expert_blank"])
    for e in man.experts:
        S.fill_workbook(review / man.files[e.name], C, e.name, S.DILIGENT)
    out["expert_filled"] = review / man.files[first]
    results = root / "results.xlsx"
    assert cli.main(["review", "collect", str(review), "-o", str(results)]) in (0, 1)
    out["results"] = results
    return out


def _refill(folder, apps, rec):
    """The demo's submissions written again through forms.fill (with their values)."""
    from conftest import load_base

    from xl_addin.forms.fill import fill_application, fill_recommender
    from xl_addin.read import verdict
    folder.mkdir(parents=True, exist_ok=True)
    out = {"application_filled": fill_application(folder / "申请书_base.xlsx", load_base(C.year),
                                                  respondents=[("张三", "13800000000")], campaign=C)}
    sub = verdict.read(apps[-1], C)
    keys = verdict.application_input_keys(C)
    t = sub.tables["respondent_list"]
    people = [tuple(r[t.columns.index(h)] for h in ("姓名", "联系方式")) for r in t.rows
              if any(v is not None for v in r)]
    out["application_filled_2"] = fill_application(
        folder / "申请书_demo.xlsx", {k: sub.values.get(k) for k in keys if sub.values.get(k) is not None},
        respondents=people, campaign=C)
    read = verdict.recommendation_rows(verdict.read(rec, C), C)
    out["recommender_filled"] = fill_recommender(folder / "附件3_demo.xlsx", read.header,
                                                 [r.raw for r in read.rows], C)
    return out
