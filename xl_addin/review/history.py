"""`saq history import`: load an earlier year's published results into the registry.

Reads the 发布名单.xlsx that `saq stage publish` writes, or any simple table (xlsx or csv)
whose header row holds 统一社会信用代码, 企业名称 (or 组织名称 / 申请组织名称), 申请类别,
申报项目名称 (optional: 企业类 has none) and 等级 (or 评价等级). The header row may sit under
a title. Every row is either recorded or listed with a Chinese reason; nothing is dropped.
Names are kept exactly as written (only leading and trailing spaces go).

RULES.md P7 and issue 19:

- A list that states its year (``_meta``, or a title such as "2023年…") must be of the year
  given with ``--year``; otherwise nothing is imported.
- Importing over a year the registry already holds shows the changes (new rows, changed
  levels, rows the list no longer has) and needs ``--replace``; each change is audited.
- A list without 统一社会信用代码 (the association's website lists) is matched by name with
  what the registry knows; the matches go into a sheet (``…_名称匹配.xlsx``) that staff
  confirm, and that sheet is then imported.
- One transaction: the whole list or nothing (a killed import leaves the registry as it was).
  The input is bounded: :data:`MAX_BYTES` and :data:`MAX_ROWS`, for CSV as for xlsx.

`saq history verify` walks the audit's hash chain; `saq history audit` exports the whole
trail (the stage workbook shows the newest lines only).
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from xl_addin import registry as regmod
from xl_addin.errors import InputFileError, SaqError
from xl_addin.registry import current_user
from xl_addin.review.sheets import (
    INPUT_FILL,
    add_table,
    new_workbook,
    put,
    save_atomic,
    set_widths,
    style_header,
    title_cell,
    verbatim,
    write_meta,
)
from xl_addin.review.staging import open_by
from xl_addin.review.xlread import META_SHEET, open_workbook, read_meta
from xl_addin.rules import parse
from xl_addin.rules.uscc import problem as uscc_problem
from xl_addin.tables import clean, csv_text, is_formula_like, write_atomic

HEADERS = {
    "uscc": ("统一社会信用代码",),
    "org_name": ("企业名称", "组织名称", "申请组织名称", "单位名称"),
    "category": ("申请类别", "类别"),
    "project_name": ("申报项目名称", "项目名称"),
    "level": ("等级", "评价等级", "评价结果", "审定等级"),
    "confirm": ("确认",),
}
REQUIRED = ("uscc", "org_name", "category", "level")
MAX_BYTES = 20 * 2**20  # a year's list is a few hundred rows; 20 MB is far beyond any
MAX_ROWS = 50_000
HEADER_SCAN_ROWS = 30
MATCH_TEMPLATE = "saq-history-match"
SHOW_CHANGES = 20
_YEAR = re.compile(r"((?:19|20)\d\d)\s*年")


class NeedsReplace(SaqError):
    """Importing over a year already held: the changes are shown, ``--replace`` needed.

    Attributes:
        details: the changes, one line each (printed before the error line).
    """

    exit_code = 1

    def __init__(self, message, details):
        super().__init__(message)
        self.details = list(details)


@dataclass
class ImportResult:
    path: Path
    year: int
    registry: Path
    new: int = 0
    same: int = 0
    changed: int = 0
    skipped: list = field(default_factory=list)  # (row, Chinese reason)
    removed: int = 0
    untouched: int = 0  # held rows the list does not have, kept (no --replace)
    created: bool = False
    replaced: bool = False
    match_sheet: Path | None = None  # a list without codes: the sheet staff confirm
    matched: dict = field(default_factory=dict)  # how the names matched: kind -> count


@dataclass
class _Table:
    rows: list  # (row number, {key: value})
    keys: set  # the keys of HEADERS the header row has
    stated: tuple | None = None  # (year, where it says so)
    template: str = ""


# ---------------------------------------------------------------------- reading the list
def _header_map(headers):
    out = {}
    for h in headers:
        if h is None:
            continue
        k = parse.norm(str(h)).replace(" ", "")
        for key, names in HEADERS.items():
            if key not in out and k in names:
                out[key] = h
    return out


def _title_year(rows):
    """(year, where) from the first cells that say "20xx年" above a header row."""
    for row in rows:
        for v in row:
            if isinstance(v, str):
                m = _YEAR.search(v)
                if m:
                    return int(m.group(1)), f"标题“{v.strip()[:40]}”"
    return None


def _from_grid(p, grid, meta=None, best=None):
    """The table under the first header row (within 30 rows) that names the columns; else
    None, with the most complete header row seen noted in ``best`` (a one-item list)."""
    for r, row in enumerate(grid[:HEADER_SCAN_ROWS], start=1):
        keyed = _header_map(row)
        if best is not None and len(keyed) > len(best[0] if best else {}):
            best[:] = [keyed]
        if all(k in keyed for k in ("org_name", "category", "level")):
            cols = {k: list(row).index(h) for k, h in keyed.items()}
            out = []
            for n, vals in enumerate(grid[r:], start=r + 1):
                item = {k: (vals[j] if j < len(vals) else None) for k, j in cols.items()}
                if _blank_row(item.values()):
                    continue
                out.append((n, item))
                if len(out) > MAX_ROWS:
                    raise InputFileError(p, f"名单超过 {MAX_ROWS:,} 行上限，未导入任何内容；"
                                            "请检查文件是否选对")
            stated = None
            if meta and str(meta.get("campaign_year") or "").split(".")[0].isdigit():
                stated = (int(str(meta["campaign_year"]).split(".")[0]), "工作簿的 _meta 记录")
            stated = stated or _title_year(grid[:r - 1])
            return _Table(out, set(keyed), stated, str((meta or {}).get("template_id") or ""))
    return None


def _read(path):
    """The list's rows, found by their headers, bounded (:data:`MAX_BYTES`, :data:`MAX_ROWS`).

    Raises:
        InputFileError
    """
    p = Path(path)
    if not p.exists():
        raise InputFileError(p, "文件不存在")
    if not p.is_file():
        raise InputFileError(p, "不是普通文件")
    size = p.stat().st_size
    if size > MAX_BYTES:
        raise InputFileError(p, f"文件有 {size / 2**20:.0f} MB，超出 {MAX_BYTES // 2**20} MB 上限"
                                "（一年的名单不会这么大），未导入任何内容；请检查文件是否选对")
    best = []
    if p.suffix.lower() == ".csv":
        table = _from_grid(p, _csv_grid(p), best=best)
    else:
        book = open_workbook(p)
        table = None
        for sheet in book.sheetnames:
            if sheet == META_SHEET:
                continue
            table = _from_grid(p, book.rows(sheet), read_meta(book), best)
            if table:
                break
    if table is None:
        _need(p, best[0] if best else {})
        raise InputFileError(p, "找不到表头行")
    return table


def _csv_grid(p):
    grid = []
    for row in csv.reader(io.StringIO(csv_text(p))):
        grid.append([c if c.strip() else None for c in row])
        if len(grid) > MAX_ROWS + HEADER_SCAN_ROWS:
            raise InputFileError(p, f"名单超过 {MAX_ROWS:,} 行上限，未导入任何内容；请检查文件是否选对")
    return grid


def _need(p, keyed):
    missing = [HEADERS[k][0] for k in REQUIRED if k not in keyed]
    if missing:
        raise InputFileError(p, "缺少列：" + "、".join(missing))


# ---------------------------------------------------------------------- rows as results
class _Reader:
    """Category and level words read once per distinct value (a list repeats a handful)."""

    def __init__(self, campaign):
        self.c, self.cats, self.ranks = campaign, {}, {}

    def category(self, v):
        k = v if isinstance(v, (str, int, float, type(None))) else str(v)
        if k not in self.cats:
            try:
                self.cats[k] = (parse.category(v, self.c), None)
            except parse.Unreadable as e:
                self.cats[k] = (None, e)
        got, err = self.cats[k]
        if err is not None:
            raise err
        return got

    def rank(self, v):
        k = v if isinstance(v, (str, int, float, type(None))) else str(v)
        if k not in self.ranks:
            try:
                self.ranks[k] = (_rank(v, self.c), None)
            except parse.Unreadable as e:
                self.ranks[k] = (None, e)
        got, err = self.ranks[k]
        if err is not None:
            raise err
        return got


_CODE = re.compile("[0-9A-Z]{18}")


def _text(v):
    """:func:`verbatim`, quicker for the common case: text of 4 characters or more after
    trimming cannot be a blank spelling (parse.BLANK_WORDS), so it is only trimmed."""
    if type(v) is str:
        t = v.strip()
        if len(t.strip(" \u3000")) >= 4:
            return t
    return verbatim(v)


def _blank_row(values):
    for v in values:  # most rows: a long text decides at once
        if v is not None and (type(v) is not str or len(v) > 4 or _text(v) != ""):
            return False
    return True


def _results(table, campaign, res):
    """{(uscc, category, project): (org, level name, rank, row)}; every other row goes to
    ``res.skipped`` with its reason."""
    out, seen = {}, {}
    rd = _Reader(campaign)
    confirm = table.template == MATCH_TEMPLATE
    for r, item in table.rows:
        name = _text(item.get("org_name"))
        if confirm and parse.norm(verbatim(item.get("confirm"))) != "是":
            res.skipped.append((r, f"{name or '（无名称）'}：“确认”列不是“是”，未导入"))
            continue
        uscc = _text(item.get("uscc"))
        if not _CODE.fullmatch(uscc):
            uscc = parse.norm(uscc).upper().replace(" ", "")
        if not uscc:
            res.skipped.append((r, f"{name or '（无名称）'}：统一社会信用代码为空，未导入"))
            continue
        bad = uscc_problem(uscc)
        if bad:
            res.skipped.append((r, f"{name}：统一社会信用代码“{uscc}”{bad}，未导入"))
            continue
        try:
            cat = rd.category(item.get("category"))
            rank = rd.rank(item.get("level"))
        except parse.Unreadable as e:
            res.skipped.append((r, f"{name}：“{e.raw}”无法识别，{e.expected}，未导入"))
            continue
        if cat is None or rank is None:
            res.skipped.append((r, f"{name}：申请类别或等级为空，未导入"))
            continue
        project = _text(item.get("project_name"))
        key = (uscc, cat, project)
        if key in seen:
            res.skipped.append((r, f"{name}：与第 {seen[key]} 行重复，未重复导入"))
            continue
        seen[key] = r
        out[key] = (name, campaign.level_name(rank), rank, r)
    return out


# ---------------------------------------------------------------------- the command
def import_history(path, year, registry_path, campaign, who=None, replace=False):
    """Record the results of ``year`` listed in ``path`` — all of them or none.

    Args:
        path: 发布名单.xlsx (ours), a simple table (xlsx, csv), or the name-match sheet this
            function wrote for a list without codes.
        year: the campaign year the list is of.
        registry_path: the registry file (created when missing; the result says so).
        campaign: the Campaign whose categories and levels read the values.
        who: the person importing (default: the OS user).
        replace: the registry already holds ``year`` and the list changes it: take the list
            (new rows, changed levels, rows no longer listed withdrawn), each change audited.
    Returns:
        ImportResult (``match_sheet`` set when the list had no codes: nothing imported yet).
    Raises:
        InputFileError: unreadable file, missing columns, too big, or of another year (P7).
        NeedsReplace: the year is held and the list would change it, without ``replace``.
        RegistryError: the registry cannot be used (empty, foreign, locked, read-only, …).
    """
    p = Path(path)
    res = ImportResult(p, int(year), Path(registry_path))
    with _no_gc():  # bounded input, no cycles: the collector would only rescan the rows
        return _import(p, res, campaign, who, replace)


@contextlib.contextmanager
def _no_gc():
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _import(p, res, campaign, who, replace):
    table = _read(p)
    if table.stated and table.stated[0] != res.year:
        raise InputFileError(p, f"名单写明是 {table.stated[0]} 年（{table.stated[1]}），与 --year "
                                f"{res.year} 不符；未导入任何内容（规则 P7）。请确认年度后重新运行")
    if "uscc" not in table.keys:
        return _match_by_name(p, table, res, campaign)
    _need(p, table.keys)
    listed = _results(table, campaign, res)
    source = f"导入 {p.name}"
    user = current_user(who)
    with regmod.writing(res.registry, user, "saq history import", create=True) as reg:
        res.created = reg.created
        with reg.transaction():
            held = reg.held_results(res.year)
            new = [k for k in listed if k not in held]
            changed = [k for k in listed if k in held and held[k][1] != listed[k][1]]
            gone = [k for k in held if k not in listed]
            res.same = len(listed) - len(new) - len(changed)
            if held and (new or changed) and not replace:
                raise NeedsReplace(_replace_message(res, held, new, changed, gone),
                                   _change_lines(held, listed, new, changed, gone))
            put = set(new) | set(changed)
            reg.put_results(res.year, [(k[0], v[0], k[1], k[2], v[1], v[2])
                                       for k, v in listed.items() if k in put], source)
            lines, at = [], regmod.now()
            if replace and held:
                res.replaced = True
                reg.delete_results(res.year, gone)
                res.removed = len(gone)
                why = f"以 {p.name} 替换（--replace）"
                lines += [(at, user, res.year, "往年结果", None, f"{res.year} {listed[k][0]}",
                           "等级", None, listed[k][1], why) for k in new]
                lines += [(at, user, res.year, "往年结果", None, f"{res.year} {listed[k][0]}",
                           "等级", held[k][1], listed[k][1], why) for k in changed]
                lines += [(at, user, res.year, "往年结果", None, f"{res.year} {held[k][0]}",
                           "等级", held[k][1], None, why + "：不在新名单中，撤销") for k in gone]
            else:
                res.untouched = len(gone)
            res.new, res.changed = len(new), len(changed)
            lines.append((at, user, res.year, "往年结果", None, f"{res.year} 年结果", "导入", None,
                          f"新增 {res.new}，相同 {res.same}，变更 {res.changed}，撤销 {res.removed}，"
                          f"未导入 {len(res.skipped)}", source))
            reg.audit_many(lines)
    return res


def _replace_message(res, held, new, changed, gone):
    parts = [f"新增 {len(new)} 项"] if new else []
    if changed:
        parts.append(f"改变 {len(changed)} 项的等级")
    if gone:
        parts.append(f"撤销 {len(gone)} 项（档案中有、名单中没有）")
    return (f"评价档案已有 {res.year} 年结果 {len(held)} 项；按本名单将{'、'.join(parts)}（见上）。"
            f"确认以本名单为准，请加 --replace 重新运行；本次未导入任何内容（规则 P7）")


def _change_lines(held, listed, new, changed, gone):
    lines = []
    for k in changed:
        lines.append(f"  变更：{listed[k][0]}（{k[1]}{'·' + k[2] if k[2] else ''}）："
                     f"“{held[k][1]}” → “{listed[k][1]}”")
    for k in new:
        lines.append(f"  新增：{listed[k][0]}（{k[1]}{'·' + k[2] if k[2] else ''}）：“{listed[k][1]}”")
    for k in gone:
        lines.append(f"  撤销：{held[k][0]}（{k[1]}{'·' + k[2] if k[2] else ''}）：“{held[k][1]}”")
    if len(lines) > SHOW_CHANGES:
        lines = lines[:SHOW_CHANGES] + [f"  ……另有 {len(lines) - SHOW_CHANGES} 项"]
    return lines


def _rank(v, campaign):
    """A level rank from a level word; 不达标 (the no-level word) is 0."""
    if not parse.is_blank(v) and parse.norm(str(v)) == campaign.no_level:
        return 0
    text = parse.norm(str(v)) if isinstance(v, str) else v
    if isinstance(text, str):
        # "用户满意标杆（五星）级" and "用户满意标杆（五星）" read as their level name
        for lv in campaign.levels:
            if text.startswith(lv.name) and text[len(lv.name):].strip("()（）五四三星级 ") == "":
                return lv.rank
    return parse.level(v, campaign)


# ---------------------------------------------------------------------- lists without codes
def _name_key(name):
    """Names compared loosely: full/half width, brackets, spaces, 有限责任公司 ~ 有限公司."""
    k = parse.norm(name or "").replace(" ", "")
    for a, b in (("(", ""), (")", ""), ("（", ""), ("）", ""), ("有限责任公司", "有限公司")):
        k = k.replace(a, b)
    return k


def _match_by_name(p, table, res, campaign):
    """A list without 统一社会信用代码 (P7): match each name with the names the registry knows
    and write the sheet staff confirm; nothing is imported yet."""
    known = {}
    reg = regmod.open_if_exists(res.registry)
    if reg is not None:
        with reg:
            known = reg.known_names()
    exact = {parse.norm(n).replace(" ", ""): codes for n, codes in known.items()}
    loose = {}
    for n, codes in known.items():
        loose.setdefault(_name_key(n), {})[n] = codes
    out = []
    for r, item in table.rows:
        name = verbatim(item.get("org_name"))
        codes, how, confirm = set(), "档案中未找到此名称，请填写统一社会信用代码", ""
        if name:
            got = exact.get(parse.norm(name).replace(" ", ""))
            if got:
                codes, how = got, "名称完全一致"
            else:
                near = loose.get(_name_key(name), {})
                if near:
                    codes = set().union(*near.values())
                    how = "名称近似（档案中为“" + "”“".join(sorted(near)) + "”），请核对"
        if len(codes) > 1:
            how = f"档案中此名称有 {len(codes)} 个统一社会信用代码，请选定一个"
            code = ""
        else:
            code = next(iter(codes), "")
            confirm = "是" if how == "名称完全一致" else ""
        res.matched[how.split("（")[0].split("，")[0]] = \
            res.matched.get(how.split("（")[0].split("，")[0], 0) + 1
        out.append([r, name, verbatim(item.get("project_name")), verbatim(item.get("category")),
                    verbatim(item.get("level")), code, how, confirm])
    target = p.with_name(f"{p.stem}_名称匹配.xlsx")
    res.match_sheet = _write_match_sheet(target, res.year, p, out)
    return res


def _write_match_sheet(path, year, source, rows):
    wb = new_workbook()
    ws = wb.active
    ws.title = "名称匹配"
    title_cell(ws, "A1", f"{year}年名单（{source.name}）按名称匹配统一社会信用代码")
    put(ws, 2, 1, "名单没有统一社会信用代码：程序按名称在评价档案中查找。请核对黄色列（名称完全一致的已填“是”），"
                  f"然后运行 saq history import {path.name} --year {year}；“确认”不是“是”的行不导入。")
    heads = ["原行号", "企业名称", "申报项目名称", "申请类别", "等级", "统一社会信用代码", "匹配情况", "确认"]
    hr = 4
    for j, h in enumerate(heads, start=1):
        put(ws, hr, j, h)
    style_header(ws, hr, len(heads))
    fill = PatternFill("solid", fgColor=INPUT_FILL)
    for i, row in enumerate(rows, start=hr + 1):
        for j, v in enumerate(row, start=1):
            c = put(ws, i, j, v)
            if heads[j - 1] in ("统一社会信用代码", "确认"):
                c.fill = fill
                c.number_format = "@"
    last = hr + max(len(rows), 1)
    add_table(ws, "name_match", hr, 1, last, len(heads), "TableStyleLight9")
    dv = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
    dv.add(f"H{hr + 1}:H{last}")
    ws.add_data_validation(dv)
    set_widths(ws, [8, 36, 30, 9, 16, 22, 40, 8])
    write_meta(wb, {"template_id": MATCH_TEMPLATE, "campaign_year": year,
                    "source": source.name})
    lock = open_by(path)
    if lock is not None:
        raise InputFileError(path, f"文件正在被打开（有锁文件 {lock.name}），请关闭后重新运行")
    return save_atomic(wb, path)


def summary_lines(res):
    """Chinese lines for the terminal."""
    lines = []
    if res.created:
        lines.append(f"已新建评价档案：{res.registry}（此前没有评价档案）。")
    if res.match_sheet is not None:
        n = sum(res.matched.values())
        how = "，".join(f"{k} {v} 行" for k, v in res.matched.items())
        return lines + [f"名单没有统一社会信用代码：已按名称匹配 {n} 行（{how}），写入 {res.match_sheet}。",
                        "请核对其中的“统一社会信用代码”和“确认”列，然后运行 saq history import "
                        f"{res.match_sheet.name} --year {res.year}（尚未导入任何内容）。"]
    lines.append(f"{res.year} 年结果已导入评价档案 {res.registry}：新增 {res.new} 项，"
                 f"与档案相同 {res.same} 项，等级变更 {res.changed} 项"
                 + (f"，撤销 {res.removed} 项" if res.replaced else "") + "（已记入审计记录）。")
    if res.untouched:
        lines.append(f"档案中另有 {res.untouched} 项 {res.year} 年结果不在本名单中，保持不变"
                     "（以本名单为准请加 --replace）。")
    if res.skipped:
        lines.append(f"{len(res.skipped)} 行未导入：")
        lines += [f"  第 {r} 行：{why}" for r, why in res.skipped]
    return lines


# ---------------------------------------------------------------------- the audit
def verify(registry_path, who=None):
    """Walk the audit's hash chain (an older registry is migrated first, under the lock).

    Returns:
        (lines, exit code): 0 when every link holds, 1 at the first broken one.
    """
    with regmod.writing(registry_path, who, "saq history verify") as reg:
        n, broken = reg.verify_audit()
    p = Path(registry_path)
    if broken is None:
        return [f"审计记录完整：评价档案 {p} 共 {n} 条审计记录，每一条都与前一条相连（哈希链未断）。"], 0
    if broken["problem"] == "truncated":
        return [f"审计记录不完整：评价档案 {p} 记录过 {n + broken['missing']} 条审计记录，现只有 {n} 条，"
                f"最后 {broken['missing']} 条在程序之外被删除。"], 1
    if broken["problem"] == "head":
        return [f"审计记录不完整：评价档案 {p} 的最后一条审计记录（第 {n} 条）与档案记下的链尾不符，"
                "在程序之外被改动。"], 1
    return [f"审计记录在第 {broken['n']} 条断开（编号 {broken['id']}，{broken['at']}，{broken['who']}，"
            f"{broken['stage']}）：这一条或它之前的一条在程序之外被改动或删除。评价档案 {p}。"], 1


def export_audit(registry_path, out, year=None):
    """Every audit line (of ``year``, or all) into an .xlsx, oldest first, streamed.

    Returns:
        (Path, number of lines)
    """
    n = 0

    def write(tmp):
        nonlocal n
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("审计记录")
        ws.append(["编号", "时间", "操作人", "年度", "阶段", "申请编号", "对象", "事项", "原值",
                   "新值", "理由 / 说明", "哈希"])
        for row in reg.iter_audit(year):
            cells = []
            for v in row:
                v = clean(v)
                c = WriteOnlyCell(ws, value=v)
                if is_formula_like(v):
                    c.data_type, c.quotePrefix = "s", True
                cells.append(c)
            ws.append(cells)
            n += 1
        wb.save(tmp)

    with regmod.writing(registry_path, None, "saq history audit") as reg:
        path = write_atomic(out, write)
    return path, n
