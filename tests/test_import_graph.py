"""The house has no loops and no upward stairs (issue 21), read from the code with ``ast``.

Every ``import`` counts, at the top of a module or inside a function: an import hidden in a
function is still a dependency. The floors, from the ground up:

    rules                      the standard library only (pure: no I/O, never a default year)
    errors                     rules (the base error lives in rules/errors.py)
    sheet                      rules
    tables, files, registry    rules, errors, sheet, and tables below files
    read                       the floors below
    forms                      the floors below
    consolidate, review        the floors below; neither imports the other
    demo, excel                the floors below
    cli, __main__              anything
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "xl_addin"

BELOW = {
    "rules": set(),
    "errors": {"rules"},
    "sheet": {"rules"},
    "tables": {"rules", "errors", "sheet"},
    "files": {"rules", "errors", "sheet", "tables"},
    "registry": {"rules", "errors", "sheet", "tables"},
}
BELOW["read"] = set(BELOW) | {"files", "registry"}
BELOW["forms"] = BELOW["read"] | {"read"}
BELOW["consolidate"] = BELOW["forms"] | {"forms"}
BELOW["review"] = BELOW["forms"] | {"forms"}
BELOW["demo"] = BELOW["consolidate"] | {"consolidate", "review"}
BELOW["excel"] = BELOW["demo"]
# The package's face (__init__: __version__) stands under everything.
FACE = "xl_addin"


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules():
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path, name, known):
    """The modules of ours that ``path`` imports, anywhere in it."""
    pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(pkg.split(".")[: len(pkg.split(".")) - node.level + 1] + [base]).strip(".")
            # `from xl_addin.read import verdict` imports the module xl_addin.read.verdict
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        out |= {t for t in targets if t == FACE or t.startswith(FACE + ".")}
    return out - {name}


def _graph():
    mods = _modules()
    return {m: {t for t in _imports(p, m, mods) if t in mods} for m, p in mods.items()}


def _floor(module):
    parts = module.split(".")
    return FACE if len(parts) == 1 else parts[1]


def test_the_graph_is_read():
    g = _graph()
    assert "xl_addin.read.verdict" in g["xl_addin.read.check"]
    assert "xl_addin.rules.engine" in g["xl_addin.read.verdict"]
    assert len(g) > 100


def _cycles(g):
    """Every strongly connected component of more than one module (Tarjan)."""
    sys.setrecursionlimit(10_000)
    index, low, on, stack, cycles = {}, {}, set(), [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return cycles


def _upward(g):
    out = []
    for m, targets in g.items():
        here = _floor(m)
        if here not in BELOW:
            continue  # cli, __main__ and the face may import anything of ours
        out += [f"{m} -> {t}" for t in targets
                if _floor(t) not in (here, FACE) and _floor(t) not in BELOW[here]]
    return sorted(out)


def test_no_import_cycle():
    assert _cycles(_graph()) == []


def test_no_upward_import():
    assert _upward(_graph()) == []


def test_the_checks_can_fail():
    """A loop and an upward import of the kind issue 21 found are both reported."""
    g = {"xl_addin.read.check": {"xl_addin.read.verdict"},
         "xl_addin.read.verdict": {"xl_addin.read.dossier"},
         "xl_addin.read.dossier": {"xl_addin.read.check"},
         "xl_addin.rules.codes.x": {"xl_addin.sheet.expr"},
         "xl_addin.review.collect": {"xl_addin.consolidate.walk"}}
    assert _cycles(g) == [["xl_addin.read.check", "xl_addin.read.dossier", "xl_addin.read.verdict"]]
    assert _upward(g) == ["xl_addin.review.collect -> xl_addin.consolidate.walk",
                          "xl_addin.rules.codes.x -> xl_addin.sheet.expr"]


@pytest.mark.parametrize("module", sorted(m for m in _modules() if _floor(m) == "rules"))
def test_rules_import_only_rules_and_the_standard_library(module):
    path = _modules()[module]
    stdlib = sys.stdlib_module_names
    foreign = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                 [node.module] if isinstance(node, ast.ImportFrom) and not node.level else [])
        for n in names:
            top = n.split(".")[0]
            if n.startswith("xl_addin.rules") or top == "__future__" or top in stdlib:
                continue
            foreign.append(n)
    assert foreign == []
