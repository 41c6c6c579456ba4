"""A complete 申报材料文件夹 made from the demo campaign (tests, docs, `saq check` tries).

The folder holds the filled 申请书 (every applicable 材料清单 answer 已提供), one file per
material item named as the notice asks, and a 实践报告.docx whose four sections are within
their lengths (RULES.md M05). Tests then remove, rename or lengthen items.
"""

from __future__ import annotations

from pathlib import Path

from xl_addin.read.dossier import expected_stem
from xl_addin.rules.campaign import load
from xl_addin.rules.materials import applies, checklist_name, material_items

STUBS = {  # smallest recognisable content per kind (the check reads names and kinds only)
    "pdf": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
    "jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9",
    "png": b"\x89PNG\r\n\x1a\n",
    "sav": b"$FL2@(#) SPSS DATA FILE\n",
    "csv": "编号,Q1,Q2\n1,5,4\n".encode("utf-8-sig"),
}


def report_lengths(campaign=None):
    """汉字 per section of the demo 实践报告: well inside each M05 range of the campaign.

    Returns:
        tuple of ints, one per section of ``[materials.M05]``.
    """
    c = campaign or load()
    return tuple(s["min"] + (s["max"] - s["min"]) * 3 // 5 // 100 * 100 or 100
                 for s in c.materials["M05"]["sections"])


def demo_app(category="服务类", seed=2023, campaign=None):
    """A problem-free demo application of ``category``: (values, respondents)."""
    from xl_addin import demo
    c = campaign or load()
    apps, _ = demo.build(c, seed, 40, 4)
    for app in apps:
        if app.values.get("category") == category and not app.problem and app.write_workbook \
                and not app.layout and not app.merged and not app.formula:
            return dict(app.values), [(n, t) for _s, n, t in app.respondents]
    raise LookupError(category)


def write_report(path, lengths=None, campaign=None, title="用户满意经营的实践报告"):
    """A 实践报告.docx with the notice's four headings and ``lengths`` 汉字 under each
    (default :func:`report_lengths`)."""
    import docx
    c = campaign or load()
    lengths = lengths or report_lengths(c)
    doc = docx.Document()
    doc.add_heading(title, level=1)
    filler = "我们坚持以用户为中心持续改进服务质量提升用户满意"  # 24 字
    for sec, n in zip(c.materials["M05"]["sections"], lengths):
        doc.add_heading(sec["title"], level=2)
        left = n
        while left > 0:
            chunk = min(left, 240)
            text = (filler * (chunk // len(filler) + 1))[:chunk]
            doc.add_paragraph(text + "。")  # punctuation is not counted
            left -= chunk
    doc.save(str(path))
    return Path(path)


def write_dossier(folder, category="服务类", seed=2023, campaign=None, answers=None):
    """Write a complete dossier folder.

    Args:
        folder: the folder to create (its parents too).
        category: the application's category.
        answers: item key -> 材料清单 answer replacing 已提供 (None: left blank).
    Returns:
        dict: ``workbook`` (Path), ``files`` (item key -> Path), ``values`` (the answers).
    """
    from xl_addin.forms.fill import fill_application
    c = campaign or load()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    values, people = demo_app(category, seed, c)
    org, project = values["org_name"], values.get("project_name")
    items = [it for it in material_items(c) if applies(it, category)]
    given = answers or {}
    answers = {checklist_name(it): given.get(it["key"], c.dossier["provided"]) for it in items}
    answers.update({checklist_name({"key": k}): v for k, v in given.items()})
    book = folder / "申请书.xlsx"
    fill_application(book, {**values, **answers}, people, campaign=c)
    files = {}
    for it in items:
        kind = it["kinds"][0]
        p = folder / (expected_stem(org, project, category, it, c) + "." + kind)
        if it["key"] == c.dossier["report"] and kind == "docx":
            write_report(p, campaign=c)
        elif kind == "xlsx":
            _respondent_book(p, people)
        else:
            p.write_bytes(STUBS.get(kind, STUBS["pdf"]))
        files[it["key"]] = p
    return {"workbook": book, "files": files, "values": {**values, **answers}}


def _respondent_book(path, people):
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.title = "被访者名单"
    ws.append(["序号", "姓名", "联系方式"])
    for i, (name, tel) in enumerate(people, 1):
        ws.append([i, name, tel])
    wb.save(path)
