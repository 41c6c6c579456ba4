"""Cached values in the workbooks we write (issue 11).

openpyxl writes formulas with no value and asks for a full recalculation on load
(``fullCalcOnLoad``). Protected View, the Explorer/Outlook preview and phone previewers never
recalculate, so they showed blank banners, totals and levels; and a full recalculation on
load made Excel ask "save changes?" on closing an untouched file.

:func:`finish_workbook` rewrites a saved xlsx in place: every formula cell gets the value
:mod:`xl_addin.sheet.xlcalc` computes with Excel's semantics (pure Python: works on Windows/WPS
without LibreOffice), and the calculation properties say the values are current. If any
formula cannot be evaluated (a function the evaluator does not know), no value is trusted:
the file keeps ``fullCalcOnLoad`` so Excel, WPS and LibreOffice recalculate on opening, as
before.

The input is a file openpyxl has just written (our own XML), so a regular-expression pass
over the worksheet XML is enough and keeps every other byte as it was.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import posixpath
import re
import sys
import tempfile
import zipfile
from pathlib import Path

from defusedxml import ElementTree

from xl_addin.rules.parse import to_serial
from xl_addin.sheet.xlcalc import Book, Unsupported, XLError, col_index

# Excel 365's calculation engine id: Excel 2010-365 see the values as current (no
# recalculation, so no "save changes?" prompt); a later engine recalculates, harmlessly.
CALC_ID = "191029"
_CELL = re.compile(r"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_ATTR = re.compile(r'(\w+)="([^"]*)"')
_F = re.compile(r"<f\b([^>]*)>(.*?)</f>|<f\b[^>]*/>", re.S)
_V = re.compile(r"<v>(.*?)</v>", re.S)
_IS = re.compile(r"<t\b[^>]*>(.*?)</t>", re.S)
_ADDR = re.compile(r"([A-Z]+)(\d+)")
_CALCPR = re.compile(r"<calcPr\b[^>]*/>")
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


_CHARREF = re.compile(r"&#(x[0-9a-fA-F]+|[0-9]+);")


def unescape(s):
    """XML text to str (the five entities and character references; faster than html)."""
    if "&" not in s:
        return s
    if "&#" in s:
        s = _CHARREF.sub(lambda m: chr(int(m.group(1)[1:], 16) if m.group(1)[0] == "x"
                                       else int(m.group(1))), s)
    return (s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))


def _sheet_paths(z):
    """[(sheet name, part path)] in workbook order, and the defined names."""
    wb = ElementTree.fromstring(z.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    target = {r.get("Id"): r.get("Target") for r in rels}
    out = []
    for s in wb.iter(f"{_NS_MAIN}sheet"):
        t = target[s.get(f"{_NS_REL}id")]
        path = t.lstrip("/") if t.startswith("/") else posixpath.normpath(posixpath.join("xl", t))
        out.append((s.get("name"), path))
    names = {}
    for d in wb.iter(f"{_NS_MAIN}definedName"):
        if d.get("localSheetId") is None and d.text:
            names[d.get("name")] = d.text
    return out, names


def _shared_strings(z):
    if "xl/sharedStrings.xml" not in z.namelist():
        return []
    root = ElementTree.fromstring(z.read("xl/sharedStrings.xml"))
    return ["".join(t.text or "" for t in si.iter(f"{_NS_MAIN}t")) for si in root]


def _cell_value(attrs, inner, sst):
    t = attrs.get("t", "n")
    if t == "inlineStr":
        return "".join(unescape(x) for x in _IS.findall(inner or ""))
    m = _V.search(inner or "")
    if not m:
        return None
    raw = unescape(m.group(1))
    if t == "s":
        return sst[int(raw)]
    if t == "str":
        return raw
    if t == "b":
        return raw.strip() in ("1", "true")
    if t == "e":
        return XLError(raw)
    try:
        return float(raw)
    except ValueError:
        return None


def read_book(path):
    """A :class:`xlcalc.Book` of a saved workbook, with each sheet's XML kept for rewriting.

    Returns:
        (book, sheets) where sheets is [(name, part path, xml text)].
    """
    with zipfile.ZipFile(path) as z:
        return _read_book(z)


class _Parts:
    """The parts of an xlsx held in memory (name -> bytes), read as a zip is."""

    def __init__(self, parts):
        self.parts = parts

    def read(self, name):
        return self.parts[name]

    def namelist(self):
        return list(self.parts)


def book_from_parts(parts):
    """:func:`read_book` of an xlsx held in memory (part name -> bytes)."""
    return _read_book(_Parts(parts))


def _read_book(z):
    paths, names = _sheet_paths(z)
    sst = _shared_strings(z)
    sheets, cells, formulas = [], {}, {}
    for name, part in paths:
        xml = z.read(part).decode("utf-8")
        sheets.append((name, part, xml))
        vals, fs = {}, {}
        for m in _CELL.finditer(xml):
            attrs = dict(_ATTR.findall(m.group(1)))
            am = _ADDR.fullmatch(attrs.get("r", ""))
            if not am:
                raise Unsupported("a cell without an address")
            key = (int(am.group(2)), col_index(am.group(1)))
            inner = m.group(2) or ""
            fm = _F.search(inner)
            if fm:
                fattrs = dict(_ATTR.findall(fm.group(1) or ""))
                if fattrs.get("t") or fm.group(2) is None:  # shared/array formulas
                    raise Unsupported("shared or array formula")
                fs[key] = unescape(fm.group(2))
            else:
                v = _cell_value(attrs, inner, sst)
                if v is not None:
                    vals[key] = v
        cells[name] = vals
        formulas[name] = fs
    return Book(cells, formulas, names), sheets


def evaluate_file(path):
    """Values of every formula cell of a saved workbook: {(sheet, row, col): value}.

    Raises:
        Unsupported: a formula this evaluator does not know.
    """
    book, _ = read_book(path)
    return _evaluate(book)


def _evaluate(book):
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 20000))  # long chains of plan cells
    try:
        return book.evaluate_all()
    except RecursionError:
        raise Unsupported("formula chain too deep") from None
    finally:
        sys.setrecursionlimit(old)


def _v_xml(v):
    """(t attribute or None, <v> text) of a computed value."""
    if isinstance(v, bool):
        return "b", "1" if v else "0"
    if isinstance(v, XLError):
        return "e", v.code
    if isinstance(v, str):
        return "str", html.escape(v, quote=False)
    x = float(v)
    if x == int(x) and abs(x) < 1e15:
        return None, str(int(x))
    return None, repr(x)


cached_value_xml = _v_xml  # public: writers that place values themselves (demo.writers)


def calc_current(workbook_xml):
    """``xl/workbook.xml`` (bytes) saying its cached values are current (no recalculation on
    load, as Excel saves a calculated file)."""
    return _calc_pr(workbook_xml.decode("utf-8"), True).encode("utf-8")


def _rewrite_sheet(xml, sheet, values):
    def sub(m):
        inner = m.group(2)
        if not inner or "<f" not in inner:
            return m.group(0)
        attrs = dict(_ATTR.findall(m.group(1)))
        am = _ADDR.fullmatch(attrs["r"])
        key = (sheet, int(am.group(2)), col_index(am.group(1)))
        t, text = _v_xml(values[key])
        attrs.pop("t", None)
        if t:
            attrs["t"] = t
        head = "".join(f' {k}="{v}"' for k, v in attrs.items())
        f = _F.search(inner).group(0)
        return f"<c{head}>{f}<v>{text}</v></c>"
    return _CELL.sub(sub, xml)


def _calc_pr(xml, current):
    if current:
        new = f'<calcPr calcId="{CALC_ID}" />'
    else:
        new = '<calcPr calcId="124519" fullCalcOnLoad="1" />'
    if _CALCPR.search(xml):
        return _CALCPR.sub(new, xml, count=1)
    return xml.replace("</workbook>", new + "</workbook>")


def finish_workbook(path):
    """Write the computed value into every formula cell of the xlsx at ``path`` (in place).

    Returns:
        True when every formula was evaluated (the file says its values are current);
        False when some formula is not supported (the file asks for recalculation on load).
    """
    path = Path(path)
    if not _has_formulas(path):  # the master: thousands of rows, nothing to evaluate
        _rewrite(path, {}, lambda xml: _calc_pr(xml, True))
        return True
    try:
        book, sheets = read_book(path)
        values = _evaluate(book)
    except Unsupported:
        values = None
    if values is None:
        _rewrite(path, {}, lambda xml: _calc_pr(xml, False))
        return False
    new_parts = {part: _rewrite_sheet(xml, name, values) for name, part, xml in sheets
                 if book.formulas.get(name)}
    _rewrite(path, new_parts, lambda xml: _calc_pr(xml, True))
    return True


def _has_formulas(path):
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                data = z.read(name)
                if b"<f>" in data or b"<f " in data:
                    return True
    return False


def _rewrite(path, parts, workbook_fn):
    fd, tmp = tempfile.mkstemp(prefix=".saq-cache-", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                data = zin.read(info.filename)
                if info.filename in parts:
                    data = parts[info.filename].encode("utf-8")
                elif info.filename == "xl/workbook.xml":
                    data = workbook_fn(data.decode("utf-8")).encode("utf-8")
                zout.writestr(info, data)
        mode = os.stat(path).st_mode & 0o777
        os.replace(tmp, path)
        os.chmod(path, mode)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_F_V = re.compile(r"(<c\b[^>]*?)(\st=\"(?:str|b|e|n)\")?(>\s*(?:<f\b[^>]*>.*?</f>|<f\b[^>]*/>))"
                  r"\s*<v>.*?</v>", re.S)


def cell_value(v):
    """A Python value as a cell of :class:`xlcalc.Book` holds it (dates as serials)."""
    if v is None or isinstance(v, (bool, str, XLError)):
        return v
    if isinstance(v, (dt.date, dt.datetime)):
        return float(to_serial(v.date() if isinstance(v, dt.datetime) else v))
    return float(v)


def evaluate_edited(book, edits):
    """Values of every formula cell of ``book`` once ``edits`` are typed in: the filled
    copies of one template are evaluated without parsing each copy again.

    Args:
        book: the template's Book (:func:`book_from_parts`); left unchanged.
        edits: sheet -> {(row, col): value}; a value typed over a formula replaces it.
    Returns:
        {(sheet, row, col): value} of the formula cells that remain.
    Raises:
        Unsupported: a formula this evaluator does not know.
    """
    cells = dict(book.cells)
    formulas = dict(book.formulas)
    for sheet, typed in edits.items():
        cells[sheet] = dict(cells.get(sheet, {}))
        fs = formulas.get(sheet, {})
        if any(k in fs for k in typed):
            formulas[sheet] = fs = {k: f for k, f in fs.items() if k not in typed}
        for k, v in typed.items():
            v = cell_value(v)
            if v is None:
                cells[sheet].pop(k, None)
            else:
                cells[sheet][k] = v
    copy = Book(cells, formulas)
    copy.names = book.names
    return _evaluate(copy)


def with_values(parts, values):
    """The parts of an xlsx with ``values`` (:func:`evaluate_edited`) as every formula
    cell's cached value, and the calculation properties saying they are current — what
    Excel saves (issue 20 §6: Protected View shows these, it never recalculates).

    Returns:
        a new dict name -> bytes.
    """
    out = dict(parts)
    paths, _names = _sheet_paths(_Parts(parts))
    sheets_with = {s for s, _r, _c in values}
    for name, part in paths:
        if name in sheets_with:
            out[part] = _rewrite_sheet(parts[part].decode("utf-8"), name, values).encode("utf-8")
    out["xl/workbook.xml"] = _calc_pr(parts["xl/workbook.xml"].decode("utf-8"), True).encode("utf-8")
    return out


def without_values(parts):
    """The parts of an xlsx (name -> bytes) with every formula's cached value removed and a
    recalculation on load requested: for copies whose inputs are edited in the XML (the
    demo's fast filler), where the template's values would be stale.

    Returns:
        a new dict name -> bytes.
    """
    out = dict(parts)
    for name, data in parts.items():
        if name.startswith("xl/worksheets/") and name.endswith(".xml"):
            out[name] = _F_V.sub(lambda m: m.group(1) + m.group(3), data.decode("utf-8")).encode("utf-8")
        elif name == "xl/workbook.xml":
            out[name] = _calc_pr(data.decode("utf-8"), False).encode("utf-8")
    return out


def save_with_values(wb, path):
    """``wb.save(path)`` followed by :func:`finish_workbook`.

    Returns:
        True when every formula cell carries its value.
    """
    wb.save(path)
    return finish_workbook(path)
