"""Issue 10: every case of tests/cases/fidelity.yaml through three paths that must agree.

1. the engine (``evaluate_application``) and the UDF ``saq_star`` on the raw values;
2. ``saq eval`` on a CSV of the same cases (every value arrives as text, as from an export);
3. the application workbook recalculated in LibreOffice (the sheet's own formulas).

Each path gives the flag codes, the achievable and the proposed level; they must be equal
for every case, and equal to what the case table expects (tests/conftest.py checks that).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import conftest
import lo_diff
import pytest
import yaml
from openpyxl import load_workbook

from xl_addin import cli
from xl_addin.excel import udfs
from xl_addin.forms.templates import template_names
from xl_addin.rules import engine
from xl_addin.rules.campaign import load

CASES = Path(__file__).with_name("cases") / "fidelity.yaml"
WORKBOOKS = Path(__file__).resolve().parents[1] / "workbooks"


def application_cases():
    """(name, values) of every application case; 被访者名单 rows kept as rows."""
    c = load()
    out = []
    for case in yaml.safe_load(CASES.read_text(encoding="utf-8")):
        if case["kind"] != "application":
            continue
        inp = dict(case.get("input") or {})
        rows = (inp.get("set") or {}).get("respondent_rows")
        values = conftest.application_input(inp, c)
        if rows is not None:
            values.pop("respondents_listed", None)
            values["respondent_rows"] = rows
        out.append((case["name"], values))
    return out


def engine_input(values):
    raw = {k: v for k, v in values.items() if k != "respondent_rows"}
    if "respondent_rows" in values:
        raw["respondents_listed"] = engine.count_respondents(values["respondent_rows"])
    return raw


def verdict(c, ev):
    s = ev.star
    return (ev.codes, c.level_name(s.achievable),
            c.level_name(s.proposed) if ev.values.get("level") else "")


def test_engine_and_udf_agree():
    c = load()
    cases = application_cases()
    assert len(cases) >= 30
    for name, values in cases:
        ev = engine.evaluate_application(engine_input(values), c)
        if ev.star.achievable is None:
            continue
        got = udfs.saq_star(values.get("category"), ev.conclusion, values.get("satisfaction"),
                            values.get("report_use"), values.get("risk"), values.get("level"),
                            values.get(c.rubric.veto_key))
        want = verdict(c, ev)[2] or verdict(c, ev)[1]
        assert got == want, (name, got, want)


def _text(v):
    if v is None:
        return ""
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return str(v)


def test_saq_eval_agrees_with_engine(tmp_path, capsys):
    c = load()
    cases = application_cases()
    labels = engine.field_labels(c, "application")
    labels["respondents_listed"] = c.field("application", "respondents_listed").label
    keys = sorted({k for _, v in cases for k in engine_input(v)} & set(labels))
    src = tmp_path / "申请汇总.csv"
    with src.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([labels[k] for k in keys])
        for _, values in cases:
            raw = engine_input(values)
            w.writerow([_text(raw.get(k)) for k in keys])
    out = tmp_path / "结果.xlsx"
    assert cli.main(["eval", str(src), "-o", str(out)]) == 0
    ws = load_workbook(out).active
    heads = [cell.value for cell in ws[1]]
    col = {h: heads.index(h) for h in ("问题代码", "可评等级", "建议等级")}
    for (name, values), row in zip(cases, ws.iter_rows(min_row=2, values_only=True)):
        ev = engine.evaluate_application(engine_input(values), c)
        got = tuple(row[col[h]] or "" for h in ("问题代码", "可评等级", "建议等级"))
        assert got == verdict(c, ev), name


@pytest.mark.libreoffice
@pytest.mark.skipif(not lo_diff.lo_available(), reason="LibreOffice + python3-uno")
def test_sheet_in_libreoffice_agrees_with_engine():
    c = load()
    cases = application_cases()
    pairs, _ = lo_diff.run_applications(WORKBOOKS / template_names(c)["application"],
                                        [v for _, v in cases], c)
    for (name, _), (got, want) in zip(cases, pairs):
        diffs = [(k, g, w) for k, g, w in zip(lo_diff.APP_OUTPUTS, got, want) if g != w]
        assert not diffs, (name, diffs)


# ---------------------------------------------------------------------- rules in the open
def test_saq_rules_shows_every_rule_and_decision_in_full(capsys):
    from xl_addin.rules import text as rules_text
    c = load()
    assert cli.main(["rules"]) == 0
    out = capsys.readouterr().out
    assert "…" not in out
    # a wrapped cell continues on the next lines with the other cells blank: without the
    # whitespace the sentence reads straight through
    flat = "".join(out.split())
    for rid in ("L4", "L5", "L5a", "L6", "E23", "E24", "E31", "E32"):
        assert f"\n{rid} " in out, rid
    for spec in c.flags.values():
        assert "".join(spec["rule"].split()) in flat, spec["rule"]
    for label in c.decision_labels.values():
        assert "".join(label.split()) in flat, label
    md = rules_text.markdown(c)
    for label in c.decision_labels.values():
        assert label in md


def test_every_decision_of_the_campaign_file_has_a_label_in_the_open():
    """decision = true anywhere in the campaign file → a label in `saq rules`, the master's
    说明 sheet (campaign.decision_labels) and docs/rules.md; C2/C6, E03, E06, E08, L4, L6."""
    import tomllib

    from xl_addin.rules.campaign import CAMPAIGN_DIR
    c = load()
    raw = tomllib.loads((CAMPAIGN_DIR / "2023.toml").read_text(encoding="utf-8"))
    marked = {k for k, v in raw["calendar"].items() if v.get("decision")}
    marked |= {k for k, v in raw["flags"].items() if v.get("decision")}
    marked |= {raw[t]["rule"] for t in ("no_level", "onsite_review") if raw[t].get("decision")}
    assert {"C2", "C6", "E03", "E06", "E08", "L4", "L6"} <= marked
    assert marked <= set(c.decision_labels)


def test_docs_rules_md_is_generated_from_the_campaign():
    from xl_addin.rules import text as rules_text
    doc = Path(__file__).resolve().parents[1] / "docs" / "rules.md"
    assert doc.read_text(encoding="utf-8") == rules_text.markdown(load()), \
        "docs/rules.md is stale: run `saq rules --markdown docs/rules.md`"


def test_saq_rules_markdown_writes_a_file(tmp_path, capsys):
    target = tmp_path / "rules.md"
    assert cli.main(["rules", "--markdown", str(target)]) == 0
    assert capsys.readouterr().out == f"规则说明已写入 {target}\n"
    assert target.read_text(encoding="utf-8").startswith("# 2023年上海市用户满意等级评价")
