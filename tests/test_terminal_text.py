"""Terminal output is sanitised (issue 19 §10): a carriage return, an ESC or another control
character in a name is shown as an escape, never sent raw (it could overwrite the verdict
line or recolour the terminal); newlines and tabs stay; JSON output stays valid JSON."""

from __future__ import annotations

import json

from xl_addin import cli


def test_controls_are_shown_as_escapes():
    assert cli.terminal_text("甲\r乙\x1b[2J丙\x07丁\t戊\n己") == "甲\\x0D乙\\x1B[2J丙\\x07丁\t戊\n己"
    assert cli.terminal_text("a\x7fb\x85c\u202ed") == "a\\u007Fb\\u0085c\\u202Ed"
    assert cli.terminal_text("上海某某有限公司") == "上海某某有限公司"


def test_json_with_controls_stays_json():
    text = json.dumps({"name": "甲\x85乙\u202e丙\x1b"}, ensure_ascii=False)
    assert json.loads(cli.terminal_text(text)) == {"name": "甲\x85乙\u202e丙\x1b"}


def test_every_line_the_cli_prints_goes_through_it(capsys, monkeypatch):
    def fake(args):
        print("名称：上海\r\x1b[31m假冒\x1b[0m公司")
        from xl_addin.errors import SaqError
        raise SaqError("文件 甲\r乙.xlsx 无法读取")
    monkeypatch.setattr(cli, "cmd_rules", fake)
    rc = cli.main(["rules"])
    out, err = capsys.readouterr()
    assert rc == 2
    assert out == "名称：上海\\x0D\\x1B[31m假冒\\x1B[0m公司\n"
    assert err == "错误：文件 甲\\x0D乙.xlsx 无法读取\n"
