"""The formula builder: turns the campaign's data into Excel formulas.

One :class:`Plan` is an ordered set of named formula cells that reference each other and
the input cells as ``[[name]]`` (inputs as ``[[in:key]]``). A form lays the plan out — the
application into a hidden ``_calc`` sheet, a 附件3 row into hidden columns of its row — and
resolves the references to addresses. Every constant (thresholds, dates, choice lists,
message wording) is read from the campaign or obtained by probing the engine's own parsers,
so the sheet and :mod:`xl_addin.rules.engine` cannot drift apart; the differential test against
LibreOffice proves they agree.

Only functions common to Excel 2010, WPS and LibreOffice 7.4 are used: IF, AND, OR, NOT,
ISNUMBER, ISERROR, TRIM, UPPER, LOWER, SUBSTITUTE, LEN, MID, LEFT, RIGHT, FIND, TEXT, EDATE, DATE,
DAY, VALUE, REPT, INT, MOD, MAX, MIN, SUM, SUMPRODUCT. Array constants appear only inside
SUMPRODUCT.

Typed values are read as the engine reads them (issue 10, parity): every input is first folded
as parse.fold folds it — the 94 full-width ASCII characters and the ideographic space replaced
by SUBSTITUTE (two helper cells: Excel nests at most 64 functions), then TRIM. ASC() is not
used: LibreOffice's ASC also turns 、。「」”’ into half-width Japanese forms, and Excel's
depends on the system locale. Numbers typed as
text with a unit word (85分, 1.2万平方米) and dates typed as text (2023.5.1, 2023年5月1日,
2023/5/1, 20230501) are parsed by formulas that follow parse.number / parse.date step by step.
FIND is never given an empty needle (Excel finds it, LibreOffice does not).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field

from xl_addin.rules import parse

from xl_addin.rules import rubric as rubric_mod
from xl_addin.rules.campaign import fmt_number, load
from xl_addin.rules.checks import BLANK, part_label, show
from xl_addin.rules.engine import _parser, field_labels
from xl_addin.rules.stars import MISSING
from xl_addin.rules.uscc import ALPHABET, DIVISION, LENGTH, PAIRS, WEIGHTS, check_char, problem as uscc_problem

_REF = re.compile(r"\[\[([^\]]+)\]\]")
CHUNK = 40  # flag instances per helper cell (Excel formulas ≤ 8192 chars)
MAX_LITERAL = 255  # Excel's limit on one string constant in a formula
DATE_FMT = "yyyy-mm-dd"
NL = "CHAR(10)"
AMP_EMPTY = '&""'  # number & "" = the number as General shows it



# ---------------------------------------------------------------------- literals
def lit(s):
    """An Excel string constant; long text is split into concatenated pieces (≤255 chars)."""
    s = str(s)
    if not s:
        return '""'
    parts = [s[i:i + MAX_LITERAL] for i in range(0, len(s), MAX_LITERAL)]
    return "&".join('"' + p.replace('"', '""') + '"' for p in parts)


def num(x):
    """A number constant as Excel reads it."""
    return fmt_number(x)


def date_lit(d):
    return f"DATE({d.year},{d.month},{d.day})"


def is_const(expr):
    return isinstance(expr, Const)


class Const(str):
    """A Python-side constant text standing in for an expression (folds statically)."""


def template(text, params, spec=None):
    """Excel expression for a ``str.format`` template.

    Args:
        text: the campaign's wording with ``{name}`` placeholders.
        params: name -> Excel text expression (or Const for a fixed text).
        spec: the flag's table; its scalar entries fill the remaining names (``show``-ed,
            as checks.Context.flag does).
    Returns:
        an Excel text expression.
    """
    fixed = {}
    for k, v in (spec or {}).items():
        if not isinstance(v, (list, dict)):
            fixed[k] = show(v)
    pieces, buf = [], ""
    for literal, name, _spec, _conv in string.Formatter().parse(text):
        buf += literal
        if name is None:
            continue
        if name in params:
            v = params[name]
            if is_const(v):
                buf += str(v)
            else:
                if buf:
                    pieces.append(lit(buf))
                    buf = ""
                pieces.append(v)
        elif name in fixed:
            buf += fixed[name]
        else:
            raise KeyError(f"template placeholder {name!r} has no value")
    if buf or not pieces:
        pieces.append(lit(buf))
    return "&".join(pieces)


def switch(expr, mapping, default='""'):
    """Nested IF: expr = key → value (keys and values already Excel expressions)."""
    out = default
    for k, v in reversed(list(mapping.items())):
        out = f"IF({expr}={k},{v},{out})"
    return out


def any_equal(expr, values):
    values = list(values)
    if not values:
        return "FALSE"
    if len(values) == 1:
        return f"{expr}={values[0]}"
    return "OR(" + ",".join(f"{expr}={v}" for v in values) + ")"


def array_const(values):
    return "{" + ",".join(str(v) for v in values) + "}"


# ---------------------------------------------------------------------- plan
@dataclass
class Instance:
    """One possible flag: code, field key, message cell, severity (constant or cell)."""

    code: str
    field: str
    msg: str  # plan cell name
    severity: str  # "error" / "warning" or a plan cell name holding it
    const_severity: bool = True


@dataclass
class Plan:
    cells: dict = field(default_factory=dict)  # name -> formula body (without "=")
    instances: list = field(default_factory=list)
    outputs: dict = field(default_factory=dict)  # contract name -> plan cell name
    field_flags: dict = field(default_factory=dict)  # input key -> [Instance]

    def add(self, name, body):
        if name in self.cells:
            raise ValueError(f"duplicate plan cell {name}")
        self.cells[name] = body
        return f"[[{name}]]"

    def refs(self, name):
        return set(_REF.findall(self.cells[name]))


def render(body, resolve):
    """Replace ``[[name]]`` by ``resolve(name)``; returns the formula with its ``=``."""
    return "=" + _REF.sub(lambda m: resolve(m.group(1)), body)


# ---------------------------------------------------------------------- engine probes
_PROBE_TEXT = "\u0001?"


def expected_text(fn, probe=_PROBE_TEXT):
    """The Chinese "expected" wording the engine's parser gives for a bad value."""
    try:
        fn(probe)
    except parse.Unreadable as e:
        return e.expected
    raise AssertionError(f"parser accepted probe {probe!r}")


def blank_words():
    """Texts the engine reads as blank (besides the empty cell), after folding."""
    return [w for w in parse.BLANK_WORDS if w and parse.is_blank(w)]


IDEO_SPACE = "\u3000"
DIGITS = "0123456789"
SCAN = parse.MAX_DIGITS  # characters a charset check scans


FOLD_PAIRS = sorted(parse.FOLD.items())
FOLD_SPLIT = len(FOLD_PAIRS) // 2  # each half nests < 64 functions (Excel's limit)


def fold_chain(x, pairs):
    """SUBSTITUTE(…(x, wide, narrow)…) over ``pairs``."""
    out = x
    for wide, narrow in pairs:
        out = f"SUBSTITUTE({out},{lit(wide)},{lit(narrow)})"
    return out


def fold_expr(x):
    """parse.fold as one formula (for short use; a Builder splits it over two cells)."""
    return "TRIM(" + fold_chain(fold_chain(f"{x}&\"\"", FOLD_PAIRS[:FOLD_SPLIT]),
                                 FOLD_PAIRS[FOLD_SPLIT:]) + ")"


def in_set(ch, chars):
    """One character ``ch`` (an expression) is one of ``chars`` (never FIND with "")."""
    return f"AND(LEN({ch})=1,ISNUMBER(FIND({ch},{lit(chars)})))"


def only_chars(x, chars, pad="0"):
    """Every character of ``x`` (at most SCAN long) is in ``chars``; ``pad`` must be in chars."""
    idx = array_const(range(1, SCAN + 1))
    return (f"AND(LEN({x})<={SCAN},SUMPRODUCT(--ISERROR(FIND(MID({x}&REPT({lit(pad)},{SCAN}),"
            f"{idx},1),{lit(chars)})))=0)")


def key_expr(t):
    """parse._key as a formula: lower case, no spaces (t is already folded)."""
    return f"LOWER(SUBSTITUTE({t},\" \",\"\"))"


def key_of_word(w):
    return parse._key(w)


def uscc_templates():
    """The problem sentences of uscc.problem, as templates with {n} {ch} {pair} {div}
    {want} {got} (probed from the engine, so the wording has one home)."""
    short = uscc_problem("0" * 7)
    assert short.count("7") == 1
    bad = uscc_problem("I" + "0" * 17)
    assert bad.count("I") == 1
    first17 = "91" + "0" * 15
    want = check_char(first17)
    got = "1" if want != "1" else "2"
    wrong = uscc_problem(first17 + got)
    assert wrong.count(want) == 1 and wrong.count(got) == 1 and want != got
    pair = uscc_problem("WW" + "0" * 16)
    assert pair.count("WW") == 1
    div = uscc_problem("91WWWWWW" + "0" * 10)
    assert div.count("WWWWWW") == 1
    return (short.replace("7", "{n}"), bad.replace("I", "{ch}"),
            wrong.replace(want, "{want}", 1).replace(got, "{got}", 1),
            pair.replace("WW", "{pair}"), div.replace("WWWWWW", "{div}"))


# ---------------------------------------------------------------------- builder
class Builder:
    """Builds a Plan for one form of one campaign."""

    def __init__(self, campaign, form):
        self.c = campaign
        self.form = form
        self.p = Plan()
        self.labels = field_labels(campaign, form)
        self.E23 = campaign.decisions.get("unreadable_value_code", "E23")
        self.guard = None  # optional "row is empty" cell: every flag is "" then

    # -- inputs ------------------------------------------------------------------------
    def inp(self, key):
        return f"[[in:{key}]]"

    def folded(self, key):
        """Cell ``t:key``: the input folded as parse.fold folds it."""
        name = f"t:{key}"
        if name not in self.p.cells:
            x = self.inp(key)
            # numbers and empty cells skip the chains (recalculation time)
            half = self.p.add(f"a:{key}", f"IF(OR(ISNUMBER({x}),{x}=\"\"),\"\","
                              + fold_chain(f"{x}&\"\"", FOLD_PAIRS[:FOLD_SPLIT]) + ")")
            self.p.add(name, f"IF(ISNUMBER({x}),{x}&\"\",IF({x}=\"\",\"\",TRIM("
                       + fold_chain(half, FOLD_PAIRS[FOLD_SPLIT:]) + ")))")
        return f"[[{name}]]"

    def blank_expr(self, key):
        t = self.folded(key)
        return any_equal(t, [lit("")] + [lit(w) for w in blank_words()])

    def text_number(self, key, unit):
        """parse.number of the folded text as a formula: a number, or "" when unreadable.

        Commas and spaces go; the longest unit word the field accepts (parse.suffix_factor)
        is cut off the end; what is left must be [+-] digits with at most one inner dot."""
        t, x = self.folded(key), self.inp(key)
        s = self.p.add(f"s:{key}", f"IF(ISNUMBER({x}),\"\",SUBSTITUTE(SUBSTITUTE({t},\",\",\"\"),\" \",\"\"))")
        accepted = [(sfx, parse.suffix_factor(sfx, unit)) for sfx in parse.SUFFIXES]
        accepted = [(sfx, f) for sfx, f in accepted if f is not None]
        sl, sf = "0", "1"
        for sfx, f in reversed(accepted):  # longest first wins
            hit = f"RIGHT({s},{len(sfx)})={lit(sfx)}"
            sl = f"IF({hit},{len(sfx)},{sl})"
            sf = f"IF({hit},{num(f)},{sf})"
        sl = self.p.add(f"sl:{key}", f"IF({s}=\"\",0,{sl})")
        sf = self.p.add(f"sf:{key}", f"IF({s}=\"\",1,{sf})")
        core = self.p.add(f"c:{key}", f"LEFT({s},LEN({s})-{sl})")
        unsigned = f"IF(OR(LEFT({core},1)=\"+\",LEFT({core},1)=\"-\"),MID({core},2,{LEN_MAX}),{core})"
        digits = f"SUBSTITUTE({unsigned},\".\",\"\",1)"
        ok = (f"AND(LEN({digits})>0,LEN({core})<={parse.MAX_DIGITS},RIGHT({core},1)<>\".\","
              f"{only_chars(digits, DIGITS)})")
        return f"IF({ok},VALUE({core})*{sf},\"\")"

    def text_date(self, key):
        """parse.date of the folded text as a formula: a serial, or "" when unreadable."""
        t, x = self.folded(key), self.inp(key)
        dp = self.p.add(f"dp:{key}", f"IF(ISNUMBER({x}),\"\",LEFT({t},FIND(\" \",{t}&\" \")-1))")
        clock = f"MID({t},LEN({dp})+2,{LEN_MAX})"
        clock_ok = f"OR({clock}=\"\",AND({only_chars(clock, DIGITS + ':')},ISNUMBER(FIND(\":\",{clock}))))"
        rest = f"MID({dp},6,{LEN_MAX})"
        two = in_set(f"MID({rest},2,1)", DIGITS)
        dr = f"MID({rest},IF({two},4,3),{LEN_MAX})"
        dd = f"IF(RIGHT({dr},1)={lit(parse.DATE_END)},LEFT({dr},LEN({dr})-1),{dr})"
        general = (f"AND(LEN({dp})>=8,{only_chars(f'LEFT({dp},4)', DIGITS)},"
                   f"{in_set(f'MID({dp},5,1)', parse.DATE_SEP1)},{in_set(f'LEFT({rest},1)', DIGITS)},"
                   f"{in_set(f'MID({rest},IF({two},3,2),1)', parse.DATE_SEP2)},"
                   f"LEN({dd})>=1,LEN({dd})<=2,{only_chars(dd, DIGITS)})")
        g = self.p.add(f"dg:{key}", f"IF({dp}=\"\",0,IF({clock_ok},IF({general},1,IF(AND(LEN({dp})=8,"
                                    f"{only_chars(dp, DIGITS)}),8,IF(AND(LEN({dp})=5,"
                                    f"{only_chars(dp, DIGITS)}),5,0))),0))")
        y = f"VALUE(LEFT({dp},4))"
        m = f"IF({g}=8,VALUE(MID({dp},5,2)),VALUE(IF({two},LEFT({rest},2),LEFT({rest},1))))"
        d = f"IF({g}=8,VALUE(MID({dp},7,2)),VALUE({dd}))"
        ym = self.p.add(f"dy:{key}", f"IF(OR({g}=1,{g}=8),{y}*100+{m},0)")
        yy, mm = f"INT({ym}/100)", f"MOD({ym},100)"
        dday = self.p.add(f"dd:{key}", f"IF(OR({g}=1,{g}=8),{d},0)")
        valid = (f"AND({yy}>={parse.MIN_YEAR},{mm}>=1,{mm}<=12,{dday}>=1,"
                 f"{dday}<=DAY(DATE({yy},{mm}+1,0)))")
        return (f"IF({g}=5,VALUE({dp}),IF(OR({g}=1,{g}=8),IF({valid},DATE({yy},{mm},{dday}),"
                f"\"\"),\"\"))")

    def parsed(self, key, kind, **kw):
        """Cells ``v:key`` (the clean value or "") and ``u:key`` (the E23 message or "")."""
        x, b = self.inp(key), self.blank_expr(key)
        t = self.folded(key)
        raw_shown = f"{x}&\"\""
        spec = self.c.flags[self.E23]

        def e23(expected):
            return template(spec["message"], {"label": Const(self.labels.get(key, key)),
                                              "value": raw_shown,
                                              "expected": Const(expected)}, spec)

        if kind == "text":
            v, ok = f"IF({b},\"\",{t})", None
            u = '""'
        elif kind == "uscc":
            v = f"IF({b},\"\",UPPER(SUBSTITUTE({t},\" \",\"\")))"
            u = '""'
        elif kind in ("number", "integer", "date", "part"):
            lo, hi = kw.get("min"), kw.get("max")
            tn = self.text_date(key) if kind == "date" else self.text_number(key, kw.get("unit"))
            words = kw.get("words") or {}
            if words:  # N1's words (rubric.read_part): exact folded text
                word_v = switch(t, {lit(k): num(v) for k, v in words.items()})
                word_ok = any_equal(t, [lit(k) for k in words])
                tn = f"IF({word_ok},{word_v},{tn})"
            n = self.p.add(f"n:{key}", f"IF({b},\"\",IF(ISNUMBER({x}),{x},{tn}))")
            cond = []
            if kind == "integer":
                cond.append(f"{n}=INT({n})")
            if kind == "date":
                cond += [f"{n}>=1", f"{n}<{parse.MAX_SERIAL + 1}"]
            if lo is not None:
                cond.append(f"{n}>={num(lo)}")
            if hi is not None:
                cond.append(f"{n}<={num(hi)}")
            ok = "AND(" + ",".join(cond) + ")" if cond else "TRUE"
            value = f"INT({n})" if kind == "date" else n
            bad_text = e23(kw["expected_text"])
            bad_num = e23(kw.get("expected_range", kw["expected_text"]))
            v = f"IF({n}=\"\",\"\",IF({ok},{value},\"\"))"
            u = f"IF({b},\"\",IF({n}=\"\",{bad_text},IF({ok},\"\",{bad_num})))"
        elif kind == "choice":
            # typed text -> canonical value (Excel expr); compared as parse._key compares
            # (lower case, no spaces), whatever the spreadsheet's case-sensitivity setting
            mapping = {}
            for k, val in kw["mapping"].items():
                mapping.setdefault(key_of_word(k), val)
            k = self.p.add(f"k:{key}", key_expr(t))
            v = f"IF({b},\"\",{switch(k, {lit(w): val for w, val in mapping.items()})})"
            ok = any_equal(k, [lit(w) for w in mapping])
            u = f"IF({b},\"\",IF({ok},\"\",{e23(kw['expected_text'])}))"
        elif kind == "level":
            mapping = {}
            for w, val in kw["mapping"].items():
                mapping.setdefault(key_of_word(w), val)
            ranks = kw["ranks"]
            k = self.p.add(f"k:{key}", key_expr(t))
            v = (f"IF({b},\"\",IF(ISNUMBER({x}),IF({any_equal(x, ranks)},{x},\"\"),"
                 f"{switch(k, {lit(w): val for w, val in mapping.items()})}))")
            ok = f"IF(ISNUMBER({x}),{any_equal(x, ranks)},{any_equal(k, [lit(w) for w in mapping])})"
            u = f"IF({b},\"\",IF({ok},\"\",{e23(kw['expected_text'])}))"
        elif kind == "report_use":
            v, u = self.report_use_cells(key, b, t), '""'

        else:
            raise ValueError(kind)
        self.p.add(f"v:{key}", v)
        if u != '""':
            self.p.add(f"u:{key}", u)
            self.instance(self.E23, key, f"u:{key}", direct=True)
        return f"[[v:{key}]]"

    def V(self, key):
        return f"[[v:{key}]]"

    def report_use_cells(self, key, b, t):
        """parse.read_report_use as formulas: the value, and ``why:key`` ("negated",
        "unclear" or "") for E24. A choice or a "none" word is exact; otherwise the words of
        flags.E24 are looked for in the text (FIND, never with an empty needle)."""
        words = parse.report_use_words(self.c)
        k = self.p.add(f"k:{key}", key_expr(t))
        mapping = {}
        for w, val in list(words["choices"].items()) + [(w, "无") for w in words["none_words"]]:
            mapping.setdefault(key_of_word(w), lit(val))
        exact = any_equal(k, [lit(w) for w in mapping])

        def has(name):
            ws = [key_of_word(w) for w in words[name] if key_of_word(w)]
            return "OR(" + ",".join(f"ISNUMBER(FIND({lit(w)},{k}))" for w in ws) + ")" \
                if ws else "FALSE"
        neg, st, mg, un = (has(n) for n in ("negation_words", "strategy_words",
                                              "management_words", "unclear_words"))
        why = self.p.add(f"why:{key}", f"IF({b},\"\",IF({exact},\"\",IF({neg},\"negated\","
                                        f"IF(OR({un},NOT(OR({st},{mg}))),\"unclear\",\"\"))))")
        return (f"IF({b},\"\",IF({exact},{switch(k, {lit(w): val for w, val in mapping.items()})},IF({why}=\"negated\",\"无\","
                f"IF({why}=\"unclear\",IF({mg},\"管理\",\"无\"),IF({st},\"战略\",\"管理\")))))")

    def unreadable(self, key):
        """Excel condition: the field's value could not be read (E23 fired)."""
        if f"u:{key}" in self.p.cells:
            return f"[[u:{key}]]<>\"\""
        return "FALSE"

    def parse_field(self, f):
        c = self.c
        fn = _parser(f, c)
        if f.type in ("text", "mobile", "email"):
            return self.parsed(f.key, "text")
        if f.type == "uscc":
            return self.parsed(f.key, "uscc")
        if f.type == "report_use":
            return self.parsed(f.key, "report_use")
        if f.type in ("number", "integer", "date"):
            kw = {"expected_text": expected_text(fn), "unit": f.unit}
            if f.type == "number" and (f.min is not None or f.max is not None):
                kw["expected_range"] = expected_text(fn, (f.max or 0) + 1e6)
                kw["min"], kw["max"] = f.min, f.max
            return self.parsed(f.key, f.type, **kw)
        if f.type == "category":
            mapping = {}
            for cat in c.categories:
                for name in (cat.name,) + cat.variants:
                    mapping[name] = lit(cat.name)
            return self.parsed(f.key, "choice", mapping=mapping, expected_text=expected_text(fn))
        if f.type == "level":
            mapping = {}
            for lv in c.levels:
                for name in sorted(parse.level_words(lv)):
                    mapping.setdefault(name, num(lv.rank))
            return self.parsed(f.key, "level", mapping=mapping,
                               ranks=[num(lv.rank) for lv in c.levels],
                               expected_text=expected_text(fn))
        if f.type == "choice":
            return self.parsed(f.key, "choice", mapping=yesno_mapping(c, f.choices),
                               expected_text=expected_text(fn))
        raise ValueError(f.type)

    # -- flags -------------------------------------------------------------------------
    def instance(self, code, fld, body_or_cell, severity=None, direct=False):
        """Register a flag instance. ``severity`` None = the flag's own; or an Excel expr."""
        spec = self.c.flags[code]
        if direct:
            cell = body_or_cell
        else:
            cell = f"m:{code}:{fld}"
            body = body_or_cell
            if self.guard:
                body = f"IF({self.guard},\"\",{body})"
            self.p.add(cell, body)
        if direct and self.guard:
            # E23 cells are built before the guard is known to apply; wrap them here.
            self.p.cells[cell] = f"IF({self.guard},\"\",{self.p.cells[cell]})"
        if severity is None:
            inst = Instance(code, fld, cell, spec["severity"])
        else:
            scell = f"s:{code}:{fld}"
            self.p.add(scell, f"IF([[{cell}]]=\"\",\"\",{severity})")
            inst = Instance(code, fld, cell, scell, const_severity=False)
        self.p.instances.append(inst)
        return inst

    def msg(self, code, variant="message", **params):
        spec = self.c.flags[code]
        return template(spec[variant], params, spec)

    def finish_flags(self):
        """Sort instances as the engine sorts flags; add flags, flag_text and counts."""
        self.p.instances.sort(key=lambda i: (i.code, i.field))
        codes, texts, errs, warns = [], [], [], []
        for i in self.p.instances:
            m = f"[[{i.msg}]]"
            codes.append(f"IF({m}=\"\",\"\",\" {i.code}\")")
            texts.append(f"IF({m}=\"\",\"\",{NL}&{m})")
            if i.const_severity:
                (errs if i.severity == "error" else warns).append(f"({m}<>\"\")")
            else:
                errs.append(f"([[{i.severity}]]=\"error\")")
                warns.append(f"([[{i.severity}]]=\"warning\")")
            self.p.field_flags.setdefault(i.field, []).append(i)
        self.p.add("flags", "TRIM(" + self.chunked("codes", codes, "&") + ")")
        self.p.add("flag_text", "MID(" + self.chunked("texts", texts, "&") + ",2,32767)")
        self.p.add("error_count", self.count("errs", errs))
        self.p.add("warning_count", self.count("warns", warns))
        self.p.add("status", self.status_expr("[[error_count]]", "[[warning_count]]"))
        for k in ("flags", "flag_text", "error_count", "warning_count", "status"):
            self.p.outputs[k] = k

    def count(self, name, terms):
        """Sum of condition terms as a number: one term alone is a logical, which Excel's SUM
        skips and joins as "TRUE" (LibreOffice: 1), so it is wrapped in N() (issue 11)."""
        if not terms:
            return "0"
        body = self.chunked(name, terms, "+")
        return f"N({body})" if len(terms) == 1 else body

    def chunked(self, name, terms, op, size=CHUNK):
        """Join terms with ``op``; long lists go through helper cells (Excel: 8192 chars)."""
        if len(terms) <= size:
            return op.join(terms)
        refs = []
        for i in range(0, len(terms), size):
            refs.append(self.p.add(f"{name}:{i // size}", op.join(terms[i:i + size])))
        return op.join(refs)

    def status_expr(self, e, w):
        from xl_addin.rules.engine import Evaluation
        ok = Evaluation({}).status
        probe = Evaluation({}, flags=[_FakeFlag("error")] * 7 + [_FakeFlag("warning")] * 9).status
        assert probe.count("7") == 1 and probe.count("9") == 1
        before, rest = probe.split("7")
        middle, after = rest.split("9")
        body = "&".join(p for p in (lit(before) if before else "", e, lit(middle), w,
                                    lit(after) if after else "") if p)
        return f"IF({e}+{w}=0,{lit(ok)},{body})"

    # -- shared checks -------------------------------------------------------------------
    def shown_number(self, v):
        return f"IF({v}=\"\",{lit(BLANK)},{v}&\"\")"

    def level_word(self, rank_expr, attr="applied"):
        return switch(rank_expr, {num(lv.rank): lit(getattr(lv, attr)) for lv in self.c.levels})

    def level_name(self, rank_expr):
        """campaign.level_name: "" (None) → 无法评定, 0 → 不达标."""
        named = switch(rank_expr, {num(lv.rank): lit(lv.name) for lv in self.c.levels},
                       lit(self.c.no_level))
        return f"IF({rank_expr}=\"\",{lit(self.c.level_name(None))},{named})"

    def stars_word(self, rank_expr):
        return switch(rank_expr, {num(lv.rank): lit(lv.stars) for lv in self.c.levels},
                      lit(self.c.no_level))

    def cap_of(self, cat_expr):
        return switch(cat_expr, {lit(ct.name): num(ct.cap) for ct in self.c.categories})

    def in_categories(self, cat_expr, code):
        cats = self.c.flags[code]["categories"]  # the same setting checks.applies reads
        return any_equal(cat_expr, [lit(x) for x in cats])

    def e14(self):
        cat, lv = self.V("category"), self.V("level")
        cap = self.p.add("cap", f"IF({cat}=\"\",\"\",{self.cap_of(cat)})")
        body = (f"IF(OR({cat}=\"\",{lv}=\"\"),\"\",IF({lv}>{cap},"
                + self.msg("E14", category=cat, cap=self.level_word(cap),
                           level=self.level_word(lv)) + ",\"\"))")
        self.instance("E14", "level", body)

    def e15(self):
        q = self.V("satisfaction")
        spec = self.c.flags["E15"]
        m = self.msg('E15', value=q + AMP_EMPTY)
        body = f"IF({q}=\"\",\"\",IF({q}<{num(spec['min'])},{m},\"\"))"
        self.instance("E15", "satisfaction", body)

    def e16(self):
        v = self.V("uscc")
        u = self.p.add("uscc_clean", f"SUBSTITUTE({v},\"-\",\"\")")
        short, bad, wrong, pair_t, div_t = uscc_templates()
        alpha = lit(ALPHABET)
        idx = array_const(range(1, LENGTH + 1))
        rev = array_const(LENGTH + 1 - i for i in range(1, LENGTH + 1))
        nbad = f"SUMPRODUCT(--ISERROR(FIND(MID({u},{idx},1),{alpha})))"
        pairs = lit("," + ",".join(PAIRS) + ",")
        pair_ok = f"ISNUMBER(FIND(\",\"&LEFT({u},2)&\",\",{pairs}))"
        div = f"MID({u},{DIVISION.start + 1},{DIVISION.stop - DIVISION.start})"
        div_ok = f"SUMPRODUCT(--ISERROR(FIND(MID({div},{array_const(range(1, DIVISION.stop - DIVISION.start + 1))},1),\"0123456789\")))=0"
        first_bad = f"({LENGTH + 1}-SUMPRODUCT(MAX(ISERROR(FIND(MID({u},{idx},1),{alpha}))*{rev})))"
        total = (f"SUMPRODUCT((FIND(MID({u},{array_const(range(1, LENGTH))},1),{alpha})-1)"
                 f"*{array_const(WEIGHTS)})")
        want = self.p.add("uscc_want", f"IF(OR({v}=\"\",LEN({u})<>{LENGTH}),\"\",IF({nbad}>0,\"\","
                          f"MID({alpha},MOD(31-MOD({total},31),31)+1,1)))")
        problem = (f"IF(LEN({u})<>{LENGTH},{template(short, {'n': f'LEN({u})'})},"
                   f"IF({nbad}>0,{template(bad, {'ch': f'MID({u},{first_bad},1)'})},"
                   f"IF(NOT({pair_ok}),{template(pair_t, {'pair': f'LEFT({u},2)'})},"
                   f"IF(NOT({div_ok}),{template(div_t, {'div': div})},"
                   f"IF(RIGHT({u},1)<>{want},{template(wrong, {'want': want, 'got': f'RIGHT({u},1)'})},\"\")))))")
        pr = self.p.add("uscc_problem", f"IF({v}=\"\",\"\",{problem})")
        body = f"IF({pr}=\"\",\"\",{self.msg('E16', value=v, problem=pr)})"
        self.instance("E16", "uscc", body)

    def e20(self, list_name):
        spec = self.c.flags["E20"]
        cat = self.V("category")
        optional = [ct.name for ct in self.c.categories if not ct.project_required]
        for key in spec[list_name]:
            cond = f"AND({self.V(key)}=\"\",NOT({self.unreadable(key)}))"
            if key == "project_name" and optional:
                cond = f"AND({cond},NOT({any_equal(cat, [lit(x) for x in optional])}))"
            body = f"IF({cond},{self.msg('E20', label=Const(self.labels.get(key, key)))},\"\")"
            self.instance("E20", key, body)

    def e30(self, star):
        cat, lv, q = self.V("category"), self.V("level"), self.V("satisfaction")
        body = (f"IF(OR({lv}=\"\",{q}=\"\",{cat}=\"\"),\"\",IF({lv}>{star['ach']},"
                + self.msg("E30", level=self.level_word(lv), achievable=self.level_name(star["ach"]),
                           reason=star["failed"]) + ",\"\"))")
        if star.get("present"):
            body = f"IF({star['present']},{body},\"\")"
        self.instance("E30", "level", body)

    def pattern_ok(self, code, v):
        """The campaign's regex for E21 / E28 as an Excel condition (supported shapes only)."""
        pat = self.c.flags[code]["pattern"]
        m = re.fullmatch(r"\^(\d*)\[0-9\]\{(\d+)\}\$", pat)
        if m:
            prefix, n = m.group(1), int(m.group(2))
            total = len(prefix) + n
            idx = array_const(range(len(prefix) + 1, total + 1))
            return (f"AND(LEN({v})={total},LEFT({v},{len(prefix)})={lit(prefix)},"
                    f"SUMPRODUCT(--ISERROR(FIND(MID({v},{idx},1),\"0123456789\")))=0)") \
                if prefix else (f"AND(LEN({v})={total},"
                                f"SUMPRODUCT(--ISERROR(FIND(MID({v},{idx},1),\"0123456789\")))=0)")
        if pat == r"^[^@\s]+@[^@\s]+\.[^@\s]+$":
            at = f"FIND(\"@\",{v})"
            dom = f"MID({v},{at}+1,{LEN_MAX})"
            return (f"IF(LEN({v})-LEN(SUBSTITUTE({v},\"@\",\"\"))<>1,FALSE,"
                    f"IF(ISNUMBER(FIND(\" \",{v})),FALSE,IF({at}=1,FALSE,IF(LEN({dom})<3,FALSE,"
                    f"ISNUMBER(FIND(\".\",MID({dom},2,LEN({dom})-2)))))))")
        raise NotImplementedError(f"{code}: pattern {pat!r} has no in-sheet translation")

    def pattern_check(self, code, key):
        v = self.V(key)
        body = f"IF({v}=\"\",\"\",IF({self.pattern_ok(code, v)},\"\",{self.msg(code, value=v)}))"
        self.instance(code, key, body)

    def e22(self, deadline):
        d = self.V("fill_date")
        earliest = self.c.flags["E22"]["earliest"]
        body = (f"IF({d}=\"\",\"\",IF({d}>{date_lit(deadline)},"
                + self.msg("E22", value=f"TEXT({d},\"{DATE_FMT}\")", limit=Const(show(deadline)))
                + f",IF({d}<{date_lit(earliest)},"
                + self.msg("E22", "early_message", value=f"TEXT({d},\"{DATE_FMT}\")")
                + ",\"\")))")
        self.instance("E22", "fill_date", body)

    # -- star level (walks campaign.stars as stars.evaluate does) ------------------------
    def star(self, facts, applied):
        """facts: star field -> Excel expr or Const. Returns dict of plan refs."""
        c, text = self.c, self.c.star_text
        cat, q = facts["category"], facts["satisfaction"]
        unknown = self.p.add("star_unknown", f"OR({q}=\"\",{cat}=\"\")")

        def shown(name):
            v = facts[name]
            if is_const(v):
                return Const(v or MISSING)
            if name == "satisfaction":
                return f"{v}&\"\""
            return f"IF({v}=\"\",{lit(MISSING)},{v})"

        def holds(cond, level):
            v = facts[cond.field]
            if cond.cap:
                ok = [ct.name for ct in c.categories if ct.cap >= level]
                return any_equal(v, [lit(x) for x in ok]) if not is_const(v) else \
                    ("TRUE" if v in ok else "FALSE")
            if cond.min is not None:
                if is_const(v):
                    raise ValueError("numeric star facts must be cells")
                return f"IF(ISNUMBER({v}),{v}>={num(cond.min)},FALSE)"
            if is_const(v):
                return "TRUE" if v in cond.allowed else "FALSE"
            return any_equal(v, [lit(x) for x in cond.allowed])

        fail_of = {}
        for rule in c.stars:
            hold = "AND(" + ",".join(holds(cd, rule.level) for cd in rule.conditions) + ")"
            self.p.add(f"hold:{rule.rule}", hold)
            body = '""'
            for cd in reversed(rule.conditions):
                fmt = {k: shown(k) for k in facts}
                body = f"IF(NOT({holds(cd, rule.level)}),{template(cd.fail, fmt)},{body})"
            fail_of[rule.level] = self.p.add(f"fail:{rule.rule}", body)
        ach = "0"
        for rule in reversed(c.stars):
            ach = f"IF([[hold:{rule.rule}]],{num(rule.level)},{ach})"
        ach = self.p.add("ach", f"IF({unknown},\"\",{ach})")  # "" = None (无法评定)
        failed = '""'
        levels = sorted({0} | {r.level for r in c.stars})
        for a in reversed(levels):
            above = [r.level for r in c.stars if r.level > a]
            if not above:
                continue
            nxt = min(above)
            sent = template(text["not_met"], {"fail": fail_of[nxt],
                                              "stars": Const(c.level(nxt).stars if c.level(nxt) else c.no_level)})
            failed = f"IF({ach}={num(a)},{sent},{failed})"
        failed = self.p.add("failed", f"IF({unknown},{lit(text['unknown'])},{failed})")
        met_top = template(text["met_top"], {"stars": self.stars_word(ach)})
        if applied is None:
            proposed = self.p.add("proposed", '""')
            reason = f"IF({unknown},{lit(text['unknown'])},IF({failed}<>\"\",{failed},{met_top}))"
        else:
            proposed = self.p.add("proposed", f"IF(OR({applied}=\"\",{unknown}),\"\",MIN({applied},{ach}))")
            capped = template(text["capped_by_applied"], {"applied": self.level_word(applied)})
            reason = (f"IF({unknown},{lit(text['unknown'])},IF({applied}=\"\",IF({failed}<>\"\",{failed},{met_top}),"
                      f"IF({applied}<{ach},{capped},IF({applied}={ach},{met_top},"
                      f"IF({failed}<>\"\",{failed},{met_top})))))")
        reason = self.p.add("level_reason", reason)
        self.p.add("achievable_level", self.level_name(ach))
        self.p.add("proposed_level", f"IF({proposed}=\"\",\"\",{self.level_name(proposed)})")
        return {"ach": ach, "failed": failed, "proposed": proposed, "reason": reason}


class _FakeFlag:
    def __init__(self, severity):
        self.severity = severity


LEN_MAX = 32767


# ---------------------------------------------------------------------- application
def rubric_cells(b):
    """Item, section, base, bonus, total and conclusion cells (S1–S4)."""
    c, rb = b.c, b.c.rubric
    for item in rb.items:
        for part in item.parts:
            fn = lambda v, part=part, item=item: rubric_mod.read_part(part, v, item)  # noqa: E731
            b.parsed(part.key, "part", expected_text=expected_text(fn),
                     words=item.choices or None)
        if item.penalty:
            b.parse_penalty(item.penalty.key)
    b.parse_penalty(rb.veto_key)
    for item in rb.items:
        vals = [b.V(p.key) for p in item.parts]
        if item.kind == "errors":
            v = vals[0]
            total = f"IF({v}=\"\",{num(item.max)},MAX(0,{num(item.max)}-{v}))"
        else:
            total = "SUM(" + ",".join(vals) + ")"
        if item.penalty:
            total = f"IF({b.V(item.penalty.key)}=\"是\",MAX(0,{total}-{num(item.penalty.points)}),{total})"
        b.p.add(f"item:{item.id}", total)
    for sec in rb.sections:
        items = [f"[[item:{i.id}]]" for i in rb.items_of(sec.id)]
        b.p.add(f"sec:{sec.id}", "+".join(items) if items else "0")
    base = "+".join(f"[[sec:{s.id}]]" for s in rb.sections if not s.bonus) or "0"
    bonus = "+".join(f"[[sec:{s.id}]]" for s in rb.sections if s.bonus) or "0"
    b.p.add("se_base", base)
    b.p.add("se_bonus", bonus)
    b.p.add("se_total", "[[se_base]]+[[se_bonus]]" if c.decisions.get("bonus_counts", True)
            else "[[se_base]]")
    veto = b.p.add("veto", f"IF({b.V(rb.veto_key)}=\"\",\"否\",{b.V(rb.veto_key)})")
    b.p.add("se_conclusion", conclusion_expr(c, "[[se_total]]", veto))
    for k in ("se_base", "se_bonus", "se_total", "se_conclusion"):
        b.p.outputs[k] = k


def conclusion_expr(c, total, veto=None):
    concl = c.rubric.conclusions
    out = lit(concl[-1][0])
    for name, minimum in reversed(concl[:-1]):
        out = f"IF({total}>={num(minimum)},{lit(name)},{out})"
    if veto is not None:
        out = f"IF({veto}=\"是\",{lit(concl[-1][0])},{out})"
    return out


def yesno_mapping(c, choices):
    """Typed word -> canonical choice for a choice list: its own options, and for 是/否 and
    有/无 also the engine's variants (√, Y, 1, 不是 … — parse.CHOICE_WORDS)."""
    mapping = {o: lit(o) for o in c.choices[choices]}
    words = parse.CHOICE_WORDS.get("hasnot" if choices == "risk" else choices, {})
    for canon, variants in words.items():
        for w in sorted(variants):
            mapping.setdefault(w, lit(canon))
    return mapping


def _parse_penalty(self, key):
    return self.parsed(key, "choice", mapping=yesno_mapping(self.c, "yesno"),
                       expected_text=expected_text(parse.yesno))


Builder.parse_penalty = _parse_penalty


def application_plan(campaign=None):
    """The plan of the application workbook (inputs ``in:<key>``, plus ``in:respondents_listed``).

    Returns:
        Plan with outputs se_base … warning_count, status and the rubric/section cells.
    """
    c = campaign or load()
    b = Builder(c, "application")
    p = b.p
    for f in c.fields["application"]:
        if f.block != "derived":
            b.parse_field(f)
    rubric_cells(b)
    cat, q = b.V("category"), b.V("satisfaction")
    facts = {"category": cat, "conclusion": "[[se_conclusion]]", "satisfaction": q,
             "report_use": b.V("report_use"),
             "risk": p.add("risk_or_none", f"IF({b.V('risk')}=\"\",\"无\",{b.V('risk')})"),
             "veto": "[[veto]]"}
    star = b.star(facts, b.V("level"))
    for k in ("achievable_level", "proposed_level", "level_reason"):
        p.outputs[k] = k
    _application_checks(b, star)
    b.finish_flags()
    return p


def _in_cat(b, code):
    return b.in_categories(b.V("category"), code)


def _missing_or(b, code, key, cond_bad, field=None, **params):
    """IF unreadable → ""; blank → missing message; cond_bad → message."""
    v = b.V(key)
    spec = b.c.flags[code]
    miss = b.msg(code, "missing", **{k: p for k, p in params.items()
                                     if k in _placeholders(spec.get("missing", ""))})
    body = (f"IF({b.unreadable(key)},\"\",IF({v}=\"\",{miss},"
            f"IF({cond_bad},{b.msg(code, **params)},\"\")))")
    return body


def _placeholders(text):
    return {n for _, n, _, _ in string.Formatter().parse(text) if n}


def _application_checks(b, star):
    c, V = b.c, b.V
    d = lambda key: f"TEXT({V(key)},\"{DATE_FMT}\")"  # noqa: E731
    # E01
    lim = c.flags["E01"]["established_by"]
    b.instance("E01", "established_date", _missing_or(
        b, "E01", "established_date", f"{V('established_date')}>{date_lit(lim)}",
        value=d("established_date"), limit=Const(show(lim))))
    # E02
    for i, key in enumerate(("revenue_y1", "revenue_y2", "revenue_y3")):
        year = Const(str(c.year - 3 + i))
        b.instance("E02", key, _missing_or(b, "E02", key, f"{V(key)}<=0",
                                           value=f"{V(key)}&\"\"", year=year))
    # E03
    lim = c.flags["E03"]["survey_from"]
    b.instance("E03", "survey_start", _missing_or(
        b, "E03", "survey_start", f"{V('survey_start')}<{date_lit(lim)}",
        value=d("survey_start"), limit=Const(show(lim))))
    # E04, E05 (must be 是 / 无)
    for code in ("E04", "E05"):
        key, wanted = c.flags[code]["field"], c.flags[code]["wanted"]
        b.instance(code, key, _missing_or(b, code, key, f"{V(key)}<>{lit(wanted)}"))
    # E06 (K4): 初评 only — a review type in exempt_review_types is not subject to it
    exempt = any_equal(V("review_type"), [lit(x) for x in c.flags["E06"]["exempt_review_types"]])
    b.instance("E06", "prior_pass",
               f"IF(OR(NOT({_in_cat(b, 'E06')}),{exempt}),\"\",IF(OR({V('prior_pass')}=\"是\",{V('credit_a')}=\"是\"),"
               f"\"\",{b.msg('E06', since=Const(show(c.flags['E06']['credit_a_since'])))}))")
    # E07 with EDATE from the reference date (C6)
    spec = c.flags["E07"]
    ref = date_lit(c.reference_date)
    earliest = f"EDATE({ref},{-12 * spec['max_years']})"
    latest = f"EDATE({ref},{-12 * spec['min_years']})"
    dd = V("delivery_date")
    b.instance("E07", "delivery_date",
               f"IF(NOT({_in_cat(b, 'E07')}),\"\","
               + _missing_or(b, "E07", "delivery_date", f"OR({dd}<{earliest},{dd}>{latest})",
                             value=d("delivery_date"), earliest=f"TEXT({earliest},\"{DATE_FMT}\")",
                             latest=f"TEXT({latest},\"{DATE_FMT}\")",
                             reference=Const(show(c.reference_date))) + ")")
    # E08
    spec = c.flags["E08"]
    t, area, cost = V("eng_type"), V("area"), V("cost")
    big = (f"OR(IF(ISNUMBER({area}),{area}>={num(spec['min_area'])},FALSE),"
           f"IF(ISNUMBER({cost}),{cost}>={num(spec['min_cost'])},FALSE))")
    params = dict(eng_type=t, area=b.shown_number(area), cost=b.shown_number(cost))
    strict = any_equal(t, [lit(x) for x in spec["strict"]])
    relaxed = any_equal(t, [lit(x) for x in spec["relaxed"]])
    gate = f"OR(NOT({_in_cat(b, 'E08')}),{b.unreadable('eng_type')},{t}=\"\")"
    b.instance("E08", "area",
               f"IF({gate},\"\",IF({big},\"\",IF({strict},{b.msg('E08', **params)},"
               f"IF({relaxed},{b.msg('E08', 'relaxed_message', **params)},\"\"))))",
               severity=f"IF({strict},{lit(spec['severity'])},{lit(spec['relaxed_severity'])})")
    b.instance("E08", "eng_type",
               f"IF(NOT({_in_cat(b, 'E08')}),\"\",IF({b.unreadable('eng_type')},\"\","
               f"IF({t}=\"\",{b.msg('E08', 'missing')},IF(OR({strict},{relaxed}),\"\","
               f"{b.msg('E08', 'other_message', **params)}))))",
               severity=f"IF({t}=\"\",{lit(spec['severity'])},{lit(spec['other_severity'])})")
    # E09, E10
    for code in ("E09", "E10"):
        key, wanted = c.flags[code]["field"], c.flags[code]["wanted"]
        b.instance(code, key, f"IF(NOT({_in_cat(b, code)}),\"\","
                   + _missing_or(b, code, key, f"{V(key)}<>{lit(wanted)}") + ")")
    # E11
    pk = V("product_kind")
    excl = any_equal(pk, [lit(x) for x in c.flags["E11"]["excluded"]])
    b.instance("E11", "product_kind", f"IF(NOT({_in_cat(b, 'E11')}),\"\","
               + _missing_or(b, "E11", "product_kind", excl, value=pk) + ")")
    # E12
    name = V("project_name")
    series = "OR(" + ",".join(f"ISNUMBER(FIND({lit(w)},{name}))"
                              for w in c.flags["E12"]["series_words"]) + ")"
    hit = f"AND({name}<>\"\",{series})"
    spec_v = V("model_spec")
    squeeze = lambda e: f"UPPER(SUBSTITUTE({e},\" \",\"\"))"  # noqa: E731 - checks.squeeze
    has_spec = f"ISNUMBER(FIND({squeeze(spec_v)},{squeeze(name)}))"
    b.instance("E12", "project_name",
               f"IF(NOT({_in_cat(b, 'E12')}),\"\",IF({hit},{b.msg('E12', value=name)},"
               f"IF(OR({name}=\"\",{spec_v}=\"\"),\"\",IF({has_spec},\"\","
               f"{b.msg('E12', 'spec_message', value=name, spec=spec_v)}))))")
    b.instance("E12", "model_spec",
               f"IF(NOT({_in_cat(b, 'E12')}),\"\",IF({hit},\"\",IF({V('model_spec')}=\"\","
               f"{b.msg('E12', 'missing')},\"\")))")
    # E13
    ends = "OR(" + ",".join(f"RIGHT({name},{len(s)})={lit(s)}"
                            for s in c.flags["E13"]["institution_suffixes"]) + ")"
    b.instance("E13", "project_name",
               f"IF(NOT({_in_cat(b, 'E13')}),\"\",IF({name}=\"\",\"\",IF({ends},"
               f"{b.msg('E13', value=name)},\"\")))")
    b.e14()
    b.e15()
    b.e16()
    # E17
    spec = c.flags["E17"]
    n, listed = V("respondents"), "[[in:respondents_listed]]"
    needed = f"MIN({n},{num(spec['threshold'])})"
    m17 = b.msg('E17', total=n + AMP_EMPTY, listed=listed + AMP_EMPTY, needed=needed + AMP_EMPTY)
    many = b.msg('E17', 'too_many_message', total=n + AMP_EMPTY, listed=listed + AMP_EMPTY)
    b.instance("E17", "respondents",
               f"IF({b.unreadable('respondents')},\"\",IF({n}=\"\",{b.msg('E17', 'missing')},"
               f"IF({listed}<{needed},{m17},IF({listed}>{n},{many},\"\"))))")
    # E18, E19
    last = lit(c.rubric.conclusions[-1][0])
    m18 = b.msg('E18', value='[[se_total]]' + AMP_EMPTY)
    b.instance("E18", "se_total", f"IF(AND([[veto]]<>\"是\",[[se_conclusion]]={last}),"
               f"{m18},\"\")")
    b.instance("E19", c.rubric.veto_key, f"IF([[veto]]=\"是\",{b.msg('E19')},\"\")")
    b.e20("required")
    b.pattern_check("E21", "contact_mobile")
    b.e22(c.application_deadline)
    # E24: 测量报告应用 in free text, negated or unclear
    spec = c.flags["E24"]
    why = "[[why:report_use]]"
    why_text = f"IF({why}=\"negated\",{lit(spec['negated'])},{lit(spec['unclear'])})"
    m24 = b.msg("E24", value=b.folded("report_use"), reading=V("report_use"), why=why_text)
    b.instance("E24", "report_use", f"IF({why}=\"\",\"\",{m24})")
    # E31: 工程类 须完成验收 — 验收日期 given, not after 交付使用日期
    acc, dd = V("acceptance_date"), V("delivery_date")
    b.instance("E31", "acceptance_date",
               f"IF(NOT({_in_cat(b, 'E31')}),\"\","
               + _missing_or(b, "E31", "acceptance_date", f"AND({dd}<>\"\",{acc}>{dd})",
                             value=d("acceptance_date"), delivery=d("delivery_date")) + ")")
    # E32: survey ends before it starts / starts after the application deadline C2
    ss, se = V("survey_start"), V("survey_end")
    b.instance("E32", "survey_end",
               f"IF(OR({ss}=\"\",{se}=\"\"),\"\",IF({se}<{ss},"
               f"{b.msg('E32', value=d('survey_end'), start=d('survey_start'))},\"\"))")
    dl = c.application_deadline
    b.instance("E32", "survey_start",
               f"IF({ss}=\"\",\"\",IF({ss}>{date_lit(dl)},"
               f"{b.msg('E32', 'late_message', value=d('survey_start'), limit=Const(show(dl)))},\"\"))")
    # E29 (S1): a part outside its allowed values
    step = c.rubric.step
    for part in c.rubric.parts:
        if part.kind == "penalty":
            continue
        v = V(part.key)
        if part.kind == "score":
            ok = "OR(" + ",".join(f"ABS({v}-{num(a)})<1E-9" for a in part.allowed) + ")"
        elif part.kind == "range":
            ok = f"AND({v}>=0,{v}<={num(part.max)},MOD({v},{num(step)})=0)"
        else:  # errors: a whole number ≥ 0
            ok = f"AND({v}>=0,{v}=INT({v}))"
        body = (f"IF({v}=\"\",\"\",IF({ok},\"\","
                + b.msg("E29", label=Const(part_label(c, part)), value=f"{v}&\"\"",
                        allowed=Const(part.allowed_text(step))) + "))")
        b.instance("E29", part.key, body)
    b.e30(star)


# ---------------------------------------------------------------------- 附件3 rows
def row_plan(campaign=None):
    """The plan of one ``recommendations`` row (inputs ``in:<key>`` of recommendation_row).

    Outputs: flags, flag_text, error_count, warning_count, status, achievable_level,
    proposed_level, level_reason, row_conclusion; every flag is "" for an empty row.
    """
    c = campaign or load()
    b = Builder(c, "recommendation_row")
    keys = [f.key for f in c.fields["recommendation_row"]]
    empty = "AND(" + ",".join(f"TRIM({b.inp(k)}&\"\")=\"\"" for k in keys) + ")"
    b.p.add("empty", empty)
    b.guard = "[[empty]]"
    for f in c.fields["recommendation_row"]:
        b.parse_field(f)
    score = b.V("self_score")
    concl = b.p.add("row_conclusion", f"IF({score}=\"\",\"\",{conclusion_expr(c, score)})")
    facts = {"category": b.V("category"), "conclusion": concl,
             "satisfaction": b.V("satisfaction"),
             **{k: Const(v) for k, v in c.decisions["row_best_case"].items()}}  # L5a
    star = b.star(facts, b.V("level"))
    star["present"] = f"{concl}<>\"\""
    b.e14()
    b.e15()
    b.e16()
    b.e20("required_row")
    b.e30(star)
    b.finish_flags()
    for k in ("achievable_level", "proposed_level", "level_reason", "row_conclusion"):
        b.p.outputs[k] = k
    return b.p


def header_plan(campaign=None):
    """The plan of the 附件3 header: E21 (手机), E28 (邮箱), E22 (填表日期 after C3)."""
    c = campaign or load()
    b = Builder(c, "recommender")
    for f in c.fields["recommender"]:
        b.parse_field(f)
    b.e20("required_header")  # 附件3 表头必填 (issue 13)
    b.pattern_check("E21", "filler_mobile")
    b.pattern_check("E28", "filler_email")
    b.e22(c.recommendation_deadline)
    b.finish_flags()
    return b.p
