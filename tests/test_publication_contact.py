"""Issue 18 §8, RULES.md P9: the 公示 text gives the association's contact person, address,
phone and e-mail (notice §六), from the campaign file — in the .docx (and so the PDF) and in
the .xlsx copy of 公示名单; 发布名单 has no objection text."""

from __future__ import annotations

import datetime as dt

from openpyxl import load_workbook

from xl_addin.review.publish import Listed, write_docx, write_xlsx
from xl_addin.rules.campaign import load

C = load(2023)
ITEMS = [Listed("上海甲有限公司", "甲服务", "服务类", 4, "91310000132211580C")]
WINDOW = (dt.date(2023, 9, 18), dt.date(2023, 9, 24))
OBJECTION = ("公示期间，如对公示名单有异议，请以书面形式向上海市质量协会反映（联系人：施卫丹，地址：泰安路 74 号，"
             "联系电话：18917180960，电子邮箱：shiweidan@saq.org.cn）。")


def _paragraphs(path):
    from docx import Document
    return [p.text for p in Document(path).paragraphs]


def test_the_publication_docx_gives_phone_and_email(tmp_path):
    assert C.stages["publication_objection"] == OBJECTION
    paras = _paragraphs(write_docx(tmp_path / "公示名单.docx", C, ITEMS, "公示", WINDOW,
                                   issued=WINDOW[0]))
    assert OBJECTION in paras
    release = _paragraphs(write_docx(tmp_path / "发布名单.docx", C, ITEMS, "发布",
                                     issued=WINDOW[1]))
    assert not any("异议" in p for p in release)


def test_the_publication_xlsx_gives_them_too(tmp_path):
    ws = load_workbook(write_xlsx(tmp_path / "公示名单.xlsx", C, ITEMS, "公示", WINDOW)).active
    assert ws["A2"].value == "公示期：2023年9月18日至2023年9月24日"
    assert ws["A3"].value == OBJECTION
    assert [c.value for c in ws[4]] == ["序号", "企业名称", "申报项目名称", "申请类别", "等级", "统一社会信用代码"]
    ws = load_workbook(write_xlsx(tmp_path / "发布名单.xlsx", C, ITEMS, "发布")).active
    assert ws["A3"].value is None
