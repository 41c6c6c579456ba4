"""The campaign as readable tables (`saq rules`): what the program believes, for staff.

Every rule and every decision is shown in full: the terminal wraps long cells onto more
lines instead of cutting them, the 规则说明 sheet gets whole cells, and ``saq rules
--markdown`` writes the same content with a few paragraphs of prose as docs/rules.md.
"""

from __future__ import annotations

from xl_addin.rules.checks import part_label
from xl_addin.rules.findings import severity_word
from xl_addin.rules.show import fmt_number
from xl_addin.rules.textable import render, width

WRAP = 60  # terminal columns of a wrapped table cell


def _d(d):
    return d.isoformat() if d else ""


class _Blocks(list):
    """What `saq rules` shows, as blocks a terminal or a sheet can lay out."""

    def text(self, line=""):
        self.append(("text", line))

    def heading(self, line):
        self.append(("heading", line))

    def table(self, headers, rows, max_width=WRAP):
        self.append(("table", list(headers), [list(r) for r in rows], max_width))


def wrap(text, cols):
    """Cut ``text`` into lines of at most ``cols`` terminal columns (CJK counts two)."""
    lines, cur = [], ""
    for ch in str(text).replace("\n", " "):
        if width(cur + ch) > cols:
            lines.append(cur)
            cur = ""
        cur += ch
    return lines + [cur] if cur or not lines else lines


def _table_text(headers, rows, cols):
    """A terminal table whose long cells continue on the next lines (nothing is cut)."""
    out = []
    for r in rows:
        parts = [wrap("" if v is None else v, cols) for v in r]
        for i in range(max(len(p) for p in parts)):
            out.append([p[i] if i < len(p) else "" for p in parts])
    return render(headers, out, max_width=cols + 2)


def describe(c):
    """The whole campaign as text: calendar, categories, rubric, stars, flags, decisions."""
    out = []
    for b in blocks(c):
        out.append(_table_text(b[1], b[2], b[3]) if b[0] == "table" else b[1])
    return "\n".join(out)


def blocks(c):
    """The campaign as a list of blocks: ("heading", text), ("text", text) and
    ("table", headers, rows, max_width) — one content for the terminal and the 规则说明 sheet."""
    out = _Blocks()
    out.text(f"{c.title}（依据：{c.reference}；配置文件：{c.path}）")
    out.text()
    out.heading("一、时间安排（C）")
    rows = []
    for cid, e in c.calendar.items():
        when = f"{_d(e.start)} 至 {_d(e.end)}" if e.start else (_d(e.date) or f"{e.days} 天")
        rows.append([cid, e.label, when, ("【决定】" if e.decision else "") + e.reference])
    out.table(["编号", "事项", "时间", "依据"], rows)
    out.text()

    out.heading("二、类别与等级（K）")
    out.table(["申请类别", "最高可评等级"],
              [[k.name, f"{c.level(k.cap).name}（{c.level(k.cap).stars}）"] for k in c.categories])
    out.text()
    out.table(["星级", "等级", "申请书上的写法"],
              [[lv.stars, lv.name, "、".join((lv.applied,) + lv.variants)] for lv in c.levels])
    out.text()

    out.heading(f"三、满意度测量项目自评表（S，基础分 {fmt_number(c.rubric.base_total)}，"
                f"加分项 {fmt_number(c.rubric.bonus_total)}）")
    rows = []
    for sec in c.rubric.sections:
        for item in c.rubric.items_of(sec.id):
            for p in item.parts + ((item.penalty,) if item.penalty else ()):
                allowed = (f"扣 {fmt_number(p.points)} 分" if p.kind == "penalty"
                           else item.hint or p.allowed_text(c.rubric.step))
                rows.append([sec.name, p.key, part_label(c, p), allowed, fmt_number(item.max)])
    rows.append(["否决项", c.rubric.veto_key, c.rubric.veto_label, "是、否", "—"])
    out.table(["部分", "单元格名称", "评分项", "允许值", "该项满分"], rows)
    out.text()
    concl = "；".join(f"{n} ≥ {fmt_number(m)}" for n, m in c.rubric.conclusions[:-1])
    out.text(f"评价结论（S4）：否决项成立 → 不合格；否则 {concl}；其余 不合格")
    out.text()

    out.heading("四、星级条件（L）")
    out.table(["规则", "等级", "条件（全部满足）"], star_rows(c), max_width=70)
    out.text()

    out.heading("五、问题代码（E）")
    rows = [[code, severity_word(f["severity"]), f["rule"]]
            for code, f in sorted(c.flags.items())]
    out.table(["代码", "级别", "规则"], rows, max_width=70)
    out.text()

    out.heading("六、申请材料（M）")
    out.text(f"依据：{c.dossier.get('reference', '')}；申请书材料清单中逐项填“{c.dossier.get('provided', '')}”"
             f"或“{c.dossier.get('not_applicable', '')}”，给出材料文件夹时按文件核对。")
    out.text()
    out.table(["代码", "级别", "规则", "材料与要求"], material_rows(c), max_width=44)
    out.text()

    out.heading("七、本年度的决定（RULES.md 中标为 Decision 的条目）")
    out.table(["规则或设置", "取值", "含义"], decision_rows(c), max_width=70)
    out.text()

    out.heading("八、评定与发布（P）")
    out.text("专家评审之后的合议、现场评审、审定、公示和发布按以下规则办理；“拒绝”的规则在不符合时不采纳所填的值"
             "或不执行命令，并用一行中文说明原因（记入审计记录）。")
    out.text()
    out.table(["编号", "不符合时", "规则", "依据"], deciding_rows(c), max_width=60)
    return out


def deciding_rows(c):
    """P1–P9 as rows (id, what happens when it is not met, rule, reference), with the
    parameters staff meet spelled out: P3's warnings, P9's contact."""
    rows = []
    for rid, p in c.deciding.items():
        rule = p["label"]
        if rid == "P3":
            rule += "。须核实的提醒：" + "、".join(p["confirm"]) + "（见“五、问题代码”）"
        elif rid == "P9":
            rule += f"：联系人 {p['person']}，地址 {p['address']}，联系电话 {p['phone']}，" \
                    f"电子邮箱 {p['email']}"
        when = {"error": "拒绝", "warning": "提醒"}.get(p.get("severity"), "—")
        rows.append([rid, when, rule, p["reference"]])
    return rows


def material_rows(c):
    """M01–M12 as rows (code, severity, rule, what is asked): the items with their file
    kinds and categories, M05's word limits per section, M11's separators, M12's kinds."""
    rows = []
    for code, m in sorted(c.materials.items()):
        detail = []
        for it in m.get("items", ()):
            only = f"，仅{'、'.join(it['categories'])}" if it["categories"] else ""
            na = f"，可填“{c.dossier.get('not_applicable', '')}”" if it["may_be_na"] else ""
            detail.append(f"{it['name']}（{'/'.join(it['kinds'])}{only}{na}）")
        for sec in m.get("sections", ()):
            lo, hi = fmt_number(sec["min"]), fmt_number(sec["max"])
            detail.append(f"{sec['title']}：{lo}–{hi} 字" if sec["min"] else f"{sec['title']}：不超过 {hi} 字")
        if m.get("separators"):
            detail.append("名称中的分隔符：" + " ".join(f"“{x}”" for x in m["separators"]))
        if m.get("kinds"):
            detail.append("文件类型：" + "/".join(m["kinds"]))
        rows.append([code, severity_word(m["severity"]), m["rule"],
                     "；".join(detail)])
    return rows


def star_rows(c):
    """L1–L6 as rows (rule, level, conditions), every condition spelled out."""
    rows = []
    for s in c.stars:
        lv = c.level(s.level)
        conds = []
        for cnd in s.conditions:
            if cnd.cap:
                conds.append("类别最高等级允许（K3）")
            elif cnd.min is not None:
                conds.append(f"满意度 ≥ {fmt_number(cnd.min)}")
            else:
                words = "或".join(f"“{v}”" for v in cnd.allowed)
                conds.append(f"{_FIELD_NAMES.get(cnd.field, cnd.field)}为{words}")
        rows.append([s.rule, f"{lv.stars} {lv.name}", "；".join(conds)])
    lowest = min(c.stars, key=lambda s: s.level)
    floor = next((cnd.min for cnd in lowest.conditions if cnd.min is not None), None)
    rows.append(["L4", c.no_level,
                 f"满意度低于 {fmt_number(floor)}；否决项成立时也不评任何等级（决定，见七）"])
    rows.append(["L5", "可评等级 / 建议等级",
                 "可评等级为条件全部满足的最高等级（受类别最高等级 K3 限制）；建议等级 = 申请等级与可评等级中"
                 "较低者；申请等级高于可评等级时提示 E30，并说明未满足的条件"])
    best = "，".join(f"{_FIELD_NAMES.get(k, k)}={v}" for k, v in c.decisions["row_best_case"].items())
    rows.append(["L5a", "初审推荐意见表", f"报告应用与风险未知，按最有利情形（{best}）及自评分对应的结论判断，"
                                   "只提示任何情况下都达不到的等级"])
    rows.append(["L6", "现场评审", onsite_text(c)])
    return rows


def onsite_text(c):
    """L6 in words, from the campaign's onsite_review setting."""
    by = "申请等级" if c.onsite.get("by", "applied") == "applied" else "建议等级"
    parts = [f"{by}为{'、'.join(c.level(r).applied for r in c.onsite['levels'])}的各类申请"] \
        if c.onsite["levels"] else []
    groups = {}
    for cat, ranks in c.onsite["category_levels"].items():
        groups.setdefault(tuple(ranks), []).append(cat)
    for ranks, cats in groups.items():
        parts.append(f"{by}为{'、'.join(c.level(r).applied for r in ranks)}的{'、'.join(cats)}")
    return ("；".join(parts) + "，且仍可评等级（建议等级不是不达标）；名单中同时列出申请等级和建议等级")


def decision_rows(c):
    """Every decision: settings of [decisions] with their value, and the rules whose reading
    is a choice (decision = true in the campaign file) with their rule id."""
    rows = []
    for k, label in c.decision_labels.items():
        if k in c.decisions:
            rows.append([k, _setting(c.decisions.get(k)), label])
        else:
            rows.append([k, "决定", label])
    return rows


def _setting(v):
    if isinstance(v, dict):
        return "，".join(f"{_FIELD_NAMES.get(k, k)}={x}" for k, x in v.items())
    return {True: "是", False: "否"}.get(v, str(v))


_FIELD_NAMES = {"veto": "否决项", "conclusion": "评价结论", "report_use": "测量报告应用",
                "risk": "风险", "category": "申请类别", "satisfaction": "满意度"}


# ---------------------------------------------------------------------- docs/rules.md
PROSE_INTRO = """\
本文件由 `saq rules --markdown docs/rules.md` 根据活动配置文件生成，请勿手工修改；规则变化时改配置文件
（`xl_addin/campaigns/{year}.toml`）后重新生成。程序（命令行、汇总、专家评审、单元格函数）和表格里的公式
都按同一份配置计算，下面列出的就是程序实际采用的规则。

规则编号：C 时间安排，K 类别与等级，S 自评表，L 星级，E 问题代码，M 申请材料（错误 = 不符合申请条件或缺少材料，
提醒 = 需要专家或工作人员确认），P 评定与发布（合议、现场评审、审定、公示、发布）。通知有歧义之处，程序采用的理解列在“本年度的决定”中，
并在配置文件里标为 `decision = true`。"""

PROSE_VARIANTS = """\
表格与程序接受完全相同的写法（E23）：全角数字和字母（８５）、带单位的数字（85分、1.2万平方米、1.5亿元）、
日期 {year}-05-01、{year}.5.1、{year}/5/1、{year}年5月1日、{year}0501、是/否与有/无的常见写法（√、×、Y、N、有、没有、不是）、
类别与等级的常见写法（企业、五星、满意亮诺、文字“4”）；统一社会信用代码和手机号中的全角字符、全角连字符和全角空格
按半角处理。其他写法（如“八十五分”）在表格和程序中同样提示 E23。

测量报告应用（E24）在申请书中是选项：用于组织战略制定/改进领域实施方案（战略）、用于管理活动（管理）、未应用（无），
另有可选的文字说明，不影响等级。从 CSV 或在线系统导出的文字按语法理解，不按字理解：否定词（{negation}）直接否定
“用于”“应用”“在管理活动中应用”等说法或“战略”时（中间可隔“能、法、曾、被、真正、充分”等一个词，如“未能用于”
“无法应用”）才是否定，按“无”评定；“不断”“非常”“无论”“不仅”“并非仅”不是否定。写明用于战略或改进方案、改进计划的
读作“战略”（通知原文“应用于组织战略的制定、改进领域的实施方案”），只写管理活动的读作“管理”（通知原文“在组织的
管理活动中有应用”）；只是打算或可能应用（拟用于、计划用于、可用于），或没说用在哪里，为说法不明确，按其中最不利的
理解评定。确有否定或说法不明确时提示“测量报告应用不明确”（E24），由专家确认，不会因此评为五星。"""


def markdown(c):
    """docs/rules.md: the blocks of :func:`blocks` as Markdown, with the prose above."""
    lines = [f"# {c.title}：程序采用的规则", "", f"依据：{c.reference}", "",
             PROSE_INTRO.format(year=c.year), ""]
    for b in blocks(c)[2:]:  # the first line names the file on this machine: not for docs
        if b[0] == "heading":
            lines += [f"## {b[1]}", ""]
            if b[1].startswith("五、"):
                lines += [PROSE_VARIANTS.format(year=c.year, negation="、".join(c.flags["E24"]["negators"])), ""]
        elif b[0] == "text":
            lines.append(b[1])
        else:
            _, headers, rows, _ = b
            lines.append("| " + " | ".join(_md(h) for h in headers) + " |")
            lines.append("|" + "---|" * len(headers))
            lines += ["| " + " | ".join(_md(v) for v in r) + " |" for r in rows]
    return "\n".join(lines).rstrip() + "\n"


def _md(v):
    return ("" if v is None else str(v)).replace("|", "\\|").replace("\n", " ")
