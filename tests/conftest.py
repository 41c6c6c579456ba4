"""Collect the readable rule cases of tests/cases/*.yaml as pytest items.

Each case is: name, rule (an id of RULES.md or a list), kind, input, expected — a table a
staff member can read (OpenFisca's habit). The runners below turn a kind into a call of the
library and compare what it returns with `expected`.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, settings

from xl_addin.rules import campaign as campaign_mod
from xl_addin.rules import engine, parse, report_use, rubric, sampling, stars, uscc

# Hypothesis profiles. The machine is shared (LibreOffice may run beside): judge properties,
# not speed. "ci" (the default run) tries a quarter of the examples; "full" as many as each
# test asks (Hypothesis' 100 where it does not say). `pytest -m slow` runs every property test
# under "full", with the tests marked slow (docs/DEVELOPING.md "Tests"); explicit counts go
# through hypo.examples(n), which scales them to the profile.
_QUIET = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("full", max_examples=100, **_QUIET)
settings.register_profile("saq", max_examples=100, **_QUIET)  # the former name of "full"
settings.register_profile("ci", max_examples=25, **_QUIET)
settings.load_profile("ci")


def _slow_run(config):
    """The run selects the slow tests (`-m slow`): the exhaustive one."""
    expr = (config.option.markexpr or "").replace(" ", "")
    return expr == "slow"


def pytest_configure(config):
    if _slow_run(config) and config.getoption("hypothesis_profile", None) in (None, "ci"):
        settings.load_profile("full")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    """LONG_FIRST order; in the slow run, every property test is one of the slow tests."""
    rank = {name: i for i, name in enumerate(LONG_FIRST)}

    def unit(item):  # what --dist loadscope hands out whole: a test class, or else a module
        cls = getattr(item, "cls", None)
        here = f"{item.path.name}::{cls.__name__}" if cls is not None else None
        return rank.get(here, rank.get(item.path.name, len(rank)))
    items.sort(key=unit)  # stable: others keep their order
    if _slow_run(config):
        for item in items:
            if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
                item.add_marker(pytest.mark.slow)

CASES = Path(__file__).parent / "cases"


def load_base(year):
    from lo_cases import base_values
    return base_values(year)


def full_rubric(c):
    out = {}
    for p in c.rubric.parts:
        if p.kind in ("score", "range"):
            out[p.key] = p.max
        elif p.kind == "errors":
            out[p.key] = 0
        else:
            out[p.key] = "否"
    out[c.rubric.veto_key] = "否"
    return out


def application_input(inp, c):
    """The base application (a clean one) with the case's changes on top."""
    base = load_base(c.year)
    rub = full_rubric(c)
    spec = inp.get("rubric", "full")
    if spec == "none":  # a table with no rubric columns at all
        rub = {}
    elif spec == "zero":
        rub = {k: (0 if isinstance(v, (int, float)) else v) for k, v in rub.items()}
    elif isinstance(spec, dict):
        rub.update(spec)
    values = {**base, **rub}
    for k, v in (inp.get("set") or {}).items():
        values[k] = v
    if "respondent_rows" in values:  # F4: the 被访者名单 rows, counted as the reader counts
        values["respondents_listed"] = engine.count_respondents(values.pop("respondent_rows"))
    return values


def _date(v):
    return v if isinstance(v, dt.date) else parse.date(v)


# What a case may expect, per kind; anything else is a typo that would silently test nothing.
EVALUATION_KEYS = {"flags", "message_contains", "severity", "total", "conclusion", "achievable",
                   "proposed", "status", "value"}
EXPECTED_KEYS = {
    "application": EVALUATION_KEYS, "row": EVALUATION_KEYS, "recommender": EVALUATION_KEYS,
    "rubric": {"total", "base", "bonus", "conclusion", "items", "bad_parts"},
    "conclusion": {"conclusion"}, "star": {"achievable", "proposed", "reason"},
    "onsite": {"onsite"}, "parse": {"unreadable", "value"}, "uscc": {"valid", "problem"},
    "calendar": {"start", "end", "date", "publication_end"}, "sampling": {"n", "margin"},
    "category": {"cap"},
    "dossier": {"codes", "message_contains"}, "checklist": {"codes"},
    "recommender_scan": {"codes"},  # RULES.md M (issue 13)
    # RULES.md P (issue 18): rules/decide.py
    "decided_level": {"highest", "refused", "line"},
    "exclusion": {"lines", "identity", "override", "fields"},
    "confirm": {"to_confirm", "open", "readable", "cell"},
    "pending": {"pending", "line"},
    "blockers": {"lines"},
    "publication_text": {"contains"},
    "onsite_reason": {"reason"},
}


def run_case(case):
    """Run one case under its campaign (``campaign: 2024``; default 2023). Strings may name
    the year relatively ("{Y-1}-10-01"), so a case holds for every campaign year."""
    c = campaign_mod.load(case.get("campaign", 2023))
    case = campaign_mod.substitute_year(case, c.year)
    kind, inp, exp = case["kind"], case.get("input") or {}, case["expected"]
    unknown = sorted(set(exp) - EXPECTED_KEYS.get(kind, set()))
    assert not unknown, f"unknown expected keys for kind {kind}: {unknown}"
    if EXPECTED_KEYS.get(kind) is EVALUATION_KEYS:  # the complete flag set, never a part of it
        assert "flags" in exp, f"case of kind {kind} must state its complete flag set (flags: [...])"
    if kind == "application":
        ev = engine.evaluate_application(application_input(inp, c), c)
        check_evaluation(ev, exp, c)
    elif kind == "row":
        check_evaluation(engine.evaluate_row(inp, c), exp, c)
    elif kind == "recommender":
        check_evaluation(engine.evaluate_recommender(inp, c), exp, c)
    elif kind == "rubric":
        values = full_rubric(c) if inp.get("from") == "full" else {}
        values.update(inp.get("parts") or {})
        res = rubric.score(values, c)
        for key in ("total", "base", "bonus", "conclusion"):
            if key in exp:
                assert getattr(res, key) == exp[key], (key, getattr(res, key))
        for item, v in (exp.get("items") or {}).items():
            assert res.items[item] == v, (item, res.items[item])
        if "bad_parts" in exp:
            assert [p.key for p, _ in res.bad_parts] == exp["bad_parts"]
    elif kind == "conclusion":
        assert rubric.conclusion(inp["score"], inp.get("veto", "否"), c) == exp["conclusion"]
    elif kind == "star":
        applied = parse.level(inp.get("applied"), c)
        r = stars.evaluate(c, parse.category(inp["category"], c), inp["conclusion"],
                           inp.get("satisfaction"), inp.get("report_use", "战略"),
                           inp.get("risk", "无"), inp.get("veto", "否"), applied)
        assert c.level_name(r.achievable) == exp["achievable"]
        if "proposed" in exp:
            assert c.level_name(r.proposed) == exp["proposed"]
        if "reason" in exp:
            assert r.reason == exp["reason"]
    elif kind == "onsite":
        applied = parse.level(inp["applied"], c)
        proposed = 0 if inp["proposed"] == c.no_level else parse.level(inp["proposed"], c)
        assert stars.needs_onsite_review(c, inp["category"], applied, proposed) is exp["onsite"]
    elif kind == "parse":
        fn = {"number": lambda v: parse.number(v, unit=inp.get("unit")), "date": parse.date,
              "yesno": parse.yesno, "hasnot": parse.hasnot,
              "report_use": lambda v: report_use.read(v, report_use.words(c)).value,
              "category": lambda v: parse.category(v, c), "level": lambda v: parse.level(v, c),
              "integer": parse.integer}[inp["type"]]
        if exp.get("unreadable"):
            with pytest.raises(parse.Unreadable):
                fn(inp["value"])
        else:
            assert fn(inp["value"]) == exp["value"]
    elif kind == "uscc":
        assert uscc.is_valid(inp["code"]) is exp["valid"]
        if "problem" in exp:
            assert uscc.problem(inp["code"]) == exp["problem"]
    elif kind == "calendar":
        e = c.calendar[inp["id"]]
        for key in ("start", "end", "date"):
            if key in exp:
                assert getattr(e, key) == _date(exp[key])
        if "publication_start" in inp:
            start, end = c.publication_window(_date(inp["publication_start"]))
            assert end == _date(exp["publication_end"])
    elif kind == "sampling":
        if "n" in exp:
            assert sampling.sample_size(inp["margin"], inp.get("confidence", 0.95),
                                        inp.get("population"), inp.get("p", 0.5)) == exp["n"]
        if "margin" in exp:
            got = sampling.margin(inp["n"], inp.get("confidence", 0.95), inp.get("population"))
            assert round(got, 4) == exp["margin"]
    elif kind == "dossier":
        run_dossier_case(inp, exp, c)
    elif kind == "checklist":
        from xl_addin.rules import materials
        answers = inp.get("answers") or {}
        if answers == "all":
            answers = {it["key"]: c.dossier["provided"] for it in materials.material_items(c)}
        issues = materials.checklist_issues(
            {materials.checklist_name(it): answers.get(it["key"])
             for it in materials.material_items(c)}, inp.get("category"), c)
        assert sorted(i.code for i in issues) == sorted(exp["codes"]), [i.message for i in issues]
    elif kind == "recommender_scan":
        import tempfile

        from xl_addin.read import dossier
        with tempfile.TemporaryDirectory() as d:
            for name in inp["files"]:
                f = Path(d) / name
                if name in (inp.get("empty") or []):
                    f.write_bytes(b"")
                elif f.suffix.lower() in (".pdf", ".jpg", ".png"):
                    _real_file(f)  # a scan counts only when it is real (issue 19 §9)
                else:
                    f.write_bytes(b"x")
            issue = dossier.scan_issue(Path(d) / inp["recommender"], c)
            assert ([issue.code] if issue else []) == exp["codes"]
    elif kind == "category":
        cat = c.category(parse.category(inp["category"], c))
        assert c.level(cat.cap).applied == exp["cap"]
    elif kind in DECIDING_KINDS:
        run_deciding_case(kind, inp, exp, c)
    else:
        raise AssertionError(f"unknown kind {kind}")


_DOSSIERS = {}  # (category, answers) -> a complete dossier folder, built once per session


def _base_dossier(c, category, answers):
    import tempfile

    from xl_addin.demo.dossier import write_dossier
    key = (category, tuple(sorted((answers or {}).items())))
    if key not in _DOSSIERS:
        d = Path(tempfile.mkdtemp(prefix="saq_dossier_")) / "申报材料"
        write_dossier(d, category, campaign=c, answers=answers)
        _DOSSIERS[key] = d
    return _DOSSIERS[key]


def run_dossier_case(inp, exp, c):
    """A demo dossier folder changed as the case says, checked as `saq check DIR` does:
    remove (item keys), rename (item key -> new name), report (字数 per section, or
    "none" for a report without headings), answers (材料清单), no_workbook."""
    import shutil
    import tempfile

    from xl_addin.demo.dossier import write_report
    from xl_addin.read.dossier import check_dossier
    base = _base_dossier(c, inp.get("category", "服务类"), inp.get("answers"))
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / base.name
        shutil.copytree(base, d)
        files = {k: d / p.name for k, p in _dossier_files(base, c).items()}
        for key in inp.get("remove") or []:
            files[key].unlink()
        for key, new in (inp.get("rename") or {}).items():
            files[key].rename(d / new)
        for key, new in (inp.get("replace") or {}).items():  # a real file of another kind
            files[key].unlink()
            files[key] = d / new
            _real_file(files[key])
        _make_unreal(d, files, inp)
        if "report" in inp:
            lengths = inp["report"]
            files["report"].unlink()
            if lengths == "none":
                import docx
                doc = docx.Document()
                doc.add_paragraph("用户满意经营的实践报告：正文没有分部分标题")
                doc.save(str(files["report"]))
            else:
                write_report(files["report"], lengths, campaign=c)
        if inp.get("no_workbook"):
            (d / "申请书.xlsx").unlink()
        res = check_dossier(d, c)
        got = sorted(i.code for i in res.issues)
        assert got == sorted(exp["codes"]), [i.message for i in res.issues]
        for text in exp.get("message_contains", []):
            assert any(text in i.message for i in res.issues), (text, [i.message for i in res.issues])


def _real_file(path):
    from xl_addin.demo.dossier import STUBS, pdf_bytes
    kind = path.suffix.lower().lstrip(".")
    path.write_bytes(pdf_bytes(path.stem) if kind == "pdf" else STUBS[kind])


# Files that name an item but are not real (RULES.md M; issue 19 §9): what replaces them.
UNREAL = {"exe": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(48),
          "html": "<!DOCTYPE html><html><head><title>登录</title></head><body>会话已过期</body></html>"
          .encode("utf-8"),
          "zip": b"PK\x03\x04" + bytes(26)}


def _make_unreal(d, files, inp):
    """empty: item keys made zero bytes; content: item key -> exe | html | zip (the bytes
    of another kind under the item's name); link_outside: item keys replaced by a link to
    a copy outside the folder; link_broken: by a link to nothing."""
    import os
    for key in inp.get("empty") or []:
        files[key].write_bytes(b"")
    for key, kind in (inp.get("content") or {}).items():
        files[key].write_bytes(UNREAL[kind])
    for key in inp.get("link_outside") or []:
        outside = d.parent / ("外部_" + files[key].name)
        outside.write_bytes(files[key].read_bytes())  # a real file, but not in the folder
        files[key].unlink()
        os.symlink(outside, files[key])
    for key in inp.get("link_broken") or []:
        files[key].unlink()
        os.symlink(d / "不存在的文件.pdf", files[key])


def _dossier_files(folder, c):
    from xl_addin.read.dossier import classify
    out = {}
    for p in folder.iterdir():
        it = classify(p.name, c)
        if it is not None:
            out[it["key"]] = p
    return out


def check_evaluation(ev, exp, c):
    codes = [f.code for f in ev.flags]
    if "flags" in exp:
        assert sorted(set(codes)) == sorted(exp["flags"]), ev.messages
    for text in exp.get("message_contains", []):
        assert any(text in f.message for f in ev.flags), (text, ev.messages)
    if "severity" in exp:
        code, sev = exp["severity"]
        assert [f.severity for f in ev.flags if f.code == code] == [sev]
    if "total" in exp:
        assert ev.rubric.total == exp["total"]
    if "conclusion" in exp:
        assert ev.conclusion == exp["conclusion"]
    if "achievable" in exp:
        assert c.level_name(ev.star.achievable) == exp["achievable"]
    if "proposed" in exp:
        assert c.level_name(ev.star.proposed) == exp["proposed"]
    if "status" in exp:
        assert ev.status == exp["status"]
    if "value" in exp:
        key, want = exp["value"]
        assert ev.values[key] == (_date(want) if isinstance(want, dt.date) else want)


class CaseFile(pytest.File):
    def collect(self):
        data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        if not isinstance(data, list):
            return
        for case in data:
            rules = case["rule"] if isinstance(case["rule"], list) else [case["rule"]]
            yield CaseItem.from_parent(self, name=f"{'/'.join(rules)} {case['name']}",
                                       case=case)


class CaseItem(pytest.Item):
    def __init__(self, *, case, **kw):
        super().__init__(**kw)
        self.case = case

    def runtest(self):
        run_case(copy.deepcopy(self.case))

    def reportinfo(self):
        return self.path, 0, f"case: {self.name}"


def pytest_collect_file(parent, file_path):
    if file_path.suffix == ".yaml" and file_path.parent == CASES \
            and file_path.name != "base_application.yaml":
        return CaseFile.from_parent(parent, path=file_path)


def shared_once(tmp_path_factory, name, build):
    """``build(folder)`` once per test run, shared by every pytest-xdist worker.

    The suite runs with ``-n 2``: a session fixture would otherwise be built once per
    worker. The first worker to ask builds under the run's common base folder, holding a
    lock; the others wait for it and reuse the result.

    Args:
        name: the folder's name under the run's base folder.
        build: folder -> a JSON-able result (Paths are turned into str and back).
    Returns:
        what ``build`` returned, with every str value that was a Path a Path again.
    """
    import fcntl
    import json
    import shutil
    root = run_root(tmp_path_factory)  # common to the workers of this run, removed with it
    folder, done = root / name, root / f"{name}.json"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            if folder.exists():  # half-written by a worker that failed
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            result = build(folder)
            paths = sorted(k for k, v in result.items() if isinstance(v, Path))
            done.write_text(json.dumps({"result": {k: str(v) if isinstance(v, Path) else v
                                                   for k, v in result.items()},
                                        "paths": paths}, ensure_ascii=False), encoding="utf-8")
        saved = json.loads(done.read_text(encoding="utf-8"))
    return {k: (Path(v) if k in saved["paths"] else v) for k, v in saved["result"].items()}


def run_root(tmp_path_factory):
    """The folder of this test run common to its pytest-xdist workers (removed with it)."""
    import os
    root = tmp_path_factory.getbasetemp()
    return root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root


@pytest.fixture(scope="session", autouse=True)
def _lo_cache(tmp_path_factory):
    """LibreOffice's recalculations are kept for the run, for both workers (tests/lo_session.py)."""
    import lo_session
    lo_session.set_cache_dir(run_root(tmp_path_factory) / "lo_cache")


@pytest.fixture(scope="session")
def lo():
    """The worker's LibreOffice session (tests/lo_session.py); skips without LibreOffice."""
    import lo_session
    if not lo_session.available():
        pytest.skip("LibreOffice with python3-uno is not installed")
    return lo_session.session()


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """Every kind of workbook we generate, written once per run (tests/generated.py, issue 11)."""
    from generated import generate_all
    return shared_once(tmp_path_factory, "generated", generate_all)


@pytest.fixture(scope="session")
def reviewed_campaign(generated):
    """A campaign reviewed end to end, once per run (built with :func:`generated`,
    tests/generated.py): a small demo inbox (12 applications, 2 recommenders), its master,
    experts assigned (`saq review assign`), every expert workbook filled as a diligent expert
    (review.simulate) and collected (`saq review collect`). Read-only: copy what you change.

    Returns:
        {"inbox", "master", "experts", "review" (the experts' folder), "manifest", "results"}
    """
    root = generated["master"].parent
    return {"inbox": root / "inbox", "master": generated["master"],
            "experts": root / "experts.xlsx", "review": generated["manifest"].parent,
            "manifest": generated["manifest"], "results": generated["results"]}


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory):
    """A small demo campaign (40 applications, 4 recommenders, no odd files) and its master,
    written once per run for both workers: {"inbox", "master"}. Read-only (copy it to change
    it)."""
    def build(folder):
        from xl_addin.consolidate import consolidate
        from xl_addin.demo import write_campaign
        from xl_addin.rules.campaign import load
        c = load()
        write_campaign(folder / "收件", n_apps=40, n_recommenders=4, broken=False, campaign=c)
        consolidate(folder / "收件", folder / "汇总表.xlsx", c, progress=False)
        return {"inbox": folder / "收件", "master": folder / "汇总表.xlsx"}
    return shared_once(tmp_path_factory, "small_demo", build)


def _saq_demo(tmp_path_factory):
    """`saq demo FOLDER -q` run once per run for both workers, as a user runs it: its exit
    code, what it printed, the DemoCampaign it wrote (xl_addin.demo.run_demo's own result,
    kept as the command runs) and its master."""
    import contextlib
    import io
    import pickle
    from unittest import mock

    import xl_addin.demo
    from xl_addin.cli import main

    def build(folder):
        kept = []
        real = xl_addin.demo.run_demo

        def run_demo(*args, **kw):
            kept.append(real(*args, **kw))
            return kept[-1]
        out = io.StringIO()
        with mock.patch.object(xl_addin.demo, "run_demo", run_demo), \
                contextlib.redirect_stdout(out):
            code = main(["demo", str(folder / "saq_demo"), "-q"])
        demo, result = kept[0]
        (folder / "campaign.pickle").write_bytes(pickle.dumps(demo))
        return {"code": code, "stdout": out.getvalue(), "folder": folder / "saq_demo",
                "inbox": Path(demo.folder), "master": Path(result.written_to),
                "campaign": folder / "campaign.pickle"}
    return shared_once(tmp_path_factory, "saq_demo", build)


@pytest.fixture(scope="session")
def saq_demo(tmp_path_factory):
    """`saq demo` as a user runs it, once per run: {code, stdout, folder, inbox, master}.
    Read-only: a test that writes into its folders works on a copy."""
    return _saq_demo(tmp_path_factory)


@pytest.fixture(scope="session")
def demo_campaign(saq_demo):
    """`saq demo`'s campaign (the current campaign, default seed, every file): the
    DemoCampaign of ``xl_addin.demo.write_campaign`` (folder, apps with the problem each was
    given, recommenders, broken files), written once per run for both workers. Read-only."""
    import pickle
    return pickle.loads(saq_demo["campaign"].read_bytes())


@pytest.fixture(scope="session")
def demo_inbox(saq_demo):
    """The inbox of `saq demo` (its 收件 folder). Read-only."""
    return saq_demo["inbox"]


@pytest.fixture(scope="session")
def demo_master(saq_demo):
    """The master `saq demo` wrote of :func:`demo_inbox` (``consolidate`` with the current
    campaign and its default reading processes). Read-only (copy it to change it)."""
    return saq_demo["master"]


# The suite runs with `-n 2 --dist loadscope` (README, .ci/run): each module (or test class)
# runs whole on one worker, handed out in this order, the longest first (CPU seconds measured
# on the project's 2-core machine, issue 21), so that the two workers end together instead of
# one waiting for a long unit picked up last. A class is named "file::Class". The first two
# build what the others share, side by side: test_one_verdict.py `saq demo` (saq_demo),
# test_lint.py the generated workbooks (generated).
LONG_FIRST = ["test_one_verdict.py", "test_lint.py", "test_stage_year.py", "test_formulas_lo.py",
              "test_one_verdict.py::TestSheet2023Part1", "test_one_verdict.py::TestSheet2023Part2",
              "test_one_verdict.py::TestSheet2023Part3", "test_consolidate.py", "test_xlcache.py",
              "test_second_engine.py", "test_review_stages.py", "test_ribbon.py",
              "test_consolidate_corpus.py", "test_demo.py", "test_forms_templates.py",
              "test_consolidate_dossier.py", "test_review_collect.py", "test_check_materials.py",
              "dossier.yaml", "test_dossier_pdf.py", "test_charts.py", "test_lo_session.py",
              "test_consolidate_lo.py", "test_review_add.py", "test_campaign_placeholders.py",
              "test_fidelity_paths.py", "test_addin_ovba.py", "test_campaign_2024.py",
              "test_stage_corpus.py", "test_stage_faults.py", "test_stage_rules.py",
              "test_sheet_differential.py", "test_consolidate_hostile.py"]


# ---------------------------------------------------------------------- RULES.md P (issue 18)
DECIDING_KINDS = {"decided_level", "exclusion", "confirm", "pending", "blockers",
                  "publication_text", "onsite_reason"}
ROW = "审定!第 7 行"  # the sheet row a case's refusal names


def _rank(word, c):
    if word in (None, ""):
        return None
    return 0 if word == c.no_level else parse.level(word, c)


def _findings(lines, c):
    from xl_addin.rules import decide
    return decide.findings_from_text("\n".join(lines or []), c)


def run_deciding_case(kind, inp, exp, c):
    """Cases of rules/decide.py: a level typed in a stage (P1), an exclusion (P2), the
    warnings to confirm (P3), 待补评 (P4), the blockers of 公示/发布 (P3, P4, P6), the 公示 text
    (P9), the 现场评审 reason (L6). ``line`` expectations are exact (with ``{row}`` for the
    row's text)."""
    from xl_addin.rules import decide
    org, project = inp.get("org", "上海甲有限公司"), inp.get("project", "甲项目")
    row = decide.row_text(ROW, org, project)
    if kind == "decided_level":
        applied, cat = _rank(inp.get("applied"), c), inp.get("category")
        if "highest" in exp:
            assert c.level_name(decide.highest_level(c, cat, applied)) == exp["highest"]
        if "value" in inp:
            value, fld = _rank(inp["value"], c), inp.get("field", "审定等级")
            line = decide.level_refusal(c, row, fld, value, cat, applied) or \
                decide.reason_refusal(c, row, fld, value, _rank(inp.get("achievable"), c),
                                      inp.get("reason", ""), inp.get("reason_field", "审定理由"))
            assert (line is not None) is exp["refused"], line
            if "line" in exp:
                assert line == exp["line"].format(row=row)
    elif kind == "exclusion":
        found = _findings(inp["lines"], c)
        if "fields" in exp:
            assert [f.field for f in found] == exp["fields"]
        if "lines" in exp:
            assert decide.exclusion_lines(found, c) == exp["lines"]
            # the lines read back give the same findings (the 分配表 keeps them as text)
            again = decide.findings_from_text(decide.exclusion_text(found, c), c)
            assert again == decide.ordered(found)
        if "identity" in exp:
            assert [f.code for f in decide.identity_errors(found, c)] == exp["identity"]
        if "override" in exp:
            got = decide.override_refusal(c, row, found, inp.get("reason", ""))
            want = exp["override"]
            assert got == (None if want is None else want.format(row=row)), got
    elif kind == "confirm":
        found = _findings(inp["lines"], c)
        if "to_confirm" in exp:
            assert [f.code for f in decide.to_confirm(found, c)] == exp["to_confirm"]
        codes, readable = decide.confirmed_codes(inp.get("核实"), found, c)
        if "open" in exp:
            assert [f.code for f in decide.open_warnings(found, codes, c)] == exp["open"]
        if "readable" in exp:
            assert readable is exp["readable"]
        if "cell" in exp:  # the 提醒 cell of 合议 and 审定
            assert decide.warning_lines(found, codes, c) == exp["cell"]
    elif kind == "pending":
        assert decide.is_pending(inp["n"], inp["k"]) is exp["pending"]
        if "line" in exp:
            assert decide.pending_line(c, row, inp["n"], inp["k"]) == exp["line"].format(row=row)
    elif kind == "blockers":
        cands = []
        for i, x in enumerate(inp["candidates"], start=7):
            found = _findings(x.get("lines"), c)
            codes, _ = decide.confirmed_codes(x.get("核实"), found, c)
            cands.append(decide.Candidate(
                f"审定!第 {i} 行", x["org"], x.get("project", ""), x.get("uscc", ""),
                _rank(x["level"], c), found, codes,
                tuple(x["scores"]) if x.get("scores") else None))
        fn = decide.publish_blockers if inp.get("action") == "发布" else decide.publicize_blockers
        assert fn(cands, c) == exp["lines"]
    elif kind == "publication_text":
        text = c.stages["publication_objection"]
        for want in exp["contains"]:
            assert want in text, (want, text)
    elif kind == "onsite_reason":
        got = decide.onsite_reason(c, inp["category"], _rank(inp["applied"], c),
                                   _rank(inp["proposed"], c))
        assert got == exp["reason"]
