"""WPS users are told plainly what works without the add-in and which `saq` command stands
in for each ribbon button (issue 11): the 帮助 message box, README and docs/addin.md say the
same thing, from one list (ribbon.WPS_COMMANDS)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ribbon = pytest.importorskip("xl_addin.excel.ribbon")  # needs xlwings (installed on Linux too)


def _buttons():
    xml = (ROOT / "macros" / "customUI.xml").read_text(encoding="utf-8")
    return [b for b in re.findall(r'<button [^>]*label="([^"]+)"', xml)]


def test_every_button_but_help_has_a_command():
    covered = " / ".join(b for b, _ in ribbon.WPS_COMMANDS)
    missing = [b for b in _buttons() if b != "帮助" and b not in covered]
    assert missing == []


def test_help_text_names_wps_and_every_command():
    text = ribbon.HELP_TEXT
    assert "WPS" in text and "不需要加载项" in text
    for _button, cmd in ribbon.WPS_COMMANDS:
        assert cmd in text
    assert len(text) <= 1024  # a VBA MsgBox shows at most 1,024 characters


@pytest.mark.parametrize("doc", ["README.md"])
def test_readme_lists_the_commands(doc):
    text = (ROOT / doc).read_text(encoding="utf-8")
    assert "在 WPS 中使用" in text
    for _button, cmd in ribbon.WPS_COMMANDS:
        for part in re.findall(r"saq [^（]+", cmd):
            assert part.strip() in text, part


def test_the_commands_exist():
    """Each command's subcommand is one `saq --help` lists."""
    out = subprocess.run([sys.executable, "-m", "xl_addin", "--help"], capture_output=True,
                         text=True, cwd=ROOT).stdout
    for _button, cmd in ribbon.WPS_COMMANDS:
        for part in re.findall(r"saq (\w+)", cmd):
            assert re.search(rf"^\s+{part}\b", out, re.M), part


def test_acceptance_script_in_addin_doc():
    text = (ROOT / "docs" / "addin.md").read_text(encoding="utf-8")
    for words in ("受保护的视图", "WPS", "Excel 2010", "提醒项数", "是否保存", "宋体"):
        assert words in text, words
