"""`saq check` on the readings of issue 20, as a user meets them: the exact text and exit code,
and the same verdict from the workbook's own formulas recalculated in LibreOffice.

- §4 (RULES.md E29, E19): a scoring input out of its allowed values, or an unreadable 否决项,
  leaves the level 无法评定 until corrected; E18 is not raised beside E19.
- §8: 建议等级 is 无法评定 where the achievable level is (blank 申请类别); the 问题代码 cell
  names a code once; the counts count codes (E20 on two fields and E32 for two reasons are
  one error and one warning).
- §3: E34 keeps a descriptive number as typed, as a warning.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from lo_cases import base_application
from lo_session import available, session
from verdict_paths import from_check, from_libreoffice

from xl_addin.cli import main
from xl_addin.forms.fill import fill_application
from xl_addin.rules.campaign import load
from xl_addin.rules.materials import complete_checklist

C = load()
ZERO = {k: 0 for k in ("se_R1", "se_R2", "se_R3", "se_R4", "se_R5", "se_A2a", "se_A2b", "se_A2c",
                       "se_A2d", "se_A2e", "se_A2f", "se_M1a", "se_M1b", "se_M1c", "se_M1d",
                       "se_M1e", "se_M1f")}
FILES = {
    "e29": {"se_P1": 1.5},
    "veto": {"se_V1": "不清楚"},
    "e19": {"se_V1": "是", **ZERO},
    "blank_category": {"category": None},
    "twice": {"org_name": None, "contact_name": None, "survey_start": dt.date(C.year, 8, 1),
              "survey_end": dt.date(C.year, 7, 1)},
    "e34": {"beneficiaries": "约120万"},
}
UNSCORED = "自评表的分值或否决项无法识别或不在允许值之内，改正后才能评定等级"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("readings")
    base = {**base_application(C), **complete_checklist("服务类", C)}
    return {name: fill_application(d / f"{name}.xlsx", {**base, **ch}, campaign=C)
            for name, ch in FILES.items()}


YEAR_LINE = f"活动年度：{C.year}（取自文件中的模板年度，1 个文件一致）"  # issue 20 §7, read/year.py


def check(capsys, path, *extra):
    """`saq check`'s exit code and its output after the year line (asserted)."""
    code = main(["check", str(path), *extra])
    out = capsys.readouterr()
    assert out.err == ""
    first, _, rest = out.out.partition("\n")
    if "--json" not in extra:
        assert first == YEAR_LINE
        return code, rest
    return code, out.out


def test_an_out_of_range_part_leaves_the_level_undetermined(files, capsys):
    code, out = check(capsys, files["e29"])
    assert code == 1
    assert out == f"""{files["e29"]}：申请书
  评价得分：109.5
  评价结论：优良
  可评等级：无法评定
  建议等级：无法评定
  等级说明：{UNSCORED}
位置       代码  级别  字段               说明
---------  ----  ----  -----------------  --------------------------------------------------------
自评表!G5  E29   错误  P1 可行性研究分析  分项“P1 可行性研究分析”填写 1.5，允许值为 0、1、2（E29）
表格：1 项错误、0 项提醒；材料：齐全
"""


def test_an_unreadable_veto_is_e23_and_leaves_the_level_undetermined(files, capsys):
    code, out = check(capsys, files["veto"], "--json")
    got = json.loads(out)
    assert code == 1
    assert [(e["code"], e["field"]) for e in got["errors"]] == [("E23", "se_V1")]
    assert got["errors"][0]["message"] == \
        "“否决项：有明确证据表明数据不真实”的值“不清楚”无法识别，应为 是 或 否（E23）"
    assert (got["achievable_level"], got["proposed_level"], got["status"]) == \
        ("无法评定", "无法评定", "表格：1 项错误、0 项提醒；材料：齐全")


def test_e18_is_not_raised_beside_e19(files, capsys):
    code, out = check(capsys, files["e19"])
    assert code == 1
    assert out == f"""{files["e19"]}：申请书
  评价得分：64
  评价结论：不合格
  可评等级：不达标
  建议等级：不达标
  等级说明：否决项成立，不满足三星条件
位置        代码  级别  字段                              说明
----------  ----  ----  --------------------------------  ----------------------------------------------------------------------
自评表!G72  E19   错误  否决项：有明确证据表明数据不真实  否决项成立：有明确证据表明数据不真实（E19）
申请表!B9   E30   提醒  申请等级                          申请标杆级，按现有条件最高可评不达标：否决项成立，不满足三星条件（E30…
表格：1 项错误、1 项提醒；材料：齐全
"""


def test_a_blank_category_gives_no_level_and_says_so(files, capsys):
    code, out = check(capsys, files["blank_category"])
    assert code == 1
    assert out == f"""{files["blank_category"]}：申请书
  评价得分：110
  评价结论：优良
  可评等级：无法评定
  建议等级：无法评定
  等级说明：申请类别或满意度未填写或无法识别，无法评定等级
位置       代码  级别  字段      说明
---------  ----  ----  --------  -----------------------------
申请表!B8  E20   错误  申请类别  必填项“申请类别”未填写（E20）
表格：1 项错误、0 项提醒；材料：齐全
"""


def test_counts_count_codes(files, capsys):
    code, out = check(capsys, files["twice"])
    assert code == 1
    assert out == f"""{files["twice"]}：申请书
  评价得分：110
  评价结论：优良
  可评等级：用户满意标杆
  建议等级：用户满意标杆
  等级说明：满足五星条件
位置        代码  级别  字段                说明
----------  ----  ----  ------------------  ----------------------------------------------------------------
申请表!B22  E20   错误  联系人              必填项“联系人”未填写（E20）
申请表!B12  E20   错误  企业名称            必填项“企业名称”未填写（E20）
申请表!B64  E32   提醒  第三方调查结束日期  第三方调查结束日期 {C.year}-07-01 早于开始日期 {C.year}-08-01（E32）
申请表!B63  E32   提醒  第三方调查开始日期  第三方调查开始日期 {C.year}-08-01 晚于申请截止日期 {C.application_deadline}（E32）
表格：1 项错误、1 项提醒；材料：齐全
"""


def test_a_descriptive_number_is_kept_with_a_warning(files, capsys):
    code, out = check(capsys, files["e34"])
    assert code == 0
    assert out.endswith("""位置        代码  级别  字段                  说明
----------  ----  ----  --------------------  ----------------------------------------------------------------
申请表!B44  E34   提醒  直接服务受益的用户数  “直接服务受益的用户数”的值“约120万”不是数字，已按原样保留（E34）
表格：0 项错误、1 项提醒；材料：齐全
""")


@pytest.mark.libreoffice
@pytest.mark.skipif(not available(), reason="LibreOffice not installed")
def test_the_recalculated_sheet_says_the_same(files):
    """The workbook's own formulas, recalculated: the same codes (each once), total, levels
    (无法评定 included), counts and banner as `saq check`."""
    for name, p in files.items():
        assert from_libreoffice(p) == from_check(p, C), name


# ---------------------------------------------------------------------- §5 expert form
@pytest.fixture(scope="module")
def review_folder(tmp_path_factory):
    """Three applications of a small demo, each scored by the same three experts; expert 甲
    types N1 of the first application in full-width digits (５) and one score with 分."""
    from xl_addin.consolidate import consolidate
    from xl_addin.demo import write_campaign
    from xl_addin.review import simulate as S
    from xl_addin.review.workflow import run_assign
    d = tmp_path_factory.mktemp("review")
    write_campaign(d / "in", seed=5, n_apps=4, n_recommenders=1, broken=False, campaign=C)
    master = consolidate(d / "in", d / "汇总表.xlsx", C, progress=False, workers=1).written_to
    experts = d / "experts.csv"
    experts.write_text("姓名,单位,回避单位,专业\n甲,单位一,,\n乙,单位二,,\n丙,单位三,,\n",
                       encoding="utf-8")
    run = run_assign(master, experts, d / "专家评审", C)
    typed = {}
    for name, file in run.manifest.files.items():
        typed[name] = S.fill_workbook(d / "专家评审" / file, C, name, S.DILIGENT, seed=1)
    first = sorted(run.manifest.by_app)[0]  # an application assigned to all three
    path = d / "专家评审" / run.manifest.files["甲"]
    _retype(path, first, {C.rubric.parts[0].key: "５", C.rubric.parts[1].key: "2分"})
    return d, run.manifest, first, typed["甲"][first]


def _retype(path, app_id, values):
    from openpyxl import load_workbook
    from openpyxl.utils import range_boundaries

    from xl_addin.review.expert_table import TABLE, columns
    wb = load_workbook(path)
    ws = next(w for w in wb.worksheets if TABLE in w.tables)
    c1, r1, _, r2 = range_boundaries(ws.tables[TABLE].ref)
    col = {k.key: c1 + i for i, k in enumerate(columns(C))}
    for r in range(r1 + 1, r2 + 1):
        if ws.cell(r, col["app_id"]).value == app_id:
            for key, v in values.items():
                ws.cell(r, col[key]).value = v
    wb.save(path)


def test_collect_reads_full_width_digits_as_the_form_does(review_folder, capsys):
    d, man, first, typed = review_folder
    results = d / "评审结果.xlsx"
    code = main(["review", "collect", str(d / "专家评审"), "-o", str(results)])
    out = capsys.readouterr()
    assert (code, out.err) == (0, "")
    assert out.out == (YEAR_LINE + "\n" + "读取 4 个文件：3 份专家评分表已使用，0 个已拒收。\n"
                       "3/3 份申请评分已完成；现场评审 2 份，入围标杆级 1 份，公示 3 份。\n"
                       f"结果已写入 {results}\n")
    from openpyxl import load_workbook
    ws = load_workbook(results)["评分明细"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    head = next(r for r in rows if r[:3] == ["申请编号", "申请组织名称", "专家"])
    mine = next(dict(zip(head, r)) for r in rows if r[0] == first and r[2] == "甲")
    from xl_addin.review.expert_table import read_row
    same = read_row(C, {**typed, C.rubric.parts[0].key: 5, C.rubric.parts[1].key: 2},
                    next(a for a in man.apps if a.id == first))
    assert (mine["状态"], mine["专家总分"], mine["评价结论"], mine["填写问题"]) == \
        ("已完成", same.total, same.conclusion, None)


@pytest.mark.libreoffice
@pytest.mark.skipif(not available(), reason="LibreOffice not installed")
def test_the_expert_form_reads_full_width_digits_as_collect_does(review_folder):
    from openpyxl import load_workbook
    from openpyxl.utils import range_boundaries

    from xl_addin.review.expert_table import TABLE, columns, read_row
    d, man, first, typed = review_folder
    path = d / "专家评审" / man.files["甲"]
    ws = next(w for w in load_workbook(path).worksheets if TABLE in w.tables)
    recalc = session().recalculate(path, sheets=[ws.title])  # the worker's LibreOffice
    c1, r1, _, r2 = range_boundaries(ws.tables[TABLE].ref)
    col = {k.key: c1 + i for i, k in enumerate(columns(C))}

    def value(r, key):
        v = recalc.value(ws.title, r, col[key])
        return None if v == "" else v
    row = next(r for r in range(r1 + 1, r2 + 1) if value(r, "app_id") == first)
    got = tuple(value(row, k) for k in ("total", "conclusion", "invalid", "status"))
    st = read_row(C, {**typed, C.rubric.parts[0].key: "５", C.rubric.parts[1].key: "2分"},
                  next(a for a in man.apps if a.id == first))
    assert got == (st.total, st.conclusion, 0, "已完成") and st.invalid == 0
