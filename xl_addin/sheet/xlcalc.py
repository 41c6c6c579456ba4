"""A small Excel formula evaluator for the formulas this project generates (issue 11).

Why: a workbook we write must carry the value Excel would show in every formula cell
(Protected View, previews and phones do not recalculate), and ``saq templates`` must work on
a machine without LibreOffice. So we evaluate our own formulas in pure Python, with Excel's
semantics where Excel and LibreOffice differ:

- SUM/MAX/MIN/AND/OR skip logicals and text that come from a range or an array; only a
  logical typed directly as an argument counts; SUMPRODUCT treats non-numbers as 0;
- ``TRUE&""`` is "TRUE"; ISNUMBER(TRUE) is FALSE; text compares without case;
- a number joined into text is written as General shows it (15 significant digits).

Only the functions in :data:`FUNCTIONS` are known; any other function, syntax or a circular
reference raises :class:`Unsupported`, and the caller then leaves the workbook to be
recalculated on load (see :mod:`xl_addin.sheet.xlcache`). Arguments are evaluated element-wise
over arrays (array context), which is what Excel does inside SUMPRODUCT — the only place our
formulas use arrays.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
import re
from decimal import ROUND_HALF_UP, Decimal

EPOCH = dt.date(1899, 12, 30)


class Unsupported(Exception):
    """A formula uses something this evaluator does not implement."""


class XLError:
    """An Excel error value (#VALUE!, #DIV/0!, ...)."""

    __slots__ = ("code",)

    def __init__(self, code):
        self.code = code

    def __eq__(self, other):
        return isinstance(other, XLError) and other.code == self.code

    def __hash__(self):
        return hash(self.code)

    def __repr__(self):
        return self.code


VALUE = XLError("#VALUE!")
DIV0 = XLError("#DIV/0!")
NA = XLError("#N/A")
NUM = XLError("#NUM!")
REF = XLError("#REF!")
NAME = XLError("#NAME?")
ERRORS = {e.code: e for e in (VALUE, DIV0, NA, NUM, REF, NAME, XLError("#NULL!"))}


class Arr:
    """A 2-D array of scalar values (rows of columns)."""

    __slots__ = ("rows",)

    def __init__(self, rows):
        self.rows = rows

    @property
    def shape(self):
        return len(self.rows), len(self.rows[0]) if self.rows else 0

    def flat(self):
        for r in self.rows:
            yield from r


class Ref:
    """A rectangular reference into the book (1-based rows and columns)."""

    __slots__ = ("book", "sheet", "r1", "c1", "r2", "c2")

    def __init__(self, book, sheet, r1, c1, r2, c2):
        self.book, self.sheet = book, sheet
        self.r1, self.c1, self.r2, self.c2 = min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)

    def single(self):
        return self.r1 == self.r2 and self.c1 == self.c2

    def values(self):
        g = self.book.value
        return Arr([[g(self.sheet, r, c) for c in range(self.c1, self.c2 + 1)]
                    for r in range(self.r1, self.r2 + 1)])

    def flat(self):
        g = self.book.value
        for r in range(self.r1, self.r2 + 1):
            for c in range(self.c1, self.c2 + 1):
                yield g(self.sheet, r, c)


# ---------------------------------------------------------------------- tokens
_TOKEN = re.compile(r"""
  (?P<ws>\s+)
| (?P<str>"(?:[^"]|"")*")
| (?P<err>\#NULL!|\#DIV/0!|\#VALUE!|\#REF!|\#NAME\?|\#NUM!|\#N/A)
| (?P<sref>(?:'(?:[^']|'')+'|[A-Za-z_\u4e00-\u9fff][\w.\u4e00-\u9fff]*)!
      (?:\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?|\$?[A-Z]{1,3}:\$?[A-Z]{1,3}|\$?\d+:\$?\d+))
| (?P<ref>\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?(?![\w(.]))
| (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
| (?P<func>[A-Za-z_][\w.]*\()
| (?P<bool>(?:TRUE|FALSE)(?![\w(.]))
| (?P<name>[A-Za-z_\\\u4e00-\u9fff][\w.\u4e00-\u9fff]*)
| (?P<op><>|<=|>=|[-+*/^&=<>%(),;{}:])
""", re.X)
_CELL = re.compile(r"(\$?)([A-Z]{1,3})(\$?)(\d+)")


def col_index(letters):
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def tokenize(text, spaces=False):
    """Tokens (kind, text) of a formula body (without '='); raises Unsupported on anything
    unknown. ``spaces`` keeps the whitespace tokens (to rebuild the text)."""
    out = []
    pos = 0
    for m in _TOKEN.finditer(text):
        if m.start() != pos:
            raise Unsupported(f"cannot read {text[pos:pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup
        if kind != "ws" or spaces:
            out.append((kind, m.group()))
    if pos != len(text):
        raise Unsupported(f"cannot read {text[pos:pos + 20]!r}")
    return out


# ---------------------------------------------------------------------- parser
class Node(tuple):
    """A parsed formula node: (kind, ...) — num, str, bool, err, ref, name, arr, fn, neg,
    pct, bin, missing. ``fn`` is ("fn", NAME, [args]); ``bin`` is ("bin", op, a, b);
    ``ref`` is ("ref", sheet or None, r1, c1, r2, c2)."""


def _node(*parts):
    return Node(parts)


MISSING_ARG = _node("missing")


_PREC = {"=": 1, "<>": 1, "<": 1, ">": 1, "<=": 1, ">=": 1, "&": 2, "+": 3, "-": 3,
         "*": 4, "/": 4, "^": 5}


class _Parser:
    """Recursive descent over tokens, with Excel's operator precedence."""

    def __init__(self, tokens):
        self.t = tokens
        self.i = 0

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else (None, None)

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def expect(self, value):
        k, v = self.take()
        if v != value:
            raise Unsupported(f"expected {value!r}, got {v!r}")

    def parse(self):
        node = self.compare()
        if self.i != len(self.t):
            raise Unsupported(f"unexpected {self.peek()[1]!r}")
        return node

    def compare(self, min_prec=0):
        """Precedence climbing over the binary operators (all left-associative)."""
        left = self.unary()
        t, n = self.t, len(self.t)
        while self.i < n:
            k, v = t[self.i]
            prec = _PREC.get(v) if k == "op" else None
            if prec is None or prec < min_prec:
                break
            self.i += 1
            left = _node("bin", v, left, self.compare(prec + 1))
        return left

    def unary(self):
        k, v = self.peek()
        if k == "op" and v in ("-", "+"):
            self.take()
            inner = self.unary()
            return inner if v == "+" else _node("neg", inner)
        node = self.primary()
        while self.peek() == ("op", "%"):
            self.take()
            node = _node("pct", node)
        return node

    def primary(self):
        k, v = self.take()
        if k == "num":
            return _node("num", float(v))
        if k == "str":
            return _node("str", v[1:-1].replace('""', '"'))
        if k == "bool":
            return _node("bool", v == "TRUE")
        if k == "err":
            return _node("err", ERRORS[v])
        if k in ("ref", "sref"):
            return _ref_node(v)
        if k == "name":
            return _node("name", v)
        if k == "func":
            return self.call(v[:-1].upper())
        if (k, v) == ("op", "("):
            node = self.compare()
            self.expect(")")
            return node
        if (k, v) == ("op", "{"):
            return self.array()
        raise Unsupported(f"unexpected {v!r}")

    def array(self):
        rows, row = [], []
        while True:
            sign = 1.0
            k, v = self.take()
            if (k, v) == ("op", "-"):
                sign = -1.0
                k, v = self.take()
            if k == "num":
                row.append(sign * float(v))
            elif k == "str":
                row.append(v[1:-1].replace('""', '"'))
            elif k == "bool":
                row.append(v == "TRUE")
            else:
                raise Unsupported(f"array constant item {v!r}")
            k, v = self.take()
            if v == ",":
                continue
            rows.append(row)
            row = []
            if v == ";":
                continue
            if v == "}":
                break
            raise Unsupported(f"array constant separator {v!r}")
        return _node("arr", Arr(rows))

    def call(self, fname):
        args = []
        if self.peek() == ("op", ")"):
            self.take()
        else:
            while True:
                if self.peek()[1] in (",", ")"):
                    args.append(MISSING_ARG)
                else:
                    args.append(self.compare())
                k, v = self.take()
                if v == ")":
                    break
                if v != ",":
                    raise Unsupported(f"argument separator {v!r}")
        return _node("fn", fname, args)


@functools.lru_cache(maxsize=50_000)
def parse(body):
    """The syntax tree of a formula body (without "="). Raises Unsupported.

    Kept per process (trees are never changed): the workbooks of one template repeat their
    formulas, and the lint and the evaluator parse the same ones."""
    return _Parser(tokenize(body)).parse()


def _ref_node(text):
    sheet = None
    if "!" in text:
        sheet, text = text.rsplit("!", 1)
        if sheet.startswith("'"):
            sheet = sheet[1:-1].replace("''", "'")
    parts = text.split(":")
    ends = []
    for p in parts:
        m = _CELL.fullmatch(p)
        if not m:
            raise Unsupported(f"reference {text}")  # whole columns / rows
        ends.append((int(m.group(4)), col_index(m.group(2)), m.group(3) == "$", m.group(1) == "$"))
    if len(ends) == 1:
        ends.append(ends[0])
    (r1, c1, ar1, ac1), (r2, c2, ar2, ac2) = ends
    return _node("ref", sheet, r1, c1, r2, c2, (ar1, ac1, ar2, ac2))


# A formula's text with its relative references written as offsets from its own cell:
# formulas copied down a column share one parse (the 50 rows of 附件3 are one formula).
_RELTEXT = re.compile(r'"(?:[^"]|"")*"|\'(?:[^\']|\'\')*\'|(?<![\w.$])(\$?)([A-Z]{1,3})(\$?)(\d+)(?![\w(.!])')


@functools.lru_cache(maxsize=200_000)
def relative_key(body, row, col):
    """``body`` with relative references as offsets from (row, col) (strings untouched).

    Kept per process: the filled copies of one template, and the lint, ask for the same
    (formula, row, col) again."""
    def sub(m):
        if m.group(2) is None:
            return m.group(0)
        c = m.group(2) if m.group(1) else f"C[{col_index(m.group(2)) - col}]"
        r = m.group(4) if m.group(3) else f"R[{int(m.group(4)) - row}]"
        return f"{m.group(1)}{c}{m.group(3)}{r}"
    return _RELTEXT.sub(sub, body)


# ---------------------------------------------------------------------- compiler
def compile_node(node, origin=None, shared=None):
    """A closure ``f(ctx) -> value`` for a syntax tree.

    Args:
        origin: (row, col) of the formula's own cell: its relative references then follow
            the cell the closure is evaluated for (``ctx.row``, ``ctx.col``).
        shared: internal — the repeated subtrees of the formula being compiled
            (:func:`compile_formula`).
    """
    if shared is not None and node[0] in _SHAREABLE:
        key = _shape(node)
        if key in shared:
            f = shared[key]
            if f is None:
                f = shared[key] = _once_per_cell(_compile(node, origin, shared))
            return f
    return _compile(node, origin, shared)


def compile_formula(node, origin=None):
    """:func:`compile_node` for a whole formula: a subtree written several times in it
    (the generated formulas repeat ``TRIM(SUBSTITUTE(B7&"","　"," "))`` once per word they
    compare with) is evaluated once per cell. Formulas are pure, so that changes no value."""
    counts = {}
    _count_shapes(node, counts)
    return compile_node(node, origin, {k: None for k, n in counts.items() if n > 1})


_SHAREABLE = ("fn", "bin", "neg", "pct")


def _shape(node):
    """A hashable key of a syntax tree: equal for subtrees written alike (kept on the node,
    so that a deep formula costs one pass, not one per level)."""
    key = node.__dict__.get("shape")
    if key is not None:
        return key
    kind = node[0]
    if kind == "fn":
        key = ("fn", node[1], tuple(_shape(a) for a in node[2]))
    elif kind == "bin":
        key = ("bin", node[1], _shape(node[2]), _shape(node[3]))
    elif kind in ("neg", "pct"):
        key = (kind, _shape(node[1]))
    elif kind == "arr":
        key = ("arr", id(node[1]))
    else:
        key = tuple(node)
    node.shape = key
    return key


def _count_shapes(node, counts):
    kind = node[0]
    if kind not in _SHAREABLE:
        return
    key = _shape(node)
    counts[key] = counts.get(key, 0) + 1
    if counts[key] > 1:
        return  # its own subtrees were counted the first time
    for child in (node[2] if kind == "fn" else node[2:] if kind == "bin" else node[1:]):
        _count_shapes(child, counts)


def _once_per_cell(f):
    """``f`` evaluated once per cell evaluation (the Context), then remembered there."""
    token = object()

    def once(ctx):
        if ctx is None:
            return f(ctx)
        m = ctx.memo
        if m is None:
            m = ctx.memo = {}
        v = m.get(token, _PENDING)
        if v is _PENDING:
            v = m[token] = f(ctx)
        return v
    return once


def _compile(node, origin, shared):
    kind = node[0]
    if kind in ("num", "str", "bool", "err"):
        x = node[1]
        return lambda ctx: x
    if kind == "arr":
        arr = node[1]
        return lambda ctx: arr
    if kind == "missing":
        return _missing
    if kind == "ref":
        _, sheet, r1, c1, r2, c2, (ar1, ac1, ar2, ac2) = node
        if origin is None or (ar1 and ac1 and ar2 and ac2):
            return lambda ctx: Ref(ctx.book, sheet or ctx.sheet, r1, c1, r2, c2)
        orow, ocol = origin
        d = (0 if ar1 else orow, 0 if ac1 else ocol, 0 if ar2 else orow, 0 if ac2 else ocol)
        k = (r1 - d[0], c1 - d[1], r2 - d[2], c2 - d[3])
        m = (not ar1, not ac1, not ar2, not ac2)

        def rel(ctx):
            return Ref(ctx.book, sheet or ctx.sheet, k[0] + ctx.row * m[0], k[1] + ctx.col * m[1],
                       k[2] + ctx.row * m[2], k[3] + ctx.col * m[3])
        return rel
    if kind == "name":
        name = node[1]
        return lambda ctx: ctx.book.name_ref(name, ctx)
    if kind == "neg":
        return _lift1(_neg, compile_node(node[1], origin, shared))
    if kind == "pct":
        return _lift1(lambda x: _arith("/", x, 100.0), compile_node(node[1], origin, shared))
    if kind == "bin":
        return _binop(node[1], compile_node(node[2], origin, shared),
                      compile_node(node[3], origin, shared))
    fname = node[1]
    if fname.startswith("_XLFN."):
        fname = fname[6:]
    spec = FUNCTIONS.get(fname)
    if spec is None:
        raise Unsupported(f"function {fname}")
    fkind, fn, lo, hi = spec
    args = [compile_node(a, origin, shared) for a in node[2]]
    if not lo <= len(args) <= hi:
        raise Unsupported(f"{fname} with {len(args)} arguments")
    if fkind == "lazy":
        return lambda ctx: fn(ctx, args)
    if fkind == "raw":
        return lambda ctx: fn(*[a(ctx) for a in args])
    # scalar function, lifted element-wise over arrays
    return lambda ctx: _apply_scalar(fn, [_deref(a(ctx)) for a in args])


def _missing(ctx):
    return None


# ---------------------------------------------------------------------- values
def _deref(v):
    if isinstance(v, Ref):
        if v.single():
            return v.book.value(v.sheet, v.r1, v.c1)
        return v.values()
    return v


def _apply_scalar(fn, args):
    if any(isinstance(a, Arr) for a in args):
        return _broadcast(fn, args)
    return fn(*args)


def _broadcast(fn, args):
    """``fn`` element by element over arrays of one shape, a row (1×n) or a column (n×1)
    stretched over the other dimension, as Excel does; #N/A outside a smaller array. Each
    argument is expanded once into its rows (a per-element lookup was the evaluator's
    hottest spot on the expert form's list lookups, issue 20)."""
    shapes = [a.shape if isinstance(a, Arr) else None for a in args]
    nr = max(s[0] for s in shapes if s)
    nc = max(s[1] for s in shapes if s)

    def row_of(a, s, i):
        if s is None:
            return itertools.repeat(a, nc)
        r, c = s
        if r != 1 and i >= r:
            return [NA] * nc
        src = a.rows[0 if r == 1 else i]
        if c == 1:
            return [src[0]] * nc
        return src if c == nc else list(src) + [NA] * (nc - c)
    return Arr([[fn(*vals) for vals in zip(*[row_of(a, s, i) for a, s in zip(args, shapes)])]
                for i in range(nr)])


def _lift1(fn, node):
    return lambda ctx: _apply_scalar(fn, [_deref(node(ctx))])


def _binop(op, left, right):
    if op in ("+", "-", "*", "/", "^"):
        f = lambda a, b: _arith(op, a, b)  # noqa: E731
    elif op == "&":
        f = _concat
    else:
        f = lambda a, b: _compare(op, a, b)  # noqa: E731
    return lambda ctx: _apply_scalar(f, [_deref(left(ctx)), _deref(right(ctx))])


def to_number(v):
    """Excel's conversion of a scalar to a number (XLError when it cannot)."""
    if isinstance(v, XLError):
        return v
    if v is None:
        return 0.0
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return float(v)
    s = v.strip()
    try:
        return float(s.replace(",", "")) if s else VALUE
    except ValueError:
        pass
    if s.endswith("%"):
        try:
            return float(s[:-1]) / 100
        except ValueError:
            return VALUE
    d = parse_date_text(s)
    return VALUE if d is None else d


def parse_date_text(s):
    """A date typed as text (yyyy-mm-dd, yyyy/m/d, yyyy年m月d日) as a serial, or None."""
    m = re.fullmatch(r"(\d{4})\s*[-/年.]\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})\s*日?", s)
    if not m:
        return None
    try:
        return date_serial(dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    except ValueError:
        return None


def to_text(v):
    """Excel's conversion of a scalar to text."""
    if isinstance(v, XLError):
        return v
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float)):
        return general(v)
    return v


def to_bool(v):
    if isinstance(v, XLError):
        return v
    if v is None:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    u = v.upper()
    if u in ("TRUE", "FALSE"):
        return u == "TRUE"
    return VALUE


def general(x):
    """A number as Excel's General format converts it to text (15 significant digits)."""
    x = float(x)
    if x == 0:
        return "0"
    if math.isinf(x) or math.isnan(x):
        return "#NUM!"
    s = f"{x:.15g}"
    if "e" in s:
        mant, exp = s.split("e")
        if "." in mant:
            mant = mant.rstrip("0").rstrip(".")
        e = int(exp)
        if -5 < e < 0 or 0 <= e < 15:  # Excel writes these in full
            return format(Decimal(s), "f")
        return f"{mant}E{'+' if e > 0 else '-'}{abs(e):02d}"
    return s


def _neg(x):
    n = to_number(x)
    return n if isinstance(n, XLError) else -n


def _arith(op, a, b):
    a, b = to_number(a), to_number(b)
    if isinstance(a, XLError):
        return a
    if isinstance(b, XLError):
        return b
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return DIV0 if b == 0 else a / b
    try:
        return float(a ** b)
    except (OverflowError, ZeroDivisionError, TypeError):
        return NUM


def _concat(a, b):
    a, b = to_text(a), to_text(b)
    if isinstance(a, XLError):
        return a
    if isinstance(b, XLError):
        return b
    return a + b


def _kind(v):
    if isinstance(v, bool):
        return 2
    if isinstance(v, str):
        return 1
    return 0


def _compare(op, a, b):
    if isinstance(a, XLError):
        return a
    if isinstance(b, XLError):
        return b
    if a is None:
        a = "" if isinstance(b, str) else (False if isinstance(b, bool) else 0.0)
    if b is None:
        b = "" if isinstance(a, str) else (False if isinstance(a, bool) else 0.0)
    ka, kb = _kind(a), _kind(b)
    if ka != kb:
        a, b = ka, kb  # number < text < logical
    elif ka == 1:
        a, b = a.lower(), b.lower()
    if op == "=":
        return a == b
    if op == "<>":
        return a != b
    if op == "<":
        return a < b
    if op == ">":
        return a > b
    if op == "<=":
        return a <= b
    return a >= b


def date_serial(d):
    return float((d - EPOCH).days)


def serial_date(n):
    return EPOCH + dt.timedelta(days=int(math.floor(n)))


# ---------------------------------------------------------------------- functions
def _err_first(*xs):
    for x in xs:
        if isinstance(x, XLError):
            return x
    return None


def _num_args(fn):
    """A scalar function of numbers (errors and #VALUE! handled)."""
    def wrapped(*args):
        ns = [to_number(a) if a is not None else 0.0 for a in args]
        e = _err_first(*ns)
        return e if e else fn(*ns)
    return wrapped


def _text_fn(fn):
    def wrapped(*args):
        e = _err_first(*args)
        return e if e else fn(*args)
    return wrapped


def f_if(ctx, args):
    cond = _deref(args[0](ctx))
    if isinstance(cond, Arr):
        rest = [_deref(a(ctx)) for a in args[1:]]
        while len(rest) < 2:
            rest.append(False)
        return _broadcast(lambda c, x, y: _if_pick(c, x, y), [cond] + rest)
    c = to_bool(cond)
    if isinstance(c, XLError):
        return c
    if c:
        return _if_value(args[1], ctx) if len(args) > 1 else True
    return _if_value(args[2], ctx) if len(args) > 2 else False


def _if_value(node, ctx):
    if node is _missing:  # IF(c,,x)
        return 0.0
    return node(ctx)


def _if_pick(c, x, y):
    c = to_bool(c)
    if isinstance(c, XLError):
        return c
    return x if c else y


def f_iferror(ctx, args):
    v = _deref(args[0](ctx))
    if isinstance(v, Arr):
        alt = _deref(args[1](ctx))
        return _broadcast(lambda a, b: b if isinstance(a, XLError) else a, [v, alt])
    return _deref(args[1](ctx)) if isinstance(v, XLError) else v


def _items(args, direct_numbers):
    """Values of the arguments of an aggregate: (value, came_directly) pairs."""
    for a in args:
        if isinstance(a, Ref):
            for v in a.flat():
                yield v, False
        elif isinstance(a, Arr):
            for v in a.flat():
                yield v, False
        else:
            yield a, True


def _numbers(args):
    """Numbers an aggregate (SUM, MAX, MIN) takes: logicals and text from ranges and arrays
    are skipped, typed arguments are converted; the first error is returned."""
    out = []
    for v, direct in _items(args, True):
        if isinstance(v, XLError):
            return v
        if direct:
            if v is None:
                continue
            n = to_number(v)
            if isinstance(n, XLError):
                return n
            out.append(n)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append(float(v))
    return out


def f_sum(*args):
    ns = _numbers(args)
    return ns if isinstance(ns, XLError) else float(math.fsum(ns))


def f_max(*args):
    ns = _numbers(args)
    return ns if isinstance(ns, XLError) else (max(ns) if ns else 0.0)


def f_min(*args):
    ns = _numbers(args)
    return ns if isinstance(ns, XLError) else (min(ns) if ns else 0.0)


def f_count(*args):
    n = 0
    for v, direct in _items(args, True):
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            n += 1
        elif direct and not isinstance(to_number(v), XLError) and v is not None:
            n += 1
    return float(n)


def f_counta(*args):
    return float(sum(1 for v, _ in _items(args, True) if v is not None))


def f_average(*args):
    ns = _numbers(args)
    if isinstance(ns, XLError):
        return ns
    return DIV0 if not ns else math.fsum(ns) / len(ns)


def _logical(args, combine):
    vals = []
    for v, direct in _items(args, True):
        if isinstance(v, XLError):
            return v
        if v is None:
            continue
        if isinstance(v, str):
            if direct:
                b = to_bool(v)
                if isinstance(b, XLError):
                    return b
                vals.append(b)
            continue
        vals.append(bool(v))
    if not vals:
        return VALUE
    return combine(vals)


def f_and(*args):
    return _logical(args, all)


def f_or(*args):
    return _logical(args, any)


def f_sumproduct(*args):
    arrs = []
    for a in args:
        a = a.values() if isinstance(a, Ref) else a
        arrs.append(a if isinstance(a, Arr) else Arr([[a]]))
    shape = arrs[0].shape
    if any(a.shape != shape for a in arrs):
        return VALUE
    total = 0.0
    flats = [list(a.flat()) for a in arrs]
    for vals in zip(*flats):
        p = 1.0
        for v in vals:
            if isinstance(v, XLError):
                return v
            p *= float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else 0.0
        total += p
    return total


_CRIT = re.compile(r"^(<=|>=|<>|<|>|=)?(.*)$", re.S)


def _criterion(crit):
    """COUNTIF's criterion as a predicate over a cell value."""
    if isinstance(crit, Ref):
        crit = _deref(crit) if crit.single() else crit.book.value(crit.sheet, crit.r1, crit.c1)
    if isinstance(crit, bool):
        return lambda v: isinstance(v, bool) and v == crit
    if isinstance(crit, (int, float)):
        return lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v == crit
    if crit is None:
        crit = ""
    op, rest = _CRIT.match(crit).groups()
    op = op or "="
    n = to_number(rest) if rest.strip() else VALUE
    if not isinstance(n, XLError):
        def num_pred(v):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                return op == "<>"
            return _compare(op, float(v), n)
        return num_pred
    up = rest.upper()
    if up in ("TRUE", "FALSE"):
        b = up == "TRUE"
        return lambda v: isinstance(v, bool) and ((v == b) == (op == "="))
    if op in ("=", "<>"):
        if rest == "":
            return (lambda v: v is None or v == "") if op == "=" else (lambda v: v is not None and v != "")
        pat = re.compile(_wildcard(rest), re.I | re.S)
        if op == "=":
            return lambda v: isinstance(v, str) and bool(pat.fullmatch(v))
        return lambda v: not (isinstance(v, str) and pat.fullmatch(v))
    return lambda v: isinstance(v, str) and _compare(op, v, rest)


def _wildcard(s):
    out, i = "", 0
    while i < len(s):
        ch = s[i]
        if ch == "~" and i + 1 < len(s):
            out += re.escape(s[i + 1])
            i += 2
            continue
        out += ".*" if ch == "*" else "." if ch == "?" else re.escape(ch)
        i += 1
    return out


def f_countif(rng, crit):
    if not isinstance(rng, Ref):
        raise Unsupported("COUNTIF over a non-range")
    pred = _criterion(crit)
    return float(sum(1 for v in rng.flat() if not isinstance(v, XLError) and pred(v)))


def f_n(v):
    if isinstance(v, Ref):
        v = v.book.value(v.sheet, v.r1, v.c1)
    if isinstance(v, Arr):
        return Arr([[f_n(x) for x in row] for row in v.rows])
    if isinstance(v, XLError):
        return v
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return float(v)
    return 0.0


def _mid(text, start, n):
    text = to_text(text)
    start, n = to_number(start), to_number(n)
    e = _err_first(text, start, n)
    if e:
        return e
    if start < 1 or n < 0:
        return VALUE
    s = int(start) - 1
    return text[s:s + int(n)]


def _left(text, n=1.0):
    text, n = to_text(text), to_number(1.0 if n is None else n)
    e = _err_first(text, n)
    if e:
        return e
    return VALUE if n < 0 else text[:int(n)]


def _right(text, n=1.0):
    text, n = to_text(text), to_number(1.0 if n is None else n)
    e = _err_first(text, n)
    if e:
        return e
    if n < 0:
        return VALUE
    return text[len(text) - int(n):] if int(n) else ""


def _locate(match, needle, hay, start):
    """FIND and SEARCH: the shared argument checks, then ``match(needle, hay, i)`` -> the
    0-based position of the match from ``i``, or None. Returns the 1-based position or #VALUE!."""
    needle, hay, start = to_text(needle), to_text(hay), to_number(1.0 if start is None else start)
    e = _err_first(needle, hay, start)
    if e:
        return e
    if start < 1 or start > len(hay) + 1:
        return VALUE
    i = match(needle, hay, int(start) - 1)
    return VALUE if i is None else float(i + 1)


def _find_at(needle, hay, i):
    """FIND: case-sensitive, no wildcards."""
    i = hay.find(needle, i)
    return None if i < 0 else i


def _search_at(needle, hay, i):
    """SEARCH: case-insensitive, with the wildcards ? * and ~."""
    m = re.compile(_wildcard(needle), re.I | re.S).search(hay, i)
    return None if m is None else m.start()


def _find(needle, hay, start=1.0):
    return _locate(_find_at, needle, hay, start)


def _search(needle, hay, start=1.0):
    return _locate(_search_at, needle, hay, start)


def _substitute(text, old, new, inst=None):
    text, old, new = to_text(text), to_text(old), to_text(new)
    e = _err_first(text, old, new, inst)
    if e:
        return e
    if old == "":
        return text
    if inst is None:
        return text.replace(old, new)
    k = int(to_number(inst))
    if k < 1:
        return VALUE
    i = -1
    for _ in range(k):
        i = text.find(old, i + 1)
        if i < 0:
            return text
    return text[:i] + new + text[i + len(old):]


def _trim(text):
    text = to_text(text)
    if isinstance(text, XLError):
        return text
    return " ".join(p for p in text.split(" ") if p)


def _str1(fn):
    def wrapped(text):
        t = to_text(text)
        return t if isinstance(t, XLError) else fn(t)
    return wrapped


_FULL = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)}
_FULL[0x3000] = 0x20


def _asc(t):
    return t.translate(_FULL)


def _char(n):
    n = int(n)
    if not 1 <= n <= 127:
        raise Unsupported(f"CHAR({n}) depends on the code page")
    return chr(n)


def _date(y, m, d):
    y, m, d = int(y), int(m), int(d)
    if 0 <= y < 1900:
        y += 1900
    y += (m - 1) // 12
    m = (m - 1) % 12 + 1
    try:
        return date_serial(dt.date(y, m, 1) + dt.timedelta(days=d - 1))
    except (ValueError, OverflowError):
        return NUM


def _date_part(attr):
    """DAY / MONTH / YEAR of a serial (Excel: #NUM! below 0; serial 0 is 1900-01-00)."""
    def fn(x):
        if x < 0:
            return NUM
        if int(x) == 0:
            return {"day": 0.0, "month": 1.0, "year": 1900.0}[attr]
        return float(getattr(serial_date(int(x)), attr))
    return fn


def _edate(start, months):
    if start < 0:
        return NUM
    d = serial_date(start)
    m = d.month - 1 + int(months)
    y, m = d.year + m // 12, m % 12 + 1
    import calendar  # lazy: EDATE only; ~2 ms (and locale) that saq check would pay
    day = min(d.day, calendar.monthrange(y, m)[1])
    return date_serial(dt.date(y, m, day))


def _round(x, n=0.0, mode=ROUND_HALF_UP):
    q = Decimal(1).scaleb(-int(n))
    return float(Decimal(repr(x)).quantize(q, rounding=mode))


def _mod(a, b):
    if b == 0:
        return DIV0
    return a - b * math.floor(a / b)


def _text(v, fmt):
    fmt_t = to_text(fmt)
    e = _err_first(v, fmt_t)
    if e:
        return e
    n = to_number(v)
    if isinstance(n, XLError):
        return to_text(v)  # text stays as it is
    f = fmt_t.lower()
    if re.fullmatch(r"0(\.0+)?", f) is None and f not in ("general", "g/通用格式", "@") \
            and re.search(r"[ymd]", f):
        return _date_text(n, fmt_t)
    if re.fullmatch(r"0(\.0+)?", f):
        places = len(f) - 2 if "." in f else 0
        return f"{_round(n, places):.{places}f}"
    if f in ("general", "g/通用格式", "@"):
        return general(n)
    raise Unsupported(f"TEXT format {fmt_t!r}")


_DATE_TOKEN = re.compile(r'"[^"]*"|\\.|yyyy|yy|mm|m|dd|d|[^ymd"\\]', re.I)


def _date_text(n, fmt):
    """TEXT(serial, fmt) for date formats of years, months and days (no times)."""
    if re.search(r"[hs\[]", fmt, re.I) or n < 0:
        raise Unsupported(f"TEXT format {fmt!r}")
    d = serial_date(n)
    out = []
    for tok in _DATE_TOKEN.findall(fmt):
        t = tok.lower()
        if tok.startswith('"'):
            out.append(tok[1:-1])
        elif tok.startswith("\\"):
            out.append(tok[1:])
        elif t == "yyyy":
            out.append(f"{d.year:04d}")
        elif t == "yy":
            out.append(f"{d.year % 100:02d}")
        elif t == "mm":
            out.append(f"{d.month:02d}")
        elif t == "m":
            out.append(str(d.month))
        elif t == "dd":
            out.append(f"{d.day:02d}")
        elif t == "d":
            out.append(str(d.day))
        else:
            out.append(tok)
    return "".join(out)


def _datevalue(t):
    if not isinstance(t, str):
        return VALUE
    d = parse_date_text(t.strip())
    return VALUE if d is None else d


def _value(t):
    if isinstance(t, str):
        return to_number(t)
    return to_number(t)


def _isnumber(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _not(v):
    b = to_bool(v)
    return b if isinstance(b, XLError) else not b


def _exact(a, b):
    a, b = to_text(a), to_text(b)
    e = _err_first(a, b)
    return e if e else a == b


def _rept(t, n):
    t, n = to_text(t), to_number(n)
    e = _err_first(t, n)
    return e if e else t * int(n)


def _concatenate(*args):
    out = ""
    for a in args:
        t = to_text(a)
        if isinstance(t, XLError):
            return t
        out += t
    return out


def _iserror_raw(v):
    if isinstance(v, Ref):
        v = _deref(v)
    if isinstance(v, Arr):
        return Arr([[isinstance(x, XLError) for x in row] for row in v.rows])
    return isinstance(v, XLError)


def _isblank_raw(v):
    if isinstance(v, Ref):
        v = _deref(v)
    if isinstance(v, Arr):
        return Arr([[x is None for x in row] for row in v.rows])
    return v is None


def _type_raw(pred):
    def wrapped(v):
        v = _deref(v) if isinstance(v, Ref) else v
        if isinstance(v, Arr):
            return Arr([[pred(x) for x in row] for row in v.rows])
        return pred(v)
    return wrapped


def _index(rng, r, c=None):
    arr = rng.values() if isinstance(rng, Ref) else rng
    if not isinstance(arr, Arr):
        arr = Arr([[arr]])
    r = int(to_number(_deref(r)))
    c = 1 if c is None else int(to_number(_deref(c)))
    nr, nc = arr.shape
    if nr == 1 and c == 1 and r > 1:
        r, c = 1, r
    if not (1 <= r <= nr and 1 <= c <= nc):
        return REF
    return arr.rows[r - 1][c - 1]


def _match(v, rng, mode=None):
    v = _deref(v)
    mode = 1 if mode is None else int(to_number(_deref(mode)))
    if mode != 0:
        raise Unsupported("MATCH other than exact")
    arr = rng.values() if isinstance(rng, Ref) else rng
    for i, x in enumerate(arr.flat(), 1):
        if x is not None and _compare("=", x, v) is True:
            return float(i)
    return NA


def _abs(x):
    return abs(x)


# name -> (kind, fn, min args, max args); "scalar" functions are lifted over arrays
FUNCTIONS = {
    "IF": ("lazy", f_if, 1, 3),
    "IFERROR": ("lazy", f_iferror, 2, 2),
    "AND": ("raw", f_and, 1, 255),
    "OR": ("raw", f_or, 1, 255),
    "NOT": ("scalar", _not, 1, 1),
    "SUM": ("raw", f_sum, 1, 255),
    "MAX": ("raw", f_max, 1, 255),
    "MIN": ("raw", f_min, 1, 255),
    "AVERAGE": ("raw", f_average, 1, 255),
    "COUNT": ("raw", f_count, 1, 255),
    "COUNTA": ("raw", f_counta, 1, 255),
    "COUNTIF": ("raw", f_countif, 2, 2),
    "SUMPRODUCT": ("raw", lambda *a: f_sumproduct(*[_deref(x) if not isinstance(x, Ref) else x
                                                     for x in a]), 1, 255),
    "N": ("raw", f_n, 1, 1),
    "ISERROR": ("raw", _iserror_raw, 1, 1),
    "ISBLANK": ("raw", _isblank_raw, 1, 1),
    "ISNUMBER": ("raw", _type_raw(_isnumber), 1, 1),
    "ISTEXT": ("raw", _type_raw(lambda v: isinstance(v, str)), 1, 1),
    "ISLOGICAL": ("raw", _type_raw(lambda v: isinstance(v, bool)), 1, 1),
    "INDEX": ("raw", _index, 2, 3),
    "MATCH": ("raw", _match, 2, 3),
    "TRIM": ("scalar", _trim, 1, 1),
    "UPPER": ("scalar", _str1(str.upper), 1, 1),
    "LOWER": ("scalar", _str1(str.lower), 1, 1),
    "ASC": ("scalar", _str1(_asc), 1, 1),
    "LEN": ("scalar", _str1(lambda t: float(len(t))), 1, 1),
    "MID": ("scalar", _mid, 3, 3),
    "LEFT": ("scalar", _left, 1, 2),
    "RIGHT": ("scalar", _right, 1, 2),
    "FIND": ("scalar", _find, 2, 3),
    "SEARCH": ("scalar", _search, 2, 3),
    "SUBSTITUTE": ("scalar", _substitute, 3, 4),
    "EXACT": ("scalar", _exact, 2, 2),
    "REPT": ("scalar", _rept, 2, 2),
    "CONCATENATE": ("scalar", _concatenate, 1, 255),
    "TEXT": ("scalar", _text, 2, 2),
    "VALUE": ("scalar", _value, 1, 1),
    "DATEVALUE": ("scalar", _datevalue, 1, 1),
    "CHAR": ("scalar", _num_args(_char), 1, 1),
    "DATE": ("scalar", _num_args(_date), 3, 3),
    "EDATE": ("scalar", _num_args(_edate), 2, 2),
    "DAY": ("scalar", _num_args(_date_part("day")), 1, 1),
    "MONTH": ("scalar", _num_args(_date_part("month")), 1, 1),
    "YEAR": ("scalar", _num_args(_date_part("year")), 1, 1),
    "INT": ("scalar", _num_args(lambda x: float(math.floor(x))), 1, 1),
    "MOD": ("scalar", _num_args(_mod), 2, 2),
    "ABS": ("scalar", _num_args(_abs), 1, 1),
    "ROUND": ("scalar", _num_args(_round), 2, 2),
}


# ---------------------------------------------------------------------- book
class Context:
    __slots__ = ("book", "sheet", "row", "col", "memo")

    def __init__(self, book, sheet, row, col):
        self.book, self.sheet, self.row, self.col = book, sheet, row, col
        self.memo = None  # the repeated subtrees' values for this cell (compile_formula)


_PENDING = object()
_COMPILED = {}  # relative formula text -> closure, shared by every Book of the process


class Book:
    """Cell values and formulas of a workbook, evaluated on demand with memoisation.

    Args:
        cells: sheet name -> {(row, col): value} of the constant cells; a value is None,
            float, bool, str or XLError.
        formulas: sheet name -> {(row, col): formula body without "="}.
        names: defined name -> reference text such as 'Sheet'!$A$1.
    """

    def __init__(self, cells, formulas, names=None):
        self.cells = cells
        self.formulas = formulas  # sheet -> {(row, col): formula body}
        self.names = {k.upper(): v for k, v in (names or {}).items()}
        self.memo = {}
        self._compiled = _COMPILED  # shared: the workbooks of one run repeat their formulas
        self._name_nodes = {}
        self.running = set()

    def compile(self, body, row=None, col=None):
        """The closure of a formula body (shared by formulas that differ only by row/col)."""
        key = body if row is None else relative_key(body, row, col)  # kept per process
        node = self._compiled.get(key)
        if node is None:
            node = compile_formula(parse(body), None if row is None else (row, col))
            if len(self._compiled) > 200_000:
                self._compiled.clear()
            self._compiled[key] = node
        return node

    def name_ref(self, name, ctx):
        node = self._name_nodes.get(name.upper())
        if node is None:
            text = self.names.get(name.upper())
            if text is None:
                raise Unsupported(f"unknown name {name}")
            node = self.compile(text.lstrip("="))
            self._name_nodes[name.upper()] = node
        return node(ctx)

    def value(self, sheet, row, col):
        """The value of one cell (a formula cell is evaluated once, then remembered)."""
        key = (sheet, row, col)
        v = self.memo.get(key, _PENDING)
        if v is not _PENDING:
            return v
        f = self.formulas.get(sheet, {}).get((row, col))
        if f is None:
            cells = self.cells.get(sheet)
            if cells is None:
                raise Unsupported(f"unknown sheet {sheet}")
            return cells.get((row, col))
        if key in self.running:
            raise Unsupported("circular reference")
        self.running.add(key)
        try:
            v = top_value(self.compile(f, row, col)(Context(self, sheet, row, col)), row, col)
        finally:
            self.running.discard(key)
        self.memo[key] = v
        return v

    def evaluate_all(self):
        """Values of every formula cell: {(sheet, row, col): value}."""
        return {(s, r, c): self.value(s, r, c)
                for s, fs in self.formulas.items() for (r, c) in fs}


def top_value(v, row, col):
    """The value a cell shows for a formula result (implicit intersection, blank -> 0)."""
    if isinstance(v, Ref):
        if v.single():
            v = v.book.value(v.sheet, v.r1, v.c1)
        elif v.c1 == v.c2 and v.r1 <= row <= v.r2:
            v = v.book.value(v.sheet, row, v.c1)
        elif v.r1 == v.r2 and v.c1 <= col <= v.c2:
            v = v.book.value(v.sheet, v.r1, col)
        else:
            return VALUE
    if isinstance(v, Arr):
        v = v.rows[0][0]
    if v is None:
        return 0.0
    return v
