"""Look at what we print (issue 22): render workbooks and letters to PDF and PNG, count the
pages, and find every clipped cell.

One LibreOffice run converts many files (``convert``). For a workbook, a second copy is
converted beside it whose printed cells each carry a fill colour of their own (the
palette below; conditional formats removed, nothing else changed, so the layout is the
same). In that copy's PDF every word pdftotext finds (``-bbox``) lies on one colour — the
cell it is drawn in — and the words of each cell, in reading order, must be exactly the
cell's text: a cut word, a line that runs into the next row or a text that runs past its
cell's edge all show up (``clipped``). Pictures for docs/ come from the plain PDF (``png``).

Needs LibreOffice (soffice) and poppler-utils (pdftotext, pdftoppm, pdfinfo).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

BASE, STEP, LEVELS = 130, 4, 32  # palette: each channel 130, 134, … 254 (never a font's)
DPI = 110
SPACE = re.compile(r"\s+")


def available():
    return all(shutil.which(x) for x in ("soffice", "pdftotext", "pdftoppm", "pdfinfo"))


def colour(i):
    """The fill colour (RRGGBB) of printed cell number ``i``."""
    r, g, b = i // (LEVELS * LEVELS), (i // LEVELS) % LEVELS, i % LEVELS
    return "".join(f"{BASE + STEP * v:02X}" for v in (r, g, b))


def cell_of(rgb):
    """The cell number of a pixel's colour, or None (text, a border, the page)."""
    idx = []
    for v in rgb:
        k, m = divmod(int(v) - BASE, STEP)
        if m or not 0 <= k < LEVELS:
            return None
        idx.append(k)
    return (idx[0] * LEVELS + idx[1]) * LEVELS + idx[2]


def norm(text):
    return SPACE.sub("", str(text)).replace("\u3000", "")


def shown(cell):
    """The text a cell shows (its cached value when it is a formula), as LibreOffice
    formats the few number formats we use."""
    v = cell.value
    fmt = cell.number_format or "General"
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (dt.datetime, dt.date)):
        if "年" in fmt:
            return f"{v.year}年{v.month}月{v.day}日"
        if "hh" in fmt:
            return v.strftime("%Y-%m-%d %H:%M:%S" if "ss" in fmt else "%Y-%m-%d %H:%M")
        return v.strftime("%Y-%m-%d")
    if isinstance(v, (int, float)):
        m = re.fullmatch(r"0(?:\.(0+))?", fmt)
        if m:
            return f"{v:.{len(m.group(1) or '')}f}"
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return f"{v:.10g}" if isinstance(v, float) else str(v)
    return str(v)


@dataclass
class Printed:
    """One printed cell of the coloured copy."""
    sheet: str
    coord: str
    text: str  # normalised


@dataclass
class Layout:
    """A workbook prepared for the check: its coloured copy and its printed cells."""
    src: Path
    plain: Path  # the file converted as it is
    coloured: Path | None
    cells: list = field(default_factory=list)  # Printed, by palette number


def prepare(src, work, printable=False, recalc=False):
    """Copy ``src`` into ``work`` (as ``saq pdf`` prints it when ``printable``) and write its
    coloured twin. ``recalc``: cache every formula's value first (a file filled by openpyxl
    has none; Excel and WPS would show the calculated ones). Returns a Layout."""
    from openpyxl import load_workbook
    from openpyxl.formatting.formatting import ConditionalFormattingList
    from openpyxl.styles import PatternFill
    from openpyxl.utils import range_boundaries
    src = Path(src)
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    stem = f"{len(list(work.iterdir())):03d}"
    plain = work / f"{stem}_plain{src.suffix}"
    if src.suffix != ".xlsx":
        shutil.copyfile(src, plain)
        return Layout(src, plain, None)
    if printable:  # what `saq pdf` converts, with every formula's value cached (xlcache)
        from openpyxl import load_workbook as _load

        from xl_addin.forms.pdf import _printable_copy
        from xl_addin.sheet.xlcache import save_with_values
        _printable_copy(src, plain)
        save_with_values(_load(plain), plain)
    elif recalc:
        from openpyxl import load_workbook as _load

        from xl_addin.sheet.xlcache import save_with_values
        save_with_values(_load(src), plain)
    else:
        shutil.copyfile(src, plain)
    values = load_workbook(plain, data_only=True)
    wb = load_workbook(plain)
    lay = Layout(src, plain, work / f"{stem}_colour.xlsx")
    for ws in wb.worksheets:
        if ws.sheet_state != "visible" or not ws.print_area:
            continue
        wv = values[ws.title]
        ws.conditional_formatting = ConditionalFormattingList()
        ws._charts = []  # a chart's words are in no cell (the cells under it are checked)
        covered = set()
        for m in ws.merged_cells.ranges:
            for r in range(m.min_row, m.max_row + 1):
                for c in range(m.min_col, m.max_col + 1):
                    if (r, c) != (m.min_row, m.min_col):
                        covered.add((r, c))
        area = ws.print_area if isinstance(ws.print_area, str) else ws.print_area[0]
        for part in area.split(","):
            c1, r1, c2, r2 = range_boundaries(part.split("!")[-1].replace("$", ""))
            for r in range(r1, r2 + 1):
                if ws.row_dimensions[r].hidden:
                    continue
                for c in range(c1, c2 + 1):
                    cell = ws.cell(r, c)
                    if (r, c) in covered or ws.column_dimensions[cell.column_letter].hidden:
                        continue
                    cell.fill = PatternFill("solid", fgColor=colour(len(lay.cells)))
                    lay.cells.append(Printed(ws.title, cell.coordinate,
                                             norm(shown(wv.cell(r, c)))))
    wb.save(lay.coloured)
    return lay


def convert(paths, outdir, timeout=900):
    """Convert every file to PDF in one LibreOffice run; returns {path: pdf path}."""
    outdir = Path(outdir)
    profile = Path(tempfile.mkdtemp(prefix="saq_print_lo_"))
    try:
        by_kind = {}
        for p in paths:
            by_kind.setdefault(Path(p).suffix, []).append(str(p))
        for files in by_kind.values():
            subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
                            "--norestore", "--convert-to", "pdf", "--outdir", str(outdir), *files],
                           capture_output=True, timeout=timeout, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return {Path(p): outdir / (Path(p).stem + ".pdf") for p in paths}


def pages(pdf):
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    info = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    return int(info["Pages"].strip()), info.get("Page size", "").strip()


def text(pdf):
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True).stdout


def png(pdf, target, first=1, last=1, dpi=60):
    """Pages first..last of ``pdf`` as PNG: target.png, or target_2.png … for several."""
    target = Path(target)
    out = []
    for n in range(first, last + 1):
        name = target.with_name(target.stem + ("" if n == first else f"_{n}") + ".png")
        subprocess.run(["pdftoppm", "-png", "-singlefile", "-r", str(dpi), "-f", str(n),
                        "-l", str(n), str(pdf), str(name.with_suffix(""))], check=True)
        out.append(name)
    return out


def _words(pdf):
    """[(page number, xMin, yMin, xMax, yMax, word)] in points."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True,
                         text=True).stdout
    out = re.sub(r"<!DOCTYPE[^>]*>", "", out)
    root = ET.fromstring(out.replace('xmlns="http://www.w3.org/1999/xhtml"', ""))
    words = []
    for n, page in enumerate(root.iter("page"), 1):
        for w in page.iter("word"):
            words.append((n, float(w.get("xMin")), float(w.get("yMin")), float(w.get("xMax")),
                          float(w.get("yMax")), w.text or ""))
    return words


def _ppm(path):
    import numpy as np
    data = Path(path).read_bytes()
    magic, dims, depth, raw = data.split(b"\n", 3)
    w, h = map(int, dims.split())
    return np.frombuffer(raw, dtype=np.uint8).reshape(h, w, 3)


def _reading_order(words):
    """Words (y centre, height, x, text) as lines top-down, each line left to right."""
    lines = []
    for yc, h, x, w in sorted(words):
        if lines and abs(yc - lines[-1][0]) < 0.5 * h:
            lines[-1][1].append((x, w))
        else:
            lines.append((yc, [(x, w)]))
    return [w for _, line in lines for _, w in sorted(line)]


def clipped(lay, pdf):
    """Problems of the coloured PDF of ``lay``: one line per cell whose text is not drawn
    whole inside its own box. An empty list means every printed cell is whole."""
    return inspect(lay, pdf)[0]


def pages_by_sheet(lay, pdf):
    """{sheet: pages} of the coloured PDF of ``lay``, in print order."""
    return inspect(lay, pdf)[1]


_INSPECTED = {}


def inspect(lay, pdf):
    """(problems, {sheet: pages}) of the coloured PDF of ``lay`` (computed once)."""
    key = (str(pdf), id(lay))
    if key not in _INSPECTED:
        _INSPECTED[key] = _inspect(lay, pdf)
    return _INSPECTED[key]


def _inspect(lay, pdf):
    import numpy as np
    problems = []
    scale = DPI / 72
    with tempfile.TemporaryDirectory(prefix="saq_ppm_") as d:
        subprocess.run(["pdftoppm", "-r", str(DPI), "-aa", "no", "-aaVector", "no", str(pdf),
                        f"{d}/p"], check=True)
        images = sorted(Path(d).glob("p-*.ppm"), key=lambda p: int(p.stem.split("-")[-1]))
        found = {}  # (cell number, page) -> [(y, x, word)]
        sheet_of = {}  # page -> {sheet: words}
        words = _words(pdf)
        current, img = None, None
        for page, x0, y0, x1, y1, word in words:
            if page != current:
                current, img = page, _ppm(images[page - 1])
            hgt = y1 - y0
            ya, yb = int((y0 + 0.3 * hgt) * scale), int((y1 - 0.3 * hgt) * scale) + 1
            xa, xb = int(x0 * scale) + 1, max(int(x1 * scale) - 1, int(x0 * scale) + 2)
            ids = set()
            for grow in (0, 2, 4):  # a thin glyph ("|", "1") may cover its whole box
                box = img[max(ya, 0):yb, max(xa - grow, 0):xb + grow].reshape(-1, 3)
                ids = {cell_of(px) for px in {tuple(p) for p in np.unique(box, axis=0)}} - {None}
                if ids:
                    break
            if len(ids) != 1:
                where = "、".join(f"{lay.cells[i].sheet}!{lay.cells[i].coord}" for i in sorted(ids)
                                 if i < len(lay.cells)) or "页边"
                problems.append(f"第 {page} 页“{word}”跨出单元格（{where}）")
                continue
            i = ids.pop()
            found.setdefault((i, page), []).append(((y0 + y1) / 2, hgt, x0, word))
            if i < len(lay.cells):
                sheet_of.setdefault(page, {}).setdefault(lay.cells[i].sheet, 0)
                sheet_of[page][lay.cells[i].sheet] += 1
    sheets, last = {}, None
    for page in range(1, len(images) + 1):
        counts = sheet_of.get(page)
        if counts:
            last = max(counts, key=counts.get)
        if last is not None:
            sheets[last] = sheets.get(last, 0) + 1
    seen = {}
    for (i, _page), ws in found.items():
        seen.setdefault(i, []).append(norm("".join(_reading_order(ws))))
    for i, cell in enumerate(lay.cells):
        got = seen.get(i, [""] if not cell.text else [])
        if not got:
            problems.append(f"{cell.sheet}!{cell.coord}“{cell.text[:30]}”没有打印出来")
        for g in got:
            if g != cell.text:
                problems.append(f"{cell.sheet}!{cell.coord}：应为“{cell.text[:60]}”，"
                                f"打印为“{g[:60]}”")
    return problems, sheets


# ---------------------------------------------------------------------- words on paper
CODE = re.compile(r"(?<![A-Za-z0-9_])(?:E\d\d|M\d\d|[KLCF]\d[a-z]?|S[04]|P[6-9])(?![A-Za-z0-9_])")
OURS = re.compile(r"RULES\.md|FIELDS\.md|\.toml\b|\.py\b|xl_addin|campaigns/")
CJK = re.compile(r"[\u4e00-\u9fff]")


def bare_codes(text):
    """Rule codes in ``text`` that do not stand in brackets after words ("…未填写（E20）" is
    right; "E20" alone, "问题代码 E20 E23", "（K3）" at the start are not), and file names of
    ours ("RULES.md F5"). Rubric item numbers (N1, P3a, S2c …) are the form's, not codes."""
    out = [m.group() for m in OURS.finditer(text)]
    for m in CODE.finditer(text):
        stack = []  # open brackets before the code, nested
        for i, ch in enumerate(text[:m.start()]):
            if ch in "（(":
                stack.append(i)
            elif ch in "）)" and stack:
                stack.pop()
        if not stack or not CJK.search(text[:stack[0]]):
            out.append(m.group())
    return out
