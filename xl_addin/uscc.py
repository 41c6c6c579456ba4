"""统一社会信用代码 (unified social credit code), GB 32100-2015 — rule E16.

18 characters from a 31-character alphabet (digits and upper-case letters without I, O, Z,
S, V); the 18th is a check character computed from the first 17 with weights 3^i mod 31.
"""

from __future__ import annotations

from .parse import norm

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18


def clean(code):
    """Upper case, full-width folded, spaces and hyphens removed."""
    return norm(code).upper().replace(" ", "").replace("-", "")


def check_char(first17):
    """The check character for 17 characters of the alphabet."""
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code):
    """What is wrong with a code, in Chinese, or ``None`` when it is valid.

    Args:
        code: the code as typed (case, full-width characters and spaces are forgiven).
    Returns:
        None, or e.g. "应为 18 位，现为 17 位".
    """
    c = clean(code)
    if len(c) != LENGTH:
        return f"应为 {LENGTH} 位，现为 {len(c)} 位"
    bad = [ch for ch in c if ch not in ALPHABET]
    if bad:
        return f"含有不允许的字符“{bad[0]}”"
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
