"""公示名单 and 发布名单 as documents people publish: .docx (python-docx), A4 PDF, and an
.xlsx of the same list that `saq history import` reads back next year.

What a published list holds (issue 14, 通知 §四(七)): organisation, project, category and
level only — no internal 申请编号, no scores, no rule codes. Grouped by level (high to low),
then by category in the campaign's order; within a group, by organisation name. Names are
printed exactly as the applicant wrote them. The texts around the list (title, introduction,
objection notice, publisher) come from the campaign file's [stages] table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook

from xl_addin.forms.pdf import convert
from xl_addin.review.sheets import add_table, put, save_atomic, set_widths, style_header, title_cell, write_meta
from xl_addin.sheet.paper import print_table, set_properties

FONT = "Noto Sans CJK SC"  # Debian fonts-noto-cjk; Word substitutes 宋体/等线 where missing
FONT_WORD = "宋体"
CN_NUM = "一二三四五六七八九十"


@dataclass(frozen=True)
class Listed:
    """One line of a published list."""

    org_name: str
    project_name: str
    category: str
    rank: int
    uscc: str = ""  # only in the .xlsx archive copy (the key for next year's E06)


def grouped(items, campaign):
    """[(level rank, [(category, [Listed…])…])…]: levels high to low, categories in the
    campaign's order, names sorted within a group; empty groups left out."""
    cats = [c.name for c in campaign.categories]
    out = []
    for lv in campaign.levels:
        groups = []
        for cat in cats + sorted({i.category for i in items} - set(cats)):
            mine = sorted((i for i in items if i.rank == lv.rank and i.category == cat),
                          key=lambda i: (i.org_name, i.project_name))
            if mine:
                groups.append((cat, mine))
        if groups:
            out.append((lv.rank, groups))
    return out


def level_heading(campaign, rank):
    lv = campaign.level(rank)
    return f"{lv.name}（{lv.stars}）级"


def _cn(i):
    return CN_NUM[i] if i < len(CN_NUM) else str(i + 1)


def _fmt_date(d):
    return f"{d.year}年{d.month}月{d.day}日"


def write_docx(path, campaign, items, kind, window=None, issued=None):
    """Write the list as a Word document (A4 portrait).

    Args:
        items: Listed entries.
        kind: "公示" or "发布".
        window: (start, end) dates of 公示 (kind 公示).
        issued: the date printed under the publisher's name.
    Returns:
        Path
    """
    # lazy: python-docx (≈65 ms) only for the Word 公示 / 发布 documents, not the stage workbooks
    from xl_addin.forms.word import A4Document

    st = campaign.stages
    doc = A4Document(FONT, 2.2)

    para = doc.para

    title = st.get("publication_title" if kind == "公示" else "release_title", campaign.title)
    set_properties(doc.core_properties, f"{campaign.title} {kind}名单")  # not python-docx's 2013
    para(title, 16, True, "center", 10)
    para(st.get("publication_intro" if kind == "公示" else "release_intro", ""), indent=True)
    if kind == "公示" and window and window[0]:
        para(f"公示期：{_fmt_date(window[0])}至{_fmt_date(window[1])}。", indent=True)
    total = len(items)
    para(f"共 {total} 项。", indent=True, after=8)
    for i, (rank, groups) in enumerate(grouped(items, campaign)):
        n = sum(len(g) for _, g in groups)
        para(f"{_cn(i)}、{level_heading(campaign, rank)}（{n} 项）", 13, True, after=4)
        for j, (cat, rows) in enumerate(groups):
            para(f"（{_cn(j)}）{cat}（{len(rows)} 项）", 12, True, after=2)
            with_project = any(r.project_name for r in rows)
            heads = ["序号", "组织名称"] + (["项目名称"] if with_project else [])
            widths = (1.4, 8.0, 7.2) if with_project else (1.4, 15.2)
            doc.table(heads, widths, [
                [str(n_row), r.org_name] + ([r.project_name] if with_project else [])
                for n_row, r in enumerate(rows, start=1)], size=10.5, centre_first=True)
            para("", after=2)
    if kind == "公示" and st.get("publication_objection"):
        para(st["publication_objection"], indent=True, after=12)
    para(st.get("publisher", ""), align="right", after=2)
    if issued:
        para(_fmt_date(issued), align="right")
    return doc.save(path)


def write_xlsx(path, campaign, items, kind, window=None):
    """The same list as a table (the archive copy `saq history import` reads).

    Columns: 序号, 企业名称, 申报项目名称, 申请类别, 等级, 统一社会信用代码 (the key).
    """
    wb = Workbook()
    ws = wb.active
    ws.title = f"{kind}名单"
    title = campaign.stages.get("publication_title" if kind == "公示" else "release_title",
                                campaign.title)
    title_cell(ws, "A1", title)
    if window and window[0]:
        put(ws, 2, 1, f"公示期：{_fmt_date(window[0])}至{_fmt_date(window[1])}")
    if kind == "公示" and campaign.stages.get("publication_objection"):
        put(ws, 3, 1, campaign.stages["publication_objection"])  # P9: contact, phone, e-mail
    heads = ["序号", "企业名称", "申报项目名称", "申请类别", "等级", "统一社会信用代码"]
    hr = 4
    for j, h in enumerate(heads, start=1):
        put(ws, hr, j, h)
    style_header(ws, hr, len(heads))
    r = hr
    for rank, groups in grouped(items, campaign):
        for cat, rows in groups:
            for it in rows:
                r += 1
                for j, v in enumerate([r - hr, it.org_name, it.project_name, cat,
                                       campaign.level_name(rank), it.uscc], start=1):
                    put(ws, r, j, v)
    add_table(ws, "published_list", hr, 1, max(r, hr + 1), len(heads), "TableStyleLight9")
    set_widths(ws, [6, 36, 30, 9, 14, 22])
    print_table(ws, hr, len(heads) - 1, max(r, hr + 1))  # the key column stays on screen
    wb.properties.title = f"{campaign.title} {kind}名单"
    write_meta(wb, {"template_id": f"saq-{'publication' if kind == '公示' else 'release'}-list",
                    "campaign_year": campaign.year})
    return save_atomic(wb, path)


def docx_to_pdf(docx, pdf=None, timeout=180):
    """A4 PDF of a .docx through LibreOffice (the same renderer as `saq pdf`).

    Args:
        docx: the .docx written by :func:`write_docx`.
        pdf: the PDF to write (default: beside it, same name, .pdf).
        timeout: seconds LibreOffice may take.
    Returns:
        Path of the PDF.
    Raises:
        OutputFileError: LibreOffice missing, failing or too slow.
    """
    src = Path(docx)
    target = Path(pdf) if pdf else src.with_suffix(".pdf")
    return convert(src, target, "pdf", timeout,
                   no_soffice="未找到 LibreOffice（soffice），无法生成 PDF；.docx 已生成",
                   failed="LibreOffice 未能生成 PDF（需要 LibreOffice Writer："
                          "libreoffice-writer-nogui）；.docx 已生成")
