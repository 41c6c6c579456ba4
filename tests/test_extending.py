"""The short paths of docs/DEVELOPING.md (issue 9), each walked once:

- a master column: one [[fields.application]] entry in the campaign file gives the form a
  named input cell and the master a column holding what was typed there;
- a campaign year: a file that ``extends`` the previous year (see test_campaign_2024.py for
  the whole chain on the shipped 2024 test campaign).
"""

from __future__ import annotations

from lo_cases import base_values
from master_sheets import sheet

from xl_addin.consolidate import consolidate
from xl_addin.forms.fill import fill_application
from xl_addin.read import workbook as fastread
from xl_addin.rules.campaign import CAMPAIGN_DIR, load

NEW_FIELD = '''[[fields.application]]
key = "website"
label = "单位网址"
type = "text"
[[fields.application]]
key = "org_size"'''


def test_a_new_field_is_a_form_cell_and_a_master_column(tmp_path):
    text = (CAMPAIGN_DIR / "2023.toml").read_text(encoding="utf-8")
    anchor = '[[fields.application]]\nkey = "org_size"'
    assert anchor in text
    p = tmp_path / "2023.toml"
    p.write_text(text.replace(anchor, NEW_FIELD), encoding="utf-8")
    c = load(str(p))
    values = base_values(c.year)
    values["website"] = "https://www.example.cn"
    wb = fill_application(tmp_path / "in" / "a.xlsx", values, [], campaign=c)
    assert fastread.read_submission(wb).values["website"] == "https://www.example.cn"
    master = tmp_path / "m.xlsx"
    consolidate(tmp_path / "in", master, c, progress=False, workers=1)
    row, = sheet(master, "汇总")
    assert row["单位网址"] == "https://www.example.cn"


def test_a_year_that_extends_another_states_only_what_changed(tmp_path):
    p = tmp_path / "2031.toml"
    p.write_text('[campaign]\nextends = 2023\nyear = 2031\n\n[flags.E15]\nmin = 75\n',
                 encoding="utf-8")
    c = load(str(p))
    assert c.year == 2031 and c.template_version == "2031.1"
    assert c.flags["E15"]["min"] == 75 and c.flags["E15"]["severity"] == "error"
    assert c.application_deadline.year == 2031
    assert c.rubric.base_total == load(2023).rubric.base_total
