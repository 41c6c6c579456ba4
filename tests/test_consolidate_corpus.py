"""A corpus of broken and odd files, generated at test time (issue 4 §4).

Each case is one file beside a good application; consolidation must finish, classify the
file with a reason a person understands, and keep the accounting invariant:
rows read = rows in 汇总 + rows in 拒收, every file in 文件清单.
"""

from __future__ import annotations

import io
import random
import re
import shutil
import time
import zipfile
from collections import Counter

import pytest

from master_sheets import sheet

from xl_addin import demo
from xl_addin.campaign import load
from xl_addin.consolidate import consolidate

C = load(2023)
GOOD = "good.xlsx"


def _app(seed=1, category="服务类"):
    return demo._application(C, random.Random(seed), seed, category, demo.RECOMMENDERS[0])


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
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
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
    (d / "x.et").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
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
    (case_last_year, "已拒收", f"{C.year - 1} 年的模板"),
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




def check_invariant(out, folder):
    files = sheet(out, "文件清单")
    on_disk = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert sorted(f["文件"] for f in files) == on_disk
    taken = Counter()
    for r in sheet(out, "汇总"):
        if r["匹配情况"] != "缺申请书":
            taken[r["来源文件"]] += 1
        if r["推荐表文件"]:
            taken[r["推荐表文件"]] += 1
    for r in sheet(out, "拒收"):
        if r["范围"] != "整个文件":
            taken[r["文件"]] += 1
    for f in files:
        assert int(f["读取行数"]) == taken[f["文件"]], f
    return {f["文件"]: f for f in files}


@pytest.mark.parametrize("make, status, words", CASES, ids=[c[0].__name__[5:] for c in CASES])
def test_corpus_file(tmp_path, make, status, words):
    folder = tmp_path / "in"
    folder.mkdir()
    write_good(folder / GOOD)
    name = make(folder)
    out = tmp_path / "master.xlsx"
    t0 = time.perf_counter()
    res = consolidate(folder, out, progress=False)
    assert time.perf_counter() - t0 < 60  # bounded, even for the bombs
    files = check_invariant(out, folder)
    assert files[GOOD]["状态"] == "已导入"
    f = files[name]
    assert f["状态"] == status, f
    assert words in f["原因/说明"], f
    if status == "已拒收":
        rej = [r for r in sheet(out, "拒收") if r["文件"] == name]
        assert rej and rej[0]["范围"] == "整个文件" and rej[0]["原因"] == f["原因/说明"]
    assert res.written_to == out


def test_values_survive_renamed_sheet_and_wrong_extension(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_good(folder / GOOD)
    case_renamed_sheet(folder)
    case_xlsx_named_xls(folder / ".." / "in")
    consolidate(folder, tmp_path / "m.xlsx", progress=False)
    names = {r["企业名称"] for r in sheet(tmp_path / "m.xlsx", "汇总")}
    assert {"上海改名测试有限公司", "上海扩展名测试有限公司"} <= names


def test_text_in_number_cells_is_e23_not_a_crash(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    case_text_in_number(folder)
    consolidate(folder, tmp_path / "m.xlsx", progress=False)
    row = sheet(tmp_path / "m.xlsx", "汇总")[0]
    assert "E23" in row["问题代码"] and "八十五" in row["问题说明"]
    assert row["满意度（百分制得分）"] == "八十五"  # shown as typed


def test_whole_corpus_in_one_folder(tmp_path):
    """All cases together in nested folders: one run, every file accounted for."""
    folder = tmp_path / "in"
    made = {}
    for k, (make, status, words) in enumerate(CASES):
        d = folder / f"sub{k:02d}"
        d.mkdir(parents=True)
        write_good(d / GOOD, seed=100 + k)
        made[f"sub{k:02d}/{make(d)}"] = (status, words)
    res = consolidate(folder, tmp_path / "m.xlsx", progress=False, workers=2)
    files = check_invariant(tmp_path / "m.xlsx", folder)
    assert len(files) == len(res.files)
    for name, (status, words) in made.items():
        f = files[name]
        # Byte-identical files (the .xls and .et cases) are kept once: the second is a copy.
        assert (f["状态"], words in f["原因/说明"]) == (status, True) or \
            "内容完全相同" in f["原因/说明"], f
