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

Imports stand at the top of a module (issue 21). One inside a function says why on its line
or on the comment line just above its block: ``# lazy: <reason>`` (a measured start-up cost,
an optional or one-path dependency, or a cycle that cannot be broken).
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
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


# ---------------------------------------------------------------------- lazy imports say why
LAZY = "# lazy:"


def _unexplained(source):
    """Line numbers of the imports inside a function of ``source`` that give no ``# lazy:``
    reason, on one of their own lines or on the comment line just above their block (the
    run of consecutive import statements they belong to)."""
    lines = source.splitlines()
    bad = []

    def said(node):
        return any(LAZY in lines[i - 1] for i in range(node.lineno, node.end_lineno + 1))

    def check(block):
        run = []
        for stmt in block + [None]:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                run.append(stmt)
                continue
            if run:
                above = lines[run[0].lineno - 2].strip() if run[0].lineno > 1 else ""
                if not (above.startswith("#") and LAZY in above):
                    bad.extend(n.lineno for n in run if not said(n))
            run = []

    def walk(node, inside):
        inside = inside or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        for _, value in ast.iter_fields(node):
            children = value if isinstance(value, list) else [value]
            if inside and children and all(isinstance(c, ast.stmt) for c in children):
                check(children)
            for c in children:
                if isinstance(c, ast.AST):
                    walk(c, inside)

    walk(ast.parse(source), False)
    return sorted(bad)


def test_every_import_inside_a_function_says_why():
    bad = [f"{p.relative_to(ROOT)}:{line}" for p in sorted(PACKAGE.rglob("*.py"))
           for line in _unexplained(p.read_text(encoding="utf-8"))]
    assert bad == []


def test_the_lazy_check_can_fail():
    source = textwrap.dedent('''\
        import os

        def a():
            import json
            return json

        def b():
            import json  # lazy: a reason on the line
            return json

        def c():
            # lazy: one reason for the block below
            import json

            import csv
            x = 1
            import re
            return json, csv, re, x

        def d():
            if True:
                # a comment that gives no reason
                from pathlib import Path
            return Path
        ''')
    assert _unexplained(source) == [4, 17, 23]  # bare; after code (the block broke); no reason


_IMPORT_EACH = textwrap.dedent('''\
    import importlib, sys
    top, names = sys.argv[1], sys.argv[2:]
    failed = []
    for name in names:
        for m in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
            del sys.modules[m]
        try:
            importlib.import_module(name)
        except Exception as e:
            failed.append(f"{name}: {type(e).__name__}: {e}")
    print("\\n".join(failed))
    ''')


def _import_each(top, names, where):
    """The modules of ``names`` that fail to import, each alone (a fresh set of ``top``'s
    modules, third-party ones kept), in a child interpreter run in ``where``."""
    out = subprocess.run([sys.executable, "-c", _IMPORT_EACH, top, *names], capture_output=True,
                         text=True, cwd=where, timeout=300)
    assert out.returncode == 0, out.stderr
    return [line for line in out.stdout.splitlines() if line]


def test_every_module_imports_on_its_own():
    """With the imports at the top, each module of ours must import alone: a loop the graph
    cannot show (through a package's __init__, which a submodule's import runs first) fails."""
    assert _import_each(FACE, sorted(m for m in _modules() if m != "xl_addin.__main__"), ROOT) == []


def test_the_import_check_can_fail(tmp_path):
    """A loop through an __init__: pkg/__init__ imports pkg.a, which needs a name of pkg.b,
    which needs a name __init__ defines after its import. pkg itself imports; pkg.b does not."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from pkg.a import f\nNAME = 1\n")
    (pkg / "a.py").write_text("from pkg.b import g\n\ndef f():\n    return g\n")
    (pkg / "b.py").write_text("from pkg import NAME\n\ndef g():\n    return NAME\n")
    failed = _import_each("pkg", ["pkg", "pkg.a", "pkg.b"], tmp_path)
    assert [line.split(":")[0] for line in failed] == ["pkg", "pkg.a", "pkg.b"]
