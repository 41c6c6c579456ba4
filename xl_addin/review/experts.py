"""experts.xlsx: the template staff fill in (姓名, 单位, 回避单位, 专业) and its reader."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from openpyxl.styles import Alignment
from openpyxl.worksheet.table import Table, TableStyleInfo

from xl_addin.errors import InputFileError
from xl_addin.review.assign import Expert, split_list
from xl_addin.review.sheets import new_workbook, save_atomic, style_header, title_cell, write_meta
from xl_addin.review.xlread import find_table, open_workbook, table_rows
from xl_addin.rules import parse
from xl_addin.sheet.paper import print_table
from xl_addin.tables import read_table

TABLE = "experts"
TEMPLATE_ID = "saq-experts-list"
HEADERS = ("姓名", "单位", "回避单位", "专业")
ALL = ("全部", "所有", "不限")
WIDTHS = (12, 30, 50, 30)


@dataclass
class ExpertList:
    experts: list = field(default_factory=list)
    problems: list = field(default_factory=list)  # (row, Chinese message)


def write_template(path, campaign):
    """Write the experts.xlsx template: an empty `experts` table and the rules of each column.

    Args:
        path: where to write (.xlsx).
        campaign: the Campaign (category names in the notes).
    Returns:
        Path
    """
    cats = "、".join(c.name for c in campaign.categories)
    wb = new_workbook()
    ws = wb.active
    ws.title = "专家名单"
    title_cell(ws, "A1", f"{campaign.title} 评审专家名单")
    notes = [
        "每行一位专家；姓名不得重复（同名请加注，如“张伟（交大）”）。",
        "单位：专家本人所在单位，自动回避本单位的申请。",
        "回避单位：须回避的申请组织或推荐单位，多个用顿号“、”或分号分隔。",
        f"专业：可评审的申请类别（{cats}），多个用顿号分隔；空白或“全部”表示不限。",
    ]
    for i, n in enumerate(notes, start=2):
        ws.cell(i, 1, n).alignment = Alignment(wrap_text=True)
    hr = len(notes) + 3
    for j, h in enumerate(HEADERS, start=1):
        ws.cell(hr, j, h)
        ws.cell(hr + 1, j, None)
    style_header(ws, hr, len(HEADERS))
    tbl = Table(displayName=TABLE, ref=f"A{hr}:D{hr + 1}")
    tbl.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(tbl)
    for j, w in enumerate(WIDTHS, start=1):
        ws.column_dimensions[ws.cell(1, j).column_letter].width = w
    ws.freeze_panes = ws.cell(hr + 1, 1)
    print_table(ws, hr, len(HEADERS), hr + 1)
    wb.properties.title = f"{campaign.title} 评审专家名单"
    write_meta(wb, {"template_id": TEMPLATE_ID, "campaign_year": campaign.year})
    return save_atomic(wb, path)


def read_experts(path, campaign):
    """Read experts.xlsx (or .csv with the same headers).

    Returns:
        ExpertList: experts in file order; rows that cannot be used go to ``problems``.
    Raises:
        InputFileError: the file cannot be read or has no 姓名 column.
    """
    p = Path(path)
    if p.suffix.lower() == ".csv":
        headers, dict_rows = read_table(p)
        rows = [(i, r) for i, r in enumerate(dict_rows, start=2)]
    else:
        wb = open_workbook(p)
        where = find_table(wb, TABLE, ["姓名"])
        if where is None:
            raise InputFileError(p, "找不到专家名单（表 experts 或含“姓名”列的表头）")
        rows = table_rows(wb, where, stop_blank=False)
    out = ExpertList()
    seen = {}
    unknown = []
    for _r, raw in rows[:1]:  # issue 22: a column we do not read is said, never silently lost
        unknown = [str(k) for k in raw if k and parse.norm(str(k)).replace(" ", "") not in HEADERS]
    if unknown:
        out.problems.append((rows[0][0] - 1 if rows else 1,
                             f"列“{'”“'.join(unknown)}”不是专家名单的列，已忽略（只读取 "
                             f"{'、'.join(HEADERS)}，见 saq review experts-template）"))
    for r, raw in rows:
        row = {parse.norm(str(k)).replace(" ", ""): v for k, v in raw.items() if k}
        name = parse.text(row.get("姓名"))
        if not name:
            if any(not parse.is_blank(v) for v in row.values()):
                out.problems.append((r, "姓名未填写，该行未使用"))
            continue
        if name in seen:
            out.problems.append((r, f"姓名“{name}”与第 {seen[name]} 行重复，该行未使用"))
            continue
        cats, bad = [], []
        if not split_list(row.get("专业")):
            out.problems.append((r, f"{name}的专业未填写，按“全部”分配（可评审所有申请类别）"))
        for item in split_list(row.get("专业")):
            if item in ALL:
                cats = []
                break
            try:
                c = parse.category(item, campaign)
            except parse.Unreadable:
                c = None
            (cats.append(c) if c else bad.append(item))
        if bad:
            out.problems.append((r, f"{name}的专业“{'、'.join(bad)}”不是申请类别，已忽略"))
            if not cats:
                out.problems.append((r, f"{name}没有可识别的专业，该专家未分配"))
                continue
        seen[name] = r
        out.experts.append(Expert(name, parse.text(row.get("单位")) or "",
                                  split_list(row.get("回避单位")), tuple(dict.fromkeys(cats))))
    return out
