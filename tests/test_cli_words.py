"""Plain words (issue 22): every `--help` in Chinese (no English placeholder, no internal
path); dates on the command line read as the sheets read them; the expert list's template
and its clear messages."""

from __future__ import annotations

import argparse
import datetime as dt
import re

import pytest

from xl_addin.cli import build_parser, chinese_argparse, main
from xl_addin.rules.campaign import load

C = load()
ENGLISH = re.compile(r"\b[A-Z][A-Z_]{2,}\b")
ALLOWED = {"PDF", "JSON", "CSV", "SAQ", "SAQ_CAMPAIGN", "GB"}  # names, not placeholders


def _parsers(p, path=("saq",)):
    yield path, p
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, path + (name,))


def test_every_help_is_chinese():
    with chinese_argparse():
        seen = 0
        for path, p in _parsers(build_parser()):
            text = p.format_help()
            seen += 1
            assert not set(ENGLISH.findall(text)) - ALLOWED, (path, ENGLISH.findall(text))
            for word in ("xl_addin", ".toml", "experts.xlsx", "usage", "options"):
                assert word not in text, (path, word)
    assert seen >= 20  # every command and step was looked at


@pytest.mark.parametrize("typed", ["2023-09-18", "2023.9.18", "2023年9月18日", "2023/9/18", "20230918"])
def test_dates_read_as_the_sheets_read_them(typed):
    with chinese_argparse():
        p = build_parser()
        d = dt.date(2023, 9, 18)
        assert p.parse_args(["stage", "publicize", "评定.xlsx", "--start", typed]).start == d
        assert p.parse_args(["stage", "publish", "评定.xlsx", "--date", typed]).date == d
        assert p.parse_args(["review", "collect", "文件夹", "--publication-start",
                             typed]).publication_start == d


def test_a_date_that_is_none_is_one_line(capsys):
    assert main(["stage", "publish", "评定.xlsx", "--date", "9月28日"]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", "错误：发布日期“9月28日”不是日期，应写作 2023-09-18、2023.9.18 或 "
                              "2023年9月18日\n")


def test_experts_template_and_its_messages(tmp_path, capsys):
    from openpyxl import load_workbook

    from xl_addin.review.experts import read_experts
    path = tmp_path / "专家名单.xlsx"
    assert main(["review", "experts-template", "-o", str(path)]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == (f"已生成专家名单模板：{path}（每行一位专家：姓名、单位、回避单位、专业；"
                          "专业空白表示可评审所有类别）\n", "")
    wb = load_workbook(path)
    ws = wb["专家名单"]
    (table,) = ws.tables.values()
    hr = int(table.ref.split(":")[0][1:])
    assert [ws.cell(hr, j).value for j in range(1, 5)] == ["姓名", "单位", "回避单位", "专业"]
    assert wb.properties.creator == "上海市质量协会"
    # a filled list with a column we do not read and a blank 专业
    ws.cell(hr, 5, "电话")
    table.ref = f"A{hr}:E{hr + 2}"
    from openpyxl.worksheet.table import TableColumn
    table.tableColumns.append(TableColumn(id=5, name="电话"))
    for j, v in enumerate(["王立群", "上海交通大学", None, None, "13800000000"], 1):
        ws.cell(hr + 1, j, v)
    for j, v in enumerate(["李敏", "复旦大学", None, "服务类", None], 1):
        ws.cell(hr + 2, j, v)
    wb.save(path)
    got = read_experts(path, C)
    assert [e.name for e in got.experts] == ["王立群", "李敏"]
    assert got.experts[0].categories == () and got.experts[1].categories == ("服务类",)
    assert got.problems == [
        (hr, "列“电话”不是专家名单的列，已忽略（只读取 姓名、单位、回避单位、专业，"
             "见 saq review experts-template）"),
        (hr + 1, "王立群的专业未填写，按“全部”分配（可评审所有申请类别）")]
