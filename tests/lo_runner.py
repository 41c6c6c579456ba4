"""Recalculate a workbook in LibreOffice over UNO, many input sets in one process.

Run with /usr/bin/python3 (the only interpreter with python3-uno):

    /usr/bin/python3 tests/lo_runner.py JOB.json OUT.json

JOB: {"template": path, "batches": [{"clear": [[sheet, "A1:B9"], ...],
      "set": [[sheet, "B5", value], ...], "blocks": [[sheet, "B5:B9", [value, ...]], ...],
      "read_blocks": [[sheet, "B5:B9"], ...], "read": [[sheet, "B6", "s" | "n"], ...]}]}
("blocks" set a one-column range in one call; "read_blocks" come first in the output;
"grid": [[sheet, "A2:K9", [[row values], ...]]] sets a 2-D range in one call and
"read_grid": [[sheet, "A2:K9"]] reads one as a list of rows, appended as one item.)
A value is a number, a string, null (clear the cell) or {"date": "YYYY-MM-DD"}.
OUT: {"results": [[value read, ...] per batch], "seconds": float}; a cell in error
reads as "#ERR:<code>". The template is loaded once; each batch sets its inputs, calls
calculateAll() and reads the outputs.
"""

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time

import uno  # noqa: F401  (only in /usr/bin/python3)
from com.sun.star.beans import PropertyValue

EPOCH = dt.date(1899, 12, 30)


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def start_office():
    """A headless office on a private profile, listening on a pipe. Returns (proc, desktop);
    :func:`stop_office` ends it and removes the profile."""
    profile = tempfile.mkdtemp(prefix="lo_pa_uno_")
    pipe = f"pa_{os.getpid()}_{os.path.basename(profile)}"
    proc = subprocess.Popen(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--invisible",
         "--norestore", "--nologo", "--nodefault", f"--accept=pipe,name={pipe};urp;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc.profile = profile
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(900):  # a busy shared machine may need a while
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            break
        except Exception:  # noqa: BLE001 - office not up yet
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    else:
        ctx = None
    if ctx is None:
        proc.kill()
        raise SystemExit("LibreOffice did not start")
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    return proc, desktop


def _cell_value(v):
    if v is None:
        return ""
    if isinstance(v, dict):
        return float((dt.date.fromisoformat(v["date"]) - EPOCH).days)
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return float(v)
    return v


def open_copy(desktop, path):
    """Load a private copy of ``path`` (a stale lock file of the original cannot block it, and
    LibreOffice's own lock file is never written beside the original), hidden, with automatic
    calculation off. Returns (doc, the copy's folder)."""
    import shutil
    folder = tempfile.mkdtemp(prefix="lo_pa_doc_")
    work = os.path.join(folder, "work" + (os.path.splitext(path)[1] or ".xlsx"))
    shutil.copyfile(path, work)
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(work), "_blank", 0,
                                       (prop("Hidden", True),))
    if doc is None:
        shutil.rmtree(folder, ignore_errors=True)
        raise SystemExit(f"LibreOffice could not open {path}")
    doc.enableAutomaticCalculation(False)
    return doc, folder


def run_batches(doc, batches):
    """Each batch: set its inputs, calculateAll(), read its outputs (see the module doc)."""
    for i in range(doc.Sheets.getCount()):
        # block writes may cross locked (label) cells of a protected sheet
        doc.Sheets.getByIndex(i).unprotect("")
    sheets = doc.Sheets
    cache = {}

    def sheet(name):
        if name not in cache:
            cache[name] = sheets.getByName(name)
        return cache[name]

    results = []
    for batch in batches:
        for sh, rng in batch.get("clear", []):
            # 7 = VALUE | DATETIME | STRING; formulas are kept
            sheet(sh).getCellRangeByName(rng).clearContents(7)
        for sh, addr, value in batch.get("set", []):
            cell = sheet(sh).getCellRangeByName(addr)
            if value is None:
                cell.clearContents(7)
            elif isinstance(value, dict):
                cell.setValue((dt.date.fromisoformat(value["date"]) - EPOCH).days)
            elif isinstance(value, bool):
                cell.setValue(1 if value else 0)
            elif isinstance(value, (int, float)):
                cell.setValue(value)
            else:
                cell.setString(value)
        for sh, rng, rows in batch.get("grid", []):
            sheet(sh).getCellRangeByName(rng).setDataArray(
                tuple(tuple(_cell_value(v) for v in row) for row in rows))
        for sh, rng, values in batch.get("blocks", []):
            # one call per column run: UNO round trips dominate the run time
            sheet(sh).getCellRangeByName(rng).setDataArray(
                tuple((_cell_value(v),) for v in values))
        doc.calculateAll()
        out = []
        for sh, rng in batch.get("read_blocks", []):
            data = sheet(sh).getCellRangeByName(rng).getDataArray()
            out.extend(row[0] for row in data)
        for sh, rng in batch.get("read_grid", []):
            out.append([list(row) for row in sheet(sh).getCellRangeByName(rng).getDataArray()])
        for sh, addr, kind in batch.get("read", []):
            cell = sheet(sh).getCellRangeByName(addr)
            if cell.getError():
                out.append(f"#ERR:{cell.getError()}")
            elif kind == "n":
                out.append(cell.getValue())
            else:
                out.append(cell.getString())
        results.append(out)
    return results


def run(desktop, job):
    """One job in a running office: the template loaded once, every batch, ``save_as``.

    Returns:
        {"results": [[value read, ...] per batch], "seconds": float}
    """
    import shutil
    t0 = time.time()
    doc, folder = open_copy(desktop, job["template"])
    try:
        results = run_batches(doc, job["batches"])
        seconds = time.time() - t0
        if job.get("save_as"):
            doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(job["save_as"])),
                           (prop("FilterName", "Calc MS Excel 2007 XML"),))
    finally:
        doc.close(True)
        shutil.rmtree(folder, ignore_errors=True)
    return {"results": results, "seconds": seconds}


def stop_office(proc, desktop):
    import shutil
    try:
        desktop.terminate()
    except Exception:  # noqa: BLE001 - the bridge dies with the office
        pass
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    shutil.rmtree(getattr(proc, "profile", ""), ignore_errors=True)


def main(job_path, out_path):
    job = json.load(open(job_path, encoding="utf-8"))
    proc, desktop = start_office()
    try:
        out = run(desktop, job)
    finally:
        stop_office(proc, desktop)
    json.dump(out, open(out_path, "w", encoding="utf-8"), ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
