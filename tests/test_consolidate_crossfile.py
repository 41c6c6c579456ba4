"""Cross-file rules (RULES.md E25, E26) and matching, on small generated folders."""

from __future__ import annotations

import random

import pytest
from master_sheets import sheet

from xl_addin import demo
from xl_addin.consolidate import consolidate
from xl_addin.rules.campaign import load
from xl_addin.rules.engine import evaluate_application

C = load(2023)
REC = "上海市测试行业协会"




def app(seed, category="服务类"):
    a = demo.application(C, random.Random(seed), seed, category, REC)
    return a


def row_of(a, **override):
    """The 附件3 row of ``a`` as its recommender would type it (labels), with changes."""
    r = demo.row_of(C, a, 1)
    labels = {f.key: f.label for f in C.fields["recommendation_row"]}
    for k, v in override.items():
        r[labels[k]] = v
    return r


def run(tmp_path, apps, rows):
    folder = tmp_path / "in"
    folder.mkdir()
    for k, a in enumerate(apps):
        demo.write_plain_application(folder / f"app{k}.xlsx",
                                {x: v for x, v in a.values.items() if v is not None},
                                a.respondents, C)
    for i, r in enumerate(rows, 1):
        r["序号"] = i
    demo.write_plain_recommender(folder / "rec.xlsx", {"recommender": REC}, rows, C)
    consolidate(folder, tmp_path / "m.xlsx", C, progress=False)
    return sheet(tmp_path / "m.xlsx", "汇总"), sheet(tmp_path / "m.xlsx", "问题清单")


# (what the recommender typed differently, the label E26 must name)
E26_CASES = [
    ({"org_name": "上海另一家有限公司"}, "申请组织名称"),
    ({"category": "产品类"}, "申请类别"),
    ({"level": "满意亮诺级"}, "申请等级"),
    ({"satisfaction": 70.5}, "满意度得分"),
    ({"self_score": 61}, "申请组织自评分"),
]


@pytest.mark.parametrize("override, label", E26_CASES, ids=[c[1] for c in E26_CASES])
def test_e26_names_the_field_that_disagrees(tmp_path, override, label):
    a = app(1)
    a.values["level"] = "用户满意级"
    rows, issues = run(tmp_path, [a], [row_of(a, **override)])
    assert len(rows) == 1 and rows[0]["匹配情况"] == "均有"  # still matched (by USCC)
    e26 = [i for i in issues if i["问题代码"] == "E26"]
    assert len(e26) == 1 and f"“{label}”" in e26[0]["问题说明"]
    assert e26[0]["来源文件"] == "rec.xlsx" and e26[0]["单元格"]


def test_matching_row_has_no_e26(tmp_path):
    a = app(2)
    rows, issues = run(tmp_path, [a], [row_of(a)])
    assert rows[0]["匹配情况"] == "均有"
    assert not [i for i in issues if i["问题代码"] in ("E25", "E26")]
    assert rows[0]["重算自评分"] == evaluate_application(a.values, C).rubric.total


def test_e25_two_rows_of_one_recommender(tmp_path):
    a, b = app(3), app(4)
    rows, issues = run(tmp_path, [b], [row_of(a), row_of(a), row_of(b)])
    dup = [r for r in rows if r["统一社会信用代码"] == a.values["uscc"]]
    assert len(dup) == 2 and all("E25" in r["问题代码"].split() for r in dup)
    assert all(r["匹配情况"] == "缺申请书" for r in dup)
    other = [r for r in rows if r["统一社会信用代码"] == b.values["uscc"]]
    assert "E25" not in other[0]["问题代码"]


def test_e25_two_workbooks_and_one_row(tmp_path):
    a = app(5)
    twin = app(5)
    twin.values["contact_name"] = "另一人"
    rows, issues = run(tmp_path, [a, twin], [row_of(a)])
    assert len(rows) == 2
    assert sorted(r["匹配情况"] for r in rows) == ["均有", "缺推荐表"]
    msgs = [i["问题说明"] for i in issues if i["问题代码"] == "E25"]
    assert len(msgs) == 2 and any("app1.xlsx" in m for m in msgs) and any("app0.xlsx" in m for m in msgs)


def test_same_organisation_two_categories_match_their_own_rows(tmp_path):
    a = app(6, "服务类")
    b = app(6, "产品类")
    b.values["uscc"] = a.values["uscc"]
    b.values["org_name"] = a.values["org_name"]
    rows, issues = run(tmp_path, [a, b], [row_of(b), row_of(a)])
    assert all(r["匹配情况"] == "均有" for r in rows) and len(rows) == 2
    assert not [i for i in issues if i["问题代码"] in ("E25", "E26")]


def test_unreadable_master_is_backed_up_not_lost(tmp_path):
    a = app(7)
    folder = tmp_path / "in"
    folder.mkdir()
    demo.write_plain_application(folder / "a.xlsx", {k: v for k, v in a.values.items() if v is not None},
                            a.respondents, C)
    master = tmp_path / "m.xlsx"
    master.write_bytes(b"not a workbook, but staff notes live here")
    res = consolidate(folder, master, C, progress=False)
    backups = list(tmp_path.glob("m_备份_*.xlsx"))
    assert len(backups) == 1 and backups[0].read_bytes().startswith(b"not a workbook")
    assert any("备份" in m for m in res.messages)


# ---------------------------------------------------------------------- E35 (issue 18, P6)
def _e35(rows):
    return [r for r in rows if "E35" in str(r["问题代码"]).split()]


def test_e35_same_organisation_and_project_under_two_usccs(tmp_path):
    a, b, c = app(11), app(12), app(13)
    b.values["org_name"] = a.values["org_name"]
    b.values["project_name"] = a.values["project_name"]
    c.values["project_name"] = a.values["project_name"]  # another organisation: no E35
    rows, issues = run(tmp_path, [a, b, c], [])
    flagged = _e35(rows)
    assert sorted(r["统一社会信用代码"] for r in flagged) == sorted([a.values["uscc"], b.values["uscc"]])
    msgs = sorted(i["问题说明"] for i in issues if i["问题代码"] == "E35")
    both = "、".join(sorted([a.values["uscc"], b.values["uscc"]],
                           key=[a.values["uscc"], b.values["uscc"]].index))
    assert msgs == sorted([
        f"与 {REC}/{other} 的申请组织名称和申报项目名称相同，但统一社会信用代码不同（{both}），"
        "请在审定中核实是否为同一组织（E35）" for other in ("app0.xlsx", "app1.xlsx")])
    assert all(i["类别"] == "提醒" and i["单元格"] for i in issues if i["问题代码"] == "E35")
    # a warning: the rows are still eligible (状态 仅有提醒 unless they have errors)
    assert all(r["错误数"] == 0 for r in flagged)


def test_e35_one_uscc_and_project_under_two_names(tmp_path):
    a, b = app(14), app(15, "产品类")
    b.values.update(uscc=a.values["uscc"], project_name=a.values["project_name"],
                    org_name=a.values["org_name"] + "（原名）")
    rows, issues = run(tmp_path, [a, b], [])
    assert len(_e35(rows)) == 2
    msgs = [i["问题说明"] for i in issues if i["问题代码"] == "E35"]
    names = f"{a.values['org_name']}、{a.values['org_name']}（原名）"
    assert (f"与 {REC}/app1.xlsx 的统一社会信用代码和申报项目名称相同，但申请组织名称不同（{names}），"
            "请在审定中核实（E35）") in msgs
    assert not [i for i in issues if i["问题代码"] == "E25"]  # two categories: not a duplicate


def test_e35_not_for_one_organisation_with_two_projects(tmp_path):
    a, b = app(16), app(16, "产品类")
    b.values.update(uscc=a.values["uscc"], org_name=a.values["org_name"])
    assert a.values["project_name"] != b.values["project_name"]
    rows, _ = run(tmp_path, [a, b], [])
    assert _e35(rows) == [] and len(rows) == 2


def test_the_master_lists_errors_before_warnings(tmp_path):
    """P2: the master's 问题说明 (and 问题代码) give every error first, then the warnings —
    here the engine finds E13 (warning) before E15 (error)."""
    a = app(17, "服务类")
    a.values.update(project_name="客户服务中心", satisfaction=65)
    rows, _ = run(tmp_path, [a], [])
    row = rows[0]
    lines = row["问题说明"].split("\n")
    codes = [line[-4:-1] for line in lines]
    assert {"E13", "E15"} <= set(codes)
    sev = [C.flags[code]["severity"] for code in codes]
    assert sev == sorted(sev)  # "error" < "warning": errors first
    assert row["问题代码"].split() == list(dict.fromkeys(codes))


def test_other_applications_are_named_by_recommender_and_file_name():
    """The E25/E35 lines are read in 合议 and 审定: a dossier's folders are left out of them
    (the line quoted the whole path, the dossier folder twice)."""
    from types import SimpleNamespace as NS

    from xl_addin.consolidate.crossfile import describe
    name = "申请书_上海中兴商业银行有限公司_中兴客户服务热线_121"
    rel = f"闵行区质量协会/{name}/{name}.xlsx"
    app_entry = NS(app=NS(file=NS(rel=rel)), recommender="闵行区质量协会")
    assert describe(app_entry) == f"闵行区质量协会/{name}.xlsx"
    assert describe(NS(app=NS(file=NS(rel="a\\b.xlsx")), recommender="")) == "b.xlsx"
    row_entry = NS(app=None, row=NS(file=NS(rel="闵行区质量协会/附件3_初审推荐意见表_闵行区质量协会.xlsx"),
                                    excel_row=9))
    assert describe(row_entry) == "附件3_初审推荐意见表_闵行区质量协会.xlsx 第 9 行"
