"""The templates: the reader contract (FIELDS.md names, tables, _meta), the committed copies
in workbooks/, the form's protections and validations, filling, reading and `saq check`."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from defusedxml import ElementTree as ET
from lo_cases import base_application
from openpyxl import Workbook, load_workbook

from xl_addin import __version__
from xl_addin.cli import main
from xl_addin.forms.fill import fill_application, fill_recommender
from xl_addin.forms.templates import template_names, write_templates
from xl_addin.read.workbook import NotOurWorkbook as ReaderNotOurs
from xl_addin.read.workbook import UnreadableWorkbook, read_submission
from xl_addin.rules.campaign import load

ROOT = Path(__file__).resolve().parents[1]
WORKBOOKS = ROOT / "workbooks"
VOLATILE = {"docProps/core.xml", "docProps/app.xml"}
COMPUTED = ("se_base", "se_bonus", "se_total", "se_conclusion", "achievable_level",
            "proposed_level", "level_reason", "flags", "flag_text", "error_count",
            "warning_count")


@pytest.fixture(scope="module")
def c():
    return load()


@pytest.fixture(scope="module")
def fresh(tmp_path_factory, c):
    return write_templates(tmp_path_factory.mktemp("templates"), c)


def _names(path):
    wb = load_workbook(path)
    out = {}
    for n, dn in wb.defined_names.items():
        (sheet, coord), = list(dn.destinations)
        out[n] = (sheet, coord.replace("$", ""))
    return wb, out


# ---------------------------------------------------------------------- committed copies
def _xml_equal(a, b):
    """Parsed XML trees equal: tag, attributes, text and children in order."""
    if a.tag != b.tag or a.attrib != b.attrib:
        return False
    if (a.text or "").strip() != (b.text or "").strip():
        return False
    if len(a) != len(b):
        return False
    return all(_xml_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("kind", ["application", "recommender"])
def test_committed_workbooks_equal_fresh_generation(fresh, c, kind):
    committed = WORKBOOKS / template_names(c)[kind]
    assert committed.exists(), "run `saq templates` and commit workbooks/"
    with zipfile.ZipFile(committed) as za, zipfile.ZipFile(fresh[kind]) as zb:
        parts_a = sorted(n for n in za.namelist() if n not in VOLATILE)
        parts_b = sorted(n for n in zb.namelist() if n not in VOLATILE)
        assert parts_a == parts_b
        for name in parts_a:
            da, db = za.read(name), zb.read(name)
            if name.endswith((".xml", ".rels", ".vml")):
                assert _xml_equal(ET.fromstring(da), ET.fromstring(db)), \
                    f"{committed.name}: {name} differs — run `saq templates` again"
            else:
                assert da == db, name


# ---------------------------------------------------------------------- contract
def test_application_contract(fresh, c):
    wb, names = _names(fresh["application"])
    meta = {r[0]: r[1] for r in wb["_meta"].iter_rows(min_row=2, values_only=True)}
    assert meta == {"template_id": "saq-application", "template_version": c.template_version,
                    "campaign_year": c.year, "generator_version": __version__}
    assert [r for r in wb["_meta"].iter_rows(max_row=1, values_only=True)][0][:2] == ("key", "value")
    assert wb["_meta"].sheet_state == "hidden"
    inputs = [f.key for f in c.fields["application"] if f.block != "derived"]
    inputs += [p.key for p in c.rubric.parts] + [c.rubric.veto_key]
    for key in inputs:
        assert key in names, key
        sheet, coord = names[key]
        cell = wb[sheet][coord]
        assert cell.protection.locked is False, key  # input cells are unlocked
        assert not (isinstance(cell.value, str) and cell.value.startswith("="))
    for key in COMPUTED:
        sheet, coord = names[key]
        cell = wb[sheet][coord]
        assert str(cell.value).startswith("="), key
        assert cell.protection.locked is not False
    tables = {t.displayName: t for ws in wb.worksheets for t in ws.tables.values()}
    ws = next(ws for ws in wb.worksheets if "respondent_list" in ws.tables)
    ref = tables["respondent_list"].ref
    heads = [cl.value for cl in ws[ref.split(":")[0]:ref.split(":")[1].rstrip("0123456789") +
                                  ref.split(":")[0].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")][0]]
    assert heads == ["序号", "姓名", "联系方式"]
    for ws in wb.worksheets:
        assert ws.protection.sheet and not ws.protection.password, ws.title


def test_recommender_contract(fresh, c):
    wb, names = _names(fresh["recommender"])
    meta = {r[0]: r[1] for r in wb["_meta"].iter_rows(min_row=2, values_only=True)}
    assert meta["template_id"] == "saq-recommender"
    for key in ("recommender", "filler_name", "filler_dept", "filler_title", "filler_mobile",
                "filler_email", "fill_date", "row_count", "error_count", "warning_count"):
        assert key in names, key
    ws = next(ws for ws in wb.worksheets if "recommendations" in ws.tables)
    t = ws.tables["recommendations"]
    first = ws[t.ref.split(":")[0]]
    heads = [ws.cell(first.row, first.column + i).value for i in range(len(t.tableColumns))]
    labels = [f.label for f in c.fields["recommendation_row"]]
    assert heads[:len(labels)] == labels
    assert {"问题代码", "问题说明", "可评等级"} <= set(heads[len(labels):])
    # F5: the 申请选择组织自评分 heading explains itself in a comment
    j = labels.index("申请选择组织自评分")
    assert "测评机构" in ws.cell(first.row, first.column + j).comment.text
    # A4, landscape, fit to width, repeated headings
    assert int(ws.page_setup.paperSize) == 9 and int(ws.page_setup.fitToWidth) == 1
    assert ws.print_title_rows


def test_choice_fields_have_validation_lists(fresh, c):
    wb, names = _names(fresh["application"])
    for f in c.fields["application"]:
        if f.type not in ("choice", "category", "level") or f.block == "derived":
            continue
        sheet, coord = names[f.key]
        dvs = [dv for dv in wb[sheet].data_validations.dataValidation if coord in dv.sqref]
        assert dvs and dvs[0].type == "list" and dvs[0].prompt and dvs[0].error, f.key


# ---------------------------------------------------------------------- fill and read
def test_fill_and_read_application(tmp_path, c):
    values = dict(base_application(c), org_name="=HYPERLINK(\"x\")", se_R3=6.5)
    p = fill_application(tmp_path / "a.xlsx", values, respondents=[("张三", "13800000000"),
                                                                   ("李四", None)], campaign=c)
    sub = read_submission(p)
    assert sub.kind == "application" and sub.meta["campaign_year"] == c.year
    assert sub.values["org_name"] == values["org_name"]  # formula-like text stays text
    assert sub.values["satisfaction"] == values["satisfaction"]
    assert sub.values["fill_date"] == values["fill_date"]
    assert sub.values["se_R3"] == 6.5
    # the file carries the computed total (issue 11): the engine's own total
    from xl_addin.read.check import check_file
    assert sub.values["se_total"] == check_file(p, c).selfeval_total
    t = sub.tables["respondent_list"]
    names = [r[t.columns.index("姓名")] for r in t.rows if r[t.columns.index("姓名")]]
    assert names == ["张三", "李四"]
    sheet, coord = sub.locations["org_name"]
    assert sheet == "申请表"
    wb = load_workbook(p)
    assert wb[sheet][coord].data_type == "s"


def test_fill_and_read_recommender(tmp_path, c):
    rows = [{"申请组织名称": "上海某某公司", "申请类别": "服务类", "满意度得分": 86},
            {"org_name": "另一家", "category": "产品类", "satisfaction": 75.5}]
    p = fill_recommender(tmp_path / "r.xlsx", {"recommender": "某区市场监管局",
                                               "fill_date": dt.date(2023, 7, 1)}, rows, c)
    sub = read_submission(p)
    assert sub.kind == "recommender" and sub.values["recommender"] == "某区市场监管局"
    t = sub.tables["recommendations"]
    got = [dict(zip(t.columns, r)) for r in t.rows if r[t.columns.index("申请组织名称")]]
    assert [r["申请组织名称"] for r in got] == ["上海某某公司", "另一家"]
    assert got[1]["满意度得分"] == 75.5


def test_fill_rejects_unknown_key(tmp_path, c):
    with pytest.raises(KeyError):
        fill_application(tmp_path / "x.xlsx", {"no_such_field": 1}, campaign=c)


@pytest.mark.parametrize("content, exc, words", [
    (b"not a zip at all", UnreadableWorkbook, "不是 Excel 工作簿"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, UnreadableWorkbook, r"\.xls"),
])
def test_reader_refuses_bad_files(tmp_path, content, exc, words):
    p = tmp_path / "bad.xlsx"
    p.write_bytes(content)
    with pytest.raises(exc, match=words):
        read_submission(p)


def test_reader_refuses_foreign_workbook(tmp_path):
    p = tmp_path / "foreign.xlsx"
    wb = Workbook()
    wb.active["A1"] = "hello"
    wb.save(p)
    with pytest.raises(ReaderNotOurs, match="_meta"):
        read_submission(p)
    wb.create_sheet("_meta").append(("key", "value"))
    wb["_meta"].append(("template_id", "something-else"))
    wb.save(p)
    with pytest.raises(ReaderNotOurs, match="模板标识"):
        read_submission(p)


# ---------------------------------------------------------------------- saq check / templates
def test_check_exit_codes(tmp_path, capsys, c):
    from xl_addin.rules.materials import complete_checklist
    base = base_application(c)
    good = fill_application(tmp_path / "good.xlsx",
                            {**base, **complete_checklist(base["category"], c)}, campaign=c)
    assert main(["check", str(good)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "表格：无误；材料：齐全；可以提交"  # the sheet's banner
    bad = fill_application(tmp_path / "bad.xlsx", dict(base_application(c), satisfaction=65,
                                                       uscc="91310115MA1K3YJH35"), campaign=c)
    assert main(["check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "E15" in out and "E16" in out and "校验位" in out
    rec = fill_recommender(tmp_path / "rec.xlsx", {"recommender": "某区", "filler_email": "bad"},
                           [{"申请组织名称": "某公司", "申请类别": "产品类", "申请等级": "标杆级"}], c)
    assert main(["check", str(rec)]) == 1
    out = capsys.readouterr().out
    assert "E14" in out and "E28" in out and "第 1 行" in out
    (tmp_path / "x.xlsx").write_bytes(b"junk")
    assert main(["check", str(tmp_path / "x.xlsx")]) == 2
    assert "无法读取" in capsys.readouterr().err


def test_templates_command(tmp_path, capsys, c):
    assert main(["templates", "-o", str(tmp_path)]) == 0
    for name in template_names(c).values():
        assert (tmp_path / name).exists()
