"""The reader's plain paths give exactly what calamine gives (issue 23).

A named cell and a table's rows are read from the sheet's XML (which the bound has just
read) when the cell is one whose value is certain; any other cell goes to calamine. Each
form below is written at B5 of a sheet that is both named and inside a table, and the
plain value is compared with calamine's own, type included; the forms marked plain must
take the plain path (so that this test fails if it silently never does).
"""

from __future__ import annotations

import datetime
import sys
import zipfile

import pytest
from python_calamine import CalamineWorkbook

from xl_addin.read import workbook as fastread

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
TYPES = ('<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
         '<Default Extension="xml" ContentType="application/xml"/>'
         '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
         'relationships+xml"/>'
         '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
         'officedocument.spreadsheetml.sheet.main+xml"/>'
         '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
         'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
         '<Override PartName="/xl/tables/table1.xml" ContentType="application/vnd.'
         'openxmlformats-officedocument.spreadsheetml.table+xml"/>'
         '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
         'officedocument.spreadsheetml.styles+xml"/></Types>')
ROOT_RELS = (f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{R_NS}/officeDocument"'
             ' Target="xl/workbook.xml"/></Relationships>')
WB_RELS = (f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{R_NS}/worksheet" '
           'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
           f'Type="{R_NS}/styles" Target="styles.xml"/></Relationships>')
SHEET_RELS = (f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{R_NS}/table" '
              'Target="../tables/table1.xml"/></Relationships>')
TABLE = (f'<table xmlns="{MAIN}" id="1" name="t" displayName="t" ref="A4:C6">'
         '<tableColumns count="3"><tableColumn id="1" name="甲"/><tableColumn id="2" name="乙"/>'
         '<tableColumn id="3" name="丙"/></tableColumns></table>')
# Cell styles: 0, 1 General; 2 yyyy-mm-dd (custom 164); 3 m/d/yy h:mm (22); 4 h:mm:ss (21);
# 5 text (49); 6 0.00 (2).
STYLES = (f'<styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" '
          'formatCode="yyyy\\-mm\\-dd"/></numFmts><fonts count="1"><font/></fonts>'
          '<fills count="1"><fill/></fills><borders count="1"><border/></borders>'
          '<cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs><cellXfs count="7">'
          '<xf numFmtId="0"/><xf numFmtId="0" applyNumberFormat="1"/><xf numFmtId="164"/>'
          '<xf numFmtId="22"/><xf numFmtId="21"/><xf numFmtId="49"/><xf numFmtId="2"/>'
          '</cellXfs></styleSheet>')


def workbook_xml(date1904=False):
    pr = '<workbookPr date1904="1"/>' if date1904 else ""
    return (f'<workbook xmlns="{MAIN}" xmlns:r="{R_NS}">{pr}<sheets><sheet name="S" sheetId="1" '
            'r:id="rId1"/></sheets><definedNames><definedName name="x">S!$B$5</definedName>'
            '</definedNames></workbook>')


# (B5 as written, the plain path must take it)
FORMS = [
    ("", True),  # no cell
    ('<c r="B5"/>', True),
    ('<c r="B5" s="1"></c>', True),
    ('<c r="B5"><v>13800000000</v></c>', True),
    ('<c r="B5" t="n"><v>-1.5E3</v></c>', True),
    ('<c r="B5" s="6"><v>.25</v></c>', True),
    ('<c r="B5" s="5"><v>12.5</v></c>', True),
    ('<c r="B5"><f>A1</f><v>2</v></c>', True),
    ('<c r="B5"><f>A1</f></c>', True),
    ('<c r="B5"><v></v></c>', True),
    ('<c r="B5" t="str"><f>IF(A1="","",A1)</f><v></v></c>', True),
    ('<c r="B5" t="str"><f>A1</f><v>甲 &amp; 乙 &lt;&gt;</v></c>', True),
    ('<c r="B5" t="inlineStr"><is><t>张三</t></is></c>', True),
    ('<c r="B5" t="inlineStr"><is><t xml:space="preserve">  张三 </t></is></c>', True),
    ('<c r="B5" s="1" t="inlineStr"><is><t>&#x4E00;&#9;&quot;x&apos;&#10;y</t></is></c>', True),
    ('<c r="B5" t="inlineStr"><is><t></t></is></c>', True),
    ('<c r="B5" s="2"><v>45106</v></c>', True),  # a date: 2023-06-29
    ('<c r="B5" s="3"><v>45106</v></c>', True),  # a whole serial in a date-time format
    ('<c r="B5" t="inlineStr"><is><t> 张三 </t></is></c>', False),  # trimmed by calamine
    ('<c r="B5" t="inlineStr"><is><t>a_x000D_b</t></is></c>', False),
    ('<c r="B5" t="inlineStr"><is><t>a&#13;b</t></is></c>', False),
    ('<c r="B5" t="inlineStr"><is><t>a&nbsp;b</t></is></c>', False),
    ('<c r="B5" t="inlineStr"><is><r><t>富</t></r><r><t>强</t></r></is></c>', False),
    ('<c r="B5" t="inlineStr"><is><t><![CDATA[x]]></t></is></c>', False),
    ('<c r="B5" t="s"><v>0</v></c>', False),
    ('<c r="B5" t="b"><v>1</v></c>', False),
    ('<c r="B5" t="e"><v>#N/A</v></c>', False),
    ('<c r="B5" s="3"><v>45106.5</v></c>', False),
    ('<c r="B5" s="2"><v>30</v></c>', False),  # before March 1900
    ('<c r="B5" s="4"><v>0.5</v></c>', False),  # a time
    ('<c r="B5" s="9"><v>1</v></c>', False),  # no such style
    ('<c r="B5" cm="1"><v>1</v></c>', False),
    ('<c r="B5"><v>1e999</v></c>', False),
    ('<c r="B5"><v> 1 </v></c>', False),
    ('<c r="B5"><v>1</v><f>A1</f></c>', False),
    ('<c r="B5" s="1"/><c r="B5"><v>2</v></c>', False),  # given twice
]


def _write(path, b5, date1904=False, before=""):
    sheet = (f'<worksheet xmlns="{MAIN}" xmlns:r="{R_NS}"><dimension ref="A1:C6"/><sheetData>'
             f'{before}<row r="1"><c r="A1" t="inlineStr"><is><t>名</t></is></c></row>'
             '<row r="4"><c r="A4" t="inlineStr"><is><t>甲</t></is></c>'
             '<c r="B4" t="inlineStr"><is><t>乙</t></is></c>'
             '<c r="C4" t="inlineStr"><is><t>丙</t></is></c></row>'
             f'<row r="5"><c r="A5"><v>1</v></c>{b5}<c r="C5" t="inlineStr"><is><t>甲</t></is></c>'
             '</row><row r="6"><c r="A6"><v>2</v></c></row></sheetData>'
             '<tableParts count="1"><tablePart r:id="rId1"/></tableParts></worksheet>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("xl/workbook.xml", workbook_xml(date1904))
        z.writestr("xl/_rels/workbook.xml.rels", WB_RELS)
        z.writestr("xl/styles.xml", STYLES)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        z.writestr("xl/worksheets/_rels/sheet1.xml.rels", SHEET_RELS)
        z.writestr("xl/tables/table1.xml", TABLE)
    return path


def _plain(path):
    """(B5 read from the XML or _UNSURE, the table's rows read from the XML or None)."""
    wb = CalamineWorkbook.from_path(str(path), load_tables=True)
    with zipfile.ZipFile(path) as z:
        sheets, _names = fastread._workbook_parts(z, path)
        sh = fastread._Sheets(wb, z, path, sheets)
        cell = sh._plain_cell("S", 5, 2)
        rows = sh.plain_cells("S", 5, 1, 6, 3)
    return cell, rows


def _calamine(path):
    wb = CalamineWorkbook.from_path(str(path), load_tables=True)
    grid = wb.get_sheet_by_name("S").to_python(skip_empty_area=False)
    table = wb.get_table_by_name("t").to_python()
    return grid[4][1] if len(grid) > 4 and len(grid[4]) > 1 else "", table


def _typed(v):
    return type(v).__name__, v


@pytest.mark.parametrize("form, plain", FORMS)
def test_a_cell_read_from_the_xml_is_what_calamine_gives(tmp_path, form, plain):
    p = _write(tmp_path / "x.xlsx", form)
    cell, rows = _plain(p)
    try:
        want_cell, want_rows = _calamine(p)
    except Exception:  # noqa: BLE001 - calamine refuses the sheet: so must the plain path
        assert (cell, rows) == (fastread._UNSURE, None) and not plain
        return
    if plain:
        assert cell is not fastread._UNSURE and rows is not None
    if cell is not fastread._UNSURE:
        assert _typed("" if cell is None else cell) == _typed(want_cell)
    if rows is not None:
        assert [[_typed(v) for v in r] for r in rows] == [[_typed(v) for v in r] for r in want_rows]
    # the reader as a whole: the same submission with and without the plain paths
    got = fastread.read_submission(p, names=["x"], expected={"t": ("甲", "乙", "丙")},
                                   any_workbook=True)
    want = _without_plain(p)
    assert _typed(got.values["x"]) == _typed(want.values["x"])
    assert [[_typed(v) for v in r] for r in got.tables["t"].rows] == \
        [[_typed(v) for v in r] for r in want.tables["t"].rows]
    assert (got.tables["t"].columns, got.tables["t"].first_row, got.tables["t"].first_col) == \
        (want.tables["t"].columns, want.tables["t"].first_row, want.tables["t"].first_col)


def _without_plain(p):
    mp = pytest.MonkeyPatch()
    mp.setattr(fastread._Sheets, "_plain_cell", lambda self, n, r, c: fastread._UNSURE)
    mp.setattr(fastread._Tables, "_plain", lambda self, t, s: None)
    try:
        return fastread.read_submission(p, names=["x"], expected={"t": ("甲", "乙", "丙")},
                                        any_workbook=True)
    finally:
        mp.undo()


def test_a_date_is_a_date_as_calamine_gives_it(tmp_path):
    cell, rows = _plain(_write(tmp_path / "x.xlsx", '<c r="B5" s="2"><v>45106</v></c>'))
    assert cell == datetime.date(2023, 6, 29) and rows[0][1] == datetime.date(2023, 6, 29)


def test_a_1904_workbook_leaves_its_dates_to_calamine(tmp_path):
    p = _write(tmp_path / "x.xlsx", '<c r="B5" s="2"><v>45106</v></c>', date1904=True)
    cell, rows = _plain(p)
    assert cell is fastread._UNSURE and rows is None
    assert _calamine(p)[0] == datetime.date(2027, 6, 30)  # what the plain path must not say


@pytest.mark.parametrize("before", [
    '<!-- <row r="5"><c r="B5"><v>9</v></c></row> -->',  # a cell calamine never sees
    '<?pi <c r="B5"><v>9</v></c> ?>',
])
def test_markup_that_hides_a_cell_sends_the_sheet_to_calamine(tmp_path, before):
    p = _write(tmp_path / "x.xlsx", "", before=before)
    assert _plain(p) == (fastread._UNSURE, None)
    assert _calamine(p)[0] == ""
    assert fastread.read_submission(p, names=["x"], any_workbook=True).values["x"] is None


@pytest.mark.parametrize("ref, words", [
    ("A4:C1048576", "有 1048572 行，超出 5000 行上限"),
    ("A4:XFD100", "的范围过大（96 行 × 16384 列）"),
])
def test_a_table_declared_huge_is_refused_before_calamine_builds_it(tmp_path, monkeypatch, ref,
                                                                     words):
    """calamine builds a table's range as its part declares it: A4:XFD1048576 on a small
    sheet asked for 137 GB and aborted the process. A cell it cannot read plainly (a shared
    string) sends the table to calamine: the size is checked first."""
    monkeypatch.setattr(sys.modules[__name__], "TABLE", TABLE.replace('ref="A4:C6"', f'ref="{ref}"'))
    p = _write(tmp_path / "x.xlsx", '<c r="B5" t="s"><v>0</v></c>')
    with pytest.raises(fastread.UnreadableWorkbook) as e:
        fastread.read_submission(p, names=["x"], expected={"t": ("甲", "乙", "丙")},
                                 any_workbook=True)
    assert words in e.value.reason
