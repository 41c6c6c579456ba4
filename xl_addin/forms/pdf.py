"""`saq pdf FILE`: render a filled workbook (above all 附件3) to an A4 PDF via LibreOffice.

The print layout (A4, fit to width, repeated headings, print area) is the workbook's own;
LibreOffice recalculates the formulas while converting. Fonts: Debian fonts-noto-cjk
provides the CJK glyphs. Only the sheets a user prints are rendered: hidden sheets stay
hidden, and the 统计 sheet of 附件3 is left out of the official table.

:func:`convert` is the one place that runs LibreOffice to convert a file; the published
lists' PDFs (review.publish) go through it too.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import zipfile
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.styles import PatternFill
from openpyxl.utils.cell import range_boundaries

from xl_addin.errors import InputFileError, OutputFileError
from xl_addin.forms.print_sheets import fit_row_heights, printable_order
from xl_addin.read.workbook import preflight
from xl_addin.tables import write_atomic

SKIP_SHEETS = ("统计",)  # printed forms only: 附件3 totals are not part of the stamped table
TIMEOUT = 180
NO_SOFFICE = "未找到 LibreOffice（soffice），请安装 libreoffice-calc-nogui"


def soffice():
    """The LibreOffice executable, or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")



def convert(src, target, fmt="pdf", timeout=TIMEOUT, no_soffice=NO_SOFFICE, failed=None):
    """Convert one file with LibreOffice headless and write the result to ``target``.

    The conversion runs on a copy in a temporary folder, with a throw-away LibreOffice
    profile there (so that a running LibreOffice, or another conversion, never blocks it);
    ``target`` is written atomically (tables.write_atomic).

    Args:
        src: the file to convert (.xlsx, .docx, …).
        target: the file to write.
        fmt: LibreOffice's --convert-to format, also the converted file's suffix.
        timeout: seconds LibreOffice may take.
        no_soffice: the message when LibreOffice is not installed.
        failed: the message when LibreOffice fails (None: "LibreOffice 转换失败" and the last
            line LibreOffice wrote, if any).
    Returns:
        Path of ``target``.
    Raises:
        OutputFileError: LibreOffice is missing, fails or times out, or ``target`` is not
            writable.
    """
    src, target = Path(src), Path(target)
    exe = soffice()
    if not exe:
        raise OutputFileError(target, no_soffice)
    with tempfile.TemporaryDirectory(prefix="saq_convert_") as d:
        work = Path(d) / ("in" + src.suffix)  # a plain name: LibreOffice names its output after it
        shutil.copyfile(src, work)
        profile = Path(d) / "profile"
        cmd = [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
               "--convert-to", fmt, "--outdir", d, str(work)]
        r = run_bounded(cmd, timeout)
        if r is None:
            # its whole process group was killed (run_bounded)
            raise OutputFileError(target, f"LibreOffice 超过 {timeout} 秒未完成转换") from None
        out = work.with_suffix("." + fmt)
        if r.returncode != 0 or not out.exists():
            if failed is None:
                msg = (r.stderr or b"").decode("utf-8", "replace").strip().splitlines()
                failed = "LibreOffice 转换失败" + (f"（{msg[-1]}）" if msg else "")
            raise OutputFileError(target, failed)
        return write_atomic(target, lambda tmp: shutil.copyfile(out, tmp))


def run_bounded(cmd, timeout):
    """Run ``cmd`` in its own process group; on timeout kill the whole group (soffice is a
    script that starts soffice.bin: killing only the script leaves LibreOffice running,
    issue 19 §7).

    Returns:
        subprocess.CompletedProcess, or None when the time ran out.
    """
    kw = {"start_new_session": True} if os.name != "nt" else \
        {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, **kw)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        if os.name == "nt":
            subprocess.run(["taskkill", "/F", "/T", "/PID", str(p.pid)], capture_output=True)
        else:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                p.kill()
        p.communicate()
        return None
    except BaseException:  # interrupted (Ctrl-C): LibreOffice must not outlive us
        if os.name != "nt":
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
        else:
            p.kill()
        raise
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)


def to_pdf(path, out=None, timeout=TIMEOUT):
    """Convert ``path`` to PDF.

    Args:
        path: a filled .xlsx of ours.
        out: the PDF to write (default: beside the input, same name, .pdf).
        timeout: seconds LibreOffice may take.
    Returns:
        Path of the PDF.
    Raises:
        InputFileError: the workbook is missing or not an .xlsx.
        OutputFileError: LibreOffice is missing, fails or times out, or ``out`` is not writable.
    """
    p = Path(path)
    if not p.exists():
        raise InputFileError(p, "文件不存在")
    if not zipfile.is_zipfile(p):
        raise InputFileError(p, "不是有效的 .xlsx 工作簿")
    target = Path(out) if out else p.with_suffix(".pdf")
    if not soffice():  # before reading the workbook: the same message as convert's
        raise OutputFileError(target, NO_SOFFICE)
    preflight(p)  # size, zip members, sheet extents: before openpyxl parses it (issue 19 §7)
    with tempfile.TemporaryDirectory(prefix="saq_pdf_") as d:
        work = Path(d) / "print.xlsx"
        _printable_copy(p, work)
        return convert(work, target, "pdf", timeout)


def _printable_copy(src, dst):
    """A copy with the non-printing sheets hidden (the user's file is not touched)."""
    try:
        wb = load_workbook(src)
    except Exception as e:  # noqa: BLE001 - the file's problem
        raise InputFileError(src, f"无法读取工作簿（{type(e).__name__}）") from None
    printable_order(wb)  # 申请书: the 附件2 print sheets in the notice's order (issue 13)
    for ws in wb.worksheets:
        if ws.title in SKIP_SHEETS and len([w for w in wb.worksheets if w.sheet_state == "visible"]) > 1:
            ws.sheet_state = "hidden"
        if ws.sheet_state != "visible":  # LibreOffice prints a hidden sheet's print range
            ws.print_area = None
            ws.print_title_rows = None
        for table in ws.tables.values():
            if table.displayName == "recommendations":
                _compact_rows(ws, table)
    wb.save(dst)
    os.chmod(dst, 0o600)


def _compact_rows(ws, table):
    """Print only the filled rows of 附件3, on white: the official table for stamping."""
    c1, r1, c2, r2 = range_boundaries(table.ref)
    last_col = c2
    if ws.print_area:
        area = ws.print_area if isinstance(ws.print_area, str) else ws.print_area[0]
        last_col = min(c2, range_boundaries(area.split("!")[-1].replace("$", ""))[2])
    filled = [r for r in range(r1 + 1, r2 + 1)
              if any(ws.cell(r, c).value not in (None, "") for c in range(c1, last_col + 1))]
    if filled:
        for r in range(r1 + 1, r2 + 1):
            if r not in filled:
                ws.row_dimensions[r].hidden = True
    fit_row_heights(ws, filled, c1, last_col)  # issue 13: 推荐意见 never cut on paper
    for row in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=last_col):
        for cell in row:
            if cell.fill is not None and cell.fill.fgColor is not None and \
                    cell.fill.fgColor.rgb in ("00FFF9DB", "FFFFF9DB"):
                cell.fill = PatternFill()
    ws.conditional_formatting = type(ws.conditional_formatting)()
