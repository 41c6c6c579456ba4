"""Every `saq` command is in the user guide (issue 21): the commands are read from the CLI's
own parser (`cli.build_parser`), so a command added later fails here until README.md shows
it as `saq <命令> [<步骤>]` in a code span or a code block."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from xl_addin.cli import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"


def commands(parser, path=("saq",)):
    """Each command path of ``parser``: its subcommands, and the words of a first positional
    argument with fixed choices (`saq addin build | install`), which act as subcommands."""
    positional = [a for a in parser._actions if not a.option_strings]
    for action in positional:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield path + (name,)
                yield from commands(sub, path + (name,))
    if positional and positional[0].choices and not isinstance(positional[0],
                                                               argparse._SubParsersAction):
        for word in positional[0].choices:
            yield path + (word,)


def code_text(markdown):
    """The text of every fenced or indented code block and every inline code span."""
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", markdown, re.S | re.M)
    rest = re.sub(r"^```[^\n]*\n.*?^```", "", markdown, flags=re.S | re.M)
    indented = re.findall(r"^(?: {4}|\t)(.*)$", rest, re.M)
    spans = re.findall(r"`([^`\n]+)`", rest)
    return fenced + indented + spans


COMMANDS = sorted(set(commands(build_parser())))


def test_the_parser_has_the_commands_a_user_knows():
    """The walk finds the nested steps (so the test below can fail)."""
    got = {" ".join(c) for c in COMMANDS}
    assert {"saq check", "saq review assign", "saq stage publish", "saq history import",
            "saq recommender prefill", "saq addin install"} <= got
    assert len(got) >= 25


@pytest.mark.parametrize("command", [" ".join(c) for c in COMMANDS])
def test_every_command_is_in_the_readme(command):
    shown = code_text(README.read_text(encoding="utf-8"))
    said = re.compile(re.escape(command) + r"(?![\w-])")
    assert any(said.search(t) for t in shown), f"README.md 没有写 `{command}`"


def test_code_text_finds_spans_and_blocks_only():
    md = "文字 saq pdf 不算\n\n    saq check 文件\n\n```\nsaq demo\n```\n`saq stage start …`\n"
    shown = code_text(md)
    assert any("saq check" in t for t in shown) and any("saq demo" in t for t in shown)
    assert any("saq stage start" in t for t in shown)
    assert not any("saq pdf" in t for t in shown)
