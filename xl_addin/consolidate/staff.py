"""Staff columns (审定意见, 备注) of an existing master survive a re-run (issue 4 §6,
issue 12 §4): the staff's work is precious.

Notes are matched by application key and source file; then by key alone when that key is
unique; then by source file (and row) when the applicant corrected the key (a new project
name). A note that matches nothing is kept in the 未匹配备注 sheet, never dropped, and is
offered again on the next run. A master whose key columns were deleted or renamed is
refused (:class:`StaffColumnsMissing`): the caller leaves it unchanged.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from python_calamine import CalamineWorkbook

from xl_addin.consolidate.columns import KEY_HEADER, SOURCE_HEADER, STAFF_COLUMNS
from xl_addin.errors import SaqError
from xl_addin.read import workbook as fastread
from xl_addin.tables import clean_text

SOURCE_ROW_HEADER = "来源行"
UNMATCHED_SHEET = "未匹配备注"
# 未匹配备注: what a person needs to put a note back by hand.
UNMATCHED_HEADERS = ("原位置", "企业名称", "申报项目名称", KEY_HEADER, SOURCE_HEADER,
                     SOURCE_ROW_HEADER) + STAFF_COLUMNS
_SHOWN = {"企业名称": "org", "申报项目名称": "project"}


class StaffColumnsMissing(SaqError):
    """The master's 申请键 or 来源文件 column is gone: its notes cannot be matched."""

    exit_code = 1

    def __init__(self, path, missing, backup=None):
        cols = "、".join(f"“{m}”" for m in missing)
        kept = f"（已备份为 {backup}）" if backup else ""
        super().__init__(
            f"汇总表 {path} 的“汇总”工作表缺少 {cols} 列，无法把“审定意见”“备注”对应到申请；"
            f"为免丢失工作人员填写的内容，本次没有改动汇总表{kept}。"
            "请恢复这些列的原名（或从备份中复制）后重新运行。")


@dataclass
class Note:
    """One row of staff notes from the last master."""

    key: str
    source: str
    row: str
    notes: dict  # 审定意见 / 备注 -> text
    origin: str  # where it was: "汇总 第 5 行"
    org: str = ""
    project: str = ""
    used: bool = field(default=False, compare=False)


class StaffNotes:
    """What the staff wrote in the last master, matched once each to the new entries."""

    def __init__(self, notes=(), messages=()):
        self.notes = list(notes)
        self.messages = list(messages)  # sanitised text (names the field and row)

    def __len__(self):
        return len(self.notes)

    def match(self, wanted):
        """Give each wanted entry its notes, each note to one entry at most.

        Args:
            wanted: list of (key, source file, source row) of the new entries.
        Returns:
            list of dict (审定意见/备注 -> text), one per wanted entry ({} when none).
        """
        out = [{} for _ in wanted]
        exact, by_key, by_source = {}, defaultdict(list), defaultdict(list)
        for n in self.notes:
            exact.setdefault((n.key, n.source), n)
            by_key[n.key].append(n)
            by_source[n.source].append(n)

        def take(i, n):
            n.used, out[i] = True, dict(n.notes)

        rest = []
        for i, (key, source, _row) in enumerate(wanted):  # 1. same key, same file
            n = exact.get((key, source))
            if n is not None and not n.used:
                take(i, n)
            else:
                rest.append(i)
        later = []
        for i in rest:  # 2. the key alone, when only one note has it
            key = wanted[i][0]
            cands = [n for n in by_key.get(key, ()) if not n.used]
            if key and len(by_key[key]) == 1 and cands:
                take(i, cands[0])
            else:
                later.append(i)
        for i in later:  # 3. the same file (and row): the applicant changed the key
            _key, source, row = wanted[i]
            cands = [n for n in by_source.get(source, ()) if not n.used]
            same_row = [n for n in cands if str(row) and n.row == str(row)]
            if len(same_row) == 1:
                take(i, same_row[0])
            elif len(cands) == 1 and len(by_source[source]) == 1:
                take(i, cands[0])
        return out

    def unmatched(self):
        """Notes no entry took (listed in 未匹配备注)."""
        return [n for n in self.notes if not n.used]


def _text(v):
    if v is None or v == "":
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v)


def _grid(wb, name):
    try:
        return wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except Exception:  # noqa: BLE001 - a sheet that is not there
        return None


def read_staff_notes(path, backup=None):
    """Read 审定意见/备注 from the 汇总 (and 未匹配备注) sheets of an existing master.

    Args:
        path: the master.
        backup: the backup just made (named in the message when refusing).
    Returns:
        StaffNotes
    Raises:
        StaffColumnsMissing: notes exist but 申请键 or 来源文件 is gone.
        Exception: the master cannot be read at all (the caller keeps a backup).
    """
    fastread.preflight(path)  # a master edited by hand is bounded like any submitted file
    wb = CalamineWorkbook.from_path(str(path))
    try:
        grid = _grid(wb, "汇总")
        old = _grid(wb, UNMATCHED_SHEET)
    finally:
        wb.close()
    if grid is None:
        raise ValueError("no 汇总 sheet")
    notes, messages = [], []
    if grid:
        notes += _rows(path, grid, "汇总", messages, refuse=True, backup=backup)
    if old:
        notes += _rows(path, old, UNMATCHED_SHEET, messages, refuse=False, backup=backup)
    return StaffNotes(notes, messages)


def _rows(path, grid, sheet, messages, refuse, backup):
    head = [str(h).strip() for h in grid[0]]
    staff = [(h, head.index(h)) for h in STAFF_COLUMNS if h in head]
    has_notes = any(j < len(r) and _text(r[j]).strip() for r in grid[1:] for _h, j in staff)
    missing = [h for h in (KEY_HEADER, SOURCE_HEADER) if h not in head]
    if refuse and (missing or len(staff) < len(STAFF_COLUMNS)):
        # A renamed 备注 column hides its notes from us too: any data row means refuse.
        gone = missing + [h for h in STAFF_COLUMNS if h not in head]
        if any(_text(v).strip() for r in grid[1:] for v in r):
            raise StaffColumnsMissing(path, gone, backup)
    if not has_notes:
        return []
    ik = head.index(KEY_HEADER) if KEY_HEADER in head else None
    isrc = head.index(SOURCE_HEADER) if SOURCE_HEADER in head else None
    irow = head.index(SOURCE_ROW_HEADER) if SOURCE_ROW_HEADER in head else None
    shown = {k: head.index(h) for h, k in _SHOWN.items() if h in head}

    def cell(r, j):
        return _text(r[j]) if j is not None and j < len(r) else ""

    out = []
    for i, r in enumerate(grid[1:], start=2):
        notes = {}
        for h, j in staff:
            v = cell(r, j)
            if not v.strip():
                continue
            v, changed = clean_text(v)
            if changed:
                messages.append(f"原汇总表“{sheet}”第 {i} 行“{h}”含表格不能保存的控制字符，"
                                "已改为可见的转义形式（如 \\x0B）")
            notes[h] = v
        if notes:
            out.append(Note(cell(r, ik), cell(r, isrc), cell(r, irow), notes, f"{sheet} 第 {i} 行",
                            clean_text(cell(r, shown.get("org")))[0],
                            clean_text(cell(r, shown.get("project")))[0]))
    return out
