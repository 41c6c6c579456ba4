"""A corpus of broken, odd and hostile files, generated once per session (issue 4 §4,
issue 12).

Each case is one entry (a file, a link, a pipe, a folder) beside a good application in its
own sub-folder. The whole corpus is consolidated in one run (few runs: the suite must stay
fast), then every case is checked against that master: its status and reason, the
accounting invariant (files in = imported + rejected + ignored; rows read = rows in 汇总 +
rows in 拒收), no live formula and no missing quote prefix, no traceback, peak memory of
the run under 500 MB. `saq check` and `saq review collect` get the same corpus.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from master_sheets import formula_problems, sheet

from xl_addin import demo
from xl_addin.rules.campaign import load

C = load(2023)
GOOD = "good.xlsx"


def _app(seed=1, category="服务类"):
    return demo.application(C, random.Random(seed), seed, category, demo.RECOMMENDERS[0])


def write_good(path, seed=1, **changes):
    a = _app(seed)
    a.values.update(changes)
    demo.write_plain_application(path, {k: v for k, v in a.values.items() if v is not None},
                            a.respondents, C)
    return a


def rezip(src, dst, edit):
    """Copy a zip, passing each (name, bytes) through ``edit`` (None drops the entry)."""
    with zipfile.ZipFile(src) as z:
        items = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:  # fast
        for n, data in items:
            out = edit(n, data)
            if out is not None:
                z.writestr(n, out)
        extra = edit("__extra__", b"")
        if extra:
            for n, data in extra:
                z.writestr(n, data)


# ---------------------------------------------------------------------- the cases
def case_not_zip(d):
    (d / "x.xlsx").write_text("姓名,电话\n张三,1380000\n", encoding="utf-8")
    return "x.xlsx"


def case_truncated(d):
    write_good(d / "full.tmp")
    data = (d / "full.tmp").read_bytes()
    (d / "full.tmp").unlink()
    (d / "x.xlsx").write_bytes(data[: len(data) * 2 // 3])
    return "x.xlsx"


def case_encrypted(d):
    import msoffcrypto.format.ooxml as ox
    write_good(d / "plain.tmp")
    out = io.BytesIO()
    with open(d / "plain.tmp", "rb") as f:
        ox.OOXMLFile(f).encrypt("secret", out)
    (d / "plain.tmp").unlink()
    (d / "x.xlsx").write_bytes(out.getvalue())
    return "x.xlsx"


def case_xls(d):
    (d / "x.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    return "x.xls"


def case_et(d):
    (d / "x.et").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(601))
    return "x.et"


def case_csv(d):
    (d / "x.csv").write_bytes("序号,申请组织名称\n1,上海某公司\n".encode("gb18030"))
    return "x.csv"


def case_lock(d):
    (d / "~$good.xlsx").write_bytes(b"\x05user" + bytes(150))
    return "~$good.xlsx"


def case_empty(d):
    (d / "x.xlsx").write_bytes(b"")
    return "x.xlsx"


def case_bomb(d):
    with zipfile.ZipFile(d / "x.xlsx", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"0" * (80 * 1024 * 1024))
    return "x.xlsx"


def case_million_rows(d):
    """Our workbook whose 被访者名单 sheet has a million rows."""
    write_good(d / "base.tmp")
    rows = "".join(f'<row r="{i}"><c r="B{i}" t="inlineStr"><is><t>张{i}</t></is></c></row>'
                   for i in range(1, 1_000_001))
    big = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           f"<sheetData>{rows}</sheetData></worksheet>").encode()
    rezip(d / "base.tmp", d / "x.xlsx",
          lambda n, b: big if n == "xl/worksheets/sheet3.xml" else (None if n == "__extra__" else b))
    (d / "base.tmp").unlink()
    return "x.xlsx"


def case_entity_bomb(d):
    lol = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
           b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
           b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&lol3;</workbook>')
    write_good(d / "base.tmp")
    rezip(d / "base.tmp", d / "x.xlsx",
          lambda n, b: lol if n == "xl/workbook.xml" else (None if n == "__extra__" else b))
    (d / "base.tmp").unlink()
    return "x.xlsx"


def case_not_ours(d):
    from openpyxl import Workbook
    wb = Workbook()
    wb.active["A1"] = "企业名称"
    wb.save(d / "x.xlsx")
    return "x.xlsx"


def case_last_year(d):
    a = _app(3)
    demo.write_plain_application(d / "x.xlsx", a.values, a.respondents, C, year=C.year - 1)
    return "x.xlsx"


def case_older_version(d):
    write_good(d / "base.tmp", seed=4)
    rezip(d / "base.tmp", d / "x.xlsx", lambda n, b: None if n == "__extra__" else
          b.replace(C.template_version.encode(), b"2023.0"))
    (d / "base.tmp").unlink()
    return "x.xlsx"


def case_renamed_sheet(d):
    """A user renamed 申请表 (Excel updates the defined names; so do we)."""
    write_good(d / "base.tmp", seed=5, org_name="上海改名测试有限公司")
    rezip(d / "base.tmp", d / "x.xlsx", lambda n, b: None if n == "__extra__" else
          (b.replace("申请表".encode(), "我的申请".encode()) if n == "xl/workbook.xml" else b))
    (d / "base.tmp").unlink()
    return "x.xlsx"


def case_macro(d):
    write_good(d / "base.tmp", seed=6, org_name="上海宏测试有限公司")
    rezip(d / "base.tmp", d / "x.xlsm", lambda n, b: [("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + bytes(64))]
          if n == "__extra__" else b)
    (d / "base.tmp").unlink()
    return "x.xlsm"


def case_pdf(d):
    (d / "x.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    return "x.pdf"


def case_docx_as_xlsx(d):
    with zipfile.ZipFile(d / "x.xlsx", "w") as z:
        z.writestr("word/document.xml", "<document/>")
    return "x.xlsx"


def case_duplicate_copy(d):
    shutil.copy(d / GOOD, d / "x.xlsx")
    return "x.xlsx"


def case_text_in_number(d):
    write_good(d / "x.xlsx", seed=7, satisfaction="八十五", respondents="很多")
    return "x.xlsx"


def case_ref_deleted(d):
    write_good(d / "base.tmp", seed=8)
    rezip(d / "base.tmp", d / "x.xlsx", lambda n, b: None if n == "__extra__" else
          (re.sub(rb"(<definedName name=\"contact_title\">)[^<]*", rb"\1#REF!", b)
           if n == "xl/workbook.xml" else b))
    (d / "base.tmp").unlink()
    return "x.xlsx"


def case_no_respondent_table(d):
    write_good(d / "base.tmp", seed=9)
    rezip(d / "base.tmp", d / "x.xlsx", lambda n, b: None if n.startswith("xl/tables/")
          or n == "__extra__" else re.sub(rb"<tableParts.*?</tableParts>", b"", b))
    (d / "base.tmp").unlink()
    return "x.xlsx"


def case_xlsx_named_xls(d):
    write_good(d / "x.xls", seed=10, org_name="上海扩展名测试有限公司")
    return "x.xls"


def case_huge_recommender_table(d):
    rows = [{"序号": i, "申请组织名称": f"上海第{i}有限公司", "满意度得分": 80} for i in range(6001)]
    demo.write_plain_recommender(d / "x.xlsx", {"recommender": "上海市测试协会"}, rows, C)
    return "x.xlsx"


# (case, expected status, words the reason must contain)
CASES = [
    (case_not_zip, "已拒收", "不是 Excel 工作簿"),
    (case_truncated, "已拒收", "损坏或不完整"),
    (case_encrypted, "已拒收", "密码"),
    (case_xls, "已拒收", "另存为 .xlsx"),
    (case_et, "已拒收", "另存为 .xlsx"),
    (case_csv, "已拒收", "另存为 .xlsx"),
    (case_lock, "已忽略", "临时锁文件"),
    (case_empty, "已拒收", "为空"),
    (case_bomb, "已拒收", "压缩炸弹"),
    (case_million_rows, "已拒收", "过大"),
    (case_entity_bomb, "已拒收", "无法解析"),
    (case_not_ours, "已拒收", "不是本活动下发的模板"),
    (case_last_year, "已拒收", f"这是 {C.year - 1} 年活动的模板，本次按 {C.year} 年活动处理"),
    (case_older_version, "已导入", "模板版本 2023.0"),
    (case_renamed_sheet, "已导入", ""),
    (case_macro, "已导入", "含宏（未运行）"),
    (case_pdf, "已忽略", "不是 Excel 文件"),
    (case_docx_as_xlsx, "已拒收", "另存为 .xlsx"),
    (case_duplicate_copy, "已忽略", "内容完全相同"),
    (case_text_in_number, "已导入", ""),
    (case_ref_deleted, "已导入", "#REF!"),
    (case_no_respondent_table, "已导入", "已按表头"),  # converted to a range: found by its header
    (case_xlsx_named_xls, "已导入", ""),
    (case_huge_recommender_table, "已拒收", "行上限"),
]


# ---------------------------------------------------------------------- issue 12 cases
def inject(src, dst, part, edit):
    """Copy a zip, passing the bytes of ``part`` through ``edit``."""
    rezip(src, dst, lambda n, b: None if n == "__extra__" else (edit(b) if n == part else b))


APP_SHEET = "xl/worksheets/sheet1.xml"  # 申请表 in the test writer
META_PART = "xl/worksheets/sheet4.xml"
FAR = "<row r=\"{r}\"><c r=\"{ref}\" t=\"inlineStr\"><is><t>远处</t></is></c></row>"


def _far(d, ref, part=APP_SHEET, seed=20, styled=False):
    write_good(d / "base.tmp", seed=seed)
    row = int(re.sub(r"[A-Z]", "", ref))
    cell = f'<row r="{row}"><c r="{ref}" s="0"/></row>' if styled else FAR.format(r=row, ref=ref)
    inject(d / "base.tmp", d / "x.xlsx", part,
           lambda b: b.replace(b"</sheetData>", cell.encode() + b"</sheetData>"))
    (d / "base.tmp").unlink()
    return "x.xlsx"


def case_far_cell_xfd(d):
    """One value at XFD1048576: a dense grid of 17 billion cells if built (issue 12 §2)."""
    return _far(d, "XFD1048576")


def case_far_cell_z(d):
    return _far(d, "Z1048576")


def case_far_cell_in_meta(d):
    return _far(d, "XFD1048576", META_PART)


def case_far_cell_recommender(d):
    rows = [{"序号": 1, "申请组织名称": "上海远处有限公司", "满意度得分": 80}]
    demo.write_plain_recommender(d / "base.tmp", {"recommender": "上海市测试协会"}, rows, C)
    inject(d / "base.tmp", d / "x.xlsx", APP_SHEET,
           lambda b: b.replace(b"</sheetData>", FAR.format(r=900000, ref="AB900000").encode()
                               + b"</sheetData>"))
    (d / "base.tmp").unlink()
    return "x.xlsx"


def case_styled_far_cell(d):
    """An empty formatted cell far away builds nothing: read as usual."""
    return _far(d, "XFD1048576", styled=True)


def case_dimension_lie(d):
    write_good(d / "base.tmp", seed=21)
    inject(d / "base.tmp", d / "x.xlsx", APP_SHEET,
           lambda b: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', b))
    (d / "base.tmp").unlink()
    return "x.xlsx"


PLACEHOLDER = "上海占位文字有限公司"


def replace_text(xml, old, new):
    """Replace a text in sheet XML, written plain or as character references (the test
    writer normalises to references)."""
    refs = "".join(f"&#{ord(ch)};" for ch in old).encode()
    out = xml.replace(old.encode(), new.encode()).replace(refs, new.encode())
    assert out != xml, old
    return out


def _text_into(d, text, seed, name="x.xlsx"):
    """A good application whose 企业名称 cell holds ``text`` exactly as XML (escapes too)."""
    write_good(d / "base.tmp", seed=seed, org_name=PLACEHOLDER)
    inject(d / "base.tmp", d / name, APP_SHEET,
           lambda b: replace_text(b, PLACEHOLDER, text))
    (d / "base.tmp").unlink()
    return name


def case_control_escape_value(d):
    """_x001B_ and _x0000_ in a value: control characters once read (issue 12 §1)."""
    return _text_into(d, "上海_x001B_控制_x0000_字符有限公司", 22)


def case_literal_escape_text(d):
    """The text "_x001B_" typed by a person (saved as _x005F_x001B_): kept as typed."""
    return _text_into(d, "上海_x005F_x001B_文字有限公司", 23)


def case_control_in_recommender_row(d):
    rows = [{"序号": 1, "申请组织名称": "上海行内占位有限公司", "满意度得分": 80,
             "申报项目名称": "项目"}]
    demo.write_plain_recommender(d / "base.tmp", {"recommender": "上海市测试协会"}, rows, C)
    inject(d / "base.tmp", d / "x.xlsx", APP_SHEET,
           lambda b: replace_text(b, "上海行内占位有限公司", "上海_x000B_行内有限公司"))
    (d / "base.tmp").unlink()
    return "x.xlsx"


def case_formula_like_values(d):
    """Text that a spreadsheet would take for a formula, in many fields (issue 12 §7)."""
    write_good(d / "x.xlsx", seed=24, org_name="=HYPERLINK(\"http://x\",\"点我\")",
               project_name="+1+1", contact_name="-2", contact_title="@SUM(1)",
               address="\t制表符开头", industry="\r回车开头")
    return "x.xlsx"


def case_control_in_filename(d):
    write_good(d / "a\x1bb.xlsx", seed=25)
    return "a\\x1Bb.xlsx"


def case_formula_filename(d):
    write_good(d / "=1+1.xlsx", seed=26)
    return "=1+1.xlsx"


def case_gbk_filename(d):
    """A name in GBK bytes, as mail unzipped on Linux leaves it (issue 12 §5)."""
    import os
    write_good(d / "base.tmp", seed=27)
    os.rename(bytes(d / "base.tmp"), bytes(d) + b"/" + "申请书".encode("gbk") + b".xlsx")
    return "申请书.xlsx"


def case_gbk_folder(d):
    import os
    sub = bytes(d) + b"/" + "推荐材料".encode("gbk")
    os.mkdir(sub)
    write_good(d / "base.tmp", seed=28)
    os.rename(bytes(d / "base.tmp"), sub + b"/a.xlsx")
    return "推荐材料/a.xlsx"


def case_undecodable_filename(d):
    import os
    write_good(d / "base.tmp", seed=29)
    os.rename(bytes(d / "base.tmp"), bytes(d) + b"/\xff\xfe.xlsx")
    return "\\xff\\xfe.xlsx"


def case_ods(d):
    with zipfile.ZipFile(d / "x.ods", "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                   compress_type=zipfile.ZIP_STORED)
        z.writestr("content.xml", "<office:document-content/>")
    return "x.ods"


def case_ods_named_xlsx(d):
    case_ods(d)
    with zipfile.ZipFile(d / "x.ods", "a") as z:
        z.writestr("styles.xml", "<office:document-styles/>")  # not a copy of case_ods
    (d / "x.ods").rename(d / "x.xlsx")
    return "x.xlsx"


def case_strict_ooxml(d):
    write_good(d / "base.tmp", seed=30)
    inject(d / "base.tmp", d / "x.xlsx", "xl/workbook.xml", lambda b: b.replace(
        b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        b"http://purl.oclc.org/ooxml/spreadsheetml/main"))
    (d / "base.tmp").unlink()
    return "x.xlsx"


def _meta_only(path, template_id):
    from openpyxl import Workbook
    wb = Workbook()
    wb.active["A1"] = "内容"
    demo.writers._meta(wb, template_id, C)
    wb.save(path)


def case_master_in_folder(d):
    _meta_only(d / "汇总表.xlsx", "saq-master")
    return "汇总表.xlsx"


def case_expert_form(d):
    _meta_only(d / "专家评分表.xlsx", "saq-expert")
    return "专家评分表.xlsx"


def case_unknown_template(d):
    _meta_only(d / "x.xlsx", "saq-something")
    return "x.xlsx"


def case_symlink_outside(d):
    import os
    outside = d.parent.parent / "outside.xlsx"
    if not outside.exists():
        write_good(outside, seed=31, org_name="上海外部文件有限公司")
    os.symlink(outside, d / "x.xlsx")
    return "x.xlsx"


def case_symlink_inside(d):
    import os
    os.symlink(d / GOOD, d / "x.xlsx")
    return "x.xlsx"


def case_symlink_folder_loop(d):
    import os
    os.symlink(d, d / "loop")
    return "loop"


def case_broken_symlink(d):
    import os
    os.symlink(d / "nowhere.xlsx", d / "x.xlsx")
    return "x.xlsx"


def case_named_pipe(d):
    """Opening it would block forever (issue 12 §8)."""
    import os
    os.mkfifo(d / "x.xlsx")
    return "x.xlsx"


def case_socket(d):
    import os
    import socket
    here = os.getcwd()
    os.chdir(d)  # a socket's path is limited to ~100 bytes: bind by relative name
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind("x.sock")
        s.close()
    finally:
        os.chdir(here)
    return "x.sock"


def case_unreadable_folder(d):
    """A folder the user may not open (as root it opens: then its file is read)."""
    import os
    sub = d / "私密"
    sub.mkdir()
    write_good(sub / "a.xlsx", seed=32)
    os.chmod(sub, 0)
    return "私密" if _folder_blocked(sub) else "私密/a.xlsx"


def _folder_blocked(p):
    import os
    try:
        os.listdir(p)
        return False
    except PermissionError:
        return True


def case_long_path(d):
    """Folders nested past the system's path limit (4096 bytes)."""
    import os
    fd = os.open(d, os.O_RDONLY)
    name = "层" * 80  # 240 bytes per level
    depth, parts = 0, []
    try:
        while len(str(d).encode()) + depth * (len(name.encode()) + 1) < 4300:
            os.mkdir(name, dir_fd=fd)
            nfd = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd, depth = nfd, depth + 1
            parts.append(name)
        with open(os.open("a.xlsx", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "wb") as f:
            f.write(b"PK\x03\x04 deep")
    finally:
        os.close(fd)
    # The first entry whose path reaches the limit is listed (nothing below it can be opened).
    base = len(str(d).encode())
    for k in range(1, depth + 1):
        if base + k * (len(name.encode()) + 1) >= 4096:
            return "/".join(parts[:k])
    return "/".join(parts) + "/a.xlsx"


def case_long_name(d):
    name = "长" * 80 + ".xlsx"  # 245 bytes: a legal name
    write_good(d / name, seed=33)
    return name


def case_hidden_file(d):
    (d / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    return ".DS_Store"


def case_resource_fork(d):
    (d / "._good.xlsx").write_bytes(b"\x00\x05\x16\x07" + bytes(100))
    return "._good.xlsx"


def case_macosx_folder(d):
    (d / "__MACOSX").mkdir()
    (d / "__MACOSX" / "good.xlsx").write_bytes(b"\x00\x05\x16\x07" + bytes(80))
    return "__MACOSX/good.xlsx"


def case_xlsx_named_et(d):
    write_good(d / "x.et", seed=34, org_name="上海金山格式有限公司")
    return "x.et"


def case_no_extension(d):
    write_good(d / "申请书", seed=35, org_name="上海无扩展名有限公司")
    return "申请书"


def case_text_file(d):
    (d / "说明.txt").write_text("请查收附件", encoding="utf-8")
    return "说明.txt"


def case_zip_archive(d):
    with zipfile.ZipFile(d / "材料.zip", "w") as z:
        z.writestr("a.txt", "x")
    return "材料.zip"


def case_ole_named_xlsx(d):
    (d / "x.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1000))
    return "x.xlsx"


def case_many_zip_entries(d):
    with zipfile.ZipFile(d / "x.xlsx", "w") as z:
        for i in range(5001):
            z.writestr(f"f{i}", b"")
    return "x.xlsx"


def case_recommender_rows(d):
    rows = [{"序号": i, "申请组织名称": f"上海推荐{i}有限公司", "统一社会信用代码": "",
             "满意度得分": 80, "申报项目名称": f"项目{i}"} for i in (1, 2, 3)]
    rows.append({"序号": 4, "满意度得分": 70})  # no name, no code: rejected row
    demo.write_plain_recommender(d / "x.xlsx", {"recommender": "上海市测试协会"}, rows, C)
    return "x.xlsx"


def case_long_respondent_list(d):
    a = _app(36)
    people = [(i, f"被访者{i}", f"1380000{i:04d}") for i in range(1, 3001)]
    demo.write_plain_application(d / "x.xlsx", {k: v for k, v in a.values.items() if v is not None},
                            people, C)
    return "x.xlsx"


def case_infinite_number(d):
    """1e999 in a number cell: infinity must not reach the master's XML."""
    write_good(d / "base.tmp", seed=37, satisfaction=88)
    inject(d / "base.tmp", d / "x.xlsx", APP_SHEET,
           lambda b: re.sub(rb"(<c r=\"B11\"[^>]*>)<v>[^<]*</v>", rb"\1<v>1e999</v>", b))
    (d / "base.tmp").unlink()
    return "x.xlsx"


def case_entity_in_sheet(d):
    write_good(d / "base.tmp", seed=38)
    inject(d / "base.tmp", d / "x.xlsx", APP_SHEET, lambda b: (
        b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>' + b))
    (d / "base.tmp").unlink()
    return "x.xlsx"


def _table_edit(d, edit, seed):
    rows = [{"序号": i, "申请组织名称": f"上海表格{seed}{i}有限公司", "满意度得分": 80,
             "申报项目名称": f"项目{i}"} for i in range(1, 10)]
    demo.write_plain_recommender(d / "base.tmp", {"recommender": "上海市测试协会"}, rows, C)
    rezip(d / "base.tmp", d / "x.xlsx", lambda n, b: None if n == "__extra__" else edit(n, b))
    (d / "base.tmp").unlink()
    return "x.xlsx"


def case_table_converted_to_range(d):
    """附件3 table converted to a range: the nine rows must still be read (issue 12 §3)."""
    return _table_edit(d, lambda n, b: None if n.startswith("xl/tables/") else
                       re.sub(rb"<tableParts.*?</tableParts>", b"", b), 1)


def case_table_renamed(d):
    return _table_edit(d, lambda n, b: b.replace(b"recommendations", b"Table1")
                       if n.startswith("xl/tables/") else b, 2)


def case_table_shrunk(d):
    return _table_edit(d, lambda n, b: re.sub(rb'ref="A(\d+):([A-Z]+)\d+"',
                                              lambda m: b'ref="A%s:%s%d"' % (
                                                  m.group(1), m.group(2), int(m.group(1)) + 3), b)
                       if n.startswith("xl/tables/") else b, 3)


ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False

# (case, expected status, words the reason must contain, rows the file must give or None)
NEW_CASES = [
    (case_far_cell_xfd, "已拒收", "使用区域过大"),
    (case_far_cell_z, "已拒收", "使用区域过大"),
    (case_far_cell_in_meta, "已拒收", "使用区域过大"),
    (case_far_cell_recommender, "已拒收", "使用区域过大"),
    (case_styled_far_cell, "已导入", ""),
    (case_dimension_lie, "已导入", ""),
    (case_control_escape_value, "已导入", "“企业名称”含表格不能保存的控制字符"),
    (case_literal_escape_text, "已导入", ""),
    (case_control_in_recommender_row, "已导入", "控制字符"),
    (case_formula_like_values, "已导入", ""),
    (case_control_in_filename, "已导入", "文件名含控制字符"),
    (case_formula_filename, "已导入", ""),
    (case_gbk_filename, "已导入", "GB18030"),
    (case_gbk_folder, "已导入", "GB18030"),
    (case_undecodable_filename, "已导入", "转义"),
    (case_ods, "已拒收", "OpenDocument"),
    (case_ods_named_xlsx, "已拒收", "OpenDocument"),
    (case_strict_ooxml, "已拒收", "Strict Open XML"),
    (case_master_in_folder, "已忽略", "汇总表"),
    (case_expert_form, "已忽略", "专家评分表"),
    (case_unknown_template, "已拒收", "不是本活动下发的模板"),
    (case_symlink_outside, "已忽略", "之外"),
    (case_symlink_inside, "已忽略", "文件夹内"),
    (case_symlink_folder_loop, "已忽略", "符号链接"),
    (case_broken_symlink, "已忽略", "不存在"),
    (case_named_pipe, "已忽略", "命名管道"),
    (case_socket, "已忽略", "套接字"),
    (case_unreadable_folder, "已导入" if ROOT else "已拒收", "" if ROOT else "无法打开文件夹"),
    (case_long_path, "已拒收", "路径过长"),
    (case_long_name, "已导入", ""),
    (case_hidden_file, "已忽略", "隐藏"),
    (case_resource_fork, "已忽略", "隐藏"),
    (case_macosx_folder, "已忽略", "隐藏"),
    (case_xlsx_named_et, "已导入", ""),
    (case_no_extension, "已导入", ""),
    (case_text_file, "已忽略", "不是 Excel 文件"),
    (case_zip_archive, "已忽略", "不是 Excel 文件"),
    (case_ole_named_xlsx, "已拒收", "另存为 .xlsx"),
    (case_many_zip_entries, "已拒收", "文件过多"),
    (case_recommender_rows, "已导入", ""),
    (case_long_respondent_list, "已导入", ""),
    (case_infinite_number, "已导入", ""),
    (case_entity_in_sheet, "已导入", ""),  # the cell reader expands no entity
    (case_table_converted_to_range, "已导入", ""),
    (case_table_renamed, "已导入", ""),
    (case_table_shrunk, "已导入", ""),
]
ALL_CASES = [pytest.param(*c) if not hasattr(c, "values") else c for c in CASES + NEW_CASES]
ROWS = {"recommender_rows": 4, "table_converted_to_range": 9, "table_renamed": 9,
        "table_shrunk": 9}  # rows read that a case must give (the rest give 1 or 0)


def _case(p):
    return p.values[0]


def _id(p):
    return _case(p).__name__[5:]


# ---------------------------------------------------------------------- running, measured
MEMORY_LIMIT = 500 * 2**20
TRACEBACK = re.compile(r"Traceback|\b[A-Z][A-Za-z]+(?:Error|Exception)\b")


# The child reports its own peak: getrusage/wait4 would also count the memory of this
# (large) test process, which a forked child holds until it executes Python anew.
PEAK_BOOT = """
import atexit, resource, sys
def peak():
    try:
        with open("/proc/self/status") as f:
            kb = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
    except (OSError, StopIteration):
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open(PEAK_FILE, "w") as f:
        f.write(str(kb * 1024))
PEAK_FILE = sys.argv[1]
del sys.argv[1]
atexit.register(peak)
"""
SAQ_BOOT = PEAK_BOOT + """
sys.argv[0] = "saq"
from xl_addin.cli import main
sys.exit(main())
"""


def run_measured(args, timeout=600, cwd=None):
    """Run ``saq`` in a subprocess; return (exit code, stdout, stderr, peak RSS bytes).

    The peak is the child's own (VmHWM at its exit), whatever ran before in this session.
    """
    env = dict(os.environ, PYTHONPATH=str(ROOT_DIR), PYTHONIOENCODING="utf-8")
    with open(os.devnull, "rb") as stdin, tempfile.TemporaryFile() as out, \
            tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile() as peak:
        p = subprocess.Popen([sys.executable, "-c", SAQ_BOOT, peak.name, *map(str, args)],
                             stdin=stdin, stdout=out, stderr=err, env=env, cwd=cwd)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, _usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                os.wait4(p.pid, 0)
                raise AssertionError(f"saq {args[0]} did not finish in {timeout} s")
            time.sleep(0.05)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        rss = int(Path(peak.name).read_text() or 0)
        return (p.returncode, out.read().decode("utf-8", "replace"),
                err.read().decode("utf-8", "replace"), rss)


ROOT_DIR = Path(__file__).resolve().parent.parent


def entries_on_disk(folder):
    """Every entry under ``folder`` as 文件清单 must list it, found independently of the
    consolidation's walker: files, links (not followed), pipes and sockets; a folder that
    cannot be opened (permissions, path too long) stands for what is inside it."""
    from xl_addin.files import display_name
    out = []

    def name(path):
        rel = os.path.relpath(path, folder)
        return "/".join(display_name(part)[0] for part in rel.split(os.sep))

    def walk(path):
        try:
            names = os.listdir(path)
        except OSError:
            out.append(name(path))
            return
        for n in names:
            p = os.path.join(path, n)
            if len(os.fsencode(p)) >= 4096:
                out.append(name(p))
            elif os.path.isdir(p) and not os.path.islink(p):
                walk(p)
            else:
                out.append(name(p))

    walk(os.fsencode(str(folder)).decode("utf-8", "surrogateescape"))
    return sorted(out)


def no_illegal_xml(path):
    """Every part of the workbook is XML 1.0: no control characters, no surrogates."""
    with zipfile.ZipFile(path) as z:
        for n in z.namelist():
            text = z.read(n).decode("utf-8")
            assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]", text), n
            for m in re.finditer(r"&#(x[0-9a-fA-F]+|[0-9]+);", text):
                ch = int(m.group(1)[1:], 16) if m.group(1)[0] == "x" else int(m.group(1))
                assert ch in (9, 10, 13) or 0x20 <= ch < 0xD800 or 0xE000 <= ch, (n, m.group())


# ---------------------------------------------------------------------- the corpus, once
@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """Every case in its own sub-folder beside a good application."""
    root = tmp_path_factory.mktemp("corpus")
    folder = root / "in"
    made = {}
    for k, param in enumerate(ALL_CASES):
        d = folder / f"{k:02d}_{_id(param)}"
        d.mkdir(parents=True)
        write_good(d / GOOD, seed=100 + k)
        made[_id(param)] = f"{d.name}/{_case(param)(d)}"
    yield root, folder, made
    os.chmod(folder / made["unreadable_folder"].split("/")[0] / "私密", 0o755)  # for cleanup


@pytest.fixture(scope="session")
def consolidated(corpus):
    """One consolidation of the whole corpus, in a subprocess, measured."""
    root, folder, made = corpus
    out = root / "master.xlsx"
    t0 = time.perf_counter()
    # the corpus holds last year's template among this year's: the year is said (issue 20 §7)
    code, stdout, stderr, rss = run_measured(["consolidate", folder, "-o", out, "-q", "-j", "1",
                                              "--campaign", "2023"])
    seconds = time.perf_counter() - t0
    files = {f["文件"]: f for f in sheet(out, "文件清单")} if out.exists() else {}
    return {"out": out, "code": code, "stdout": stdout, "stderr": stderr, "rss": rss,
            "seconds": seconds, "files": files, "made": made, "folder": folder}


def test_whole_corpus_run_is_clean_and_bounded(consolidated):
    r = consolidated
    assert r["code"] == 0, r["stderr"]
    assert not TRACEBACK.search(r["stderr"] + r["stdout"]), r["stderr"]
    assert 0 < r["rss"] < MEMORY_LIMIT, r["rss"] // 2**20
    assert r["seconds"] < 300
    no_illegal_xml(r["out"])
    assert formula_problems(r["out"]) == []


def test_whole_corpus_lists_every_entry(consolidated):
    """文件清单 lists every entry of the folder, each imported, rejected or ignored."""
    files = consolidated["files"]
    assert sorted(files) == entries_on_disk(consolidated["folder"])
    assert {f["状态"] for f in files.values()} <= {"已导入", "已拒收", "已忽略"}
    n = Counter(f["状态"] for f in files.values())
    year, line = consolidated["stdout"].splitlines()[:2]
    assert year == "活动年度：2023（按命令行 --campaign 指定）"
    assert line == (f"文件 {len(files)} 个：已导入 {n['已导入']}，已拒收 {n['已拒收']}，"
                    f"已忽略 {n['已忽略']}")


def rows_taken(out):
    taken = Counter()
    for r in sheet(out, "汇总"):
        if r["匹配情况"] != "缺申请书":
            taken[r["来源文件"]] += 1
        if r["推荐表文件"]:
            taken[r["推荐表文件"]] += 1
    for r in sheet(out, "拒收"):
        if r["范围"] != "整个文件":
            taken[r["文件"]] += 1
    return taken


@pytest.fixture(scope="session")
def taken(consolidated):
    return rows_taken(consolidated["out"])


@pytest.mark.parametrize("make, status, words", ALL_CASES, ids=[_id(p) for p in ALL_CASES])
def test_corpus_case(consolidated, taken, make, status, words):
    files, made = consolidated["files"], consolidated["made"]
    name = made[make.__name__[5:]]
    good = f"{name.split('/')[0]}/{GOOD}"
    assert files[good]["状态"] == "已导入"  # a bad neighbour never harms a good file
    f = files[name]
    assert f["状态"] == status, f
    assert words in f["原因/说明"], f
    assert not TRACEBACK.search(f["原因/说明"]), f  # no Python class names in reasons
    # The accounting invariant: rows read = rows in 汇总 + rows in 拒收 (for this file).
    assert int(f["读取行数"]) == taken[name], f
    want = ROWS.get(make.__name__[5:])
    if want is not None:
        assert int(f["读取行数"]) == want, f
    if status == "已拒收":
        rej = [r for r in sheet(consolidated["out"], "拒收") if r["文件"] == name]
        assert rej and rej[0]["范围"] == "整个文件" and rej[0]["原因"] == f["原因/说明"]


def test_at_least_sixty_kinds():
    assert len(ALL_CASES) >= 60


def test_hostile_values_are_shown_and_safe(consolidated):
    made = consolidated["made"]
    rows = {r["来源文件"]: r for r in sheet(consolidated["out"], "汇总")}
    assert rows[made["control_escape_value"]]["企业名称"] == "上海\\x1B控制\\x00字符有限公司"
    assert rows[made["literal_escape_text"]]["企业名称"] == "上海_x001B_文字有限公司"
    assert rows[made["formula_like_values"]]["企业名称"] == "=HYPERLINK(\"http://x\",\"点我\")"
    assert rows[made["formula_like_values"]]["申报项目名称"] == "+1+1"
    assert made["formula_filename"] in rows and made["gbk_filename"] in rows
    assert rows[made["infinite_number"]]["满意度（百分制得分）"] in ("inf", "1e999")


# ---------------------------------------------------------------------- saq check
CHECK_DRIVER = PEAK_BOOT + r"""
import json, sys
from xl_addin import cli
import contextlib, io
out = {}
for path in sys.argv[1:]:
    o, e = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        code = cli.main(["check", path])
    out[path] = (code, o.getvalue(), e.getvalue())
print(json.dumps(out))  # ASCII: undecodable names travel as \\udcxx escapes
"""


def test_check_passes_the_corpus(consolidated, tmp_path):
    """`saq check` on every entry: an answer (0, 1 or 2) with one Chinese message, never a
    traceback or a hang, within the same memory bound."""
    folder = consolidated["folder"]
    paths = []
    for dirpath, dirnames, filenames in os.walk(folder):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            if n == GOOD and not dirpath.endswith("00_not_zip"):
                continue  # one good file is enough: the rest are the same kind (speed)
            if len(os.fsencode(p)) < 4096 and not os.path.isdir(p) or os.path.islink(p):
                paths.append(p)
    driver = tmp_path / "drive.py"
    driver.write_text(CHECK_DRIVER, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT_DIR), PYTHONIOENCODING="utf-8")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile() as peak:
        p = subprocess.Popen([sys.executable, str(driver), peak.name, *paths], stdout=out,
                             stderr=err, env=env, stdin=subprocess.DEVNULL)
        t0 = time.monotonic()
        while True:
            pid, status, _usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            assert time.monotonic() - t0 < 300, "saq check hangs"
            time.sleep(0.05)
        out.seek(0)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
        got = json.loads(out.read().decode("utf-8"))
        rss = int(Path(peak.name).read_text() or 0)
    assert os.waitstatus_to_exitcode(status) == 0, stderr
    assert 0 < rss < MEMORY_LIMIT, rss // 2**20
    assert len(got) == len(paths)
    for path, (code, stdout, stderr) in got.items():
        assert code in (0, 1, 2), (path, code, stderr)
        assert not TRACEBACK.search(stdout + stderr), (path, stderr)
        if code == 2:
            assert stderr.startswith("错误：") and stderr.count("\n") == 1, (path, stderr)
    far = os.path.join(folder, consolidated["made"]["far_cell_xfd"])
    assert "使用区域过大" in got[far][2]
    master = os.path.join(folder, consolidated["made"]["master_in_folder"])
    assert "这是本程序生成的汇总表" in got[master][2]


def test_check_on_a_named_pipe_does_not_hang(tmp_path):
    os.mkfifo(tmp_path / "x.xlsx")
    code, out, err, _rss = run_measured(["check", tmp_path / "x.xlsx"], timeout=60)
    assert code == 2
    assert err == f"错误：无法读取文件 {tmp_path / 'x.xlsx'}：不是普通文件（可能是管道或设备），未读取\n"


# ---------------------------------------------------------------------- saq review collect
def _expert_forms_folder(root):
    """A small campaign consolidated and assigned: the folder `review collect` reads."""
    from xl_addin.consolidate import consolidate as run
    inbox = root / "inbox"
    demo.write_campaign(inbox, n_apps=6, n_recommenders=2, broken=False, campaign=C)
    master = run(inbox, root / "m.xlsx", C, progress=False, workers=1).written_to
    experts = root / "experts.csv"
    experts.write_text("姓名,单位,回避单位,专业\n" + "".join(
        f"{n},{u},,全部\n" for n, u in (("王立群", "上海交通大学"), ("李敏", "复旦大学"),
                                       ("张伟", "同济大学"), ("刘洋", "上海大学"))),
        encoding="utf-8")
    from xl_addin import cli
    assert cli.main(["review", "assign", str(master), "--experts", str(experts),
                     "-o", str(root / "out")]) == 0
    return root / "out"


def test_review_collect_passes_the_corpus(corpus, tmp_path_factory):
    """The corpus copied into an assignment folder, with hostile expert forms too: collect
    lists every entry, writes safe text, stays bounded and never shows a traceback."""
    _root, folder, _made = corpus
    out = _expert_forms_folder(tmp_path_factory.mktemp("review"))
    from xl_addin.review.manifest import FILE_NAME, read_manifest
    man = read_manifest(out / FILE_NAME, C)
    form = out / man.files[man.experts[0].name]
    hostile = out / "hostile"
    hostile.mkdir()
    _far_copy(form, hostile / "far.xlsx")
    shutil.copy(form, bytes(hostile) + b"/" + "评分表".encode("gbk") + b".xlsx")
    (out / "corpus").mkdir()
    for d in sorted(folder.iterdir()):  # cp cannot copy a path past the system's limit:
        if d.name.endswith("_long_path"):  # that one is made again in place
            (out / "corpus" / d.name).mkdir()
            case_long_path(out / "corpus" / d.name)
        else:
            subprocess.run(["cp", "-a", str(d), str(out / "corpus" / d.name)], check=True)
    res = tmp_path_factory.mktemp("review_out") / "评审结果.xlsx"
    code, stdout, stderr, rss = run_measured(["review", "collect", out, "-o", res])
    assert code == 0, stderr
    assert not TRACEBACK.search(stdout + stderr), stderr
    assert 0 < rss < MEMORY_LIMIT, rss // 2**20
    no_illegal_xml(res)
    assert [p for p in formula_problems(res) if "formula" not in p] == []
    rows = _results_files(res)
    listed = sorted(rows)
    expected = [e for e in entries_on_disk(out) if e != FILE_NAME]
    assert sorted(set(expected) - set(listed)) == []
    assert rows["hostile/far.xlsx"]["状态"] == "已拒收"
    assert "使用区域过大" in rows["hostile/far.xlsx"]["说明"]
    assert "hostile/评分表.xlsx" in rows


def _far_copy(src, dst):
    with zipfile.ZipFile(src) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    inject(src, dst, sorted(sheets)[0], lambda b: b.replace(
        b"</sheetData>", FAR.format(r=1048576, ref="XFD1048576").encode() + b"</sheetData>"))


def _results_files(path):
    from python_calamine import CalamineWorkbook
    wb = CalamineWorkbook.from_path(str(path))
    grid = wb.get_sheet_by_name("文件清单").to_python(skip_empty_area=False)
    wb.close()
    top = next(i for i, r in enumerate(grid) if r and r[0] == "文件")
    head = grid[top]
    return {r[0]: dict(zip(head, r)) for r in grid[top + 1:] if r and r[0] and
            r[1] != "未计入的行"}


# ---------------------------------------------------------------------- kept from issue 4
def test_values_survive_renamed_sheet_and_wrong_extension(consolidated):
    made = consolidated["made"]
    rows = {r["来源文件"]: r["企业名称"] for r in sheet(consolidated["out"], "汇总")}
    assert rows[made["renamed_sheet"]] == "上海改名测试有限公司"
    assert rows[made["xlsx_named_xls"]] == "上海扩展名测试有限公司"


def test_text_in_number_cells_is_e23_not_a_crash(consolidated):
    made = consolidated["made"]
    row = next(r for r in sheet(consolidated["out"], "汇总")
               if r["来源文件"] == made["text_in_number"])
    assert "E23" in row["问题代码"] and "八十五" in row["问题说明"]
    assert row["满意度（百分制得分）"] == "八十五"  # shown as typed


# ---------------------------------------------------------------------- one verdict
def test_check_and_consolidation_agree_on_every_corpus_file(consolidated):
    """Issue 9 on the hostile corpus: `saq check` takes exactly the files consolidation
    imports, refuses the ones it rejects with the same reason, and gives each imported file
    the codes, total and levels of its master rows."""
    from verdict_paths import CROSS_FILE, from_check, from_master, without

    from xl_addin.errors import InputFileError
    from xl_addin.read import check
    files, folder = consolidated["files"], consolidated["folder"]
    in_master = from_master(consolidated["out"])
    unplaced = Counter(r["文件"] for r in sheet(consolidated["out"], "拒收")
                       if r["范围"] != "整个文件")
    compared = refused = 0
    for rel, f in files.items():
        p = folder / rel
        try:
            special = p.is_symlink() or not p.is_file()
        except OSError:  # past the path limit: the walk lists it, no reader can open it
            special = True
        if special or f["类型"] in ("其他", "临时文件", "重复文件"):
            continue  # walking the folder decides these, not reading a file
        try:
            check.check_file(p, C)
            reason = None
        except InputFileError as e:
            reason = e.reason
        if f["状态"] == "已导入":
            assert reason is None, (rel, reason)
            if not unplaced[rel]:
                assert without(from_check(p, C), CROSS_FILE) == in_master[rel], rel
                compared += 1
        elif f["状态"] == "已拒收":
            assert reason == f["原因/说明"], rel
            refused += 1
    assert compared > 10 and refused > 10
