"""The demo campaign as data: organisations, applications with one problem each, the
recommenders' headers and 附件3 rows (no files). Seeded: the same seed, the same campaign."""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from xl_addin.rules import parse
from xl_addin.rules.engine import evaluate_application
from xl_addin.rules.materials import applies, checklist_name, material_items
from xl_addin.rules.parse import add_months
from xl_addin.rules.uscc import ALPHABET, make

DEFAULT_SEED = 2023

RECOMMENDERS = (
    "上海市质量协会", "上海市电气行业协会", "上海市建筑施工行业协会", "上海市轻工业协会",
    "上海市物业管理行业协会", "上海市市政工程行业协会", "上海市医疗器械行业协会",
    "上海市仪器仪表行业协会", "上海市交通运输行业协会", "上海市电子学会", "上海市银行同业公会",
    "浦东新区质量协会", "闵行区质量协会", "嘉定区质量协会", "松江区质量协会", "宝山区质量协会",
    "上海市通信行业协会", "上海市汽车配件流通行业协会",
)
DISTRICTS = {"浦东": "310115", "闵行": "310112", "嘉定": "310114", "松江": "310117",
             "宝山": "310113", "徐汇": "310104", "静安": "310106", "杨浦": "310110",
             "青浦": "310118", "奉贤": "310120"}
STEMS = ("申江", "华东", "东方", "浦江", "沪光", "申联", "金桥", "张江", "临港", "虹桥", "新沪",
         "海天", "明珠", "隆昌", "振华", "宏达", "华谊", "汇众", "长江", "天祥", "泰和", "中兴",
         "三林", "星海", "润和", "开元", "恒信", "嘉和", "永业", "远东")
TRADES = {
    "企业类": ("电气", "精密机械", "信息技术", "新材料", "供应链管理", "环保科技", "仪器仪表"),
    "服务类": ("物业服务", "城市燃气", "公交客运", "商业银行", "通信服务", "医疗服务", "水务"),
    "产品类": ("家用电器", "电梯部件", "照明电器", "医疗器械", "汽车零部件", "智能仪表", "厨卫电器"),
    "工程类": ("建工", "市政建设", "园林建设", "路桥建设", "水利建设", "电力建设", "安装工程"),
}
FORMS = ("有限公司", "股份有限公司", "集团有限公司", "有限责任公司")
SERVICES = ("客户服务热线", "社区居家养老服务", "门诊预约诊疗服务", "轨道交通乘客服务",
            "住宅小区物业服务", "燃气报装服务", "普惠金融服务", "宽带装维服务", "公交乘客服务")
PRODUCTS = (("变频空调", "KFR-35GW"), ("曳引机", "YJ-240"), ("LED 筒灯", "DL-12W"),
            ("电子血压计", "BP-A16"), ("电动助力转向器", "EPS-C3"), ("智能电能表", "DTZY-1"),
            ("吸油烟机", "CXW-260"))
WORKS = (("大厦新建工程", "公共建筑"), ("路改建工程", "市政工程"), ("公园景观工程", "园林工程"),
         ("立交桥工程", "交通工程"), ("泵站改造工程", "水利工程"), ("变电站新建工程", "电力工程"))
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余"
GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
         "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "志强", "晓东", "海燕", "玉兰")
SURVEYORS = ("上海质量管理科学研究院", "上海市质量协会用户评价中心", "华东质量测评有限公司",
             "申城满意度研究所有限公司")

# One application in PROBLEM_EVERY carries a problem; the kinds cycle (RULES.md §E).
PROBLEMS = ("E01", "E02", "E03", "E04", "E05", "E06", "E07", "E08", "E09", "E10", "E11", "E12",
            "E13", "E14", "E15", "E16", "E17", "E18", "E19", "E20", "E21", "E22", "E23", "E27",
            "E29", "E30", "E25", "E26", "no_row", "no_workbook", "inject", "moved", "merged",
            "formula")
PROBLEM_EVERY = 3
# `saq demo`'s size: enough for every kind of problem and a believable campaign, small enough
# to be written, consolidated and opened in a few seconds.
DEMO_APPS, DEMO_RECOMMENDERS = 90, 10
NEEDS = {"E06": ("企业类",), "E07": ("工程类",), "E08": ("工程类",), "E09": ("工程类",),
         "E10": ("工程类",), "E11": ("产品类",), "E12": ("产品类",), "E13": ("服务类",),
         "E14": ("产品类", "工程类"), "E30": ("企业类", "服务类")}


@dataclass
class DemoApp:
    values: dict
    respondents: list
    recommender: str
    file_name: str
    problem: str = ""
    in_row: bool = True
    write_workbook: bool = True
    row_overrides: dict = field(default_factory=dict)
    stored_total: float | None = None
    layout: int = 0  # rows the blocks are moved down (a user inserted rows)
    merged: bool = False
    formula: str | None = None  # a formula typed over satisfaction, with its cached value
    # Its dossier (RULES.md M): the items applicable to its category are all there, except
    # these (no file; the 材料清单 leaves them unticked) and these answered 不适用.
    dossier_missing: tuple = ()
    dossier_na: tuple = ()


@dataclass
class DemoCampaign:
    folder: Path
    apps: list
    recommenders: dict  # name -> header dict
    broken: list  # names of broken/odd files written


# ---------------------------------------------------------------------- data
def _person(rng):
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _mobile(rng):
    return "1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9))


def _uscc(rng, region):
    body = "".join(rng.choice(ALPHABET) for _ in range(9))
    return make("91" + region + body)


def _rubric_values(c, rng, quality):
    """Part scores: the top value with probability ``quality``, else a lower allowed one."""
    vals = {}
    for p in c.rubric.parts:
        if p.kind == "penalty":
            vals[p.key] = "否"
        elif p.kind == "errors":
            vals[p.key] = 0 if rng.random() < quality else 1
        elif p.kind == "range":
            top = p.max
            vals[p.key] = top if rng.random() < quality else max(0.0, top - rng.choice((0.5, 1, 1.5)))
        else:
            allowed = sorted(p.allowed)
            vals[p.key] = allowed[-1] if rng.random() < quality else rng.choice(allowed[:-1])
    vals[c.rubric.veto_key] = "否"
    return vals


def application(c, rng, i, category, recommender):
    district = rng.choice(list(DISTRICTS))
    trade = rng.choice(TRADES[category])
    org = f"上海{rng.choice(STEMS)}{trade}{rng.choice(FORMS)}"
    if rng.random() < 0.3:
        org = f"上海{district}{rng.choice(STEMS)}{trade}{rng.choice(FORMS)}"
    Y = c.year
    v = {
        "recommender": recommender, "fill_date": dt.date(Y, 6, 1) + dt.timedelta(days=rng.randrange(40)),
        "org_name": org, "uscc": _uscc(rng, DISTRICTS[district]),
        "org_type": rng.choice(("国有企业", "民营企业", "外资企业", "合资企业")),
        "industry": rng.choice(c.choices["industry"][2:12]),
        "org_size": rng.choice(c.choices["org_size"][:3]), "category": category,
        "satisfaction": round(rng.uniform(76, 94), 1), "review_type": rng.choice(("初评", "复评")),
        "contact_name": _person(rng), "contact_dept": rng.choice(("质量管理部", "客户服务部", "总经理办公室")),
        "contact_title": rng.choice(("经理", "主管", "副总经理")), "contact_mobile": _mobile(rng),
        "contact_address": f"上海市{district}区{rng.choice(STEMS)}路{rng.randrange(1, 999)}号",
        "established_date": dt.date(rng.randrange(1990, Y - 4), rng.randrange(1, 13), 1),
        "revenue_y1": rng.randrange(2000, 90000), "revenue_y2": rng.randrange(2000, 90000),
        "revenue_y3": rng.randrange(2000, 90000),
        "survey_start": dt.date(Y - 1, 11, 1) + dt.timedelta(days=rng.randrange(60)),
        "survey_end": dt.date(Y, 2, 1) + dt.timedelta(days=rng.randrange(60)),
        "surveyor_name": rng.choice(SURVEYORS), "surveyor_qualified": "是", "incidents": "无",
        "respondents": rng.choice((40, 48, 120, 300, 600)),
        "report_use": rng.choice(("战略", "战略", "管理")), "risk": "无",
    }
    if category == "企业类":
        v.update(employees=rng.randrange(80, 5000), revenue_last=v["revenue_y3"],
                 main_products=f"{trade}产品与服务", industry_benchmark="行业龙头企业",
                 prior_pass="是", credit_a=rng.choice(("是", "否")),
                 main_customers="国内外企业客户", beneficiaries=rng.randrange(1000, 90000))
    elif category == "服务类":
        v.update(project_name=f"{org[2:4]}{rng.choice(SERVICES)}", service_function=trade,
                 service_staff=rng.randrange(20, 800), main_customers="本市居民",
                 beneficiaries=rng.randrange(5000, 900000))
    elif category == "产品类":
        name, model = rng.choice(PRODUCTS)
        brand = org[2:4]
        v.update(project_name=f"{brand}牌 {model} 型{name}", brand=brand, model_spec=model,
                 product_kind="其他", main_customers="全国经销商及终端用户",
                 beneficiaries=rng.randrange(5000, 500000))
    else:
        name, kind = rng.choice(WORKS)
        v.update(project_name=f"{rng.choice(STEMS)}{name}", eng_type=kind,
                 client_name=f"上海{rng.choice(STEMS)}投资发展有限公司",
                 site=f"上海市{district}区", cost=rng.randrange(6000, 90000),
                 area=round(rng.uniform(2.2, 30), 1),
                 completion_date=dt.date(Y - 2, rng.randrange(1, 13), 1),
                 acceptance_date=dt.date(Y - 2, rng.randrange(1, 13), 15),
                 delivery_date=dt.date(Y - 2, rng.randrange(1, 7), 20),
                 designer="上海建筑设计研究院有限公司", supervisor="上海建设工程监理有限公司",
                 client_opinion="满意", general_contractor="是", quality_award="是")
        # E31: accepted (验收) before it was delivered; same random draws as before
        v["acceptance_date"] = min(v["acceptance_date"], v["delivery_date"])
        v["completion_date"] = min(v["completion_date"], v["acceptance_date"])
    v.update(_rubric_values(c, rng, rng.uniform(0.75, 0.97)))
    # The applicant applies for what its own figures reach (L1–L5, from the campaign's rules).
    rank = evaluate_application(v, c).star.achievable or min(lv.rank for lv in c.levels)
    v["level"] = c.level(rank).applied
    n, t = v["respondents"], c.flags["E17"]["threshold"]
    listed = min(n, t) if n <= t else rng.choice((t, t + 10))  # E17: all, or at least t
    respondents = [(k + 1, _person(rng), _mobile(rng)) for k in range(listed)]
    safe = re.sub(r"[^\w\u4e00-\u9fff-]", "", v.get("project_name") or org)[:20]
    return DemoApp(v, respondents, recommender, f"申请书_{org}_{safe}_{i:03d}.xlsx")


def _apply_problem(app, kind, c, rng):
    """Give one application one problem of ``kind`` (a flag code or a file trouble)."""
    v, Y, f = app.values, c.year, c.flags
    app.problem = kind
    # Each problem is placed from the campaign's rule values, so it is one on any campaign.
    if kind == "E01":
        v["established_date"] = add_months(f["E01"]["established_by"], 14)
    elif kind == "E02":
        v["revenue_y2"] = 0
    elif kind == "E03":
        v["survey_start"] = add_months(f["E03"]["survey_from"], -4)
    elif kind == "E04":
        v["surveyor_qualified"] = "否"
    elif kind == "E05":
        v["incidents"] = "有"
    elif kind == "E06":
        v.update(prior_pass="否", credit_a="否", review_type="初评")  # E06 asks of 初评 only
    elif kind == "E07":
        v["delivery_date"] = dt.date(Y, 3, 1)
    elif kind == "E08":
        v.update(eng_type=f["E08"]["strict"][0], area=f["E08"]["min_area"] * 0.4,
                 cost=round(f["E08"]["min_cost"] * 0.24))
    elif kind in ("E09", "E10"):
        v["general_contractor" if kind == "E09" else "quality_award"] = "否"
    elif kind == "E11":
        v.update(product_kind="食品", project_name=f"{v['brand']}牌 500g 装月饼", model_spec="500g")
    elif kind == "E12":
        v.update(project_name=f"{v['brand']}牌节能灯系列产品", model_spec=None)
    elif kind == "E13":
        v["project_name"] = f"上海{v['org_name'][2:4]}医院"
    elif kind == "E14":
        v["level"] = "标杆级"
    elif kind == "E15":
        v["satisfaction"] = f["E15"]["min"] - 3.5
    elif kind == "E16":
        u = v["uscc"]
        v["uscc"] = u[:17] + ALPHABET[(ALPHABET.index(u[17]) + 1) % len(ALPHABET)]
    elif kind == "E17":
        v["respondents"] = 4 * f["E17"]["threshold"]
        app.respondents = app.respondents[:f["E17"]["threshold"] // 4]
    elif kind == "E18":
        for p in c.rubric.parts:
            if p.kind in ("score", "range"):
                v[p.key] = 0 if rng.random() < 0.6 else v[p.key]
    elif kind == "E19":
        v[c.rubric.veto_key] = "是"
    elif kind == "E20":
        v["contact_name"] = None
        v["satisfaction"] = None
    elif kind == "E21":
        v["contact_mobile"] = "021-6234567"
    elif kind == "E22":
        v["fill_date"] = c.application_deadline + dt.timedelta(days=31)
    elif kind == "E23":
        v["satisfaction"] = "八十五分"
    elif kind == "E27":
        app.stored_total = 99.5  # a total typed over the formula
    elif kind == "E29":
        v["se_P1"] = 1.5
    elif kind == "E30":
        four = next(s for s in c.stars if s.level == max(lv.rank for lv in c.levels) - 1)
        floor = next(cd.min for cd in four.conditions if cd.min is not None)
        v.update(satisfaction=floor + 2.5, level=c.level(max(lv.rank for lv in c.levels)).applied)
    elif kind == "E26":
        app.row_overrides = {"satisfaction": round(v["satisfaction"] + 3, 1)}
    elif kind == "no_row":
        app.in_row = False
    elif kind == "no_workbook":
        app.write_workbook = False
    elif kind == "inject":
        v["contact_address"] = "=HYPERLINK(\"http://example.com\",\"点击\")"
        v["main_customers"] = "@SUM(1+1)"
    elif kind == "moved":
        app.layout = 7
    elif kind == "merged":
        app.merged = True
    elif kind == "formula":
        app.formula = ("80+5", 85)


# One application in DOSSIER_EVERY of those without another problem has a gap in its
# dossier, cycling through these (item key, how): an item not sent (M06, M10, M07), awards
# answered 不适用 (no finding). Drawn apart from the main sequence: the campaign's other
# data stay as they were.
DOSSIER_PROBLEMS = (("license", "missing"), ("awards", "na"), ("database", "missing"),
                    ("awards", "missing"))
DOSSIER_EVERY = 25


def checklist_answers(c, app):
    """The 材料清单 of an application, ticked to match its dossier: 已提供 for every item
    applicable to its category that is there, 不适用 where so answered, blank where missing.

    Returns:
        dict: defined name (``mat_*``) -> answer.
    """
    try:
        category = parse.category(app.values.get("category"), c)
    except parse.Unreadable:
        category = None
    out = {}
    for it in material_items(c):
        if not applies(it, category):
            continue
        if it["key"] in app.dossier_na:
            out[checklist_name(it)] = c.dossier["not_applicable"]
        elif it["key"] not in app.dossier_missing:
            out[checklist_name(it)] = c.dossier["provided"]
    return out


def _every_kind(n_apps):
    """A campaign of at least two applications per kind of problem (the demo, not the tests'
    small corpora) gets every kind of problem and of dossier gap at least once."""
    return n_apps >= 2 * len(PROBLEMS)


def _dossier_gaps(apps, every_kind):
    plain = [a for a in apps if not a.problem]
    step = DOSSIER_EVERY
    if every_kind:
        step = max(1, min(step, len(plain) // len(DOSSIER_PROBLEMS)))
    for k, a in enumerate(plain[step // 2::step]):
        key, how = DOSSIER_PROBLEMS[k % len(DOSSIER_PROBLEMS)]
        if how == "na":
            a.dossier_na = (key,)
        else:
            a.dossier_missing = (key,)


def build(c, seed=DEFAULT_SEED, n_apps=DEMO_APPS, n_recommenders=DEMO_RECOMMENDERS):
    """The demo campaign as data (no files): applications, recommender headers.

    Returns:
        (apps, recommenders)
    """
    rng = random.Random(seed)
    recs = list(RECOMMENDERS[:n_recommenders])
    while len(recs) < n_recommenders:
        recs.append(f"上海市第{len(recs) + 1}行业协会")
    cats = [ct.name for ct in c.categories]
    weights = (2, 3, 3, 2)
    apps = []
    for i in range(n_apps):
        cat = rng.choices(cats, weights[:len(cats)])[0]
        apps.append(application(c, rng, i + 1, cat, recs[i % len(recs)]))
    # Problems go to applications of a fitting category, so the data stay plausible.
    # one in three has a problem; a campaign of the demo's size has every kind at least once
    n_problems = n_apps // PROBLEM_EVERY
    if _every_kind(n_apps):
        n_problems = max(n_problems, len(PROBLEMS))
    free = sorted(rng.sample(range(n_apps), n_problems))  # spread over recommenders
    for k in range(len(free)):
        kind = PROBLEMS[k % len(PROBLEMS)]
        fits = [i for i in free if apps[i].values["category"] in NEEDS.get(kind, cats)]
        if fits:
            free.remove(fits[0])
            _apply_problem(apps[fits[0]], kind, c, rng)
    _dossier_gaps(apps, _every_kind(n_apps))
    # E25: the same application sent again by another recommender (a changed copy).
    dups = [a for a in apps if a.problem == "E25"]
    for a in dups:
        twin = DemoApp(dict(a.values), list(a.respondents), recs[(recs.index(a.recommender) + 1) % len(recs)],
                       a.file_name.replace(".xlsx", "_再次提交.xlsx"), "E25")
        twin.values["contact_name"] = _person(rng)
        twin.values["recommender"] = twin.recommender
        apps.append(twin)
    headers = {}
    for k, r in enumerate(recs):
        headers[r] = {"recommender": r, "filler_name": _person(rng), "filler_dept": "秘书处",
                      "filler_title": rng.choice(("秘书长", "副秘书长", "主任")),
                      "filler_mobile": _mobile(rng),
                      "filler_email": f"saq{k + 1:02d}@example.org.cn",
                      "fill_date": dt.date(c.year, 7, 10) + dt.timedelta(days=rng.randrange(15))}
    headers[recs[2 % len(recs)]]["filler_email"] = "secretary#example.org"  # E28
    headers[recs[3 % len(recs)]]["fill_date"] = dt.date(c.year, 8, 15)  # E22 (C3)
    return apps, headers


def row_of(c, app, seq):
    """The 附件3 row (FIELDS.md labels) a recommender writes for ``app``."""
    v = app.values
    ev = evaluate_application({k: x for k, x in v.items()}, c)
    row = {"seq": seq, "org_name": v.get("org_name"), "uscc": v.get("uscc"),
           "category": v.get("category"), "level": v.get("level"),
           "project_name": v.get("project_name"), "satisfaction": v.get("satisfaction"),
           "self_score": ev.rubric.total, "surveyor_score": ev.rubric.total,
           "opinion": "同意推荐"}
    row.update(app.row_overrides)
    return {f.label: row.get(f.key) for f in c.fields["recommendation_row"]}
