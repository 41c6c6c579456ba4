"""The ribbon handlers (issue 6) end to end on Linux, against an openpyxl-backed stand-in
for the calling workbook (``xw.Book.caller`` is monkeypatched).

What a handler must do (issue 6 §5): get the workbook through ``xw.Book.caller()``, call the
library, tell the user in a Chinese message box, and never show a traceback. Expected flags
come from the engine itself on the same values, never from copies of its output.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from copy import copy
from pathlib import Path

import openpyxl
import pytest
import xlwings as xw
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.table import Table

from xl_addin.excel import ribbon
from xl_addin.rules.campaign import load
from xl_addin.rules.engine import evaluate_application, field_labels


# ---------------------------------------------------------------------- the stand-in
class FakeApp:
    def __init__(self):
        self.alerts, self.opened = [], []
        self.books = self

    def alert(self, prompt, title=None, buttons="ok", mode=None, callback=None):
        self.alerts.append((prompt, title, mode))

    def open(self, path):  # books.open
        self.opened.append(Path(path))


class _Font:
    def __init__(self, cells):
        self._cells = cells

    def __setattr__(self, k, v):
        if k == "_cells":
            return object.__setattr__(self, k, v)
        for c in self._cells:
            f = copy(c.font)
            setattr(f, "b" if k == "bold" else k, v)
            c.font = f


class FakeRange:
    """The part of xlwings.Range the handlers use, on openpyxl cells."""

    def __init__(self, ws, ref):
        self.ws, self.ref = ws, ref

    def _cells(self):
        got = self.ws[self.ref]
        if isinstance(got, tuple):
            return [c for row in (got if isinstance(got[0], tuple) else (got,)) for c in row]
        return [got]

    @property
    def value(self):
        return self._cells()[0].value

    @value.setter
    def value(self, v):
        top = self._cells()[0]
        rows = v if isinstance(v, list) else [[v]]
        rows = [r if isinstance(r, list) else [r] for r in rows]
        for i, row in enumerate(rows):
            for j, x in enumerate(row):
                cell = self.ws.cell(top.row + i, top.column + j)
                # Excel semantics: a leading apostrophe makes text; "=" makes a formula.
                if isinstance(x, str) and x.startswith("'"):
                    cell.value, cell.data_type, cell.quotePrefix = x[1:], "s", True
                else:
                    cell.value = x

    @property
    def font(self):
        return _Font(self._cells())

    @property
    def column_width(self):
        return self.ws.column_dimensions[self._cells()[0].column_letter].width

    @column_width.setter
    def column_width(self, w):
        for c in self._cells():
            self.ws.column_dimensions[c.column_letter].width = w

    @property
    def wrap_text(self):
        return self._cells()[0].alignment.wrap_text

    @wrap_text.setter
    def wrap_text(self, v):
        for c in self._cells():
            a = copy(c.alignment)
            a.wrap_text, a.vertical = v, "top"
            c.alignment = a

    @property
    def sheet(self):
        return FakeSheet(self.ws)

    @property
    def address(self):
        first = self._cells()[0]
        return f"${first.column_letter}${first.row}"

    def merge(self):
        self.ws.merge_cells(self.ref)

    @property
    def row_height(self):
        return self.ws.row_dimensions[self._cells()[0].row].height

    @row_height.setter
    def row_height(self, h):
        for c in self._cells():
            self.ws.row_dimensions[c.row].height = h

    def options(self, ndim=None, **kw):
        return _Opts(self, ndim)


class _Opts:
    def __init__(self, rng, ndim=None):
        self.rng, self.ndim = rng, ndim

    @property
    def value(self):
        got = self.rng.ws[self.rng.ref]
        rows = got if isinstance(got[0], tuple) else (got,)
        table = [[c.value for c in r] for r in rows]
        return table[0] if self.ndim == 1 else table


class FakeTable:
    def __init__(self, ws, t):
        self.name = t.displayName
        first, last = t.ref.split(":")
        m = re.match(r"([A-Z]+)(\d+)", first)
        body_first = f"{m.group(1)}{int(m.group(2)) + 1}"
        last_col = re.match(r"[A-Z]+", last).group(0)
        self.header_row_range = FakeRange(ws, f"{first}:{last_col}{m.group(2)}")
        self.data_body_range = FakeRange(ws, f"{body_first}:{last}")


class FakeSheet:
    def __init__(self, ws):
        self.ws = ws
        self.activated = False

    @property
    def name(self):
        return self.ws.title

    def range(self, ref):
        return FakeRange(self.ws, ref)

    def clear(self):
        for row in self.ws.iter_rows():
            for c in row:
                c.value = None

    def activate(self):
        self.activated = True

    @property
    def api(self):
        """Excel's PageSetup as far as the handlers use it (fit to one page wide)."""
        ws = self.ws

        class PageSetup:
            def __setattr__(self, k, v):
                if k == "FitToPagesWide":
                    ws.sheet_properties.pageSetUpPr.fitToPage = True
                    ws.page_setup.fitToWidth = v
                elif k == "FitToPagesTall":
                    ws.page_setup.fitToHeight = 0 if v is False else v

        return type("Api", (), {"PageSetup": PageSetup()})()

    def autofit(self, axis=None):
        """Rows only, roughly as Excel does: wrapped text grows its row (2 units a CJK char)."""
        for row in self.ws.iter_rows():
            lines = 1
            for c in row:
                if isinstance(c.value, str) and c.alignment.wrap_text:
                    width = self.ws.column_dimensions[c.column_letter].width or 8.43
                    units = sum(2 if ord(ch) > 0x2E80 else 1 for ch in c.value)
                    lines = max(lines, -(-units // int(width)))
            if lines > 1:
                self.ws.row_dimensions[row[0].row].height = 15 * lines

    @property
    def tables(self):
        return [FakeTable(self.ws, t) for t in self.ws.tables.values()]


class FakeSheets:
    def __init__(self, wb):
        self.wb = wb

    def __iter__(self):
        return iter([FakeSheet(ws) for ws in self.wb.worksheets])

    def __len__(self):
        return len(self.wb.worksheets)

    def __getitem__(self, k):
        ws = self.wb.worksheets[k] if isinstance(k, int) else self.wb[k]
        return FakeSheet(ws)

    def add(self, name, after=None):
        return FakeSheet(self.wb.create_sheet(name))


class FakeName:
    def __init__(self, wb, dn):
        self.name = dn.name
        self._wb, self._dn = wb, dn

    @property
    def refers_to_range(self):
        (sheet, ref), = list(self._dn.destinations)
        return FakeRange(self._wb[sheet], ref.replace("$", ""))


class FakeBook:
    """An openpyxl workbook that answers like the xlwings Book of the calling workbook."""

    def __init__(self, path):
        self.path = Path(path)
        self.wb = openpyxl.load_workbook(self.path)
        self.app = FakeApp()
        self.saved = 0

    name = property(lambda self: self.path.name)
    fullname = property(lambda self: str(self.path))
    sheets = property(lambda self: FakeSheets(self.wb))

    @property
    def names(self):
        return [FakeName(self.wb, dn) for dn in self.wb.defined_names.values()]

    def save(self, path=None):
        self.wb.save(path or self.path)
        self.saved += 1

    @property
    def api(self):
        """Excel's Workbook.SaveCopyAs: the workbook as it stands, saved elsewhere."""
        return type("Api", (), {"SaveCopyAs": lambda _self, path: self.wb.save(path)})()


# ---------------------------------------------------------------------- fixtures
C = load()

BASE = {  # a 服务类 application as a staff member would fill it in
    "recommender": "上海市浦东新区市场监督管理局", "fill_date": dt.datetime(2023, 6, 20),
    "org_name": "上海浦江客运服务有限公司", "uscc": "91310115MA1K3YJH34",
    "org_type": "国有企业", "industry": "交通运输、仓储和邮政业", "org_size": "大型",
    "category": "服务类", "level": "标杆级", "project_name": "轨道交通乘客热线服务",
    "satisfaction": 86, "review_type": "初评", "contact_name": "王敏",
    "contact_mobile": "13812345678", "service_function": "乘客咨询与投诉处理",
    "service_staff": 120, "established_date": dt.datetime(2005, 3, 18),
    "revenue_y1": 52000, "revenue_y2": 56000, "revenue_y3": 61000,
    "survey_start": dt.datetime(2022, 11, 1), "survey_end": dt.datetime(2023, 1, 15),
    "surveyor_qualified": "是", "incidents": "无", "respondents": 1200,
    "report_use": "战略", "risk": "无",
}


def make_application(path, values, respondents=3, extra_sheet=None):
    """A small workbook carrying FIELDS.md defined names (label in A, value in B)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "申请表"
    labels = field_labels(C, "application")
    for i, (k, v) in enumerate(values.items(), 1):
        ws.cell(i, 1, labels.get(k, k))
        ws.cell(i, 2, v)
        wb.defined_names[k] = DefinedName(k, attr_text=f"'申请表'!$B${i}")
    rs = wb.create_sheet("被访者名单")
    rs.append(["序号", "姓名", "联系方式"])
    for i in range(respondents):
        rs.append([i + 1, f"被访者{i + 1}", f"1380000{i:04d}"])
    rs.add_table(Table(displayName="respondent_list", ref=f"A1:C{max(respondents, 1) + 1}"))
    meta = wb.create_sheet("_meta")  # the reader contract: a workbook of our template
    for row in (("key", "value"), ("template_id", "saq-application"), ("campaign_year", C.year)):
        meta.append(row)
    meta.sheet_state = "hidden"
    if extra_sheet:
        wb.create_sheet(extra_sheet)["A1"] = "旧内容"
    wb.save(path)
    return path


@pytest.fixture
def call(monkeypatch):
    """call(handler, book): run a ribbon handler with ``book`` as the calling workbook."""
    def run(name, book):
        monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: book))
        return getattr(ribbon, name)()
    return run


def sheet_rows(book, name):
    ws = book.wb[name]
    return [[c.value for c in row] for row in ws.iter_rows()]


def flag_rows(book):
    rows = sheet_rows(book, ribbon.RESULT_SHEET)
    return [r[:4] for r in rows[3:] if r[0] not in (None, "—")]


# ---------------------------------------------------------------------- 校验当前工作簿
ENOUGH = C.flags["E17"]["threshold"] + 10  # respondents listed: more than E17 asks for
CHECK_CASES = [
    # (what, changes to BASE, respondents listed)
    ("clean application", {}, ENOUGH),
    ("bad USCC and mobile (E16, E21)", {"uscc": "91310115MA1K3YJH35",
                                       "contact_mobile": "2381234567"}, ENOUGH),
    ("product category applying 标杆级 (E14)", {"category": "产品类"}, ENOUGH),
    ("too few respondents listed (E17)", {}, 3),
    ("satisfaction below the minimum (E15)", {"satisfaction": C.flags["E15"]["min"] - 5}, ENOUGH),
]


@pytest.mark.parametrize("what,changes,listed", CHECK_CASES, ids=[c[0] for c in CHECK_CASES])
def test_check_workbook_writes_engine_flags(tmp_path, call, what, changes, listed):
    """Issue 6: 校验当前工作簿 writes 校验结果 with the engine's flags (code, 级别, 说明, 字段)."""
    values = {**BASE, **changes}
    book = FakeBook(make_application(tmp_path / "申请书.xlsx", values, listed))
    call("check_workbook", book)

    expected = evaluate_application({**values, "respondents_listed": listed}, C)
    labels = field_labels(C, "application")
    cells = {k: dn.attr_text.replace("'", "").replace("$", "")
             for k, dn in book.wb.defined_names.items()}

    def field(key):
        return labels.get(key, key) + (f"（{cells[key]}）" if key in cells else "") if key else ""
    want = [[f.code, "错误" if f.severity == "error" else "提醒", f.message, field(f.field)]
            for f in expected.flags]
    assert flag_rows(book) == want
    assert expected.status in sheet_rows(book, ribbon.RESULT_SHEET)[0][0]
    (prompt, title, mode), = book.app.alerts
    assert title == "用户满意评价" and mode == "info"
    assert prompt.startswith("校验完成")
    if changes or listed < C.flags["E17"]["threshold"]:
        assert want, "each changed case must raise at least one flag"
        assert ribbon.RESULT_SHEET in prompt


def test_check_workbook_replaces_old_results(tmp_path, call):
    book = FakeBook(make_application(tmp_path / "a.xlsx", BASE, ENOUGH,
                                     extra_sheet=ribbon.RESULT_SHEET))
    call("check_workbook", book)
    assert "旧内容" not in str(sheet_rows(book, ribbon.RESULT_SHEET))
    assert [ws.title for ws in book.wb.worksheets].count(ribbon.RESULT_SHEET) == 1


def test_check_workbook_on_a_foreign_workbook_says_so(tmp_path, call):
    p = tmp_path / "别的表.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "无关内容"
    wb.save(p)
    book = FakeBook(p)
    call("check_workbook", book)
    (prompt, _, mode), = book.app.alerts
    assert mode == "critical" and "不是本活动下发的模板" in prompt and "别的表.xlsx" in prompt
    assert ribbon.RESULT_SHEET not in book.wb.sheetnames


def test_formula_like_text_is_written_as_text(tmp_path):
    """Design rule: text starting with = + - @ is written as text (never a formula)."""
    from xl_addin.read.verdict import Verdict
    from xl_addin.rules.findings import Finding
    book = FakeBook(make_application(tmp_path / "a.xlsx", BASE))
    res = Verdict("application", [Finding(code="E23", severity="error", message="=HYPERLINK(\"http://x\")",
                                          field="org_name", label="企业名称")])
    ribbon.write_check_sheet(book, res)
    cell = book.wb[ribbon.RESULT_SHEET]["C4"]
    assert cell.value == "=HYPERLINK(\"http://x\")" and cell.data_type == "s"


# ---------------------------------------------------------------------- failures
def test_unexpected_error_gives_short_chinese_message_no_traceback(tmp_path, call, monkeypatch):
    book = FakeBook(make_application(tmp_path / "a.xlsx", BASE))
    monkeypatch.setattr(ribbon, "LOG_FILE", tmp_path / "log.txt")

    def boom(raw, campaign=None):
        raise KeyError("internal detail")
    monkeypatch.setattr("xl_addin.read.verdict.evaluate_application", boom)
    call("check_workbook", book)
    (prompt, _, mode), = book.app.alerts
    assert mode == "critical" and "内部错误" in prompt
    assert "Traceback" not in prompt and "internal detail" not in prompt


def test_saq_error_is_its_one_message(tmp_path, call, monkeypatch):
    from xl_addin.errors import InputFileError
    book = FakeBook(make_application(tmp_path / "a.xlsx", BASE))

    def fail(book, title):
        raise InputFileError(tmp_path / "x", "文件不存在")
    monkeypatch.setattr(ribbon, "ask_folder", fail)
    call("consolidate_folder", book)
    (prompt, _, mode), = book.app.alerts
    assert mode == "critical" and prompt.startswith("无法读取文件") and "文件不存在" in prompt


def test_cancelled_dialog_is_silent(tmp_path, call, monkeypatch):
    book = FakeBook(make_application(tmp_path / "a.xlsx", BASE))

    def cancel(book, title):
        raise ribbon.Cancelled()
    monkeypatch.setattr(ribbon, "ask_folder", cancel)
    call("consolidate_folder", book)
    assert book.app.alerts == []


# ---------------------------------------------------------------------- other buttons
def test_show_rules_writes_the_rules_sheet(tmp_path, call):
    """规则说明: the text of `saq rules`, its tables as cells; checked against the campaign."""
    from xl_addin.rules.text import describe
    book = FakeBook(make_application(tmp_path / "a.xlsx", BASE))
    call("show_rules", book)
    rows = sheet_rows(book, ribbon.RULES_SHEET)
    for code, spec in C.flags.items():  # every flag: its code, severity and full rule text
        assert [code, "错误" if spec["severity"] == "error" else "提醒", spec["rule"]] in \
            [r[:3] for r in rows], code
    headings = [ln for ln in describe(C).split("\n") if re.match("^[一二三四五六]、", ln)]
    assert len(headings) == 6
    for h in headings:
        (i,) = [i for i, r in enumerate(rows) if r[0] == h]
        assert book.wb[ribbon.RULES_SHEET].cell(i + 1, 1).font.b


def test_show_help_is_a_message_box(tmp_path, call):
    book = FakeBook(make_application(tmp_path / "a.xlsx", BASE))
    call("show_help", book)
    (prompt, title, _), = book.app.alerts
    for button in ("新建申请书", "校验当前工作簿", "汇总推荐材料", "导出PDF", "规则说明"):
        assert button in prompt


def test_consolidate_folder_on_the_demo_writes_the_master(tmp_path, call, monkeypatch,
                                                          demo_inbox):
    """Issue 6: 汇总推荐材料 on the demo folder writes the master and opens it."""
    inbox = tmp_path / "收件"
    shutil.copytree(demo_inbox, inbox, symlinks=True)  # the demo's files, written once per run
    book = FakeBook(make_application(tmp_path / "a.xlsx", BASE))
    monkeypatch.setattr(ribbon, "ask_folder", lambda book, title: inbox)
    call("consolidate_folder", book)
    (prompt, _, mode), = book.app.alerts
    assert mode == "info" and prompt.startswith("汇总完成"), prompt
    # the demo's odd files hold last year's template: Excel has no --campaign, so it is said
    assert ("注意：文件夹中的文件属于不同年度的活动（2022 年、2023 年），本次按 2023 年汇总，"
            "其他年度的文件已拒收（见“文件清单”）") in prompt  # issue 20 §7
    (opened,) = book.app.opened
    assert opened.is_file() and opened.parent == inbox
    master = openpyxl.load_workbook(opened, read_only=True)
    assert len(master.sheetnames) >= 2

    # 生成专家评分表 on that master, with no expert list yet: a blank list is written, opened.
    pytest.importorskip("xl_addin.review.workflow")
    answers = iter([opened])

    def ask_file(book, title):
        for a in answers:
            return a
        raise ribbon.Cancelled()
    monkeypatch.setattr(ribbon, "ask_file", ask_file)
    book.app.alerts.clear()
    call("make_expert_sheets", book)
    (prompt, _, mode), = book.app.alerts
    assert mode == "info" and "专家名单" in prompt, prompt
    assert book.app.opened[-1] == inbox / "专家名单.xlsx" and book.app.opened[-1].is_file()


def test_new_application_writes_and_opens_the_template(tmp_path, call, monkeypatch):
    pytest.importorskip("xl_addin.forms.application")
    book = FakeBook(make_application(tmp_path / "a.xlsx", BASE))
    target = tmp_path / "新申请书.xlsx"
    monkeypatch.setattr(ribbon, "ask_save_path", lambda book, name: target)
    call("new_application", book)
    assert book.app.alerts == [] or book.app.alerts[0][2] != "critical", book.app.alerts
    assert book.app.opened == [target] and target.is_file()
    names = set(openpyxl.load_workbook(target).defined_names)
    assert {"org_name", "uscc", "category"} <= names


def test_export_pdf_uses_excels_export_with_the_print_layout(tmp_path, call):
    """In Excel: Book.to_pdf beside the workbook; sheets that are not printed are left out."""
    book = FakeBook(make_application(tmp_path / "推荐表.xlsx", BASE, extra_sheet="统计"))
    calls = []
    book.to_pdf = lambda path, exclude=None: calls.append((Path(path), exclude))
    call("export_pdf", book)
    assert calls == [(tmp_path / "推荐表.pdf", ["统计"])]
    (prompt, _, mode), = book.app.alerts
    assert mode == "info" and str(tmp_path / "推荐表.pdf") in prompt


@pytest.mark.libreoffice
def test_export_pdf_without_excel_goes_through_libreoffice(tmp_path, call):
    book = FakeBook(make_application(tmp_path / "申请书.xlsx", BASE))
    call("export_pdf", book)
    (prompt, _, mode), = book.app.alerts
    assert mode == "info", prompt
    pdf = tmp_path / "申请书.pdf"
    assert pdf.is_file() and pdf.read_bytes()[:5] == b"%PDF-"


def test_export_pdf_of_an_unsaved_workbook_asks_to_save(tmp_path, call):
    book = FakeBook(make_application(tmp_path / "a.xlsx", BASE))
    book.path = tmp_path / "工作簿1"  # never saved: no file behind it
    call("export_pdf", book)
    (prompt, _, mode), = book.app.alerts
    assert mode == "critical" and "请先保存" in prompt


def test_check_workbook_agrees_with_saq_check_on_the_real_template(tmp_path, call):
    """On the issue-3 application template, filled in part: the ribbon and `saq check` (which
    reads the saved file) report the same flags with the same wording."""
    forms = pytest.importorskip("xl_addin.forms.application")
    check = pytest.importorskip("xl_addin.read.check")
    p = tmp_path / "申请书.xlsx"
    wb = forms.build_application(C)
    for key in ("org_name", "uscc", "category", "level", "satisfaction", "contact_mobile"):
        (sheet, ref), = list(wb.defined_names[key].destinations)
        wb[sheet][ref.replace("$", "")] = {**BASE, "uscc": "91310115MA1K3YJH35",
                                           "contact_mobile": "123"}[key]
    wb.save(p)
    book = FakeBook(p)
    call("check_workbook", book)
    got = [(r[0], r[2]) for r in flag_rows(book)]
    want = [(f.code, f.message) for f in check.check_file(p, C).findings]
    assert got == want and len(got) > 3
    assert any(code == "E16" for code, _ in got) and any(code == "E21" for code, _ in got)
