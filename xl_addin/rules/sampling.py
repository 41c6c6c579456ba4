"""样本代表性 (rubric A1): Cochran's sample size and the sampling error.

n0 = z² p (1-p) / e²; with a population N, n = n0 / (1 + (n0 - 1) / N), rounded up.
e = z √(p (1-p) / n), times √((N - n) / (N - 1)) with a population.
"""

from __future__ import annotations

import math
from statistics import NormalDist


def z_value(confidence):
    """Two-sided z for a confidence level (0.95 → 1.95996…)."""
    if not 0 < confidence < 1:
        raise ValueError("置信水平应在 0 与 1 之间，如 0.95")
    return NormalDist().inv_cdf((1 + confidence) / 2)


def _fraction(x, what):
    """0.05 and 5 (per cent) both mean 5 %."""
    x = float(x)
    if x >= 1:
        x /= 100
    if not 0 < x < 1:
        raise ValueError(f"{what}应在 0 与 1 之间（或 0 到 100 的百分数）")
    return x


def sample_size(margin, confidence=0.95, population=None, p=0.5):
    """The sample size for a margin of error.

    Args:
        margin: the sampling error, 0.05 or 5 (%).
        confidence: 0.95 by default; population: N, or None for an infinite one;
        p: the expected proportion, 0.5 is the safe choice.
    Returns:
        int, rounded up.
    """
    e, p = _fraction(margin, "抽样误差"), _fraction(p, "比例 p")
    z = z_value(_fraction(confidence, "置信水平"))
    n0 = z * z * p * (1 - p) / (e * e)
    if population:
        if population < 1:
            raise ValueError("总体数量应为正数")
        n0 = n0 / (1 + (n0 - 1) / population)
    return math.ceil(n0 - 1e-9)


def margin(n, confidence=0.95, population=None, p=0.5):
    """The sampling error of a sample of ``n`` (a fraction: 0.049 is 4.9 %)."""
    if n is None or n < 1:
        raise ValueError("样本量应为正整数")
    p = _fraction(p, "比例 p")
    z = z_value(_fraction(confidence, "置信水平"))
    e = z * math.sqrt(p * (1 - p) / n)
    if population:
        if population < n:
            raise ValueError("总体数量不应小于样本量")
        e *= math.sqrt((population - n) / (population - 1)) if population > 1 else 0
    return e
