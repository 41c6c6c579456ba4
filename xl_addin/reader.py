"""Read a filled workbook of ours (申请书, 附件3, 专家评分表) by defined names and tables.

Data is found only through workbook-level defined names and Excel table names (FIELDS.md),
never by cell address, so a user who moves a block or inserts rows breaks nothing. The file
is never trusted: macros are not loaded, XML goes through openpyxl with defusedxml
installed, and anything unreadable becomes :class:`InputFileError` with a Chinese reason.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputFileError, NotOurWorkbook

META_SHEET = "_meta"
KINDS = {"saq-application": "application", "saq-recommender": "recommender",
         "saq-expert": "expert"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

__all__ = ["Submission", "read_submission", "NotOurWorkbook", "KINDS", "META_SHEET"]


@dataclass
class Submission:
    """What a workbook holds, by name.

    ``values``: defined-name key -> raw cell value (computed names give the cached value,
    None when the file was never calculated). ``tables``: table name -> list of
    dict(column label -> raw value), one per non-empty data row. ``locations``: key ->
    "Sheet!A1" and (table name, index in that list) -> "Sheet!A5" (the row's first cell).
    """

    path: Path
    kind: str
    meta: dict
    values: dict = field(default_factory=dict)
    tables: dict = field(default_factory=dict)
    locations: dict = field(default_factory=dict)


def _blank(v):
    return v is None or (isinstance(v, str) and v.strip() == "")


def _open(p):
    if not p.exists():
        raise InputFileError(p, "文件不存在")
    if p.is_dir():
        raise InputFileError(p, "这是一个文件夹，不是工作簿")
    suffix = p.suffix.lower()
    with open(p, "rb") as f:
        head = f.read(8)
    if head == _OLE_MAGIC:
        if suffix in (".xls", ".et"):
            raise InputFileError(p, "不支持旧版 .xls/.et 格式，请用本活动的模板（.xlsx）填写")
        raise InputFileError(p, "文件已加密（设有打开密码），请取消密码后重新提交")
    if not zipfile.is_zipfile(p):
        raise InputFileError(p, "不是有效的 .xlsx 工作簿（可能已损坏或不是 Excel 文件）")
    from openpyxl import load_workbook
    try:
        # data_only: formula cells give their cached values; macros are never loaded.
        return load_workbook(p, data_only=True, keep_vba=False, keep_links=False)
    except Exception:  # noqa: BLE001 - any parser failure is the file's problem
        raise InputFileError(p, "无法读取工作簿（扩展名不是 .xlsx/.xlsm，或文件已损坏），"
                                "请另存为 .xlsx 后重试") from None


def _address(ws, cell):
    title = ws.title
    if not title.replace("_", "").isalnum():
        title = "'" + title.replace("'", "''") + "'"
    return f"{title}!{cell.coordinate}"


def read_submission(path):
    """Read one workbook made from our templates.

    Args:
        path: an .xlsx file.
    Returns:
        Submission
    Raises:
        NotOurWorkbook: no ``_meta`` sheet or an unknown template id.
        InputFileError: missing, encrypted, old format, damaged.
    """
    p = Path(path)
    wb = _open(p)
    try:
        meta = _read_meta(p, wb)
        sub = Submission(p, KINDS[meta["template_id"]], meta)
        _read_names(p, wb, sub)
        _read_tables(wb, sub)
        return sub
    finally:
        wb.close()


def _read_meta(p, wb):
    if META_SHEET not in wb.sheetnames:
        raise NotOurWorkbook(p, "不是本活动模板生成的工作簿（缺少 _meta 工作表），请使用官方模板填写")
    meta = {}
    for row in wb[META_SHEET].iter_rows(min_row=2, max_col=2, values_only=True):
        if row and not _blank(row[0]):
            meta[str(row[0]).strip()] = row[1] if len(row) > 1 else None
    tid = meta.get("template_id")
    if tid not in KINDS:
        raise NotOurWorkbook(p, f"未知的模板类型“{tid or '（空）'}”，请使用官方模板填写")
    return meta


def _read_names(p, wb, sub):
    for name, dn in wb.defined_names.items():
        if name.startswith("_xlnm"):
            continue
        try:
            dests = list(dn.destinations)
        except Exception:  # noqa: BLE001 - a name pointing at nothing (#REF!) is skipped
            continue
        if not dests:
            continue
        sheet, ref = dests[0]
        if sheet not in wb.sheetnames:
            continue
        ws = wb[sheet]
        try:
            cell = ws[ref.replace("$", "").split(":")[0]]
        except Exception:  # noqa: BLE001
            continue
        sub.values[name] = cell.value
        sub.locations[name] = _address(ws, cell)


def _read_tables(wb, sub):
    from openpyxl.utils.cell import range_boundaries
    for ws in wb.worksheets:
        for table in ws.tables.values():
            tname = table.displayName or table.name
            try:
                c1, r1, c2, r2 = range_boundaries(table.ref)
            except Exception:  # noqa: BLE001
                continue
            header_rows = table.headerRowCount if table.headerRowCount is not None else 1
            cols = list(range(c1, c2 + 1))
            headers = [ws.cell(r1, c).value for c in cols] if header_rows else \
                [col.name for col in table.tableColumns]
            headers = [("" if h is None else str(h).strip()) for h in headers]
            rows = []
            last = r2 - (table.totalsRowCount or 0)
            for r in range(r1 + (1 if header_rows else 0), last + 1):
                vals = {h: ws.cell(r, c).value for h, c in zip(headers, cols) if h}
                if all(_blank(v) for v in vals.values()):
                    continue
                sub.locations[(tname, len(rows))] = _address(ws, ws.cell(r, c1))
                rows.append(vals)
            sub.tables[tname] = rows
