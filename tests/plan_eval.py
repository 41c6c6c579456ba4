"""The sheet's own formulas, evaluated outside a spreadsheet program (issue 20).

A formula :class:`~xl_addin.sheet.builder.Plan` (the application's, or a few cells of it) is
laid out on one row — inputs first, then every plan cell — and evaluated either by the
project's evaluator :mod:`xl_addin.sheet.xlcalc` (Excel's semantics, pure Python: fast
enough for thousands of applications) or, one row per case, recalculated by LibreOffice
through the existing runner (:func:`lo_diff.run_job`). Used by tests/test_report_use.py,
tests/test_sheet_differential.py and benchmarks/bench_sheet_differential.py.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import lo_diff
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from xl_addin.rules import parse
from xl_addin.sheet.formulas import render
from xl_addin.sheet.xlcalc import Book, XLError

SHEET = "S"


def cell_value(v):
    """A raw input as a spreadsheet cell holds it (dates are serials, ints floats)."""
    if isinstance(v, (dt.date, dt.datetime)):
        return float(parse.to_serial(v if not isinstance(v, dt.datetime) else v.date()))
    if isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    return v


class PlanRow:
    """A plan on one row: ``in:<key>`` inputs in the first columns, the cells after them;
    the plan's lists (``list:<name>``, e.g. the expert form's score spellings) as constant
    columns after the cells, from ``lists`` (name -> values). ``order``: the inputs' column
    order when the plan reads ranges of adjacent inputs (the expert row)."""

    def __init__(self, plan, lists=None, order=()):
        self.plan = plan
        refs = {r for name in plan.cells for r in plan.refs(name)}
        used = sorted(r[3:] for r in refs if r.startswith("in:"))
        self.inputs = list(order) + [k for k in used if k not in order]
        self.names = list(plan.cells)
        self.col_in = {k: i + 1 for i, k in enumerate(self.inputs)}
        self.col_out = {n: len(self.inputs) + 1 + i for i, n in enumerate(self.names)}
        self.lists = dict(lists or {})
        end = len(self.inputs) + len(self.names)
        self.col_list = {n: end + 2 + i for i, n in enumerate(self.lists)}
        self.constants = {(r, self.col_list[n]): v for n, values in self.lists.items()
                          for r, v in enumerate(values, start=1)}
        self.formulas = {(1, self.col_out[n]): self.render(n, 1)[1:] for n in self.names}

    def ref(self, name, row):
        if name.startswith("list:"):
            col = get_column_letter(self.col_list[name[5:]])
            return f"${col}$1:${col}${len(self.lists[name[5:]])}"
        col = self.col_in[name[3:]] if name.startswith("in:") else self.col_out[name]
        return f"${get_column_letter(col)}{row}"

    def render(self, name, row):
        return render(self.plan.cells[name], lambda n: self.ref(n, row))

    def evaluate(self, values, outputs):
        """Evaluate one case with xlcalc.

        Args:
            values: input key -> raw value (keys the plan does not read are ignored).
            outputs: plan cell names to return.
        Returns:
            dict name -> value (str, float, bool; an error as its code "#VALUE!").
        """
        cells = dict(self.constants)
        for k in self.inputs:
            v = values.get(k)
            if v is not None:
                cells[(1, self.col_in[k])] = cell_value(v)
        book = Book({SHEET: cells}, {SHEET: self.formulas})
        out = {}
        for n in outputs:
            v = book.value(SHEET, 1, self.col_out[n])
            out[n] = v.code if isinstance(v, XLError) else v
        return out

    def recalculated(self, rows, outputs, workdir=None):
        """Recalculate ``rows`` (one case a row) in LibreOffice, once.

        Returns:
            list (one per row) of dict name -> value as LibreOffice gives it (text, or a
            number as float).
        """
        with tempfile.TemporaryDirectory(prefix="pa_plan_") as d:
            path = Path(workdir or d) / "plan.xlsx"
            wb = Workbook()
            ws = wb.active
            ws.title = SHEET
            for row in range(1, len(rows) + 1):
                for n in self.names:
                    ws.cell(row, self.col_out[n], self.render(n, row))
            for (r, col), v in self.constants.items():
                ws.cell(r, col, v)
            wb.save(path)
            k = len(self.inputs)
            grid = [[lo_diff._val(cell_value(r.get(key))) for key in self.inputs] for r in rows]
            last = len(rows)
            first_out, last_out = get_column_letter(k + 1), get_column_letter(k + len(self.names))
            job = {"template": str(path), "batches": [{
                "grid": [[SHEET, f"A1:{get_column_letter(k)}{last}", grid]],
                "read_grid": [[SHEET, f"{first_out}1:{last_out}{last}"]]}]}
            got, _ = lo_diff.run_job(job)
        table = got[0][0]
        pos = {n: i for i, n in enumerate(self.names)}
        return [{n: line[pos[n]] for n in outputs} for line in table]
