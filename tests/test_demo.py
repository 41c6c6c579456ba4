"""`saq demo` and its generator: seeded, realistic, readable by both readers (issue 4 §8)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zipfile

import pytest

from xl_addin import demo
from xl_addin.cli import main
from xl_addin.demo import data as demo_data
from xl_addin.read import workbook as fastread
from xl_addin.rules.campaign import load
from xl_addin.rules.uscc import is_valid

C = load(2023)


def _hashes(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    a = demo.write_campaign(tmp_path / "a", seed=5, n_apps=12, n_recommenders=3, campaign=C)
    b = demo.write_campaign(tmp_path / "b", seed=5, n_apps=12, n_recommenders=3, campaign=C)
    c = demo.write_campaign(tmp_path / "c", seed=6, n_apps=12, n_recommenders=3, broken=False,
                             campaign=C)
    ha, hb, hc = _hashes(a.folder), _hashes(b.folder), _hashes(c.folder)
    assert ha == hb
    assert {k: v for k, v in ha.items() if "邮件附件" not in k} != hc


def test_built_campaign_is_realistic():
    apps, headers = demo.build(C)
    assert len(headers) >= 10
    real = [a for a in apps if a.write_workbook]
    assert len(real) >= 90
    assert {a.values["category"] for a in apps} == {c.name for c in C.categories}
    clean = [a for a in apps if a.problem != "E16"]
    assert all(is_valid(a.values["uscc"]) for a in clean)
    assert all(not is_valid(a.values["uscc"]) for a in apps if a.problem == "E16")
    names = [a.values["org_name"] for a in apps]
    assert all(n.startswith("上海") and n.endswith(demo_data.FORMS) for n in names)
    assert len(set(names)) > 0.8 * len(names)
    planted = {a.problem for a in apps}
    assert set(demo_data.PROBLEMS) <= planted  # every kind of problem is there


def _norm(v):
    if isinstance(v, dt.datetime):
        return v.date() if v.time() == dt.time() else v
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return float(v)
    if v == "":
        return None
    return v


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    pytest.importorskip("xl_addin.forms.fill")
    d = tmp_path_factory.mktemp("w")
    w = demo.Writers(C, d / "work")
    apps, headers = demo.build(C, n_apps=40, n_recommenders=4)
    picked = [a for a in apps if a.problem in ("", "inject", "formula", "E27", "E23")][:8]
    paths = []
    for k, a in enumerate(picked):
        p = d / f"app{k}.xlsx"
        w.application(p, a)
        paths.append((p, a))
    name = next(iter(headers))
    rows = [demo.row_of(C, a, i + 1) for i, (_p, a) in enumerate(paths)]
    w.recommender(d / "rec.xlsx", headers[name], rows)
    return paths, d / "rec.xlsx"


def test_fast_filled_values_are_what_was_asked(written):
    paths, _rec = written
    for p, a in paths:
        sub = fastread.read_submission(p)
        for key in ("org_name", "uscc", "category", "level", "contact_address", "fill_date"):
            want = a.values.get(key)
            assert _norm(sub.values.get(key)) == _norm(want), (key, p.name)
        listed = [r for r in sub.tables["respondent_list"].rows if any(x for x in r[1:])]
        assert len(listed) == len(a.respondents)


@pytest.fixture(scope="module")
def cli_demo(saq_demo):
    """`saq demo FOLDER -q`, run once per run for every test of the demo (tests/conftest.py):
    (folder, its output, exit code). Read-only."""
    return saq_demo["folder"], saq_demo["stdout"], saq_demo["code"]


def test_cli_demo_runs_and_says_where_the_master_is(cli_demo):
    d, out, code = cli_demo
    assert code == 0
    master = d / "汇总表.xlsx"
    inbox = d / "收件"
    files = sum(1 for p in inbox.rglob("*") if p.is_file())
    lines = out.splitlines()
    assert lines[:3] == [
        f"示例活动已生成：{inbox}（10 个推荐单位、90 份申请书（各有申报材料文件夹）、10 个问题文件）",
        f"活动年度：2023（已写入 {d / '活动.toml'}，在该文件夹中运行的 saq 命令都按此年度）",
        f"文件 {files} 个：已导入 100，已拒收 8，已忽略 {files - 108}"]
    assert master.exists() and f"汇总表：{master}" in lines
    assert lines[-1] == "请用 Excel 打开上面的汇总表；示例文件在同一文件夹的“收件”中。"


def test_demo_folder_says_its_year(cli_demo):
    """Issue 20 §7: the demo writes 活动.toml, so saq run on it later uses its year."""
    from xl_addin.read.year import find_setting, read_setting
    d, _out, _code = cli_demo
    assert read_setting(d / "活动.toml") == 2023
    assert find_setting(next((d / "收件").rglob("申请书_*.xlsx"))) == d / "活动.toml"


_FORMULA_CELL = re.compile(rb"<c\b[^>]*?(?:/>|>(.*?)</c>)", re.S)


def _formulas_without_value(path):
    n = 0
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                for m in _FORMULA_CELL.finditer(z.read(name)):
                    inner = m.group(1) or b""
                    n += b"<f" in inner and b"<v>" not in inner
    return n


def test_demo_workbooks_carry_cached_values(cli_demo):
    """Issue 20 §6: Protected View never recalculates; every formula cell of every workbook
    of the demo has its value, as files saved by Excel do (there were 7,214 without)."""
    d, _out, _code = cli_demo
    books = [p for p in (d / "收件").rglob("*.xlsx") if "邮件附件" not in p.parts
             and "被访者名单" not in p.name]
    assert len(books) == 100
    missing = {p.name: _formulas_without_value(p) for p in books}
    assert {name: n for name, n in missing.items() if n} == {}


def test_demo_checklists_match_their_dossiers(cli_demo, capsys):
    """Issue 20 §6: each 申请书's 材料清单 is ticked to match its dossier — every demo
    申请书 used to say 材料：缺 15 项. The dossiers: complete, but for the planted gaps."""
    from collections import Counter

    from master_sheets import sheet

    from xl_addin.rules.materials import checklist_names
    d, _out, _code = cli_demo
    apps, _headers = demo.build(C)
    written = [a for a in apps if a.write_workbook]
    gaps = [a for a in written if a.dossier_missing]
    assert len(gaps) == 3 and [a for a in written if a.dossier_na]
    got = Counter(r["申报材料"] for r in sheet(d / "汇总表.xlsx", "汇总"))
    assert got == Counter({"齐全": len(written) - len(gaps), "缺 1 项": len(gaps),
                           "": len(apps) - len(written)})  # a 附件3 row with no 申请书
    names = checklist_names(C)
    for a in written:
        path = next((d / "收件" / a.recommender).glob(f"*/{a.file_name}"))
        if a.layout or a.merged:
            continue  # the hand-laid-out workbooks carry no 材料清单
        values = fastread.read_submission(path, names=names).values
        assert {k: v for k, v in values.items() if v} == demo_data.checklist_answers(C, a), a.file_name
    # `saq check 文件夹` of a dossier with a gap: exactly that item (an unticked one)
    a = next(g for g in gaps if g.dossier_missing == ("license",))
    folder = next((d / "收件" / a.recommender).glob(f"*/{a.file_name}")).parent
    assert main(["check", str(folder)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"活动年度：2023（按 {d / '活动.toml'} 的设置）"
    assert lines[-2:] == ["  [M06 错误] 缺少营业执照复印件（M06）",
                          "有 1 项错误、0 项提醒（申报材料不齐或不符）"]
    ok = next(a for a in written if not a.problem and not a.dossier_missing)
    folder = next((d / "收件" / ok.recommender).glob(f"*/{ok.file_name}")).parent
    assert main(["check", str(folder)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "材料齐全、无问题，可以提交"
    assert main(["check", str(folder / ok.file_name)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "表格：无误；材料：齐全；可以提交"
