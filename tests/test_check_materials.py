"""`saq check FILE` says what the workbook's own banner says about the 材料清单 (RULES.md M,
issue 13): the same number of items missing, the same items (M codes), the banner word for
word, and 可以提交 only when 表格 and 材料 are both clean. Missing required material is an
error (RULES.md M): exit code 1; a missing M07 (a warning) keeps exit code 0 but, as on the
sheet, no 可以提交.
"""

from __future__ import annotations

import functools
import json

import pytest
from lo_session import available, read_recalculated

from xl_addin.cli import main
from xl_addin.demo.dossier import demo_app
from xl_addin.forms.fill import fill_application
from xl_addin.rules.campaign import load
from xl_addin.rules.materials import applies, checklist_name, material_items

C = load(2023)
YES, NA = C.dossier["provided"], C.dossier["not_applicable"]

# name -> (category, item key -> answer replacing 已提供 (None: blank), exit code, status line)
CASES = {
    # M07 may be 不适用; 工程类 items are not asked of a 服务类 application (a blank there is
    # not missing); the answer is trimmed as Excel's TRIM does
    "complete": ("服务类", {"awards": NA, "acceptance": None, "plan": " " + YES + " "}, 0,
                 "表格：无误；材料：齐全；可以提交"),
    # 产品类: both M08 items unanswered, the 申报承诺书 answered with a word not in the list
    "product_missing": ("产品类", {"test_report": None, "trademark": None, "declaration": "是"},
                        1, "表格：无误；材料：缺 3 项"),
    # only the M07 warning: a blank is missing (不适用 must be chosen)
    "awards_blank": ("服务类", {"awards": None}, 0, "表格：无误；材料：缺 1 项"),
}


@functools.lru_cache(maxsize=None)
def _app(category):
    return demo_app(category, campaign=C)


def write_case(folder, name):
    category, given, _code, _status = CASES[name]
    values, people = _app(category)
    answers = {checklist_name(it): YES for it in material_items(C) if applies(it, category)}
    answers.update({checklist_name({"key": k}): v for k, v in given.items()})
    return fill_application(folder / f"{name}.xlsx", {**values, **answers}, people, campaign=C)


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    d = tmp_path_factory.mktemp("materials")
    return {name: write_case(d, name) for name in CASES}, d


def check(capsys, path, *extra):
    code = main(["check", str(path), *extra])
    out = capsys.readouterr()
    assert out.err == ""
    return code, out.out


def test_exit_code_and_status_line(books, capsys):
    paths, _d = books
    for name, (_cat, _given, want_code, want_status) in CASES.items():
        code, out = check(capsys, paths[name])
        assert (code, out.splitlines()[-1]) == (want_code, want_status), name


def test_the_missing_items_are_listed_with_their_codes(books, capsys):
    paths, _d = books
    code, out = check(capsys, paths["product_missing"])
    lines = out.splitlines()
    start = lines.index("材料清单：缺 3 项（未选“已提供”）")
    table = [ln.split() for ln in lines[start + 3:-1]]
    assert [row[1:3] for row in table] == [["M02", "错误"], ["M08", "错误"], ["M08", "错误"]]
    assert [row[3] for row in table] == ["附件2-2", "产品检测报告复印件", "商标注册证书"]
    assert all(row[0].startswith("材料清单!F") for row in table)
    code, out = check(capsys, paths["complete"])
    assert "材料清单：" not in out  # nothing missing: no list


def test_json_has_the_materials_member(books, capsys):
    paths, _d = books
    code, out = check(capsys, paths["product_missing"], "--json")
    v = json.loads(out)
    assert code == 1 and v["status"] == "表格：无误；材料：缺 3 项"
    assert v["materials"]["missing"] == 3
    assert [(i["code"], i["severity"]) for i in v["materials"]["items"]] == \
        [("M02", "error"), ("M08", "error"), ("M08", "error")]
    assert sorted(e["code"] for e in v["errors"]) == ["M02", "M08", "M08"]  # findings too
    assert v["warnings"] == []
    code, out = check(capsys, paths["awards_blank"], "--json")
    v = json.loads(out)
    assert code == 0 and v["errors"] == [] and [w["code"] for w in v["warnings"]] == ["M07"]
    assert v["materials"] == {"missing": 1, "items": [
        {"code": "M07", "severity": "warning", "item": "近三年与用户有关奖项、荣誉复印件",
         "where": v["materials"]["items"][0]["where"]}]}


def test_a_recommender_has_no_materials(tmp_path, capsys):
    from xl_addin.forms.fill import fill_recommender
    rec = fill_recommender(tmp_path / "rec.xlsx", {"recommender": "某区"}, [], campaign=C)
    code, out = check(capsys, rec, "--json")
    assert json.loads(out)["materials"] is None


@pytest.mark.libreoffice
@pytest.mark.skipif(not available(), reason="LibreOffice not installed")
def test_the_recalculated_banner_equals_saq_check(books, capsys):
    paths, _d = books
    for name, path in paths.items():
        v = read_recalculated(path).values  # LibreOffice's recalculation, read over UNO
        code, out = check(capsys, path, "--json")
        got = json.loads(out)
        assert v["banner"] == got["status"] == CASES[name][3], name
        assert int(v["materials_missing"]) == got["materials"]["missing"], name


def test_a_workbook_without_a_checklist_keeps_the_old_status(books, capsys, tmp_path):
    """An application without 材料清单 names (an older template): no 材料 part, as its sheet."""
    from openpyxl import load_workbook
    paths, _d = books
    wb = load_workbook(paths["product_missing"])
    for name in [n for n in wb.defined_names if n.startswith("mat_")]:
        del wb.defined_names[name]
    p = tmp_path / "old.xlsx"
    wb.save(p)
    code, out = check(capsys, p, "--json")
    v = json.loads(out)
    assert (code, v["materials"], v["status"], v["errors"]) == (0, None, "可以提交", [])
