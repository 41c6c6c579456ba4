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
    profile = tempfile.mkdtemp(prefix="lo_pa_uno_")
    pipe = f"pa_{os.getpid()}"
    proc = subprocess.Popen(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--invisible",
         "--norestore", "--nologo", "--nodefault", f"--accept=pipe,name={pipe};urp;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(900):  # a busy shared machine may need a while
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            break
        except Exception:  # noqa: BLE001 - office not up yet
            time.sleep(0.1)
    else:
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


def main(job_path, out_path):
    job = json.load(open(job_path, encoding="utf-8"))
    proc, desktop = start_office()
    t0 = time.time()
    try:
        # work on a private copy: a stale lock file of the template cannot block us
        import shutil
        work = os.path.join(tempfile.mkdtemp(prefix="lo_pa_doc_"), "work.xlsx")
        shutil.copyfile(job["template"], work)
        url = uno.systemPathToFileUrl(work)
        doc = desktop.loadComponentFromURL(url, "_blank", 0, (prop("Hidden", True),))
        if doc is None:
            raise SystemExit(f"LibreOffice could not open {job['template']}")
        doc.enableAutomaticCalculation(False)
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
        for batch in job["batches"]:
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
        seconds = time.time() - t0
        if job.get("save_as"):
            doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(job["save_as"])),
                           (prop("FilterName", "Calc MS Excel 2007 XML"),))
        doc.close(True)
    finally:
        try:
            desktop.terminate()
        except Exception:  # noqa: BLE001 - the bridge dies with the office
            pass
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    json.dump({"results": results, "seconds": seconds}, open(out_path, "w", encoding="utf-8"),
              ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
