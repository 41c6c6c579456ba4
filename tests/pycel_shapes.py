"""pycel, each formula shape read and compiled once (issue 21).

pycel turns every formula cell into Python source and compiles it, cell by cell: the 50 rows
of 附件3 are 50 tokenisations, 50 parses and 50 compilations of one formula. Formulas
copied along a row or column differ only in their cell references, so within
:func:`shape_cache`:

- the tokens of a formula are made once per *shape* — the text with every cell reference
  replaced by one placeholder — and each cell gets a copy with its own references put back;
- the compiled code is made once per shape of the generated Python (its address strings
  replaced by placeholders) and each cell gets a copy whose constants are its own addresses
  (``CodeType.replace``), with the addresses it needs read from the same strings.

Every cell is still evaluated by pycel on its own cells; only the work that the copies share
is shared. A formula this module cannot take apart safely (a placeholder already in its text,
references it cannot put back) goes through pycel unchanged.
"""

from __future__ import annotations

import contextlib
import re

from pycel import excelformula
from pycel.excelutil import AddressRange, uniqueify

PLACEHOLDER = "QQQ7"  # a cell reference no generated workbook uses (column QQQ)
# A cell reference outside string constants and quoted sheet names (as xlcalc.relative_key).
_REF = re.compile(r'"(?:[^"]|"")*"|\'(?:[^\']|\'\')*\'|(?<![\w.$])(\$?[A-Z]{1,3}\$?\d+)(?![\w(.!])')
# An address the generated Python asks for: _C_("S!A1"), _R_("S!A1:B2"), _REF_("S!A1").
_ADDR = re.compile(r'\b(_C_|_R_|_REF_)\("((?:[^"\\]|\\.)*)"\)')

_tokenizer_init = excelformula.Tokenizer.__init__
_compile_python_ast = excelformula.ExcelFormula._compile_python_ast
_needed_addresses = excelformula.ExcelFormula.needed_addresses


class Stats:
    """How much was shared (the test asserts that it was)."""

    def __init__(self):
        self.tokens = self.token_shapes = 0
        self.compiled = self.code_shapes = 0
        self.passed_through = 0


def _refs(formula):
    """(text with every cell reference a placeholder, the references in order) or None."""
    if PLACEHOLDER in formula:
        return None
    refs = []

    def sub(m):
        if m.group(1) is None:
            return m.group(0)
        refs.append(m.group(1))
        return PLACEHOLDER
    return _REF.sub(sub, formula), refs


def _put_back(tokens, refs):
    """Copies of ``tokens`` with the placeholders replaced by ``refs`` in order (None when
    they do not match one for one)."""
    out, i = [], 0
    for t in tokens:
        value = t.value
        if PLACEHOLDER in value:
            if t.type != excelformula.Token.OPERAND or t.subtype != excelformula.Token.RANGE:
                return None
            parts = value.split(PLACEHOLDER)
            n = len(parts) - 1
            if i + n > len(refs):
                return None
            value = parts[0] + "".join(r + p for r, p in zip(refs[i:i + n], parts[1:]))
            i += n
        out.append(excelformula.Token(value, t.type, t.subtype))
    return out if i == len(refs) else None


def _strings(code):
    """Every string constant of ``code`` and of the code objects inside it."""
    out = set()
    for c in code.co_consts:
        if isinstance(c, str):
            out.add(c)
        elif hasattr(c, "co_consts"):
            out |= _strings(c)
    return out


def _code_with(code, consts):
    """``code`` (and the code objects inside it) with string constants replaced."""
    new = []
    for c in code.co_consts:
        if isinstance(c, str) and c in consts:
            new.append(consts[c])
        elif hasattr(c, "co_consts"):
            new.append(_code_with(c, consts))
        else:
            new.append(c)
    return code.replace(co_consts=tuple(new))


@contextlib.contextmanager
def shape_cache():
    """pycel within the block tokenises and compiles each formula shape once.

    Yields:
        :class:`Stats`
    """
    stats = Stats()
    token_cache = {}
    code_cache = {}

    def tokens_of(formula):
        """pycel's own tokens of a formula text."""
        tok = excelformula.Tokenizer.__new__(excelformula.Tokenizer)
        _tokenizer_init(tok, formula)
        return tok.items

    def tokenizer_init(self, formula):
        """pycel's Tokenizer, from the shape's tokens."""
        split = _refs(formula)
        items = None
        if split is not None:
            shape, refs = split
            tokens = token_cache.get(shape)
            if tokens is None:
                stats.token_shapes += 1
                tokens = token_cache[shape] = [excelformula.Token(t.value, t.type, t.subtype)
                                               for t in tokens_of(shape)]
            items = _put_back(tokens, refs)
        if items is None:  # not safe to share: pycel's own tokens
            stats.passed_through += 1
            items = tokens_of(formula)
        else:
            stats.tokens += 1
        self.formula, self.items = formula, items

    def addresses(code):
        """(code with its address strings as placeholders, {placeholder: address})."""
        placeholders = {}

        def sub(m):
            key = f"\ue000{len(placeholders)}\ue001"
            placeholders[key] = m.group(2)
            return f'{m.group(1)}("{key}")'
        return _ADDR.sub(sub, code), placeholders

    def shared(self):
        """(compiled template, names, needs addresses?) of this formula's code shape, or None
        when the shape cannot be shared safely."""
        shape, placeholders = addresses(self.python_code)
        if any("\\" in a or "\ue000" in a for a in placeholders.values()):
            return None, placeholders
        done = code_cache.get(shape)
        if done is None:
            stats.code_shapes += 1
            template = excelformula.ExcelFormula("=" + shape, formula_is_python_code=True)
            template.filename, template.lineno = self.filename, self.lineno
            _compile_python_ast(template)
            compiled, names = template._compiled_python
            # every placeholder must be a whole string constant of the code, and pycel must
            # find exactly these addresses in this cell's code; otherwise pycel alone
            own = _needed_addresses.fget(excelformula.ExcelFormula(
                "=" + self.python_code, formula_is_python_code=True))
            safe = set(placeholders) <= _strings(compiled) and \
                own == uniqueify(AddressRange(a) for a in placeholders.values())
            done = code_cache[shape] = (compiled, names) if safe else None
        return done, placeholders

    def compile_python_ast(self):
        done, placeholders = shared(self)
        if done is None:
            stats.passed_through += 1
            return _compile_python_ast(self)
        compiled, names = done
        self._compiled_python = _code_with(compiled, placeholders), names
        self._marshalled_python = None
        stats.compiled += 1

    def needed_addresses(self):
        if self._needed_addresses is None and self.python_code:
            done, placeholders = shared(self)
            if done is not None:
                self._needed_addresses = uniqueify(AddressRange(a) for a in placeholders.values())
        return _needed_addresses.fget(self)

    with _patched((tokenizer_init, compile_python_ast, property(needed_addresses))):
        yield stats


@contextlib.contextmanager
def plain():
    """pycel as it is, also inside a :func:`shape_cache` block (to compare with it)."""
    with _patched((_tokenizer_init, _compile_python_ast, _needed_addresses)):
        yield


@contextlib.contextmanager
def _patched(methods):
    f = excelformula
    old = (f.Tokenizer.__init__, f.ExcelFormula._compile_python_ast,
           f.ExcelFormula.needed_addresses)
    (f.Tokenizer.__init__, f.ExcelFormula._compile_python_ast,
     f.ExcelFormula.needed_addresses) = methods
    try:
        yield
    finally:
        (f.Tokenizer.__init__, f.ExcelFormula._compile_python_ast,
         f.ExcelFormula.needed_addresses) = old
