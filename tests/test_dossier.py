"""`saq check 申报材料文件夹` (RULES.md M): the verdict on a whole dossier, as a user and a
machine meet it. The folders are made from the demo (xl_addin.demo.dossier); the per-rule
tables are in tests/cases/dossier.yaml."""

import json
import shutil

import pytest

from xl_addin.cli import main
from xl_addin.demo.dossier import report_lengths, write_dossier, write_report
from xl_addin.read.dossier import classify, count_hanzi
from xl_addin.rules.campaign import load
from xl_addin.rules.materials import material_items


@pytest.fixture(scope="module")
def complete(tmp_path_factory):
    d = tmp_path_factory.mktemp("dossier") / "申报材料"
    made = write_dossier(d, "服务类", campaign=load())
    return d, made


def run_json(capsys, folder):
    code = main(["check", str(folder), "--json"])
    out = capsys.readouterr()
    assert out.err == ""
    return code, json.loads(out.out)


def test_complete_dossier_has_no_finding(complete, capsys):
    folder, made = complete
    code, v = run_json(capsys, folder)
    assert code == 0
    assert v["kind"] == "dossier" and v["errors"] == [] and v["warnings"] == []
    assert v["complete"] is True and v["workbook"] == "申请书.xlsx"
    assert v["selfeval_total"] > 0 and v["achievable_level"] and v["proposed_level"]
    assert tuple(v["report_sections"].values()) == report_lengths(load())


def test_removed_misnamed_and_overlong_items_give_exactly_their_codes(complete, capsys, tmp_path):
    src, made = complete
    folder = tmp_path / "申报材料"
    shutil.copytree(src, folder)
    files = {k: folder / p.name for k, p in made["files"].items()}
    files["plan"].unlink()                                   # M10: 测量方案 removed
    files["license"].unlink()                                # M06: 营业执照 removed
    files["questionnaire"].rename(folder / "调查问卷.pdf")    # M11: not named by org+project
    secs = load().materials["M05"]["sections"]
    ok = report_lengths(load())
    long3, long4 = secs[2]["max"] + 1, secs[3]["max"] + 100
    write_report(files["report"], (ok[0], ok[1], long3, long4), campaign=load())  # M05 twice: 案例 and 下一阶段
    code, v = run_json(capsys, folder)
    assert code == 1
    assert sorted(e["code"] for e in v["errors"]) == ["M06", "M10"]
    assert sorted(w["code"] for w in v["warnings"]) == ["M05", "M05", "M11"]
    msgs = [x["message"] for x in v["errors"] + v["warnings"]]
    assert "缺少第三方测量材料“测量方案”（M10）" in msgs
    assert "缺少营业执照复印件（M06）" in msgs
    assert f"实践报告“{secs[2]['title']}”{long3} 字，超过 {secs[2]['max']} 字（M05）" in msgs
    assert f"实践报告“{secs[3]['title']}”{long4} 字，超过 {secs[3]['max']} 字（M05）" in msgs
    org, proj = made["values"]["org_name"], made["values"]["project_name"]
    assert f"“调查问卷.pdf”未按“申请组织全称+申报项目名称”命名，应为“{org}{proj}-调查问卷.pdf”（M11）" in msgs
    assert v["complete"] is False


def test_text_verdict_and_exit_code(complete, capsys, tmp_path):
    src, made = complete
    folder = tmp_path / "x"
    shutil.copytree(src, folder)
    made_files = {k: folder / p.name for k, p in made["files"].items()}
    made_files["pledge"].unlink()
    code = main(["check", str(folder)])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert "  [M01 错误] 缺少附件2-1 企业用户满意经营承诺书（盖章）（M01）" in out
    assert out[-1] == "有 1 项错误、0 项提醒（申报材料不齐或不符）"


def test_missing_folder_is_one_message(capsys, tmp_path):
    code = main(["check", str(tmp_path / "无此文件夹")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("错误：")


def test_every_item_is_recognised_by_its_own_name():
    c = load()
    for it in material_items(c):
        assert classify(f"上海某公司某项目-{it['short']}.{it['kinds'][0]}", c)["key"] == it["key"]
    assert classify("申请书_上海某公司.xlsx", c) is None


def test_hanzi_count_ignores_punctuation_digits_and_latin():
    assert count_hanzi("用户满意，2023 年 ABC。") == 5


def test_recommender_prefill_rows_from_the_applications(complete, capsys, tmp_path):
    """`saq recommender prefill`: one 附件3 row per 申请书 received, read by the one reader."""
    from xl_addin.read.workbook import read_submission
    src, made = complete
    inbox = tmp_path / "收到的申请书"
    inbox.mkdir()
    shutil.copy(made["workbook"], inbox / "申请书_甲.xlsx")
    (inbox / "坏文件.xlsx").write_bytes(b"not a workbook")
    out = tmp_path / "附件3.xlsx"
    code = main(["recommender", "prefill", str(inbox), "-o", str(out)])
    lines = capsys.readouterr().out.splitlines()
    rec = made["values"]["recommender"]
    assert code == 0
    assert lines[0] == f"已生成预填的初审推荐意见表（附件3）：{out}（1 行，推荐单位：{rec}）"
    assert lines[1].startswith("  未读取：坏文件.xlsx（")
    sub = read_submission(out)
    assert sub.kind == "recommender" and sub.values["recommender"] == rec
    t = sub.tables["recommendations"]
    row = dict(zip(t.columns, t.rows[0]))
    v = made["values"]
    assert (row["序号"], row["申请组织名称"], row["统一社会信用代码"], row["申请类别"], row["申请等级"],
            row["申报项目名称"], row["满意度得分"]) == \
        (1, v["org_name"], v["uscc"], v["category"], v["level"], v["project_name"], v["satisfaction"])
    assert row["申请组织自评分"] > 0 and row["推荐意见"] in (None, "")
