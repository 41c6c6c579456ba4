"""`saq demo` and its generator: seeded, realistic, readable by both readers (issue 4 §8)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from xl_addin import demo
from xl_addin.demo import data as demo_data
from xl_addin.read import workbook as fastread
from xl_addin.rules.campaign import load
from xl_addin.rules.uscc import is_valid

C = load(2023)


def _hashes(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    a = demo.write_campaign(tmp_path / "a", seed=5, n_apps=12, n_recommenders=3)
    b = demo.write_campaign(tmp_path / "b", seed=5, n_apps=12, n_recommenders=3)
    c = demo.write_campaign(tmp_path / "c", seed=6, n_apps=12, n_recommenders=3, broken=False)
    ha, hb, hc = _hashes(a.folder), _hashes(b.folder), _hashes(c.folder)
    assert ha == hb
    assert {k: v for k, v in ha.items() if "邮件附件" not in k} != hc


def test_built_campaign_is_realistic():
    apps, headers = demo.build(C)
    assert len(headers) >= 16
    real = [a for a in apps if a.write_workbook]
    assert len(real) >= 150
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


def test_cli_demo_runs_and_says_where_the_master_is(saq_demo):
    # `saq demo FOLDER -q`, run once per run for every test of the demo (tests/conftest.py)
    code, out = saq_demo["code"], saq_demo["stdout"]
    assert code == 0
    master = saq_demo["folder"] / "汇总表.xlsx"
    assert master.exists() and str(master) in out
    assert "申请" in out and "拒收" in out
