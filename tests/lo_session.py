"""The LibreOffice of this test process: started once, shared by every LibreOffice test.

Every test that needs LibreOffice's recalculation goes through :func:`session` — the
three-way verdict (test_one_verdict.py), the 材料清单 banner, the cached values
(test_xlcache.py), the forms' differential tests (lo_diff.run_job) — so each pytest-xdist
worker starts one office (tests/lo_server.py, Debian's /usr/bin/python3 with python3-uno)
instead of one per test, and never exports a file to read it back: the recalculated cells
come over UNO.

A file is recalculated once per run: :meth:`LOSession.recalculate` keeps what it read,
keyed by the file's content, in memory and — when :func:`set_cache_dir` named a folder (the
conftest does: one for the run, common to the workers) — on disk, so the other worker
reuses it too.

    rec = session().recalculate(path)      # Recalculated: every sheet's values
    rec.value("申请表", "B5"); rec.cells("结果")
    read_recalculated(path).values["banner"]  # read/workbook.Submission, recalculated
    session().job({...})                   # a tests/lo_runner.py job
"""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER = Path(__file__).with_name("lo_server.py")
TIMEOUT = 900  # seconds one request may take on a busy shared machine

EPOCH = dt.datetime(1899, 12, 30)
_SESSION = None
_CACHE_DIR = None


def available():
    """LibreOffice and the UNO bridge of the system's Python are installed."""
    if not shutil.which("soffice") or not os.path.exists(SYSTEM_PYTHON):
        return False
    r = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True)
    return r.returncode == 0


def set_cache_dir(folder):
    """Keep recalculated files' values under ``folder`` (shared by the run's workers)."""
    global _CACHE_DIR
    _CACHE_DIR = Path(folder)
    _CACHE_DIR.mkdir(parents=True, exist_ok=True)


class LOError(RuntimeError):
    """LibreOffice (or the server around it) failed a request."""


class Recalculated:
    """Every sheet of a workbook as LibreOffice recalculated it.

    A value is a float, a str ("" for an empty cell or an empty text), a bool (only when read
    with ``logical=True``) or an error text such as "#DIV/0!" (what an .xlsx export stores).
    """

    def __init__(self, path, sheets):
        self.path = Path(path)
        self.sheets = {name: rows for name, rows in sheets if rows is not None}  # those read
        self.sheet_names = [name for name, _rows in sheets]  # every sheet of the workbook

    def value(self, sheet, row, col=None):
        """The value of a cell: ``value("S", "B5")`` or ``value("S", 5, 2)`` (1-based);
        "" outside the used area."""
        if col is None:
            from openpyxl.utils.cell import coordinate_to_tuple
            row, col = coordinate_to_tuple(row)
        rows = self.sheets[sheet]
        if row > len(rows) or col > len(rows[row - 1]):
            return ""
        return rows[row - 1][col - 1]

    def cells(self, sheet):
        """{(row, col): value} of a sheet's non-empty cells, 1-based."""
        return {(r, c): v for r, row in enumerate(self.sheets[sheet], start=1)
                for c, v in enumerate(row, start=1) if v != ""}


class LOSession:
    """One lo_server.py process (one office) and its answers."""

    def __init__(self):
        self.proc = None
        self.lock = threading.Lock()
        self.memo = {}
        self.started = 0  # offices started: 1 per worker unless one died
        self.requests = 0  # requests answered by the office (a cached read asks none)
        self.log = None

    def _start(self):
        self.log = tempfile.TemporaryFile(prefix="lo_server_", suffix=".log")
        # its own process group: the office (a grandchild) ends with it when killed
        self.proc = subprocess.Popen([SYSTEM_PYTHON, str(SERVER)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, text=True,
                                     encoding="utf-8", cwd=str(SERVER.parent),
                                     start_new_session=True)
        self.started += 1

    def request(self, req, timeout=TIMEOUT):
        """Send one request, wait for its answer (``ok``), raise :class:`LOError` otherwise."""
        with self.lock:
            if self.proc is None or self.proc.poll() is not None:
                self._start()
            proc = self.proc
            timer = threading.Timer(timeout, _kill, (proc,))  # a hung office ends the request
            timer.start()
            try:
                proc.stdin.write(json.dumps(req, ensure_ascii=False) + "\n")
                proc.stdin.flush()
                line = proc.stdout.readline()
            except (BrokenPipeError, OSError):
                line = ""
            finally:
                timer.cancel()
            if not line:
                self.proc = None
                raise LOError(f"LibreOffice server ended ({proc.poll()}): {self._tail()}")
            answer = json.loads(line)
            self.requests += 1
        if "error" in answer:
            raise LOError(answer["error"])
        return answer["ok"]

    def _tail(self):
        if self.log is None:
            return ""
        self.log.seek(0)
        return self.log.read()[-2000:].decode("utf-8", "replace")

    def job(self, job, timeout=TIMEOUT):
        """A tests/lo_runner.py job; returns (results, seconds)."""
        out = self.request({"op": "job", "job": job}, timeout)
        return out["results"], out["seconds"]

    def recalculate(self, path, logical=False, sheets=None):
        """Every sheet of ``path`` recalculated by LibreOffice (once per content and run).

        Args:
            logical: tell TRUE/FALSE results from 1/0 (a little slower; the cached-value
                tests need it, the verdicts do not).
            sheets: read only these sheets (the whole workbook is still recalculated); the
                others read as absent (KeyError).
        Returns:
            :class:`Recalculated`
        """
        path = Path(path)
        key = hashlib.sha256(path.read_bytes()).hexdigest() + ("-logical" if logical else "")
        if sheets is not None:
            key += "-" + hashlib.sha256("\n".join(sorted(sheets)).encode()).hexdigest()[:16]
        if key in self.memo:
            return Recalculated(path, self.memo[key])
        stored = _CACHE_DIR / f"{key}.json" if _CACHE_DIR is not None else None
        if stored is not None and stored.exists():
            sheets = json.loads(stored.read_text(encoding="utf-8"))
        else:
            req = {"op": "read", "path": str(path.resolve()), "logical": logical}
            if sheets is not None:
                req["sheets"] = sorted(sheets)
            out = self.request(req)
            sheets = _decode(out["sheets"])
            if stored is not None:
                tmp = stored.with_name(f"{stored.name}.{os.getpid()}.tmp")
                tmp.write_text(json.dumps(sheets, ensure_ascii=False), encoding="utf-8")
                os.replace(tmp, stored)  # atomic: the other worker sees all of it or nothing
        self.memo[key] = sheets
        return Recalculated(path, sheets)

    def close(self):
        with self.lock:
            if self.proc is not None and self.proc.poll() is None:
                try:
                    self.proc.stdin.close()
                    self.proc.wait(timeout=60)
                except (OSError, subprocess.TimeoutExpired):
                    _kill(self.proc)
            self.proc = None


def _kill(proc):
    """End the server and the office it started (one process group)."""
    import signal
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _decode(sheets):
    return [[name, None if rows is None else
             [[v["error"] if isinstance(v, dict) else v for v in row] for row in rows]]
            for name, rows in sheets]


def session():
    """This process's session (started on first use, closed when the process ends)."""
    global _SESSION
    if _SESSION is None:
        _SESSION = LOSession()
        atexit.register(_SESSION.close)
    return _SESSION


def read_recalculated(path, logical=False, names=None, tables=None):
    """``read/workbook.read_submission`` of ``path`` as if LibreOffice had recalculated and
    saved it: the names and tables of the file itself, their values from LibreOffice.

    Args:
        names: the defined names to read (default: all).
        tables: the tables to read (default: all). Only the sheets of these names and tables
            are read back from LibreOffice.
    Returns:
        xl_addin.read.workbook.Submission
    """
    import dataclasses

    from xl_addin.read import workbook as fastread
    sub = fastread.read_submission(path, names=names)
    if tables is not None:
        sub = dataclasses.replace(sub, tables={k: t for k, t in sub.tables.items() if k in tables})
    wanted = {sheet for sheet, _coord in sub.locations.values()}
    wanted |= {t.sheet for t in sub.tables.values()}
    rec = session().recalculate(path, logical, sheets=wanted)

    def get(sheet, r, c):
        v = rec.value(sheet, r, c)
        return None if v == "" else v

    def like(v, was):
        """A date or time typed into the file reads as one, as calamine reads a saved copy."""
        if isinstance(v, float) and isinstance(was, (dt.date, dt.time)):
            return fastread_value(v, was)
        return v

    values = {}
    for name, ref in _defined_names(path).items():
        if name not in sub.values:
            continue
        sheet, r1, c1, r2, c2 = fastread.parse_ref(ref)
        v = None
        # as the reader does: a name over a merged range has its value in the top-left cell
        for r in range(r1, min(r2, r1 + 20) + 1):
            for c in range(c1, min(c2, c1 + 20) + 1):
                v = get(sheet, r, c)
                if v is not None:
                    break
            if v is not None:
                break
        values[name] = like(v, sub.values[name])
    tables = {}
    for tname, t in sub.tables.items():
        rows = [[like(get(t.sheet, t.first_row + i, t.first_col + j), t.rows[i][j])
                 for j in range(len(t.columns))] for i in range(len(t.rows))]
        tables[tname] = dataclasses.replace(t, rows=rows)
    return dataclasses.replace(sub, values=values, tables=tables)


def fastread_value(serial, was):
    """An Excel serial as the type calamine gave the same cell of the file (date, datetime,
    time)."""
    moment = EPOCH + dt.timedelta(days=serial)
    if isinstance(was, dt.datetime):
        return moment
    if isinstance(was, dt.date):
        return moment.date()
    return moment.time()


def _defined_names(path):
    """Workbook-level defined names of an .xlsx: name -> reference text."""
    import zipfile

    from defusedxml import ElementTree
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    with zipfile.ZipFile(path) as z:
        root = ElementTree.fromstring(z.read("xl/workbook.xml"))
    return {d.get("name"): d.text or "" for d in root.iter(f"{ns}definedName")
            if d.get("localSheetId") is None}
