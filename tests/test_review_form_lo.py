"""The expert workbook's computed cells equal the Python engine's (issue 5), in LibreOffice.

One workbook with ~60 rows — plausible rows, edge values and typing mistakes entered
straight into the cells (as a paste would, bypassing validation) — is recalculated by a
headless LibreOffice in one run; each row's 专家总分, 评价结论, 可评等级, 缺项数, 无效项数 and
填写状态 must equal expert_table.read_row, which calls the engine.
"""

from __future__ import annotations

import random

import pytest
from lo_cases import below, limits
from lo_session import available, session

from xl_addin.review import simulate as S
from xl_addin.review.assign import Application, Expert
from xl_addin.review.expert_form import write_expert_workbook
from xl_addin.review.expert_table import TABLE, columns, read_row
from xl_addin.rules.campaign import load

C = load()
FIRST = C.rubric.parts[0].key  # N1 (choice words allowed)
SCORE = C.rubric.parts[1].key  # P1 (0, 1, 2)
RANGE = next(p.key for p in C.rubric.parts if p.kind == "range")  # R1 (0–2 by 0.5)
ERRS = next(p.key for p in C.rubric.parts if p.kind == "errors")  # A3 errors found
PEN = next(p.key for p in C.rubric.parts if p.kind == "penalty")  # M1 penalty

# (name, changes to a plausible full row); None as a value = clear the cell.
EDITS = [
    ("plausible", {}),
    ("veto", {C.rubric.veto_key: "是"}),
    ("penalty", {PEN: "是"}),
    ("no report use", {"report_use": None}),
    ("use 无", {"report_use": "无"}),
    ("use 管理", {"report_use": "管理"}),
    ("risk 有", {"risk": "有"}),
    ("risk blank", {"risk": None}),
    ("recused", {"recused": "是"}),
    ("score above max", {SCORE: 3}),
    ("score not allowed", {SCORE: 1.5}),
    ("range off step", {RANGE: 1.3}),
    ("range above", {RANGE: 2.5}),
    ("range step ok", {RANGE: 1.5}),
    ("errors 2", {ERRS: 2}),
    ("errors negative", {ERRS: -1}),
    ("errors fraction", {ERRS: 0.5}),
    ("errors blank", {ERRS: None}),
    ("text in a score", {SCORE: "二"}),
    ("blank word", {SCORE: "-"}),
    ("N1 word", {FIRST: "非常明确"}),
    ("use typo", {"report_use": "战咯"}),
    ("three blanks", {SCORE: None, RANGE: None, FIRST: None}),
    ("veto variant", {C.rubric.veto_key: "不是"}),  # 是/否 variants: sheet = engine
    # issue 14: the light row reads parts by range; the same typing mistakes must agree
    ("text in a range part", {RANGE: "两分"}),
    ("blank word in a range part", {RANGE: "无数据"}),
    ("spaces only", {SCORE: "   "}),
    ("errors as text", {ERRS: "一个"}),
    ("errors blank word", {ERRS: "/"}),
    ("penalty variant", {PEN: "√"}),
    ("penalty unreadable", {PEN: "也许"}),
    ("veto unreadable", {C.rubric.veto_key: "不清楚"}),
    ("risk variant", {"risk": "不存在"}),
    ("risk unreadable", {"risk": "可能"}),
    ("N1 number not allowed", {FIRST: 4}),
    ("N1 word and a bad score", {FIRST: "基本明确", SCORE: 7}),
    ("negative score", {SCORE: -1}),
    # issue 20 §5: the form accepts exactly what collect accepts (rubric.score_spellings)
    ("full-width digit", {FIRST: "５"}),
    ("full-width half", {RANGE: "１．５"}),
    ("score with 分", {SCORE: "2分"}),
    ("full-width with 分", {SCORE: "１分"}),
    ("ideographic spaces", {SCORE: "\u30001\u3000"}),
    ("full-width blank word", {SCORE: "－"}),
    ("ideographic space only", {SCORE: "\u3000"}),
    ("1.0 typed as text", {SCORE: "1.0"}),
    ("errors full width", {ERRS: "１"}),
    ("full-width out of range", {SCORE: "３"}),
    ("use choice with spaces", {"report_use": " 战 略\u3000"}),
    ("use sentence", {"report_use": "用于战略规划"}),
    ("use form words", {"report_use": "用于管理活动"}),
    ("risk full width", {"risk": "Ｎ"}),
]


def _rows():
    rnd = random.Random(5)
    cats = [c.name for c in C.categories]
    sats = [v for m in limits(C).sat for v in (below(m), m)] + [92.5]  # each side of each limit
    cases = []
    for i, (_name, edit) in enumerate(EDITS):
        app_id = f"T{i:03d}"
        row = S.expert_row(C, app_id, "甲", seed=i)
        row.update(edit)
        cases.append((app_id, rnd.choice(cats), rnd.choice(sats), row))
    for i in range(30):  # plausible rows over the whole range of quality
        app_id = f"R{i:03d}"
        cases.append((app_id, cats[i % 4], sats[i % len(sats)],
                      S.expert_row(C, app_id, "乙", seed=100 + i, noise=0.3)))
    cases.append(("E000", "企业类", 90, {}))  # untouched row
    return cases


@pytest.mark.libreoffice
def test_expert_workbook_equals_engine(tmp_path):
    if not available():
        pytest.skip("LibreOffice with python3-uno is not installed")
    from openpyxl import load_workbook
    from openpyxl.utils import range_boundaries
    cases = _rows()
    apps = [Application(i, f"组织{i}", cat, level=5, satisfaction=q) for i, cat, q, _ in cases]
    src = write_expert_workbook(tmp_path / "in" / "e.xlsx", C, Expert("甲"), apps)
    wb = load_workbook(src)
    ws = wb.worksheets[0]
    c1, r1, _, _ = range_boundaries(ws.tables[TABLE].ref)
    cols = columns(C)
    col = {c.key: c1 + j for j, c in enumerate(cols)}
    for n, (_, _, _, row) in enumerate(cases, start=r1 + 1):
        for key, v in row.items():
            ws.cell(n, col[key], v)
    wb.save(src)
    # LibreOffice's recalculation, read over UNO (the worker's session, tests/lo_session.py)
    rec = session().recalculate(src)
    sheet = ws.title

    def value(row, column):
        v = rec.value(sheet, row, column)
        return None if v == "" else v
    mismatches = []
    for n, (app_id, _, _, row) in enumerate(cases, start=r1 + 1):
        got_row = {c.key: value(n, col[c.key]) for c in cols}
        st = read_row(C, got_row)
        want = (st.total, st.conclusion, C.level_name(st.achievable), st.missing, st.invalid,
                st.status)
        if not row:  # an untouched row shows nothing computed
            want = (None, None, None) + want[3:]
        got = tuple(got_row[k] for k in ("total", "conclusion", "achievable", "missing",
                                         "invalid", "status"))
        got = tuple(None if g == "" else g for g in got)
        if got != want:
            mismatches.append((app_id, got, want))
    assert not mismatches, mismatches
    prog = value(2, 4)  # D2
    n_done = sum(1 for n in range(len(cases))
                 if value(r1 + 1 + n, col["status"]) == "已完成")
    n_rec = sum(1 for _, _, _, row in cases if row.get("recused") == "是")
    assert prog == f"{n_done} / {len(cases) - n_rec}"
