"""A simple progress bar on stderr (no dependency); silent when stderr is not a terminal."""

from __future__ import annotations

import sys
import time

from xl_addin.rules.textable import width


class Progress:
    def __init__(self, total, label="读取文件", stream=None, enabled=None, bar=30):
        self.total, self.label, self.bar = max(total, 1), label, bar
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.done, self._last = 0, 0.0

    def step(self, name=""):
        self.done += 1
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.05 and self.done < self.total):
            return
        self._last = now
        k = int(self.bar * self.done / self.total)
        name = _cut(name, 36)
        self.stream.write(f"\r{self.label} [{'#' * k}{'.' * (self.bar - k)}] "
                          f"{self.done}/{self.total} {name}\033[K")
        self.stream.flush()

    def close(self):
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _cut(s, n):
    out = ""
    for ch in s:
        if width(out + ch) > n:
            return out + "…"
        out += ch
    return out
