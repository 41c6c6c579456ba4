"""Every printed output on paper (issue 22), in one LibreOffice run (tests/print_outputs.py):

- A4, every page; every printed sheet one page wide (the expert's scoring grid excepted,
  docs/printing.md says why), at the page counts docs/printing.md states;
- no clipped cell: the text of every printed cell is in the PDF, inside its own cell
  (tests/print_check.py colours each cell and reads the words back with pdftotext -bbox);
- no rule code without words and no file name of ours on paper.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import print_check as pc
import print_outputs as po
import pytest

pytestmark = [pytest.mark.libreoffice,
              pytest.mark.skipif(not pc.available(), reason="LibreOffice and poppler-utils")]

DOC = Path(__file__).resolve().parents[1] / "docs" / "printing.md"
NOT_ONE_PAGE_WIDE = {("expert_form", "专家评分")}  # ~80 columns: pages across, by design


def stated_pages():
    """docs/printing.md's table: key -> {sheet: pages} (or {"": pages} for a document)."""
    out = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\|\s*`(\w+)`\s*\|[^|]*\|([^|]*)\|", line)
        if not m:
            continue
        pages = {}
        for part in m.group(2).split("·"):
            part = part.strip()
            mm = re.fullmatch(r"(.*?)\s*(\d+)", part)
            if mm:
                pages[mm.group(1).strip()] = int(mm.group(2))
        out[m.group(1)] = pages
    return out


@pytest.fixture(scope="module")
def printed(generated, tmp_path_factory):
    root = tmp_path_factory.mktemp("print")
    return po.print_all(po.build(generated, root / "built"), root / "work", plain=False)


def test_a4_and_one_page_wide(printed):
    from openpyxl import load_workbook
    for p in printed:
        info = subprocess.run(["pdfinfo", "-f", "1", "-l", str(p.pages), str(p.pdf)],
                              capture_output=True, text=True).stdout
        sizes = set(re.findall(r"Page\s+\d+ size:\s+([\d.]+ x [\d.]+)", info))
        assert sizes <= {"595.304 x 841.89", "841.89 x 595.304"}, (p.output.key, sizes)
        if p.layout.coloured is None:
            continue
        wb = load_workbook(p.layout.plain)
        for ws in wb.worksheets:
            if ws.sheet_state != "visible" or (p.output.key, ws.title) in NOT_ONE_PAGE_WIDE:
                continue
            assert ws.print_area, (p.output.key, ws.title)
            assert str(ws.page_setup.paperSize) == "9", (p.output.key, ws.title)
            assert int(ws.page_setup.fitToWidth) == 1 and int(ws.page_setup.fitToHeight) == 0, \
                (p.output.key, ws.title)


def test_pages_as_stated(printed):
    stated = stated_pages()
    got = {p.output.key: (p.sheets if p.sheets else {"": p.pages}) for p in printed}
    assert set(got) <= set(stated), sorted(set(got) - set(stated))
    for key, pages in got.items():
        assert pages == stated[key] or (set(pages) == {""} and stated[key] == {"": pages[""]}), \
            (key, pages, stated[key])


def test_no_clipped_cell(printed):
    for p in printed:
        assert p.layout.coloured is None or p.layout.cells, p.output.key  # something checked
        assert p.clipped == [], (p.output.key, p.clipped[:10])


def test_no_code_without_words(printed):
    for p in printed:
        assert p.words == [], (p.output.key, p.words[:10])


def test_documents_say_who_wrote_them_and_when(printed):
    """Document properties: 上海市质量协会, the campaign's title, the real time of writing
    (not openpyxl, not python-docx's 2013 template)."""
    import datetime as dt

    from openpyxl import load_workbook
    now = dt.datetime.now()
    for p in printed:
        if p.output.path.suffix == ".xlsx":
            props = load_workbook(p.output.path, read_only=True).properties
            who, title, created = props.creator, props.title or "", props.created
        else:
            from docx import Document
            props = Document(p.output.path).core_properties
            who, title, created = props.author, props.title or "", props.created
            assert "python-docx" not in (props.comments or ""), p.output.key
        assert who == "上海市质量协会", (p.output.key, who)
        assert po.C.title[:4] in title, (p.output.key, title)  # the campaign's year and name
        assert abs((created.replace(tzinfo=None) - now).days) <= 1, (p.output.key, created)
