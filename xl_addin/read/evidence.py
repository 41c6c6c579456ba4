"""Whether a file of a dossier is really there (RULES.md M, "the files are the evidence";
issue 19 §9).

A file counts as the material it names only when it holds something: not zero bytes, not a
sparse file of holes, content that matches its extension for the kinds whose signature is
certain (PDF, JPEG, PNG, DOCX, XLSX), and not a link leaving the dossier folder. Nothing here
parses a file: the first bytes, and for a zip its directory, are enough.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

from xl_addin.errors import os_reason
from xl_addin.files import is_sparse, size_note

ZIP = b"PK\x03\x04"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PDF_WINDOW = 1024  # the PDF header may follow a little junk (ISO 32000-1, 7.5.2)

# Extension -> what its content must be. Other kinds (.doc, .xls, .sav, .csv, .dta, .zip)
# have no signature certain enough to refuse a file for (a .doc may be RTF, a .csv anything).
CHECKED = {"pdf": "pdf", "jpg": "jpeg", "jpeg": "jpeg", "png": "png", "docx": "docx",
           "xlsx": "xlsx"}
KIND_WORDS = {"pdf": "PDF 文件", "jpeg": "JPEG 图片", "png": "PNG 图片", "docx": ".docx 文档",
              "xlsx": ".xlsx 工作簿"}


def sniff(path):
    """What the content of a file is, by its first bytes (and a zip's directory).

    Returns:
        "pdf", "jpeg", "png", "gif", "docx", "xlsx", "zip", "ole", "exe", "html", "text",
        or "other".
    """
    with open(path, "rb") as f:
        head = f.read(PDF_WINDOW)
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"MZ"):
        return "exe"
    if head.startswith(OLE):
        return "ole"
    if head.startswith(ZIP):
        try:
            with zipfile.ZipFile(path) as z:  # the central directory only
                names = set(z.NameToInfo)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            return "zip"
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
        return "zip"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in text[:512]:
        return "html"
    try:
        head.decode("utf-8")
        return "text"
    except UnicodeDecodeError:
        return "other"


# How a wrong content is named in the reason.
CONTENT_WORDS = {"pdf": "PDF 文件", "jpeg": "JPEG 图片", "png": "PNG 图片", "gif": "GIF 图片",
                 "docx": ".docx 文档", "xlsx": ".xlsx 工作簿", "zip": "压缩包",
                 "ole": "旧版 Office 文件或设有密码的文件", "exe": "EXE 可执行程序",
                 "html": "HTML 网页", "text": "纯文本", "other": "无法识别的内容"}


def problem(path, root):
    """Why ``path`` does not count as a material file, or None when it does.

    Args:
        path: a file of the dossier folder (a link is judged, never followed outside).
        root: the dossier folder.
    Returns:
        str: the reason in Chinese, to follow the file's name (“营业执照.pdf”是空文件…), or None.
    """
    p = Path(path)
    try:
        if p.is_symlink():
            target = os.path.realpath(p)
            top = os.path.realpath(root)
            if not (target == top or target.startswith(top + os.sep)):
                return "是指向申报材料文件夹之外的链接（出于安全未读取；请把原文件复制到文件夹中）"
            if not os.path.exists(target):
                return "是失效的链接（指向的文件不存在）"
        st = p.stat()
    except OSError as e:
        return f"无法读取（{os_reason(e)}）"
    if not stat.S_ISREG(st.st_mode):
        return "不是普通文件"
    if st.st_size == 0:
        return "是空文件（0 字节）"
    if is_sparse(st):
        return "是" + size_note(st)
    want = CHECKED.get(p.suffix.lower().lstrip("."))
    if want is None:
        return None
    try:
        got = sniff(p)
    except OSError as e:
        return f"无法读取（{os_reason(e)}）"
    if got == want:
        return None
    return f"的内容不是{_sp(KIND_WORDS[want])}，实际是{_sp(CONTENT_WORDS[got])}（可能只是改了扩展名）"


def _sp(word):
    """A space before a word that starts with a Latin letter or a dot (as the messages write
    “不是 .docx 文件”)."""
    return f" {word}" if word[:1].isascii() else word
