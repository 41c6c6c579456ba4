"""The files are the evidence (RULES.md M; issue 20 §6, issue 19 §7 and §9), at the CLI:
`saq check 文件夹` judges each item by its file — an unticked 材料清单 item whose file is
there is not missing, a ticked one whose file is absent is; a file that is empty, of another
content than its extension, or a link out of the folder does not count; the 实践报告 is read
within bounds (a zip bomb is refused with its reason); file names are printed escaped.
Exact text and exit codes."""

from __future__ import annotations

import contextlib
import io
import os
import shutil

import pytest
from bombs import docx_bomb, sparse_file

from xl_addin import cli
from xl_addin.demo.dossier import report_lengths, write_dossier
from xl_addin.read.check import check_file
from xl_addin.rules.campaign import load
from xl_addin.rules.materials import material_items

C = load(2023)
ALL = [it["key"] for it in material_items(C) if not it["categories"]]  # 服务类: 13 items
NAMES = {it["key"]: it["name"] for it in material_items(C)}


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def unticked(tmp_path_factory):
    """Every file of a 服务类 dossier present; the 材料清单 left entirely blank."""
    d = tmp_path_factory.mktemp("ev") / "申报材料"
    return d, write_dossier(d, "服务类", campaign=C, answers={k: None for k in ALL})


@pytest.fixture(scope="module")
def ticked(tmp_path_factory):
    """Every file present, every item ticked 已提供."""
    d = tmp_path_factory.mktemp("ev") / "申报材料"
    return d, write_dossier(d, "服务类", campaign=C)


def _copy(src, tmp_path):
    folder = tmp_path / "申报材料"
    shutil.copytree(src, folder, symlinks=True)
    return folder


def _head(folder, book="申请书.xlsx"):
    """The lines `saq check 文件夹` prints before its findings: the year, the folder, the
    workbook's one verdict (check.check_file), the 实践报告's sections."""
    v = check_file(folder / book, C, materials=False)
    secs = C.materials["M05"]["sections"]
    return (["活动年度：2023（取自文件中的模板年度，1 个文件一致）",
             f"{folder}：申报材料文件夹（申请书：{book}）",
             f"  评价得分：{v.selfeval_total:g}", f"  评价结论：{v.conclusion}",
             f"  可评等级：{v.achievable_level}", f"  建议等级：{v.proposed_level}",
             f"  等级说明：{v.level_reason}"] +
            [f"  实践报告 {s['title']}：{n} 字" for s, n in zip(secs, report_lengths(C))])


def test_every_file_present_with_an_unticked_checklist_is_complete(unticked):
    """Issue 20 §6: an applicant who sent everything is not told it is missing."""
    folder, _made = unticked
    code, out, err = run("check", folder)
    assert (code, err) == (0, "")
    names = "、".join(NAMES[k] for k in ALL)
    assert out.splitlines() == _head(folder) + [
        f"  注意：材料清单中有 13 项未选“已提供”，但文件夹中有其文件，以文件为准：{names}"
        "（请在申请书的材料清单中改选“已提供”，表格中的提示才会一致）",
        "材料齐全、无问题，可以提交"]
    assert "缺少" not in out
    # the same workbook alone is judged by its checklist, as its sheet's banner is
    code, out, _ = run("check", folder / "申请书.xlsx")
    assert code == 1 and out.splitlines()[-1] == "表格：无误；材料：缺 13 项"


def test_a_ticked_item_whose_file_is_absent_is_missing(ticked, tmp_path):
    folder = _copy(ticked[0], tmp_path)
    license_ = next(folder.glob("*营业执照.pdf"))
    license_.unlink()
    code, out, err = run("check", folder)
    assert (code, err) == (1, "")
    assert out.splitlines() == _head(folder) + [
        "  [M06 错误] 缺少营业执照复印件（M06）",
        "有 1 项错误、0 项提醒（申报材料不齐或不符）"]


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(48)
HTML = "<!DOCTYPE html>\n<html><body>页面已过期</body></html>\n".encode("utf-8")


def test_files_that_are_not_real_do_not_count(ticked, tmp_path):
    """Issue 19 §9: zero bytes, an EXE or an HTML page renamed .pdf, a link leaving the
    folder — each gives its item's M code with the reason (it used to say 可以提交)."""
    folder = _copy(ticked[0], tmp_path)
    f = {k: next(folder.glob(f"*-{short}.*")) for k, short in
         (("pledge", "企业用户满意经营承诺书"), ("license", "营业执照"), ("form_scan", "申请表"),
          ("qualification", "资质证书"))}
    f["pledge"].write_bytes(b"")
    f["license"].write_bytes(EXE)
    f["form_scan"].write_bytes(HTML)
    outside = tmp_path / "别处的资质证书.pdf"
    shutil.copy(f["qualification"], outside)
    f["qualification"].unlink()
    os.symlink(outside, f["qualification"])
    code, out, err = run("check", folder)
    assert (code, err) == (1, "")
    n = {k: p.name for k, p in f.items()}
    assert out.splitlines() == _head(folder) + [
        f"  [M01 错误] “{n['pledge']}”是空文件（0 字节），不能算作附件2-1 企业用户满意经营承诺书（盖章）（M01）",
        f"  [M03 错误] “{n['form_scan']}”的内容不是 PDF 文件，实际是 HTML 网页（可能只是改了扩展名），"
        "不能算作附件2-3 申请表（盖公章扫描件）（M03）",
        f"  [M06 错误] “{n['license']}”的内容不是 PDF 文件，实际是 EXE 可执行程序（可能只是改了扩展名），"
        "不能算作营业执照复印件（M06）",
        f"  [M10 错误] “{n['qualification']}”是指向申报材料文件夹之外的链接（出于安全未读取；"
        "请把原文件复制到文件夹中），不能算作第三方测量机构资质证书复印件（M10）",
        "有 4 项错误、0 项提醒（申报材料不齐或不符）"]


def test_a_folder_of_empty_files_is_not_ready(ticked, tmp_path):
    folder = _copy(ticked[0], tmp_path)
    for p in folder.iterdir():
        if p.name != "申请书.xlsx":
            p.write_bytes(b"")
    code, out, _ = run("check", folder)
    assert code == 1
    assert "材料齐全、无问题，可以提交" not in out
    assert out.splitlines()[-1] == "有 12 项错误、1 项提醒（申报材料不齐或不符）"
    assert sum("是空文件（0 字节），不能算作" in ln for ln in out.splitlines()) == 13


def test_a_sparse_file_does_not_count_and_is_not_read(ticked, tmp_path):
    """Issue 19 §7: a 256 GB sparse 数据库 is judged from its stat, never read."""
    folder = _copy(ticked[0], tmp_path)
    db = next(folder.glob("*-数据库.*"))
    db.unlink()
    sparse_file(db)
    code, out, _ = run("check", folder)
    assert code == 1
    assert out.splitlines()[-2:] == [
        f"  [M10 错误] “{db.name}”是稀疏文件（标称 256 GB，实际只占 0 字节），不是真实的文件内容，"
        "不能算作数据库（M10）",
        "有 1 项错误、0 项提醒（申报材料不齐或不符）"]


def test_a_zip_bomb_report_is_refused_with_its_reason(ticked, tmp_path):
    """Issue 19 §7: the 实践报告's zip sizes are checked before anything is inflated."""
    folder = _copy(ticked[0], tmp_path)
    report = next(folder.glob("*-实践报告.docx"))
    docx_bomb(report, 256 * 2**20)  # 256 MB of zeros in a 0.3 MB file
    code, out, _ = run("check", folder)
    lines = out.splitlines()
    assert code == 0
    assert lines[-2:] == [
        f"  [M05 提醒] 实践报告“{report.name}”无法读取（解压后过大（word/document.xml 声明 256 MB，"
        "上限 32 MB），疑似压缩炸弹，未读取），无法统计各部分字数（M05）",
        "有 0 项错误、1 项提醒（申报材料不齐或不符）"]
    assert not any(ln.startswith("  实践报告 一、") for ln in lines)  # no section counted


def test_a_report_that_lies_about_its_size_is_read_no_further(tmp_path):
    """A part that declares 1 MB and inflates to 64 MB passes the size check; the reader
    then inflates at most the declared 1 MB (zipfile stops there) and refuses the file."""
    import zipfile

    from xl_addin.read.docx_text import UnreadableDocument, paragraphs
    bomb = docx_bomb(tmp_path / "b.docx", 64 * 2**20)
    data = bytearray(bomb.read_bytes())
    with zipfile.ZipFile(bomb) as z:
        info = z.getinfo("word/document.xml")
    real = (64 * 2**20).to_bytes(4, "little")
    lie = (2**20).to_bytes(4, "little")
    data[:] = data.replace(real, lie)  # the local header and the central directory
    bomb.write_bytes(bytes(data))
    assert info.file_size == 64 * 2**20
    with pytest.raises(UnreadableDocument) as e:
        paragraphs(bomb)
    # NUL bytes are no XML: refused by the parser within the first MB (else by the CRC)
    assert e.value.reason in ("word/document.xml 无法解析（内容有误或含不允许的 XML 实体）",
                              "文件已损坏或不完整（不是有效的 .docx）")


def test_names_are_printed_escaped(ticked, tmp_path):
    """Issue 19 §10: a carriage return or an ESC in a file name cannot rewrite the verdict."""
    folder = _copy(ticked[0], tmp_path)
    old = next(folder.glob("*-营业执照.pdf"))
    old.rename(folder / "营业执照\r\x1b[2K材料齐全.txt")
    code, out, _ = run("check", folder)
    assert code == 1 and "\r" not in out and "\x1b" not in out
    assert ("  [M06 错误] “营业执照\\x0D\\x1B[2K材料齐全.txt”的文件类型不符，"
            "营业执照复印件应为 .pdf、.jpg、.jpeg、.png 文件（M06）") in out.splitlines()


def test_an_error_naming_a_file_is_printed_escaped(tmp_path):
    bad = tmp_path / "申请书\r\x1b[2K已通过.xlsx"
    bad.write_bytes(b"not a workbook")
    code, out, err = run("check", bad)
    assert code == 2 and out.count("\x1b") == 0 and "\r" not in err and "\x1b" not in err
    assert err == (f"错误：无法读取文件 {tmp_path}/申请书\\x0D\\x1B[2K已通过.xlsx："
                   "文件内容是文本，不是 Excel 工作簿（可能只是改了扩展名），请另存为 .xlsx 后重新提交\n")
