"""One LibreOffice for a whole test process: requests in, answers out, one JSON line each.

Run with /usr/bin/python3 (the only interpreter with python3-uno) by tests/lo_session.py,
once per pytest(-xdist) worker; the office starts once and stays up until stdin closes:

    /usr/bin/python3 tests/lo_server.py

Requests (one JSON object a line on stdin; one answer a line on stdout):

- ``{"op": "job", "job": JOB}``: a job of tests/lo_runner.py (a template loaded once, batches
  of inputs, calculateAll(), outputs read) → ``{"results": ..., "seconds": ...}``.
- ``{"op": "read", "path": P, "logical": bool}``: load a private copy of P, recalculate every
  formula (``calculateAll()``: a file with cached values keeps them on load otherwise) and
  read back every sheet's used area over UNO, nothing exported →
  ``{"sheets": [[name, rows], ...], "seconds": ...}`` (with ``"sheets": [names]`` in the
  request, only those sheets' rows; the others' are null). A cell's value is a number, a string,
  "" for an empty cell or a formula's empty text, or {"error": "#DIV/0!"} (the error an .xlsx
  export would store). With ``logical``, a formula whose result is TRUE/FALSE reads as a JSON
  boolean, as the export stores it (LibreOffice keeps logicals as 1/0 with a BOOLEAN format).
- ``{"op": "ping"}`` → ``{"pong": true}``.

An answer is ``{"ok": ...}`` or ``{"error": "..."}``; a request that kills the office is
answered with an error and the office is started again for the next one.
"""

import json
import os
import sys
import time
import traceback

import lo_runner
import uno  # noqa: F401  (only in /usr/bin/python3)

# LibreOffice's error codes as an .xlsx export writes them (sc/source/filter/excel/xltools.cxx
# XclTools::GetXclErrorCode); any other code is written as #N/A.
XLSX_ERRORS = {501: "#VALUE!", 502: "#VALUE!", 503: "#NUM!", 504: "#VALUE!", 507: "#VALUE!",
               508: "#VALUE!", 509: "#VALUE!", 510: "#VALUE!", 511: "#VALUE!", 519: "#VALUE!",
               521: "#NULL!", 522: "#VALUE!", 524: "#REF!", 525: "#NAME?", 526: "#NAME?",
               527: "#NAME?", 532: "#DIV/0!", 32767: "#N/A"}
FORMULA_VALUE, FORMULA_ERROR = 1, 4  # com.sun.star.sheet.FormulaResult
LOGICAL = 1024  # com.sun.star.util.NumberFormat.LOGICAL


def used_rows(sheet):
    """(last row, last column), 0-based, of a sheet's used area (-1, -1 when empty)."""
    cur = sheet.createCursor()
    cur.gotoEndOfUsedArea(False)
    a = cur.getRangeAddress()
    return a.EndRow, a.EndColumn


def _cells(ranges):
    for a in ranges.getRangeAddresses():
        for r in range(a.StartRow, a.EndRow + 1):
            for c in range(a.StartColumn, a.EndColumn + 1):
                yield r, c


def read_sheet(doc, sheet, logical):
    last_row, last_col = used_rows(sheet)
    if last_row < 0 or last_col < 0:
        return []
    area = sheet.getCellRangeByPosition(0, 0, last_col, last_row)
    rows = [list(r) for r in area.getDataArray()]
    # getDataArray gives None for a cell in error: ask those cells for their error
    for r, c in _cells(area.queryFormulaCells(FORMULA_ERROR)):
        code = sheet.getCellByPosition(c, r).getError()
        rows[r][c] = {"error": XLSX_ERRORS.get(code, "#N/A"), "code": code}
    if logical:
        formats = doc.NumberFormats
        kinds = {}
        for r, c in _cells(area.queryFormulaCells(FORMULA_VALUE)):
            if rows[r][c] not in (0.0, 1.0):
                continue
            key = sheet.getCellByPosition(c, r).getPropertyValue("NumberFormat")
            if key not in kinds:
                kinds[key] = bool(formats.getByKey(key).Type & LOGICAL)
            if kinds[key]:
                rows[r][c] = rows[r][c] == 1.0
    return [[v if v is not None else "" for v in row] for row in rows]


def read(desktop, path, logical=False, only=None):
    import shutil
    t0 = time.time()
    doc, folder = lo_runner.open_copy(desktop, path)
    try:
        doc.calculateAll()
        sheets = doc.Sheets
        out = []
        for i in range(sheets.getCount()):
            sh = sheets.getByIndex(i)
            name = sh.getName()
            out.append([name, read_sheet(doc, sh, logical) if only is None or name in only
                        else None])
    finally:
        doc.close(True)
        shutil.rmtree(folder, ignore_errors=True)
    return {"sheets": out, "seconds": time.time() - t0}


def main():
    # stdout carries the answers only: whatever else writes to fd 1 goes to stderr
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    office = None
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            req = json.loads(line)
            try:
                if office is None:
                    office = lo_runner.start_office()
                desktop = office[1]
                if req["op"] == "job":
                    ok = lo_runner.run(desktop, req["job"])
                elif req["op"] == "read":
                    ok = read(desktop, req["path"], req.get("logical", False), req.get("sheets"))
                elif req["op"] == "ping":
                    ok = {"pong": True}
                else:
                    raise ValueError(f"unknown op {req['op']!r}")
                answer = {"ok": ok}
            except BaseException as e:  # noqa: BLE001 - every failure is an answer
                if isinstance(e, KeyboardInterrupt):
                    raise
                answer = {"error": f"{type(e).__name__}: {e}\n{traceback.format_exc()[-3000:]}"}
                if office is not None and office[0].poll() is not None:
                    office = None  # the office died: start a new one for the next request
                elif type(e).__name__ in ("DisposedException", "RuntimeException"):
                    lo_runner.stop_office(*office)
                    office = None
            answers.write(json.dumps(answer, ensure_ascii=False) + "\n")
            answers.flush()
    finally:
        if office is not None:
            lo_runner.stop_office(*office)


if __name__ == "__main__":
    main()
