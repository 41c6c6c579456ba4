"""统一社会信用代码 (unified social credit code), GB 32100-2015 — rule E16.

18 characters from a 31-character alphabet (digits and upper-case letters without I, O, Z,
S, V). Position 1 is the registration authority and position 2 the organisation type (a pair
of the standard's table 1), positions 3–8 the administrative-division code (digits), and
the 18th is a check character computed from the first 17 with weights 3^i mod 31.
Full-width characters, spaces and hyphens are folded first, as the sheet does (ASC()).
"""

from __future__ import annotations

import re
from operator import mul

from xl_addin.rules.parse import fold

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18
#: GB 32100-2015 表 1: 登记管理部门代码 -> 机构类别代码 (机构编制, 外交, 司法行政, 文化, 民政,
#: 旅游, 宗教, 工会, 工商, 中央军委改革和编制办公室, 农业, 其他).
REGISTRATION = {"1": "1239", "2": "19", "3": "123459", "4": "19", "5": "1239", "6": "129",
                "7": "129", "8": "19", "9": "123", "A": "19", "N": "1239", "Y": "1"}
PAIRS = tuple(a + b for a, kinds in REGISTRATION.items() for b in kinds)
DIVISION = slice(2, 8)  # positions 3–8


_PLAIN = re.compile("[0-9A-Z]{18}")


def clean(code):
    """Upper case, full-width folded, spaces and hyphens removed."""
    return fold(code).upper().replace(" ", "").replace("-", "")


_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_ALPHABET = frozenset(ALPHABET)
_PAIRS = frozenset(PAIRS)


def check_char(first17):
    """The check character for 17 characters of the alphabet."""
    total = sum(map(mul, map(_VALUE.__getitem__, first17), WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code):
    """What is wrong with a code, in Chinese, or ``None`` when it is valid.

    Args:
        code: the code as typed (case, full-width characters and spaces are forgiven).
    Returns:
        None, or e.g. "应为 18 位，现为 17 位".
    """
    c = code if isinstance(code, str) and _PLAIN.fullmatch(code) else clean(code)  # most: as is
    if len(c) != LENGTH:
        return f"应为 {LENGTH} 位，现为 {len(c)} 位"
    bad = [] if _ALPHABET.issuperset(c) else [ch for ch in c if ch not in ALPHABET]
    if bad:
        return f"含有不允许的字符“{bad[0]}”"
    if c[:2] not in _PAIRS:
        return f"第 1–2 位“{c[:2]}”不是登记管理部门和机构类别代码"
    if not c[DIVISION].isdigit() or not c[DIVISION].isascii():
        return f"第 3–8 位（行政区划码）应为数字，现为“{c[DIVISION]}”"
    want = check_char(c[:17])
    if c[17] != want:
        return f"校验位应为 {want}，现为 {c[17]}"
    return None


def is_valid(code):
    """True when ``code`` is a valid 统一社会信用代码."""
    return code is not None and problem(code) is None


def make(first17):
    """A valid code from 17 characters (used by tests and the demo generator)."""
    return first17 + check_char(first17)
