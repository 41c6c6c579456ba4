"""测量报告应用 (RULES.md E24, L1, L2): how what people write is read — both sides, one place.

The form asks the use as a choice (战略 / 管理 / 未应用); text pasted from an export or typed
over the list is read by its grammar, not by its characters (issue 20):

1. blank → nothing; a choice word, its short value or a "none" word (未应用, 没有 …) → that
   value, sure.
2. The words that only look like negation are taken out first (``not_negation``: 不断, 非常,
   无论, 不仅, 并非仅 and double negations such as 无不).
3. **Negated** — a negator (未/不/没/没有/无/非) directly before a use word (用于, 应用,
   在…中应用 …) or a strategy word (非战略), optionally through one link word (未**能**用于,
   无**法**应用, 没**有**在…中应用), or a fixed negated phrase (与战略无关): 无, flag E24.
4. **Unclear** — a future or hedged use (拟用于, 计划用于, 可用于 …), or a text that names
   neither strategy nor management: the least favourable use it names (管理 or 无), flag E24.
5. Otherwise strategy or an improvement plan named → 战略; only management activity → 管理.
   The notice's own sentences read exactly: "应用于组织战略的制定、改进领域的实施方案" = 战略,
   "在组织的管理活动中有应用" = 管理.

All the words are data (``[flags.E24]`` and ``choices`` of the campaign file). :func:`read`
is the Python reading; :func:`formula` writes the same steps as sheet formulas from the same
:class:`UseWords`, so the two cannot drift apart (tests/test_report_use.py runs a table of
phrasings through both).
"""

from __future__ import annotations

from dataclasses import dataclass

from xl_addin.rules.expr import any_equal, array_const, lit, switch
from xl_addin.rules.parse import _key, is_blank

NEGATED, UNCLEAR = "negated", "unclear"


@dataclass(frozen=True)
class UseReading:
    """How 测量报告应用 was read: the value for the star conditions and, for free text that is
    negated or unclear, why (E24); ``why`` is None for a choice or a plain statement."""

    value: str | None
    why: str | None = None  # NEGATED / UNCLEAR


@dataclass(frozen=True)
class UseWords:
    """The reading's words, from the campaign (all compared as parse._key compares: folded,
    lower case, without spaces).

    Attributes:
        choices: typed word -> value (the form's words and the short values).
        none_words: words that mean "not used" (read as 无, sure).
        negators, links, use_words: a negation is negator + (link) + use word or strategy word.
        negated_phrases: fixed phrases that negate the use (与战略无关).
        not_negation: words taken out before the search (不断, 非常, 无论, 不仅, 并非仅 …).
        strategy, management: the words that name each use.
        unclear: hedged or future uses (拟用于, 计划用于 …).
        strategy_value, management_value, none_value: the values (choices.report_use).
    """

    choices: dict
    none_words: tuple
    negators: tuple
    links: tuple
    use_words: tuple
    negated_phrases: tuple
    not_negation: tuple
    strategy: tuple
    management: tuple
    unclear: tuple
    strategy_value: str = "战略"
    management_value: str = "管理"
    none_value: str = "无"

    @property
    def heads(self):
        """negator + link, every combination (the link may be empty), without repeats."""
        return tuple(dict.fromkeys(n + k for n in self.negators for k in ("",) + self.links))

    @property
    def targets(self):
        """What a negator governs: a use word or a strategy word."""
        return tuple(dict.fromkeys(self.use_words + self.strategy))


_WORDS = {}


def words(campaign):
    """The :class:`UseWords` of a campaign (choices and flags.E24), cached per campaign."""
    hit = _WORDS.get(id(campaign))
    if hit is not None and hit[0] is campaign:
        return hit[1]
    spec = campaign.flags["E24"]
    values = campaign.choices["report_use"]  # 战略, 管理, 无 (what L1 and L2 test)
    choices = dict(zip(campaign.choices["report_use_form"], values))
    choices.update({x: x for x in values})

    def keys(name):
        return tuple(dict.fromkeys(k for k in (_key(w) for w in spec.get(name, ())) if k))
    w = UseWords(choices, tuple(spec["none_words"]), keys("negators"), keys("negation_links"),
                 keys("use_words"), keys("negated_phrases"), keys("not_negation"),
                 keys("strategy_words"), keys("management_words"), keys("unclear_words"),
                 *values)
    _WORDS[id(campaign)] = (campaign, w)
    return w


# ---------------------------------------------------------------------- the Python side
def stripped(key, w):
    """The key with the words that only look like negation taken out (in list order)."""
    for x in w.not_negation:
        key = key.replace(x, "")
    return key


def is_negated(s, w):
    """Step 3 on a stripped key: a negator governs a use or strategy word, or a fixed phrase."""
    return any(h + t in s for h in w.heads for t in w.targets) or \
        any(p in s for p in w.negated_phrases)


def read(v, w):
    """测量报告应用 as the rules read it (steps 1–5 of the module docstring).

    Args:
        v: the raw value.
        w: the campaign's :class:`UseWords` (:func:`words`).
    Returns:
        UseReading
    """
    if is_blank(v):
        return UseReading(None)
    k = _key(v)
    for word, value in w.choices.items():
        if _key(word) == k:
            return UseReading(value)
    if k in {_key(x) for x in w.none_words}:
        return UseReading(w.none_value)
    s = stripped(k, w)
    if is_negated(s, w):
        return UseReading(w.none_value, NEGATED)
    strategy = any(x in s for x in w.strategy)
    management = any(x in s for x in w.management)
    if any(x in s for x in w.unclear) or not (strategy or management):
        return UseReading(w.management_value if management else w.none_value, UNCLEAR)
    return UseReading(w.strategy_value if strategy else w.management_value)


# ---------------------------------------------------------------------- the sheet side
def _found(needles, s):
    """Excel: is any of ``needles`` (a flat list, or (column, row) for every pair) in ``s``."""
    if isinstance(needles, tuple) and len(needles) == 2 and isinstance(needles[0], list):
        col, row = needles
        arr = ("{" + ";".join(lit(x) for x in col) + "}") + "&" + array_const(lit(x) for x in row)
    else:
        needles = [x for x in needles if x]
        if not needles:
            return "FALSE"
        arr = array_const(lit(x) for x in needles)
    return f"(SUMPRODUCT(--ISNUMBER(FIND({arr},{s})))>0)"


def formula(k, blank, w, add, name):
    """:func:`read` as formulas.

    Args:
        k: the Excel expression of the typed value's key (folded, lower case, no spaces).
        blank: an Excel condition: the value is blank.
        w: the :class:`UseWords`.
        add: ``add(cell name, body)`` adds a helper cell and returns its reference.
        name: the field key, for the helper cells' names.
    Returns:
        (value, why): Excel expressions — the value (战略 / 管理 / 无 / "") and the reason
        for E24 ("negated", "unclear" or "").
    """
    mapping = {}
    for word, value in list(w.choices.items()) + [(x, w.none_value) for x in w.none_words]:
        mapping.setdefault(_key(word), lit(value))
    exact = any_equal(k, [lit(x) for x in mapping])
    s = k
    for x in w.not_negation:
        s = f"SUBSTITUTE({s},{lit(x)},\"\")"
    s = add(f"use_s:{name}", s)
    neg = f"OR({_found((list(w.heads), list(w.targets)), s)},{_found(w.negated_phrases, s)})"
    st, mg, un = (_found(x, s) for x in (w.strategy, w.management, w.unclear))
    why = add(f"why:{name}", f"IF({blank},\"\",IF({exact},\"\",IF({neg},{lit(NEGATED)},"
                             f"IF(OR({un},NOT(OR({st},{mg}))),{lit(UNCLEAR)},\"\"))))")
    typed = switch(k, {lit(x): value for x, value in mapping.items()})
    value = (f"IF({blank},\"\",IF({exact},{typed},IF({why}={lit(NEGATED)},{lit(w.none_value)},"
             f"IF({why}={lit(UNCLEAR)},IF({mg},{lit(w.management_value)},{lit(w.none_value)}),"
             f"IF({st},{lit(w.strategy_value)},{lit(w.management_value)})))))")
    return value, why
