"""The year follows the data (issue 20 §7; read/year.py): `saq consolidate`, `check` and
`review` take the campaign year from the files' ``_meta`` when they agree and say which
year they used; mixed years are refused with a table; ``--campaign`` overrides; a folder's
``活动.toml`` (`saq init 年度`, `saq demo`) replaces editing a file inside the package; a
wrong-year file's message names both years and the fix; a run that rejects most files
exits non-zero. CLI tests assert the exact text and the exit code."""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pytest
from lo_cases import base_values

from xl_addin import cli
from xl_addin.forms.fill import fill_application
from xl_addin.read import year
from xl_addin.rules.campaign import load
from xl_addin.rules.materials import complete_checklist

C23, C24 = load(2023), load(2024)
PEOPLE = [(f"被访者{i}", f"1380000{i:04d}") for i in range(60)]


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def _app(c, path, org):
    v = base_values(c.year)
    v["org_name"] = org
    v.update(complete_checklist(v["category"], c))
    return fill_application(path, v, PEOPLE, campaign=c)


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """Three 2024 applications and one 2023 application, written once."""
    d = tmp_path_factory.mktemp("years")
    return {"甲": _app(C24, d / "甲.xlsx", "上海甲有限公司"),
            "乙": _app(C24, d / "乙.xlsx", "上海乙有限公司"),
            "丙": _app(C24, d / "丙.xlsx", "上海丙有限公司"),
            "丁": _app(C23, d / "丁.xlsx", "上海丁有限公司")}


def _inbox(root, books, names):
    """root/活动/收件/<推荐单位>/申请书_X.xlsx (the folder a campaign keeps)."""
    inbox = root / "活动" / "收件"
    for n in names:
        sub = inbox / ("浦东" if n in "甲乙" else "闵行")
        sub.mkdir(parents=True, exist_ok=True)
        shutil.copy(books[n], sub / f"申请书_{n}.xlsx")
    return inbox


def _summary(out):
    """The lines of a consolidation summary except its timing line."""
    return [ln for ln in out.splitlines() if not ln.startswith("用时 ")]


def test_consolidate_takes_the_year_of_the_files_and_says_so(tmp_path, books, monkeypatch):
    inbox = _inbox(tmp_path, books, "甲乙丙")
    monkeypatch.chdir(tmp_path)
    code, out, err = run("consolidate", inbox, "-q", "-o", tmp_path / "汇总表.xlsx")
    assert (code, err) == (0, "")
    assert _summary(out)[:2] == ["活动年度：2024（取自文件中的模板年度，3 个文件一致）",
                                 "文件 3 个：已导入 3，已拒收 0，已忽略 0"]
    assert _summary(out)[2].startswith("申请 3 项")


def test_mixed_years_are_refused_with_a_table_and_the_command(tmp_path, books):
    inbox = _inbox(tmp_path, books, "甲乙丙丁")
    code, out, err = run("consolidate", inbox, "-q")
    assert (code, out) == (2, "")
    assert err == (
        "错误：这些文件属于不同年度的活动（2024 年、2023 年），无法确定按哪一年处理，本次未处理：\n"
        "  年度     文件数  文件\n"
        "  -------  ------  -------------------------------------------------------------\n"
        "  2024 年  3       浦东/申请书_乙.xlsx、浦东/申请书_甲.xlsx、闵行/申请书_丙.xlsx\n"
        "  2023 年  1       闵行/申请书_丁.xlsx\n"
        "请确认本次活动的年度，把其他年度的文件移出文件夹，或指定年度后重新运行，例如：\n"
        f"  saq consolidate {inbox} --campaign 2024\n"
        "（在活动文件夹中运行 saq init 2024 写明年度后，以后不必再指定）\n")
    assert not (inbox.parent / "汇总表.xlsx").exists()


def test_the_flag_overrides_and_a_run_that_rejects_most_files_fails(tmp_path, books, monkeypatch):
    """The old trap: 2024 files run as 2023 were each told to refill a 2023 template, and
    the run exited 0. Now the words name both years and both fixes, and the run fails."""
    inbox = _inbox(tmp_path, books, "甲乙丙丁")
    monkeypatch.chdir(tmp_path)
    code, out, err = run("consolidate", inbox, "-q", "--campaign", "2023")
    assert (code, err) == (1, "")
    lines = _summary(out)
    assert lines[2].startswith("申请 1 项")
    assert lines[:2] + lines[3:] == [
        "活动年度：2023（按命令行 --campaign 指定）",
        "文件 4 个：已导入 1，已拒收 3，已忽略 0",
        "拒收 3 条（整个文件 3 个，见“拒收”工作表）",
        "汇总表：汇总表.xlsx",
        "多数文件被拒收：拒收 3 个，只导入 1 个；请查看汇总表的“文件清单”和“拒收”工作表",
        "其中 3 个是 2024 年活动的模板，而本次按 2023 年汇总。如本次应为 2024 年活动，请运行：",
        f"  saq consolidate {inbox} --campaign 2024"]
    from master_sheets import sheet
    reasons = {r["文件"]: r["原因/说明"] for r in sheet(tmp_path / "汇总表.xlsx", "文件清单")}
    assert reasons["浦东/申请书_甲.xlsx"] == (
        "这是 2024 年活动的模板，本次按 2023 年活动处理，未读取；如本次应为 2024 年活动，"
        "请加 --campaign 2024 重新运行（或用 saq init 2024 写明文件夹的年度）；"
        "如确是 2023 年的申报，请用 2023 年模板重新填写后提交")


def test_check_names_both_years_and_the_fix(books):
    path = books["甲"]
    code, out, err = run("check", path, "--campaign", "2023")
    assert (code, out) == (2, "")
    assert err == (
        f"错误：无法读取文件 {path}：这是 2024 年活动的模板，本次按 2023 年活动处理，未读取；"
        "如本次应为 2024 年活动，请加 --campaign 2024 重新运行（或用 saq init 2024 写明文件夹的年度）；"
        "如确是 2023 年的申报，请用 2023 年模板重新填写后提交\n")
    code, out, err = run("check", path)
    assert out.splitlines()[:2] == ["活动年度：2024（取自文件中的模板年度，1 个文件一致）",
                                    f"{path}：申请书"]
    code, out, err = run("check", path, "--json")
    import json
    assert json.loads(out)["campaign_year"] == 2024 and err == ""


def test_init_writes_the_folder_setting_and_every_command_follows_it(tmp_path, books, monkeypatch):
    inbox = _inbox(tmp_path, books, "甲乙丙丁")
    camp = inbox.parent
    code, out, err = run("init", "2024", camp)
    setting = camp / "活动.toml"
    assert (code, err) == (0, "")
    assert out == (f"已写入 {setting}：在 {camp.resolve()} 及其子文件夹中运行的 saq 命令按 2024 年活动"
                   "（命令行的 --campaign 仍可临时改用其他年度）\n"
                   "  注意：文件夹中有 1 个文件是其他年度活动的模板（2023 年 1 个），"
                   "按 2024 年处理时它们将被拒收\n")
    assert "[campaign]\nyear = 2024\n" in setting.read_text(encoding="utf-8")
    assert year.read_setting(setting) == 2024
    monkeypatch.chdir(camp)
    code, out, err = run("consolidate", "收件", "-q")
    assert (code, err) == (0, "")
    assert _summary(out)[:2] == [f"活动年度：2024（按 {setting} 的设置）",
                                 "文件 4 个：已导入 3，已拒收 1，已忽略 0"]
    code, out, _ = run("check", inbox / "浦东" / "申请书_甲.xlsx")
    assert out.splitlines()[0] == f"活动年度：2024（按 {setting} 的设置）"
    code, out, err = run("init", "2023", camp)
    assert code == 0 and out.splitlines()[1] == "  原设置为：2024"
    code, out, err = run("check", inbox / "浦东" / "申请书_甲.xlsx")
    assert code == 2 and "这是 2024 年活动的模板，本次按 2023 年活动处理" in err
    code, out, err = run("check", inbox / "浦东" / "申请书_甲.xlsx", "--campaign", "2024")
    assert code == 0 and out.splitlines()[0] == "活动年度：2024（按命令行 --campaign 指定）"


def test_init_refuses_a_year_without_a_campaign_file(tmp_path):
    code, out, err = run("init", "2099", tmp_path)
    assert (code, out) == (2, "")
    assert err == ("错误：指定的 2099 年没有活动配置：本程序只有 2023、2024 年的活动配置；"
                   "请安装支持该年度的新版本，或用 --campaign 指定活动配置文件（.toml）\n")
    assert not (tmp_path / "活动.toml").exists()


def test_a_file_without_a_year_falls_back_to_the_programs_campaign(tmp_path, monkeypatch):
    monkeypatch.delenv("SAQ_CAMPAIGN", raising=False)
    (tmp_path / "x.xlsx").write_bytes(b"not a workbook")
    ch = year.choose(None, tmp_path, year.folder_years(tmp_path))
    assert ch.campaign.year == load().year
    assert ch.line() == f"活动年度：{load().year}（程序的当前活动；文件中没有模板年度）"
    ch = year.choose(None, tmp_path / "x.xlsx", year.file_years(tmp_path / "x.xlsx"))
    assert ch.line() == f"活动年度：{load().year}（程序的当前活动；文件中没有模板年度）"


def test_the_lookup_order(tmp_path, books, monkeypatch):
    """--campaign, then the nearest 活动.toml upwards, then the files, then the default."""
    monkeypatch.delenv("SAQ_CAMPAIGN", raising=False)
    inbox = _inbox(tmp_path, books, "甲乙")
    data = year.folder_years(inbox)
    assert data == {2024: ["浦东/申请书_乙.xlsx", "浦东/申请书_甲.xlsx"]}
    assert year.choose(None, inbox, data).campaign.year == 2024
    year.write_setting(tmp_path, 2023)  # two levels above the inbox
    assert year.find_setting(inbox / "浦东" / "申请书_甲.xlsx") == tmp_path / "活动.toml"
    assert year.choose(None, inbox, data).campaign.year == 2023
    assert year.choose("2024", inbox, data).campaign.year == 2024
    (tmp_path / "活动.toml").unlink()
    monkeypatch.setenv("SAQ_CAMPAIGN", "2024")
    ch = year.choose(None, tmp_path, {})
    assert ch.line() == "活动年度：2024（环境变量 SAQ_CAMPAIGN 指定的当前活动；文件中没有模板年度）"


def test_a_setting_may_name_a_campaign_file(tmp_path):
    own = tmp_path / "我的活动.toml"
    own.write_text(Path(load(2024).path).read_text(encoding="utf-8"), encoding="utf-8")
    year.write_setting(tmp_path, own)
    assert 'file = "我的活动.toml"' in (tmp_path / "活动.toml").read_text(encoding="utf-8")
    assert year.read_setting(tmp_path / "活动.toml") == str(own)
    (tmp_path / "活动.toml").write_text("[campaign]\nyear = \"二〇二四\"\n", encoding="utf-8")
    code, out, err = run("check", tmp_path)
    assert code == 2 and err == (f"错误：活动配置文件 {tmp_path / '活动.toml'} 的 campaign.year："
                                 "应为年份，如 2024\n")
