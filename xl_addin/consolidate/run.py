"""`saq consolidate`: a folder of submissions into one master workbook (issue 4).

Steps: list and classify files (walk), read and evaluate them (collect), match rows to
workbooks and apply cross-file rules (crossfile), keep the staff's columns (staff), write
the master atomically under a run lock (master, output).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from ..campaign import load
from ..errors import InputFileError, os_reason
from . import collect, crossfile, master, output, walk
from .columns import key_text
from .crossfile import app_key
from .model import IMPORTED, REJECTED, RunResult
from .progress import Progress
from .staff import StaffNotes, read_staff_notes


def consolidate(folder, out, campaign=None, progress=None, workers=None, registry=None):
    """Consolidate every submission under ``folder`` into the master workbook ``out``.

    Args:
        folder: the folder of submissions (walked recursively).
        out: the master workbook to write (.xlsx).
        campaign: a Campaign (default: 2023).
        progress: True/False to force the progress bar on stderr; None = when a terminal.
        workers: processes that read files (default :func:`default_workers`; 1 = serial).
        registry: the campaign registry (.sqlite) to look earlier results up in (K4/E06,
            上年结果); default 评价档案.sqlite beside ``out`` when it exists.
    Returns:
        RunResult (``written_to`` differs from ``out`` when the master was open in Excel).
    Raises:
        InputFileError: the folder does not exist.
        RunLocked: another run is writing the same master.
        OutputFileError: the master cannot be written at all.
    """
    c = campaign or load()
    folder, out = Path(folder), Path(out)
    if not folder.is_dir():
        raise InputFileError(folder, "不是文件夹或不存在")
    if out.suffix.lower() != ".xlsx":
        out = out.with_suffix(".xlsx")
    out.parent.mkdir(parents=True, exist_ok=True)
    started, t0 = master.now(), time.perf_counter()
    with output.RunLock(out):
        result = _collect(folder, out, c, progress, workers, registry)
        messages = _attach_staff(out, result.entries, started)
        result.seconds = time.perf_counter() - t0
        tmp = output.temp_beside(out)
        try:
            master.write_master(tmp, result, c, folder, started)
            written, msg = output.publish(tmp, out, started)
        except OSError as e:
            from ..errors import OutputFileError
            raise OutputFileError(out, f"{os_reason(e)}") from None
        finally:
            if tmp.exists():
                os.unlink(tmp)
    result.written_to = written
    result.messages = messages + ([msg] if msg else [])
    return result


PARALLEL_FROM = 60  # files; below this, starting worker processes costs more than it saves


def default_workers():
    """Reading processes: up to 4, by CPU count."""
    return max(1, min(4, os.cpu_count() or 1))


def _read_one(rec, c):
    """Classify, read and evaluate one file (runs in a worker process for big folders).

    Returns:
        (rec, ("app", AppSource) | ("rec", (header, rows, rejected)) | None)
    """
    sub = walk.classify(rec, c)
    if sub is None:
        return rec, None
    try:
        if sub.kind == "application":
            return rec, ("app", collect.read_application(sub, rec, c))
        return rec, ("rec", collect.read_recommender(sub, rec, c))
    except Exception as e:  # noqa: BLE001 - one bad file never stops the run (§4)
        rec.status, rec.rows_read = REJECTED, 0
        rec.reason = f"内容无法读取（{type(e).__name__}），请使用下发的模板重新填写"
        return rec, None


def _worker(args):
    rec, campaign_path = args
    return _read_one(rec, load(campaign_path))


def _results(todo, c, workers):
    """(rec, payload) for every file to read, in input order (deterministic)."""
    pool = None
    if workers > 1 and len(todo) >= PARALLEL_FROM:
        try:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor
            # Only "fork": "spawn" re-imports the caller's main module, which `python -m`,
            # an Excel-hosted Python or a frozen app do not allow. Windows reads serially.
            ctx = multiprocessing.get_context("fork")
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
        except (OSError, ImportError, NotImplementedError, ValueError):
            pool = None  # no process pool here: read serially instead
    if pool is not None:
        with pool:
            yield from pool.map(_worker, [(r, c.path) for r in todo], chunksize=8)
        return
    for r in todo:
        yield _read_one(r, c)


def _collect(folder, out, c, progress, workers=None, registry=None):
    files = walk.list_files(folder, skip=(out, output.lock_path(out)))
    bar = Progress(len(files), enabled=progress)
    seen, todo = {}, []
    for rec in files:
        if walk.prepare(rec, seen):
            todo.append(rec)
        else:
            bar.step(rec.rel)
    by_path = {r.path: i for i, r in enumerate(files)}
    apps, rows, rejected, headers = [], [], [], []
    workers = workers if workers is not None else default_workers()
    for rec, payload in _results(todo, c, workers):
        files[by_path[rec.path]] = rec  # a worker's copy comes back filled in
        if payload and payload[0] == "app":
            apps.append(payload[1])
        elif payload:
            h, rs, rej = payload[1]
            headers.append(h)
            rows.extend(rs)
            rejected.extend(rej)
        bar.step(rec.rel)
    bar.close()
    for rec in files:
        if rec.status == REJECTED:
            rejected.append(collect.reject_file(rec))
    from .. import registry as reg_mod
    with reg_mod.with_closing(reg_mod.open_if_exists(registry or reg_mod.default_path(out))) as reg:
        found = reg_mod.apply_to_applications(apps, reg, c)  # before the flags are listed
        entries = crossfile.build_entries(apps, rows, c)
        reg_mod.annotate_entries(entries, reg, c, found)
    return RunResult(out, out, files, entries, rejected, headers)


def _attach_staff(out, entries, started):
    """Copy 审定意见/备注 from the previous master; keep a backup if it cannot be read."""
    if not out.exists():
        return []
    messages = []
    try:
        notes = read_staff_notes(out)
    except Exception:  # noqa: BLE001 - a damaged old master must not lose the staff's work
        b = output.backup(out, started)
        notes = StaffNotes()
        messages.append(f"原汇总表无法读取，已备份为 {b}；其中的审定意见、备注请从备份中复制。")
    for e in entries:
        src = e.app.file.rel if e.app else e.row.file.rel
        e.staff = dict(notes.get(key_text(app_key(e.values)), src))
    return messages


def summary_lines(result):
    """The closing summary of a run, in Chinese (CLI and demo)."""
    files = result.files
    n = {s: sum(1 for f in files if f.status == s) for s in (IMPORTED, REJECTED, "已忽略")}
    with_err = sum(1 for e in result.entries if e.errors)
    return [
        f"文件 {len(files)} 个：已导入 {n[IMPORTED]}，已拒收 {n[REJECTED]}，已忽略 {n['已忽略']}",
        f"申请 {len(result.entries)} 项：{with_err} 项有错误；共 {result.errors} 个错误、"
        f"{result.warnings} 个提醒",
        f"拒收 {len(result.rejected)} 条（见“拒收”工作表）",
        f"用时 {result.seconds:.1f} 秒",
        f"汇总表：{result.written_to}",
    ] + list(result.messages)
