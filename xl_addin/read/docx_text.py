"""The paragraphs of a .docx, read within bounds (RULES.md M05; issue 19 §7).

Only the 实践报告 of a dossier is read for its content. It comes from the applicant, so it is
read as the workbooks are (read/workbook.py): the zip's declared sizes and compression ratios
are checked before anything is decompressed, and only ``word/document.xml`` is then read —
streamed through defusedxml's iterparse (no entities, no DTD), one paragraph at a time. A
3 MB zip bomb used to take `saq check 文件夹` to 1.5 GB through python-docx, which loads every
part of the package into memory; it is now refused with its reason before any of it is
inflated.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from defusedxml.ElementTree import iterparse

from xl_addin.errors import InputFileError, os_reason

# A real 实践报告 is a few hundred KB of document.xml (10 000 汉字 with their formatting);
# photographs live in word/media and are never read here.
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_ENTRIES = 5000
MAX_DOCUMENT_XML = 32 * 1024 * 1024  # the one part that is inflated
MAX_ENTRY = 256 * 1024 * 1024  # any part, as declared (never inflated, but no real file has one)
MAX_TOTAL = 1024 * 1024 * 1024
MAX_RATIO = 120  # inflated / compressed, for parts above RATIO_FLOOR (as read/workbook.py)
RATIO_FLOOR = 2 * 1024 * 1024
MAX_PARAGRAPHS = 200_000

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
DOCUMENT = "word/document.xml"
ZIP_MAGIC = b"PK\x03\x04"


class UnreadableDocument(InputFileError):
    """The .docx cannot be read safely; ``reason`` is the short Chinese reason."""


def _mb(n):
    return f"{n / 2**20:,.0f} MB" if n >= 2**20 else f"{n / 1024:,.0f} KB"


def check_zip(z, path):
    """Refuse a zip whose declared sizes or ratios no real .docx has (before inflating).

    Raises:
        UnreadableDocument: with the Chinese reason (the part, its size or ratio).
    """
    infos = z.infolist()
    if len(infos) > MAX_ENTRIES:
        raise UnreadableDocument(path, f"压缩包内文件过多（{len(infos)} 个），疑似异常文件，未读取")
    total = 0
    for i in infos:
        total += i.file_size
        cap = MAX_DOCUMENT_XML if i.filename == DOCUMENT else MAX_ENTRY
        if i.file_size > cap or total > MAX_TOTAL:
            raise UnreadableDocument(
                path, f"解压后过大（{i.filename} 声明 {_mb(i.file_size)}，上限 {_mb(cap)}），"
                      "疑似压缩炸弹，未读取")
        if i.file_size > RATIO_FLOOR and i.file_size > MAX_RATIO * max(1, i.compress_size):
            raise UnreadableDocument(
                path, f"压缩比异常（{i.filename} 为 {i.file_size // max(1, i.compress_size):,} 倍），"
                      "疑似压缩炸弹，未读取")


def paragraphs(path):
    """The text of each paragraph of the document body, tables' paragraphs in place.

    Args:
        path: a .docx file.
    Returns:
        list of str (a paragraph's runs joined; a text box inside a paragraph counts once,
        with the paragraph).
    Raises:
        UnreadableDocument: not a .docx, damaged, encrypted, or beyond the bounds.
    """
    p = Path(path)
    try:
        size = p.stat().st_size
        with open(p, "rb") as f:
            head = f.read(8)
    except OSError as e:
        raise UnreadableDocument(p, f"无法读取（{os_reason(e)}）") from None
    if size == 0:
        raise UnreadableDocument(p, "文件为空（0 字节）")
    if not head.startswith(ZIP_MAGIC):
        raise UnreadableDocument(p, "不是有效的 .docx 文件（可能设有密码，或只是改了扩展名）")
    if size > MAX_FILE_BYTES:
        raise UnreadableDocument(p, f"文件过大（{_mb(size)}，上限 {_mb(MAX_FILE_BYTES)}），未读取")
    try:
        with zipfile.ZipFile(p) as z:
            check_zip(z, p)
            if DOCUMENT not in z.NameToInfo:
                raise UnreadableDocument(p, "不是有效的 .docx 文件（压缩包内没有 word/document.xml）")
            with z.open(DOCUMENT) as f:
                return _paragraphs(f, p)
    except UnreadableDocument:
        raise
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, RuntimeError):
        raise UnreadableDocument(p, "文件已损坏或不完整（不是有效的 .docx）") from None
    except OSError as e:
        raise UnreadableDocument(p, f"无法读取（{os_reason(e)}）") from None
    except Exception:  # noqa: BLE001 - defusedxml refuses entities/DTDs; a broken XML part
        raise UnreadableDocument(p, "word/document.xml 无法解析（内容有误或含不允许的 XML 实体）") from None


def _paragraphs(f, p):
    out, depth = [], 0  # depth: paragraphs open around the current element
    body = None
    for event, el in iterparse(f, events=("start", "end")):
        if el.tag == f"{W}body":
            if event == "start":
                body = el
            continue
        if el.tag != f"{W}p":
            continue
        if event == "start":
            depth += 1
            continue
        depth -= 1
        if depth == 0:  # an outermost paragraph: its text, then forget it
            out.append("".join(t.text or "" for t in el.iter(f"{W}t")))
            el.clear()
            if body is not None and len(out) % 1000 == 0:
                for child in list(body):  # cleared paragraphs and finished tables
                    if not len(child):
                        body.remove(child)
            if len(out) > MAX_PARAGRAPHS:
                raise UnreadableDocument(p, f"段落过多（超过 {MAX_PARAGRAPHS:,} 段），疑似异常文件，未读取")
    return out
