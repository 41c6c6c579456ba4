"""The plan and its builder: named formula cells for one form of one campaign.

One :class:`Plan` is an ordered set of named formula cells that reference each other and
the input cells as ``[[name]]`` (inputs as ``[[in:key]]``). A form lays the plan out — the
application into a hidden ``_calc`` sheet, a 附件3 row into hidden columns of its row — and
resolves the references to addresses. The :class:`Builder` reads the inputs as the engine
reads them and registers the flag instances; the formula of each E code is written beside
its Python check in :mod:`xl_addin.rules.codes`.

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

from xl_addin.rules import parse, report_use
from xl_addin.rules.checks import BLANK
from xl_addin.rules.engine import _typed_parser, descriptive_keys, field_labels
from xl_addin.rules.expr import (
    DATE_FMT,
    DIGITS,
    LEN_MAX,
    NL,
    Const,
    any_equal,
    array_const,
    is_const,
    lit,
    num,
    switch,
    template,
)
from xl_addin.rules.findings import status_line
from xl_addin.rules.stars import MISSING

_REF = re.compile(r"\[\[([^\]]+)\]\]")
CHUNK = 40  # flag instances per helper cell (Excel formulas ≤ 8192 chars)


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


# ---------------------------------------------------------------------- builder
class Builder:
    """Builds a Plan for one form of one campaign.

    What a code's formula reads besides the inputs mirrors what its check reads in
    checks.Context: ``deadline`` (E22) and ``star_cells`` (E30, set by :meth:`star`).
    """

    def __init__(self, campaign, form, deadline=None):
        self.c = campaign
        self.form = form
        self.p = Plan()
        self.labels = field_labels(campaign, form)
        self.E23 = campaign.decisions.get("unreadable_value_code", "E23")
        self.guard = None  # optional "row is empty" cell: every flag is "" then
        self.deadline = deadline
        self.star_cells = None

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
            # uscc.clean: spaces and hyphens out, lower case read as upper (E16)
            v = f"IF({b},\"\",UPPER(SUBSTITUTE(SUBSTITUTE({t},\" \",\"\"),\"-\",\"\")))"
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
            if kw.get("kept"):  # E34: no E23; cell ``kept:key`` says the value is kept as typed
                self.p.add(f"kept:{key}", f"IF({b},FALSE,IF({n}=\"\",TRUE,NOT({ok})))")
                u = '""'
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
        """测量报告应用 read by its grammar (E24): the formulas of rules.report_use, from the
        same words as the Python reading; ``why:key`` holds "negated", "unclear" or ""."""
        k = self.p.add(f"k:{key}", key_expr(t))
        value, _why = report_use.formula(k, b, report_use.words(self.c), self.p.add, key)
        return value

    def unreadable(self, key):
        """Excel condition: the field's value could not be read (E23 fired)."""
        if f"u:{key}" in self.p.cells:
            return f"[[u:{key}]]<>\"\""
        return "FALSE"

    def parse_field(self, f):
        c = self.c
        fn = _typed_parser(f, c)  # the "expected" words (E34 fields included)
        if f.type in ("text", "mobile", "email"):
            return self.parsed(f.key, "text")
        if f.type == "uscc":
            return self.parsed(f.key, "uscc")
        if f.type == "report_use":
            return self.parsed(f.key, "report_use")
        if f.type in ("number", "integer", "date"):
            kw = {"expected_text": expected_text(fn), "unit": f.unit,
                  "kept": f.key in descriptive_keys(c)}
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
        """Sort instances as the engine sorts flags; add flags, flag_text and counts.

        As findings.code_counts and Result.codes (issue 20 §8): the 问题代码 cell names each
        code once, and the counts count codes — one code found on two fields, or for two
        reasons, is one item."""
        self.p.instances.sort(key=lambda i: (i.code, i.field))
        by_code = {}
        texts = []
        for i in self.p.instances:
            m = f"[[{i.msg}]]"
            texts.append(f"IF({m}=\"\",\"\",{NL}&{m})")
            by_code.setdefault(i.code, []).append(i)
            self.p.field_flags.setdefault(i.field, []).append(i)
        codes, errs, warns = [], [], []
        for code, insts in by_code.items():
            fired = self.any_of(f"has:{code}", [f"[[{i.msg}]]<>\"\"" for i in insts])
            codes.append(f"IF({fired},\" {code}\",\"\")")
            if all(i.const_severity for i in insts):
                sev = {i.severity for i in insts}
                if "error" in sev:
                    errs.append(f"({fired})")
                if sev - {"error"}:
                    warns.append(f"({fired})")
            else:  # a severity that depends on the case (E08): its cells say which
                cells = [f"[[{i.severity}]]" if not i.const_severity else
                         f"IF([[{i.msg}]]=\"\",\"\",{lit(i.severity)})" for i in insts]
                errs.append("(" + any_equal_any(cells, '"error"') + ")")
                warns.append("(" + any_equal_any(cells, '"warning"') + ")")
        self.p.add("flags", "TRIM(" + self.chunked("codes", codes, "&") + ")")
        self.p.add("flag_text", "MID(" + self.chunked("texts", texts, "&") + ",2,32767)")
        self.p.add("error_count", self.count("errs", errs))
        self.p.add("warning_count", self.count("warns", warns))
        self.p.add("status", self.status_expr("[[error_count]]", "[[warning_count]]"))
        for k in ("flags", "flag_text", "error_count", "warning_count", "status"):
            self.p.outputs[k] = k

    def any_of(self, name, conds):
        """Excel: at least one of ``conds`` holds (a helper cell when there are many)."""
        if len(conds) == 1:
            return conds[0]
        if len(conds) <= CHUNK:
            return "OR(" + ",".join(conds) + ")"
        parts = ["OR(" + ",".join(conds[i:i + CHUNK]) + ")" for i in range(0, len(conds), CHUNK)]
        return self.p.add(name, "OR(" + ",".join(parts) + ")")

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
        """The sheet's 状态 cell: rules.findings.status_line as a formula (its words are
        taken from the function, with 7 and 9 standing for the counts)."""
        ok = status_line(0, 0)
        probe = status_line(7, 9)
        assert probe.count("7") == 1 and probe.count("9") == 1
        before, rest = probe.split("7")
        middle, after = rest.split("9")
        body = "&".join(p for p in (lit(before) if before else "", e, lit(middle), w,
                                    lit(after) if after else "") if p)
        return f"IF({e}+{w}=0,{lit(ok)},{body})"

    # -- what the codes' formulas share (rules/codes) ---------------------------------
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

    def applies(self, code):
        """Excel condition: the code applies to the category (checks.Context.applies)."""
        return self.in_categories(self.V("category"), code)

    def shown_date(self, key):
        """A date input as a message shows it (checks.show)."""
        return f"TEXT({self.V(key)},\"{DATE_FMT}\")"

    def missing_or(self, code, key, cond_bad, **params):
        """IF unreadable → ""; blank → the code's missing message; cond_bad → its message."""
        v = self.V(key)
        spec = self.c.flags[code]
        miss = self.msg(code, "missing", **{k: p for k, p in params.items()
                                            if k in _placeholders(spec.get("missing", ""))})
        return (f"IF({self.unreadable(key)},\"\",IF({v}=\"\",{miss},"
                f"IF({cond_bad},{self.msg(code, **params)},\"\")))")

    def parse_penalty(self, key):
        return self.parsed(key, "choice", mapping=yesno_mapping(self.c, "yesno"),
                           expected_text=expected_text(parse.yesno))

    # -- star level (walks campaign.stars as stars.evaluate does) ------------------------
    def star(self, facts, applied, unscored=None):
        """facts: star field -> Excel expr or Const. Returns dict of plan refs.

        ``unscored``: an Excel condition, true while a scoring input cannot be read or is out
        of its allowed values (stars.evaluate's ``scored``): the level is 无法评定 then."""
        c, text = self.c, self.c.star_text
        cat, q = facts["category"], facts["satisfaction"]
        missing = self.p.add("star_unknown", f"OR({q}=\"\",{cat}=\"\")")
        why_text = lit(text["unknown"])
        unknown = missing
        if unscored is not None:
            unknown = self.p.add("star_undetermined", f"OR({missing},{unscored})")
            why_text = f"IF({missing},{why_text},{lit(text.get('unscored', text['unknown']))})"
        why_text = self.p.add("star_why", why_text)

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
        failed = self.p.add("failed", f"IF({unknown},{why_text},{failed})")
        met_top = template(text["met_top"], {"stars": self.stars_word(ach)})
        if applied is None:
            proposed = self.p.add("proposed", '""')
            reason = f"IF({unknown},{why_text},IF({failed}<>\"\",{failed},{met_top}))"
        else:
            proposed = self.p.add("proposed", f"IF(OR({applied}=\"\",{unknown}),\"\",MIN({applied},{ach}))")
            capped = template(text["capped_by_applied"], {"applied": self.level_word(applied)})
            reason = (f"IF({unknown},{why_text},IF({applied}=\"\",IF({failed}<>\"\",{failed},{met_top}),"
                      f"IF({applied}<{ach},{capped},IF({applied}={ach},{met_top},"
                      f"IF({failed}<>\"\",{failed},{met_top})))))")
        reason = self.p.add("level_reason", reason)
        self.p.add("achievable_level", self.level_name(ach))
        # stars.proposed_name: nothing without an applied level, 无法评定 while undetermined
        shown_if = proposed if applied is None else applied
        self.p.add("proposed_level", f"IF({shown_if}=\"\",\"\",{self.level_name(proposed)})")
        self.star_cells = {"ach": ach, "failed": failed, "proposed": proposed, "reason": reason}
        return self.star_cells


def any_equal_any(exprs, value):
    """Excel: one of ``exprs`` equals ``value``."""
    return exprs[0] + "=" + value if len(exprs) == 1 else \
        "OR(" + ",".join(f"{e}={value}" for e in exprs) + ")"


def _placeholders(text):
    return {n for _, n, _, _ in string.Formatter().parse(text) if n}


def yesno_mapping(c, choices):
    """Typed word -> canonical choice for a choice list: its own options, and for 是/否 and
    有/无 also the engine's variants (√, Y, 1, 不是 … — parse.CHOICE_WORDS)."""
    mapping = {o: lit(o) for o in c.choices[choices]}
    words = parse.CHOICE_WORDS.get("hasnot" if choices == "risk" else choices, {})
    for canon, variants in words.items():
        for w in sorted(variants):
            mapping.setdefault(w, lit(canon))
    return mapping
