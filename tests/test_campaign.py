"""The campaign file: validation on load, and next year's file moves the outcomes."""

import datetime as dt
import re
from pathlib import Path

import pytest

from xl_addin.errors import CampaignError
from xl_addin.rules import campaign as cm
from xl_addin.rules import engine

SOURCE = cm.CAMPAIGN_DIR / "2023.toml"


def variant(tmp_path, old, new, name="bad.toml", count=1):
    text = SOURCE.read_text(encoding="utf-8")
    assert old in text, old
    p = tmp_path / name
    p.write_text(text.replace(old, new, count), encoding="utf-8")
    return p


# (what is broken, the replacement, the key the message must name, what it must say)
BROKEN = [
    ("unknown top-level key", "[campaign]\n", "[campaing]\nx = 1\n[campaign]\n", "campaing", "未知的键"),
    ("unknown key in a flag", 'established_by = "{Y-3}-01-01"',
     'established_by = "{Y-3}-01-01"\nthreshhold = 3', None, "未知的键"),
    ("base not 100", 'parts = [["se_P1", "可行性研究分析", [0, 1, 2]]]',
     'parts = [["se_P1", "可行性研究分析", [0, 1, 3]]]', "rubric.items[1].parts[0]", "超出该项满分"),
    ("allowed value above the part maximum", "max = 2\ntext = \"项目开展的可行性",
     "max = 3\ntext = \"项目开展的可行性", "rubric.items[1].parts", "≠ 该项满分"),
    ("a section's items do not add to its weight", 'name = "明确需求"\nweight = 5',
     'name = "明确需求"\nweight = 6', "rubric.sections.N", "≠ 权重"),
    ("bad date", 'date = "{C2.end}"', 'date = "{Y}-07-35"', "calendar.C6.date", "不是有效日期"),
    ("bad severity", 'severity = "warning"\nrule = "产品类项目名称',
     'severity = "warn"\nrule = "产品类项目名称', "flags.E12.severity", "应为 error 或 warning"),
    ("unknown star field", 'field = "risk", in = ["无"]', 'field = "weather", in = ["无"]',
     "stars[0].conditions[5].field", "只能是"),
    ("bonus not 10", '["se_B4", "持续改进和创新", [0, 2]]', '["se_B4", "持续改进和创新", [0, 1]]',
     "rubric.items", "≠ 该项满分"),
]


@pytest.mark.parametrize("what,old,new,key,says", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_campaign_is_rejected_with_file_and_key(tmp_path, what, old, new, key, says):
    p = variant(tmp_path, old, new)
    with pytest.raises(CampaignError) as e:
        cm.load(str(p))
    msg = str(e.value)
    assert str(p) in msg and says in msg
    if key:
        assert key in msg


def test_missing_and_invalid_files(tmp_path):
    with pytest.raises(CampaignError, match="文件不存在"):
        cm.load(str(tmp_path / "1999.toml"))
    bad = tmp_path / "x.toml"
    bad.write_text("year = [", encoding="utf-8")
    with pytest.raises(CampaignError, match="不是有效的 TOML"):
        cm.load(str(bad))


def test_rubric_is_100_plus_10():
    c = cm.load(2023)
    assert sum(i.max for i in c.rubric.items if not c.rubric.sections[
        [s.id for s in c.rubric.sections].index(i.section)].bonus) == 100
    assert c.rubric.bonus_total == 10


def test_part_keys_follow_fields_md():
    """The rubric keys are exactly those FIELDS.md lists, in its order."""
    text = (Path(__file__).parents[1] / "docs" / "reference" / "FIELDS.md").read_text(encoding="utf-8")
    section = text.split("### 附件2-5 自评表")[1].split("Computed cells")[0]
    listed = re.findall(r"`(se_[A-Za-z0-9_]+)`", section)
    keys = [p.key for p in cm.load(2023).rubric.parts] + ["se_V1"]
    # every key FIELDS.md names literally is ours, in the same relative order
    assert [k for k in keys if k in listed] == listed
    assert len(listed) > 20


def test_next_year_is_a_new_file_not_a_code_change(tmp_path):
    """A 2024 file (only the year changed) moves every derived date: E03's cut-off, C2, E01."""
    p = variant(tmp_path, "year = 2023", "year = 2024", name="2024.toml")
    c24, c23 = cm.load(str(p)), cm.load(2023)
    assert c24.flags["E03"]["survey_from"] == dt.date(2023, 10, 1)
    assert c24.application_deadline == dt.date(2024, 7, 20)
    app = {"category": "服务类", "survey_start": "2023-09-30"}
    flagged23 = {f.code for f in engine.evaluate_application(app, c23).flags}
    flagged24 = {f.code for f in engine.evaluate_application(app, c24).flags}
    assert "E03" not in flagged23 and "E03" in flagged24
    est = {"established_date": "2020-06-01"}
    assert "E01" in {f.code for f in engine.evaluate_application(est, c23).flags}
    assert "E01" not in {f.code for f in engine.evaluate_application(est, c24).flags}
    revenue_label = c24.field("application", "revenue_y1").label
    assert revenue_label.startswith("2021年")
