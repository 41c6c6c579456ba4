"""A 附件3 whose table was converted to a range, renamed or shrunk loses no row (issues 9
and 12): the one reader finds the rows by their header, consolidation imports all nine and
`saq check` reports the same nine, each with a note saying how the table was found.
"""

from __future__ import annotations

import random
import re
import zipfile

import pytest
from master_sheets import sheet

from xl_addin import demo
from xl_addin.consolidate import consolidate
from xl_addin.forms.fill import fill_recommender
from xl_addin.read import check
from xl_addin.rules.campaign import load

C = load(2023)
N = 9


def rezip(src, dst, edit):
    with zipfile.ZipFile(src) as z:
        items = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in items:
            out = edit(n, data)
            if out is not None:
                z.writestr(n, out)


def converted_to_range(n, b):
    if n.startswith("xl/tables/"):
        return None
    return re.sub(rb"<tableParts.*?</tableParts>", b"", b)


def renamed(n, b):
    if n.startswith("xl/tables/"):
        return b.replace(b'name="recommendations" displayName="recommendations"',
                         b'name="Table7" displayName="Table7"')
    return b


def shrunk(n, b):
    if n.startswith("xl/tables/"):  # the table now covers the first three data rows only
        return re.sub(rb'ref="A5:([A-Z]+)\d+"', rb'ref="A5:\g<1>8"', b)
    return b


VARIANTS = {"转换为普通区域": (converted_to_range, "普通区域"), "改名": (renamed, "改名"),
            "范围缩小": (shrunk, "范围比数据短")}


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    d = tmp_path_factory.mktemp("lost")
    rng = random.Random(5)
    apps = [demo.application(C, rng, i, "服务类", demo.RECOMMENDERS[0]) for i in range(N)]
    rows = [demo.row_of(C, a, i + 1) for i, a in enumerate(apps)]
    header = {"recommender": demo.RECOMMENDERS[0], "filler_name": "张三",
              "filler_mobile": "13800000000", "filler_email": "a@b.cn"}
    return fill_recommender(d / "附件3.xlsx", header, rows, campaign=C)


@pytest.mark.parametrize("what", list(VARIANTS))
def test_no_row_is_lost(tmp_path, original, what):
    edit, note = VARIANTS[what]
    folder = tmp_path / "in"
    folder.mkdir()
    p = folder / "附件3.xlsx"
    rezip(original, p, edit)
    before, after = check.check_file(original, C), check.check_file(p, C)
    assert before.rows == after.rows == N
    assert sorted(f.code for f in after.findings) == sorted(f.code for f in before.findings)
    assert any(note in n for n in after.notes), after.notes
    master = tmp_path / "m.xlsx"
    consolidate(folder, master, C, progress=False, workers=1)
    f, = sheet(master, "文件清单")
    assert f["状态"] == "已导入" and f["读取行数"] == N and note in f["原因/说明"], f
    assert len(sheet(master, "汇总")) == N
