"""The campaign is parsed once per process (issue 23): current.toml is read once, a UDF's year
argument maps to its campaign once per session, and SAQ_CAMPAIGN still overrides.
"""

from __future__ import annotations

from xl_addin.excel import udfs
from xl_addin.rules import campaign as cm


def test_udf_calls_read_no_campaign_file_after_the_first(monkeypatch):
    udfs.saq_conclusion(80.0, None, "")  # the session's first call may read
    udfs.saq_conclusion(80.0, None, 2023)
    reads = []
    real = cm.tomllib.loads
    monkeypatch.setattr(cm.tomllib, "loads", lambda text: reads.append(1) or real(text))
    for year in ("", None, 2023, 2023.0):
        for _ in range(50):
            assert udfs.saq_conclusion(80.0, None, year) == "优良"
            assert udfs.saq_flag_text("E06", year).startswith("E06（")
    assert reads == []


def test_a_bad_year_is_refused_every_time():
    for _ in range(3):
        assert udfs.saq_conclusion(80.0, None, 1999) == "#SAQ! 没有 1999 年的活动配置"
        assert udfs.saq_conclusion(80.0, None, "明年").startswith("#SAQ! 活动年度无法识别")


def test_the_environment_still_chooses_the_current_campaign(monkeypatch):
    assert cm.load().year == cm._current_year(cm.CURRENT_FILE)
    monkeypatch.setenv(cm.CURRENT_ENV, "2024")
    assert cm.current() == 2024 and cm.load().year == 2024
    monkeypatch.delenv(cm.CURRENT_ENV)
    assert cm.current() == cm._current_year(cm.CURRENT_FILE)
