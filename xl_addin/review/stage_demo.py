"""Inputs the demo campaign needs for the stages after consolidation (issue 14):
an experts list and last year's 发布名单 (in the format `saq stage publish` writes), made
from the demo's own master so that some 企业类 applicants have a recorded 项目类 pass and
others do not, and some 复评 applicants have no record at all.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

from openpyxl import Workbook

from xl_addin.errors import InputFileError
from xl_addin.review.master import read_master
from xl_addin.review.publish import Listed, write_xlsx

EXPERTS = [("王立群", "上海交通大学", "企业类、服务类"), ("李敏", "复旦大学", "全部"),
           ("张伟", "上海市质量协会", ""), ("陈静", "上海大学", "工程类、产品类"),
           ("刘洋", "同济大学", "全部"), ("赵磊", "华东理工大学", "全部"),
           ("孙悦", "上海财经大学", "企业类、服务类、产品类"), ("周涛", "东华大学", "全部"),
           ("吴芳", "上海理工大学", "产品类、工程类"), ("郑凯", "上海海事大学", "全部"),
           ("冯洁", "华东师范大学", "服务类、企业类"), ("何军", "上海应用技术大学", "全部")]


def write_experts(path):
    """专家名单.xlsx with the headers `saq review assign` reads."""
    wb = Workbook()
    ws = wb.active
    ws.title = "专家名单"
    ws.append(["姓名", "单位", "回避单位", "专业"])
    for name, unit, cats in EXPERTS:
        ws.append([name, unit, None, cats or None])
    wb.save(path)
    return Path(path)


def write_history(path, master, campaign, seed=2022):
    """Last year's 发布名单.xlsx for the demo: about half of this year's 企业类 applicants
    passed a 项目类 category last year, and so did about half of the 复评 ones.

    Returns:
        Path
    """
    rnd = random.Random(seed)
    apps, _ = read_master(master, campaign)
    items = []
    for a in apps:
        if not a.uscc or rnd.random() < 0.5:
            continue
        cat = a.category if a.category != "企业类" else rnd.choice(("服务类", "产品类"))
        project = a.project_name or f"{a.org_name[2:6]}客户服务"
        items.append(Listed(a.org_name, project if cat != "企业类" else "", cat,
                            rnd.choice([lv.rank for lv in campaign.levels
                                        if lv.rank <= campaign.category(cat).cap]), a.uscc))
    # The list of last year reads as last year's: its title carries year − 1.
    y, y0 = str(campaign.year), str(campaign.year - 1)
    prev = dataclasses.replace(
        campaign, year=campaign.year - 1, title=campaign.title.replace(y, y0),
        stages={k: (v.replace(y, y0) if isinstance(v, str) else v)
                for k, v in campaign.stages.items()})
    return write_xlsx(path, prev, items, "发布")


def write_inputs(folder, campaign):
    """专家名单.xlsx and 发布名单_<Y−1>.xlsx in the demo folder (beside 汇总表.xlsx).

    Returns:
        (experts path, history path)
    """
    root = Path(folder)
    master = root / "汇总表.xlsx"
    if not master.exists():
        raise InputFileError(master, "不存在；请先运行 saq demo " + str(root))
    return (write_experts(root / "专家名单.xlsx"),
            write_history(root / f"发布名单_{campaign.year - 1}.xlsx", master, campaign))
