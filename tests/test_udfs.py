"""The Excel UDFs: answers for what Excel passes, and xlwings accepts them (VBA wrappers)."""

import inspect
import re

import pytest

from xl_addin.excel import udfs
from xl_addin.excel.addin import udfwrap
from xl_addin.rules.uscc import make

UDF_NAMES = ["saq_uscc_ok", "saq_conclusion", "saq_star", "saq_star_reason", "saq_selfeval",
             "saq_flags", "saq_flag_text", "saq_sample_size", "saq_margin"]


@pytest.mark.parametrize("args,expected", [
    (("服务类", "优良", 86, "战略"), "用户满意标杆"),
    (("产品类", "优良", 86, "战略"), "用户满意"),
    (("服务类", "优良", 69.9, "战略"), "不达标"),
    ((" 服务 ", "优良", 86.0, "战略", "无", None), "用户满意标杆"),  # what Excel passes
    ((" 服务 ", "优良", 86.0, "战略", None, None), "用户满意"),  # L1: an empty risk cell is not 无
    (("服务类", "优良", 86, "战略", "不详"), "用户满意"),  # L1: nor is an unreadable one
    (("服务类", "优良", 86, "战略", "无", "满意亮诺级"), "用户满意亮诺"),  # L5 proposed
    (("服务类", "优良", 86, "战略", "有"), "用户满意"),
    (("商业类", "优良", 86, "战略"), "#SAQ! 申请类别无法识别: 商业类（应为 企业类、服务类、产品类、工程类 之一）"),
    (("服务类", "很好", 86, "战略"), "#SAQ! 评价结论无法识别: 很好（应为 优良、合格、不合格 之一）"),
    (("服务类", "优良", None, "战略"), "#SAQ! 满意度未填写"),
    # issue 10: the veto argument (L4: a veto gives no level, as the engine says)
    (("服务类", "优良", 86, "战略", "无", "", "是"), "不达标"),
    (("服务类", "优良", 86, "战略", "无", "", "√"), "不达标"),
    (("服务类", "优良", 86, "战略", "无", "", "否"), "用户满意标杆"),
    (("服务类", "优良", 86, "战略", "无", "", "也许"), "#SAQ! 否决项无法识别: 也许（应为 是 或 否）"),
    # issue 10: 测量报告应用 as the form's choice, and negated free text (E24: least favourable)
    (("服务类", "优良", 86, "用于组织战略制定/改进领域实施方案"), "用户满意标杆"),
    (("服务类", "优良", 86, "未用于战略规划"), "用户满意亮诺"),
    (("服务类", "优良", 86, "用于管理改进"), "用户满意"),
])
def test_saq_star(args, expected):
    assert udfs.saq_star(*args) == expected


def test_saq_star_reason():
    assert udfs.saq_star_reason("企业类", "优良", 83.5, "战略") == "满意度 83.5 未达 85，不满足五星条件"


@pytest.mark.parametrize("score,veto,expected", [
    (80.0, None, "优良"), (79.5, "否", "合格"), (59.5, None, "不合格"), (100, "是", "不合格"),
    ("八十", None, "#SAQ! 得分无法识别: 八十（应为数字）"),
])
def test_saq_conclusion(score, veto, expected):
    assert udfs.saq_conclusion(score, veto) == expected


def test_saq_uscc_ok():
    good = make("91310115MA1K3YJH3")
    assert udfs.saq_uscc_ok(good) is True
    assert udfs.saq_uscc_ok(good[:-1] + ("0" if good[-1] != "0" else "1")) is False
    assert udfs.saq_uscc_ok(None) is False


def test_saq_selfeval_from_a_row():
    from xl_addin.rules.campaign import load
    c = load()
    row = [float(p.max) if p.kind in ("score", "range") else (0.0 if p.kind == "errors" else "否")
           for p in c.rubric.parts]
    assert udfs.saq_selfeval(row) == 110
    assert udfs.saq_selfeval(row + ["否"]) == 110
    assert udfs.saq_selfeval(row[:5]).startswith("#SAQ! 分项个数应为 61")
    bad = list(row)
    bad[3] = 1.0  # se_P3a allows 0 or 2
    assert "填写 1，允许值为 0、2（E29）" in udfs.saq_selfeval(bad)


def test_saq_flags_and_text():
    labels = ["企业名称", "统一社会信用代码", "申请类别", "申请等级", "满意度（百分制得分）"]
    values = ["某公司", "123", "产品类", "标杆级", 69.0]
    codes = udfs.saq_flags(labels, values).split()
    assert {"E14", "E15", "E16", "E20"} <= set(codes)
    assert udfs.saq_flag_text("e15") == "E15（错误）：满意度不低于 70 分"
    assert udfs.saq_flag_text("E99") == "#SAQ! 没有问题代码 E99"
    assert udfs.saq_flags(["a", "b"], [1]).startswith("#SAQ! 表头 2 列与数据 1 列不一致")


def test_sampling_udfs():
    assert udfs.saq_sample_size(0.05) == 385
    assert udfs.saq_sample_size(5, 0.95, 1000.0) == 278
    assert udfs.saq_sample_size(0.05, 0.95, "") == 385
    assert round(udfs.saq_margin(400.0), 4) == 0.049
    assert udfs.saq_margin(None).startswith("#SAQ! ")
    assert udfs.saq_sample_size(0.05, 95) == 385  # 95 means 95 %
    assert udfs.saq_sample_size(0.05, 150).startswith("#SAQ! 置信水平")


def test_xlwings_generates_a_vba_function_for_every_udf():
    """xlwings' own generator (pywin32 stand-ins, Windows decorators) accepts every UDF."""
    vba = udfwrap.generate("xl_addin.excel.udfs")
    for name in UDF_NAMES:
        f = getattr(udfs, name)
        params = list(inspect.signature(f).parameters.values())
        sig = ", ".join(("Optional " if p.default is not p.empty else "") + p.name for p in params)
        assert f"Function {name}({sig})" in vba, name
        assert f'XLPy.CallUDF("xl_addin.excel.udfs", "{name}"' in vba
    assert len(re.findall(r"^Function ", vba, re.M)) == len(UDF_NAMES)
    with udfwrap.windows_udf_module("xl_addin.excel.udfs") as (_, module):
        assert module.saq_flags.__xlfunc__["argmap"]["labels"]["options"]["ndim"] == 1


def test_the_optional_year_argument_chooses_the_campaign():
    """Issue 9: every campaign-bound UDF takes an optional year; blank is the current one.
    The 2024 test campaign moves E03's cut-off, so saq_flag_text shows each year's rule."""
    assert "10 月之后" in udfs.saq_flag_text("E03")
    assert "9 月之后" in udfs.saq_flag_text("E03", 2024)
    assert udfs.saq_flag_text("E03", "2024") == udfs.saq_flag_text("E03", 2024.0)
    assert udfs.saq_star("服务类", "优良", 86, "战略", year=2024) == \
        udfs.saq_star("服务类", "优良", 86, "战略")
    assert udfs.saq_conclusion(85, year=1999).startswith("#SAQ! 没有 1999 年的活动配置")
