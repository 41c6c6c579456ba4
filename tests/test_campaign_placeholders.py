"""Placeholders of the campaign's texts are filled everywhere a person reads them (issue 9 §2):
`saq rules`, docs/rules.md, the templates' cells, validation prompts and comments, the
engine's messages — never a raw ``{name}``; and a campaign with another threshold shows the
new number in the rule's text, the message and the template."""

from __future__ import annotations

import datetime as dt
import random
import re
from pathlib import Path

import pytest
from lo_cases import random_application, random_row, targeted_applications
from openpyxl import load_workbook

from xl_addin.rules import campaign as cm
from xl_addin.rules import engine
from xl_addin.rules import text as rules_text

ROOT = Path(__file__).resolve().parents[1]
YEARS = sorted(int(p.stem) for p in cm.CAMPAIGN_DIR.glob("*.toml") if p.stem.isdigit())
# A placeholder: a name in braces (formula array constants {1,2} and {"a"} are not names).
UNFILLED = re.compile(r"\{[^\W\d][^{}]*\}")


def unfilled(texts):
    """(where, text) pairs whose text still holds a ``{name}``."""
    return [(w, t) for w, t in texts if isinstance(t, str) and UNFILLED.search(t)]


def workbook_texts(path):
    """Every text of a workbook a person may read: cells (formulas too: their message
    literals), validation titles, prompts and errors, comments, headers and footers."""
    wb = load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    yield f"{ws.title}!{cell.coordinate}", cell.value
                if cell.comment is not None:
                    yield f"{ws.title}!{cell.coordinate} comment", cell.comment.text
        for dv in ws.data_validations.dataValidation:
            for attr in ("promptTitle", "prompt", "errorTitle", "error"):
                yield f"{ws.title} validation {dv.sqref} {attr}", getattr(dv, attr)
        for part in (ws.oddHeader, ws.oddFooter, ws.evenHeader, ws.evenFooter):
            for side in (part.left, part.center, part.right):
                yield f"{ws.title} header/footer", side.text


def campaign_texts(c):
    """The loaded campaign's prose: every rule, decision, rubric text, label and print text."""
    for code, f in c.flags.items():
        yield f"flags.{code}.rule", f["rule"]
    for code, m in c.materials.items():
        yield f"materials.{code}.rule", m["rule"]
        for it in m["items"]:
            yield f"materials.{code}.{it['key']}", it["name"]
    for k, label in c.decision_labels.items():
        yield f"decision {k}", label
    for cid, e in c.calendar.items():
        yield f"calendar.{cid}", e.label + e.reference
    for item in c.rubric.items:
        yield f"rubric.{item.id}", item.text + item.hint + item.name
        if item.penalty:
            yield f"rubric.{item.id}.penalty", item.penalty.label
    for form, fields in c.fields.items():
        for f in fields:
            yield f"fields.{form}.{f.key}", f.label + (f.note or "")
    for k, v in c.stages.items():
        yield f"stages.{k}", v if isinstance(v, str) else ""
    for k, v in (c.dossier.get("print") or {}).items():
        for t in (v if isinstance(v, list) else [v]):
            yield f"dossier.print.{k}", t
    yield "review.reference", c.review.get("reference", "")
    for rid, p in c.deciding.items():  # RULES.md P (issue 18): labels, references, messages
        for k, v in p.items():
            if isinstance(v, str) and not k.endswith("_message"):
                yield f"deciding.{rid}.{k}", v


@pytest.mark.parametrize("year", YEARS)
def test_rules_text_markdown_and_campaign_prose_are_filled(year):
    c = cm.load(year)
    texts = [("saq rules", rules_text.describe(c)), ("markdown", rules_text.markdown(c))]
    texts += list(campaign_texts(c))
    assert unfilled(texts) == []


def test_committed_docs_and_templates_are_filled():
    texts = [("docs/rules.md", (ROOT / "docs" / "rules.md").read_text(encoding="utf-8"))]
    for path in sorted((ROOT / "workbooks").glob("*.xlsx")):
        texts += [(f"{path.name} {w}", t) for w, t in workbook_texts(path)]
    assert len(texts) > 1000  # the workbooks were read
    assert unfilled(texts) == []


@pytest.mark.parametrize("year", YEARS)
def test_engine_messages_are_filled(year):
    """Messages of every flag the targeted and random cases raise, and the level reasons."""
    c = cm.load(year)
    rng = random.Random(year)
    apps = targeted_applications(c) + [random_application(rng, c) for _ in range(150)]
    texts, codes = [], set()
    for a in apps:
        ev = engine.evaluate_application(a, c)
        texts += [(f.code, f.message) for f in ev.flags]
        codes |= {f.code for f in ev.flags}
        if ev.star is not None:
            texts.append(("reason", ev.star.reason))
    for i in range(120):
        ev = engine.evaluate_row(random_row(rng, c, i + 1), c)
        texts += [(f.code, f.message) for f in ev.flags]
        codes |= {f.code for f in ev.flags}
    assert {"E03", "E07", "E08", "E15", "E17", "E22", "E30"} <= codes  # the cases reach them
    assert unfilled(texts) == []


# ---------------------------------------------------------------------- another threshold
CHANGED = """\
[campaign]
extends = 2023
year = 2023

[calendar.C2]
end = "{Y}-07-15"

[flags.E15]
min = 72

[flags.E17]
threshold = 40

[flags.E03]
survey_from = "{Y-1}-09-15"

[flags.E07]
max_years = 4
"""


@pytest.fixture(scope="module")
def changed(tmp_path_factory):
    path = tmp_path_factory.mktemp("campaign") / "changed.toml"
    path.write_text(CHANGED, encoding="utf-8")
    return cm.load(str(path))


def test_changed_parameters_change_the_rule_texts(changed):
    text = rules_text.markdown(changed)  # `saq rules` in one line per cell
    assert changed.flags["E15"]["rule"] == "满意度不低于 72 分"
    for new in ("满意度不低于 72 分", "不超过 40 人须全部提供，超过 40 人至少提供 40 人",
                "第三方调查开展时间须在 2022 年 9 月之后", "“2022年9月之后”含 9 月本身",
                "不早于 2022-09-15", "“7月中旬”截止读作 7 月 15 日",
                "申请截止日期（7 月 15 日）为基准日", "交付使用 1 年以上、4 年以内"):
        assert new in text, new
    for old in ("不低于 70 分", "不超过 50 人", "10 月之后", "7 月 20 日", "3 年以内"):
        assert old not in text, old
    assert changed.reference_date == dt.date(2023, 7, 15)  # C6 is C2's end


def test_changed_parameters_change_the_messages(changed):
    from lo_cases import base_application
    ev = engine.evaluate_application(dict(base_application(changed), satisfaction=71.5), changed)
    assert [f.message for f in ev.flags if f.code == "E15"] == ["满意度 71.5 低于 72 分（E15）"]
    ev = engine.evaluate_application(dict(base_application(changed), satisfaction=72), changed)
    assert "E15" not in {f.code for f in ev.flags}
    eng = dict(base_application(changed), category="工程类", level="用户满意级", eng_type="公共建筑",
               area=3, cost=9000, delivery_date=dt.date(2018, 1, 1),
               acceptance_date=dt.date(2017, 12, 1), general_contractor="是", quality_award="是")
    msg, = [f.message for f in engine.evaluate_application(eng, changed).flags if f.code == "E07"]
    assert "须交付使用 1 年以上、4 年以内，以 2023-07-15 为基准日" in msg


def test_changed_parameters_reach_the_templates(changed, tmp_path):
    from xl_addin.forms.templates import write_templates
    paths = write_templates(tmp_path, changed)
    texts = [(f"{p.name} {w}", t) for p in paths.values() for w, t in workbook_texts(p)]
    assert unfilled(texts) == []
    joined = "\n".join(t for _, t in texts if isinstance(t, str))
    assert "低于 72 分（E15）" in joined and "低于 70 分（E15）" not in joined
    assert "不超过 40 人须全部列出" in joined
    assert "无法确认交付使用 1 年以上、4 年以内（E07）" in joined
    assert "申请截止日期（7 月 15 日）为基准日" in joined  # the 结果 sheet's decisions
