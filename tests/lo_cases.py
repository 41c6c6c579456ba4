"""Seeded generators of plausible applications and 附件3 rows for the differential test:
random values, every boundary on both sides (RULES.md E01–E30, L1–L5, S0–S4) and every
flag. Values are typed as Excel holds them: numbers, dates, exact Chinese choice strings;
unreadable values are only of kinds the engine also cannot read (E23 agrees).

The boundaries come from the campaign (:func:`limits`), never from literals: a new campaign
file with another threshold moves the cases with it (issue 9 §2)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from types import SimpleNamespace

import yaml

from xl_addin.rules.uscc import ALPHABET, make

CASES = Path(__file__).with_name("cases")
D = dt.date


def base_values(year):
    """tests/cases/base_application.yaml for campaign ``year``: its relative dates ("{Y-1}-11-01")
    filled in and typed as dates, as a person enters them."""
    from xl_addin.rules.campaign import substitute_year
    raw = yaml.safe_load((CASES / "base_application.yaml").read_text(encoding="utf-8"))
    out = substitute_year(raw, year)
    return {k: (D.fromisoformat(v) if isinstance(v, str) and _ISO.match(v) else v)
            for k, v in out.items()}


_ISO = __import__("re").compile(r"^\d{4}-\d{2}-\d{2}$")


def limits(c):
    """The rule values the cases straddle, read from the campaign ``c``.

    Returns:
        namespace: ``sat`` (E15 and the star minimums, ascending), ``full`` (the rubric's
        most), ``concl`` (S4 minimums above 0, ascending), ``step`` (S0), the dates of E01,
        E03, E06 and E22, E17's ``threshold``, E08's ``area`` and ``cost``, E07's ``years``.
    """
    f = c.flags
    sat = {f["E15"]["min"]} | {cd.min for s in c.stars for cd in s.conditions if cd.min is not None}
    full = c.rubric.base_total + (c.rubric.bonus_total if c.decisions["bonus_counts"] else 0)
    return SimpleNamespace(
        sat=sorted(sat), full=full, step=c.rubric.step,
        concl=sorted(m for _, m in c.rubric.conclusions if m > 0),
        established=f["E01"]["established_by"], survey=f["E03"]["survey_from"],
        credit=f["E06"]["credit_a_since"], earliest=f["E22"]["earliest"],
        threshold=f["E17"]["threshold"], area=f["E08"]["min_area"], cost=f["E08"]["min_cost"],
        years=(f["E07"]["min_years"], f["E07"]["max_years"]))


def below(x, by=0.1):
    """Just under a limit, as a person types it (69.9 under 70)."""
    return round(x - by, 2)


def base_application(c):
    """The clean 服务类 case of tests/cases plus a full-marks rubric."""
    base = base_values(c.year)
    for p in c.rubric.parts:
        if p.kind in ("score", "range"):
            base[p.key] = p.max
    base[c.rubric.veto_key] = "否"
    return base


def uscc(rng):
    kind = rng.random()
    first = "".join(rng.choice(ALPHABET) for _ in range(17))
    good = make(first)
    if kind < 0.75:
        return good
    if kind < 0.82:
        return good[:-1]  # 17 characters
    if kind < 0.88:
        return good[:5] + "I" + good[6:]  # a letter outside the alphabet
    if kind < 0.95:
        wrong = ALPHABET[(ALPHABET.index(good[-1]) + 1) % len(ALPHABET)]
        return good[:-1] + wrong  # wrong check character
    return good.lower() if any(ch.isalpha() for ch in good) else good


def around(rng, d, days=2):
    return d + dt.timedelta(days=rng.randint(-days, days))


def rubric_values(rng, c, level):
    """Part values: mostly allowed (quality ~ level), sometimes outside (E29)."""
    out = {}
    q = rng.choice([0.3, 0.6, 0.8, 0.95, 1.0])
    for item in c.rubric.items:
        for p in item.parts:
            r = rng.random()
            if r < 0.04:
                out[p.key] = None
                continue
            if p.kind == "score":
                allowed = sorted(p.allowed)
                v = allowed[-1] if rng.random() < q else rng.choice(allowed)
                if r > 0.985:
                    v = max(allowed) + 1 if rng.random() < 0.5 else 0.5  # E29
                out[p.key] = v
            elif p.kind == "range":
                steps = int(p.max / c.rubric.step)
                k = steps if rng.random() < q else rng.randint(0, steps)
                v = k * c.rubric.step
                if r > 0.985:
                    v = rng.choice([p.max + 0.5, 0.3, -1])
                out[p.key] = v
            else:  # errors
                out[p.key] = rng.choice([None, 0, 0, 1, 2, 3]) if r < 0.985 else 1.5
        if item.penalty:
            out[item.penalty.key] = rng.choice([None, "否", "否", "是"])
    out[c.rubric.veto_key] = rng.choice(["否"] * 12 + ["是", None])
    return out


def random_application(rng, c):
    """One random but plausible application (keys as FIELDS.md)."""
    Y = c.year
    cat = rng.choice([x.name for x in c.categories])
    level = rng.choice([lv.applied for lv in c.levels])
    ref = c.reference_date
    lim = limits(c)
    a = base_application(c)
    for k in list(a):
        if k.startswith("se_"):
            del a[k]
    a.update(rubric_values(rng, c, level))
    a["category"], a["level"] = cat, level
    a["uscc"] = uscc(rng)
    a["satisfaction"] = rng.choice([
        round(rng.uniform(60, 100), 1), round(rng.uniform(65, 95)),
        *[v for m in lim.sat for v in (below(m), m)], lim.sat[-1] + 0.5, 90, 100, 0])
    a["report_use"] = rng.choice(c.choices["report_use"] + (None,))
    a["risk"] = rng.choice(["无", "无", "有", None])
    a["fill_date"] = rng.choice([around(rng, c.application_deadline), D(Y, 5, 10), None])
    a["established_date"] = rng.choice([around(rng, lim.established), D(2001, 5, 6), None])
    for k in ("revenue_y1", "revenue_y2", "revenue_y3"):
        a[k] = rng.choice([52000, 0.01, 1200.5, 0, -5, None] + [rng.randint(100, 90000)] * 4)
    a["survey_start"] = rng.choice([around(rng, lim.survey), D(Y, 1, 3), None])
    a["survey_end"] = rng.choice([D(Y, 2, 1), D(Y, 2, 1), lim.survey - dt.timedelta(days=30)])
    a["surveyor_qualified"] = rng.choice(["是"] * 6 + ["否", None])
    a["incidents"] = rng.choice(["无"] * 6 + ["有", None])
    a["prior_pass"] = rng.choice(["是", "否", None])
    a["credit_a"] = rng.choice(["是", "否", None])
    t = lim.threshold
    a["respondents"] = rng.choice([10, t - 1, t, t + 1, 4 * t, None])
    a["respondents_listed"] = rng.choice([0, 9, 10, t - 1, t, t + 10])
    a["contact_mobile"] = rng.choice(["13812345678"] * 5 + ["1381234567", "23812345678",
                                                              "1381234567a", None])
    names = {"服务类": ["轨道交通乘客热线服务", "社区卫生服务中心", "物业管理服务", "研究所"],
             "产品类": ["XYZ-100 型空气净化器", "智能门锁系列", "家用冰箱 BCD-520W"],
             "工程类": ["某某大厦新建工程", "浦东大道改建工程"],
             "企业类": [None, "某某公司"]}
    a["project_name"] = rng.choice(names[cat] + [None])
    if cat == "产品类":
        a["product_kind"] = rng.choice(c.choices["product_kind"] + (None,))
        a["model_spec"] = rng.choice(["XYZ-100", None])
        a["brand"] = "某某牌"
    if cat == "工程类":
        a["eng_type"] = rng.choice(c.choices["eng_type"] + (None,))
        a["area"] = rng.choice([below(lim.area, 0.01), lim.area, lim.area + 0.5, lim.area / 4, None])
        a["cost"] = rng.choice([lim.cost - 1, lim.cost, lim.cost * 1.6, 100, None])
        lo, hi = lim.years
        a["delivery_date"] = rng.choice([
            around(rng, parse_add(ref, -12 * lo)), around(rng, parse_add(ref, -12 * hi)),
            parse_add(ref, -6 * (lo + hi) - 4), D(Y, 1, 1), None])
        a["acceptance_date"] = rng.choice([D(Y - 2, 1, 10), D(Y - 1, 6, 1), None])
        a["general_contractor"] = rng.choice(["是", "是", "否", None])
        a["quality_award"] = rng.choice(["是", "是", "否", None])
    if cat == "企业类":
        a["employees"] = rng.choice([1200, None])
        a["revenue_last"] = 88000
    # sometimes blank a required field (E20)
    if rng.random() < 0.15:
        a[rng.choice(["org_name", "uscc", "category", "level", "satisfaction",
                      "contact_name", "contact_mobile", "project_name"])] = None
    # sometimes an unreadable value the engine cannot read either (E23)
    if rng.random() < 0.12:
        key, bad = rng.choice([
            ("satisfaction", "很高"), ("satisfaction", 105), ("established_date", "去年"),
            ("respondents", 10.5), ("category", "其它类"), ("level", "六星"),
            ("surveyor_qualified", "也许"), ("se_P1", "很好"), ("se_R1", "满分"),
            ("report_use", "不确定"), ("risk", "可能"), ("revenue_y2", "很多"),
            ("se_M1_changed_unreviewed", "不知道"), ("se_V1", "待定"),
            ("org_type", "私营企业"), ("fill_date", "七月")])
        a[key] = bad
    return a


def parse_add(d, months):
    from xl_addin.rules.parse import add_months
    return add_months(d, months)


def targeted_applications(c):
    """Boundaries on both sides and every flag, each from the clean base."""
    Y, ref, lim = c.year, c.reference_date, limits(c)
    day = dt.timedelta(days=1)
    t = lim.threshold
    base = base_application(c)
    changes = [
        {}, {"established_date": lim.established}, {"established_date": lim.established + day},
        {"established_date": None}, {"revenue_y1": 0}, {"revenue_y3": 0.01}, {"revenue_y2": None},
        {"survey_start": lim.survey}, {"survey_start": lim.survey - day}, {"survey_start": None},
        {"surveyor_qualified": "否"}, {"surveyor_qualified": None}, {"incidents": "有"},
        {"incidents": None},
        # pasted variants of 是/否 and 有/无 (FIELDS.md): the sheet reads them as the engine does
        {"surveyor_qualified": "√"}, {"surveyor_qualified": "Y"}, {"surveyor_qualified": "不是"},
        {"surveyor_qualified": "no"}, {"incidents": "没有"}, {"incidents": "×"},
        {"incidents": "存在"}, {"risk": "有"}, {"risk": "没有"},
        {"category": "企业类", "prior_pass": "通过", "credit_a": "N", "project_name": None},
        {"se_V1": "√"}, {"se_V1": "不是"}, {"se_M1_changed_unreviewed": "Y"},
        {"category": "企业类", "prior_pass": "否", "credit_a": "否", "project_name": None},
        {"category": "企业类", "prior_pass": None, "credit_a": "是", "project_name": None},
        *[{"satisfaction": v} for m in lim.sat for v in (below(m), m)],
        {"satisfaction": 100}, {"satisfaction": 0},
        {"uscc": "91310115MA1K3YJH3"}, {"uscc": "91310115MA1K3YJH35"}, {"uscc": "9131O115MA1K3YJH34"},
        {"uscc": "91310115ma1k3yjh34"}, {"uscc": "91310115-MA1K3YJH34"},
        {"respondents": t, "respondents_listed": t - 1}, {"respondents": t, "respondents_listed": t},
        {"respondents": t + 1, "respondents_listed": t}, {"respondents": 10, "respondents_listed": 9},
        {"respondents": None}, {"se_V1": "是"}, {"contact_mobile": "1381234567"},
        {"contact_mobile": "23812345678"}, {"fill_date": c.application_deadline},
        {"fill_date": c.application_deadline + dt.timedelta(days=1)},
        {"report_use": "管理"}, {"report_use": "无"}, {"report_use": None}, {"risk": "有"},
        {"level": "用户满意级"}, {"level": "满意亮诺级"}, {"level": None},
        {"category": None}, {"satisfaction": None}, {"org_name": None, "contact_name": None},
        {"se_R1": 1.5}, {"se_R1": 2.5}, {"se_R1": 0.3}, {"se_P1": 1.5}, {"se_A3_errors": 1},
        {"se_A3_errors": 5}, {"se_A3_errors": 1.5}, {"se_A3_errors": -1},
        {"se_M1_changed_unreviewed": "是"},
        {"se_M1a": 0, "se_M1b": 0, "se_M1c": 0, "se_M1d": 0, "se_M1e": 0, "se_M1f": 2,
         "se_M1_changed_unreviewed": "是"},
        {"satisfaction": 105}, {"satisfaction": "很高"}, {"category": "其它类"}, {"level": "六星"},
        {"se_N1": "非常明确"}, {"se_N1": "基本明确"}, {"se_N1": 3}, {"se_N1": 4},
        # issue 10: E24 (report use read with negation), E06 初评 only, E12, E17, E22, E32
        {"report_use": "用于组织战略制定/改进领域实施方案"}, {"report_use": "用于管理活动"},
        {"report_use": "未应用"}, {"report_use": "未用于战略规划"},
        {"report_use": "不用于战略，仅用于管理"}, {"report_use": "用于管理改进"},
        {"report_use": "应用于战略规划"}, {"report_use": "不确定"},
        {"category": "企业类", "project_name": None, "review_type": "复评", "prior_pass": "否"},
        {"category": "企业类", "project_name": None, "review_type": None, "prior_pass": "否"},
        {"category": "产品类", "level": "用户满意级", "product_kind": "其他",
         "project_name": "海鸥牌电动自行车", "model_spec": "HX-200"},
        {"category": "产品类", "level": "用户满意级", "product_kind": "其他",
         "project_name": "海鸥牌 hx-200 电动自行车", "model_spec": "HX - 200"},
        {"respondents": 20, "respondents_listed": 21}, {"respondents": 20, "respondents_listed": 20},
        {"fill_date": lim.earliest - day}, {"fill_date": lim.earliest},
        {"survey_start": D(Y - 1, 11, 1), "survey_end": D(Y - 1, 10, 31)},
        {"survey_start": c.application_deadline, "survey_end": c.application_deadline},
        {"survey_start": c.application_deadline + dt.timedelta(days=1), "survey_end": None},
        {"level": "满意亮诺"}, {"level": "4"}, {"surveyor_qualified": "有"},
        {"satisfaction": wide(f"{fmt(lim.sat[-1] + 1)}分")}, {"fill_date": f"{Y}.6.20"},
        {"fill_date": f"{Y}年6月20日"},
        {"uscc": "９１３１０１１５－ＭＡ１Ｋ３ＹＪＨ３４\u3000", "contact_mobile": "１３８１２３４５６７８"},
        {"uscc": "9131A115MA1K3YJH30"}, {"uscc": "94310115MA1K3YJH3T"},
        # issue 20: descriptive numbers kept as typed (E34); 手机 with spaces (E21)
        {"beneficiaries": "约120万"}, {"beneficiaries": "１２０万"},
        {"category": "企业类", "project_name": None, "employees": "三百多人",
         "revenue_last": "约2亿"}, {"contact_mobile": "139 1624 5821"},
        {"risk": None}, {"risk": "不详"}, {"report_use": "用于组织战略的制定，推动服务不断改进"},
    ]
    # total just below / at / above each conclusion's minimum (S4): take points off
    for m in lim.concl:
        for drop in (lim.full - m, lim.full - m + lim.step, lim.full - m - lim.step):
            changes.append(_drop_points(c, base, drop))
    for cat in ("产品类", "工程类"):
        changes.append({"category": cat, "level": "标杆级"})
    changes += [
        {"category": "产品类", "product_kind": "食品", "model_spec": "A1"},
        {"category": "产品类", "product_kind": "其他", "model_spec": None, "project_name": "净水器"},
        {"category": "产品类", "product_kind": None, "project_name": "净水器系列", "model_spec": "A"},
        {"category": "服务类", "project_name": "上海第一人民医院"},
    ]
    lo, hi = (-12 * y for y in lim.years)  # E07: months before C6
    mid = parse_add(ref, (lo + hi) // 2)
    eng = {"category": "工程类", "level": "用户满意级", "eng_type": "公共建筑", "area": lim.area,
           "cost": 100, "delivery_date": mid,
           "acceptance_date": parse_add(mid, -1), "general_contractor": "是",
           "quality_award": "是", "project_name": "某某大厦新建工程"}
    under = below(lim.area, 0.01)
    changes += [
        eng, dict(eng, area=under), dict(eng, area=under, cost=lim.cost),
        dict(eng, area=None, cost=None),
        dict(eng, eng_type="水利工程", area=lim.area / 2), dict(eng, eng_type="电力工程", area=lim.area + 1),
        dict(eng, eng_type="其他"), dict(eng, eng_type=None), dict(eng, eng_type="不知道"),
        dict(eng, delivery_date=parse_add(ref, lo)),
        dict(eng, delivery_date=parse_add(ref, lo) + day),
        dict(eng, delivery_date=parse_add(ref, hi)),
        dict(eng, delivery_date=parse_add(ref, hi) - day),
        dict(eng, delivery_date=None), dict(eng, general_contractor="否"),
        dict(eng, quality_award=None),
        # E31: 验收日期 missing / after / on the 交付使用日期
        dict(eng, acceptance_date=None), dict(eng, acceptance_date=mid + day),
        dict(eng, acceptance_date=mid),
    ]
    out = []
    for ch in changes:
        a = dict(base)
        a.update(ch)
        out.append(a)
    return out


def _drop_points(c, base, points):
    """Take about ``points`` off the full rubric: range parts first, then whole parts."""
    out, left = {}, points
    for kind in ("range", "score"):
        for p in c.rubric.parts:
            if p.kind != kind or left <= 0:
                continue
            take = min(p.max, left) if kind == "range" else (p.max if p.max <= left else 0)
            if take:
                out[p.key] = p.max - take
                left -= take
    return out


def applications(c, n_random=520, seed=2023):
    rng = random.Random(seed)
    cases = targeted_applications(c) + [random_application(rng, c) for _ in range(n_random)]
    mat = random.Random(seed + 13)
    for i, case in enumerate(cases):
        case.update(checklist_answers(mat, c, i))
    return cases


def checklist_answers(rng, c, i):
    """材料清单 answers (RULES.md M): every third case complete, the others a mix of
    已提供, 不适用, blank, padded and other words (only the list's words count)."""
    from xl_addin.rules.materials import checklist_name, material_items
    words = [c.dossier["provided"], c.dossier["not_applicable"], None,
             " " + c.dossier["provided"] + " ", "是", "有"]
    out = {}
    for it in material_items(c):
        if i % 3 == 0:
            out[checklist_name(it)] = c.dossier["provided"]
        else:
            out[checklist_name(it)] = rng.choice(words[:1] * 6 + words)
    return out


# ---------------------------------------------------------------------- rows
def random_row(rng, c, seq=1):
    lim = limits(c)
    sat = [v for m in lim.sat for v in (below(m), m)]
    score = [v for m in lim.concl for v in (m - lim.step, m)]
    r = {"seq": seq, "org_name": rng.choice(["上海某某服务有限公司", "某某集团", None]),
         "uscc": uscc(rng), "category": rng.choice([x.name for x in c.categories] + ["企业", None]),
         "level": rng.choice([lv.applied for lv in c.levels] + ["五星", None]),
         "project_name": rng.choice(["热线服务", "XYZ 空调", None]),
         "satisfaction": rng.choice(sat + [92.5, 60, None, 101, "很好"]),
         "self_score": rng.choice(score + [95, lim.full, None, lim.full + 1, "优"]),
         "surveyor_score": rng.choice([88, None, 120]),
         "opinion": rng.choice(["同意推荐", None])}
    return r


def rows(c, n=240, seed=7):
    rng = random.Random(seed)
    return [random_row(rng, c, i + 1) for i in range(n)]


# ---------------------------------------------------------------------- typed variants
W = str.maketrans({chr(i - 0xFEE0): chr(i) for i in range(0xFF01, 0xFF5F)})


def wide(s):
    """The full-width form of ASCII text (what a Chinese IME types)."""
    return str(s).translate(W)


def _number_variants(rng, unit, c):
    lim = limits(c)
    top = lim.sat[-1]
    x = rng.choice([top + 1, top + 0.5, 0, 100, lim.cost, lim.area, below(lim.area, 0.01), 12, 3])
    base = ["{x}", "{x}分", " {x} ", "{x} 分", "+{x}", "{x}%", "{x}万", "{x}人", "{x}.", ".5",
            "1,{x}", "{x}分分", "八十六", "{x}e3", "{x}-", "--{x}", "{x}.5.1", "0{x}", "{x}个",
            "{x}m2", "{x}M2", "{x}万元", "{x}元", "{x}亿", "{x}亿元", "{x}平方米", "{x}万平方米",
            "{x}㎡", "{x}万㎡", "{x}平米", "{x}万平米", "{x}公斤", "-{x}", "{x}　分"]
    s = rng.choice(base).format(x=x)
    r = rng.random()
    if r < 0.3:
        s = wide(s)
    elif r < 0.4:
        return x  # a real number
    return s


def _date_variants(rng, c):
    lim = limits(c)
    y, m, d = rng.choice([(c.year, 5, 1)] + [
        (x.year, x.month, x.day) for x in (lim.survey, c.application_deadline, lim.credit)]
        + [(c.year, 2, 28)])
    forms = [f"{y}-{m:02d}-{d:02d}", f"{y}.{m}.{d}", f"{y}/{m}/{d}", f"{y}年{m}月{d}日",
             f"{y}年{m}月{d}", f"{y}{m:02d}{d:02d}", f"{y}-{m}-{d} 10:30", f"{y}-{m}-{d} 10:30:05",
             f"{y}-{m}-{d} 上午", f"{y}.{m}.{d}日", f"{y}/{m:02d}/{d:02d}", f"{y}年{m:02d}月{d:02d}日",
             f"{y}-02-30", f"{y}.13.1", f"{y % 100}.{m}.{d}", f"{y}年{m}月{d}号", "45047", "00000",
             "七月", f"{y}-{m}-{d}-", f"{y}--{m}-{d}", f"{y}年 {m}月 {d}日", f"{y}.{m}.{d}  ",
             "1899-12-31", "1900-03-01", f"{y}-{m}-{d}T10:00", f"{y}/{m}/{d} 9:00"]
    s = rng.choice(forms)
    r = rng.random()
    if r < 0.25:
        return wide(s)
    if r < 0.35:
        return D(y, m, d)
    if r < 0.4:
        return float((D(y, m, d) - D(1899, 12, 30)).days)
    return s


def _yes_variants(rng):
    s = rng.choice(["是", "否", "√", "×", "Y", "y", "N", "yes", "No", "有", "无", "没有", "不是",
                    "对", "通过", "未通过", "具备", "也许", "是的", "1", "0", "TRUE", " 是 ", "x",
                    "存在", "不存在", "2"])
    r = rng.random()
    if r < 0.2:
        return wide(s)
    if r < 0.3:
        return rng.choice([1.0, 0.0, 2.0])
    return s


def _uscc_variant(rng, c):
    good = make("91310115MA1K3YJH3") if rng.random() < 0.5 else make(
        rng.choice(["91", "92", "93", "12", "51", "Y1", "N2", "31", "94", "B1"])
        + "".join(rng.choice("0123456789") for _ in range(6))
        + "".join(rng.choice(ALPHABET) for _ in range(9)))
    forms = [good, good.lower(), wide(good), good[:8] + "-" + good[8:], good[:8] + "－" + good[8:],
             good[:6] + " " + good[6:], good[:6] + "\u3000" + good[6:], "\u3000" + good + "\u3000",
             good[:-1], good[:4] + "I" + good[5:], wide(good.lower()), good[:2] + "A" + good[3:]]
    return rng.choice(forms)


def _choice_variant(rng, options, extra=()):
    o = rng.choice(list(options) + list(extra))
    r = rng.random()
    if r < 0.15:
        return " " + o + " "
    if r < 0.25 and len(o) > 1:
        return o[0] + " " + o[1:]
    if r < 0.3:
        return wide(o)
    return o


def typed_variant_row(rng, c):
    """One set of typed values for every application input (FIELDS.md), as people type or
    paste them: full width, units, date forms, 是/否 and 有/无 words, level and category
    words, report-use sentences, and values neither side can read."""
    row = {}
    for f in c.fields["application"]:
        if f.block == "derived":
            continue
        t = f.type
        if t == "number":
            v = _number_variants(rng, f.unit, c)
        elif t == "integer":
            v = rng.choice(["10", "10人", "１０", "10.5", 10.0, "1,200", "十", "10名", "0", "-3"])
        elif t == "date":
            v = _date_variants(rng, c)
        elif t == "uscc":
            v = _uscc_variant(rng, c)
        elif t == "mobile":
            v = rng.choice(["13812345678", wide("13812345678"), "138 1234 5678", "1381234567",
                            "\u300013812345678", 13812345678.0, "+8613812345678"])
        elif t == "category":
            v = _choice_variant(rng, [x.name for x in c.categories], ["企业", "服务", "工程 类",
                                                                       "商业类", "产品类别"])
        elif t == "level":
            lv = rng.choice(c.levels)
            v = rng.choice([lv.applied, lv.name, *lv.variants, str(lv.rank), float(lv.rank),
                            wide(str(lv.rank)), "六星", "6", 6.0, "满意", "标杆 级"])
        elif t == "report_use":
            v = rng.choice([*c.choices["report_use_form"], *c.choices["report_use"],
                            "未用于战略规划", "不用于战略，仅用于管理", "用于管理改进", "应用于战略规划",
                            "尚未用于战略", "没有应用", "未应用", "无", "用于战略和管理", "不确定",
                            "用于管理", "战略 管理", "ＡＢＣ", "用于组织战略制定/改进领域实施方案 ",
                            "未使用", 1.0])
        elif t == "choice" and f.choices in ("yesno", "hasnot", "risk"):
            v = _yes_variants(rng)
        elif t == "choice":
            v = _choice_variant(rng, c.choices[f.choices], ["其它", "民营"])
        else:  # text, email
            v = rng.choice(["上海某某有限公司", wide("ABC-123") + "型", "  前后空格  ", "a  b",
                            "“引号”、顿号。", 123.0, "-", "—", "无数据", "／", "\u3000"])
        row[f.key] = v
    for item in c.rubric.items:
        for p in item.parts:
            row[p.key] = rng.choice([
                p.max, str(fmt(p.max)), wide(fmt(p.max)), f"{fmt(p.max)}分", "0", "1.5", "满分",
                "非常明确", "基本明确", " 2 ", "２分", -1.0, "0.5", "1e1", "3."])
        if item.penalty:
            row[item.penalty.key] = _yes_variants(rng)
    row[c.rubric.veto_key] = _yes_variants(rng)
    return row


def fmt(x):
    from xl_addin.rules.show import fmt_number
    return fmt_number(x)


def typed_variant_rows(n, c, seed=10):
    rng = random.Random(seed)
    return [typed_variant_row(rng, c) for _ in range(n)]
