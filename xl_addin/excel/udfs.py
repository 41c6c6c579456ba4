"""Excel worksheet functions (UDFs) of the add-in, through xlwings.

Thin: each parses what Excel passes (floats for whole numbers, None for blanks, text with
spaces), calls the library and answers a bad argument with a ``#SAQ! …`` string instead of
raising, so a cell never shows a Python traceback.
"""

from __future__ import annotations

import functools

import xlwings as xw

from xl_addin.errors import SaqError
from xl_addin.rules import parse, rubric, sampling, stars
from xl_addin.rules import report_use as report_use_mod
from xl_addin.rules.campaign import load
from xl_addin.rules.engine import evaluate_application
from xl_addin.rules.uscc import is_valid

ERR = "#SAQ! "


class _Bad(Exception):
    pass


def _safe(f):
    """Turn any failure into a #SAQ! string (a cell must never show a traceback)."""
    @functools.wraps(f)
    def inner(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except _Bad as e:
            return ERR + str(e)
        except SaqError as e:
            return ERR + str(e)
        except Exception as e:  # noqa: BLE001 - last line of defence for a cell
            return f"{ERR}内部错误：{type(e).__name__}: {e}"
    return inner


def _read(fn, v, what):
    try:
        return fn(v)
    except parse.Unreadable as e:
        raise _Bad(f"{what}无法识别: {parse.text(v)}（{e.expected}）") from None


_CAMPAIGNS = {}  # the year argument as Excel passes it -> its Campaign, once per session
_CAMPAIGNS_MAX = 256


def _campaign(year):
    """The campaign of an optional year argument (issue 9): blank = the current campaign.

    Remembered per argument for the session (issue 23): a sheet recalculates thousands of
    cells with the same few year values, and the current campaign is chosen once, when the
    add-in's Python starts (as `saq` chooses it once per command)."""
    try:
        return _CAMPAIGNS[year]
    except (KeyError, TypeError):  # TypeError: an unhashable argument (a range)
        pass
    y = _read(parse.integer, year, "活动年度")
    if y is None:
        c = load()
    else:
        try:
            c = load(y)
        except SaqError:
            raise _Bad(f"没有 {y} 年的活动配置") from None
    try:
        if len(_CAMPAIGNS) >= _CAMPAIGNS_MAX:
            _CAMPAIGNS.clear()
        _CAMPAIGNS[year] = c
    except TypeError:
        pass
    return c


def _star_args(category, conclusion, satisfaction, report_use, risk, applied_level, veto="否",
               year=""):
    c = _campaign(year)
    cat = _read(lambda v: parse.category(v, c), category, "申请类别")
    if cat is None:
        raise _Bad("申请类别未填写")
    concl = parse.text(conclusion)
    names = [n for n, _ in c.rubric.conclusions]
    if concl not in names:
        raise _Bad(f"评价结论无法识别: {concl}（应为 {'、'.join(names)} 之一）")
    q = _read(parse.number, satisfaction, "满意度")
    if q is None:
        raise _Bad("满意度未填写")
    words = report_use_mod.words(c)
    use = _read(lambda v: report_use_mod.read(v, words).value, report_use, "测量报告应用") or "无"
    try:  # L1: a blank or unreadable answer is not 无 (no 五星); the level still reads
        rk = parse.hasnot(risk)
    except parse.Unreadable:
        rk = parse.text(risk)
    applied = _read(lambda v: parse.level(v, c), applied_level, "申请等级")
    vt = _read(parse.yesno, veto, "否决项") or "否"  # L4: a veto gives no level
    return c, stars.evaluate(c, cat, concl, q, use, rk, vt, applied)


@xw.func
@_safe
def saq_uscc_ok(code):
    """统一社会信用代码是否有效（GB 32100-2015 校验位）。"""
    return is_valid(parse.text(code))


@xw.func
@_safe
def saq_conclusion(score, veto="否", year=""):
    """自评/专家得分的评价结论：优良 / 合格 / 不合格（S4）。"""
    s = _read(parse.number, score, "得分")
    if s is None:
        raise _Bad("得分未填写")
    v = _read(parse.yesno, veto, "否决项") or "否"
    return rubric.conclusion(s, v, _campaign(year))


@xw.func
@_safe
def saq_star(category, conclusion, satisfaction, report_use, risk="无", applied_level="",
             veto="否", year=""):
    """可评等级；给出申请等级时为建议等级（L1–L5）；否决项为“是”时不达标（L4）；year 省略时为当前活动。"""
    c, r = _star_args(category, conclusion, satisfaction, report_use, risk, applied_level, veto,
                      year)
    return c.level_name(r.proposed if r.proposed is not None else r.achievable)


@xw.func
@_safe
def saq_star_reason(category, conclusion, satisfaction, report_use, risk="无",
                    applied_level="", veto="否", year=""):
    """说明由哪一条件决定了等级的一句话。"""
    _, r = _star_args(category, conclusion, satisfaction, report_use, risk, applied_level, veto,
                      year)
    return r.reason


@xw.func
@xw.arg("parts", ndim=1)
@_safe
def saq_selfeval(parts, year=""):
    """自评表得分：按 FIELDS.md 顺序的各分项（可含末尾的否决项）。"""
    c = _campaign(year)
    keys = [p.key for p in c.rubric.parts]
    parts = list(parts) if isinstance(parts, (list, tuple)) else [parts]
    if len(parts) not in (len(keys), len(keys) + 1):
        raise _Bad(f"分项个数应为 {len(keys)}（或含否决项 {len(keys) + 1}），现为 {len(parts)}")
    raw = dict(zip(keys + [c.rubric.veto_key], parts))
    ev = evaluate_application(raw, c)
    bad = [f for f in ev.flags if f.code in ("E23", "E29") and f.field.startswith("se_")]
    if bad:
        raise _Bad(bad[0].message)
    return ev.rubric.total


@xw.func
@xw.arg("labels", ndim=1)
@xw.arg("values", ndim=1)
@_safe
def saq_flags(labels, values, year=""):
    """一份申请的问题代码（空格分隔），由表头行与数据行得出。"""
    labels = list(labels) if isinstance(labels, (list, tuple)) else [labels]
    values = list(values) if isinstance(values, (list, tuple)) else [values]
    if len(labels) != len(values):
        raise _Bad(f"表头 {len(labels)} 列与数据 {len(values)} 列不一致")
    raw = {parse.text(k): v for k, v in zip(labels, values) if parse.text(k)}
    return evaluate_application(raw, _campaign(year)).codes


@xw.func
@_safe
def saq_flag_text(code, year=""):
    """问题代码的中文说明。"""
    c = _campaign(year)
    k = (parse.text(code) or "").upper()
    if k not in c.flags:
        raise _Bad(f"没有问题代码 {k}")
    spec = c.flags[k]
    sev = "错误" if spec["severity"] == "error" else "提醒"
    return f"{k}（{sev}）：{spec['rule']}"


def _population(population):
    n = _read(parse.number, population, "总体数量")
    return n or None


def _sampling_args(confidence, p, year=""):
    """置信水平 and p as given, else the campaign's [sampling] defaults."""
    d = _campaign(year).sampling
    return (_read(parse.number, confidence, "置信水平") or d["default_confidence"],
            _read(parse.number, p, "p") or d["default_p"])


@xw.func
@_safe
def saq_sample_size(margin, confidence="", population="", p="", year=""):
    """所需样本量（Cochran 公式，给出总体时作有限总体校正，向上取整）；置信水平与 p 省略时取活动配置。"""
    m = _read(parse.number, margin, "抽样误差")
    if m is None:
        raise _Bad("抽样误差未填写")
    conf, prop = _sampling_args(confidence, p, year)
    try:
        return sampling.sample_size(m, conf, _population(population), prop)
    except ValueError as e:
        raise _Bad(str(e)) from None


@xw.func
@_safe
def saq_margin(n, confidence="", population="", p="", year=""):
    """样本量 n 的抽样误差（小数，0.049 即 4.9%）；置信水平与 p 省略时取活动配置。"""
    size = _read(parse.number, n, "样本量")
    conf, prop = _sampling_args(confidence, p, year)
    try:
        return sampling.margin(size, conf, _population(population), prop)
    except ValueError as e:
        raise _Bad(str(e)) from None
