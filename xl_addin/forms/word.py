"""Word documents we print: an A4 page, paragraphs in one Chinese font, grid tables whose
heading row repeats on every page, saved whole or not at all.

Shared by the 补正通知 letters (consolidate/feedback.py) and the 公示 / 发布 lists
(review/publish.py), which had each their own copy of these steps. Importing this module
imports python-docx (about 65 ms): its callers import it only on the path that writes a
document.
"""

from __future__ import annotations

import io

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from xl_addin.tables import write_atomic

_ALIGN = {"center": WD_ALIGN_PARAGRAPH.CENTER, "right": WD_ALIGN_PARAGRAPH.RIGHT}


class A4Document:
    """A python-docx Document on A4 portrait, its Normal style in ``font`` (East Asian text
    too: Word otherwise falls back to its own CJK font)."""

    def __init__(self, font, margin_cm):
        self.font = font
        self.doc = Document()
        sec = self.doc.sections[0]
        sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
        sec.left_margin = sec.right_margin = Cm(margin_cm)
        sec.top_margin = sec.bottom_margin = Cm(margin_cm)
        normal = self.doc.styles["Normal"]
        normal.font.name = font
        normal.font.size = Pt(11)
        normal.element.rPr.rFonts.set(qn("w:eastAsia"), font)

    @property
    def core_properties(self):
        return self.doc.core_properties

    def para(self, text, size=11, bold=False, align=None, after=4, indent=False):
        """One paragraph of one run; ``align`` "center" or "right"; ``indent``: two
        characters' first-line indent, as Chinese prose is set."""
        p = self.doc.add_paragraph()
        run = p.add_run(text)
        run.font.size, run.font.bold, run.font.name = Pt(size), bold, self.font
        run._element.rPr.rFonts.set(qn("w:eastAsia"), self.font)
        if align in _ALIGN:
            p.alignment = _ALIGN[align]
        p.paragraph_format.space_after = Pt(after)
        if indent:
            p.paragraph_format.first_line_indent = Pt(size * 2)
        return p

    def table(self, heads, widths_cm, rows, size=10, centre_first=False, keep_rows=False):
        """A centred grid table: a bold heading row repeated on every page, the given column
        widths (grid and every cell, which Word and LibreOffice both honour), ``rows`` as
        text. ``centre_first``: the first column centred (a 序号); ``keep_rows``: a row is
        never cut across two pages."""
        t = self.doc.add_table(rows=1, cols=len(heads))
        t.style = "Table Grid"
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        for k, h in enumerate(heads):
            cell = t.rows[0].cells[k]
            run = cell.paragraphs[0].add_run(h)
            run.font.bold, run.font.size = True, Pt(size)
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        for r in rows:
            cells = t.add_row().cells
            for k, v in enumerate(r):
                run = cells[k].paragraphs[0].add_run(str(v))
                run.font.size = Pt(size)
                if k == 0 and centre_first:
                    cells[k].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        widths = [Cm(w) for w in widths_cm]
        t.autofit = False
        for col, w in zip(t._tbl.tblGrid.findall(qn("w:gridCol")), widths):
            col.set(qn("w:w"), str(int(w.twips)))
        for row in t.rows:
            for k, w in enumerate(widths):
                row.cells[k].width = w
            if keep_rows:
                row._tr.get_or_add_trPr().append(_on("w:cantSplit"))
        t.rows[0]._tr.get_or_add_trPr().append(_on("w:tblHeader"))
        return t

    def save(self, path):
        """Write atomically through memory: python-docx writing straight to a file that fails
        (a full disk) leaves a zip file open, whose clean-up later prints a traceback."""
        def write(tmp):
            buf = io.BytesIO()
            self.doc.save(buf)
            with open(tmp, "wb") as f:
                f.write(buf.getvalue())
        return write_atomic(path, write)


def _on(tag):
    el = OxmlElement(tag)
    el.set(qn("w:val"), "true")
    return el
