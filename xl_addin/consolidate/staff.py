"""Staff columns (审定意见, 备注) of an existing master survive a re-run (issue 4 §6).

They are matched by application key and source file first, then by key alone when that
key is unique in the old master.
"""

from __future__ import annotations

from collections import defaultdict

from .columns import KEY_HEADER, SOURCE_HEADER, STAFF_COLUMNS


class StaffNotes:
    """What the staff wrote in the last master."""

    def __init__(self, rows=()):
        self.exact, by_key = {}, defaultdict(list)
        for key, source, notes in rows:
            self.exact[(key, source)] = notes
            by_key[key].append(notes)
        self.unique = {k: v[0] for k, v in by_key.items() if len(v) == 1}

    def __len__(self):
        return len(self.exact)

    def get(self, key, source):
        return self.exact.get((key, source)) or self.unique.get(key) or {}


def read_staff_notes(path):
    """Read 审定意见/备注 from the 汇总 sheet of an existing master.

    Args:
        path: the master (may not exist).
    Returns:
        StaffNotes (empty when there is no master).
    Raises:
        Exception: the master exists but cannot be read (the caller keeps a backup).
    """
    from python_calamine import CalamineWorkbook
    wb = CalamineWorkbook.from_path(str(path))
    try:
        grid = wb.get_sheet_by_name("汇总").to_python(skip_empty_area=False)
    finally:
        wb.close()
    if not grid:
        return StaffNotes()
    head = [str(h).strip() for h in grid[0]]
    need = (KEY_HEADER, SOURCE_HEADER) + STAFF_COLUMNS
    if not all(h in head for h in need):
        return StaffNotes()
    ik, isrc = head.index(KEY_HEADER), head.index(SOURCE_HEADER)
    istaff = [(h, head.index(h)) for h in STAFF_COLUMNS]
    rows = []
    for r in grid[1:]:
        notes = {h: r[j] for h, j in istaff if j < len(r) and r[j] not in ("", None)}
        if notes and ik < len(r):
            rows.append((str(r[ik]), str(r[isrc]) if isrc < len(r) else "", notes))
    return StaffNotes(rows)
