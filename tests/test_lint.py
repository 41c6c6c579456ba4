"""The formula lint (issue 11): clean on every generated workbook, and failing on the
defects it exists for — first of all the two found in the 2023 workbooks: the logical
提醒数 of 附件3 (R6:R55 ``IF($T6,"",($BI6<>""))``, summed by 统计!B5) and conditional
formats that refer to other sheets by name."""

from __future__ import annotations

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation

from xl_addin.sheet.lint import lint_workbook

KINDS = ["application_template", "recommender_template", "application_filled",
         "application_filled_2", "recommender_filled", "demo_application", "demo_recommender",
         "master", "experts_template", "manifest", "expert_blank", "expert_filled", "results"]
RED = PatternFill("solid", bgColor="FFC7CE")


def rules(problems):
    return sorted({p.rule for p in problems})


@pytest.mark.parametrize("kind", KINDS)
def test_lint_passes_on_every_generated_workbook(generated, kind):
    problems = lint_workbook(generated[kind])
    assert problems == [], "\n".join(str(p) for p in problems[:20])


# ---------------------------------------------------------------------- today's defects
def _old_recommender(generated, tmp_path):
    """The generated 附件3 with its 提醒数 column as the 2023 generator wrote it."""
    wb = load_workbook(generated["recommender_template"])
    ws = wb["初审推荐意见表"]
    heads = {ws.cell(5, j).value: j for j in range(1, ws.max_column + 1)}
    col = ws.cell(5, heads["提醒数"]).column_letter
    assert col == "R"
    for r in range(6, 56):
        ws[f"{col}{r}"] = f'=IF($T{r},"",($BI{r}<>""))'
    p = tmp_path / "附件3_old.xlsx"
    wb.save(p)
    return p


def test_lint_fails_on_the_logical_warning_count_of_recommender(generated, tmp_path):
    problems = lint_workbook(_old_recommender(generated, tmp_path))
    summed = [p for p in problems if p.rule == "logical" and p.sheet == "统计" and p.cell == "B5"]
    assert len(summed) == 1, problems[:5]
    assert "R6:R55" in summed[0].message and "SUM" in summed[0].message


def test_lint_fails_on_a_3d_reference_in_a_conditional_format(generated, tmp_path):
    wb = load_workbook(generated["application_template"])
    ws = wb["申请表"]
    ws.conditional_formatting.add("B8", FormulaRule(formula=["'_calc'!$B$4<>\"\""], fill=RED))
    ws.conditional_formatting.add("B9", FormulaRule(formula=["'申请表'!$B$8=\"\""], fill=RED))
    p = tmp_path / "申请书_3d.xlsx"
    wb.save(p)
    cf = [p for p in lint_workbook(p) if p.rule == "cf-3d"]
    assert {(p.cell, p.message.split(" refers to ")[1].split()[0]) for p in cf} == \
        {("B8", "'_calc'!$B$4"), ("B9", "'申请表'!$B$8")}  # its own sheet by name, too


# ---------------------------------------------------------------------- each rule
def _book(tmp_path, build):
    wb = Workbook()
    ws = wb.active
    ws.title = "表"
    build(wb, ws)
    p = tmp_path / "t.xlsx"
    wb.save(p)
    return lint_workbook(p)


@pytest.mark.parametrize("formula, rule", [
    ("=TEXTJOIN(\",\",TRUE,A1:A3)", "function"),
    ("=IFS(A1=1,2,TRUE,3)", "function"),
    ("=_xlfn.CONCAT(A1,A2)", "function"),
    ("=TODAY()-A1", "volatile"),
    ("=OFFSET(A1,1,0)", "volatile"),
    ("=A1&(A2>0)", "logical"),                # TRUE&"" differs
    ("=ISNUMBER(A2>0)", "logical"),
    ("=(A2>0)=1", "logical"),                 # TRUE=1 only in LibreOffice
    ("=" + "+".join(["A1"] * 3000), "length"),
    ("=" + "ABS(" * 65 + "1" + ")" * 65, "nesting"),
    ('="' + "字" * 256 + '"', "literal"),
])
def test_lint_rule(tmp_path, formula, rule):
    def build(wb, ws):
        ws["A1"], ws["A2"] = 1, 2
        ws["B1"] = formula
    assert rule in rules(_book(tmp_path, build))


@pytest.mark.parametrize("formula", [
    "=SUM(A1:A3)&\"\"", "=N(A2>0)&\"\"", "=SUMPRODUCT(--(A1:A3>0))", "=IF(A1>0,\"是\",\"否\")",
    "=MID(\"abc\",2,1)", "=COUNTIF(A1:A3,\">0\")",
])
def test_lint_accepts(tmp_path, formula):
    def build(wb, ws):
        ws["A1"], ws["A2"], ws["A3"] = 1, 2, 3
        ws["B1"] = formula
    assert _book(tmp_path, build) == []


def test_lint_logical_through_a_chain_of_cells(tmp_path):
    def build(wb, ws):
        ws["A1"] = "x"
        ws["B1"] = '=IF(A1="","",(A1<>""))'  # text or logical: the 2023 pattern
        ws["C1"] = "=B1"
        ws["D1"] = "=SUM(C1:C1)"
    found = [p for p in _book(tmp_path, build) if p.rule == "logical"]
    assert [p.cell for p in found] == ["D1"]


def test_lint_validation_rules(tmp_path):
    def build(wb, ws):
        other = wb.create_sheet("_lists")
        other["A1"] = "是"
        dv = DataValidation(type="list", formula1="'_lists'!$A$1:$A$2")
        dv.add("A1")
        ws.add_data_validation(dv)
        long_list = DataValidation(type="list", formula1='"' + ",".join(["选项"] * 90) + '"')
        long_list.prompt = "说明" * 200
        long_list.add("A2")
        ws.add_data_validation(long_list)
    assert rules(_book(tmp_path, build)) == ["dv-3d", "dv-list", "dv-text"]


def test_lint_free_text_input_needs_text_format(tmp_path):
    def build(wb, ws):
        ws.protection.sheet = True
        for coord in ("A1", "A2", "A3"):
            ws[coord].protection = Protection(locked=False)
        ws["A2"].number_format = "@"
        dv = DataValidation(type="decimal", operator="between", formula1="0", formula2="9")
        dv.add("A3")
        ws.add_data_validation(dv)
    found = [(p.rule, p.cell) for p in _book(tmp_path, build)]
    assert found == [("text-format", "A1")]  # A2 is text, A3 takes numbers only


def test_lint_judges_each_cell_of_a_copied_formula(tmp_path):
    """A formula copied down a column is parsed once (its shape), yet each copy is judged on
    its own cells: only the rows whose summed range holds a logical are flagged, and each
    message names that row's own range (A$1:A3 grows with the row; $ parts stay)."""
    def build(wb, ws):
        for r in range(1, 7):
            ws[f"A{r}"] = f'=IF(C{r}="",0,(C{r}<>""))' if r == 3 else f"=C{r}*2"
            ws[f"B{r}"] = f"=SUM(A$1:A{r})"
            ws[f"C{r}"] = r
    found = [(p.cell, p.message.split(" may be")[0]) for p in _book(tmp_path, build)
             if p.rule == "logical"]
    assert found == [(f"B{r}", f"A1:A{r}") for r in range(3, 7)]
