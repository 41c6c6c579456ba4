"""The 材料清单 sheet of the 申请书 and the two-part banner (RULES.md M, issue 13).

Every material item of the campaign ([materials.Mxx]) is a row: its code, name, the
categories it applies to, the file kinds, the expected file name (a formula of 申请组织全称
+ 申报项目名称) and the applicant's answer 已提供 / 不适用 (defined name ``mat_<key>``).
``materials_missing`` counts the items not provided by the same rule as
:func:`xl_addin.rules.materials.checklist_missing`; the banner reports 表格 and 材料 separately and
says 可以提交 only when both are clean (:func:`xl_addin.rules.materials.banner`).
"""

from __future__ import annotations

import re

from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment
from openpyxl.worksheet.datavalidation import DataValidation

from xl_addin.forms import common as C
from xl_addin.rules.materials import checklist_name, material_items
from xl_addin.sheet.formulas import lit
from xl_addin.sheet.paper import page_setup

SHEET = "材料清单"
MISSING_NAME = "materials_missing"
BANNER_NAME = "banner"


def _concat(text, params):
    """A campaign sentence with {placeholders} as an Excel concatenation."""
    bits = []
    for piece in re.split(r"(\{\w+\})", text):
        if not piece:
            continue
        m = re.fullmatch(r"\{(\w+)\}", piece)
        bits.append(params[m.group(1)] if m else lit(piece))
    return "&".join(bits)


def banner_formula(c, errors, warnings, missing):
    """The banner (without "="): the same words as rules.materials.banner, from the campaign."""
    d = c.dossier
    form = (f"IF({errors}+{warnings}=0,{lit(d['banner_form_ok'])},"
            f"{_concat(d['banner_form_bad'], {'errors': errors, 'warnings': warnings})})")
    mat = (f"IF({missing}=0,{lit(d['banner_materials_ok'])},"
           f"{_concat(d['banner_materials_bad'], {'missing': missing})})")
    ready = f"IF({errors}+{warnings}+{missing}=0,{lit(d['banner_join'] + d['banner_ready'])},\"\")"
    return f"{form}&{lit(d['banner_join'])}&{mat}&{ready}"


def add_checklist(wb, c, resolve, lists):
    """Add the 材料清单 sheet.

    Args:
        wb: the application workbook being built.
        c: the Campaign.
        resolve: plan cell name -> absolute reference (forms.common.calc_sheet).
        lists: the _lists sheet (unused; validations carry their own list).
    Returns:
        absolute reference of ``materials_missing``.
    """
    ws = wb.create_sheet(SHEET, index=wb.sheetnames.index("结果"))
    d = c.dossier
    org, proj, cat = resolve("v:org_name"), resolve("v:project_name"), resolve("v:category")
    heads = ["序号", "材料", "适用类别", "文件类型", "电子版文件名（第三方测量材料须按此命名）",
             "是否提供", "状态", ""]
    widths = [7, 36, 12, 16, 48, 11, 16, 4]
    C.title_row(ws, f"{c.title} 申报材料清单（附件2 填报说明 二、三）", 14, "G", 26, alignment=None)
    ws["A2"] = (f"每项选择“{d['provided']}”（可选“{d['not_applicable']}”的仅限注明者）；"
                "“saq check 申报材料文件夹”按本清单核对文件。")
    ws["A2"].font = C.font(9.5, color="595959")
    ws.merge_cells("A2:G2")
    C.header_row(ws, 3, heads, widths)
    no_project = [x.name for x in c.categories if not x.project_required]
    proj_expr = (f"IF(OR({','.join(f'{cat}={lit(n)}' for n in no_project)}),\"\",{proj})"
                 if no_project else proj)
    r = 4
    yes_dv = DataValidation(type="list", formula1=f'"{d["provided"]}"', allow_blank=True)
    both_dv = DataValidation(type="list", formula1=f'"{d["provided"]},{d["not_applicable"]}"',
                             allow_blank=True)
    for dv in (yes_dv, both_dv):
        dv.showErrorMessage = True
        dv.errorTitle = "请从列表选择"
        dv.error = "请选择列表中的值"
        ws.add_data_validation(dv)
    first = r
    for n, it in enumerate(material_items(c), 1):
        ws.cell(r, 1, n)  # the code shows after the words when the item is missing (状态)
        ws.cell(r, 2, it["name"] + (f"（无则选“{d['not_applicable']}”）" if it["may_be_na"] else ""))
        ws.cell(r, 3, "、".join(it["categories"]) if it["categories"] else "全部")
        ws.cell(r, 4, "/".join("." + k for k in it["kinds"]))
        ws.cell(r, 5, f'=IF({org}="","（先填写企业名称）",{org}&{proj_expr}&{lit("-" + it["short"])}'
                      f'&{lit("." + it["kinds"][0])})')
        ans = ws.cell(r, 6)
        C.style_input(ans)
        ans.alignment = C.CENTER
        C.add_name(wb, checklist_name(it), ws, f"F{r}")
        (both_dv if it["may_be_na"] else yes_dv).add(f"F{r}")
        applies = ("TRUE" if not it["categories"] else
                   "OR(" + ",".join(f"{cat}={lit(x)}" for x in it["categories"]) + ")")
        a = f'TRIM(F{r}&"")'
        ok = f"{a}={lit(d['provided'])}"
        if it["may_be_na"]:
            ok = f"OR({ok},{a}={lit(d['not_applicable'])})"
        ws.cell(r, 8, f"=IF(AND({applies},NOT({ok})),1,0)")
        ws.cell(r, 7, f'=IF(NOT({applies}),"本类别不需要",IF(H{r}=1,"缺（{it["code"]}）","✓"))')
        for j in range(1, 8):
            cl = ws.cell(r, j)
            cl.border = C.BOX
            if j != 6:
                cl.alignment = C.WRAP if j in (2, 5) else C.CENTER
                cl.font = C.font(10)
        ws.row_dimensions[r].height = 30
        r += 1
    ws.cell(r, 5, "缺少项数")
    ws.cell(r, 5).alignment = Alignment(horizontal="right")
    ws.cell(r, 5).font = C.font(10.5, True)
    ws.cell(r, 7, f"=SUM(H{first}:H{r - 1})")
    ws.cell(r, 7).font = C.font(10.5, True)
    ws.cell(r, 7).alignment = C.CENTER
    C.add_name(wb, MISSING_NAME, ws, f"G{r}")
    ws.column_dimensions["H"].hidden = True
    for rr in range(first, r):
        ws.conditional_formatting.add(f"G{rr}", _red_rule(f"$H{rr}=1"))
    C.protect(ws)
    page_setup(ws, 7, r, (3, 3), landscape=True)
    ws.freeze_panes = "A4"
    return C.ref(ws, f"G{r}")


def _red_rule(cond):
    return FormulaRule(formula=[cond], fill=C.RED_FILL)
