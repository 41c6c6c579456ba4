"""What one E code is in the registry: its forms, its Python check and its sheet formula."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# The forms a code is checked on (the campaign's ``fields`` tables, the Builder's ``form``).
APPLICATION, ROW, RECOMMENDER = "application", "recommendation_row", "recommender"
FORMS = (APPLICATION, ROW, RECOMMENDER)


@dataclass(frozen=True)
class Rule:
    """One E code of RULES.md §E, both sides of it.

    Attributes:
        code: "E01" … as in the campaign's ``[flags.Exx]``.
        forms: the forms it is checked on (APPLICATION, ROW, RECOMMENDER); the check and the
            formula read ``x.form`` / ``b.form`` where the forms differ (E20, E21).
        check: the Python side, ``check(x)`` with x a checks.Context; yields Flags.
        formula: the sheet side, ``formula(b)`` with b a sheet.builder.Builder; adds the
            flag's cells and instances. None only with ``python_only``.
        python_only: why the sheet has no formula for the code ("" when it has one).
        late: forms whose sheet lays this code's cells after the other codes' cells (the
            layout of the committed templates; the engine sorts flags by code and field, so
            this moves cells, never flags).
        params: the keys of ``[flags.Exx]`` the check and the formula read besides the
            common ones (severity, rule, message, missing, decision, decision_label,
            categories); the campaign loader refuses any other key as a typo.
    """

    code: str
    forms: tuple
    check: Callable
    formula: Callable | None = None
    python_only: str = ""
    late: tuple = ()
    params: tuple = ()

    def __post_init__(self):
        if (self.formula is None) == (not self.python_only):
            raise ValueError(f"{self.code}: give a sheet formula or say why it is python-only")
        if not self.forms or not set(self.forms) <= set(FORMS) or not set(self.late) <= set(self.forms):
            raise ValueError(f"{self.code}: unknown form in {self.forms} / {self.late}")
        if not isinstance(self.params, tuple) or not all(isinstance(p, str) for p in self.params):
            raise ValueError(f"{self.code}: params must be a tuple of key names: {self.params!r}")
