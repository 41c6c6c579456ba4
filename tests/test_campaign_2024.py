"""A second campaign year, for real (issue 9): the whole chain — templates, a filled
application, `saq check`, consolidation, expert review — runs on the 2024 test campaign
(xl_addin/campaigns/2024.toml: the year, the application deadline C2 and E03's cut-off
changed), and each step uses 2024's rules, not 2023's shifted by a year.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json

import pytest
from lo_cases import base_values
from master_sheets import sheet

from xl_addin import cli
from xl_addin.consolidate import consolidate
from xl_addin.forms.fill import fill_application
from xl_addin.read import workbook as fastread
from xl_addin.rules.campaign import load
from xl_addin.rules.materials import complete_checklist

C24 = load(2024)


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """A 2024 application whose survey began 2023-09-15 and which was signed 2024-07-25:
    fine under 2024's rules, E03 and E22 under 2023's rules moved by a year."""
    d = tmp_path_factory.mktemp("c2024")
    values = base_values(C24.year)
    values.update(survey_start=dt.date(2023, 9, 15), fill_date=dt.date(2024, 7, 25))
    for p in C24.rubric.parts:
        if p.kind in ("score", "range"):
            values[p.key] = p.max
    values[C24.rubric.veto_key] = "否"
    values.update(complete_checklist(values["category"], C24))  # 材料清单 complete (RULES.md M)
    people = [(f"被访者{i}", f"1380000{i:04d}") for i in range(60)]
    path = fill_application(d / "收件" / "申请书_2024.xlsx", values, people, campaign=C24)
    return d, path


def test_templates_carry_the_year(tmp_path):
    code, out, _ = run("templates", "--campaign", "2024", "-o", str(tmp_path))
    assert code == 0
    for p in tmp_path.glob("*.xlsx"):
        sub = fastread.read_submission(p)
        assert sub.meta["campaign_year"] == 2024 and sub.meta["template_version"] == "2024.1"


def test_check_uses_2024_rules(filled):
    _d, path = filled
    code, out, _ = run("check", str(path), "--json", "--campaign", "2024")
    got = json.loads(out)
    codes = {f["code"] for f in got["errors"] + got["warnings"]}
    assert code == 0 and codes == set(), got
    assert got["proposed_level"] == C24.level_name(5)


def test_the_2023_campaign_refuses_a_2024_workbook_as_consolidation_does(filled):
    d, path = filled
    code, _, err = run("check", str(path), "--campaign", "2023")
    assert code == 2
    assert err == (f"错误：无法读取文件 {path}：这是 2024 年活动的模板，本次按 2023 年活动处理，未读取；"
                   "如本次应为 2024 年活动，请加 --campaign 2024 重新运行（或用 saq init 2024 写明文件夹的年度）；"
                   "如确是 2023 年的申报，请用 2023 年模板重新填写后提交\n")
    code, out, err = run("check", str(path))  # no flag: the year follows the file (issue 20 §7)
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "活动年度：2024（取自文件中的模板年度，1 个文件一致）"


def test_consolidation_and_review_on_2024(filled, tmp_path):
    d, _path = filled
    master = tmp_path / "汇总表.xlsx"
    res = consolidate(d / "收件", master, C24, progress=False, workers=1)
    rows = sheet(master, "汇总")
    assert len(rows) == 1 and rows[0]["问题代码"] == "", rows[0]["问题说明"]
    assert fastread.read_submission(res.written_to).meta["campaign_year"] == 2024
    experts = tmp_path / "experts.xlsx"
    assert run("review", "assign", str(master), "--experts", str(experts), "-o",
               str(tmp_path / "out"), "--campaign", "2024")[0] == 1  # a blank list first
    from openpyxl import load_workbook
    wb = load_workbook(experts)
    ws = wb["专家名单"]
    t = ws.tables["experts"]
    hr = int(t.ref.split(":")[0][1:])
    for i, name in enumerate(("甲专家", "乙专家", "丙专家"), start=hr + 1):
        ws.cell(i, 1, name)
        ws.cell(i, 2, "某大学")
    t.ref = f"A{hr}:D{hr + 3}"
    wb.save(experts)
    code, out, err = run("review", "assign", str(master), "--experts", str(experts), "-o",
                         str(tmp_path / "out"), "--campaign", "2024")
    assert code == 0, err
    from xl_addin.review import simulate
    from xl_addin.review.manifest import FILE_NAME, read_manifest
    man = read_manifest(tmp_path / "out" / FILE_NAME, C24)
    for e in man.experts:
        simulate.fill_workbook(tmp_path / "out" / man.files[e.name], C24, e.name)
    code, out, err = run("review", "collect", str(tmp_path / "out"), "-o",
                         str(tmp_path / "评审结果.xlsx"), "--campaign", "2024")
    assert code == 0, err
    assert fastread.read_submission(tmp_path / "评审结果.xlsx", any_workbook=True) \
        .meta["campaign_year"] == 2024
    # the 2023 campaign refuses the 2024 assignment
    code, _, err = run("review", "collect", str(tmp_path / "out"), "-o",
                       str(tmp_path / "x.xlsx"), "--campaign", "2023")
    assert code == 2 and "2024 年" in err
    # without the flag, review takes the year of the 分配表 (issue 20 §7)
    code, out, err = run("review", "collect", str(tmp_path / "out"), "-o",
                         str(tmp_path / "y.xlsx"))
    assert code == 0, err
    assert out.splitlines()[0] == "活动年度：2024（取自文件中的模板年度，1 个文件一致）"
