"""申报材料文件夹 made from the demo campaign (`saq demo`, tests, `saq check` tries).

A dossier holds the filled 申请书, one file per material item named as the notice asks, and
a 实践报告.docx whose four sections are within their lengths (RULES.md M05). Every file is
real in the sense read/evidence.py checks — its content matches its extension — and small:
a blank one-page PDF titled with the item, a .docx and an .xlsx written directly as their
XML (python-docx and openpyxl take tens of milliseconds a file; the demo writes thousands).
Tests then remove, rename or lengthen items.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from xl_addin.demo.data import build
from xl_addin.forms.fill import fill_application
from xl_addin.read.dossier import expected_stem
from xl_addin.read.workbook import col_letter
from xl_addin.rules.materials import applies, checklist_name, material_items

STUBS = {  # smallest recognisable content per kind (the check reads names and kinds only)
    "pdf": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
    "jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9",
    "png": b"\x89PNG\r\n\x1a\n",
    "sav": b"$FL2@(#) SPSS DATA FILE\n",
    "csv": "编号,Q1,Q2\n1,5,4\n".encode("utf-8-sig"),
}
FIXED_TIME = (2023, 7, 1, 0, 0, 0)  # zip entry times: the same seed, the same bytes


def report_lengths(campaign):
    """汉字 per section of the demo 实践报告: well inside each M05 range of the campaign.

    Returns:
        tuple of ints, one per section of ``[materials.M05]``.
    """
    c = campaign
    return tuple(s["min"] + (s["max"] - s["min"]) * 3 // 5 // 100 * 100 or 100
                 for s in c.materials["M05"]["sections"])


def demo_app(category="服务类", seed=2023, *, campaign):
    """A problem-free demo application of ``category``: (values, respondents)."""
    c = campaign
    apps, _ = build(c, seed, 40, 4)
    for app in apps:
        if app.values.get("category") == category and not app.problem and app.write_workbook \
                and not app.layout and not app.merged and not app.formula:
            return dict(app.values), [(n, t) for _s, n, t in app.respondents]
    raise LookupError(category)


# ---------------------------------------------------------------------- files
def pdf_bytes(title):
    """A valid one-page blank A4 PDF whose document title (shown by viewers) is ``title``."""
    t = "FEFF" + title.encode("utf-16-be").hex().upper()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> >>",
            f"<< /Title <{t}> /Producer (saq demo) >>".encode("ascii")]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R /Info 4 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


def _zip(path, parts):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(zipfile.ZipInfo(name, FIXED_TIME), data, zipfile.ZIP_DEFLATED)
    return Path(path)


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
         'relationships/officeDocument" Target="{target}"/></Relationships>')


def _para(text, size=None, bold=False):
    rpr = ""
    if size or bold:
        rpr = "<w:rPr>" + ("<w:b/>" if bold else "") + \
            (f'<w:sz w:val="{size}"/><w:szCs w:val="{size}"/>' if size else "") + "</w:rPr>"
    return (f'<w:p><w:r>{rpr}<w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>')


def write_report(path, lengths=None, *, campaign, title="用户满意经营的实践报告"):
    """A 实践报告.docx with the notice's four headings and ``lengths`` 汉字 under each
    (default :func:`report_lengths`), written as its XML (Word, WPS and LibreOffice open it)."""
    c = campaign
    lengths = lengths or report_lengths(c)
    filler = "我们坚持以用户为中心持续改进服务质量提升用户满意"  # 24 字
    body = [_para(title, 36, True)]
    for sec, n in zip(c.materials["M05"]["sections"], lengths):
        body.append(_para(sec["title"], 28, True))
        left = n
        while left > 0:
            chunk = min(left, 240)
            body.append(_para((filler * (chunk // len(filler) + 1))[:chunk] + "。"))  # 。 not counted
            left -= chunk
    doc = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{_W}">'
           f'<w:body>{"".join(body)}<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr>'
           "</w:body></w:document>")
    types = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
             'officedocument.wordprocessingml.document.main+xml"/></Types>')
    return _zip(path, {"[Content_Types].xml": types,
                       "_rels/.rels": _RELS.format(target="word/document.xml"),
                       "word/document.xml": doc})


def write_list_xlsx(path, sheet, header, rows):
    """A one-sheet .xlsx of plain values (inline strings), written as its XML."""
    def cell(r, j, v):
        ref = f"{col_letter(j)}{r}"
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return f'<c r="{ref}"><v>{v}</v></c>'
        return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(v))}</t></is></c>'
    data = "".join(f'<row r="{r}">' + "".join(cell(r, j, v) for j, v in enumerate(row, 1)) + "</row>"
                   for r, row in enumerate([header] + list(rows), 1))
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    types = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
             'officedocument.spreadsheetml.sheet.main+xml"/>'
             '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
             'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
    return _zip(path, {
        "[Content_Types].xml": types,
        "_rels/.rels": _RELS.format(target="xl/workbook.xml"),
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                           f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
                           f'<sheet name="{escape(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": _RELS.replace(
            "officeDocument/2006/relationships/officeDocument", "officeDocument/2006/relationships/worksheet"
        ).format(target="worksheets/sheet1.xml"),
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                                    f'<worksheet xmlns="{main}"><sheetData>{data}</sheetData></worksheet>',
    })


def write_materials(folder, values, people, campaign, skip=()):
    """One file per material item the application's category needs, named as the notice
    asks (申请组织全称+申报项目名称-项目), each with content of its kind.

    Args:
        folder: the dossier folder (it exists).
        values: the application's values (org_name, project_name, category).
        people: (姓名, 联系方式) of the 被访者名单.
        skip: item keys not to write (an item not sent, or answered 不适用).
    Returns:
        dict: item key -> Path.
    """
    c = campaign
    folder = Path(folder)
    org, project, category = values["org_name"], values.get("project_name"), values["category"]
    files = {}
    for it in material_items(c):
        if not applies(it, category) or it["key"] in skip:
            continue
        kind = it["kinds"][0]
        stem = expected_stem(org, project, category, it, c)
        p = folder / f"{stem}.{kind}"
        if it["key"] == c.dossier["report"] and kind == "docx":
            write_report(p, campaign=c, title=f"{org}用户满意经营的实践报告")
        elif kind == "xlsx":
            write_list_xlsx(p, "被访者名单", ["序号", "姓名", "联系方式"],
                            [[i, name, tel] for i, (name, tel) in enumerate(people, 1)])
        elif kind == "pdf":
            p.write_bytes(pdf_bytes(f"{stem}（示例）"))
        else:  # a recognisable head, then the file's own name: no two files alike
            p.write_bytes(STUBS.get(kind, b"") + f"{stem}\n".encode("utf-8"))
        files[it["key"]] = p
    return files


def write_dossier(folder, category="服务类", seed=2023, *, campaign, answers=None):
    """Write a complete dossier folder (tests, docs).

    Args:
        folder: the folder to create (its parents too).
        category: the application's category.
        answers: item key -> 材料清单 answer replacing 已提供 (None: left blank).
    Returns:
        dict: ``workbook`` (Path), ``files`` (item key -> Path), ``values`` (the answers).
    """
    c = campaign
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    values, people = demo_app(category, seed, campaign=c)
    items = [it for it in material_items(c) if applies(it, category)]
    given = answers or {}
    answers = {checklist_name(it): given.get(it["key"], c.dossier["provided"]) for it in items}
    answers.update({checklist_name({"key": k}): v for k, v in given.items()})
    book = folder / "申请书.xlsx"
    fill_application(book, {**values, **answers}, people, campaign=c)
    files = write_materials(folder, values, people, c)
    return {"workbook": book, "files": files, "values": {**values, **answers}}
