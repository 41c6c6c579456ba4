"""`saq consolidate`: a folder of submissions into one master workbook (issue 4).

Steps: list and classify files (walk), read and evaluate them (collect), match rows to
workbooks and apply cross-file rules (crossfile), keep the staff's columns (staff), write
the master atomically under a run lock (master, output).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from xl_addin import registry as reg_mod
from xl_addin.consolidate import collect, crossfile, master, output, walk
from xl_addin.consolidate.columns import _source, _source_row, key_text
from xl_addin.consolidate.crossfile import app_key
from xl_addin.consolidate.feedback import summary_lines as fb_lines
from xl_addin.consolidate.feedback import write_feedback
from xl_addin.consolidate.materials import run_cache  # each dossier folder listed once a run
from xl_addin.consolidate.model import WHOLE_FILE, RunResult
from xl_addin.consolidate.progress import Progress
from xl_addin.consolidate.staff import StaffColumnsMissing, StaffNotes, read_staff_notes
from xl_addin.errors import InputFileError, OutputFileError, SaqError, as_os_error, os_reason
from xl_addin.files import IMPORTED, REJECTED, changed_since, list_files, terminal_text, vanished_reason
from xl_addin.rules.campaign import load

DEFAULT_NAME = "汇总表.xlsx"  # the master's name when -o names a folder


class EmptyFolder(SaqError):
    """The input folder has nothing in it: no master is written (issue 12 §10)."""

    exit_code = 1

    def __init__(self, folder):
        super().__init__(f"文件夹 {folder} 中没有任何文件，未生成汇总表；"
                         "请确认文件夹是否选对，或先把推荐表和申请书放进去。")


def master_path(out):
    """Where the master goes: ``out`` itself, or 汇总表.xlsx inside it when it is a folder
    (or ends with a path separator); a missing .xlsx suffix is added."""
    text = str(out)
    out = Path(out)
    if out.is_dir() or text.endswith(("/", os.sep)):
        return out / DEFAULT_NAME
    if out.suffix.lower() != ".xlsx":
        out = out.with_suffix(".xlsx")
    return out


def consolidate(folder, out, campaign, progress=None, workers=None, registry=None,
                feedback=None):
    """Consolidate every submission under ``folder`` into the master workbook ``out``.

    Args:
        folder: the folder of submissions (walked recursively).
        out: the master workbook to write (.xlsx).
        campaign: the Campaign of the run (chosen by the caller: cli.py, the ribbon;
            read/year.py).
        progress: True/False to force the progress bar on stderr; None = when a terminal.
        workers: processes that read files (default :func:`default_workers`; 1 = serial).
        registry: the campaign registry (.sqlite) to look earlier results up in (K4/E06,
            上年结果); default 评价档案.sqlite beside ``out`` when it exists.
        feedback: a folder for the letters to the recommenders (consolidate.feedback,
            issue 22), or None.
    Returns:
        RunResult (``written_to`` differs from ``out`` when the master was open in Excel).
    Raises:
        InputFileError: the folder does not exist.
        EmptyFolder: the folder holds nothing.
        RunLocked: another run is writing the same master.
        StaffColumnsMissing: the old master lost its key columns (left unchanged).
        OutputFileError: the master cannot be written at all.
    """
    c = campaign
    folder, out = Path(folder), master_path(out)
    if not folder.is_dir():
        raise InputFileError(folder, "不是文件夹或不存在")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputFileError(out, os_reason(e)) from None
    started, t0 = master.now(), time.perf_counter()
    with output.RunLock(out):
        cleaned = output.remove_stale_temps(out)
        result = _collect(folder, out, c, progress, workers, registry)
        if not result.files:
            raise EmptyFolder(folder)
        messages = _attach_staff(out, result, started)
        result.seconds = time.perf_counter() - t0
        tmp = output.temp_beside(out)
        try:
            master.write_master(tmp, result, c, folder, started)
            written, msg = output.publish(tmp, out, started)
        except Exception as e:  # noqa: BLE001 - a full disk, a file-size limit (lxml's own)
            err = as_os_error(e)
            if err is None:
                raise
            raise OutputFileError(out, f"{os_reason(err)}") from None
        finally:
            try:
                os.unlink(tmp)
            except OSError:
                pass  # published (renamed away) or never made
    result.written_to = written
    result.campaign_year = c.year
    result.messages = messages + ([msg] if msg else [])
    if feedback is not None:
        letters, orphans = write_feedback(feedback, result, c)
        result.feedback = (letters, orphans, Path(feedback))
    if cleaned:
        result.messages.append(f"已清理上次中断的汇总留下的临时文件 {cleaned} 个。")
    return result


PARALLEL_FROM = 60  # files; below this, starting worker processes costs more than it saves


def default_workers():
    """Reading processes: up to 4, by CPU count."""
    return max(1, min(4, os.cpu_count() or 1))


def _read_one(rec, c, known=None):
    """Classify, read and evaluate one file (runs in a worker process for big folders).

    Returns:
        (rec, ("app", AppSource) | ("rec", (header, rows, rejected)) | None)
    """
    try:
        sub = walk.classify(rec, c)
        if sub is None:
            payload = None
        elif sub.kind == "application":
            payload = ("app", collect.read_application(sub, rec, c, known))
        else:
            payload = ("rec", collect.read_recommender(sub, rec, c))
        if changed_since(rec):  # issue 12 §6: not the file that was hashed
            rec.kind = rec.kind or "其他"
            rec.status, rec.rows_read, rec.reason = REJECTED, 0, (
                "文件在汇总过程中被修改，本次未导入；请在文件不再变动时重新汇总")
            return rec, None
        return rec, payload
    except OSError as e:  # vanished or locked during the run (issue 12 §6)
        rec.kind = rec.kind or "其他"
        rec.status, rec.rows_read, rec.reason = REJECTED, 0, vanished_reason(e)
        return rec, None
    except MemoryError:
        rec.status, rec.rows_read = REJECTED, 0
        rec.reason = "文件过大，读取时内存不足，未读取；请删除多余的行和列后重新提交"
        return rec, None
    except Exception:  # noqa: BLE001 - one bad file never stops the run (§4)
        rec.status, rec.rows_read = REJECTED, 0
        rec.reason = "内容有误，无法读取；请使用下发的模板重新填写"
        return rec, None


_known = None  # a worker process's registry answers (set once, by _init_worker)


def _init_worker(known):
    global _known
    _known = known


def _worker(args):
    rec, campaign_path = args
    return _read_one(rec, load(campaign_path), _known)


def _results(todo, c, workers, known=None):
    """(rec, payload) for every file to read, in input order (deterministic).

    ``known`` (registry.Known) reaches each worker once, when it starts, not with each file."""
    pool = None
    if workers > 1 and len(todo) >= PARALLEL_FROM:
        try:
            # lazy: optional; a Python without a process pool (ImportError) reads serially
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor
            # Only "fork": "spawn" re-imports the caller's main module, which `python -m`,
            # an Excel-hosted Python or a frozen app do not allow. Windows reads serially.
            ctx = multiprocessing.get_context("fork")
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                       initializer=_init_worker, initargs=(known,))
        except (OSError, ImportError, NotImplementedError, ValueError):
            pool = None  # no process pool here: read serially instead
    if pool is not None:
        with pool:
            yield from pool.map(_worker, [(r, c.path) for r in todo], chunksize=8)
        return
    for r in todo:
        yield _read_one(r, c, known)


def _collect(folder, out, c, progress, workers=None, registry=None):
    files = list_files(folder, skip=(out, output.lock_path(out)))
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
    # K4/E06: every earlier result read in one query, before the reading starts (issue 23)
    known = reg_mod.known_before(registry or reg_mod.default_path(out), c)
    with run_cache():
        for rec, payload in _results(todo, c, workers, known):
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
        if rec.name_note:
            rec.reason = "；".join(x for x in (rec.reason, rec.name_note) if x)
        if rec.status == REJECTED:
            rejected.append(collect.reject_file(rec))
    entries = crossfile.build_entries(apps, rows, c)
    reg_mod.annotate_entries(entries, known, c)
    return RunResult(out, out, files, entries, rejected, headers)


def _attach_staff(out, result, started):
    """Copy 审定意见/备注 from the previous master (issue 12 §4).

    The previous master is backed up first, every run (the last few are kept). Notes that
    match no entry go to ``result.unmatched`` (the 未匹配备注 sheet).

    Raises:
        StaffColumnsMissing: the old master's key columns are gone; nothing is written.
    """
    if not out.exists():
        return []
    try:
        b = output.backup(out, started)
    except OSError as e:
        raise OutputFileError(out, f"无法备份原汇总表（{os_reason(e)}），为免丢失其中的审定意见和"
                                   "备注，本次没有改动汇总表") from None
    messages = []
    try:
        notes = read_staff_notes(out, backup=b)
    except StaffColumnsMissing:
        raise
    except Exception:  # noqa: BLE001 - a damaged old master must not lose the staff's work
        notes = StaffNotes()
        messages.append(f"原汇总表无法读取，已备份为 {b}；其中的审定意见、备注请从备份中复制。")
    wanted = [(key_text(app_key(e.values)), _source(e), _source_row(e)) for e in result.entries]
    for e, got in zip(result.entries, notes.match(wanted)):
        e.staff = got
    result.unmatched = notes.unmatched()
    messages += notes.messages
    if result.unmatched:
        messages.append(f"有 {len(result.unmatched)} 条审定意见/备注对应不到本次的申请，"
                        "已列在“未匹配备注”工作表中（没有删除）。")
    return messages


def rejection_lines(result, again=None):
    """When a run refused most of the workbooks it read (issue 20 §7: forgetting the year
    refused 185 of 188 files, and the run said nothing and exited 0): the lines saying so,
    and why when it is the campaign year; [] otherwise.

    Args:
        again: the command that reruns this one, with ``{year}`` for the year.
    Returns:
        list of str (the caller exits non-zero when there are any).
    """
    files = result.files
    taken = sum(1 for f in files if f.status == IMPORTED)
    refused = [f for f in files if f.status == REJECTED]
    if len(refused) <= taken:
        return []
    lines = [f"多数文件被拒收：拒收 {len(refused)} 个，只导入 {taken} 个；请查看汇总表的“文件清单”和“拒收”工作表"]
    by_year = {}
    for f in refused:
        if f.other_year:
            by_year.setdefault(f.other_year, []).append(f)
    if by_year:
        y, fs = max(by_year.items(), key=lambda kv: len(kv[1]))
        lines.append(f"其中 {len(fs)} 个是 {y} 年活动的模板，而本次按 {result.campaign_year} 年汇总。"
                     f"如本次应为 {y} 年活动，请运行：")
        lines.append("  " + (again or "saq consolidate 文件夹 --campaign {year}").replace("{year}", str(y)))
    return lines


def summary_lines(result):
    """The closing summary of a run, in Chinese (CLI and demo)."""
    files = result.files
    n = {s: sum(1 for f in files if f.status == s) for s in (IMPORTED, REJECTED, "已忽略")}
    with_err = sum(1 for e in result.entries if e.errors)
    # issue 22: the counts that stand side by side say what each counts
    books = sum(1 for e in result.entries if e.app is not None)
    only_rows = len(result.entries) - books
    whole = sum(1 for r in result.rejected if r.scope == WHOLE_FILE)
    parts = [f"有申请书的 {books} 项"] + ([f"只见于推荐表的 {only_rows} 项"] if only_rows else [])
    kinds = [f"整个文件 {whole} 个"] + ([f"推荐表中的行 {len(result.rejected) - whole} 行"]
                                        if len(result.rejected) > whole else [])
    return [
        f"文件 {len(files)} 个：已导入 {n[IMPORTED]}，已拒收 {n[REJECTED]}，已忽略 {n['已忽略']}",
        f"申请 {len(result.entries)} 项（{'、'.join(parts)}）：{with_err} 项有错误；"
        f"共 {result.errors} 个错误、{result.warnings} 个提醒",
        f"拒收 {len(result.rejected)} 条（{'、'.join(kinds)}，见“拒收”工作表）",
        f"用时 {result.seconds:.1f} 秒",
        f"汇总表：{terminal_text(result.written_to)}",
    ] + list(result.messages) + _feedback_lines(result)


def _feedback_lines(result):
    if not result.feedback:
        return []
    return fb_lines(*result.feedback)
