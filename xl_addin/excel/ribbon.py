"""The handlers of the 用户满意评价 ribbon tab (SAQ.xlam → macros/SAQRibbon.bas → here).

Thin: each handler gets the workbook in front of the user through ``xw.Book.caller()``,
calls the library, and tells the user in a Chinese message box what happened. A SaqError
becomes its one message; anything else a short Chinese message (the traceback goes to a
log file, never into Excel).

Imports (issue 21): each button is a fresh RunPython call, which imports this module and
then runs one handler. Here stands what 校验当前工作簿 needs (the reader, as `saq check`);
the forms, consolidation and review modules, which load openpyxl (~270 ms, python -X
importtime) and more, are imported inside the handlers that use them (`# lazy:`), so that
the check button does not pay for them.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import tempfile
import traceback
from pathlib import Path

import xlwings as xw

from xl_addin.errors import InputFileError, SaqError
from xl_addin.read.check import check_file
from xl_addin.read.year import MixedYears, choose, file_years, folder_years
from xl_addin.rules import text as rules_text
from xl_addin.tables import is_formula_like, save_workbook

TITLE = "用户满意评价"
RESULT_SHEET = "校验结果"
RULES_SHEET = "规则说明"
LOG_FILE = Path(tempfile.gettempdir()) / "saq_addin.log"

log = logging.getLogger(__name__)

# The `saq` command behind each button, for WPS (and anyone without the add-in): WPS has
# no VBA runtime without a plugin and xlwings does not drive it (issue 11).
WPS_COMMANDS = (
    ("新建申请书 / 新建推荐表", "saq templates -o 文件夹"),
    ("校验当前工作簿", "saq check 申请书.xlsx"),
    ("导出PDF", "WPS 的“文件 → 输出为PDF”，或 saq pdf 附件3.xlsx（需 LibreOffice）"),
    ("汇总推荐材料", "saq consolidate 文件夹 -o 汇总.xlsx"),
    ("补正通知", "saq consolidate 文件夹 -o 汇总.xlsx --feedback 补正通知"),
    ("生成专家评分表", "saq review assign 汇总.xlsx --experts 专家名单.xlsx -o 文件夹"),
    ("汇总专家评分", "saq review collect 文件夹 -o 评审结果.xlsx"),
    ("规则说明", "saq rules"),
)

HELP_TEXT = """用户满意评价 工具栏各按钮：

新建申请书 / 新建推荐表：生成空白模板，选择保存位置后自动打开。
校验当前工作簿：检查当前申请书或推荐表（与 saq check 和汇总的结论相同），问题写入“校验结果”工作表（错误必须改正，提醒请核实）。
导出PDF：把当前工作簿按 A4 版式导出为 PDF，保存在同一文件夹。
汇总推荐材料：选择存放申请书和推荐表的文件夹，生成汇总总表并打开；无法读取的文件在总表中说明原因。
补正通知：选择同一文件夹，重新汇总，并给每个推荐单位写一份补正通知（Word）和补正清单（Excel）：问题、要改的单元格、截止日期和联系人。
生成专家评分表 / 汇总专家评分：为每位专家生成评分表；收回后汇总得分与结论。
规则说明：在新工作表中列出本年度规则与问题代码。

单元格函数：=saq_star(类别, 结论, 满意度, 报告应用, 风险) 等，输入 =saq 可见全部函数。
如按钮无反应，请确认已按安装说明设置 Python，并查看日志文件：""" + str(LOG_FILE) + """

WPS：申请书、推荐表、专家评分表本身（自动计分、提示、变色）不需要加载项；按钮和 =saq_ 函数\
只能在 Windows 版 Excel 中使用。WPS 用户请在命令提示符中运行：
""" + "\n".join(f"{b}：{cmd}" for b, cmd in WPS_COMMANDS)


class Cancelled(Exception):
    """The user closed a dialog: stop quietly."""


# ---------------------------------------------------------------------- plumbing
def _alert(book, text, critical=False):
    """A message box in the calling Excel (xlwings App.alert)."""
    app = getattr(book, "app", None) or xw.apps.active
    app.alert(text, title=TITLE, mode="critical" if critical else "info")


def _log_exception():
    try:
        logging.basicConfig(filename=str(LOG_FILE), level=logging.INFO, encoding="utf-8")
        log.error("%s\n%s", dt.datetime.now().isoformat(timespec="seconds"),
                  traceback.format_exc())
    except Exception:  # noqa: BLE001 - logging must never be the thing that fails
        pass


def handler(fn):
    """Run a ribbon step: SaqError → its message; anything else → short Chinese message."""
    @functools.wraps(fn)
    def run():
        book = None
        try:
            book = xw.Book.caller()
            return fn(book)
        except Cancelled:
            return None
        except SaqError as e:
            _safe_alert(book, str(e), critical=True)
        except Exception as e:  # noqa: BLE001 - a user must never see a traceback
            _log_exception()
            _safe_alert(book, f"操作未完成：程序内部错误（{type(e).__name__}）。\n"
                              f"请保存工作，把当前文件和日志 {LOG_FILE} 发给技术支持。",
                        critical=True)
        return None
    run.is_ribbon_handler = True
    return run


def _safe_alert(book, text, critical=False):
    try:
        _alert(book, text, critical)
    except Exception:  # noqa: BLE001 - no Excel to show it in (e.g. closed meanwhile)
        _log_exception()


def _campaign(where=None, years=None):
    """The campaign a button runs for, as `saq` chooses it (read/year.py): the folder's
    活动.toml, else the year the files say (``years``), else the program's current one."""
    return choose(None, where, years, "在“活动.toml”中写明年度（saq init {year}）后重试").campaign


def _folder_of(book):
    try:
        p = Path(book.fullname)
        if p.parent and p.parent.is_dir():
            return p.parent
    except Exception:  # noqa: BLE001 - unsaved workbook: no folder
        pass
    return Path.home() / "Documents" if (Path.home() / "Documents").is_dir() else Path.home()


def ask_folder(book, title):
    """A folder picked by the user (Excel's folder dialog); Cancelled if none."""
    dlg = book.app.api.FileDialog(4)  # msoFileDialogFolderPicker
    dlg.Title = title
    dlg.InitialFileName = str(_folder_of(book)) + os.sep
    if not dlg.Show():
        raise Cancelled()
    return Path(dlg.SelectedItems(1))


def ask_save_path(book, suggested):
    """A file name chosen in Excel's Save As dialog; Cancelled if none."""
    name = book.app.api.GetSaveAsFilename(str(_folder_of(book) / suggested),
                                          "Excel 工作簿 (*.xlsx), *.xlsx")
    if not name or name is False:
        raise Cancelled()
    return Path(name)


def ask_file(book, title):
    """An .xlsx file chosen in Excel's Open dialog; Cancelled if none."""
    name = book.app.api.GetOpenFilename("Excel 工作簿 (*.xlsx), *.xlsx", 1, title)
    if not name or name is False:
        raise Cancelled()
    return Path(name)


def _open(book, path):
    """Open ``path`` in the calling Excel."""
    book.app.books.open(str(path))


def _text(v):
    """A value for a cell: formula-like text is kept as text (leading apostrophe)."""
    return "'" + v if is_formula_like(v) else v


def _fresh_sheet(book, name):
    """The sheet ``name`` of ``book``, emptied, or a new one at the end."""
    names = [s.name for s in book.sheets]
    if name in names:
        sheet = book.sheets[name]
        sheet.clear()
        return sheet
    return book.sheets.add(name, after=book.sheets[len(names) - 1])


# ---------------------------------------------------------------------- reading the book
COPY_NAME = "校验副本.xlsx"


def saved_copy(book, folder):
    """The workbook as it stands now, unsaved edits included, saved as a copy in ``folder``,
    so that the one reader (the same as `saq check` and consolidation) judges it (issue 9).

    Returns:
        Path of the copy.
    """
    path = Path(folder) / COPY_NAME
    book.api.SaveCopyAs(str(path))
    return path


# ---------------------------------------------------------------------- the buttons
@handler
def check_workbook(book):
    """校验当前工作簿: the verdict of `saq check` on the open workbook, in the 校验结果 sheet."""
    with tempfile.TemporaryDirectory(prefix="saq-check-") as folder:
        try:
            copy = saved_copy(book, folder)
            res = check_file(copy, _campaign(_folder_of(book), file_years(copy)))
        except InputFileError as e:
            raise SaqError(f"当前工作簿“{book.name}”无法校验：{e.reason}") from None
    rows = write_check_sheet(book, res)
    text = (f"校验完成：{res.status}。" if rows else "校验完成：未发现问题，可以提交。")
    if rows:
        text += f"\n详见“{RESULT_SHEET}”工作表（错误必须改正，提醒请核实）。"
    _alert(book, text)


def write_check_sheet(book, res):
    """Write the findings of a verdict to the 校验结果 sheet; returns the number of rows.

    Args:
        book: the workbook (xlwings Book or stand-in).
        res: a verdict.Verdict (findings with code, severity, message, label, where).
    Returns:
        int
    """
    sheet = _fresh_sheet(book, RESULT_SHEET)
    when = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    sheet.range("A1").value = f"校验结果：{res.status}（{when}）"
    header = ["代码", "级别", "说明", "字段"]
    rows = [[f.code, f.severity_label, _text(f.message),
             _text(f.label + (f"（{f.where}）" if f.where else ""))]
            for f in res.findings]
    sheet.range("A3").value = [header] + (rows or [["—", "", "未发现问题", ""]])
    sheet.range("A1").font.bold = True
    sheet.range("A3:D3").font.bold = True
    # Widths sum to about one A4 portrait page; long messages wrap instead of spilling.
    for col, width in zip("ABCD", (6, 6, 40, 26)):
        sheet.range(f"{col}1").column_width = width
    _wrap_top(sheet.range(f"A4:D{3 + max(len(rows), 1)}"))
    sheet.autofit("rows")
    _fit_page_width(sheet)
    sheet.activate()
    return len(rows)


def _wrap_top(rng):
    """Wrap long text; align rows at the top so a code stays beside its message."""
    rng.wrap_text = True
    try:
        rng.api.VerticalAlignment = -4160  # xlTop
    except Exception:  # noqa: BLE001 - hosts without COM keep their default
        pass


def _fit_page_width(sheet):
    """Print on one page width (Excel only; other hosts keep their defaults)."""
    try:
        ps = sheet.api.PageSetup
        ps.Zoom = False
        ps.FitToPagesWide = 1
        ps.FitToPagesTall = False
    except Exception:  # noqa: BLE001 - no COM page setup (stand-in, macOS): nothing to do
        pass


@handler
def new_application(book):
    """新建申请书: write the application template where the user says, then open it."""
    _new_form(book, "application", "申请书")


@handler
def new_recommender(book):
    """新建推荐表: write the 附件3 template where the user says, then open it."""
    _new_form(book, "recommender", "推荐表")


def _new_form(book, module, what):
    # lazy: openpyxl (see the module's docstring)
    from xl_addin.forms.application import build_application
    from xl_addin.forms.recommender import build_recommender
    build = {"application": build_application, "recommender": build_recommender}[module]
    path = ask_save_path(book, f"{what}_{dt.date.today():%Y%m%d}.xlsx")
    _open(book, save_workbook(build(_campaign()), path))


@handler
def export_pdf(book):
    """导出PDF: the calling workbook as a PDF beside it, in the workbook's own print layout.

    In Excel this is Excel's own export (xlwings Book.to_pdf), so the PDF is what the user
    sees in print preview; without it (no Excel), LibreOffice through :mod:`xl_addin.forms.pdf`.
    """
    from xl_addin.forms import pdf  # lazy: openpyxl, LibreOffice helpers (see the docstring)
    src = Path(book.fullname)
    if not src.is_file():
        raise SaqError("请先保存当前工作簿（“文件 → 另存为”），再导出 PDF。")
    out = src.with_suffix(".pdf")
    if hasattr(book, "to_pdf"):
        names = [s.name for s in book.sheets]
        book.to_pdf(str(out), exclude=[n for n in pdf.SKIP_SHEETS if n in names] or None)
    else:
        book.save()
        out = pdf.to_pdf(src, out)
    _alert(book, f"已导出 PDF：{out}")


@handler
def consolidate_folder(book):
    """汇总推荐材料: a folder the user picks → master workbook beside it, opened."""
    from xl_addin.consolidate import consolidate, summary_lines  # lazy: openpyxl (see the docstring)
    folder = ask_folder(book, "选择存放申请书和推荐表的文件夹")
    out = folder / f"汇总_{dt.date.today():%Y%m%d}.xlsx"
    note = []
    try:
        c = _campaign(folder, folder_years(folder, skip=(out,)))
    except MixedYears as e:  # no --campaign in Excel: the folder's or program's year, said
        c = _campaign(folder)
        note = [f"注意：文件夹中的文件属于不同年度的活动（{'、'.join(f'{y} 年' for y in sorted(e.years))}），"
                f"本次按 {c.year} 年汇总，其他年度的文件已拒收（见“文件清单”）；如应按其他年度，"
                "请在活动文件夹中运行 saq init 年度 写明年度后重试。"]
    result = consolidate(folder, out, c, progress=False)
    lines = summary_lines(result) + list(result.messages) + note
    _open(book, result.written_to)
    _alert(book, "汇总完成。\n" + "\n".join(lines) + f"\n总表：{result.written_to}")


@handler
def feedback_letters(book):
    """补正通知: a folder the user picks → the master and one letter per recommender in a
    补正通知 folder beside it (issue 22)."""
    from xl_addin.consolidate import consolidate, summary_lines  # lazy: openpyxl (see the docstring)
    folder = ask_folder(book, "选择存放申请书和推荐表的文件夹（将给每个推荐单位写补正通知）")
    stamp = f"{dt.date.today():%Y%m%d}"
    out = folder / f"汇总_{stamp}.xlsx"
    letters = folder.parent / f"补正通知_{stamp}"
    result = consolidate(folder, out, _campaign(), progress=False, feedback=letters)
    _alert(book, "补正通知已写好。\n" + "\n".join(summary_lines(result)))


@handler
def make_expert_sheets(book):
    """生成专家评分表: master + expert list → one scoring workbook per expert (issue 5)."""
    from xl_addin.review import workflow  # lazy: openpyxl (see the docstring)
    master = ask_file(book, "选择汇总总表（汇总推荐材料生成的 .xlsx）")
    try:
        experts = ask_file(book, "选择专家名单（还没有名单时请点“取消”，将生成空白名单）")
    except Cancelled:
        experts = master.parent / "专家名单.xlsx"
    out = master.parent / "专家评审"
    run = workflow.run_assign(master, experts, out,
                              _campaign(master, file_years(master, kinds=("master",))))
    if run.template:
        _open(book, run.template)
        _alert(book, f"已生成空白专家名单：{run.template}\n"
                     "请填写姓名、单位、回避单位、专业并保存，再点“生成专家评分表”。")
        return
    _alert(book, "专家评分表已生成。\n" + "\n".join(workflow.assign_summary(run)))


@handler
def collect_expert_scores(book):
    """汇总专家评分: the review folder with the returned workbooks → results, opened (issue 5)."""
    # lazy: openpyxl (see the docstring)
    from xl_addin.review import workflow
    from xl_addin.review.manifest import FILE_NAME, TEMPLATE_ID
    folder = ask_folder(book, "选择专家评审文件夹（生成评分表时的“专家评审”文件夹）")
    c = _campaign(folder, file_years(folder / FILE_NAME, kinds=(TEMPLATE_ID,)))
    res, path = workflow.run_collect(folder, folder.parent / "评审结果.xlsx", c)
    _open(book, path)
    _alert(book, "\n".join(workflow.collect_summary(res, path)))


@handler
def show_rules(book):
    """规则说明: the campaign's rules (`saq rules`) in a 规则说明 sheet, tables as cells."""
    rows, bold = rules_rows(_campaign())
    sheet = _fresh_sheet(book, RULES_SHEET)
    sheet.range("A1").value = [[_text(v) for v in r] + [""] * (5 - len(r)) for r in rows]
    for i in bold:
        sheet.range(f"A{i + 1}:E{i + 1}").font.bold = True
    for col, width in zip("ABCDE", (12, 16, 36, 44, 12)):
        sheet.range(f"{col}1").column_width = width
    _wrap_top(sheet.range(f"A2:E{len(rows)}"))
    sheet.autofit("rows")
    # The long title (basis and campaign file) wraps over the table's width; Excel's
    # autofit ignores merged cells, hence the fixed height.
    title = sheet.range("A1:E1")
    title.merge()
    title.wrap_text = True
    title.row_height = 32
    _fit_page_width(sheet)
    sheet.activate()


def rules_rows(campaign):
    """The blocks of :func:`rules_text.blocks` (what `saq rules` prints) as sheet rows.

    Returns:
        (rows, bold): list of row value lists, and the indexes of heading rows.
    """
    rows, bold = [], []
    for block in rules_text.blocks(campaign):
        if block[0] == "table":
            _, headers, body, _ = block
            bold.append(len(rows))
            rows.append(headers)
            rows.extend(["" if v is None else v for v in r] for r in body)
        else:
            if block[0] == "heading":
                bold.append(len(rows))
            rows.append([block[1]])
    return rows, bold


@handler
def show_help(book):
    """帮助: what each button does, in a message box."""
    _alert(book, HELP_TEXT)


#: ribbon handler names, in the order of the buttons (macros/SAQRibbon.bas calls these).
HANDLERS = ("new_application", "new_recommender", "check_workbook", "export_pdf",
            "consolidate_folder", "feedback_letters", "make_expert_sheets",
            "collect_expert_scores", "show_rules", "show_help")
