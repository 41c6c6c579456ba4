"""`saq history import`: load an earlier year's published results into the registry.

Reads the 发布名单.xlsx that `saq stage publish` writes, or any simple table (xlsx or csv)
whose header row holds 统一社会信用代码, 企业名称 (or 组织名称 / 申请组织名称), 申请类别,
申报项目名称 (optional: 企业类 has none) and 等级 (or 评价等级). The header row may sit under
a title. Every row is either recorded or listed with a Chinese reason; nothing is dropped.
Names are kept exactly as written (only leading and trailing spaces go).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from xl_addin.errors import InputFileError
from xl_addin.registry import Registry, current_user
from xl_addin.review.sheets import verbatim
from xl_addin.rules import parse
from xl_addin.rules.uscc import problem as uscc_problem

HEADERS = {
    "uscc": ("统一社会信用代码",),
    "org_name": ("企业名称", "组织名称", "申请组织名称", "单位名称"),
    "category": ("申请类别", "类别"),
    "project_name": ("申报项目名称", "项目名称"),
    "level": ("等级", "评价等级", "评价结果", "审定等级"),
}
REQUIRED = ("uscc", "org_name", "category", "level")


@dataclass
class ImportResult:
    path: Path
    year: int
    registry: Path
    new: int = 0
    same: int = 0
    changed: int = 0
    skipped: list = field(default_factory=list)  # (row, Chinese reason)


def _rows(path):
    """(row number, {key: value}) of the table, found by its headers."""
    p = Path(path)
    if p.suffix.lower() == ".csv":
        from xl_addin.tables import read_table
        headers, rows = read_table(p)
        keyed = _header_map(headers)
        _need(p, keyed)
        return [(i, {k: r.get(h) for k, h in keyed.items()}) for i, r in enumerate(rows, start=2)]
    from xl_addin.review.xlread import META_SHEET, open_workbook
    book = open_workbook(p)
    for sheet in book.sheetnames:
        if sheet == META_SHEET:
            continue
        grid = book.rows(sheet)
        for r, row in enumerate(grid[:30], start=1):
            keyed = _header_map(row)
            if all(k in keyed for k in REQUIRED):
                cols = {k: list(row).index(h) for k, h in keyed.items()}
                out = []
                for n, vals in enumerate(grid[r:], start=r + 1):
                    item = {k: (vals[j] if j < len(vals) else None) for k, j in cols.items()}
                    if all(parse.is_blank(v) for v in item.values()):
                        continue
                    out.append((n, item))
                return out
    raise InputFileError(p, "找不到含“统一社会信用代码、企业名称、申请类别、等级”的表头")


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


def _need(p, keyed):
    missing = [HEADERS[k][0] for k in REQUIRED if k not in keyed]
    if missing:
        raise InputFileError(p, "缺少列：" + "、".join(missing))


def import_history(path, year, registry_path, campaign, who=None):
    """Record the results of ``year`` listed in ``path``.

    Args:
        path: 发布名单.xlsx (ours) or a simple table (xlsx, csv).
        year: the campaign year the list is of.
        registry_path: the registry file (created when missing).
        campaign: the Campaign whose categories and levels read the values.
        who: the person importing (default: the OS user).
    Returns:
        ImportResult
    Raises:
        InputFileError: unreadable file or missing columns.
    """
    res = ImportResult(Path(path), int(year), Path(registry_path))
    rows = _rows(path)
    source = f"导入 {Path(path).name}"
    seen = {}
    with Registry(registry_path) as reg:
        for r, item in rows:
            uscc = parse.norm(verbatim(item.get("uscc"))).upper().replace(" ", "")
            name = verbatim(item.get("org_name"))
            if not uscc:
                res.skipped.append((r, f"{name or '（无名称）'}：统一社会信用代码为空，未导入"))
                continue
            bad = uscc_problem(uscc)
            if bad:
                res.skipped.append((r, f"{name}：统一社会信用代码“{uscc}”{bad}，未导入"))
                continue
            try:
                cat = parse.category(item.get("category"), campaign)
                rank = _rank(item.get("level"), campaign)
            except parse.Unreadable as e:
                res.skipped.append((r, f"{name}：“{e.raw}”无法识别，{e.expected}，未导入"))
                continue
            if cat is None or rank is None:
                res.skipped.append((r, f"{name}：申请类别或等级为空，未导入"))
                continue
            project = verbatim(item.get("project_name"))
            key = (uscc, cat, project)
            if key in seen:
                res.skipped.append((r, f"{name}：与第 {seen[key]} 行重复，未重复导入"))
                continue
            seen[key] = r
            state = reg.record_result(res.year, uscc, name, cat, project,
                                      campaign.level_name(rank), rank, source,
                                      current_user(who))
            setattr(res, state, getattr(res, state) + 1)
        reg.audit("往年结果", None, f"{res.year} 年结果", "导入",
                  None, f"新增 {res.new}，相同 {res.same}，变更 {res.changed}，未导入 "
                  f"{len(res.skipped)}", source, current_user(who), res.year)
    return res


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


def summary_lines(res):
    """Chinese lines for the terminal."""
    lines = [f"{res.year} 年结果已导入评价档案 {res.registry}：新增 {res.new} 项，"
             f"与档案相同 {res.same} 项，等级变更 {res.changed} 项（已记入审计记录）。"]
    if res.skipped:
        lines.append(f"{len(res.skipped)} 行未导入：")
        lines += [f"  第 {r} 行：{why}" for r, why in res.skipped]
    return lines
