"""Printing (issue 13): a 附件3 whose 推荐意见 are long prints every character, and the
申请书 prints the notice's 附件2 forms in the official order. LibreOffice + pdftotext."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess

import pytest

from xl_addin.cli import main
from xl_addin.forms.fill import fill_recommender
from xl_addin.rules.campaign import load
from xl_addin.rules.uscc import make

pytestmark = [pytest.mark.libreoffice,
              pytest.mark.skipif(not shutil.which("soffice") or not shutil.which("pdftotext"),
                                 reason="LibreOffice and poppler-utils")]


def pdf_text(path, raw=False):
    args = ["pdftotext"] + (["-raw"] if raw else []) + [str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True).stdout


def opinion(i, n=300):
    """300 characters, each row's different: where a cut happens, the test sees it."""
    words = "材料完整测量规范报告应用于战略规划改进措施落实到位建议加强竞争对标分析"
    body = (f"第{i:02d}号意见" + words * 20)[: n - 4]
    return body + f"完{i:02d}止"


def test_twelve_long_opinions_print_every_character(tmp_path):
    c = load()
    rows = [{"seq": i + 1, "org_name": f"上海第{i + 1:02d}测试有限公司",
             "uscc": make(f"91310115MA1K3YJ{i:02d}"), "category": "服务类",
             "level": "用户满意级", "project_name": "热线服务", "satisfaction": 80 + i,
             "self_score": 85, "surveyor_score": 84, "opinion": opinion(i + 1)}
            for i in range(12)]
    assert all(len(r["opinion"]) == 300 for r in rows)
    src = fill_recommender(tmp_path / "附件3.xlsx",
                           {"recommender": "上海市浦东新区市场监督管理局", "filler_name": "张三",
                            "filler_dept": "质量科", "filler_title": "科长",
                            "filler_mobile": "13912345678", "filler_email": "zs@example.cn",
                            "fill_date": dt.date(2023, 7, 20)}, rows, c)
    out = tmp_path / "附件3.pdf"
    assert main(["pdf", str(src), "-o", str(out)]) == 0
    flat = re.sub(r"\s+", "", pdf_text(out, raw=True))
    for r in rows:
        assert r["opinion"] in flat, r["opinion"][:12]


def test_application_prints_the_official_forms_in_order(tmp_path):
    from xl_addin.demo.dossier import write_dossier
    made = write_dossier(tmp_path / "申报材料", "产品类", campaign=load())
    out = tmp_path / "申请书.pdf"
    assert main(["pdf", str(made["workbook"]), "-o", str(out)]) == 0
    pages = [re.sub(r"\s+", "", p) for p in pdf_text(out).split("\f")]
    firsts = {}
    for title in ("2023年上海市用户满意等级评价申请书", "目录", "附件2-1企业用户满意经营承诺书",
                  "附件2-2用户满意等级评价申报承诺书", "附件2-3用户满意等级评价申请表",
                  "用户满意等级评价申请表（续）", "附件2-5满意度测量项目自评表", "被访者名单"):
        firsts[title] = next(i for i, p in enumerate(pages) if p.startswith(title))
    assert list(firsts.values()) == sorted(firsts.values()), firsts
    org = made["values"]["org_name"]
    cover = pages[0]
    assert f"组织名称：{org}（盖章）" in cover
    for word in ("☐企业类", "☐服务类", "☑产品类", "☐工程类", "☐标杆级", "☑用户满意级", "☐满意亮诺级"):
        assert word in cover, word
    assert "2023年6月" in cover or "2023年7月" in cover
    text = "".join(pages)
    assert f"企业名称：{org}" in text and "申报项目名称：" + made["values"]["project_name"].replace(" ", "") in text
    for hint in ("黄色单元格", "可以提交", "表格：", "材料：", "下拉"):  # no hints, no banners
        assert hint not in text, hint
