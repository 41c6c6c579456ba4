"""Hypothesis example counts that follow the profile (tests/conftest.py: "ci" by default,
"full" in the slow run, docs/DEVELOPING.md "Tests")."""

from hypothesis import settings

FULL = 100  # the "full" profile's max_examples, as Hypothesis' own default


def examples(n):
    """``n`` examples under the full profile, the same share of it under a lighter one
    (at least 10): ``@settings(max_examples=examples(60))``."""
    return max(10, round(n * settings.default.max_examples / FULL))
