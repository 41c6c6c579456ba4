"""Feedback to the recommenders after consolidation (issue 22): `saq consolidate …
--feedback 文件夹` and the ribbon's 补正通知 button.

One workbook (补正清单_推荐单位.xlsx) and one Word letter (补正通知_推荐单位.docx) per
recommender, named exactly as its 附件3 says. Each lists:

- every problem of its applications — the same rows as the master's 问题清单 for that
  recommender (the 附件3 header's own, each application's, each 附件3 row's), in plain words
  with the file, sheet and cell to correct;
- the applications without any problem, as accepted;
- the files of its folder that were not taken (拒收), with the reason;
- the date corrections are due and whom to ask (the campaign's [feedback]).

The letters print on A4 (the workbook through sheet.paper, the letter as a Word page).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl.styles import Alignment, Font, PatternFill

from xl_addin.consolidate.model import WHOLE_FILE
from xl_addin.errors import OutputFileError, os_reason
from xl_addin.forms.common import new_workbook
from xl_addin.sheet.paper import print_table, set_properties
from xl_addin.tables import save_workbook, set_text_safe

HEADER_ORG = "（推荐表表头）"  # as the master's 问题清单 names a 附件3 header's problem
PROBLEM_HEADS = ("序号", "申请组织名称", "申报项目名称", "类别", "问题说明", "文件", "工作表",
                 "单元格")
PROBLEM_WIDTHS = (6, 24, 20, 6, 44, 30, 11, 8)
ACCEPTED_HEADS = ("序号", "申请组织名称", "申报项目名称", "申请类别", "申请等级", "文件")
ACCEPTED_WIDTHS = (6, 28, 24, 9, 11, 40)
REJECTED_HEADS = ("序号", "文件", "范围", "原因")
REJECTED_WIDTHS = (6, 40, 10, 60)
FONT = "宋体"


@dataclass
class Problem:
    """One row of a letter: a flag and the application it belongs to."""
    org: str
    project: str
    severity: str  # 错误 / 提醒
    message: str
    file: str
    sheet: str
    cell: str


@dataclass
class Group:
    """What one recommender is told."""
    name: str
    problems: list = field(default_factory=list)  # Problem
    accepted: list = field(default_factory=list)  # Entry
    applications: int = 0
    rejected: list = field(default_factory=list)  # model.Rejected


@dataclass
class Letter:
    recommender: str
    workbook: Path
    letter: Path
    applications: int
    problems: int
    accepted: int
    rejected: int


def groups(result):
    """The recommenders of a consolidation run, each with its problems, accepted
    applications and rejected files. Problems are grouped as the master's 问题清单 is.

    Returns:
        (list of Group by name, rejected rows no recommender could be found for)
    """
    by = {}

    def group(name):
        if name not in by:
            by[name] = Group(name)
        return by[name]

    for h in result.headers:
        g = group(h.name)
        for f in h.flags:
            g.problems.append(_problem(f, HEADER_ORG, ""))
    for e in result.entries:
        g = group(e.recommender)
        g.applications += 1
        org, proj = e.values.get("org_name") or "", e.values.get("project_name") or ""
        for f in e.flags + e.row_flags:
            g.problems.append(_problem(f, org, proj))
        if not e.flags and not e.row_flags:
            g.accepted.append(e)
    folders = sorted(((_folder(h.file.rel), h.name) for h in result.headers),
                     key=lambda x: -len(x[0].parts))
    orphans = []
    for r in result.rejected:
        owner = next((name for folder, name in folders if _under(r.file, folder)), None)
        if owner is None:
            orphans.append(r)
        else:
            group(owner).rejected.append(r)
    for g in by.values():  # errors first, as in 问题清单; then by application and place
        g.problems.sort(key=lambda p: (p.severity != "错误", p.org, p.file, p.sheet, p.cell))
    named = [g for name, g in sorted(by.items()) if name]
    if "" in by:  # applications that name no recommender: nobody to write to
        orphans += [r for r in by[""].rejected]
    return named, orphans


def _problem(f, org, project):
    return Problem(org, project, f.severity_label, f.message, f.file, f.sheet, f.cell)


def _folder(rel):
    return Path(rel).parent


def _under(rel, folder):
    """Is the file ``rel`` in ``folder`` or below it (the inbox root: only its own files)?"""
    p = Path(rel)
    if folder == Path("."):
        return len(p.parts) == 1
    return folder in p.parents


def file_name(name):
    """A recommender's name as part of a file name (what Windows forbids becomes _)."""
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", name).strip(" .") or "未命名"


def write_feedback(folder, result, campaign, when=None):
    """Write the workbook and the letter of every recommender into ``folder``.

    Args:
        folder: the output folder (made when missing).
        result: the consolidation's RunResult.
        campaign: the Campaign ([feedback]: deadline, contact, words).
        when: the date printed on the letters (default today).
    Returns:
        (list of Letter, list of rejected rows no recommender could be found for)
    Raises:
        OutputFileError: the folder or a file cannot be written.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputFileError(folder, os_reason(e)) from None
    when = when or dt.date.today()
    out = []
    named, orphans = groups(result)
    for g in named:
        stem = file_name(g.name)
        wb_path = write_workbook(folder / f"补正清单_{stem}.xlsx", g, campaign, when)
        doc_path = write_letter(folder / f"补正通知_{stem}.docx", g, campaign, when)
        out.append(Letter(g.name, wb_path, doc_path, g.applications, len(g.problems),
                          len(g.accepted), len(g.rejected)))
    return out, orphans


def _date(d):
    return f"{d.year}年{d.month}月{d.day}日"


def _lead(g, campaign):
    """The letter's opening numbers and the deadline, one sentence."""
    fb = campaign.feedback
    errors = len({(p.org, p.file) for p in g.problems if p.severity == "错误"})
    return (f"贵单位推荐申请 {g.applications} 项，其中 {errors} 项有须改正的错误，"
            f"{len(g.accepted)} 项未发现问题；未能受理的文件 {len(g.rejected)} 个。"
            f"请于 {_date(fb['deadline'])} 前完成补正并重新提交。")


def write_workbook(path, g, campaign, when):
    """补正清单: the problems, the accepted applications and the rejected files, each a sheet
    printed on A4 (sheet.paper)."""
    fb = campaign.feedback
    wb = new_workbook()
    ws = wb.active
    ws.title = "问题"
    lines = [fb["title"], f"推荐单位：{g.name}", _lead(g, campaign), fb["intro"],
             f"{fb['closing']}{fb['contact']}"]
    sheets = (
        (ws, lines, PROBLEM_HEADS, PROBLEM_WIDTHS,
         [[i, p.org, p.project, p.severity, p.message, Path(p.file).name if p.file else "",
           p.sheet, p.cell] for i, p in enumerate(g.problems, 1)], "problems"),
        (wb.create_sheet("已受理"), [fb["title"], f"推荐单位：{g.name}", fb["accepted"]],
         ACCEPTED_HEADS, ACCEPTED_WIDTHS,
         [[i, e.values.get("org_name") or "", e.values.get("project_name") or "",
           e.values.get("category") or "", _level(e, campaign), _source_name(e)]
          for i, e in enumerate(g.accepted, 1)], "accepted"),
        (wb.create_sheet("未受理文件"), [fb["title"], f"推荐单位：{g.name}", fb["rejected"]],
         REJECTED_HEADS, REJECTED_WIDTHS,
         [[i, Path(r.file).name, r.scope if r.scope != WHOLE_FILE else "整个文件", r.reason]
          for i, r in enumerate(g.rejected, 1)], "rejected"),
    )
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    error_fill, warn_fill = PatternFill("solid", fgColor="FFC7CE"), PatternFill("solid",
                                                                               fgColor="FFEB9C")
    for sh, top, heads, widths, rows, _name in sheets:
        for j, w in enumerate(widths, 1):
            sh.column_dimensions[chr(64 + j)].width = w
        for i, text in enumerate(top, 1):
            c = sh.cell(i, 1)
            set_text_safe(c, text)
            c.font = Font(name=FONT, size=14 if i == 1 else 11, bold=i <= 2)
        hr = len(top) + 2
        for j, h in enumerate(heads, 1):
            c = sh.cell(hr, j, h)
            c.font = Font(name=FONT, bold=True)
            c.fill = head_fill
            c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for i, row in enumerate(rows, hr + 1):
            for j, v in enumerate(row, 1):
                c = sh.cell(i, j)
                set_text_safe(c, v)
                c.alignment = Alignment(vertical="top", wrap_text=True)
                if heads[j - 1] == "类别":
                    c.fill = error_fill if v == "错误" else warn_fill
        if not rows:
            sh.cell(hr + 1, 1, "（无）")
        sh.freeze_panes = sh.cell(hr + 1, 1)
        print_table(sh, hr, len(heads), hr + max(len(rows), 1))
    wb.properties.title = f"{fb['title']}（{g.name}）"
    set_properties(wb.properties, wb.properties.title,
                   dt.datetime.combine(when, dt.datetime.now().time()))
    return save_workbook(wb, path)


def _level(e, campaign):
    lv = e.values.get("level")
    if isinstance(lv, int):
        x = campaign.level(lv)
        return x.applied if x else ""
    return lv or ""


def _source_name(e):
    if e.app is not None:
        return Path(e.app.file.rel).name
    return Path(e.row.file.rel).name if e.row is not None else ""


def write_letter(path, g, campaign, when):
    """补正通知: the letter, A4 portrait, its tables' headings repeated on each page."""
    # lazy: python-docx (≈65 ms of consolidate's imports) only for the 补正通知 letters (--feedback)
    from xl_addin.forms.word import A4Document

    fb = campaign.feedback
    doc = A4Document(FONT, 2.0)
    para = doc.para

    def table(heads, widths, rows):
        doc.table(heads, widths, rows, keep_rows=True)
        para("", after=2)

    para(fb["title"], 16, True, "center", 12)
    para(f"{g.name}：", 12, True, after=6)
    para(_lead(g, campaign), indent=True)
    para(fb["intro"], indent=True, after=8)
    n = 0
    for (org, project, file), items in _by_application(g.problems):
        n += 1
        name = org if org != HEADER_ORG else "附件3 初审推荐意见表（表头）"
        what = f"{n}. {name}" + (f"（{project}）" if project else "")
        para(what, 11, True, after=2)
        if file:
            para(f"文件：{Path(file).name}", 10, after=2)
        table(("类别", "问题说明", "位置"), (1.4, 12.0, 3.6),
              [(p.severity, p.message, _where(p)) for p in items])
    if not g.problems:
        para("贵单位推荐的申请均未发现问题。", indent=True)
    if g.accepted:
        para(fb["accepted"], 11, True, after=2)
        table(("序号", "申请组织名称", "申报项目名称", "申请类别"), (1.2, 7.0, 6.2, 2.6),
              [(i, e.values.get("org_name") or "", e.values.get("project_name") or "",
                e.values.get("category") or "") for i, e in enumerate(g.accepted, 1)])
    if g.rejected:
        para(fb["rejected"], 11, True, after=2)
        table(("序号", "文件", "原因"), (1.2, 6.8, 9.0),
              [(i, Path(r.file).name + ("" if r.scope == WHOLE_FILE else f"（{r.scope}）"),
                r.reason) for i, r in enumerate(g.rejected, 1)])
    para(f"请于 {_date(fb['deadline'])} 前完成补正并重新提交。{fb['closing']}", indent=True,
         after=2)
    para(fb["contact"], indent=True, after=16)
    para(campaign.stages.get("publisher", "上海市质量协会"), align="right", after=2)
    para(_date(when), align="right")
    set_properties(doc.core_properties, f"{fb['title']}（{g.name}）",
                   dt.datetime.combine(when, dt.datetime.now().time()))
    return doc.save(path)


def _by_application(problems):
    """Problems grouped by (application, file), in the order they come."""
    out = {}
    for p in problems:
        out.setdefault((p.org, p.project, p.file), []).append(p)
    return list(out.items())


def _where(p):
    if p.sheet and p.cell:
        return f"工作表“{p.sheet}”{p.cell}"
    if p.sheet:
        return f"工作表“{p.sheet}”"
    return "（整个文件）"


def summary_lines(letters, orphans, folder):
    """What the CLI and the ribbon say after writing the letters."""
    n = sum(x.problems for x in letters)
    lines = [f"补正通知：{len(letters)} 个推荐单位，共 {n} 个问题，已写入 {folder}"
             "（每个推荐单位一份补正清单 .xlsx 和一份补正通知 .docx）"]
    if orphans:
        lines.append(f"另有 {len(orphans)} 个未受理的文件不在任何推荐单位的文件夹中，未写入通知"
                     "（见汇总表“拒收”工作表）")
    return lines
