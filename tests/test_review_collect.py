"""Expert review end to end on the demo campaign (issue 5), with simulated experts: one
recuses, one leaves rows empty, one types out-of-range values, one renames the sheet.
Checks: assignment constraints, every score accounted for, aggregation equal to an
independent computation, every file listed, no traceback, formula-like text kept as text.
"""

from __future__ import annotations

import shutil
import statistics

import pytest

from xl_addin import cli
from xl_addin.review import simulate as S
from xl_addin.review.assign import may_judge
from xl_addin.review.collect import IGNORED, REJECTED, USED, collect
from xl_addin.review.experts import read_experts, write_template
from xl_addin.review.manifest import FILE_NAME, read_manifest
from xl_addin.rules.campaign import load
from xl_addin.rules.engine import evaluate_application

C = load()
EXPERTS = [("王立群", "上海交通大学", None, "企业类、服务类"),
           ("李敏", "复旦大学", None, "全部"),
           ("张伟", "上海市质量协会", None, None),
           ("陈静", "上海大学", None, "工程类、产品类"),
           ("刘洋", "同济大学", None, "全部"),
           ("赵磊", "华东理工大学", None, "产品类、服务类、企业类、工程类")]
BEHAVIOUR = {"王立群": S.RECUSES, "李敏": S.LEAVES_EMPTY, "张伟": S.OUT_OF_RANGE,
             "陈静": S.RENAMES}


@pytest.fixture(scope="module")
def campaign_dir(tmp_path_factory, small_demo):
    from openpyxl import load_workbook
    root = tmp_path_factory.mktemp("review")
    # The demo campaign of issue 4 at a small size, consolidated (conftest, once per run)
    master = root / "master.xlsx"
    shutil.copy2(small_demo["master"], master)
    ws = load_workbook(master)["汇总"]
    # The avoid list of 王立群 names a real recommender of the demo, to test conflicts.
    recs = sorted({ws.cell(r, 3).value for r in range(2, ws.max_row + 1) if ws.cell(r, 3).value})
    experts = root / "experts.xlsx"
    assert cli.main(["review", "assign", str(master), "--experts", str(experts),
                     "-o", str(root / "out")]) == 1  # template written, nothing assigned
    wb = load_workbook(experts)
    ws = wb["专家名单"]
    t = ws.tables["experts"]
    hr = int(t.ref.split(":")[0][1:])
    rows = [list(e) for e in EXPERTS]
    rows[0][2] = recs[0]
    for i, r in enumerate(rows, start=hr + 1):
        for j, v in enumerate(r, start=1):
            ws.cell(i, j, v)
    t.ref = f"A{hr}:D{hr + len(rows)}"
    wb.save(experts)
    out = root / "out"
    assert cli.main(["review", "assign", str(master), "--experts", str(experts),
                     "-o", str(out)]) == 0
    man = read_manifest(out / FILE_NAME, C)
    typed = {}
    for e in man.experts:
        ids = [a for a, names in man.by_app.items() if e.name in names]
        recuse = ids[:2] if BEHAVIOUR.get(e.name) == S.RECUSES else ()
        typed[e.name] = S.fill_workbook(out / man.files[e.name], C, e.name,
                                        BEHAVIOUR.get(e.name, S.DILIGENT), recuse=recuse)
    # Files an inbox really gets: a second copy, junk, a foreign workbook, a locked one.
    first = out / man.files["刘洋"]
    (out / "旧版").mkdir()
    shutil.copy(first, out / "旧版" / "专家评分表_刘洋（旧）.xlsx")
    (out / "损坏.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    (out / "加密.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    (out / "说明.txt").write_text("请查收", encoding="utf-8")
    (out / "~$专家评分表_刘洋.xlsx").write_bytes(b"lock")
    from openpyxl import Workbook
    Workbook().save(out / "别人的表.xlsx")
    return {"root": root, "out": out, "master": master, "experts": experts, "man": man,
            "typed": typed}


def test_assignment_constraints_on_the_demo(campaign_dir):
    man = campaign_dir["man"]
    experts = {e.name: e for e in read_experts(campaign_dir["experts"], C).experts}
    assert set(experts) == {e[0] for e in EXPERTS}
    apps = {a.id: a for a in man.apps}
    from xl_addin.review.master import read_master
    n_master = len(read_master(campaign_dir["master"], C)[0])
    assert len(man.by_app) + len(man.not_assigned) == n_master  # every master row accounted
    for app_id, names in man.by_app.items():
        assert len(names) == man.k == 3
        assert all(may_judge(experts[n], apps[app_id]) for n in names)
    # issue 14: loads are balanced on the demo: within 1 of each other, except an expert
    # who already judges every application they may (王立群: two categories, one 回避)
    loads = {}
    for names in man.by_app.values():
        for n in names:
            loads[n] = loads.get(n, 0) + 1
    top = max(loads.values())
    for name, e in experts.items():
        can = sum(1 for i in man.by_app if may_judge(e, apps[i]))
        assert loads.get(name, 0) >= top - 1 or loads.get(name, 0) == can, (name, loads, can)
    others = [n for name, n in loads.items() if name != "王立群"]
    assert max(others) - min(others) <= 1
    # 王立群 avoids a recommender: none of its applications went to him
    rec = experts["王立群"].avoid[0]
    assert all("王立群" not in names for i, names in man.by_app.items()
               if apps[i].recommender == rec)


@pytest.fixture(scope="module")
def collected(campaign_dir):
    return collect(campaign_dir["out"], C)


def test_every_score_is_accounted_for(collected, campaign_dir):
    man = campaign_dir["man"]
    pairs = [(a.app.id, s.expert) for a in collected.review.apps for s in a.scores]
    assert sorted(pairs) == sorted((i, n) for i, names in man.by_app.items() for n in names)


def test_behaviours_show_in_the_statuses(collected, campaign_dir):
    typed = campaign_dir["typed"]
    status = {(a.app.id, s.expert): s.status for a in collected.review.apps for s in a.scores}
    for expert, rows in typed.items():
        for app_id, row in rows.items():
            got = status[(app_id, expert)]
            if row.get("recused") == "是":
                assert got == "回避"
            elif not row:
                assert got == "未填写"
            elif BEHAVIOUR.get(expert) == S.LEAVES_EMPTY and \
                    len(row) < len(S.expert_row(C, app_id, expert)):
                assert got == "未完成（缺 3 项）"
            elif BEHAVIOUR.get(expert) == S.OUT_OF_RANGE and \
                    row[C.rubric.parts[1].key] not in C.rubric.parts[1].allowed:
                assert got == "有 1 项填写无效"
            else:
                assert got == "已完成", (expert, app_id)
    # the renamed sheet was still read: all of 陈静's rows count
    assert all(status[(i, "陈静")] == "已完成" for i in typed["陈静"])


def test_aggregation_equals_independent_computation(collected, campaign_dir):
    typed = campaign_dir["typed"]
    for a in collected.review.apps:
        expected = []
        for s in a.scores:
            if s.counted:
                total = evaluate_application(typed[s.expert][a.app.id], C).rubric.total
                assert s.total == pytest.approx(total)
                expected.append(total)
        if expected:
            assert a.mean == pytest.approx(statistics.fmean(expected))
            assert a.range == pytest.approx(max(expected) - min(expected))
        assert a.complete == (len(expected) >= 3)


def test_recusals_fall_below_k_and_are_listed(collected, campaign_dir):
    recused = [i for i, row in campaign_dir["typed"]["王立群"].items() if row.get("recused")]
    assert len(recused) == 2
    below = {a.app.id for a in collected.review.below_k}
    assert set(recused) <= below


def test_every_file_is_listed_with_a_reason(collected, campaign_dir):
    out = campaign_dir["out"]
    files = {f.rel: f for f in collected.files}
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert set(files) == on_disk
    assert files["损坏.xlsx"].status == REJECTED and "损坏" in files["损坏.xlsx"].reason
    assert files["加密.xlsx"].status == REJECTED and "密码" in files["加密.xlsx"].reason
    assert files["别人的表.xlsx"].status == REJECTED and "_meta" in files["别人的表.xlsx"].reason
    assert files["说明.txt"].status == IGNORED
    assert files["~$专家评分表_刘洋.xlsx"].status == IGNORED
    # two workbooks of 刘洋: one used, the other ignored with the reason
    liu = [f for f in files.values() if f.expert == "刘洋"]
    assert sorted(f.status for f in liu) == [USED, IGNORED]
    assert all(f.reason for f in files.values() if f.status != USED)


def test_cli_collect_writes_results_and_text_stays_text(campaign_dir, capsys):
    from openpyxl import load_workbook
    target = campaign_dir["root"] / "评审结果.xlsx"
    rc = cli.main(["review", "collect", str(campaign_dir["out"]), "-o", str(target),
                   "--publication-start", "2023-10-08"])
    out, err = capsys.readouterr()
    assert rc == 0 and "Traceback" not in out + err
    assert "已拒收 损坏.xlsx" in out
    wb = load_workbook(target)
    assert {"评审结果", "评分明细", "现场评审名单", "入围标杆级名单", "公示名单", "进度", "评分不足",
            "未评审申请", "文件清单", "说明"} <= set(wb.sheetnames)
    assert wb["公示名单"]["A2"].value == "公示期：2023年10月8日至2023年10月14日"  # C5: 7 days
    # issue 14: only organisation, project, category, level; numbered; grouped by level
    pub = wb["公示名单"]
    hr = next(r for r in range(1, 10) if pub.cell(r, 1).value == "序号")
    head = [c.value for c in pub[hr]]
    assert head == ["序号", "组织名称", "项目名称", "申请类别", "等级"]
    body = [[c.value for c in r] for r in pub.iter_rows(min_row=hr + 1) if r[0].value is not None]
    assert [r[0] for r in body] == list(range(1, len(body) + 1))
    assert not any(isinstance(v, float) or (isinstance(v, str) and v.startswith("2023-"))
                   for r in body for v in r)
    ranks = [[lv.name for lv in C.levels].index(r[4].split("（")[0]) for r in body]
    assert ranks == sorted(ranks)
    # 评审结果 prints its summary columns one A4 page across (issue 22; was 15 pages)
    res = wb["评审结果"]
    assert int(res.page_setup.fitToWidth) == 1
    assert str(res.page_setup.paperSize) == str(res.PAPERSIZE_A4)
    last = res.cell(hr_of(res), 13)
    assert last.value == "状态" and f"${last.column_letter}$" in str(res.print_area)
    comments = [c for row in wb["评分明细"].iter_rows() for c in row
                if isinstance(c.value, str) and c.value.startswith("=测量")]
    assert comments and all(c.data_type == "s" for c in comments)
    # progress: 李敏 still owes the rows she left empty
    prog = {r[0].value: r for r in wb["进度"].iter_rows(min_row=4)}
    assert prog["李敏"][5].value > 0 and "未填写" in prog["李敏"][7].value


def hr_of(ws):
    return next(r for r in range(1, 10) if ws.cell(r, 1).value == "申请编号")


def test_cli_errors_are_one_chinese_line(tmp_path, capsys):
    rc = cli.main(["review", "collect", str(tmp_path), "-o", str(tmp_path / "r.xlsx")])
    out, err = capsys.readouterr()
    assert rc == 2 and "分配表" in err and "Traceback" not in err
    rc = cli.main(["review", "collect", str(tmp_path), "--publication-start", "10月8日"])
    out, err = capsys.readouterr()
    assert (rc, out, err) == (2, "", "错误：公示开始日期“10月8日”不是日期，应写作 "
                                     "2023-09-18、2023.9.18 或 2023年9月18日\n")


def test_assign_rejects_a_broken_master(tmp_path, capsys):
    write_template(tmp_path / "experts.xlsx", C)
    (tmp_path / "m.xlsx").write_bytes(b"garbage")
    rc = cli.main(["review", "assign", str(tmp_path / "m.xlsx"), "--experts",
                   str(tmp_path / "experts.xlsx"), "-o", str(tmp_path / "o")])
    _, err = capsys.readouterr()
    assert rc == 2 and "m.xlsx" in err and "Traceback" not in err


def test_the_shared_reviewed_campaign_is_complete(reviewed_campaign):
    """The reviewed campaign other tests share (tests/conftest.py): every expert workbook of
    its manifest is in the review folder and the results list every application assigned."""
    from openpyxl import load_workbook
    man = read_manifest(reviewed_campaign["manifest"], C)
    assert man.experts and all((reviewed_campaign["review"] / man.files[e.name]).is_file()
                               for e in man.experts)
    assert reviewed_campaign["master"].is_file() and reviewed_campaign["inbox"].is_dir()
    results = load_workbook(reviewed_campaign["results"], read_only=True)
    text = "\n".join(str(v) for ws in results.worksheets for row in ws.iter_rows(values_only=True)
                     for v in row if v is not None)
    assert all(app_id in text for app_id in man.by_app)
