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

EXCEL_EPOCH = dt.date(1899, 12, 30)
MAX_SERIAL = 2958465  # 9999-12-31


class Unreadable(ValueError):
    """A value that cannot be read as the field's type; ``expected`` is Chinese."""

    def __init__(self, raw, expected):
        super().__init__(expected)
        self.raw, self.expected = raw, expected


def norm(text):
    """NFKC (full-width to half-width), trimmed, inner runs of space folded."""
    s = unicodedata.normalize("NFKC", str(text))
    return re.sub(r"\s+", " ", s).strip()


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
    return isinstance(v, str) and norm(v) in ("",) + BLANK_WORDS


def text(v):
    """Text as entered, trimmed; numbers from Excel (85.0) become "85"."""
    if is_blank(v):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dt.datetime, dt.date)):
        return v.strftime("%Y-%m-%d")
    return norm(v)


# ---------------------------------------------------------------------- numbers
_UNITS = {  # unit: (family, scale)
    "元": ("money", 1), "万元": ("money", 1e4), "亿元": ("money", 1e8), "亿": ("money", 1e8),
    "平方米": ("area", 1), "m2": ("area", 1), "m²": ("area", 1), "㎡": ("area", 1),
    "万平方米": ("area", 1e4), "万m2": ("area", 1e4), "万m²": ("area", 1e4), "万㎡": ("area", 1e4),
    "万平米": ("area", 1e4), "平米": ("area", 1),
}
_PLAIN_SUFFIXES = {"分", "%", "人", "名", "个", "位", "项", "家", "万", "户"}
_NUM_RE = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(.*)$")


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
    s = norm(v).replace(",", "").replace(" ", "").replace("．", ".")
    m = _NUM_RE.match(s)
    if not m:
        raise Unreadable(v, expected)
    x = float(m.group(1))
    suffix = m.group(2)
    if suffix == "":
        return x
    if suffix in _UNITS:
        family, scale = _UNITS[suffix]
        if unit in _UNITS and _UNITS[unit][0] == family:
            return x * scale / _UNITS[unit][1]
        if unit is None and suffix == "万":
            return x
        raise Unreadable(v, expected)
    if suffix in _PLAIN_SUFFIXES:
        if suffix == "万" and unit not in _UNITS:
            return x * 1e4
        return x
    raise Unreadable(v, expected)


def integer(v, expected="应为整数"):
    x = number(v, expected=expected)
    if x is None:
        return None
    if not float(x).is_integer():
        raise Unreadable(v, expected)
    return int(x)


# ---------------------------------------------------------------------- dates
_DATE_RES = [
    re.compile(r"^(\d{4})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]


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
    s = norm(v)
    for rx in _DATE_RES:
        m = rx.match(s)
        if m:
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                raise Unreadable(v, expected) from None
    if re.fullmatch(r"\d{5}(\.0+)?", s):
        return from_serial(float(s), v, expected)
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
_YES = {"是", "√", "✓", "✔", "y", "yes", "1", "true", "对", "已通过", "通过", "具备", "具有"}
_NO = {"否", "×", "✗", "✘", "x", "n", "no", "0", "false", "不是", "未通过", "不具备", "不具有"}
_HAS = {"有", "是", "y", "yes", "1", "true", "√", "存在"}
_HASNOT = {"无", "没有", "否", "n", "no", "0", "false", "×", "不存在"}
#: The words each two-way choice list accepts (FIELDS.md variants), for the formula builder.
CHOICE_WORDS = {"yesno": {"是": _YES, "否": _NO}, "hasnot": {"有": _HAS, "无": _HASNOT}}


def _key(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return norm(v).lower().replace(" ", "")


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
    hits = [o for o in options if k and (k in _key(o) or _key(o) in k) and _key(o) != "其他"]
    if len(hits) == 1:
        return hits[0]
    raise Unreadable(v, "应为 " + "、".join(options) + " 之一")


def report_use(v):
    """战略 / 管理 / 无, from the form's words or a sentence that says one of them."""
    if is_blank(v):
        return None
    k = _key(v)
    if "战略" in k or "改进" in k:
        return "战略"
    if "管理" in k:
        return "管理"
    if k in _HASNOT or k in ("未应用", "没有应用", "未用"):
        return "无"
    raise Unreadable(v, "应为 战略、管理、无 之一")


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
        if k in {_key(lv.applied), _key(lv.name)} | {_key(x) for x in lv.variants}:
            return lv.rank
    names = "、".join(lv.applied for lv in campaign.levels)
    raise Unreadable(v, f"应为 {names} 之一")
