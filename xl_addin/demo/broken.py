"""The broken and odd files an inbox really gets (issue 4 §4), for `saq demo`."""

from __future__ import annotations

import datetime as dt
import io
import random
import zipfile
from pathlib import Path

from openpyxl import Workbook

from xl_addin.demo.data import RECOMMENDERS, application
from xl_addin.demo.writers import FIXED_TIME, normalise, write_plain_application


def write_broken(folder, c):
    """A few files of each kind of trouble (issue 4 §4). Returns their names."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []

    def put(name, data):
        (folder / name).write_bytes(data)
        out.append(name)

    put("申请书_不是Excel.xlsx", "这不是一个 Excel 文件，只是改了扩展名。\n".encode("utf-8"))
    wb = Workbook()
    wb.active["A1"] = "随便一个表格"
    wb.properties.created = wb.properties.modified = dt.datetime(2023, 7, 1)
    good = io.BytesIO()
    wb.save(good)
    tmp = folder / "自制表格（非模板）.xlsx"
    tmp.write_bytes(good.getvalue())
    normalise(tmp)
    good = io.BytesIO(tmp.read_bytes())
    out.append(tmp.name)
    put("申请书_传输中断.xlsx", good.getvalue()[: len(good.getvalue()) // 2])
    put("推荐汇总（旧格式）.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + b"legacy")
    put("推荐名单.csv", "序号,申请组织名称,满意度得分\n1,上海某某有限公司,88\n".encode("gb18030"))
    put("~$申请书_临时.xlsx", b"\x00" * 165)
    put("推荐表盖章扫描件.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in (("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<workbook/>"),
                        ("xl/worksheets/sheet1.xml", b"\x00" * (40 * 1024 * 1024))):
            z.writestr(zipfile.ZipInfo(n, FIXED_TIME), data, zipfile.ZIP_DEFLATED)
    put("申请书_压缩炸弹.xlsx", bomb.getvalue())
    try:
        # lazy: msoffcrypto's writer (≈45 ms) only for the one encrypted demo file
        import msoffcrypto.format.ooxml as ox
        import msoffcrypto.method.container.ecma376_encrypted as container
        import msoffcrypto.method.ecma376_agile as agile

        class _Fixed(dt.datetime):
            @classmethod
            def now(cls, tz=None):
                return dt.datetime(2023, 7, 1)

        # Seeded salt and a fixed container time: the same bytes on every run.
        enc, rnd = io.BytesIO(), random.Random(7)
        saved = agile._random_buffer, container.datetime
        agile._random_buffer, container.datetime = (lambda n: rnd.randbytes(n)), _Fixed
        try:
            ox.OOXMLFile(io.BytesIO(good.getvalue())).encrypt("123456", enc)
        finally:
            agile._random_buffer, container.datetime = saved
        put("申请书_加密.xlsx", enc.getvalue())
    except Exception:  # noqa: BLE001 - encryption support depends on the library version
        pass
    old = folder / "申请书_去年模板.xlsx"
    app = application(c, random.Random(1), 0, "服务类", RECOMMENDERS[0])
    write_plain_application(old, app.values, app.respondents, c, year=c.year - 1)
    normalise(old)
    out.append(old.name)
    return out
