"""forms.pdf.convert, the one LibreOffice conversion (saq pdf, the published lists): each
failure is one typed error with its Chinese message; no LibreOffice needed (a stand-in
program plays it)."""

from __future__ import annotations

import sys

import pytest
from openpyxl import Workbook

from xl_addin.errors import OutputFileError
from xl_addin.forms import pdf
from xl_addin.review.publish import docx_to_pdf


def _stand_in(tmp_path, monkeypatch, body):
    """A program in place of soffice: ``body`` is its Python code (argv as LibreOffice gets it)."""
    exe = tmp_path / "fake_soffice"
    exe.write_text(f"#!{sys.executable}\nimport sys, pathlib\n{body}\n", encoding="utf-8")
    exe.chmod(0o755)
    monkeypatch.setattr(pdf, "soffice", lambda: str(exe))


@pytest.fixture
def src(tmp_path):
    p = tmp_path / "发布名单.docx"
    p.write_bytes(b"not really a document")
    return p


def test_convert_writes_what_libreoffice_made(tmp_path, monkeypatch, src):
    # writes "<outdir>/<stem>.pdf" as LibreOffice does, from the copy it is given
    _stand_in(tmp_path, monkeypatch,
              "a = sys.argv; src = pathlib.Path(a[-1]); out = pathlib.Path(a[a.index('--outdir') + 1])\n"
              "(out / (src.stem + '.' + a[a.index('--convert-to') + 1])).write_bytes(b'%PDF ' + src.read_bytes())")
    target = tmp_path / "out" / "名单.pdf"
    assert pdf.convert(src, target) == target
    assert target.read_bytes() == b"%PDF not really a document"
    assert docx_to_pdf(src) == src.with_suffix(".pdf")
    assert src.with_suffix(".pdf").read_bytes() == b"%PDF not really a document"


@pytest.mark.parametrize("body, convert_msg, docx_msg", [
    ("sys.stderr.write('Error: source file could not be loaded\\n'); sys.exit(1)",
     "LibreOffice 转换失败（Error: source file could not be loaded）",
     "LibreOffice 未能生成 PDF（需要 LibreOffice Writer：libreoffice-writer-nogui）；.docx 已生成"),
    ("sys.exit(0)",  # LibreOffice often exits 0 without writing anything
     "LibreOffice 转换失败",
     "LibreOffice 未能生成 PDF（需要 LibreOffice Writer：libreoffice-writer-nogui）；.docx 已生成"),
    ("import time; time.sleep(30)",
     "LibreOffice 超过 1 秒未完成转换", "LibreOffice 超过 1 秒未完成转换"),
])
def test_convert_failures(tmp_path, monkeypatch, src, body, convert_msg, docx_msg):
    _stand_in(tmp_path, monkeypatch, body)
    with pytest.raises(OutputFileError) as e:
        pdf.convert(src, tmp_path / "a.pdf", timeout=1)
    assert str(e.value) == f"无法写入文件 {tmp_path / 'a.pdf'}：{convert_msg}"
    with pytest.raises(OutputFileError) as e:
        docx_to_pdf(src, tmp_path / "b.pdf", timeout=1)
    assert str(e.value) == f"无法写入文件 {tmp_path / 'b.pdf'}：{docx_msg}"
    assert not (tmp_path / "a.pdf").exists() and not (tmp_path / "b.pdf").exists()


def test_no_libreoffice(tmp_path, monkeypatch, src):
    monkeypatch.setattr(pdf, "soffice", lambda: None)
    book = tmp_path / "附件3.xlsx"
    Workbook().save(book)
    with pytest.raises(OutputFileError) as e:
        pdf.to_pdf(book)
    assert str(e.value) == (f"无法写入文件 {book.with_suffix('.pdf')}："
                            "未找到 LibreOffice（soffice），请安装 libreoffice-calc-nogui")
    with pytest.raises(OutputFileError) as e:
        docx_to_pdf(src)
    assert str(e.value) == (f"无法写入文件 {src.with_suffix('.pdf')}："
                            "未找到 LibreOffice（soffice），无法生成 PDF；.docx 已生成")


def test_a_hung_libreoffice_is_killed_with_its_whole_process_group(tmp_path, monkeypatch, src):
    """soffice is a script that starts soffice.bin: on timeout both go (issue 19 §7)."""
    import os
    import time
    pids = tmp_path / "pids"
    _stand_in(tmp_path, monkeypatch,
              "import subprocess, time\n"
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
              f"pathlib.Path({str(pids)!r}).write_text(str(child.pid))\n"
              "time.sleep(60)")
    t0 = time.monotonic()
    with pytest.raises(OutputFileError, match="超过 5 秒"):
        pdf.convert(src, tmp_path / "a.pdf", timeout=5)
    assert time.monotonic() - t0 < 30
    child = int(pids.read_text())
    for _ in range(50):  # the grandchild is gone (reaped by init once killed)
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        with open(f"/proc/{child}/stat") as f:
            if f.read().split(")")[-1].split()[0] == "Z":
                break
        time.sleep(0.1)
    else:
        raise AssertionError(f"LibreOffice's child {child} still runs")
