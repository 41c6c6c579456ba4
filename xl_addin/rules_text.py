"""The campaign as readable tables (`saq rules`): what the program believes, for staff."""

from __future__ import annotations

from .campaign import fmt_number
from .checks import part_label
from .textable import render


def _d(d):
    return d.isoformat() if d else ""


class _Blocks(list):
    """What `saq rules` shows, as blocks a terminal or a sheet can lay out."""

    def text(self, line=""):
        self.append(("text", line))

    def heading(self, line):
        self.append(("heading", line))

    def table(self, headers, rows, max_width=60):
        self.append(("table", list(headers), [list(r) for r in rows], max_width))


def describe(c):
    """The whole campaign as text: calendar, categories, rubric, stars, flags, decisions."""
    out = []
    for b in blocks(c):
        out.append(render(b[1], b[2], max_width=b[3]) if b[0] == "table" else b[1])
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
    out.table(["星级", "等级", "申请书上的写法"], [[lv.stars, lv.name, lv.applied] for lv in c.levels])
    out.text()

    out.heading(f"三、满意度测量项目自评表（S，基础分 {fmt_number(c.rubric.base_total)}，"
                f"加分项 {fmt_number(c.rubric.bonus_total)}）")
    rows = []
    for sec in c.rubric.sections:
        for item in c.rubric.items_of(sec.id):
            for p in item.parts + ((item.penalty,) if item.penalty else ()):
                allowed = (f"扣 {fmt_number(p.points)} 分" if p.kind == "penalty"
                           else p.allowed_text(c.rubric.step))
                rows.append([sec.name, p.key, part_label(c, p), allowed, fmt_number(item.max)])
    rows.append(["否决项", c.rubric.veto_key, c.rubric.veto_label, "是、否", "—"])
    out.table(["部分", "单元格名称", "评分项", "允许值", "该项满分"], rows)
    out.text()
    concl = "；".join(f"{n} ≥ {fmt_number(m)}" for n, m in c.rubric.conclusions[:-1])
    out.text(f"评价结论（S4）：否决项成立 → 不合格；否则 {concl}；其余 不合格")
    out.text()

    out.heading("四、星级条件（L）")
    rows = []
    for s in c.stars:
        lv = c.level(s.level)
        conds = []
        for cnd in s.conditions:
            if cnd.cap:
                conds.append("类别最高等级允许")
            elif cnd.min is not None:
                conds.append(f"满意度 ≥ {fmt_number(cnd.min)}")
            else:
                conds.append(f"{_FIELD_NAMES.get(cnd.field, cnd.field)} ∈ {{{'、'.join(cnd.allowed)}}}")
        rows.append([s.rule, f"{lv.stars} {lv.name}", "；".join(conds)])
    out.table(["规则", "等级", "条件（全部满足）"], rows, max_width=90)
    out.text()

    out.heading("五、问题代码（E）")
    rows = [[code, "错误" if f["severity"] == "error" else "提醒", f["rule"]]
            for code, f in sorted(c.flags.items())]
    out.table(["代码", "级别", "规则"], rows, max_width=90)
    out.text()

    out.heading("六、本年度的决定（RULES.md 中标为 Decision 的条目）")
    out.table(["设置", "取值", "含义"],
              [[k, _setting(c.decisions.get(k)), v] for k, v in c.decision_labels.items()],
              max_width=90)
    return out


def _setting(v):
    if isinstance(v, dict):
        return "，".join(f"{_FIELD_NAMES.get(k, k)}={x}" for k, x in v.items())
    return {True: "是", False: "否"}.get(v, str(v))


_FIELD_NAMES = {"veto": "否决项", "conclusion": "评价结论", "report_use": "测量报告应用",
                "risk": "风险", "category": "申请类别", "satisfaction": "满意度"}
