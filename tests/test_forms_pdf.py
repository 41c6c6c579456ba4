"""`saq pdf` on a filled 附件3: A4 pages whose text carries every row's 申请组织名称 and the
official headings (RULES.md F5), via LibreOffice headless."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest

from xl_addin.cli import main
from xl_addin.errors import InputFileError
from xl_addin.forms.fill import fill_recommender
from xl_addin.forms.pdf import to_pdf
from xl_addin.forms.recommender import NOTE, form_title
from xl_addin.rules.campaign import load
from xl_addin.rules.uscc import make

pytestmark = [pytest.mark.libreoffice,
              pytest.mark.skipif(not shutil.which("soffice") or not shutil.which("pdftotext"),
                                 reason="LibreOffice and poppler-utils")]

ORGS = ["上海浦江客运服务有限公司", "上海申通地铁集团有限公司", "上海某某电器股份有限公司",
        "上海建工一建集团有限公司", "上海市第一人民医院", "上海某某科技有限公司", "上海云端数据服务中心"]


def test_pdf_of_filled_recommender(tmp_path, capsys):
    c = load()
    rows = [{"seq": i + 1, "org_name": n, "uscc": make(f"91310115MA1K3YJ{i:02d}"),
             "category": "服务类", "level": "用户满意级", "project_name": "热线服务",
             "satisfaction": 80 + i, "self_score": 85, "surveyor_score": 84,
             "opinion": "材料完整，同意推荐。"} for i, n in enumerate(ORGS)]
    src = fill_recommender(tmp_path / "附件3.xlsx",
                           {"recommender": "上海市浦东新区市场监督管理局", "filler_name": "张三",
                            "filler_email": "zs@example.cn", "fill_date": dt.date(2023, 7, 20)},
                           rows, c)
    out = tmp_path / "out.pdf"
    assert main(["pdf", str(src), "-o", str(out)]) == 0
    assert out.exists()
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
    assert "A4" in info or "841.89 x 595.3" in info or "595.3 x 841.89" in info
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True).stdout
    flat = text.replace(" ", "")
    for name in ORGS:
        assert name in flat, name
    for heading in (form_title(c), "推荐单位盖章", "申请组织名称", "申请类别", "申请等级",
                    "满意度得分", "满意度测量项目", "申请组织自评分", "申请选择组织自评分", "推荐意见",
                    "填表人", "部门", "职务", "手机", "邮箱", NOTE[:20]):
        assert heading.replace(" ", "") in flat, heading
    assert "上海市浦东新区市场监督管理局" in flat


def test_pdf_refuses_missing_file(tmp_path):
    with pytest.raises(InputFileError):
        to_pdf(tmp_path / "none.xlsx")
