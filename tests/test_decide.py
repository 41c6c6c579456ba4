"""RULES.md P (issue 18): the rules of deciding and publishing as data (the campaign's
[deciding] tables, validated on load, shown by `saq rules`) and the pure functions of
xl_addin/rules/decide.py that the stages call. The readable cases are in
tests/cases/deciding.yaml; here: the loader's refusals, reading findings back from text,
and properties of the blockers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xl_addin.errors import CampaignError
from xl_addin.rules import campaign as cm
from xl_addin.rules import decide as D

C = cm.load(2023)
SOURCE = cm.CAMPAIGN_DIR / "2023.toml"


def variant(tmp_path, old, new):
    text = SOURCE.read_text(encoding="utf-8")
    assert old in text, old
    p = tmp_path / "bad.toml"
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    return p


# (what is broken, old text, new text, the key named, what the message says)
BROKEN = [
    ("a P rule missing", "[deciding.P8]\n", "[deciding.X8]\n", "deciding.P8", "缺少"),
    ("a typo in a P rule", 'status = "待补评"', 'statuss = "待补评"', "deciding.P4.statuss",
     "未知的键"),
    ("P3 lists an error", 'confirm = ["E06", ', 'confirm = ["E15", "E06", ', "deciding.P3.confirm",
     "E15 不是本活动的提醒代码"),
    ("P2 names an unknown field", 'E20 = ["org_name", "uscc", "category"]',
     'E20 = ["org_name", "usc", "category"]', "deciding.P2.identity.E20", "应为字段键的列表"),
    ("P2 names a warning", "identity = { E16 = [],", "identity = { E21 = [], E16 = [],",
     "deciding.P2.identity.E21", "不是本活动的错误代码"),
    ("the 公示 text drops the phone (P9)", "联系电话：{P9.phone}，", "", "stages.publication_objection",
     "公示文字须写明联系电话"),
    ("a bad severity", 'reference = "通知 §四(六) 专家评审"\nseverity = "error"',
     'reference = "通知 §四(六) 专家评审"\nseverity = "refuse"', "deciding.P4.severity",
     "应为 error 或 warning"),
]


@pytest.mark.parametrize("what,old,new,key,says", BROKEN, ids=[b[0] for b in BROKEN])
def test_the_loader_refuses_a_broken_p_rule(tmp_path, what, old, new, key, says):
    p = variant(tmp_path, old, new)
    with pytest.raises(CampaignError) as e:
        cm.load(str(p))
    assert key in str(e.value) and says in str(e.value)


def test_every_p_rule_is_in_the_campaign_and_in_saq_rules():
    from xl_addin.rules.text import describe, markdown
    assert list(C.deciding) == [f"P{i}" for i in range(1, 10)]
    assert [r for r in C.rule_ids() if r.startswith("P")] == list(C.deciding)
    out = describe(C)
    part = out.split("八、评定与发布（P）")[1]
    assert [ln[:2] for ln in part.splitlines() if ln[:1] == "P"] == list(C.deciding)
    assert "E06、E12、E13、E24、E26、E30、E33、E35" in part
    md = markdown(C)
    assert "联系人 施卫丹，地址 泰安路 74 号，联系电话 18917180960，电子邮箱 shiweidan@saq.org.cn" in md
    assert "## 八、评定与发布（P）" in md
    assert f"| P1 | 拒绝 | {C.deciding['P1']['label']} | " in md


def test_2024_inherits_the_p_rules():
    c = cm.load(2024)
    assert c.deciding["P3"]["confirm"] == C.deciding["P3"]["confirm"]
    assert "2024" not in c.deciding["P9"]["phone"]


# (a line as the master's 问题说明 or the 分配表 shows it, code, severity, field)
LINES = [
    ("必填项“企业名称”未填写（E20）", "E20", "error", "org_name"),
    ("必填项“申请类别”未填写（E20）", "E20", "error", "category"),
    ("错误：必填项“统一社会信用代码”未填写（E20）", "E20", "error", "uscc"),
    ("推荐表的“申请等级”为 标杆级，申请书为 用户满意级（E26）", "E26", "warning", "level"),
    ("提醒：服务类项目名称“某某医院”像是机构名称，应填写专项服务名称（E13）", "E13", "warning", ""),
    ("缺少附件2-1 企业用户满意经营承诺书（盖章）（M01）", "M01", "error", ""),
    ("工程类别为“其他”，不在推荐工程范围内，请专家确认（E08）", "E08", "warning", ""),
    ("未填写工程类别，无法确认工程规模要求（E08）", "E08", "error", ""),
    ("汇总表记录 2 项错误", "", "error", ""),
]


@pytest.mark.parametrize("line,code,severity,fld", LINES)
def test_a_line_is_read_back_as_its_finding(line, code, severity, fld):
    f = D.finding_from_line(line, C)
    assert (f.code, f.severity, f.field) == (code, severity, fld)
    assert f.message == line.removeprefix("错误：").removeprefix("提醒：")


def test_blank_lines_are_no_findings():
    assert D.finding_from_line("  ", C) is None
    assert D.findings_from_text(None, C) == ()
    assert len(D.findings_from_text("\n满意度 65 低于 70 分（E15）\n\n", C)) == 1


def test_problems_run_together_on_one_line_are_cut_after_each_code():
    got = D.findings_from_text("满意度 65 低于 70 分（E15）必填项“企业名称”未填写（E20） 提醒：某某（E06）", C)
    assert [(f.code, f.severity, f.field) for f in got] == [
        ("E15", "error", ""), ("E20", "error", "org_name"), ("E06", "warning", "")]


def test_an_override_names_the_errors_it_overrules():
    found = D.findings_from_text("满意度 65 低于 70 分（E15）\n必填项“联系人”未填写（E20）\n"
                                 "手机号“123”不是 1 开头的 11 位数字（E21）", C)
    assert D.override_reason(C, found, " 已电话核实 ") == (
        "推翻自动排除（所推翻的问题：满意度 65 低于 70 分（E15）；必填项“联系人”未填写（E20））："
        "已电话核实")
    assert D.override_refusal(C, "审定!第 3 行 甲", found, "已电话核实") is None


def test_the_onsite_sentence_comes_from_the_rule():
    assert D.onsite_sentence(C) == (
        "现场评审（通知 §四(六)，L6）：申请等级为标杆级的企业类、服务类；申请等级为用户满意级的工程类，"
        "且仍可评等级（建议等级不是不达标）；名单中同时列出申请等级和建议等级。")


NAMES = st.sampled_from(["上海甲有限公司", "上海甲 有限公司", "上海乙有限公司"])
PROJECTS = st.sampled_from(["", "甲服务", "乙服务"])
USCCS = st.sampled_from(["", "91310000132211580C", "913100001322115807"])


@given(st.lists(st.tuples(NAMES, PROJECTS, USCCS), max_size=8))
def test_pairs_group_by_name_or_uscc_with_the_project(rows):
    """P6: two candidates are one pair exactly when linked by name+project or
    USCC+project (through others, too); every candidate is in at most one group."""
    cands = [D.Candidate(f"审定!第 {i} 行", n, p, u, 4) for i, (n, p, u) in enumerate(rows)]
    groups = D.same_pairs(cands)
    seen = [c for g in groups for c in g]
    assert len(seen) == len({id(c) for c in seen})
    where = {id(c): k for k, g in enumerate(groups) for c in g}

    def linked(a, b):
        same_p = a.project_name == b.project_name
        same_n = a.org_name.replace(" ", "") == b.org_name.replace(" ", "")
        return same_p and (same_n or (a.uscc and a.uscc == b.uscc))
    for i, a in enumerate(cands):
        for b in cands[i + 1:]:
            if linked(a, b):
                assert id(a) in where and where[id(a)] == where.get(id(b))
    if not groups:
        assert D.blockers(cands, C) == []
