"""Writers of the demo's workbooks, public because the tests build their corpora with
them: the live templates filled fast (FastFill), and the plain contract writers for the
moved, merged and bare layouts (``write_plain_application``, ``write_plain_recommender``)."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.table import Table
from python_calamine import CalamineWorkbook

from xl_addin import __version__
from xl_addin.demo.data import checklist_answers
from xl_addin.forms import fill
from xl_addin.read import workbook as fastread
from xl_addin.read.workbook import col_index, col_letter
from xl_addin.rules.engine import field_labels
from xl_addin.rules.parse import to_serial
from xl_addin.sheet.xlcache import (
    Unsupported,
    book_from_parts,
    cached_value_xml,
    calc_current,
    evaluate_edited,
    with_values,
    without_values,
)
from xl_addin.tables import set_text_safe


class Writers:
    """Writes the demo's workbooks: the live templates (forms.fill, sped up by FastFill);
    the small contract writer below lays out the moved and merged variants."""

    def __init__(self, c, workdir):
        self.c, self.fill = c, fill
        self.app, self.rec = _blanks(c, Path(workdir))

    def application(self, path, app):
        """One applicant workbook, then the file-level trouble the app was given."""
        c = self.c
        values = {k: v for k, v in app.values.items() if v is not None}
        if app.formula:  # typed over by a formula below; its value is the formula's
            values["satisfaction"] = app.formula[1]
        people = [{"姓名": name, "联系方式": tel} for _seq, name, tel in app.respondents]
        if not app.layout and not app.merged and \
                len(people) <= self.app.capacity("respondent_list"):
            # the 材料清单 ticked to match the dossier (RULES.md M); a total typed over the
            # sheet's own formula (E27) is a typed value: the sheet's cells follow it
            typed = {**values, **checklist_answers(c, app)}
            if app.stored_total is not None:
                typed["se_total"] = app.stored_total
            self.app.write(path, typed, {"respondent_list": people})  # already normalised
        else:  # moved blocks and merged cells: the contract writer lays the sheet out itself
            write_plain_application(path, values, app.respondents, c, app.layout, app.merged)
            normalise(path)
            if app.stored_total is not None:
                set_cell(path, "se_total", cached=app.stored_total)
        if app.formula:
            set_cell(path, "satisfaction", formula=app.formula[0], cached=app.formula[1])

    def recommender(self, path, header, rows):
        c = self.c
        if len(rows) <= self.rec.capacity("recommendations"):
            self.rec.write(path, header, {"recommendations": rows})
            return
        self.fill.fill_recommender(path, header, rows, campaign=c)
        normalise(path)


# campaign id -> (campaign, application FastFill, recommender FastFill). The blanks depend on
# the campaign only and a FastFill is never changed by writing, so a process that writes
# several campaigns of one year (the test suite) builds them once: 2 s each time otherwise.
_BLANKS = {}


def _blanks(c, workdir):
    kept = _BLANKS.get(id(c))
    if kept is None or kept[0] is not c:
        workdir.mkdir(parents=True, exist_ok=True)
        a, r = workdir / "blank_application.xlsx", workdir / "blank_recommender.xlsx"
        fill.fill_application(a, {}, campaign=c)
        fill.fill_recommender(r, {}, [], campaign=c)
        kept = _BLANKS[id(c)] = (c, FastFill(a), FastFill(r))
        a.unlink()
        r.unlink()
    return kept[1], kept[2]


class FastFill:
    """Fill copies of one blank template by editing its sheet XML (about 100× faster than
    building each workbook with openpyxl; the demo must run in well under a minute).

    Cells are found through the template's own defined names and table parts, as a reader
    would; styles, formulas and validations of the template are kept untouched.
    """

    MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

    def __init__(self, blank_path):
        with zipfile.ZipFile(blank_path) as z:
            self.items = {i.filename: z.read(i.filename) for i in z.infolist()}
            sheets, names = fastread._workbook_parts(z, blank_path)
        # The blank's cells and formulas, parsed once: each copy is evaluated with its own
        # inputs and saved with every formula's value, as Excel saves a file (issue 20 §6).
        self.book, _sheets = book_from_parts(self.items)
        self.part = {name: part for name, _state, part in sheets}
        self.names = {k: fastread.parse_ref(v) for k, v in names.items()}
        wb = CalamineWorkbook.from_path(str(blank_path), load_tables=True)
        self.tables = {}
        for t in wb.table_names:
            tb = wb.get_table_by_name(t)
            self.tables[t] = (tb.sheet, tb.start[0] + 1, tb.start[1] + 1, list(tb.columns),
                              tb.end[0] - tb.start[0] + 1)
        wb.close()
        self.layouts = {sheet: self._layout(sheet) for sheet in self.part
                        if self.book.formulas.get(sheet) or self._inputs(sheet)}

    def _inputs(self, sheet):
        """The cells of ``sheet`` a copy may type into: named cells and tables' data rows."""
        out = {(r, c) for s, r, c, r2, c2 in self.names.values() if s == sheet and (r, c) == (r2, c2)}
        for s, r0, c0, cols, cap in self.tables.values():
            if s == sheet:
                out |= {(r0 + i, c0 + j) for i in range(cap) for j in range(len(cols))}
        return out

    def _layout(self, sheet):
        """The blank's sheet XML cut at every cell a copy changes (its inputs, its formulas):
        [bytes, or (row, col) of a cell] — a copy is then one join, with no regular
        expression run over the sheet again (the 被访者名单 sheet is 1 MB of XML)."""
        xml = self.items[self.part[sheet]]
        wanted = self._inputs(sheet) | set(self.book.formulas.get(sheet, {}))
        pieces, cells, last = [], {}, 0
        for m in self._CELL.finditer(xml):
            ref = m.group(1).decode()
            col = re.match(r"[A-Z]+", ref).group(0)
            key = (int(ref[len(col):]), col_index(col))
            if key not in wanted:
                continue
            pieces.append(xml[last:m.start()])
            pieces.append(key)
            attrs = re.sub(rb'\s+t="[^"]*"', b"", m.group(2))
            f = _F_XML.search(m.group(0))
            cells[key] = (m.group(1), attrs, f.group(0) if f else None, m.group(0))
            last = m.end()
        pieces.append(xml[last:])
        return pieces, cells

    def capacity(self, table):
        return self.tables[table][4]

    def write(self, path, values, tables=None):
        """values: defined name -> value; tables: name -> list of dicts (label -> value)."""
        edits = {}  # sheet -> {(row, col): value}
        for key, v in values.items():
            ref = self.names.get(key)
            if ref is not None:
                edits.setdefault(ref[0], {})[(ref[1], ref[2])] = v
        for t, rows in (tables or {}).items():
            sheet, r0, c0, cols, cap = self.tables[t]
            if len(rows) > cap:
                raise ValueError(f"table {t} holds {cap} rows")
            for i, row in enumerate(rows):
                for j, h in enumerate(cols):
                    if row.get(h) is not None:
                        edits.setdefault(sheet, {})[(r0 + i, c0 + j)] = row[h]
        if all(k in self.layouts.get(sheet, ((), {}))[1] for sheet, cells in edits.items()
               for k in cells):
            _rewrite(path, self._filled(edits))
            return
        items = dict(self.items)  # a cell the blank lacks: patch the XML, then the values
        for sheet, cells in edits.items():
            items[self.part[sheet]] = self._patch(items[self.part[sheet]], cells)
        _rewrite(path, _cached(items, self.book, edits))

    def _filled(self, edits):
        """The copy's parts: inputs typed in, every formula cell with its value (issue 20 §6)."""
        try:
            values = evaluate_edited(self.book, edits)
        except Unsupported:  # a formula the evaluator does not know: recalculated on load
            items = dict(self.items)
            for sheet, cells in edits.items():
                items[self.part[sheet]] = self._patch(items[self.part[sheet]], cells)
            return without_values(items)
        items = dict(self.items)
        for sheet, (pieces, cells) in self.layouts.items():
            typed = edits.get(sheet, {})
            out = []
            for x in pieces:
                if isinstance(x, bytes):
                    out.append(x)
                    continue
                ref, attrs, f, blank = cells[x]
                if x in typed:
                    out.append(_cell_xml(ref, attrs, typed[x]))
                elif f is not None:
                    t, text = cached_value_xml(values[(sheet, *x)])
                    out.append(b'<c r="' + ref + b'"' + attrs + (f' t="{t}"'.encode() if t else b"") +
                               b">" + f + b"<v>" + text.encode("utf-8") + b"</v></c>")
                else:  # an input cell left as the blank has it
                    out.append(blank)
            items[self.part[sheet]] = b"".join(out)
        items["xl/workbook.xml"] = calc_current(items["xl/workbook.xml"])
        return items

    _CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"([^>]*?)\s*(?:/>|>(?:.*?)</c>)', re.S)

    def _patch(self, xml, cells):
        """Rewrite the cells in place (regex, fast); cells the template lacks go via ET."""
        want = {f"{col_letter(c)}{r}".encode(): v for (r, c), v in cells.items()}
        done = set()

        def sub(m):
            ref = m.group(1)
            if ref not in want:
                return m.group(0)
            done.add(ref)
            attrs = re.sub(rb'\s+t="[^"]*"', b"", m.group(2))
            return _cell_xml(ref, attrs, want[ref])

        xml = self._CELL.sub(sub, xml)
        rest = {(r, c): v for (r, c), v in cells.items()
                if f"{col_letter(c)}{r}".encode() not in done}
        return self._patch_tree(xml, rest) if rest else xml

    def _patch_tree(self, xml, cells):
        for prefix, uri in re.findall(rb'xmlns:?(\w*)="([^"]+)"', xml):
            ET.register_namespace(prefix.decode(), uri.decode())
        root = ET.fromstring(xml)
        q = lambda tag: f"{{{self.MAIN}}}{tag}"  # noqa: E731
        data = root.find(q("sheetData"))
        rows = {int(r.get("r")): r for r in data.findall(q("row"))}
        for (r, c), v in sorted(cells.items()):
            row = rows.get(r)
            if row is None:
                row = ET.Element(q("row"), r=str(r))
                later = [k for k in rows if k > r]
                data.insert(list(data).index(rows[min(later)]) if later else len(data), row)
                rows[r] = row
            ref = f"{col_letter(c)}{r}"
            cell = next((x for x in row.findall(q("c")) if x.get("r") == ref), None)
            if cell is None:
                cell = ET.Element(q("c"), r=ref)
                after = [x for x in row.findall(q("c"))
                         if _col_of(x.get("r")) > c]
                row.insert(list(row).index(after[0]) if after else len(row), cell)
            for child in list(cell):
                cell.remove(child)
            cell.attrib.pop("t", None)
            _set_xml_value(ET, cell, q, v)
        return ET.tostring(root, encoding="utf-8", xml_declaration=True)


_F_XML = re.compile(rb"<f\b[^>]*>.*?</f>|<f\b[^>]*/>", re.S)


def _cached(items, book, edits):
    """The copy's parts with every formula cell's value (the template's formulas evaluated
    with the copy's inputs); a formula the evaluator does not know leaves the copy asking
    for recalculation on load instead, as before."""
    try:
        return with_values(items, evaluate_edited(book, edits))
    except Unsupported:
        return without_values(items)


def _cell_xml(ref, attrs, v):
    head = b'<c r="' + ref + b'"' + attrs
    if v is None:
        return head + b"/>"
    if isinstance(v, bool):
        return head + b' t="b"><v>' + (b"1" if v else b"0") + b"</v></c>"
    if isinstance(v, (dt.date, dt.datetime)):
        d = v.date() if isinstance(v, dt.datetime) else v
        return head + b"><v>" + str(to_serial(d)).encode() + b"</v></c>"
    if isinstance(v, (int, float)):
        return head + b"><v>" + (repr(v) if isinstance(v, float) else str(v)).encode() + b"</v></c>"
    # Text, formula-like or not, is an inline string: never a formula.
    return head + b' t="inlineStr"><is><t xml:space="preserve">' + \
        escape(str(v)).encode("utf-8") + b"</t></is></c>"


def _col_of(ref):
    return col_index(re.match(r"[A-Z]+", ref).group(0))


def _set_xml_value(ET, cell, q, v):
    if v is None:
        return
    if isinstance(v, bool):
        cell.set("t", "b")
        ET.SubElement(cell, q("v")).text = "1" if v else "0"
    elif isinstance(v, (dt.date, dt.datetime)):
        d = v.date() if isinstance(v, dt.datetime) else v
        ET.SubElement(cell, q("v")).text = str(to_serial(d))
    elif isinstance(v, (int, float)):
        ET.SubElement(cell, q("v")).text = repr(v) if isinstance(v, float) else str(v)
    else:  # text, formula-like or not, is an inline string: never a formula
        cell.set("t", "inlineStr")
        t = ET.SubElement(ET.SubElement(cell, q("is")), q("t"))
        t.text = str(v)
        if t.text != t.text.strip():
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")


# A small writer that follows the template contract (FIELDS.md), used when forms.fill is
# absent and to move blocks: label in one column, value beside it, a defined name per value.
def _meta(wb, template_id, c, year=None):
    ws = wb.create_sheet("_meta")
    for row in (("key", "value"), ("template_id", template_id),
                ("template_version", c.template_version),
                ("campaign_year", year or c.year), ("generator_version", __version__)):
        ws.append(row)
    ws.sheet_state = "hidden"


def _name(wb, key, ws, cell):
    ref = f"'{ws.title}'!${cell.column_letter}${cell.row}"
    wb.defined_names[key] = DefinedName(key, attr_text=ref)


def write_plain_application(path, values, respondents, c, offset=0, merged=False, year=None):
    """A minimal 申请书 of ours laid out without the template: one label/value pair a row,
    each value cell carrying its defined name, and the 被访者名单 table — the shape a
    hand-rebuilt or moved workbook has (the reader finds data by name, never by address).

    Args:
        path: the .xlsx; values: key -> value; respondents: (序号, 姓名, 联系方式) rows.
        c: the Campaign; offset: rows to shift every block down; merged: merge value cells;
        year: the campaign year recorded in _meta (default c.year).
    """
    labels = field_labels(c, "application")
    wb = Workbook()
    ws = wb.active
    ws.title = "申请表"
    ws.column_dimensions["A"].width = 36
    ws.column_dimensions["B"].width = 30
    r = 1 + offset
    for f in c.fields["application"]:
        if f.block == "derived":
            continue
        ws.cell(r, 1, f.label)
        cell = ws.cell(r, 2)
        v = values.get(f.key)
        set_text_safe(cell, v)
        if isinstance(v, dt.date):
            cell.number_format = "yyyy-mm-dd"
        _name(wb, f.key, ws, cell)
        if merged and f.key == "org_name":
            ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=4)
            ws.row_dimensions[r].hidden = True  # hidden rows are read too
        r += 1
    se = wb.create_sheet("自评表")
    r = 1 + offset
    for p in list(c.rubric.parts) + [None]:
        key = p.key if p else c.rubric.veto_key
        se.cell(r, 1, labels.get(key, key))
        cell = se.cell(r, 2, values.get(key))
        _name(wb, key, se, cell)
        r += 1
    se.cell(r, 1, "自评得分")
    _name(wb, "se_total", se, se.cell(r, 2))
    rl = wb.create_sheet("被访者名单")
    rl.append(["序号", "姓名", "联系方式"])
    for row in respondents or [(1, None, None)]:
        rl.append(list(row))
    rl.add_table(Table(displayName="respondent_list", ref=f"A1:C{max(2, len(respondents) + 1)}"))
    _meta(wb, "saq-application", c, year)
    wb.save(path)


def write_plain_recommender(path, header, rows, c):
    """A minimal 附件3 of ours (no formulas): header names and the ``recommendations`` table,
    for tests that need rows the live template cannot hold or a bare layout.

    Args:
        path: the .xlsx to write; header: key -> value; rows: dicts by official label.
        c: the Campaign.
    """
    wb = Workbook()
    ws = wb.active
    ws.title = "附件3"
    for r, f in enumerate(c.fields["recommender"], 1):
        ws.cell(r, 1, f.label)
        cell = ws.cell(r, 2)
        set_text_safe(cell, header.get(f.key))
        _name(wb, f.key, ws, cell)
    top = len(c.fields["recommender"]) + 2
    cols = [f.label for f in c.fields["recommendation_row"]]
    for j, h in enumerate(cols, 1):
        ws.cell(top, j, h)
    for i, row in enumerate(rows, top + 1):
        for j, h in enumerate(cols, 1):
            set_text_safe(ws.cell(i, j), row.get(h))
    ws.add_table(Table(displayName="recommendations",
                       ref=f"A{top}:{ws.cell(top, len(cols)).column_letter}{top + max(1, len(rows))}"))
    _meta(wb, "saq-recommender", c)
    wb.save(path)


def set_cell(path, name, cached, formula=None):
    """Rewrite the cell a defined name points to, in the sheet XML, with a cached value
    (and optionally a formula): what Excel saves when a user types over a cell."""
    with zipfile.ZipFile(path) as z:
        items = {i.filename: z.read(i.filename) for i in z.infolist()}
        sheets, names = fastread._workbook_parts(z, path)
    sheet, r, col, _r2, _c2 = fastread.parse_ref(names[name])
    part = next(p for s, _st, p in sheets if s == sheet)
    ref = f"{fastread.col_letter(col)}{r}"
    xml = items[part].decode("utf-8")
    body = (f"<f>{formula}</f>" if formula else "") + f"<v>{cached}</v>"
    new_cell = f'<c r="{ref}">{body}</c>'
    pat = re.compile(rf'<c r="{ref}"(?:\s[^>]*)?(?:/>|>.*?</c>)', re.S)
    if pat.search(xml):
        xml = pat.sub(new_cell, xml, count=1)
    else:  # the cell is not written yet: add it to its row, or add the row
        row_pat = re.compile(rf'<row r="{r}"(?:\s[^>]*)?>(.*?)</row>', re.S)
        m = row_pat.search(xml)
        if m:
            xml = xml[:m.end(1)] + new_cell + xml[m.end(1):]  # Excel tolerates order here
        else:
            xml = xml.replace("</sheetData>", f'<row r="{r}">{new_cell}</row></sheetData>')
            xml = xml.replace("<sheetData/>", f'<sheetData><row r="{r}">{new_cell}</row></sheetData>')
    items[part] = xml.encode("utf-8")
    _rewrite(path, items)


FIXED_TIME = (2023, 7, 1, 0, 0, 0)
_STAMP_RE = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _rewrite(path, items):
    """Write a zip with fixed entry times and document dates: same seed, same bytes."""
    core = items.get("docProps/core.xml")
    if core is not None:
        items["docProps/core.xml"] = _STAMP_RE.sub(rb"\g<1>2023-07-01T00:00:00Z\g<2>", core)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in items.items():
            z.writestr(zipfile.ZipInfo(n, FIXED_TIME), data, zipfile.ZIP_DEFLATED, 1)


def normalise(path):
    """Make a written workbook reproducible (fixed zip and document times)."""
    with zipfile.ZipFile(path) as z:
        items = {i.filename: z.read(i.filename) for i in z.infolist()}
    _rewrite(path, items)
