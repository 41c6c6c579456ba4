"""Issue 18, done-when: the README's whole year on the demo, with the mistakes of the issue
typed into the sheets, and what goes public is right (RULES.md P1–P4, P6, L6).

The year, as staff would walk it (README "合议、现场评审、审定、公示、发布"): the demo's inbox
and master (written once per run, conftest ``demo_inbox``, ``demo_master``), then `saq stage
example`, `saq history import`, two extra files in the inbox — one organisation and project
under two USCCs (E35) — `saq consolidate`, `saq review assign / simulate /
collect` (one expert recuses one row: 待补评), `saq stage start / update / publicize /
publish`. Into the sheets go the issue's mistakes: a 产品类 raised to 用户满意标杆 in 合议 (no
reason) and in 审定 (with one), an excluded E16 application overruled, the warnings to
confirm (E06, E12, E13 …) left unconfirmed, a level typed for the 待补评 row, and both results
of each E35 pair kept. Each is refused with one Chinese line naming the row and the rule; then
staff settle them as the lines say, and the 公示/发布名单 (.docx, .xlsx, and the .pdf when
LibreOffice is here) hold no level above a cap or the applied level, no invalid USCC, no pair
twice, no 待补评 row and no unconfirmed warning.

The walk runs once for the module (it is long: the demo at full size); each test asserts on
what it recorded.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import time

import pytest
from openpyxl import load_workbook
from stage_bases import REG, WB, C, Y, saq, table

from xl_addin.read.year import write_setting
from xl_addin.registry import Registry
from xl_addin.review import simulate as S
from xl_addin.review.collect import collect
from xl_addin.review.manifest import FILE_NAME, read_manifest
from xl_addin.review.stages import State, candidates, stage_apps
from xl_addin.rules import decide
from xl_addin.rules import uscc as usccmod

CONFIRM_CODES = ("E06", "E12", "E13", "E24", "E26", "E30", "E33", "E35")  # RULES.md P3


# ---------------------------------------------------------------------- reading the sheets
def sheet(path, name, tbl):
    """[(sheet row number, {header: value})] of a stage table."""
    wb = load_workbook(path)
    ws, head, rng = table(wb, name, tbl)
    return [(r, {h: ws.cell(r, c).value for h, c in head.items()}) for r in rng]


def project(row):
    p = row["申报项目名称"]
    return "" if p in (None, "—") else p


def subject(row):
    return row["申请组织名称"] + (f"·{project(row)}" if project(row) else "")


def where(sheet_name, r, row):
    return f"{sheet_name}!第 {r} 行 {subject(row)}"


def listed(path):
    """The rows of a 公示/发布名单 .xlsx: (企业名称, 申报项目名称, 申请类别, 等级, USCC)."""
    wb = load_workbook(path)
    ws = wb.active
    tb = next(iter(ws.tables.values()))
    from openpyxl.utils import range_boundaries
    c1, r1, c2, r2 = range_boundaries(tb.ref)
    head = [ws.cell(r1, c).value for c in range(c1, c2 + 1)]
    out = []
    for r in range(r1 + 1, r2 + 1):
        v = dict(zip(head, (ws.cell(r, c).value for c in range(c1, c2 + 1))))
        if v["企业名称"]:
            out.append((v["企业名称"], v["申报项目名称"] or "", v["申请类别"], v["等级"],
                        v["统一社会信用代码"] or ""))
    return out


def docx_lines(path):
    from docx import Document
    doc = Document(path)
    out = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            out.append("|".join(c.text for c in row.cells))
    return out


def typed(path, name, changes):
    """Type into the stage sheet ``name``: {app id: {header: value}}."""
    tbl = {"合议": "deliberation", "现场评审": "onsite_results", "审定": "approval",
           "公示": "publication"}[name]
    wb = load_workbook(path)
    ws, head, rng = table(wb, name, tbl)
    ids = {ws.cell(r, head["申请编号"]).value: r for r in rng}
    for app_id, cells in changes.items():
        for h, v in cells.items():
            ws.cell(ids[app_id], head[h]).value = v
    wb.save(path)


# ---------------------------------------------------------------------- the extra files
def write_pair(inbox, workdir):
    """One organisation and project under two valid USCCs (E35): two applications of the
    demo's own kind, each in its own dossier folder as `saq demo` writes them, beside the
    first recommender's."""
    from xl_addin.demo import Writers, application
    from xl_addin.demo.dossier import write_materials
    rec = sorted(p for p in inbox.iterdir() if p.is_dir() and any(p.glob("附件3_*.xlsx")))[0]
    rng = random.Random(18)
    app = application(C, rng, 900, "服务类", rec.name)
    v = app.values
    v.update(org_name="上海浦江示范客运服务有限公司", project_name="浦江示范乘客热线服务",
             review_type="初评")
    first = usccmod.make("91310115MA1K3P8X7")
    second = usccmod.make("91310104MA1K3P8X8")
    w = Writers(C, workdir)
    for i, code in enumerate((first, second), start=1):
        v["uscc"] = code
        d = rec / f"申请书_{v['org_name']}_{v['project_name']}_{900 + i}"
        d.mkdir()
        w.application(d / f"{d.name}.xlsx", app)
        write_materials(d, v, [(n, t) for _s, n, t in app.respondents], C)
    return {"org": v["org_name"], "project": v["project_name"], "usccs": (first, second)}


# ---------------------------------------------------------------------- the walk
def _walk(root, inbox, master):
    rec = {"root": root}
    # `saq demo`: its inbox and the master it consolidated (conftest, made once per run)
    shutil.copytree(inbox, root / "收件", symlinks=True)
    shutil.copy2(master, root / "汇总表.xlsx")
    write_setting(root, Y)  # as `saq demo` leaves its folder: the year every later command uses
    wbp = root / WB

    def step(name, *argv):
        t = time.perf_counter()
        rc, out, err = saq(*argv)
        rec[name] = (rc, out, err)
        rec.setdefault("seconds", {})[name] = round(time.perf_counter() - t, 1)
        return rc, out, err

    # the README's commands; the pair arrives after `saq demo`, before the consolidation
    for name, argv in (
            ("example", ["stage", "example", root]),
            ("history", ["history", "import", root / f"发布名单_{Y - 1}.xlsx", "--year", Y - 1,
                         "--registry", root / REG])):
        rc, out, err = step(name, *argv)
        assert rc == 0, (name, out, err)
    rec["pair"] = write_pair(root / "收件", root)
    for name, argv in (
            ("consolidate", ["consolidate", root / "收件", "-o", root / "汇总表.xlsx", "-q"]),
            ("assign", ["review", "assign", root / "汇总表.xlsx", "--experts",
                        root / "专家名单.xlsx", "-o", root / "专家评审"]),
            ("simulate", ["review", "simulate", root / "专家评审"])):
        rc, out, err = step(name, *argv)
        assert rc == 0, (name, out, err)
    # one expert recuses one row of a reviewed application with no warning: 待补评 (P4)
    man = read_manifest(root / "专家评审" / FILE_NAME, C)
    master = load_workbook(root / "汇总表.xlsx", read_only=True)
    clean = set()
    ws = master["汇总"]
    rows = list(ws.iter_rows(values_only=True))
    hr = next(i for i, r in enumerate(rows) if r and "问题代码" in r)
    h = {k: i for i, k in enumerate(rows[hr])}
    for r in rows[hr + 1:]:
        if r[h["企业名称"]] and not r[h["问题代码"]] and r[h["申请类别"]] == "服务类":
            clean.add((r[h["企业名称"]], r[h["申报项目名称"]] or ""))
    pend = next(a for a in man.apps if (a.org_name, a.project_name or "") in clean
                and a.id in man.by_app)
    expert = man.by_app[pend.id][0]
    S.fill_workbook(root / "专家评审" / man.files[expert], C, expert, S.RECUSES,
                    recuse={pend.id})
    rec["pending_id"] = pend.id
    for name, argv in (
            ("collect", ["review", "collect", root / "专家评审", "-o", root / "评审结果.xlsx"]),
            ("start", ["stage", "start", root / "专家评审", "-o", wbp, "--by", "张三"])):
        rc, out, err = step(name, *argv)
        assert rc == 0, (name, out, err)
    rec["deliberation_0"] = sheet(wbp, "合议", "deliberation")
    rec["approval_0"] = sheet(wbp, "审定", "approval")
    rec["onsite_0"] = sheet(wbp, "现场评审", "onsite_results")

    # ---- the mistakes (issue 18 §1, §3, §5)
    delib = {row["申请编号"]: (r, row) for r, row in rec["deliberation_0"]}
    appr = {row["申请编号"]: (r, row) for r, row in rec["approval_0"]}
    products = [a for a, (r, row) in delib.items() if row["申请类别"] == "产品类"
                and row["申请等级"] == "用户满意级" and row["合议等级"] == "用户满意"]
    assert len(products) >= 2, "the demo needs two 产品类 applications at 用户满意"
    rec["raised"] = {"合议": products[0], "审定": products[1]}
    e16 = [a for a, (r, row) in appr.items() if "（E16）" in (row["依据"] or "")]
    assert e16, "the demo needs an application excluded for E16"
    rec["e16"] = e16[0]
    typed(wbp, "合议", {products[0]: {"合议等级": "用户满意标杆"}})
    typed(wbp, "审定", {products[1]: {"审定等级": "用户满意标杆", "审定理由": "审定会议认为优秀"},
                      e16[0]: {"审定等级": "用户满意", "审定理由": "已电话核实，校验位为笔误"},
                      pend.id: {"审定等级": "用户满意亮诺", "审定理由": "按已交回的评分"}})
    step("update_mistakes", "stage", "update", wbp, "--by", "施卫丹")
    rec["deliberation_1"] = sheet(wbp, "合议", "deliberation")
    rec["approval_1"] = sheet(wbp, "审定", "approval")
    # 现场评审 results, so that only the rules of deciding stand in the way of 公示
    typed(wbp, "现场评审", {row["申请编号"]: {"现场评审结论": "通过"} for _, row in
                        sheet(wbp, "现场评审", "onsite_results")})
    assert step("update_onsite", "stage", "update", wbp, "--by", "施卫丹")[0] == 0
    rec["approval_2"] = sheet(wbp, "审定", "approval")
    step("publicize_refused", "stage", "publicize", wbp, "--start", f"{Y}-09-18", "--no-pdf",
         "--by", "施卫丹")

    # ---- staff settle them as the lines say
    appr = {row["申请编号"]: (r, row) for r, row in rec["approval_2"]}
    fixes = {a: {"核实": "已核实"} for a, (r, row) in appr.items()
             if "须核实：" in (row["提醒"] or "")}
    # P6: of each organisation + project listed twice, only the first keeps its level
    res = collect(root / "专家评审", C)
    apps = stage_apps(res, C)
    with Registry(root / REG, readonly=True) as reg:
        state = State(C, apps, reg)
        groups = decide.same_pairs([c for c in candidates(C, apps, state) if c.rank])
    rec["pairs"] = [[c.org_name for c in g] for g in groups]
    by_where = {f"审定!第 {r} 行": a for a, (r, row) in appr.items()}
    second = []
    for g in groups:
        for c in g[1:]:
            a = by_where[c.where]
            second.append(a)
            fixes.setdefault(a, {})["审定等级"] = C.no_level
            fixes[a]["审定理由"] = "同一组织和项目只保留一个结果（P6）"
    rec["second_of_pair"] = second
    typed(wbp, "审定", fixes)
    assert step("update_fixes", "stage", "update", wbp, "--by", "施卫丹")[0] == 0
    # P4: an expert is added for the 待补评 row and returns his workbook
    rc, out, err = step("review_add", "review", "add", root / "专家评审")
    assert rc == 0, (out, err)
    man = read_manifest(root / "专家评审" / FILE_NAME, C)
    for b in man.batches:
        S.fill_workbook(root / "专家评审" / b.file, C, b.expert)
    assert step("update_added", "stage", "update", wbp, "--by", "施卫丹")[0] == 0
    rec["approval_3"] = sheet(wbp, "审定", "approval")
    rc, out, err = step("publicize", "stage", "publicize", wbp, "--start", f"{Y}-09-18",
                        "--no-pdf", "--by", "施卫丹")
    assert rc == 0, (out, err)
    shutil.copy2(root / "公示名单.xlsx", root / "公示名单_留存.xlsx")
    shutil.copy2(root / "公示名单.docx", root / "公示名单_留存.docx")

    # ---- after 公示 a pair gets its second result back: 发布 refuses (P6)
    a = second[0]
    typed(wbp, "审定", {a: {"审定等级": appr[a][1]["程序结果"], "审定理由": "异议成立，恢复"}})
    step("publish_refused", "stage", "publish", wbp, "--date", f"{Y}-09-28", "--no-pdf",
         "--by", "施卫丹")
    rec["approval_4"] = sheet(wbp, "审定", "approval")
    typed(wbp, "审定", {a: {"审定等级": C.no_level, "审定理由": "同一组织和项目只保留一个结果（P6）"}})
    argv = ["stage", "publish", wbp, "--date", f"{Y}-09-28", "--by", "施卫丹"]
    if not shutil.which("soffice"):
        argv.append("--no-pdf")
    rc, out, err = step("publish", *argv)
    assert rc == 0, (out, err)
    rec["approval_5"] = sheet(wbp, "审定", "approval")
    return rec


@pytest.fixture(scope="module")
def year(tmp_path_factory, demo_inbox, demo_master):
    return _walk(tmp_path_factory.mktemp("year"), demo_inbox, demo_master)


def by_id(rows):
    return {row["申请编号"]: (r, row) for r, row in rows}


# ---------------------------------------------------------------------- P1
def test_a_level_above_the_cap_is_refused_in_deliberation_and_approval(year):
    rc, out, err = year["update_mistakes"]
    assert rc == 0 and err == ""
    lines = out.splitlines()
    r, row = by_id(year["deliberation_0"])[year["raised"]["合议"]]
    assert (f"{where('合议', r, row)}：合议等级“用户满意标杆”高于该申请最高可评的“用户满意”"
            "（申请等级为用户满意级，产品类最高为用户满意级），未采纳（P1）") in lines
    r, row = by_id(year["approval_0"])[year["raised"]["审定"]]
    assert (f"{where('审定', r, row)}：审定等级“用户满意标杆”高于该申请最高可评的“用户满意”"
            "（申请等级为用户满意级，产品类最高为用户满意级），未采纳（P1）") in lines
    # the cells keep the recorded level; the row says what was refused, and why
    _, row = by_id(year["deliberation_1"])[year["raised"]["合议"]]
    assert row["合议等级"] == "用户满意"
    assert row["未采纳的改动"].startswith(
        "合议等级“用户满意标杆”高于该申请最高可评的“用户满意”（申请等级为用户满意级，产品类最高为"
        "用户满意级），未采纳（P1）（施卫丹 ")
    _, row = by_id(year["approval_1"])[year["raised"]["审定"]]
    assert row["审定等级"] == "用户满意" and row["审定理由"] == "审定会议认为优秀"
    assert "审定等级“用户满意标杆”高于" in row["未采纳的改动"]


def test_refusals_are_audited_as_not_taken(year):
    with Registry(year["root"] / REG, readonly=True) as reg:
        lines = [x for x in reg.audit_rows(Y) if x["field"] and x["field"].endswith("（未采纳）")]
    got = {(x["stage"], x["app_id"], x["field"], x["new"]) for x in lines}
    assert ("合议", year["raised"]["合议"], "合议等级（未采纳）", "用户满意标杆") in got
    assert ("审定", year["raised"]["审定"], "审定等级（未采纳）", "用户满意标杆") in got
    assert ("审定", year["e16"], "审定等级（未采纳）", "用户满意") in got
    assert all(x["reason"].endswith(("（P1）", "（P2）")) for x in lines
               if x["app_id"] in (year["raised"]["合议"], year["raised"]["审定"], year["e16"]))


# ---------------------------------------------------------------------- P2
def test_an_identity_error_is_never_overruled(year):
    rc, out, _ = year["update_mistakes"]
    r, row = by_id(year["approval_0"])[year["e16"]]
    lines = row["依据"].removeprefix("未参加专家评审：").splitlines()
    (e16,) = [x.removeprefix("错误：") for x in lines if x.endswith("（E16）")]
    assert (f"{where('审定', r, row)}：{e16}是身份信息错误，不能在审定中推翻，请申请组织改正申请书后"
            "重新汇总，未采纳（P2）") in out.splitlines()
    _, row = by_id(year["approval_1"])[year["e16"]]
    assert row["审定等级"] == C.no_level and not row["推翻自动排除"]


def test_exclusions_show_every_error_first_then_warnings(year):
    for _, row in year["approval_0"]:
        basis = row["依据"] or ""
        if not basis.startswith("未参加专家评审："):
            continue
        lines = basis.removeprefix("未参加专家评审：").splitlines()
        kinds = [x.split("：", 1)[0] for x in lines]
        assert kinds and kinds[0] == "错误" and kinds == sorted(kinds, key=lambda k: k != "错误")
        assert all(re.search(r"（[EM]\d\d）$", x) for x in lines), lines


# ---------------------------------------------------------------------- P3
def test_warnings_to_confirm_stand_on_the_rows_with_a_confirm_column(year):
    rows = [row for _, row in year["approval_0"]]
    shown = "\n".join(row["提醒"] or "" for row in rows)
    for code in ("E06", "E12", "E13"):  # the issue's §4
        assert re.search(rf"^须核实：.*（{code}）$", shown, re.M), code
    assert all("核实" in row for row in rows)
    delib = "\n".join(row["提醒"] or "" for _, row in year["deliberation_0"])
    assert "须核实：" in delib
    for line in filter(None, shown.splitlines()):
        code = re.search(r"（([EM]\d\d)）$", line).group(1)
        assert line.startswith("须核实：") == (code in CONFIRM_CODES), line


def test_publicize_is_refused_naming_each_unconfirmed_warning_and_the_pending_row(year):
    rc, out, err = year["publicize_refused"]
    assert rc == 1
    lines = out.splitlines()
    approval = by_id(year["approval_2"])
    listed_open = [(r, row) for r, row in approval.values()
                   if row["审定等级"] not in (None, "", C.no_level) and "须核实：" in (row["提醒"] or "")]
    head = (f"有 {len(listed_open)} 项列入名单的申请尚有未核实的提醒（在“审定”工作表的“核实”列填写“已核实”），"
            "不能公示（P3）：")
    assert lines[0] == head
    for r, row in listed_open:
        words = "；".join(x.removeprefix("须核实：") for x in row["提醒"].splitlines()
                         if x.startswith("须核实："))
        assert f"  {where('审定', r, row)}：{words}尚未核实（P3）" in lines
    for code in ("E06", "E12", "E13"):
        assert any(x.endswith("尚未核实（P3）") and f"（{code}）" in x for x in lines), code
    r, row = approval[year["pending_id"]]
    assert "有 1 项列入名单的申请待补评，不能公示（P4）：" in lines
    assert (f"  {where('审定', r, row)}：待补评（有效评分 2/3），请等专家交回评分表或用 saq review add "
            "增派专家（P4）") in lines
    n = sum(1 for x in lines if x.startswith("  "))
    rules = "、".join(rid for rid in ("P3", "P4", "P6") if f"（{rid}）：" in out)
    assert err == f"错误：不能公示：{n} 项须先处理（见上，规则 {rules}）；评价档案和文件夹都未改动\n"
    assert not (year["root"] / "公示名单_留存.docx").with_name("公示名单_拒绝.docx").exists()


# ---------------------------------------------------------------------- P4
def test_a_pending_row_gets_no_deliberation_level(year):
    _, row = by_id(year["deliberation_0"])[year["pending_id"]]
    assert row["合议等级"] in (None, "") and row["专家建议等级"] in (None, "")
    assert "（待补评：有效评分 2/3" in row["分歧 / 评分情况"]
    _, row = by_id(year["approval_0"])[year["pending_id"]]
    assert row["审定等级"] in (None, "") and row["依据"].startswith("待补评（有效评分 2/3）")


# ---------------------------------------------------------------------- P6
def test_publish_refuses_two_results_for_one_pair(year):
    rc, out, err = year["publish_refused"]
    assert rc == 1
    lines = out.splitlines()
    assert lines[0] == "有 1 组申请是同一组织和项目，不能发布（P6）："
    approval = by_id(year["approval_4"])
    a = year["second_of_pair"][0]
    _, row = approval[a]
    pair = [(r, x) for r, x in approval.values()
            if x["申请组织名称"] == row["申请组织名称"] and project(x) == project(row)
            and x["审定等级"] not in (None, "", C.no_level)]
    assert len(pair) == 2
    results = "、".join(f"审定!第 {r} 行 {x['申请组织名称']}（{usccs(year, x)}）{x['审定等级']}"
                       for r, x in pair)
    assert lines[1] == (f"  {subject(row)}：名单中有 2 项（{results}），"
                        "同一组织和项目只能有一个结果（P6）")
    assert err == "错误：不能发布：1 项须先处理（见上，规则 P6）；评价档案和文件夹都未改动\n"


def usccs(year, row):
    with Registry(year["root"] / REG, readonly=True) as reg:
        got = reg.db.execute("SELECT uscc FROM applications WHERE year=? AND app_id=?",
                             (Y, row["申请编号"])).fetchone()
    return got[0] if got else ""


def test_the_extra_pair_and_the_demos_pairs_are_e35(year):
    names = {n for g in year["pairs"] for n in g}
    assert year["pair"]["org"] in names


# ---------------------------------------------------------------------- L6
def test_onsite_sheet_states_the_rule_and_each_reason(year):
    wb = load_workbook(year["root"] / WB)
    ws = wb["现场评审"]
    assert ws["A2"].value == ("现场评审（通知 §四(六)，L6）：申请等级为标杆级的企业类、服务类；申请等级为"
                              "用户满意级的工程类，且仍可评等级（建议等级不是不达标）；名单中同时列出申请等级"
                              "和建议等级。")
    for _, row in year["onsite_0"]:
        assert re.fullmatch(rf"{row['申请类别']}申请{row['申请等级']}，须现场评审（L6）；专家评审建议.+",
                            row["现场评审原因"]), row


# ---------------------------------------------------------------------- what goes public
def _check_list(year, rows, kind):
    approval = {(x["申请组织名称"], project(x)): x for _, x in year["approval_5"]}
    seen = set()
    pending = by_id(year["approval_0"])[year["pending_id"]][1]
    for org, proj, cat, level, code in rows:
        x = approval[(org, proj)]
        rank = next(lv.rank for lv in C.levels if lv.name == level)
        cap = C.category(cat).cap
        applied = next(lv.rank for lv in C.levels if lv.applied == x["申请等级"])
        assert rank <= cap and rank <= applied, (kind, org, level)  # P1
        assert usccmod.is_valid(code), (kind, org, code)  # P2 (E16)
        assert (org, proj) not in seen, (kind, org, proj)  # P6
        seen.add((org, proj))
        assert "须核实：" not in (x["提醒"] or ""), (kind, org)  # P3
        if (org, proj) == (pending["申请组织名称"], project(pending)):
            assert "待补评" not in (x["依据"] or ""), (kind, org)  # P4
    return seen


def test_the_published_lists_are_right(year):
    root = year["root"]
    pub = listed(root / "公示名单_留存.xlsx")
    rel = listed(root / "发布名单.xlsx")
    assert pub and rel
    _check_list(year, pub, "公示")
    names = _check_list(year, rel, "发布")
    raised = {by_id(year["approval_0"])[a][1]["申请组织名称"] for a in year["raised"].values()}
    e16 = by_id(year["approval_0"])[year["e16"]][1]["申请组织名称"]
    assert e16 not in {n for n, _ in names}
    # the 产品类 raised in 合议 and 审定 stand at 用户满意, under 产品类
    for org, _proj, cat, level, _code in rel:
        if org in raised:
            assert (cat, level) == ("产品类", "用户满意")
    # the .docx say the same: no 产品类 under 用户满意标杆
    text = docx_lines(root / "发布名单.docx")
    heads = [i for i, t in enumerate(text) if re.match(r"^[一二三四五六七八九十]、", t)]
    top = [t for t in text[heads[0]:heads[1] if len(heads) > 1 else None]]
    assert text[heads[0]].startswith("一、用户满意标杆（五星）级")
    assert not any(t.startswith("（") and "产品类" in t for t in top)
    assert not any(t.startswith("（") and "工程类" in t for t in top)
    body = [t.split("|") for t in text if "|" in t and t.split("|")[0].isdigit()]
    assert len(body) == len(rel)  # 企业类 tables have no project column
    assert sorted((b[1], b[2] if len(b) > 2 else "") for b in body) == \
        sorted((o, p) for o, p, *_ in rel)


@pytest.mark.libreoffice
def test_the_published_pdf_holds_the_same_list(year):
    pdf = year["root"] / "发布名单.pdf"
    if not shutil.which("soffice"):
        pytest.skip("LibreOffice missing")
    assert pdf.exists()
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True).stdout
    rel = listed(year["root"] / "发布名单.xlsx")
    compact = re.sub(r"\s+", "", text)
    for org, *_ in rel:
        assert re.sub(r"\s+", "", org) in compact, org
    e16 = by_id(year["approval_0"])[year["e16"]][1]["申请组织名称"]
    assert e16 not in compact


# ---------------------------------------------------------------------- P8
def test_history_import_makes_the_registry_and_stage_start_uses_it(year):
    """README's order: `history import` before `stage start` — the import makes the registry
    and says so (P8); `stage start` finds it and makes none."""
    root = year["root"]
    rc, out, err = year["history"]
    assert (rc, err) == (0, "")
    assert out.splitlines()[0] == f"已新建评价档案：{root / REG}（此前没有评价档案）。"
    rc, out, err = year["start"]
    assert rc == 0 and "已新建评价档案" not in out
    assert f"评价档案：{root / REG}" in out.splitlines()
