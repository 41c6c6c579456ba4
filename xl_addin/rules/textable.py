"""Plain-text tables for the terminal that line up with Chinese (wide) characters."""

from __future__ import annotations

import unicodedata


def width(s):
    """Columns a string takes in a terminal: CJK and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(s))


def pad(s, n):
    s = str(s)
    return s + " " * max(0, n - width(s))


def render(headers, rows, max_width=60):
    """A table with a header rule; cells longer than ``max_width`` columns are cut with …"""
    def cut(s):
        s = "" if s is None else str(s).replace("\n", " ")
        if width(s) <= max_width:
            return s
        out = ""
        for ch in s:
            if width(out + ch) > max_width - 1:
                break
            out += ch
        return out + "…"

    cells = [[cut(h) for h in headers]] + [[cut(c) for c in r] for r in rows]
    widths = [max(width(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(pad(c, w) for c, w in zip(cells[0], widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(pad(c, w) for c, w in zip(r, widths)).rstrip() for r in cells[1:]]
    return "\n".join(lines)
