"""SAQ.xlam as built (issue 6): two independent readers — oletools' olevba and LibreOffice's
VBA import — show every module with exactly our source text; the VBA project has the
source-only form Excel compiles from; the ribbon and config are ours; install is Windows-only."""

from __future__ import annotations

import struct
import subprocess
import zipfile
from pathlib import Path

import pytest
from defusedxml import ElementTree
from oletools.olevba import VBA_Parser

from xl_addin.cli import main
from xl_addin.excel.addin import cfb, install, ovba, udfwrap, vbaproject, xlam
from xl_addin.excel.addin.errors import NotWindowsError

SS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("addin") / "SAQ.xlam"
    return xlam.build(out)


def parts(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def template_bin():
    return parts(xlam.template_path())["xl/vbaProject.bin"]


def expected_sources():
    """What each module must hold, derived from the inputs (not from the builder's output)."""
    tsrc = vbaproject.read_sources(template_bin())
    norm = vbaproject.normalise_source
    xw_src = tsrc["xlwings"].replace('PROJECT_NAME As String = "myaddin"',
                                     'PROJECT_NAME As String = "saq"')
    return {
        "ThisWorkbook": norm(tsrc["ThisWorkbook"]),
        "Sheet2": norm(tsrc["Sheet2"]),
        "Dictionary": norm(tsrc["Dictionary"]),
        "xlwings": norm(xw_src),
        "SAQRibbon": norm((xlam.MACROS / "SAQRibbon.bas").read_bytes().decode("ascii")),
        "xlwings_udfs": norm(udfwrap.generate()),
    }


def test_olevba_reads_every_module_exactly(built):
    vp = VBA_Parser(str(built.path))
    got = {vba_filename.rsplit(".", 1)[0]: code
           for _, _, vba_filename, code in vp.extract_macros()}
    vp.close()
    want = expected_sources()
    assert set(got) == set(want)
    for name, src in want.items():
        assert got[name] == src, name
    assert 'PROJECT_NAME As String = "saq"' in got["xlwings"]


@pytest.mark.libreoffice
def test_libreoffice_imports_every_module_exactly(built, tmp_path):
    """LibreOffice's own VBA import (convert to .ods, read Basic/<project>/<module>.xml).

    LibreOffice drops the `Attribute` lines and opens each module with its own lines
    (`Rem Attribute VBA_ModuleType=…`, `Option VBASupport 1`, `Option ClassModule`)."""
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path}/lo_profile", "--headless",
         "--infilter=Calc MS Excel 2007 VBA XML", "--convert-to", "ods",
         "--outdir", str(tmp_path), str(built.path)],
        check=True, capture_output=True, timeout=180)
    ods = parts(tmp_path / "SAQ.ods")
    lo_added = ("Option VBASupport 1", "Option ClassModule")

    def lines(text, drop):
        out = [x for x in text.replace("\r\n", "\n").split("\n") if not drop(x)]
        while out and out[-1] == "":
            out.pop()
        return out

    want = expected_sources()
    got = {}
    for name, data in ods.items():
        if name.startswith(f"Basic/{xlam.VBA_PROJECT_NAME}/") and not name.endswith("script-lb.xml"):
            got[name.rsplit("/", 1)[1][:-4]] = ElementTree.fromstring(data).text or ""
    assert set(got) == set(want)
    for name, src in want.items():
        assert lines(got[name], lambda x: x.startswith("Rem Attribute VBA_ModuleType")
                     or x in lo_added) == lines(src, lambda x: x.startswith("Attribute ")), name
    content = ElementTree.fromstring(ods["content.xml"])
    tables = [t.get("{urn:oasis:names:tc:opendocument:xmlns:table:1.0}name")
              for t in content.iter("{urn:oasis:names:tc:opendocument:xmlns:table:1.0}table")]
    assert tables == [xlam.CONF_SHEET]


def test_vba_project_is_source_only(built):
    """The form of the xlwings add-ins: _VBA_PROJECT = 7-byte header with version 0xFFFF,
    every module at offset 0, no __SRP_ streams, PROJECT and PROJECTwm present."""
    streams = cfb.read(parts(built.path)["xl/vbaProject.bin"])
    assert streams["VBA/_VBA_PROJECT"] == b"\xcc\x61\xff\xff\x00\x01\x00"
    assert struct.unpack_from("<H", streams["VBA/_VBA_PROJECT"], 2)[0] == 0xFFFF
    assert not [s for s in streams if "__SRP_" in s]
    recs = vbaproject.parse_dir(ovba.decompress(streams["VBA/dir"]))
    offsets = [struct.unpack("<I", p)[0] for r, p in recs if r == 0x0031]
    assert offsets == [0] * len(expected_sources())
    assert {"PROJECT", "PROJECTwm"} <= set(streams)


def test_references_are_the_templates(built):
    def refs(bin_bytes):
        d = ovba.decompress(cfb.read(bin_bytes)["VBA/dir"])
        return vbaproject.split_template_dir(d)[1]
    assert refs(parts(built.path)["xl/vbaProject.bin"]) == refs(template_bin())


def test_reference_bytes_are_copied_verbatim(built):
    """Byte for byte: from the first REFERENCENAME (0x0016) to PROJECTMODULES (0x000F)."""
    def region(bin_bytes):
        d = ovba.decompress(cfb.read(bin_bytes)["VBA/dir"])
        start = d.index(b"\x16\x00", d.index(b"\x0c\x00"))  # after PROJECTCONSTANTS
        return d[start:d.index(b"\x0f\x00\x02\x00\x00\x00", start)]
    got = region(parts(built.path)["xl/vbaProject.bin"])
    assert got == region(template_bin()) and len(got) > 100


def test_project_stream_lists_modules_and_is_unprotected(built):
    streams = cfb.read(parts(built.path)["xl/vbaProject.bin"])
    text = streams["PROJECT"].decode("cp1252")
    assert "Document=ThisWorkbook/&H00000000" in text and "Class=Dictionary" in text
    for m in ("xlwings", "SAQRibbon", "xlwings_udfs"):
        assert f"Module={m}\r\n" in text
    assert f'Name="{xlam.VBA_PROJECT_NAME}"' in text
    fields = dict(line.split("=", 1) for line in text.split("\r\n") if "=" in line)
    pid = fields["ID"].strip('"')
    key = sum(pid.encode()) & 0xFF
    assert vbaproject.decrypt(fields["CMG"].strip('"')) == (key, b"\x00\x00\x00\x00")
    assert vbaproject.decrypt(fields["DPB"].strip('"')) == (key, b"\x00")
    assert vbaproject.decrypt(fields["GC"].strip('"')) == (key, b"\xff")
    wm = streams["PROJECTwm"]
    for m in expected_sources():
        assert m.encode() + b"\x00" + m.encode("utf-16-le") + b"\x00\x00" in wm


def test_decrypts_what_excel_wrote():
    """MS-OVBA 2.4.3 on the template's PROJECT stream: the key is the byte sum of its ID."""
    text = cfb.read(template_bin())["PROJECT"].decode("cp1252")
    fields = dict(line.split("=", 1) for line in text.split("\r\n") if "=" in line)
    key = sum(fields["ID"].strip('"').encode()) & 0xFF
    assert vbaproject.decrypt(fields["CMG"].strip('"')) == (key, b"\x00\x00\x00\x00")
    assert vbaproject.decrypt(fields["GC"].strip('"'))[0] == key


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 6, 7, 128, 255])
@pytest.mark.parametrize("data", [b"", b"\x00", b"\xff", b"\x00\x00\x00\x00", b"secret!"])
def test_encryption_round_trip(seed, data):
    pid = "{C05AA367-01EE-545F-8DD4-0D7C07CDB22D}"
    assert vbaproject.decrypt(vbaproject.encrypt(data, pid, seed)) == (sum(pid.encode()) & 0xFF, data)


def test_ribbon_and_config_sheet_are_ours(built):
    p = parts(built.path)
    assert p["customUI/customUI.xml"] == (xlam.MACROS / "customUI.xml").read_bytes()
    rels = p["_rels/.rels"].decode()
    assert 'Target="customUI/customUI.xml"' in rels and "ui/extensibility" in rels
    wb = ElementTree.fromstring(p["xl/workbook.xml"])
    (sheet,) = wb.iter(SS + "sheet")
    assert sheet.get("name") == "saq.conf"
    ws = ElementTree.fromstring(p["xl/worksheets/sheet1.xml"])
    cells = {c.get("r"): "".join(t.text or "" for t in c.iter(SS + "t")) for c in ws.iter(SS + "c")}
    assert cells == {"A1": "UDF Modules", "B1": "xl_addin.excel.udfs"}
    assert b"addin.macroEnabled.main+xml" in p["[Content_Types].xml"]


def test_the_build_is_reproducible(built, tmp_path):
    again = xlam.build(tmp_path / "again.xlam")
    assert again.path.read_bytes() == built.path.read_bytes()


def test_a_non_ascii_vba_source_is_refused():
    with pytest.raises(vbaproject.VbaProjectError, match="code page"):
        vbaproject.build(template_bin(), [vbaproject.Module("M", "module", "' 中文\r\n")], "P")


# ---------------------------------------------------------------------- CLI and install
def test_cli_build(tmp_path, capsys):
    out = tmp_path / "x" / "SAQ.xlam"
    assert main(["addin", "build", "-o", str(out)]) == 0
    assert out.is_file() and "已生成 Excel 加载项" in capsys.readouterr().out


def test_install_off_windows_says_so_with_exit_code_2(capsys, monkeypatch):
    monkeypatch.setattr("sys.platform", "linux")
    assert main(["addin", "install"]) == 2
    err = capsys.readouterr().err
    assert "Windows" in err and "Excel" in err and "Traceback" not in err
    with pytest.raises(NotWindowsError):
        install.install(platform="darwin")


def test_install_on_windows_uses_xlwings_and_writes_config(tmp_path, monkeypatch, built):
    calls = []
    monkeypatch.setattr("xlwings.cli._addin_install", lambda p: calls.append(Path(p)))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))
    monkeypatch.setattr(install.sys, "platform", "linux")  # encoding for the write below
    name, conf = install.install(built.path, platform="win32")
    assert calls == [built.path] and name == "SAQ.xlam"
    assert conf == tmp_path / ".saq" / "saq.conf"
    lines = conf.read_text(encoding="utf-8").splitlines()
    assert lines[0] == f'"INTERPRETER_WIN","{install.sys.executable}"'
    assert lines[1] == '"UDF MODULES","xl_addin.excel.udfs"'
