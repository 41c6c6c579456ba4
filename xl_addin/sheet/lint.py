"""Formula lint for the workbooks we generate (issue 11).

Every check is about something that works in LibreOffice — where our differential tests run —
but not, or differently, in Microsoft Excel 2010+ or WPS:

- ``function``: only functions of Excel 2010 that WPS and LibreOffice 7.4 also have
  (:data:`PORTABLE`); nothing newer (IFS, TEXTJOIN, XLOOKUP, LET, ...);
- ``volatile``: no TODAY/NOW/OFFSET/INDIRECT...: they make Excel recalculate every file on
  opening and ask "save changes?" when it is closed untouched;
- ``cf-3d`` / ``dv-3d``: a conditional format or a data validation refers to a sheet by name
  (ECMA-376 forbids 3-D references there; Excel 2010+ keeps such rules only in its x14
  extension and may "repair" the file, dropping every highlight). Use a defined name;
- ``logical``: a cell that is summed, counted, joined into text, tested with ISNUMBER or
  compared with a number may hold a logical. Excel's SUM skips TRUE in a range (LibreOffice
  counts it as 1), ``TRUE&""`` is "TRUE" in Excel and "1" in LibreOffice, ISNUMBER(TRUE) is
  FALSE in Excel and TRUE in LibreOffice. Wrap counts in N() or ``--``;
- ``length`` / ``nesting`` / ``literal`` / ``dv-list`` / ``dv-text``: Excel's limits — 8,192
  characters per formula, 64 nested functions, 255 characters per string constant, 255
  characters in an explicit validation list, 255 in a validation message (32 in its title);
- ``text-format``: a free-text input cell (unlocked on a protected sheet, not restricted to
  numbers, dates or a list) has the text format "@", so "-数据不全" or "+1" stays text;
- ``syntax``: a formula this lint cannot read.

The types used by ``logical`` are inferred statically from the formulas (a formula that can
return TRUE/FALSE in any branch is "logical"), so a blank template is judged as strictly as a
filled file.
"""

from __future__ import annotations

import sys
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from xl_addin.sheet.xlcache import read_book
from xl_addin.sheet.xlcalc import Arr, Node, Unsupported, parse, relative_key, tokenize

MAX_FORMULA = 8192
MAX_NESTING = 64
MAX_LITERAL = 255
MAX_DV_LIST = 255
MAX_DV_MESSAGE = 255
MAX_DV_TITLE = 32
MAX_RANGE_CELLS = 20000  # type inference looks at no more cells of one range

# Excel 2010 functions that WPS and LibreOffice 7.4 also implement with the same meaning.
PORTABLE = frozenset("""
ABS AND ASC AVERAGE AVERAGEIF AVERAGEIFS CEILING CHAR CHOOSE CLEAN CODE COLUMN COLUMNS
CONCATENATE COUNT COUNTA COUNTBLANK COUNTIF COUNTIFS DATE DATEDIF DATEVALUE DAY DAYS360 EDATE
EOMONTH EVEN EXACT EXP FALSE FIND FIXED FLOOR HLOOKUP HOUR IF IFERROR INDEX INT ISBLANK ISERR
ISERROR ISEVEN ISLOGICAL ISNA ISNONTEXT ISNUMBER ISODD ISTEXT LARGE LEFT LEN LENB LN LOG LOG10
LOOKUP LOWER MATCH MAX MEDIAN MID MIN MINUTE MOD MONTH N NA NETWORKDAYS NOT ODD OR PI POWER
PRODUCT PROPER QUOTIENT RANK REPLACE REPT RIGHT ROUND ROUNDDOWN ROUNDUP ROW ROWS SEARCH SECOND
SIGN SMALL SQRT STDEV SUBSTITUTE SUM SUMIF SUMIFS SUMPRODUCT T TEXT TIME TRIM TRUE TRUNC TYPE
UPPER VALUE VLOOKUP WEEKDAY WEEKNUM WORKDAY YEAR YEARFRAC
""".split())
# Added after Excel 2010 (or only in Microsoft 365): never in a generated workbook.
NEWER = frozenset("""
IFNA IFS SWITCH XOR CONCAT TEXTJOIN MAXIFS MINIFS XLOOKUP XMATCH FILTER SORT SORTBY UNIQUE
SEQUENCE RANDARRAY LET LAMBDA DAYS ISOWEEKNUM SHEET SHEETS FORMULATEXT ISFORMULA NUMBERVALUE
UNICODE UNICHAR ARABIC BASE DECIMAL ENCODEURL WEBSERVICE FILTERXML TEXTBEFORE TEXTAFTER
TEXTSPLIT VSTACK HSTACK TAKE DROP CHOOSECOLS CHOOSEROWS TOCOL TOROW WRAPCOLS WRAPROWS EXPAND
ARRAYTOTEXT VALUETOTEXT MAP REDUCE SCAN BYROW BYCOL MAKEARRAY ISOMITTED
""".split())
VOLATILE = frozenset("NOW TODAY RAND RANDBETWEEN OFFSET INDIRECT CELL INFO".split())
# Functions whose range arguments' logicals Excel skips (LibreOffice counts them).
AGGREGATES = frozenset("SUM SUMPRODUCT MAX MIN AVERAGE COUNT PRODUCT LARGE SMALL MEDIAN".split())
RANGE_FIRST = frozenset("COUNTIF COUNTIFS SUMIF SUMIFS AVERAGEIF AVERAGEIFS".split())
LOGICAL_FNS = frozenset("AND OR NOT ISBLANK ISERR ISERROR ISEVEN ISLOGICAL ISNA ISNONTEXT "
                        "ISNUMBER ISODD ISTEXT EXACT TRUE FALSE".split())
TEXT_FNS = frozenset("ASC CHAR CLEAN CONCATENATE FIXED LEFT LOWER MID PROPER REPLACE REPT RIGHT "
                     "SUBSTITUTE T TEXT TRIM UPPER".split())
NUMERIC_DV = frozenset({"whole", "decimal", "date", "time", "list"})


@dataclass(frozen=True)
class Problem:
    """One lint finding: where, which check, what."""

    file: str
    sheet: str
    cell: str
    rule: str
    message: str

    def __str__(self):
        return f"{self.file} {self.sheet}!{self.cell} [{self.rule}] {self.message}"


def _addr(row, col):
    return f"{get_column_letter(col)}{row}"


class _Types:
    """Static result types of formula cells: a set of "n" number, "s" text, "b" logical,
    "e" error ("" blank constant cells contribute nothing)."""

    def __init__(self, book):
        self.book = book
        self.memo = {}
        self.trees = {}
        self.shapes = {}  # relative_key -> (tree, row, col) of the first cell of the shape
        self.at = {}  # (body, row, col) -> its tree: the walk and the type inference share it
        self.busy = set()
        self.ranges = {}  # (sheet, r1, c1, r2, c2) -> types: each range is scanned once
        self.cut = 0  # cells answered "busy" (a cycle): a result that met one is not kept
        self.columns = {}  # sheet -> (formula index, constant index): see _index

    def tree(self, body):
        t = self.trees.get(body)
        if t is None:
            t = self.trees[body] = parse(body)
        return t

    def cell_tree(self, body, row, col):
        """The tree of a cell's formula: parsed once per shape (formulas copied down a column
        differ only by their relative references: ``xlcalc.relative_key``), the others are
        the first one's tree moved by their offset."""
        return self.cell_shape(body, row, col)[0]

    def cell_shape(self, body, row, col):
        """(tree, shape key) of a cell's formula, see :meth:`cell_tree`."""
        at = (body, row, col)
        done = self.at.get(at)
        if done is not None:
            return done
        key = relative_key(body, row, col)
        first = self.shapes.get(key)
        if first is None:
            tree = self.tree(body)
            self.shapes[key] = (tree, row, col)
        else:
            tree, r0, c0 = first
            tree = tree if (r0, c0) == (row, col) else _moved(tree, row - r0, col - c0)
        self.at[at] = tree, key
        return tree, key

    def cell(self, sheet, row, col):
        key = (sheet, row, col)
        if key in self.memo:
            return self.memo[key]
        f = self.book.formulas.get(sheet, {}).get((row, col))
        if f is None:
            v = self.book.cells.get(sheet, {}).get((row, col))
            return _const_type(v)
        if key in self.busy:
            self.cut += 1
            return frozenset()
        self.busy.add(key)
        try:
            t = self.expr(self.cell_tree(f, row, col), sheet)
        except Unsupported:
            t = frozenset("nsbe")
        finally:
            self.busy.discard(key)
        self.memo[key] = t
        return t

    def range(self, sheet, r1, c1, r2, c2):
        key = (sheet, r1, c1, r2, c2)
        if key in self.ranges:
            return self.ranges[key]
        cut = self.cut
        out = self._scan(sheet, r1, c1, r2, c2)
        if self.cut == cut:  # complete: no cell of it was cut short by a cycle
            self.ranges[key] = out
        return out

    def _index(self, sheet):
        """Per sheet, the columns that hold formulas and constants, each with its sorted rows:
        a range is scanned through the cells inside it, not through the whole sheet."""
        if sheet not in self.columns:
            def by_column(cells):
                cols = {}
                for (r, c) in cells:
                    cols.setdefault(c, []).append(r)
                for rows in cols.values():
                    rows.sort()
                return sorted(cols), cols
            self.columns[sheet] = (by_column(self.book.formulas.get(sheet, {})),
                                   by_column(self.book.cells.get(sheet, {})))
        return self.columns[sheet]

    def _scan(self, sheet, r1, c1, r2, c2):
        out = set()
        n = 0
        (fcols, frows), (vcols, vrows) = self._index(sheet)
        for c in fcols[bisect_left(fcols, c1):bisect_right(fcols, c2)]:
            rows = frows[c]
            for r in rows[bisect_left(rows, r1):bisect_right(rows, r2)]:
                out |= self.cell(sheet, r, c)
                n += 1
                if n > MAX_RANGE_CELLS:
                    break
            if n > MAX_RANGE_CELLS:
                break
        values = self.book.cells.get(sheet, {})
        for c in vcols[bisect_left(vcols, c1):bisect_right(vcols, c2)]:
            rows = vrows[c]
            for r in rows[bisect_left(rows, r1):bisect_right(rows, r2)]:
                out |= _const_type(values[(r, c)])
        return frozenset(out)

    def name(self, name):
        text = self.book.names.get(name.upper())
        if text is None:
            return None
        return self.tree(text.lstrip("="))

    def expr(self, node, sheet):
        k = node[0]
        if k == "num":
            return frozenset("n")
        if k == "str":
            return frozenset("s")
        if k == "bool":
            return frozenset("b")
        if k == "err":
            return frozenset("e")
        if k == "missing":
            return frozenset("n")
        if k == "arr":
            return frozenset().union(*[_const_type(v) for v in node[1].flat()])
        if k == "ref":
            _, s, r1, c1, r2, c2, _abs = node
            return self.range(s or sheet, r1, c1, r2, c2)
        if k == "name":
            t = self.name(node[1])
            return frozenset("nsbe") if t is None else self.expr(t, sheet)
        if k in ("neg", "pct"):
            return frozenset("n")
        if k == "bin":
            op = node[1]
            if op == "&":
                return frozenset("s")
            if op in ("+", "-", "*", "/", "^"):
                return frozenset("n")
            return frozenset("b")
        fname, args = _fname(node[1]), node[2]
        if fname == "IF":
            then = self.expr(args[1], sheet) if len(args) > 1 else frozenset("b")
            other = self.expr(args[2], sheet) if len(args) > 2 else frozenset("b")
            return then | other
        if fname == "IFERROR":
            return self.expr(args[0], sheet) | self.expr(args[1], sheet)
        if fname == "CHOOSE":
            return frozenset().union(*[self.expr(a, sheet) for a in args[1:]])
        if fname in ("INDEX", "LOOKUP", "VLOOKUP", "HLOOKUP"):
            src = args[1] if fname in ("VLOOKUP", "HLOOKUP") else args[0]
            src = args[-1] if fname == "LOOKUP" else src
            return self.expr(src, sheet) | frozenset("e")
        if fname in LOGICAL_FNS:
            return frozenset("b")
        if fname in TEXT_FNS:
            return frozenset("s")
        return frozenset("n")


def _const_type(v):
    if v is None or v == "":
        return frozenset()
    if isinstance(v, bool):
        return frozenset("b")
    if isinstance(v, str):
        return frozenset("s")
    if isinstance(v, (int, float)):
        return frozenset("n")
    return frozenset("e")


def _fname(name):
    return name[6:] if name.startswith("_XLFN.") else name


class _Linter:
    def __init__(self, path):
        self.path = Path(path)
        self.problems = []
        self.book, _ = read_book(self.path)
        self.types = _Types(self.book)
        self.depths = {}  # shape (or formula text) -> nesting depth

    def add(self, sheet, cell, rule, message):
        self.problems.append(Problem(self.path.name, sheet, cell, rule, message))

    # -- formulas of cells -----------------------------------------------------------
    def formulas(self):
        for sheet, fs in self.book.formulas.items():
            for (r, c), body in fs.items():
                self.formula(sheet, _addr(r, c), body, cell_formula=True, at=(r, c))
        for name, text in self.book.names.items():
            self.formula("(名称)", name, text.lstrip("="), cell_formula=False)

    def formula(self, sheet, cell, body, cell_formula, at=None):
        """Lint one formula; ``at`` (row, col) of a cell formula: formulas of one shape are
        parsed once and measured once (:meth:`_Types.cell_tree`)."""
        if len(body) + 1 > MAX_FORMULA:
            self.add(sheet, cell, "length", f"formula has {len(body) + 1} characters (Excel: 8,192)")
        try:
            tree, key = self.types.cell_shape(body, *at) if at else (self.types.tree(body), body)
        except Unsupported as e:
            self.add(sheet, cell, "syntax", f"cannot read the formula ({e})")
            return None
        depth = self.depths.get(key)
        if depth is None:
            depth = self.depths[key] = _depth(tree)  # a moved tree nests as deep
        if depth > MAX_NESTING:
            self.add(sheet, cell, "nesting", f"{depth} nested functions (Excel: 64)")
        self.walk(tree, sheet, cell)
        return tree

    def walk(self, node, sheet, cell):
        k = node[0]
        if k == "str" and len(node[1]) > MAX_LITERAL:
            self.add(sheet, cell, "literal", f"text constant of {len(node[1])} characters (Excel: 255)")
        if k == "bin":
            op, a, b = node[1], node[2], node[3]
            if op == "&":
                for side in (a, b):
                    self.no_logical(side, sheet, cell, "joined into text (TRUE&\"\" is \"TRUE\" "
                                    "in Excel, \"1\" in LibreOffice)")
            elif op in ("=", "<>", "<", ">", "<=", ">="):
                ta, tb = self.types.expr(a, sheet), self.types.expr(b, sheet)
                if ("b" in ta and "n" in tb) or ("n" in ta and "b" in tb):
                    self.add(sheet, cell, "logical", "a logical compared with a number "
                             "(TRUE=1 in LibreOffice, not in Excel)")
            self.walk(a, sheet, cell)
            self.walk(b, sheet, cell)
            return
        if k in ("neg", "pct"):
            self.walk(node[1], sheet, cell)
            return
        if k != "fn":
            return
        fname, args = _fname(node[1]), node[2]
        if node[1].startswith("_XLFN.") or fname in NEWER:
            self.add(sheet, cell, "function", f"{fname} is not in Excel 2010")
        elif fname not in PORTABLE:
            self.add(sheet, cell, "function", f"{fname} is not in the functions common to "
                     "Excel 2010, WPS and LibreOffice")
        if fname in VOLATILE:
            self.add(sheet, cell, "volatile", f"{fname} is volatile: Excel recalculates on "
                     "opening and asks to save an untouched file")
        if fname in AGGREGATES:
            for a in args:
                if _is_range(a, self.types):
                    self.no_logical(a, sheet, cell, f"in a range of {fname} (Excel skips "
                                    "logicals there, LibreOffice counts TRUE as 1)")
        if fname in RANGE_FIRST and args:
            self.no_logical(args[0], sheet, cell, f"counted by {fname} (logicals are numbers "
                            "in LibreOffice, not in Excel)")
        if fname == "CONCATENATE":
            for a in args:
                self.no_logical(a, sheet, cell, "joined into text by CONCATENATE")
        if fname == "ISNUMBER" and args:
            self.no_logical(args[0], sheet, cell, "tested by ISNUMBER (TRUE is a number in "
                            "LibreOffice, not in Excel)")
        for a in args:
            self.walk(a, sheet, cell)

    def no_logical(self, node, sheet, cell, why):
        if "b" in self.types.expr(node, sheet):
            self.add(sheet, cell, "logical", f"{_show(node)} may be TRUE/FALSE, {why}; "
                     "use N() or --")

    # -- conditional formats and validations -------------------------------------------
    def sheets(self):
        wb = load_workbook(self.path)
        for ws in wb.worksheets:
            for cf in ws.conditional_formatting:
                for rule in cf.rules:
                    for f in rule.formula or ():
                        self.rule_formula(ws.title, str(cf.sqref), f, "cf-3d",
                                          "conditional format")
            covered = {}
            for dv in ws.data_validations.dataValidation:
                self.validation(ws, dv)
                kind = dv.type
                if kind == "custom" and "ISNUMBER(" in (dv.formula1 or "").upper():
                    kind = "decimal"  # a custom rule that asks for a number
                for rng in dv.sqref.ranges:
                    for row in range(rng.min_row, rng.max_row + 1):
                        for col in range(rng.min_col, rng.max_col + 1):
                            covered[(row, col)] = kind
            if ws.protection.sheet:
                self.text_inputs(ws, covered)

    def rule_formula(self, sheet, where, f, rule, what):
        try:
            toks = tokenize(f.lstrip("="))
        except Unsupported as e:
            self.add(sheet, where, "syntax", f"{what}: cannot read {f!r} ({e})")
            return
        for kind, text in toks:
            if kind == "sref":
                self.add(sheet, where, rule, f"{what} refers to {text} by sheet name "
                         "(use a defined name)")
        self.formula(sheet, where, f.lstrip("="), cell_formula=False)

    def validation(self, ws, dv):
        where = str(dv.sqref).split()[0]
        for f in (dv.formula1, dv.formula2):
            if not f:
                continue
            if f.startswith('"'):
                if len(f) - 2 > MAX_DV_LIST:
                    self.add(ws.title, where, "dv-list", f"list of {len(f) - 2} characters "
                             "(Excel: 255)")
                continue
            self.rule_formula(ws.title, where, f, "dv-3d", "data validation")
        for text, limit, label in ((dv.prompt, MAX_DV_MESSAGE, "prompt"),
                                   (dv.error, MAX_DV_MESSAGE, "error message"),
                                   (dv.promptTitle, MAX_DV_TITLE, "prompt title"),
                                   (dv.errorTitle, MAX_DV_TITLE, "error title")):
            if text and len(text) > limit:
                self.add(ws.title, where, "dv-text", f"{label} of {len(text)} characters "
                         f"(Excel: {limit})")

    def text_inputs(self, ws, covered):
        for row in ws.iter_rows():
            for c in row:
                if c.protection.locked or c.data_type == "f" or type(c).__name__ == "MergedCell":
                    continue
                if covered.get((c.row, c.column)) in NUMERIC_DV:
                    continue
                if c.number_format != "@":
                    self.add(ws.title, c.coordinate, "text-format",
                             "free-text input cell is not formatted as text (\"@\"): "
                             "\"-数据不全\" or \"+1\" would become a formula")


def _is_range(node, types):
    if node[0] == "ref":
        return True
    if node[0] == "name":
        t = types.name(node[1])
        return t is not None and t[0] == "ref"
    return False


def _moved(node, dr, dc):
    """A tree with its relative references moved by (dr, dc) rows and columns: the tree of
    the same formula copied that far (absolute parts, marked $ in the text, stay)."""
    k = node[0]
    if k == "ref":
        _, s, r1, c1, r2, c2, (ar1, ac1, ar2, ac2) = node
        return Node(("ref", s, r1 if ar1 else r1 + dr, c1 if ac1 else c1 + dc,
                     r2 if ar2 else r2 + dr, c2 if ac2 else c2 + dc, (ar1, ac1, ar2, ac2)))
    if k == "fn":
        return Node(("fn", node[1], [_moved(a, dr, dc) for a in node[2]]))
    if k == "bin":
        return Node(("bin", node[1], _moved(node[2], dr, dc), _moved(node[3], dr, dc)))
    if k in ("neg", "pct"):
        return Node((k, _moved(node[1], dr, dc)))
    return node


def _depth(node):
    if node[0] == "fn":
        return 1 + max((_depth(a) for a in node[2]), default=0)
    if node[0] == "bin":
        return max(_depth(node[2]), _depth(node[3]))
    if node[0] in ("neg", "pct"):
        return _depth(node[1])
    return 0


def _show(node):
    if node[0] == "ref":
        _, s, r1, c1, r2, c2, _abs = node
        a = f"{get_column_letter(c1)}{r1}"
        b = f"{get_column_letter(c2)}{r2}"
        return (f"'{s}'!" if s else "") + (a if a == b else f"{a}:{b}")
    if node[0] == "name":
        return node[1]
    if node[0] == "fn":
        return node[1] + "(…)"
    return "an expression"


def lint_workbook(path):
    """All lint findings of one xlsx file.

    Args:
        path: the workbook.
    Returns:
        list of :class:`Problem` (empty when the workbook is clean).
    """
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 20000))  # long chains of & and + nest deeply
    try:
        linter = _Linter(path)
        linter.formulas()
        linter.sheets()
    finally:
        sys.setrecursionlimit(old)
    return linter.problems


__all__ = ["Problem", "lint_workbook", "PORTABLE", "NEWER", "VOLATILE", "Arr"]
