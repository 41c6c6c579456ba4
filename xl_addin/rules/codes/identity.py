"""Identifiers and contacts: E16 统一社会信用代码 (GB 32100), E21 手机, E28 邮箱.

Each code: its Python check (``check(x)``, x a checks.Context) and its sheet formula
(``formula(b)``, b a sheet.builder.Builder), from the same campaign data. E21 and E28 check
a ``shape`` the campaign writes; :func:`shape_regex` and :func:`shape_formula` both come
from it.
"""

from __future__ import annotations

import re

from xl_addin.rules.codes.base import APPLICATION, RECOMMENDER, ROW, Rule
from xl_addin.rules.expr import DIGITS, LEN_MAX, array_const, lit, template
from xl_addin.rules.uscc import ALPHABET, DIVISION, LENGTH, PAIRS, WEIGHTS, check_char, problem


# ---------------------------------------------------------------------- E16
def e16(x):
    """E16 (GB 32100-2015): the 统一社会信用代码's length, alphabet, pair, division, check digit."""
    code = x.v.get("uscc")
    if code:
        p = problem(code)
        if p:
            yield x.flag("E16", "uscc", value=code, problem=p)


def uscc_templates():
    """The problem sentences of uscc.problem, as templates with {n} {ch} {pair} {div}
    {want} {got} (probed from the engine, so the wording has one home)."""
    short = problem("0" * 7)
    assert short.count("7") == 1
    bad = problem("I" + "0" * 17)
    assert bad.count("I") == 1
    first17 = "91" + "0" * 15
    want = check_char(first17)
    got = "1" if want != "1" else "2"
    wrong = problem(first17 + got)
    assert wrong.count(want) == 1 and wrong.count(got) == 1 and want != got
    pair = problem("WW" + "0" * 16)
    assert pair.count("WW") == 1
    div = problem("91WWWWWW" + "0" * 10)
    assert div.count("WWWWWW") == 1
    return (short.replace("7", "{n}"), bad.replace("I", "{ch}"),
            wrong.replace(want, "{want}", 1).replace(got, "{got}", 1),
            pair.replace("WW", "{pair}"), div.replace("WWWWWW", "{div}"))


def e16_sheet(b):
    """E16 as uscc.problem finds it, in the same order (cells uscc_clean, uscc_want, uscc_problem)."""
    v = b.V("uscc")
    u = b.p.add("uscc_clean", f"SUBSTITUTE({v},\"-\",\"\")")
    short, bad, wrong, pair_t, div_t = uscc_templates()
    alpha = lit(ALPHABET)
    idx = array_const(range(1, LENGTH + 1))
    rev = array_const(LENGTH + 1 - i for i in range(1, LENGTH + 1))
    nbad = f"SUMPRODUCT(--ISERROR(FIND(MID({u},{idx},1),{alpha})))"
    pairs = lit("," + ",".join(PAIRS) + ",")
    pair_ok = f"ISNUMBER(FIND(\",\"&LEFT({u},2)&\",\",{pairs}))"
    div = f"MID({u},{DIVISION.start + 1},{DIVISION.stop - DIVISION.start})"
    positions = array_const(range(1, DIVISION.stop - DIVISION.start + 1))
    div_ok = f"SUMPRODUCT(--ISERROR(FIND(MID({div},{positions},1),\"0123456789\")))=0"
    first_bad = f"({LENGTH + 1}-SUMPRODUCT(MAX(ISERROR(FIND(MID({u},{idx},1),{alpha}))*{rev})))"
    total = (f"SUMPRODUCT((FIND(MID({u},{array_const(range(1, LENGTH))},1),{alpha})-1)"
             f"*{array_const(WEIGHTS)})")
    want = b.p.add("uscc_want", f"IF(OR({v}=\"\",LEN({u})<>{LENGTH}),\"\",IF({nbad}>0,\"\","
                   f"MID({alpha},MOD(31-MOD({total},31),31)+1,1)))")
    prob = (f"IF(LEN({u})<>{LENGTH},{template(short, {'n': f'LEN({u})'})},"
            f"IF({nbad}>0,{template(bad, {'ch': f'MID({u},{first_bad},1)'})},"
            f"IF(NOT({pair_ok}),{template(pair_t, {'pair': f'LEFT({u},2)'})},"
            f"IF(NOT({div_ok}),{template(div_t, {'div': div})},"
            f"IF(RIGHT({u},1)<>{want},{template(wrong, {'want': want, 'got': f'RIGHT({u},1)'})},\"\")))))")
    pr = b.p.add("uscc_problem", f"IF({v}=\"\",\"\",{prob})")
    body = f"IF({pr}=\"\",\"\",{b.msg('E16', value=v, problem=pr)})"
    b.instance("E16", "uscc", body)


# ---------------------------------------------------------------------- shapes (E21, E28)
# A shape as the campaign writes it (`shape` of flags.E21 / E28): "#" is one digit; a, b, c …
# (a lower-case letter) a run of one or more characters other than "@" and white space; any
# other character itself. "1##########" = 11 digits starting with 1; "a@b.c" = an e-mail.
_WORD = r"[^@\s]+"


def _tokens(shape):
    """The shape as (kind, text) runs: ("digits", "###"), ("word", "a"), ("text", "@")."""
    kind = lambda ch: "digits" if ch == "#" else "word" if "a" <= ch <= "z" else "text"  # noqa: E731
    return [(k, m.group(0)) for m in re.finditer(r"#+|[a-z]|[^#a-z]+", shape)
            for k in (kind(m.group(0)[0]),)]


def shape_regex(shape):
    """The Python side of a shape: a regular expression for re.fullmatch."""
    out = {"digits": lambda t: f"[0-9]{{{len(t)}}}" if len(t) > 1 else "[0-9]",
           "word": lambda t: _WORD, "text": re.escape}
    return "".join(out[k](t) for k, t in _tokens(shape))


def shape_formula(shape, v):
    """The sheet side of a shape: an Excel condition on the text ``v``.

    Translated shapes: fixed text followed by digits ("1##########"), and word "@" word,
    one character, word ("a@b.c"). Raises NotImplementedError for any other shape.
    """
    toks = _tokens(shape)
    kinds = [k for k, _ in toks]
    if kinds in (["digits"], ["text", "digits"]):
        prefix, n = ("" if len(toks) == 1 else toks[0][1]), len(toks[-1][1])
        total = len(prefix) + n
        idx = array_const(range(len(prefix) + 1, total + 1))
        digits = f"SUMPRODUCT(--ISERROR(FIND(MID({v},{idx},1),{lit(DIGITS)})))=0"
        return (f"AND(LEN({v})={total},LEFT({v},{len(prefix)})={lit(prefix)},{digits})"
                if prefix else f"AND(LEN({v})={total},{digits})")
    if kinds == ["word", "text", "word", "text", "word"] and toks[1][1] == "@" \
            and re.fullmatch(_WORD, toks[3][1]) and len(toks[3][1]) == 1:
        at = f"FIND({lit('@')},{v})"
        dom = f"MID({v},{at}+1,{LEN_MAX})"
        return (f"IF(LEN({v})-LEN(SUBSTITUTE({v},{lit('@')},\"\"))<>1,FALSE,"
                f"IF(ISNUMBER(FIND(\" \",{v})),FALSE,IF({at}=1,FALSE,IF(LEN({dom})<3,FALSE,"
                f"ISNUMBER(FIND({lit(toks[3][1])},MID({dom},2,LEN({dom})-2)))))))")
    raise NotImplementedError(f"shape {shape!r} has no in-sheet translation")


def _shape_rule(code, keys, params):
    """E21, E28: the field (``keys[form]``) has the flag's ``shape``, once the characters of
    its ``ignore`` setting are taken out (E21: spaces and hyphens, "139 1624 5821"); ``params``
    says which of the two the campaign may set for the code."""
    def check(x):
        key = keys[x.form]
        v = x.v.get(key)
        if v:
            bare = v
            for ch in x.spec(code).get("ignore", ()):
                bare = bare.replace(ch, "")
            if not re.fullmatch(shape_regex(x.spec(code)["shape"]), bare):
                yield x.flag(code, key, value=v)

    def formula(b):
        key = keys[b.form]
        v = b.V(key)
        bare = v
        for ch in b.c.flags[code].get("ignore", ()):
            bare = f"SUBSTITUTE({bare},{lit(ch)},\"\")"
        if bare != v:
            bare = b.p.add(f"bare:{key}", bare)
        ok = shape_formula(b.c.flags[code]["shape"], bare)
        b.instance(code, key, f"IF({v}=\"\",\"\",IF({ok},\"\",{b.msg(code, value=v)}))")
    check.__name__ = code.lower()
    check.__doc__ = formula.__doc__ = f"{code}: {' / '.join(keys.values())} has flags.{code}.shape."
    return Rule(code, tuple(keys), check, formula, params=params)


RULES = (
    Rule("E16", (APPLICATION, ROW), e16, e16_sheet),
    _shape_rule("E21", {APPLICATION: "contact_mobile", RECOMMENDER: "filler_mobile"},
                ("shape", "ignore")),
    _shape_rule("E28", {RECOMMENDER: "filler_email"}, ("shape",)),
)
