"""The master opens in LibreOffice (a streamed workbook with tables, filters, print setup)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from xl_addin.consolidate import consolidate
from xl_addin.demo import write_campaign
from xl_addin.rules.campaign import load

pytestmark = pytest.mark.libreoffice
C = load(2023)


@pytest.mark.skipif(not shutil.which("soffice") or not shutil.which("pdftotext"),
                    reason="LibreOffice / poppler not installed")
def test_master_renders_in_libreoffice(tmp_path):
    demo = write_campaign(tmp_path / "in", seed=3, n_apps=24, n_recommenders=3, broken=False, campaign=C)
    master = tmp_path / "master.xlsx"
    consolidate(demo.folder, master, C, progress=False)
    profile = f"file://{tmp_path}/lo_profile"
    subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(master)],
                   check=True, capture_output=True, timeout=180, env={**os.environ, "HOME": str(tmp_path)})
    pdf = tmp_path / "master.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    for word in ("状态", "企业名称", "建议等级", "问题说明", "审定意见", "推荐单位", "合计"):
        assert word in text, word
    names = [a.values["org_name"] for a in demo.apps if a.write_workbook]
    assert sum(1 for n in names if n in text) >= len(names) // 2
