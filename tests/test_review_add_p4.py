"""Issue 18 §5, RULES.md P4: `saq review add` replaces every missing valid score — an expert
who recused, never returned his workbook, or left the row incomplete or invalid — and never
picks an expert who still owes his own rows. Before, it handled only 回避, and the one
replacement went to the expert who had returned nothing."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from xl_addin import cli
from xl_addin.review import simulate as S
from xl_addin.review.collect import collect
from xl_addin.review.manifest import FILE_NAME, read_manifest
from xl_addin.rules.campaign import load

C = load(2023)
# Who may judge what makes the assignment certain: A01 (服务类) gets 甲 and 乙, A02 (产品类)
# 丙 and 丁; 戊 and 己 judge everything and start with nothing.
EXPERTS = [("甲", "甲大学", "", "服务类"), ("乙", "乙大学", "", "服务类"),
           ("丙", "丙大学", "", "产品类"), ("丁", "丁大学", "", "产品类"),
           ("戊", "戊大学", "", "全部"), ("己", "己大学", "", "全部")]


def _csv(path, header, rows):
    path.write_text("\n".join([",".join(header)] + [",".join(r) for r in rows]) + "\n",
                    encoding="utf-8")
    return path


def run(capsys, *argv):
    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return rc, out


@pytest.fixture()
def folder(tmp_path):
    master = _csv(tmp_path / "master.csv",
                  ["申请编号", "企业名称", "申请类别", "申请等级", "满意度（百分制得分）", "申报项目名称",
                   "问题代码"],
                  [["A01", "上海甲有限公司", "服务类", "用户满意级", "86", "甲服务", ""],
                   ["A02", "上海乙有限公司", "产品类", "用户满意级", "86", "乙产品 X1 型", ""]])
    experts = _csv(tmp_path / "experts.csv", ["姓名", "单位", "回避单位", "专业"],
                   [list(e) for e in EXPERTS])
    out = tmp_path / "评审"
    assert cli.main(["review", "assign", str(master), "--experts", str(experts),
                     "--per-application", "2", "-o", str(out)]) == 0
    man = read_manifest(out / FILE_NAME, C)
    assert man.by_app == {"A01": ("甲", "乙"), "A02": ("丙", "丁")}
    return out


def _fill(folder, man):
    """甲 never returns (his workbook stays as sent); 丙 types a value outside the allowed
    set; 乙 and 丁 score."""
    S.fill_workbook(folder / man.files["乙"], C, "乙")
    S.fill_workbook(folder / man.files["丁"], C, "丁")
    S.fill_workbook(folder / man.files["丙"], C, "丙", S.OUT_OF_RANGE)


def test_nothing_is_added_before_any_workbook_comes_back(folder, capsys):
    rc, out = run(capsys, "review", "add", folder)
    assert (rc, out) == (0, "尚未收到任何专家评分表：专家交回评分表后，再为回避、未交回或未完成的评分增派专家"
                            "（P4）。\n")
    assert read_manifest(folder / FILE_NAME, C).batches == []


def test_add_replaces_a_missing_workbook_and_an_invalid_row(folder, capsys):
    man = read_manifest(folder / FILE_NAME, C)
    _fill(folder, man)
    statuses = {(a.app.id, s.expert): s.status for a in collect(folder, C).review.apps
                for s in a.scores}
    assert statuses == {("A01", "甲"): "未填写", ("A01", "乙"): "已完成",
                        ("A02", "丙"): "有 1 项填写无效", ("A02", "丁"): "已完成"}
    rc, out = run(capsys, "review", "add", folder)
    assert rc == 0
    assert out.splitlines() == [
        f"已为 2 份申请增派 2 人次专家（缺少的评分：未交回 1 人次、未完成或填写无效 1 人次）；"
        f"2 份增派评分表已写入 {folder}。",
        "已有的评分表与已填的评分未改动。",
        "  戊：专家评分表_戊_增派1.xlsx（1 份申请）",
        "  己：专家评分表_己_增派1.xlsx（1 份申请）",
        "未增派给尚欠评分的专家（未交回或未完成自己的评分）：甲、丙。",
        f"分配表已更新：{folder / FILE_NAME}",
    ]
    after = read_manifest(folder / FILE_NAME, C)
    assert after.by_app == {"A01": ("甲", "乙", "戊"), "A02": ("丙", "丁", "己")}
    # The added experts score; the application is complete without 甲 and 丙.
    for b in after.batches:
        S.fill_workbook(folder / b.file, C, b.expert)
    res = collect(folder, C)
    assert [a.n for a in res.review.apps] == [2, 2] and not res.review.below_k


def test_a_second_run_waits_for_the_added_experts(folder, capsys):
    _fill(folder, read_manifest(folder / FILE_NAME, C))
    assert run(capsys, "review", "add", folder)[0] == 0
    before = sorted(p.name for p in folder.iterdir())
    rc, out = run(capsys, "review", "add", folder)
    assert (rc, out.splitlines()) == (0, [
        "没有需要增派专家的申请。",
        "2 份申请已增派的专家尚未交回评分表（如 申请 A01：戊），暂不另派；如需另派，请加 --again。"])
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing written


def test_again_replaces_the_added_experts_too_but_never_one_who_owes(folder, capsys):
    _fill(folder, read_manifest(folder / FILE_NAME, C))
    assert run(capsys, "review", "add", folder)[0] == 0
    # 戊 and 己 now owe their added rows too: nobody who may judge A01 is free.
    rc, out = run(capsys, "review", "add", folder, "--again", "--strict")
    assert rc == 1
    assert out.splitlines() == [
        "未增派给尚欠评分的专家（未交回或未完成自己的评分）：甲、戊、丙、己。",
        "注意：申请 A01 仍缺专家（已分配 3 位，需 4 位）：可评服务类的专家 1 人，另有 4 位专家尚欠评分未选，"
        "已分配过的专家不重复分配",
        "注意：申请 A02 仍缺专家（已分配 3 位，需 4 位）：可评产品类的专家 1 人，另有 4 位专家尚欠评分未选，"
        "已分配过的专家不重复分配",
    ]
    assert read_manifest(folder / FILE_NAME, C).by_app == {"A01": ("甲", "乙", "戊"),
                                                           "A02": ("丙", "丁", "己")}


def test_the_help_says_what_add_covers(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["review", "add", "--help"])
    out = capsys.readouterr().out
    assert e.value.code == 0
    assert "专家回避、未交回评分表、评分未完成或填写无效" in out and "--again" in out


def test_the_results_show_the_pending_rows(folder, capsys, tmp_path):
    """评审结果 “评分不足” lists the 待补评 applications (P4) with what to do."""
    _fill(folder, read_manifest(folder / FILE_NAME, C))
    out = tmp_path / "评审结果.xlsx"
    assert run(capsys, "review", "collect", folder, "-o", out)[0] == 0
    ws = load_workbook(out)["评分不足"]
    assert ws["A1"].value == "待补评：有效评分少于规定人数的申请（P4，含回避）"
    hr = next(r for r in range(1, 10) if ws.cell(r, 1).value == "申请编号")
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=hr + 1) if row[0].value]
    assert [(r[0], r[3], r[4], r[6], r[7]) for r in rows] == [
        ("A01", 1, 2, "甲（未填写）", "待专家完成评分；专家不能完成时用 saq review add 增派"),
        ("A02", 1, 2, "丙（有 1 项填写无效）", "待专家完成评分；专家不能完成时用 saq review add 增派")]
