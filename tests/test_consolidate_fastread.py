"""The fast reader's small parts: references of defined names, zip probing limits."""

from __future__ import annotations

import zipfile

import pytest

from xl_addin.read import workbook as fastread
from xl_addin.tables import ZIP_MAX_ENTRIES

# (defined name text, expected (sheet, row, col, row2, col2) or None)
REFS = [
    ("'申请表'!$B$12", ("申请表", 12, 2, 12, 2)),
    ("Sheet1!$C$5", ("Sheet1", 5, 3, 5, 3)),
    ("'O''Brien 表'!$AA$100", ("O'Brien 表", 100, 27, 100, 27)),
    ("'申请表'!$B$12:$D$12", ("申请表", 12, 2, 12, 4)),
    ("'申请表'!B7", ("申请表", 7, 2, 7, 2)),
    ("#REF!", None),
    ("'申请表'!#REF!", None),
    ("=SUM(A1)", None),
]


@pytest.mark.parametrize("text, want", REFS)
def test_parse_ref(text, want):
    assert fastread.parse_ref(text) == want


@pytest.mark.parametrize("n", [1, 26, 27, 52, 703, 16384])
def test_column_letters_round_trip(n):
    assert fastread.col_index(fastread.col_letter(n)) == n


def test_many_entries_is_refused(tmp_path):
    p = tmp_path / "x.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        for i in range(ZIP_MAX_ENTRIES + 1):
            z.writestr(f"f{i}", b"")
    with pytest.raises(fastread.UnreadableWorkbook) as e:
        fastread.probe(p)
    assert "文件过多" in e.value.reason


def test_probe_tells_formats_apart(tmp_path):
    (tmp_path / "a").write_bytes(b"")
    (tmp_path / "b").write_bytes("纯文本".encode("utf-8"))
    (tmp_path / "c").write_bytes(fastread.OLE_MAGIC + bytes(100))
    with zipfile.ZipFile(tmp_path / "d", "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/vbaProject.bin", b"x")
    got = [fastread.probe(tmp_path / n) for n in "abcd"]
    assert [g.format for g in got] == ["empty", "text", "ole", "xlsx"]
    assert got[3].macros and not got[2].encrypted
