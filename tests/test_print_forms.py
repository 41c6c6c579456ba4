"""The 申请书's print sheets follow the notice word for word (issue 22), read from the cached
values of filled workbooks (no LibreOffice needed): the cover's 填表日期 typed as text, the
附件2-3 note and QR row, the form's five 工程类别 boxes, 附件2-5's (企业类免填) and no added
评价得分 row, and 结果's messages one whole message a row."""

from __future__ import annotations

import pytest
from conftest import load_base
from openpyxl import load_workbook

from xl_addin.forms.fill import fill_application
from xl_addin.forms.print_sheets import FORM, FORM_CONT, RUBRIC
from xl_addin.rules.campaign import load

C = load()
T = C.dossier["print"]


def _texts(ws):
    return [str(c.value) for row in ws.iter_rows() for c in row if c.value not in (None, "")]


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    d = tmp_path_factory.mktemp("forms")
    out = {}
    for name, changes in (("service", {"fill_date": "2023年6月20日"}),
                          ("garden", {"category": "工程类", "level": "用户满意级",
                                      "eng_type": "园林工程", "fill_date": "2023.6.20"}),
                          ("water", {"category": "工程类", "level": "用户满意级",
                                     "eng_type": "水利工程", "satisfaction": None})):
        v = load_base(C.year)
        v.update(changes)
        out[name] = load_workbook(fill_application(d / f"{name}.xlsx", v, campaign=C),
                                  data_only=True)
    # a blank form: 17 messages, over 250 characters before the last (issue 13's lines cut
    # one message in two there, B35/B36)
    out["blank"] = load_workbook(fill_application(d / "blank.xlsx", {}, campaign=C),
                                 data_only=True)
    return out


def test_cover_prints_a_date_typed_as_text(books):
    assert "填表日期：" + T["date_blank"] in _texts(books["blank"]["封面"])
    for name in ("service", "garden"):
        assert "填表日期：2023 年 6 月 20 日" in _texts(books[name]["封面"]), name


def test_form_2_3_has_the_note_and_the_qr_row(books):
    texts = _texts(books["service"][FORM])
    assert any(t.endswith("\n" + T["form_project_note"]) for t in texts)
    assert T["form_project_note"].startswith("（企业类免填）注：服务类填写专项服务名称")
    assert T["form_qr"] in texts


@pytest.mark.parametrize("name, ticked, shown", [
    ("garden", "☑市政工程", "☐其他"), ("water", "☑其他（水利工程）", "☐市政工程")])
def test_five_engineering_boxes(books, name, ticked, shown):
    (line,) = [t for t in _texts(books[name][FORM_CONT]) if "公共建筑" in t]
    assert line.count("☑") == 1 and line.count("☐") == 4, line
    assert ticked in line and shown in line
    assert "园林工程" not in line and ("水利工程" not in line or name == "water")


def test_form_2_5_as_the_notice(books):
    texts = _texts(books["service"][RUBRIC])
    (head,) = [t for t in texts if t.startswith("企业名称：")]
    assert head.endswith("（企业类免填）")
    assert "评价得分" not in texts


def test_result_lines_are_whole_messages(books):
    for name, wb in books.items():
        ws = wb["结果"]
        whole = wb.defined_names["flag_text"]
        sheet, coord = next(iter(whole.destinations))
        messages = [m for m in str(ws[coord.replace("$", "")].value or "").split("\n") if m]
        # the lines under the last 问题说明 label (the whole text's own row is hidden)
        start = max(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "问题说明")
        assert ws.row_dimensions[int(coord.replace("$", "")[1:])].hidden
        lines = [ws.cell(r, 2).value for r in range(start, start + len(messages) + 2)]
        assert [x for x in lines if x] == messages, name
        assert len(messages) >= (15 if name == "blank" else 1)
