"""Differential harness: the workbook's formulas (recalculated by LibreOffice) against
the Python engine, for applications and 附件3 rows. Used by tests/test_formulas_lo.py and
benchmarks/bench_lo_check.py."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import tempfile
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils.cell import get_column_letter, range_boundaries

from xl_addin.rules.engine import count_respondents, evaluate_application, evaluate_recommender, evaluate_row
from xl_addin.rules.materials import banner, checklist_missing, checklist_name, material_items
from xl_addin.rules.stars import proposed_name

RUNNER = Path(__file__).with_name("lo_runner.py")
SYSTEM_PYTHON = "/usr/bin/python3"
NUMERIC = {"se_base", "se_bonus", "se_total", "error_count", "warning_count", "row_count",
           "materials_missing"}
APP_OUTPUTS = ("se_base", "se_bonus", "se_total", "se_conclusion", "achievable_level",
               "proposed_level", "level_reason", "flags", "flag_text", "error_count",
               "warning_count", "status", "materials_missing", "banner")  # issue 13: 材料清单


def lo_available():
    from lo_session import available
    return available()


def run_job(job, timeout=600):
    """Run a tests/lo_runner.py job in this process's LibreOffice session
    (tests/lo_session.py); returns (results, seconds)."""
    from lo_session import session
    job = json.loads(json.dumps(job, ensure_ascii=False, default=_enc))  # dates as the runner takes them
    return session().job(job, timeout=timeout)


def run_job_in_new_process(job, timeout=600):
    """Run lo_runner.py on a job dict in an office of its own; returns (results, seconds)."""
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


def respondent_rows(case):
    """The 被访者名单 rows of a case: its own ``respondent_rows`` (姓名, 联系方式), or
    ``respondents_listed`` complete rows."""
    if case.get("respondent_rows") is not None:
        return [tuple(r) for r in case["respondent_rows"]]
    k = case.get("respondents_listed", 0) or 0
    return [(f"被访者{i + 1}", f"138{i:08d}") for i in range(int(k))]


def app_batch(case, names, tables, c, occupied):
    """Inputs of one application case → a runner batch."""
    cells = [[*names[k], case.get(k)] for k in app_input_keys(c)]
    sheet, c1, r1, r2, heads = tables["respondent_list"]
    rows = respondent_rows(case)
    for j, head in enumerate(("姓名", "联系方式")):
        col = get_column_letter(c1 + heads.index(head))
        cells += [[sheet, f"{col}{r1 + 1 + i}", rows[i][j] if i < len(rows) else None]
                  for i in range(r2 - r1)]
    read = [[*names[k], "n" if k in NUMERIC else "s"] for k in APP_OUTPUTS]
    return {"blocks": column_blocks(cells, occupied), "read": read}


def app_expected(case, c):
    raw = {k: v for k, v in case.items() if k != "respondent_rows"}
    raw["respondents_listed"] = count_respondents(respondent_rows(case))
    ev = evaluate_application(raw, c)
    s = ev.star
    return [ev.rubric.base, ev.rubric.bonus, ev.rubric.total, ev.rubric.conclusion,
            c.level_name(s.achievable),
            proposed_name(c, s, ev.values.get("level")) or "", s.reason,
            ev.codes, ev.messages, float(ev.error_count), float(ev.warning_count), ev.status,
            *_materials(case, ev, c)]


def _materials(case, ev, c):
    """材料清单: the number of items missing and the two-part banner (RULES.md M)."""
    n = len(checklist_missing(case, ev.values.get("category"), c))
    return [float(n), banner(ev.error_count, ev.warning_count, n, c)]


def run_applications(template, cases, c):
    """Recalculate every case in LibreOffice; returns (list of (got, expected), seconds)."""
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
            (proposed_name(c, s, ev.values.get("level")) or ""),
            s.reason if s else "", ev.conclusion or "",
            float(ev.error_count), float(ev.warning_count)]


def run_rows(template, rows, c, header=None):
    """Rows of 附件3, filled into the table in batches of its size; compare computed columns."""
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


def run_totals_and_headers(template, rows, headers, c):
    """附件3: the 统计 names after filling ``rows`` (one batch), and the header checks of
    each header case. Returns (totals got, totals expected, [(header got, expected)])."""
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
        totals = [float(len(rows)), float(sum(e.error_count for e in evs) + ev.error_count),
                  float(sum(e.warning_count for e in evs) + ev.warning_count)]
        out.append((g, totals + [ev.codes, ev.messages]))
    return out


# ---------------------------------------------------------------------- typed variants
VARIANT_SHEET = "V"


def variant_plan(c):
    """The formula builder's readers of every application input, and nothing else.

    Returns:
        (plan, keys): the plan (cells v:key, u:key, why:key …) and the input keys in order.
    """
    from xl_addin.rules import rubric
    from xl_addin.sheet.formulas import Builder, expected_text
    b = Builder(c, "application")
    keys = []
    for f in c.fields["application"]:
        if f.block != "derived":
            b.parse_field(f)
            keys.append(f.key)
    for item in c.rubric.items:
        for part in item.parts:
            fn = lambda v, part=part, item=item: rubric.read_part(part, v, item)  # noqa: E731
            b.parsed(part.key, "part", expected_text=expected_text(fn), words=item.choices or None)
            keys.append(part.key)
        if item.penalty:
            b.parse_penalty(item.penalty.key)
            keys.append(item.penalty.key)
    b.parse_penalty(c.rubric.veto_key)
    keys.append(c.rubric.veto_key)
    return b.p, keys


def build_variant_workbook(path, c, n_rows):
    """One sheet: a row per variant set — inputs in the first columns, every reader cell of
    :func:`variant_plan` beside them (as the 附件3 rows hold their helpers).

    Returns:
        (keys, outputs): input keys (columns 1..K) and output name -> column index (0-based
        within the outputs block that starts at column K+1).
    """
    from openpyxl import Workbook

    from xl_addin.sheet.formulas import render
    plan, keys = variant_plan(c)
    wb = Workbook()
    ws = wb.active
    ws.title = VARIANT_SHEET
    k = len(keys)
    names = list(plan.cells)
    col_in = {key: get_column_letter(i + 1) for i, key in enumerate(keys)}
    col_out = {n: get_column_letter(k + 1 + i) for i, n in enumerate(names)}
    for i, key in enumerate(keys):
        ws.cell(1, i + 1, key)
    for i, n in enumerate(names):
        ws.cell(1, k + 1 + i, n)
    for r in range(2, n_rows + 2):
        def resolve(name, r=r):
            return f"${col_in[name[3:]]}{r}" if name.startswith("in:") else f"${col_out[name]}{r}"
        for n in names:
            ws[f"{col_out[n]}{r}"] = render(plan.cells[n], resolve)
    wb.save(path)
    return keys, {n: i for i, n in enumerate(names)}


def variant_expected(raw, keys, c):
    """What the engine reads from one row of typed values: key -> (value, E23 message, why)."""
    from xl_addin.rules import engine, parse
    readings = {}
    values, _, flags = engine.normalise(raw, c, "application", readings)
    msgs = {f.field: f.message for f in flags}
    out = {}
    for key in keys:
        v = values.get(key)
        if v is None:
            v = ""
        elif isinstance(v, dt.date):
            v = float(parse.to_serial(v))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            v = float(v)
        reading = readings[key][1] if key in readings else None
        if isinstance(reading, parse.Kept):  # E34: the sheet's value cell stays empty
            v = ""
        why = getattr(reading, "why", None)
        out[key] = (v, msgs.get(key, ""), why or "", isinstance(reading, parse.Kept))
    return out


def run_variants(rows, c, workdir=None):
    """Fill ``rows`` (dicts of typed values) into a variant workbook, recalculate once in
    LibreOffice and compare every reader cell with the engine.

    Returns:
        (compared, differences): the number of typed values compared and a list of
        (row, key, what, sheet, engine).
    """
    with tempfile.TemporaryDirectory(prefix="pa_var_") as d:
        path = Path(workdir or d) / "variants.xlsx"
        keys, outs = build_variant_workbook(path, c, len(rows))
        k = len(keys)
        grid = [[_val(row.get(key)) for key in keys] for row in rows]
        last_in = get_column_letter(k)
        last_out = get_column_letter(k + len(outs))
        n = len(rows) + 1
        job = {"template": str(path), "batches": [{
            "grid": [[VARIANT_SHEET, f"A2:{last_in}{n}", grid]],
            "read_grid": [[VARIANT_SHEET, f"{get_column_letter(k + 1)}2:{last_out}{n}"]]}]}
        got, _ = run_job(job)
    table = got[0][0]
    diffs, compared = [], 0
    for i, (row, out) in enumerate(zip(rows, table)):
        want = variant_expected(row, keys, c)
        for key in keys:
            if row.get(key) is None:
                continue
            compared += 1
            v, msg, why, kept = want[key]
            sv = out[outs[f"v:{key}"]]
            su = out[outs[f"u:{key}"]] if f"u:{key}" in outs else ""
            sw = out[outs[f"why:{key}"]] if f"why:{key}" in outs else ""
            sk = bool(out[outs[f"kept:{key}"]]) if f"kept:{key}" in outs else False
            for what, s, e in (("value", sv, v), ("E23", su, msg), ("E24", sw, why),
                               ("E34", sk, kept)):
                if s != e:
                    diffs.append((i, key, what, s, e, row.get(key)))
    return compared, diffs
