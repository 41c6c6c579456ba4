"""Read values as people really type them into Excel or an export.

Full-width digits and punctuation (８５．５), units (85分, 1.2万平方米), stray spaces, Excel
date serials, 2023.5.1 / 2023-05-01 / 2023/5/1 / 2023年5月1日, 是/否 and its variants,
category and level variants. Every parser returns the clean value, ``None`` for a blank,
or raises :class:`Unreadable` with what was expected — the engine turns that into flag E23
on the field, so nothing escapes to the user as an exception.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass

EXCEL_EPOCH = dt.date(1899, 12, 30)
MAX_SERIAL = 2958465  # 9999-12-31


class Unreadable(ValueError):
    """A value that cannot be read as the field's type; ``expected`` is Chinese."""

    def __init__(self, raw, expected):
        super().__init__(expected)
        self.raw, self.expected = raw, expected


def norm(text):
    """NFKC (full-width to half-width), trimmed, inner runs of space folded (for headers)."""
    s = unicodedata.normalize("NFKC", str(text))
    return re.sub(r"\s+", " ", s).strip()


# Values are folded as the sheet folds them (formulas.fold_expr, a SUBSTITUTE per pair):
# full-width ASCII (U+FF01–U+FF5E) to ASCII and the ideographic space to a space, then trimmed
# as TRIM() trims (spaces only), so the sheet and the engine read the same text.
FOLD = {chr(i): chr(i - 0xFEE0) for i in range(0xFF01, 0xFF5F)}
FOLD["\u3000"] = " "
_ASC = {ord(k): ord(v) for k, v in FOLD.items()}


def asc(s):
    """Full-width ASCII and the ideographic space to half width (see FOLD)."""
    return str(s).translate(_ASC)


def fold(v):
    """A value as the sheet reads it: FOLD, then TRIM (runs of spaces folded, ends cut)."""
    return re.sub(" +", " ", asc(v)).strip(" ")


# What people type for "nothing" (after NFKC folding); the sheet formulas compare with
# :func:`blank_spellings`, so both sides read the same words as blank.
BLANK_WORDS = ("-", "—", "/", "无数据")


def blank_spellings():
    """Every spelling the engine reads as blank: BLANK_WORDS and their full-width forms."""
    out = list(BLANK_WORDS)
    for w in BLANK_WORDS:
        wide = "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in w)
        if wide not in out and is_blank(wide):
            out.append(wide)
    return out


def is_blank(v):
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and fold(v) in ("",) + BLANK_WORDS


def text(v):
    """Text as entered, folded and trimmed as the sheet does; 85.0 from Excel becomes "85"."""
    if is_blank(v):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dt.datetime, dt.date)):
        return v.strftime("%Y-%m-%d")
    return fold(v)


# ---------------------------------------------------------------------- numbers
_UNITS = {  # unit: (family, scale)
    "元": ("money", 1), "万元": ("money", 1e4), "亿元": ("money", 1e8), "亿": ("money", 1e8),
    "平方米": ("area", 1), "m2": ("area", 1), "m²": ("area", 1), "㎡": ("area", 1),
    "万平方米": ("area", 1e4), "万m2": ("area", 1e4), "万m²": ("area", 1e4), "万㎡": ("area", 1e4),
    "万平米": ("area", 1e4), "平米": ("area", 1),
}
_PLAIN_SUFFIXES = {"分", "%", "人", "名", "个", "位", "项", "家", "万", "户"}
#: Every unit word a number may carry (the formula builder probes each one per field).
SUFFIXES = tuple(sorted(set(_UNITS) | _PLAIN_SUFFIXES, key=lambda x: (-len(x), x)))
# "5." is not a number: LibreOffice's VALUE() refuses it, so the sheet cannot read it either
_NUM_RE = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+))(.*)$")
MAX_DIGITS = 30  # a longer numeral is not a value anyone types (the sheet checks this many)


def suffix_factor(suffix, unit=None):
    """What a number written with ``suffix`` is multiplied by for a field in ``unit``.

    Returns:
        the factor, or None when the suffix is not accepted for that unit.
    """
    suffix = suffix.lower()
    if suffix == "":
        return 1.0
    if suffix in _UNITS:
        family, scale = _UNITS[suffix]
        if unit in _UNITS and _UNITS[unit][0] == family:
            return scale / _UNITS[unit][1]
        if unit is None and suffix == "万":
            return 1.0
        return None
    if suffix in _PLAIN_SUFFIXES:
        if suffix == "万" and unit not in _UNITS:
            return 1e4
        return 1.0
    return None


def number(v, unit=None, expected="应为数字"):
    """A number from a float, int or text such as "８５．５", "85分", "1.2万平方米".

    Args:
        v: the raw value.
        unit: the field's unit (万元, 万平方米); a value typed in another unit of the same
            family (元, 平方米, 亿元) is converted to it.
    Returns:
        float or None for a blank.
    Raises:
        Unreadable
    """
    if is_blank(v):
        return None
    if isinstance(v, bool):
        raise Unreadable(v, expected)
    if isinstance(v, (int, float)):
        if isinstance(v, float) and math.isinf(v):
            raise Unreadable(v, expected)
        return float(v)
    if isinstance(v, (dt.date, dt.datetime)):
        raise Unreadable(v, expected)
    s = fold(v).replace(",", "").replace(" ", "")
    m = _NUM_RE.match(s)
    if not m or len(m.group(1)) > MAX_DIGITS:
        raise Unreadable(v, expected)
    x = float(m.group(1))
    factor = suffix_factor(m.group(2), unit)
    if factor is None:
        raise Unreadable(v, expected)
    return x if factor == 1 else x * factor


@dataclass(frozen=True)
class Kept:
    """A descriptive value that cannot be read as its type, kept exactly as typed (E34):
    ``raw`` is the value as it came, ``expected`` what the field's parser wanted."""

    raw: object
    expected: str


def kept(fn):
    """``fn`` for a field that feeds no rule: an unreadable value becomes :class:`Kept`."""
    def read(v):
        try:
            return fn(v)
        except Unreadable as e:
            return Kept(v, e.expected)
    return read


def integer(v, expected="应为整数"):
    x = number(v, expected=expected)
    if x is None:
        return None
    if not float(x).is_integer():
        raise Unreadable(v, expected)
    return int(x)


# ---------------------------------------------------------------------- dates
# Text dates, read the way the sheet's formula reads them: 2023-05-01, 2023.5.1, 2023/5/1,
# 2023年5月1日, 20230501, a serial 45047; a time after a space (digits and colons) is ignored.
DATE_SEP1, DATE_SEP2, DATE_END = "年./-", "月./-", "日"
_DATE_RE = re.compile(r"^([0-9]{4})[年./-]([0-9]{1,2})[月./-]([0-9]{1,2})日?$")
_DATE8_RE = re.compile(r"^([0-9]{4})([0-9]{2})([0-9]{2})$")
MIN_YEAR = 1900


def date(v, expected="应为日期，如 2023-05-01"):
    """A date from a date, an Excel serial, or text in the usual Chinese forms."""
    if is_blank(v):
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, bool):
        raise Unreadable(v, expected)
    if isinstance(v, (int, float)):
        return from_serial(v, v, expected)
    s = fold(v)
    if " " in s:
        s, clock = s.split(" ", 1)
        if not re.fullmatch(r"[0-9:]+", clock) or ":" not in clock:
            raise Unreadable(v, expected)
    if re.fullmatch(r"[0-9]{5}", s):
        return from_serial(float(s), v, expected)
    m = _DATE_RE.match(s) or _DATE8_RE.match(s)
    if m:
        y, mo, d = (int(g) for g in m.groups())
        if y >= MIN_YEAR:
            try:
                return dt.date(y, mo, d)
            except ValueError:
                pass
    raise Unreadable(v, expected)


def from_serial(x, raw=None, expected="应为日期"):
    if not 1 <= x <= MAX_SERIAL or not float(x).is_integer():
        raise Unreadable(raw if raw is not None else x, expected)
    return EXCEL_EPOCH + dt.timedelta(days=int(x))


def to_serial(d):
    """The Excel serial of a date (what a formula compares)."""
    return (d - EXCEL_EPOCH).days


def add_months(d, months):
    """Like Excel's EDATE: the same day ``months`` later, clamped to the month's end."""
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    m += 1
    last = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(y, m, min(d.day, last))


# ---------------------------------------------------------------------- choices
_YES = {"是", "√", "✓", "✔", "y", "yes", "1", "true", "对", "已通过", "通过", "具备", "具有",
        "有"}
_NO = {"否", "×", "✗", "✘", "x", "n", "no", "0", "false", "不是", "未通过", "不具备", "不具有",
       "无", "没有"}
_HAS = {"有", "是", "y", "yes", "1", "true", "√", "存在"}
_HASNOT = {"无", "没有", "否", "n", "no", "0", "false", "×", "不存在"}
#: The words each two-way choice list accepts (FIELDS.md variants), for the formula builder.
CHOICE_WORDS = {"yesno": {"是": _YES, "否": _NO}, "hasnot": {"有": _HAS, "无": _HASNOT}}


def _key(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return fold(v).lower().replace(" ", "")


def yesno(v):
    """是 / 否 from 是, √, Y, yes, 1, TRUE … and their opposites."""
    if is_blank(v):
        return None
    k = _key(v)
    if k in _YES:
        return "是"
    if k in _NO:
        return "否"
    raise Unreadable(v, "应为 是 或 否")


def hasnot(v):
    """有 / 无 (incidents, risk)."""
    if is_blank(v):
        return None
    k = _key(v)
    if k in _HAS:
        return "有"
    if k in _HASNOT:
        return "无"
    raise Unreadable(v, "应为 有 或 无")


def choice(v, options):
    """One of ``options``, matched after full-width folding and without spaces."""
    if is_blank(v):
        return None
    k = _key(v)
    for o in options:
        if _key(o) == k:
            return o
    raise Unreadable(v, "应为 " + "、".join(options) + " 之一")


def category(v, campaign):
    """A category name (企业类 …) from 企业 / 企业类 / ' 企业类 '."""
    if is_blank(v):
        return None
    k = _key(v)
    for c in campaign.categories:
        if k in {_key(c.name)} | {_key(x) for x in c.variants}:
            return c.name
    names = "、".join(c.name for c in campaign.categories)
    raise Unreadable(v, f"应为 {names} 之一")


def level(v, campaign):
    """A level rank (5, 4, 3) from 标杆级 / 五星 / 5星 / 用户满意 / 亮诺 …"""
    if is_blank(v):
        return None
    if isinstance(v, (int, float)) and not isinstance(v, bool) and float(v) in \
            {lv.rank for lv in campaign.levels}:
        return int(v)
    k = _key(v)
    for lv in campaign.levels:
        if k in level_words(lv):
            return lv.rank
    names = "、".join(lv.applied for lv in campaign.levels)
    raise Unreadable(v, f"应为 {names} 之一")


def level_words(lv):
    """Every written form of a level (lower case, no spaces): its words, its variants and
    its rank as text ("4" from a CSV)."""
    return {_key(lv.applied), _key(lv.name), str(lv.rank)} | {_key(x) for x in lv.variants}
