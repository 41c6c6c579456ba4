"""Recalculate many workbooks in LibreOffice at once (``soffice --convert-to xlsx``).

One soffice call converts a whole batch; the profile forces a full recalculation on load
(``OOXMLRecalcMode`` = 0, "always"), so files that carry cached values are recalculated
too, not only openpyxl-written ones.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def available():
    return shutil.which("soffice") is not None


def recalculated(files, workdir, timeout=900, processes=2):
    """Recalculated copies of ``files``.

    Args:
        files: paths of .xlsx workbooks (names may repeat across folders).
        workdir: a scratch folder.
        processes: soffice processes run side by side, one profile each.
    Returns:
        dict original path -> recalculated copy (missing when LibreOffice could not open it).
    """
    work = Path(workdir)
    src, out = work / "src", work / "out"
    for d in (src, out):
        d.mkdir(parents=True, exist_ok=True)
    flat = {}
    for i, f in enumerate(files):
        copy = src / f"f{i:04d}.xlsx"
        shutil.copyfile(f, copy)
        flat[copy.name] = Path(f)
    names = sorted(flat)
    procs = []
    for k in range(max(1, min(processes, len(names)))):
        profile = work / f"profile{k}"
        (profile / "user").mkdir(parents=True, exist_ok=True)
        (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS, encoding="utf-8")
        batch = [str(src / n) for n in names[k::processes]]
        procs.append(subprocess.Popen(
            ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out)] + batch,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "HOME": str(profile)}))
    for pr in procs:
        try:
            pr.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pr.kill()
            raise
    return {orig: out / name for name, orig in flat.items() if (out / name).is_file()}
