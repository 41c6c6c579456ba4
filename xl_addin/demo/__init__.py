"""`saq demo`: generate a realistic campaign folder, consolidate it, say where the master is.

At least 16 recommenders and 150 applications with Chinese organisation names in all four
categories; some applications carry each kind of problem (E01–E30), a few files are broken
(not a zip, truncated, password-protected, .xls, .csv, a lock file, a zip bomb, not our
template, last year's template). Seeded: the same seed gives the same files.

Modules: ``data`` (the campaign as data), ``writers`` (the live templates filled fast, and
plain writers of the same contract — ``_meta`` sheet, defined names = field keys, tables
``respondent_list`` / ``recommendations``; FIELDS.md), ``broken`` (the odd files).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from xl_addin.consolidate import consolidate
from xl_addin.demo.broken import write_broken
from xl_addin.demo.data import (
    DEFAULT_SEED,
    DEMO_APPS,
    DEMO_RECOMMENDERS,
    RECOMMENDERS,
    DemoApp,
    DemoCampaign,
    application,
    build,
    row_of,
)
from xl_addin.demo.dossier import write_materials
from xl_addin.demo.writers import (
    FastFill,
    Writers,
    normalise,
    set_cell,
    write_plain_application,
    write_plain_recommender,
)
from xl_addin.read.year import write_setting
from xl_addin.rules.campaign import CAMPAIGN_DIR

__all__ = ["DEFAULT_SEED", "RECOMMENDERS", "DemoApp", "DemoCampaign", "FastFill", "Writers",
           "application", "build", "normalise", "row_of", "run_demo", "set_cell",
           "write_broken", "write_campaign", "write_plain_application",
           "write_plain_recommender"]


def write_campaign(folder, seed=DEFAULT_SEED, n_apps=DEMO_APPS, n_recommenders=DEMO_RECOMMENDERS, *,
                   campaign, broken=True, dossiers=False):
    """Write the demo campaign's files into ``folder``.

    Every 申请书's 材料清单 is ticked to match its dossier (RULES.md M): 已提供 for each item
    its category needs, except the few items an application is made to lack.

    Args:
        campaign: the Campaign.
        broken: also write the odd files of 邮件附件 (issue 4 §4).
        dossiers: give each application its own 申报材料文件夹 — ``推荐单位/申请书_…/`` with
            the workbook and one file per material item (`saq demo`); otherwise the
            workbooks of a recommender share ``推荐单位/申请书/`` (the tests' corpora).
    Returns:
        DemoCampaign
    """
    c = campaign
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    apps, headers = build(c, seed, n_apps, n_recommenders)
    with tempfile.TemporaryDirectory() as tmp:
        w = Writers(c, tmp)
    rows = {r: [] for r in headers}
    for app in apps:
        if app.write_workbook:
            if dossiers:
                d = folder / app.recommender / Path(app.file_name).stem
            else:
                d = folder / app.recommender / "申请书"
            d.mkdir(parents=True, exist_ok=True)
            w.application(d / app.file_name, app)
            if dossiers:
                people = [(n, t) for _s, n, t in app.respondents]
                write_materials(d, app.values, people, c,
                                skip=app.dossier_missing + app.dossier_na)
        if app.in_row:
            rows[app.recommender].append(row_of(c, app, len(rows[app.recommender]) + 1))
    first = next(iter(rows))
    rows[first].append({"序号": len(rows[first]) + 1, "推荐意见": "同意推荐（名称待补）",
                        "满意度得分": 88})  # a row nobody can identify: 拒收
    for r, hdr in headers.items():
        (folder / r).mkdir(parents=True, exist_ok=True)
        w.recommender(folder / r / f"附件3_初审推荐意见表_{r}.xlsx", hdr, rows[r])
    names = write_broken(folder / "邮件附件", c) if broken else []
    return DemoCampaign(folder, apps, headers, names)


def run_demo(folder=None, seed=DEFAULT_SEED, progress=None, *, campaign):
    """Generate the demo campaign in ``folder`` (default ./saq_demo), consolidate it.

    The folder gets its ``活动.toml`` (the campaign's year, read/year.py), so every `saq`
    command run on it later uses that year; each application comes with its own dossier.

    Args:
        campaign: the Campaign.
    Returns:
        (DemoCampaign, RunResult)
    """
    c = campaign
    folder = Path(folder or "saq_demo")
    inbox = folder / "收件"
    demo = write_campaign(inbox, seed, campaign=c, dossiers=True)
    own = Path(c.path).resolve().parent == CAMPAIGN_DIR.resolve()  # one of the program's years
    write_setting(folder, c.year if own else c.path)
    result = consolidate(inbox, folder / "汇总表.xlsx", c, progress=progress)
    return demo, result
