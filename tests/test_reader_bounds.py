"""The reader bounds a sheet in the pass that reads it (issue 23): the fast bound is never
below the exact extent, only the sheets the verdict needs are measured and read, and the
cells right below a table are judged blank from the XML only when they certainly are.

The hostile corpus (tests/test_consolidate_corpus.py) holds the end-to-end cases; these are
the parts.
"""

from __future__ import annotations

import random
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.worksheet.table import Table

from xl_addin import demo
from xl_addin.read import verdict
from xl_addin.read import workbook as fastread
from xl_addin.rules.campaign import load

C = load(2023)


# ---------------------------------------------------------------------- the fast bound
def _cell(col, row, kind, with_ref):
    zeros = "00" if with_ref == "zeros" else ""
    ref = f' r="{fastread.col_letter(col)}{zeros}{row}"' if with_ref else ""
    return {"value": f"<c{ref}><v>1</v></c>", "styled": f'<c{ref} s="1"/>',
            "formula": f"<c{ref}><f>A1</f></c>",
            "text": f'<c{ref} t="inlineStr"><is><t>x</t></is></c>'}[kind]


cells = st.lists(st.tuples(st.integers(1, 800), st.integers(1, 3000),
                           st.sampled_from(["value", "styled", "formula", "text"]),
                           st.sampled_from(["", "ref", "zeros"])), max_size=30)


@given(cells, st.booleans())
def test_fast_bound_is_never_below_the_exact_extent(spec, prefixed):
    rows = {}
    for col, row, kind, with_ref in spec:
        rows.setdefault(row, []).append(_cell(col, row, kind, with_ref))
    body = "".join(f'<row r="{r}">{"".join(cs)}</row>' for r, cs in rows.items())
    if prefixed:
        body = body.replace("<c", "<x:c").replace("</c>", "</x:c>")
    xml = f'<worksheet><dimension ref="A1"/><sheetData>{body}</sheetData></worksheet>'.encode()
    exact = fastread.sheet_extent(xml)
    bound = fastread.extent_bound(xml)
    if bound is None:  # only the exact scan can tell: no plain reference, or a prefixed cell
        assert prefixed or not all(w == "ref" for *_, w in spec)
        return
    assert bound.rows >= exact.rows and bound.cols >= exact.cols
    if all(kind != "styled" for _c, _r, kind, _w in spec):
        assert (bound.rows, bound.cols) == (exact.rows, exact.cols)


def test_fast_bound_of_a_far_cell_and_of_a_lie():
    far = b'<sheetData><row r="9"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    assert (fastread.extent_bound(far).rows, fastread.extent_bound(far).cols) == (1048576, 16384)
    assert fastread.measure_sheet("申请表", far) and "XFD1048576" in fastread.measure_sheet("申请表", far)
    styled = b'<sheetData><row r="1048576"><c r="XFD1048576" s="3"/></row></sheetData>'
    assert fastread.measure_sheet("申请表", styled) is None  # over the bound, empty in fact
    lie = b'<dimension ref="A1:XFD1048576"/><sheetData><row r="2"><c r="B2"><v>1</v></c></row>'
    assert fastread.measure_sheet("申请表", lie) is None
    # a leading zero is no shorter a row: 0000009 is not above 999999
    zeros = b'<c r="A0000009"><v>1</v></c><c r="A999999"><v>1</v></c>'
    assert fastread.extent_bound(zeros) is None and "A999999" in fastread.measure_sheet("x", zeros)


# ---------------------------------------------------------------------- only what is needed
def _application(path, seed=1):
    a = demo.application(C, random.Random(seed), seed, "服务类", demo.RECOMMENDERS[0])
    demo.write_plain_application(path, {k: v for k, v in a.values.items() if v is not None},
                                 a.respondents, C)
    return path


def _add_far_sheet(path, title, table=None):
    """A sheet with a value at XFD1048576 (17 billion cells if its grid were built), with
    a table of ``table`` = (name, headers) on it."""
    wb = load_workbook(path)
    ws = wb.create_sheet(title, 1)
    if table:
        name, headers = table
        ws.append(list(headers))
        ws.append(["1"] + ["x"] * (len(headers) - 1))
        ws.add_table(Table(displayName=name,
                           ref=f"A1:{fastread.col_letter(len(headers))}2"))
    ws["XFD1048576"] = "远处"
    wb.save(path)
    return path


def test_a_sheet_that_feeds_no_field_is_never_built(tmp_path):
    clean = _application(tmp_path / "a.xlsx")
    want = verdict.read(clean, C)
    far = _add_far_sheet(_application(tmp_path / "b.xlsx"), "封面")
    got = verdict.read(far, C)
    assert (got.values, got.tables["respondent_list"].rows) == \
        (want.values, want.tables["respondent_list"].rows)
    # a reader of the whole workbook measures that sheet too, and refuses it
    with pytest.raises(fastread.UnreadableWorkbook) as e:
        fastread.read_submission(far, any_workbook=True)
    assert "使用区域过大" in e.value.reason and "封面" in e.value.reason


def test_an_application_is_never_searched_for_a_recommender_table(tmp_path):
    labels = verdict.expected_tables(C, "recommender")[verdict.RECOMMENDATION_TABLE]
    far = _add_far_sheet(_application(tmp_path / "a.xlsx"), "附件3",
                         (verdict.RECOMMENDATION_TABLE, labels))
    sub = verdict.read(far, C)
    assert sub.kind == "application" and verdict.RECOMMENDATION_TABLE not in sub.tables


def test_a_recommender_is_never_searched_for_the_respondent_list(tmp_path):
    rows = [{"序号": 1, "申请组织名称": "上海甲有限公司", "满意度得分": 80}]
    p = tmp_path / "r.xlsx"
    demo.write_plain_recommender(p, {"recommender": "上海市测试协会"}, rows, C)
    _add_far_sheet(p, "被访者名单", (verdict.RESPONDENT_TABLE, verdict.RESPONDENT_COLUMNS))
    sub = verdict.read(p, C)
    assert sub.kind == "recommender" and verdict.RESPONDENT_TABLE not in sub.tables
    assert len(verdict.recommendation_rows(sub, C).rows) == 1


def test_a_needed_sheet_with_a_far_cell_is_refused(tmp_path):
    p = _application(tmp_path / "a.xlsx")
    wb = load_workbook(p)
    wb["自评表"]["XFD1048576"] = "远处"
    wb.save(p)
    with pytest.raises(fastread.UnreadableWorkbook) as e:
        verdict.read(p, C)
    assert "使用区域过大" in e.value.reason and "自评表" in e.value.reason


# ---------------------------------------------------------------------- below a table
CONTENT = "[Content_Types].xml"
WB = ('<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
      'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
      '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
RELS = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
TYPES = ('<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
         '<Default Extension="xml" ContentType="application/xml"/>'
         '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
         'officedocument.spreadsheetml.sheet.main+xml"/>'
         '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
         'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
ROOT_RELS = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
             'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
             'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
             '</Relationships>')

# Cell B5 written as different writers write it: (XML, blank for the reader?)
FORMS = [
    ("", True),  # no cell at all
    ('<c r="B5" s="2"/>', True),
    ('<c r="B5"><f>A1</f></c>', True),  # a formula never calculated
    ('<c r="B5" t="str"><f>IF(A1="","",A1)</f><v></v></c>', True),  # Excel's cached ""
    ('<c r="B5" t="inlineStr"><is><t xml:space="preserve">  </t></is></c>', True),
    ('<c r="B5" t="inlineStr"><is><t>张三</t></is></c>', False),
    ('<c r="B5"><v>13800000000</v></c>', False),
    ('<c r="B5" t="str"><f>A1</f><v>甲</v></c>', False),
    ('<c r="B5" t="s"><v>0</v></c>', False),  # a shared string: not judged from the XML
    ('<c r="B5" t="b"><v>0</v></c>', False),
    ('<c r="B5" t="inlineStr"><is><r><t>富</t></r></is></c>', False),
    ('<c r="B5" s="1"/><c r="B5"><v>2</v></c>', False),  # twice: every copy is looked at
    ('<c s="1"/><c><v>2</v></c>', False),  # without references: in doubt
]


@pytest.mark.parametrize("form, blank", FORMS)
def test_cells_below_a_table_are_blank_only_when_they_certainly_are(tmp_path, form, blank):
    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             '<sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
             f'<row r="5"><c r="A5"><v>5</v></c>{form}</row></sheetData></worksheet>')
    p = tmp_path / "x.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr(CONTENT, TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("xl/workbook.xml", WB)
        z.writestr("xl/_rels/workbook.xml.rels", RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        z.writestr("xl/sharedStrings.xml", '<sst xmlns="http://schemas.openxmlformats.org/'
                                           'spreadsheetml/2006/main"><si><t>乙</t></si></sst>')
    from python_calamine import CalamineWorkbook
    wb = CalamineWorkbook.from_path(str(p))
    with zipfile.ZipFile(p) as z:
        sheets, _names = fastread._workbook_parts(z, p)
        sh = fastread._Sheets(wb, z, p, sheets)
        assert sh.bound("S")
        said = sh.blank_cells("S", 5, 2, 3)
        grid = sh.grid("S")
    assert said == blank
    if said:  # never blank when the reader sees a value there
        assert fastread._blank_row(grid[4][1:3])
