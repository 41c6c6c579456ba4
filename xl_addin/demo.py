"""`saq demo`: generate a realistic campaign folder, consolidate it, say where the master is.

At least 16 recommenders and 150 applications with Chinese organisation names in all four
categories; some applications carry each kind of problem (E01–E30), a few files are broken
(not a zip, truncated, password-protected, .xls, .csv, a lock file, a zip bomb, not our
template, last year's template). Seeded: the same seed gives the same files.

Workbooks are written by the live templates' ``forms.fill`` when that module exists;
otherwise by a small writer here that follows the same contract (``_meta`` sheet, defined
names = field keys, tables ``respondent_list`` / ``recommendations``; FIELDS.md).
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .campaign import load
from .uscc import ALPHABET, make

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


def _application(c, rng, i, category, recommender):
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
    v.update(_rubric_values(c, rng, rng.uniform(0.75, 0.97)))
    # The applicant applies for what its own figures reach (L1–L5, from the campaign's rules).
    from .engine import evaluate_application
    rank = evaluate_application(v, c).star.achievable or min(lv.rank for lv in c.levels)
    v["level"] = c.level(rank).applied
    n = v["respondents"]
    listed = min(n, 50) if n <= 50 else rng.choice((50, 60))
    respondents = [(k + 1, _person(rng), _mobile(rng)) for k in range(listed)]
    safe = re.sub(r"[^\w\u4e00-\u9fff-]", "", v.get("project_name") or org)[:20]
    return DemoApp(v, respondents, recommender, f"申请书_{org}_{safe}_{i:03d}.xlsx")


def _apply_problem(app, kind, c, rng):
    """Give one application one problem of ``kind`` (a flag code or a file trouble)."""
    v, Y = app.values, c.year
    app.problem = kind
    if kind == "E01":
        v["established_date"] = dt.date(Y - 2, 3, 1)
    elif kind == "E02":
        v["revenue_y2"] = 0
    elif kind == "E03":
        v["survey_start"] = dt.date(Y - 1, 6, 1)
    elif kind == "E04":
        v["surveyor_qualified"] = "否"
    elif kind == "E05":
        v["incidents"] = "有"
    elif kind == "E06":
        v.update(prior_pass="否", credit_a="否")
    elif kind == "E07":
        v["delivery_date"] = dt.date(Y, 3, 1)
    elif kind == "E08":
        v.update(eng_type="公共建筑", area=0.8, cost=1200)
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
        v["satisfaction"] = 66.5
    elif kind == "E16":
        u = v["uscc"]
        v["uscc"] = u[:17] + ALPHABET[(ALPHABET.index(u[17]) + 1) % len(ALPHABET)]
    elif kind == "E17":
        v["respondents"] = 200
        app.respondents = app.respondents[:12]
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
        v["fill_date"] = dt.date(Y, 8, 20)
    elif kind == "E23":
        v["satisfaction"] = "八十五分"
    elif kind == "E27":
        app.stored_total = 99.5  # a total typed over the formula
    elif kind == "E29":
        v["se_P1"] = 1.5
    elif kind == "E30":
        v.update(satisfaction=80.5, level="标杆级")
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


def build(c, seed=DEFAULT_SEED, n_apps=160, n_recommenders=18):
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
        apps.append(_application(c, rng, i + 1, cat, recs[i % len(recs)]))
    # Problems go to applications of a fitting category, so the data stay plausible.
    free = sorted(rng.sample(range(n_apps), n_apps // PROBLEM_EVERY))  # spread over recommenders
    for k in range(len(free)):
        kind = PROBLEMS[k % len(PROBLEMS)]
        fits = [i for i in free if apps[i].values["category"] in NEEDS.get(kind, cats)]
        if fits:
            free.remove(fits[0])
            _apply_problem(apps[fits[0]], kind, c, rng)
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


# ---------------------------------------------------------------------- writing
class Writers:
    """Writes the demo's workbooks: the live templates (forms.fill, sped up by FastFill);
    the small contract writer below lays out the moved and merged variants."""

    def __init__(self, c, workdir):
        from .forms import fill
        self.c, self.fill = c, fill
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        a, r = workdir / "blank_application.xlsx", workdir / "blank_recommender.xlsx"
        fill.fill_application(a, {}, campaign=c)
        fill.fill_recommender(r, {}, [], campaign=c)
        self.app, self.rec = FastFill(a), FastFill(r)
        a.unlink()
        r.unlink()

    def application(self, path, app):
        """One applicant workbook, then the file-level trouble the app was given."""
        c = self.c
        values = {k: v for k, v in app.values.items() if v is not None}
        if app.formula:
            values.pop("satisfaction", None)
        people = [{"姓名": name, "联系方式": tel} for _seq, name, tel in app.respondents]
        if not app.layout and not app.merged and \
                len(people) <= self.app.capacity("respondent_list"):
            self.app.write(path, values, {"respondent_list": people})  # already normalised
        else:  # moved blocks and merged cells: the contract writer lays the sheet out itself
            write_plain_application(path, values, app.respondents, c, app.layout, app.merged)
            normalise(path)
        if app.formula:
            set_cell(path, "satisfaction", formula=app.formula[0], cached=app.formula[1])
        if app.stored_total is not None:
            set_cell(path, "se_total", cached=app.stored_total)

    def recommender(self, path, header, rows):
        c = self.c
        if len(rows) <= self.rec.capacity("recommendations"):
            self.rec.write(path, header, {"recommendations": rows})
            return
        self.fill.fill_recommender(path, header, rows, campaign=c)
        normalise(path)


def _row_of(c, app, seq):
    """The 附件3 row (FIELDS.md labels) a recommender writes for ``app``."""
    from .engine import evaluate_application
    v = app.values
    ev = evaluate_application({k: x for k, x in v.items()}, c)
    row = {"seq": seq, "org_name": v.get("org_name"), "uscc": v.get("uscc"),
           "category": v.get("category"), "level": v.get("level"),
           "project_name": v.get("project_name"), "satisfaction": v.get("satisfaction"),
           "self_score": ev.rubric.total, "surveyor_score": ev.rubric.total,
           "opinion": "同意推荐"}
    row.update(app.row_overrides)
    return {f.label: row.get(f.key) for f in c.fields["recommendation_row"]}


def write_campaign(folder, seed=DEFAULT_SEED, n_apps=160, n_recommenders=18, campaign=None,
                   broken=True):
    """Write the demo campaign's files into ``folder``.

    Returns:
        DemoCampaign
    """
    c = campaign or load()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    apps, headers = build(c, seed, n_apps, n_recommenders)
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        w = Writers(c, tmp)
    rows = {r: [] for r in headers}
    for app in apps:
        d = folder / app.recommender / "申请书"
        if app.write_workbook:
            d.mkdir(parents=True, exist_ok=True)
            w.application(d / app.file_name, app)
        if app.in_row:
            rows[app.recommender].append(_row_of(c, app, len(rows[app.recommender]) + 1))
    first = next(iter(rows))
    rows[first].append({"序号": len(rows[first]) + 1, "推荐意见": "同意推荐（名称待补）",
                        "满意度得分": 88})  # a row nobody can identify: 拒收
    for r, hdr in headers.items():
        (folder / r).mkdir(parents=True, exist_ok=True)
        w.recommender(folder / r / f"附件3_初审推荐意见表_{r}.xlsx", hdr, rows[r])
    names = write_broken(folder / "邮件附件", c) if broken else []
    return DemoCampaign(folder, apps, headers, names)


class FastFill:
    """Fill copies of one blank template by editing its sheet XML (about 100× faster than
    building each workbook with openpyxl; the demo must run in well under a minute).

    Cells are found through the template's own defined names and table parts, as a reader
    would; styles, formulas and validations of the template are kept untouched.
    """

    MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

    def __init__(self, blank_path):
        from python_calamine import CalamineWorkbook

        from . import fastread
        from .xlcache import without_values
        with zipfile.ZipFile(blank_path) as z:
            # the blank's cached values would be stale once inputs are patched in: the
            # copies ask for recalculation on load, as files saved without a calc engine
            self.items = without_values({i.filename: z.read(i.filename) for i in z.infolist()})
            sheets, names = fastread._workbook_parts(z, blank_path)
        self.part = {name: part for name, _state, part in sheets}
        self.names = {k: fastread.parse_ref(v) for k, v in names.items()}
        wb = CalamineWorkbook.from_path(str(blank_path), load_tables=True)
        self.tables = {}
        for t in wb.table_names:
            tb = wb.get_table_by_name(t)
            self.tables[t] = (tb.sheet, tb.start[0] + 1, tb.start[1] + 1, list(tb.columns),
                              tb.end[0] - tb.start[0] + 1)
        wb.close()

    def capacity(self, table):
        return self.tables[table][4]

    def write(self, path, values, tables=None):
        """values: defined name -> value; tables: name -> list of dicts (label -> value)."""
        edits = {}  # sheet -> {(row, col): value}
        for key, v in values.items():
            ref = self.names.get(key)
            if ref is not None:
                edits.setdefault(ref[0], {})[(ref[1], ref[2])] = v
        for t, rows in (tables or {}).items():
            sheet, r0, c0, cols, cap = self.tables[t]
            if len(rows) > cap:
                raise ValueError(f"table {t} holds {cap} rows")
            for i, row in enumerate(rows):
                for j, h in enumerate(cols):
                    if row.get(h) is not None:
                        edits.setdefault(sheet, {})[(r0 + i, c0 + j)] = row[h]
        items = dict(self.items)
        for sheet, cells in edits.items():
            items[self.part[sheet]] = self._patch(items[self.part[sheet]], cells)
        _rewrite(path, items)

    _CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"([^>]*?)\s*(?:/>|>(?:.*?)</c>)', re.S)

    def _patch(self, xml, cells):
        """Rewrite the cells in place (regex, fast); cells the template lacks go via ET."""
        from .fastread import col_letter
        want = {f"{col_letter(c)}{r}".encode(): v for (r, c), v in cells.items()}
        done = set()

        def sub(m):
            ref = m.group(1)
            if ref not in want:
                return m.group(0)
            done.add(ref)
            attrs = re.sub(rb'\s+t="[^"]*"', b"", m.group(2))
            return _cell_xml(ref, attrs, want[ref])

        xml = self._CELL.sub(sub, xml)
        rest = {(r, c): v for (r, c), v in cells.items()
                if f"{col_letter(c)}{r}".encode() not in done}
        return self._patch_tree(xml, rest) if rest else xml

    def _patch_tree(self, xml, cells):
        import xml.etree.ElementTree as ET

        from .fastread import col_letter
        for prefix, uri in re.findall(rb'xmlns:?(\w*)="([^"]+)"', xml):
            ET.register_namespace(prefix.decode(), uri.decode())
        root = ET.fromstring(xml)
        q = lambda tag: f"{{{self.MAIN}}}{tag}"  # noqa: E731
        data = root.find(q("sheetData"))
        rows = {int(r.get("r")): r for r in data.findall(q("row"))}
        for (r, c), v in sorted(cells.items()):
            row = rows.get(r)
            if row is None:
                row = ET.Element(q("row"), r=str(r))
                later = [k for k in rows if k > r]
                data.insert(list(data).index(rows[min(later)]) if later else len(data), row)
                rows[r] = row
            ref = f"{col_letter(c)}{r}"
            cell = next((x for x in row.findall(q("c")) if x.get("r") == ref), None)
            if cell is None:
                cell = ET.Element(q("c"), r=ref)
                after = [x for x in row.findall(q("c"))
                         if _col_of(x.get("r")) > c]
                row.insert(list(row).index(after[0]) if after else len(row), cell)
            for child in list(cell):
                cell.remove(child)
            cell.attrib.pop("t", None)
            _set_xml_value(ET, cell, q, v)
        return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _cell_xml(ref, attrs, v):
    from xml.sax.saxutils import escape

    from .parse import to_serial
    head = b'<c r="' + ref + b'"' + attrs
    if v is None:
        return head + b"/>"
    if isinstance(v, bool):
        return head + b' t="b"><v>' + (b"1" if v else b"0") + b"</v></c>"
    if isinstance(v, (dt.date, dt.datetime)):
        d = v.date() if isinstance(v, dt.datetime) else v
        return head + b"><v>" + str(to_serial(d)).encode() + b"</v></c>"
    if isinstance(v, (int, float)):
        return head + b"><v>" + (repr(v) if isinstance(v, float) else str(v)).encode() + b"</v></c>"
    # Text, formula-like or not, is an inline string: never a formula.
    return head + b' t="inlineStr"><is><t xml:space="preserve">' + \
        escape(str(v)).encode("utf-8") + b"</t></is></c>"


def _col_of(ref):
    from .fastread import col_index
    return col_index(re.match(r"[A-Z]+", ref).group(0))


def _set_xml_value(ET, cell, q, v):
    from .parse import to_serial
    if v is None:
        return
    if isinstance(v, bool):
        cell.set("t", "b")
        ET.SubElement(cell, q("v")).text = "1" if v else "0"
    elif isinstance(v, (dt.date, dt.datetime)):
        d = v.date() if isinstance(v, dt.datetime) else v
        ET.SubElement(cell, q("v")).text = str(to_serial(d))
    elif isinstance(v, (int, float)):
        ET.SubElement(cell, q("v")).text = repr(v) if isinstance(v, float) else str(v)
    else:  # text, formula-like or not, is an inline string: never a formula
        cell.set("t", "inlineStr")
        t = ET.SubElement(ET.SubElement(cell, q("is")), q("t"))
        t.text = str(v)
        if t.text != t.text.strip():
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")


# A small writer that follows the template contract (FIELDS.md), used when forms.fill is
# absent and to move blocks: label in one column, value beside it, a defined name per value.
def _meta(wb, template_id, c, year=None):
    ws = wb.create_sheet("_meta")
    for row in (("key", "value"), ("template_id", template_id),
                ("template_version", c.template_version),
                ("campaign_year", year or c.year), ("generator_version", __version__)):
        ws.append(row)
    ws.sheet_state = "hidden"


def _name(wb, key, ws, cell):
    from openpyxl.workbook.defined_name import DefinedName
    ref = f"'{ws.title}'!${cell.column_letter}${cell.row}"
    wb.defined_names[key] = DefinedName(key, attr_text=ref)


def write_plain_application(path, values, respondents, c, offset=0, merged=False, year=None):
    """A minimal 申请书 of ours laid out without the template: one label/value pair a row,
    each value cell carrying its defined name, and the 被访者名单 table — the shape a
    hand-rebuilt or moved workbook has (the reader finds data by name, never by address).

    Args:
        path: the .xlsx; values: key -> value; respondents: (序号, 姓名, 联系方式) rows.
        c: the Campaign; offset: rows to shift every block down; merged: merge value cells;
        year: the campaign year recorded in _meta (default c.year).
    """
    from openpyxl import Workbook
    from openpyxl.worksheet.table import Table

    from .engine import field_labels
    from .tables import set_text_safe
    labels = field_labels(c, "application")
    wb = Workbook()
    ws = wb.active
    ws.title = "申请表"
    ws.column_dimensions["A"].width = 36
    ws.column_dimensions["B"].width = 30
    r = 1 + offset
    for f in c.fields["application"]:
        if f.block == "derived":
            continue
        ws.cell(r, 1, f.label)
        cell = ws.cell(r, 2)
        v = values.get(f.key)
        set_text_safe(cell, v)
        if isinstance(v, dt.date):
            cell.number_format = "yyyy-mm-dd"
        _name(wb, f.key, ws, cell)
        if merged and f.key == "org_name":
            ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=4)
            ws.row_dimensions[r].hidden = True  # hidden rows are read too
        r += 1
    se = wb.create_sheet("自评表")
    r = 1 + offset
    for p in list(c.rubric.parts) + [None]:
        key = p.key if p else c.rubric.veto_key
        se.cell(r, 1, labels.get(key, key))
        cell = se.cell(r, 2, values.get(key))
        _name(wb, key, se, cell)
        r += 1
    se.cell(r, 1, "自评得分")
    _name(wb, "se_total", se, se.cell(r, 2))
    rl = wb.create_sheet("被访者名单")
    rl.append(["序号", "姓名", "联系方式"])
    for row in respondents or [(1, None, None)]:
        rl.append(list(row))
    rl.add_table(Table(displayName="respondent_list", ref=f"A1:C{max(2, len(respondents) + 1)}"))
    _meta(wb, "saq-application", c, year)
    wb.save(path)


def write_plain_recommender(path, header, rows, c):
    """A minimal 附件3 of ours (no formulas): header names and the ``recommendations`` table,
    for tests that need rows the live template cannot hold or a bare layout.

    Args:
        path: the .xlsx to write; header: key -> value; rows: dicts by official label.
        c: the Campaign.
    """
    from openpyxl import Workbook
    from openpyxl.worksheet.table import Table

    from .tables import set_text_safe
    wb = Workbook()
    ws = wb.active
    ws.title = "附件3"
    for r, f in enumerate(c.fields["recommender"], 1):
        ws.cell(r, 1, f.label)
        cell = ws.cell(r, 2)
        set_text_safe(cell, header.get(f.key))
        _name(wb, f.key, ws, cell)
    top = len(c.fields["recommender"]) + 2
    cols = [f.label for f in c.fields["recommendation_row"]]
    for j, h in enumerate(cols, 1):
        ws.cell(top, j, h)
    for i, row in enumerate(rows, top + 1):
        for j, h in enumerate(cols, 1):
            set_text_safe(ws.cell(i, j), row.get(h))
    ws.add_table(Table(displayName="recommendations",
                       ref=f"A{top}:{ws.cell(top, len(cols)).column_letter}{top + max(1, len(rows))}"))
    _meta(wb, "saq-recommender", c)
    wb.save(path)


def set_cell(path, name, cached, formula=None):
    """Rewrite the cell a defined name points to, in the sheet XML, with a cached value
    (and optionally a formula): what Excel saves when a user types over a cell."""
    from . import fastread
    with zipfile.ZipFile(path) as z:
        items = {i.filename: z.read(i.filename) for i in z.infolist()}
        sheets, names = fastread._workbook_parts(z, path)
    sheet, r, col, _r2, _c2 = fastread.parse_ref(names[name])
    part = next(p for s, _st, p in sheets if s == sheet)
    ref = f"{fastread.col_letter(col)}{r}"
    xml = items[part].decode("utf-8")
    body = (f"<f>{formula}</f>" if formula else "") + f"<v>{cached}</v>"
    new_cell = f'<c r="{ref}">{body}</c>'
    pat = re.compile(rf'<c r="{ref}"(?:\s[^>]*)?(?:/>|>.*?</c>)', re.S)
    if pat.search(xml):
        xml = pat.sub(new_cell, xml, count=1)
    else:  # the cell is not written yet: add it to its row, or add the row
        row_pat = re.compile(rf'<row r="{r}"(?:\s[^>]*)?>(.*?)</row>', re.S)
        m = row_pat.search(xml)
        if m:
            xml = xml[:m.end(1)] + new_cell + xml[m.end(1):]  # Excel tolerates order here
        else:
            xml = xml.replace("</sheetData>", f'<row r="{r}">{new_cell}</row></sheetData>')
            xml = xml.replace("<sheetData/>", f'<sheetData><row r="{r}">{new_cell}</row></sheetData>')
    items[part] = xml.encode("utf-8")
    _rewrite(path, items)


FIXED_TIME = (2023, 7, 1, 0, 0, 0)
_STAMP_RE = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _rewrite(path, items):
    """Write a zip with fixed entry times and document dates: same seed, same bytes."""
    core = items.get("docProps/core.xml")
    if core is not None:
        items["docProps/core.xml"] = _STAMP_RE.sub(rb"\g<1>2023-07-01T00:00:00Z\g<2>", core)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in items.items():
            z.writestr(zipfile.ZipInfo(n, FIXED_TIME), data, zipfile.ZIP_DEFLATED, 1)


def normalise(path):
    """Make a written workbook reproducible (fixed zip and document times)."""
    with zipfile.ZipFile(path) as z:
        items = {i.filename: z.read(i.filename) for i in z.infolist()}
    _rewrite(path, items)


def write_broken(folder, c):
    """A few files of each kind of trouble (issue 4 §4). Returns their names."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []

    def put(name, data):
        (folder / name).write_bytes(data)
        out.append(name)

    put("申请书_不是Excel.xlsx", "这不是一个 Excel 文件，只是改了扩展名。\n".encode("utf-8"))
    from openpyxl import Workbook
    wb = Workbook()
    wb.active["A1"] = "随便一个表格"
    wb.properties.created = wb.properties.modified = dt.datetime(2023, 7, 1)
    good = io.BytesIO()
    wb.save(good)
    tmp = folder / "自制表格（非模板）.xlsx"
    tmp.write_bytes(good.getvalue())
    normalise(tmp)
    good = io.BytesIO(tmp.read_bytes())
    out.append(tmp.name)
    put("申请书_传输中断.xlsx", good.getvalue()[: len(good.getvalue()) // 2])
    put("推荐汇总（旧格式）.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + b"legacy")
    put("推荐名单.csv", "序号,申请组织名称,满意度得分\n1,上海某某有限公司,88\n".encode("gb18030"))
    put("~$申请书_临时.xlsx", b"\x00" * 165)
    put("推荐表盖章扫描件.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in (("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<workbook/>"),
                        ("xl/worksheets/sheet1.xml", b"\x00" * (40 * 1024 * 1024))):
            z.writestr(zipfile.ZipInfo(n, FIXED_TIME), data, zipfile.ZIP_DEFLATED)
    put("申请书_压缩炸弹.xlsx", bomb.getvalue())
    try:
        import msoffcrypto.format.ooxml as ox
        import msoffcrypto.method.ecma376_agile as agile
        import msoffcrypto.method.container.ecma376_encrypted as container

        class _Fixed(dt.datetime):
            @classmethod
            def now(cls, tz=None):
                return dt.datetime(2023, 7, 1)

        # Seeded salt and a fixed container time: the same bytes on every run.
        enc, rnd = io.BytesIO(), random.Random(7)
        saved = agile._random_buffer, container.datetime
        agile._random_buffer, container.datetime = (lambda n: rnd.randbytes(n)), _Fixed
        try:
            ox.OOXMLFile(io.BytesIO(good.getvalue())).encrypt("123456", enc)
        finally:
            agile._random_buffer, container.datetime = saved
        put("申请书_加密.xlsx", enc.getvalue())
    except Exception:  # noqa: BLE001 - encryption support depends on the library version
        pass
    old = folder / "申请书_去年模板.xlsx"
    app = _application(c, random.Random(1), 0, "服务类", RECOMMENDERS[0])
    write_plain_application(old, app.values, app.respondents, c, year=c.year - 1)
    normalise(old)
    out.append(old.name)
    return out


def run_demo(folder=None, seed=DEFAULT_SEED, progress=None, campaign=None):
    """Generate the demo campaign in ``folder`` (default ./saq_demo), consolidate it.

    Args:
        campaign: the Campaign (default: the current one).
    Returns:
        (DemoCampaign, RunResult)
    """
    from .consolidate import consolidate
    c = campaign or load()
    folder = Path(folder or "saq_demo")
    inbox = folder / "收件"
    demo = write_campaign(inbox, seed, campaign=c)
    result = consolidate(inbox, folder / "汇总表.xlsx", c, progress=progress)
    return demo, result
