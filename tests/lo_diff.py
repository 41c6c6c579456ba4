"""Differential harness: the workbook's formulas (recalculated by LibreOffice) against
the Python engine, for applications and 附件3 rows. Used by tests/test_formulas_lo.py and
benchmarks/bench_lo_check.py."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import tempfile
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries, get_column_letter

from xl_addin.campaign import load
from xl_addin.dossier import banner, checklist_missing, checklist_name, material_items
from xl_addin.engine import evaluate_application, evaluate_recommender, evaluate_row

RUNNER = Path(__file__).with_name("lo_runner.py")
SYSTEM_PYTHON = "/usr/bin/python3"
NUMERIC = {"se_base", "se_bonus", "se_total", "error_count", "warning_count", "row_count",
           "materials_missing"}
APP_OUTPUTS = ("se_base", "se_bonus", "se_total", "se_conclusion", "achievable_level",
               "proposed_level", "level_reason", "flags", "flag_text", "error_count",
               "warning_count", "status", "materials_missing", "banner")  # issue 13: 材料清单


def lo_available():
    import shutil
    if not shutil.which("soffice") or not os.path.exists(SYSTEM_PYTHON):
        return False
    r = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True)
    return r.returncode == 0


def run_job(job, timeout=600):
    """Run lo_runner.py on a job dict; returns (results, seconds)."""
    with tempfile.TemporaryDirectory(prefix="pa_lo_") as d:
        jp, op = Path(d) / "job.json", Path(d) / "out.json"
        jp.write_text(json.dumps(job, ensure_ascii=False, default=_enc), encoding="utf-8")
        r = subprocess.run([SYSTEM_PYTHON, str(RUNNER), str(jp), str(op)], timeout=timeout,
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"lo_runner failed ({r.returncode}):\n{r.stderr[-2000:]}")
        out = json.loads(op.read_text(encoding="utf-8"))
    return out["results"], out["seconds"]


def _enc(v):
    if isinstance(v, (dt.date, dt.datetime)):
        return {"date": v.strftime("%Y-%m-%d")}
    raise TypeError(type(v))


def _val(v):
    if isinstance(v, (dt.date, dt.datetime)):
        return {"date": v.strftime("%Y-%m-%d")}
    return v


def names_of(path):
    """defined name -> (sheet, A1) of a workbook, and its tables: name -> (sheet, ref, headers)."""
    wb = load_workbook(path)
    names = {}
    for n, dn in wb.defined_names.items():
        for sheet, coord in dn.destinations:
            names[n] = (sheet, coord.replace("$", ""))
    tables = {}
    for ws in wb.worksheets:
        for t in ws.tables.values():
            tn = t.displayName
            c1, r1, c2, r2 = range_boundaries(t.ref)
            heads = [ws.cell(r1, c).value for c in range(c1, c2 + 1)]
            tables[tn] = (ws.title, c1, r1, r2, heads)
    return names, tables


# ---------------------------------------------------------------------- applications
def app_input_keys(c):
    keys = [f.key for f in c.fields["application"] if f.block != "derived"]
    keys += [p.key for p in c.rubric.parts] + [c.rubric.veto_key]
    keys += [checklist_name(it) for it in material_items(c)]  # 材料清单 answers (RULES.md M)
    return keys


def column_blocks(cells, occupied):
    """Group (sheet, A1, value) into one-column runs; gaps must be empty template cells.

    Returns:
        (blocks, order): runner blocks and, for reads, the flat position of each cell.
    """
    from openpyxl.utils.cell import coordinate_from_string
    by_col = {}
    for sheet, coord, value in cells:
        col, row = coordinate_from_string(coord)
        by_col.setdefault((sheet, col), {})[row] = value
    blocks = []
    for (sheet, col), rows in by_col.items():
        run = []
        for r in range(min(rows), max(rows) + 2):
            if r in rows:
                run.append(r)
                continue
            if run and ((sheet, f"{col}{r}") in occupied or r > max(rows)):
                blocks.append([sheet, f"{col}{run[0]}:{col}{run[-1]}",
                               [_val(rows[x]) if x in rows else None
                                for x in range(run[0], run[-1] + 1)]])
                run = []
            elif run:
                run.append(r)
    return blocks


def occupied_cells(path):
    wb = load_workbook(path)
    return {(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows()
            for c in row if c.value is not None}


def app_batch(case, names, tables, c, occupied):
    """Inputs of one application case → a runner batch."""
    cells = [[*names[k], case.get(k)] for k in app_input_keys(c)]
    sheet, c1, r1, r2, heads = tables["respondent_list"]
    col = get_column_letter(c1 + heads.index("姓名"))
    k = case.get("respondents_listed", 0) or 0
    cells += [[sheet, f"{col}{r1 + 1 + i}", f"被访者{i + 1}" if i < k else None]
              for i in range(r2 - r1)]
    read = [[*names[k], "n" if k in NUMERIC else "s"] for k in APP_OUTPUTS]
    return {"blocks": column_blocks(cells, occupied), "read": read}


def app_expected(case, c):
    raw = {k: v for k, v in case.items()}
    raw["respondents_listed"] = case.get("respondents_listed", 0) or 0
    ev = evaluate_application(raw, c)
    s = ev.star
    return [ev.rubric.base, ev.rubric.bonus, ev.rubric.total, ev.rubric.conclusion,
            c.level_name(s.achievable),
            c.level_name(s.proposed) if s.proposed is not None else "", s.reason,
            ev.codes, ev.messages, float(len(ev.errors)), float(len(ev.warnings)), ev.status,
            *_materials(case, ev, c)]


def _materials(case, ev, c):
    """材料清单: the number of items missing and the two-part banner (RULES.md M)."""
    n = len(checklist_missing(case, ev.values.get("category"), c))
    return [float(n), banner(len(ev.errors), len(ev.warnings), n, c)]


def run_applications(template, cases, c=None):
    """Recalculate every case in LibreOffice; returns (list of (got, expected), seconds)."""
    c = c or load()
    names, tables = names_of(template)
    occupied = occupied_cells(template)
    batches = [app_batch(case, names, tables, c, occupied) for case in cases]
    got, seconds = run_job({"template": str(template), "batches": batches})
    return [(g, app_expected(case, c)) for g, case in zip(got, cases)], seconds


# ---------------------------------------------------------------------- 附件3 rows
ROW_OUTPUTS = ("问题代码", "问题说明", "可评等级", "建议等级", "等级说明", "自评结论", "错误数", "提醒数")


def row_expected(row, c):
    ev = evaluate_row(row, c)
    s = ev.star
    return [ev.codes, ev.messages,
            c.level_name(s.achievable) if s else "",
            (c.level_name(s.proposed) if s and s.proposed is not None else ""),
            s.reason if s else "", ev.conclusion or "",
            float(len(ev.errors)), float(len(ev.warnings))]


def run_rows(template, rows, c=None, header=None):
    """Rows of 附件3, filled into the table in batches of its size; compare computed columns."""
    c = c or load()
    names, tables = names_of(template)
    sheet, c1, r1, r2, heads = tables["recommendations"]
    fields = c.fields["recommendation_row"]
    size = r2 - r1
    batches, expected = [], []
    for start in range(0, len(rows), size):
        chunk = rows[start:start + size]
        sets, read = [], []
        clear = [[sheet, f"{get_column_letter(c1)}{r1 + 1}:"
                         f"{get_column_letter(c1 + len(fields) - 1)}{r2}"]]
        for i, row in enumerate(chunk):
            r = r1 + 1 + i
            for f in fields:
                v = row.get(f.key)
                if v is not None:
                    sets.append([sheet, f"{get_column_letter(c1 + heads.index(f.label))}{r}", _val(v)])
            for h in ROW_OUTPUTS:
                read.append([sheet, f"{get_column_letter(c1 + heads.index(h))}{r}",
                             "n" if h in ("错误数", "提醒数") else "s"])
            expected.append(row_expected(row, c))
        batches.append({"clear": clear, "set": sets, "read": read})
    got, seconds = run_job({"template": str(template), "batches": batches})
    flat = []
    n = len(ROW_OUTPUTS)
    for g in got:
        flat += [g[i:i + n] for i in range(0, len(g), n)]
    return list(zip(flat, expected)), seconds


def run_totals_and_headers(template, rows, headers, c=None):
    """附件3: the 统计 names after filling ``rows`` (one batch), and the header checks of
    each header case. Returns (totals got, totals expected, [(header got, expected)])."""
    c = c or load()
    names, tables = names_of(template)
    sheet, c1, r1, r2, heads = tables["recommendations"]
    fields = c.fields["recommendation_row"]
    assert len(rows) <= r2 - r1
    sets = []
    for i, row in enumerate(rows):
        for f in fields:
            if row.get(f.key) is not None:
                sets.append([sheet, f"{get_column_letter(c1 + heads.index(f.label))}{r1 + 1 + i}",
                             _val(row[f.key])])
    hkeys = [f.key for f in c.fields["recommender"]]
    batches = []
    for n, h in enumerate(headers):
        hs = [[*names[k], _val(h.get(k))] for k in hkeys]
        read = [[*names[k], "n" if k in NUMERIC else "s"]
                for k in ("row_count", "error_count", "warning_count", "header_flags",
                          "header_flag_text")]
        batches.append({"set": (sets if n == 0 else []) + hs, "read": read})
    got, _ = run_job({"template": str(template), "batches": batches})
    evs = [evaluate_row(r, c) for r in rows]
    out = []
    for g, h in zip(got, headers):
        ev = evaluate_recommender(h, c)
        totals = [float(len(rows)), float(sum(len(e.errors) for e in evs) + len(ev.errors)),
                  float(sum(len(e.warnings) for e in evs) + len(ev.warnings))]
        out.append((g, totals + [ev.codes, ev.messages]))
    return out
