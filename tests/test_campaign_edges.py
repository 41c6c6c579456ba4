"""The campaign only at the edges (issue 21): `cli.py`, `excel/` and `demo/` choose it; every
other function takes it as a required argument, so none can silently use another year than
its caller. Read from the code with ``ast``: no ``campaign or load(…)`` fallback and no
``campaign=`` parameter with a default."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "xl_addin"
EDGES = ("cli.py", "__main__.py", "excel", "demo")
# Test helpers that build inputs for a campaign take it too (a test chooses the year).
HELPERS = [ROOT / "tests" / "lo_cases.py", ROOT / "tests" / "lo_diff.py"]


def _library():
    return [p for p in sorted(PACKAGE.rglob("*.py"))
            if p.relative_to(PACKAGE).parts[0] not in EDGES]


def _is_load(node):
    f = node.func if isinstance(node, ast.Call) else None
    return (isinstance(f, ast.Name) and f.id == "load") or \
        (isinstance(f, ast.Attribute) and f.attr == "load")


def fallbacks(source):
    """Lines of ``x or load(…)`` in ``source``."""
    return [n.lineno for n in ast.walk(ast.parse(source))
            if isinstance(n, ast.BoolOp) and isinstance(n.op, ast.Or)
            and any(_is_load(v) for v in n.values[1:])]


def optional_campaigns(source):
    """(function, line) of every parameter named ``campaign`` that has a default."""
    out = []
    for n in ast.walk(ast.parse(source)):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = n.args
            positional = a.posonlyargs + a.args
            with_default = positional[len(positional) - len(a.defaults):] if a.defaults else []
            with_default += [k for k, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None]
            out += [(getattr(n, "name", "lambda"), n.lineno) for p in with_default
                    if p.arg == "campaign"]
    return out


def test_the_checks_can_fail():
    src = ("def f(x, campaign=None):\n    c = campaign or load(None)\n"
           "def g(*, campaign=None):\n    return campaign or cm.load(2023)\n"
           "def h(campaign):\n    return campaign\n")
    assert fallbacks(src) == [2, 4]
    assert optional_campaigns(src) == [("f", 1), ("g", 3)]


def test_no_campaign_fallback_below_the_edges():
    found = {p.relative_to(ROOT).as_posix(): fallbacks(p.read_text(encoding="utf-8"))
             for p in _library() + HELPERS}
    assert len(found) > 80  # the walk sees the package
    assert {k: v for k, v in found.items() if v} == {}


def test_library_functions_require_the_campaign():
    found = {p.relative_to(ROOT).as_posix(): optional_campaigns(p.read_text(encoding="utf-8"))
             for p in _library()}
    assert {k: v for k, v in found.items() if v} == {}
