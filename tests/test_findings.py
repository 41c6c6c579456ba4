"""Issue 21: one Finding and one result type (rules/findings.py) for the engine, the verdict,
the dossier and the stages, and one status line."""

import pickle
from concurrent.futures import ProcessPoolExecutor
from dataclasses import FrozenInstanceError

import pytest

from xl_addin.rules import campaign as cm
from xl_addin.rules import decide, engine, materials
from xl_addin.rules.findings import Finding, Result, banner_text, code_counts, status_line

C = cm.load(2023)


class Found(Result):
    """The smallest result: a list of findings."""

    def __init__(self, *findings):
        self.findings = list(findings)


def err(code, field=""):
    return Finding(code=code, severity="error", message=f"问题（{code}）", field=field)


def warn(code, field=""):
    return Finding(code=code, severity="warning", message=f"请核实（{code}）", field=field)


# ---------------------------------------------------------------------- the status line
STATUS_CASES = [
    # (errors, warnings, line)
    (0, 0, "可以提交"),
    (2, 0, "有 2 项错误、0 项提醒"),
    (0, 3, "有 0 项错误、3 项提醒"),
    (1, 4, "有 1 项错误、4 项提醒"),
]


@pytest.mark.parametrize("errors, warnings, line", STATUS_CASES)
def test_the_status_line(errors, warnings, line):
    assert status_line(errors, warnings) == line


def test_the_status_line_with_other_words_when_clean_and_a_suffix():
    """The dossier's line (saq check 文件夹): its own words when clean, a suffix otherwise."""
    assert status_line(0, 0, ok="材料齐全、无问题，可以提交", suffix="（不齐）") == "材料齐全、无问题，可以提交"
    assert status_line(1, 0, ok="材料齐全、无问题，可以提交", suffix="（不齐）") == "有 1 项错误、0 项提醒（不齐）"


@pytest.mark.parametrize("findings, counts, status", [
    ((), (0, 0), "可以提交"),
    ((err("E15"), err("E16")), (2, 0), "有 2 项错误、0 项提醒"),
    ((warn("E33"),), (0, 1), "有 0 项错误、1 项提醒"),
    ((err("E15"), warn("E33"), warn("E08")), (1, 2), "有 1 项错误、2 项提醒"),
    # issue 20 §8: a code counts once — E20 on two fields is one item, as the sheet counts
    ((err("E20", "org_name"), err("E20", "uscc")), (1, 0), "有 1 项错误、0 项提醒"),
    ((err("E20", "org_name"), err("E20", "uscc"), warn("E32"), warn("E32")), (1, 1),
     "有 1 项错误、1 项提醒"),
])
def test_a_result_counts_codes_and_says_its_status(findings, counts, status):
    res = Found(*findings)
    assert (res.error_count, res.warning_count) == counts == code_counts(findings)
    assert res.status == status
    assert len(res.errors) + len(res.warnings) == len(findings)


def test_a_result_names_each_code_once_in_order():
    """The sheet's 问题代码 cell."""
    assert Found(err("E20", "a"), warn("E08"), err("E20", "b")).codes == "E20 E08"


def test_the_banner_reports_form_and_materials_apart():
    """RULES.md M (issue 13): 可以提交 only when the form and the materials are both clean."""
    d = C.dossier
    assert banner_text(d, 0, 0, 0) == "表格：无误；材料：齐全；可以提交"
    assert banner_text(d, 1, 2, 0) == "表格：1 项错误、2 项提醒；材料：齐全"
    assert banner_text(d, 0, 0, 3) == "表格：无误；材料：缺 3 项"
    assert materials.banner(1, 0, 1, C) == "表格：1 项错误、0 项提醒；材料：缺 1 项"


def test_the_sheet_status_formula_uses_the_same_words():
    from xl_addin.sheet.builder import Builder
    f = Builder(C, "recommender").status_expr("B4", "B5")
    assert f == 'IF(B4+B5=0,"可以提交","有 "&B4&" 项错误、"&B5&" 项提醒")'


# ---------------------------------------------------------------------- one Finding
def test_a_finding_is_built_by_keywords_and_says_its_severity():
    f = Finding(code="E15", severity="error", message="满意度 65 低于 70 分（E15）", field="satisfaction")
    assert (f.label, f.where) == ("", "")
    assert f.is_error and f.severity_label == "错误"
    w = Finding(code="M05", severity="warning", message="实践报告…（M05）", where="实践报告.docx")
    assert not w.is_error and w.severity_label == "提醒"


def test_a_finding_as_json_gives_the_keys_asked_for_in_order():
    f = Finding(code="E20", severity="error", message="必填（E20）", field="uscc", label="统一社会信用代码",
                where="申请表!B5")
    assert list(f.as_json("code", "message", "field", "where")) == ["code", "message", "field", "where"]
    assert f.as_json("code", "message") == {"code": "E20", "message": "必填（E20）"}
    assert f.as_json() == {"code": "E20", "severity": "error", "message": "必填（E20）", "field": "uscc",
                           "label": "统一社会信用代码", "where": "申请表!B5"}


def test_findings_are_frozen_equal_by_value_and_hashable():
    a, b = err("E20", "uscc"), err("E20", "uscc")
    assert a == b and hash(a) == hash(b) and len({a, b, err("E20", "org_name")}) == 2
    with pytest.raises(FrozenInstanceError):
        a.message = "别的"


def test_the_engine_the_materials_and_the_stages_give_the_one_type():
    ev = engine.evaluate_row({}, C)
    assert ev.flags and all(type(f) is Finding for f in ev.flags)
    assert type(materials.item_issue(C, materials.material_items(C)[0])) is Finding
    # RULES.md P2: the engine's E20 on 统一社会信用代码, read back from the master's 问题说明
    # for the stages, is the same finding (decide compares them)
    uscc = next(f for f in ev.flags if f.field == "uscc")
    assert decide.finding_from_line(uscc.message, C) == uscc
    assert decide.findings_of([uscc]) == (uscc,)


def _round_trip(ev):
    return ev


def test_an_evaluation_crosses_a_process_boundary_intact():
    """Consolidation reads in worker processes: the evaluation and its findings come back equal."""
    ev = engine.evaluate_recommender({"mobile": "12345", "email": "x"}, C)
    back = pickle.loads(pickle.dumps(ev))
    assert back.flags == ev.flags and back.status == ev.status
    with ProcessPoolExecutor(max_workers=1) as pool:
        got = pool.submit(_round_trip, ev).result()
    assert got.flags == ev.flags and type(got.flags[0]) is Finding and hash(got.flags[0]) == hash(ev.flags[0])
