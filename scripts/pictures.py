"""Redraw the user guide's pictures (README.md, docs/workbooks.md) from a fresh `saq demo`.

    .venv/bin/python scripts/pictures.py docs          # writes docs/*.png, docs/workbooks/*.png
    .venv/bin/python scripts/pictures.py /tmp/p --keep /tmp/walk   # reuse a walk (a second run)

A developer tool. It walks the README's own commands in a temporary folder (`saq demo`,
`stage example`, `history import`, `consolidate`, `review assign / simulate / collect`,
`stage start / update / publicize / publish`), typing into 评定.xlsx what staff would type
(现场评审 results, 核实), then prints each pictured sheet as a user prints it: LibreOffice
headless → PDF of the whole workbook (each sheet's print area, as Excel prints it) → the
sheet's first page, found by its title, as PNG with `pdftoppm`, cropped to the printed part
(long tables to their top). The printed pictures of docs/printing/ are
tests/print_outputs.py's, not this script's.

Needs LibreOffice (soffice) and poppler-utils (pdftoppm, pdftotext, pdfinfo); numpy (a
dependency of the tests) for the cropping. Takes a few minutes on 2 cores.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DPI = 90  # readable on screen, small on disk
MAX_BYTES = 300_000  # each picture stays below this (the DPI drops until it does)


# ---------------------------------------------------------------------- the README's walk
def saq(*argv):
    """Run one `saq` command in this process; returns its output, stops on failure."""
    from xl_addin import cli
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main([str(a) for a in argv])
    if rc:
        raise SystemExit(f"saq {' '.join(map(str, argv))} → {rc}\n{out.getvalue()}{err.getvalue()}")
    return out.getvalue()


def table_rows(path, sheet, name):
    """(workbook, sheet, {header: column}, [row numbers]) of the table ``name``."""
    from openpyxl import load_workbook
    from openpyxl.utils import range_boundaries
    wb = load_workbook(path)
    ws = wb[sheet]
    c1, r1, c2, r2 = range_boundaries(ws.tables[name].ref)
    head = {ws.cell(r1, c).value: c for c in range(c1, c2 + 1)}
    return wb, ws, head, list(range(r1 + 1, r2 + 1))


def type_into(path, sheet, name, fill):
    """Type into a stage table: ``fill(row) -> {header: value}`` for each row (a dict of the
    row's shown values); saves the workbook as Excel would."""
    wb, ws, head, rows = table_rows(path, sheet, name)
    for r in rows:
        row = {h: ws.cell(r, c).value for h, c in head.items()}
        for h, v in (fill(row) or {}).items():
            ws.cell(r, head[h]).value = v
    wb.save(path)


def pick_application(master):
    """A demo application whose first printed page shows a red cell and its reason: the
    one with an invalid 统一社会信用代码 (E16, an error on the form's first page) and the
    fewest other problems. The path of its workbook, relative to the inbox."""
    from openpyxl import load_workbook
    ws = load_workbook(master, read_only=True)["汇总"]
    rows = ws.iter_rows(values_only=True)
    head = {h: i for i, h in enumerate(next(rows))}
    best = None
    for r in rows:
        src = r[head["来源文件"]] or ""
        if not src.endswith(".xlsx") or "申请书" not in src:
            continue
        codes = (r[head["问题代码"]] or "").split()
        score = ("E16" not in codes, abs(len(codes) - 2))
        if best is None or score < best[0]:
            best = (score, src)
    return best[1]


def walk(root):
    """The README's year in ``root``; returns {what: path} of the pictured files."""
    from xl_addin.read.year import find_setting, read_setting
    from xl_addin.review import simulate as S
    from xl_addin.review.manifest import FILE_NAME, read_manifest
    from xl_addin.rules.campaign import load
    demo = root / "saq_demo"
    got = {}
    t = time.perf_counter()
    saq("demo", demo)
    saq("stage", "example", demo)
    saq("history", "import", demo / "发布名单_2022.xlsx", "--year", 2022,
        "--registry", demo / "评价档案.sqlite")
    saq("consolidate", demo / "收件", "-o", demo / "汇总表.xlsx", "-q")
    got["master"] = demo / "汇总表.xlsx"
    got["application"] = demo / "收件" / pick_application(got["master"])
    got["recommender"] = got["application"].parents[1] / next(
        p.name for p in got["application"].parents[1].glob("附件3_*.xlsx"))
    saq("review", "assign", demo / "汇总表.xlsx", "--experts", demo / "专家名单.xlsx",
        "-o", demo / "专家评审")
    # one expert's form half done, as an expert sees it while scoring (the form's picture)
    C = load(read_setting(find_setting(demo)))  # the year `saq demo` wrote in 活动.toml
    man = read_manifest(demo / "专家评审" / FILE_NAME, C)
    expert, file = sorted(man.files.items())[0]
    got["expert_form"] = root / "专家评分表_评分中.xlsx"
    S.fill_workbook(demo / "专家评审" / file, C, expert, S.LEAVES_EMPTY, out=got["expert_form"])
    saq("review", "simulate", demo / "专家评审")
    saq("review", "collect", demo / "专家评审", "-o", demo / "评审结果.xlsx")
    got["results"] = demo / "评审结果.xlsx"
    wbp = demo / "评定.xlsx"
    saq("stage", "start", demo / "专家评审", "-o", wbp, "--by", "张三")

    # staff type the 现场评审 results, a 合议 reason, and confirm half the warnings
    def onsite(row):
        return {"现场评审日期": f"{C.year}-09-05", "现场评审专家": "王立群、李敏",
                "现场评审结论": "通过"}
    type_into(wbp, "现场评审", "onsite_results", onsite)
    seen = []

    def deliberate(row):
        if row["分歧 / 评分情况"] and not seen:
            seen.append(row["申请编号"])
            return {"合议理由": "评审组合议：测量方案完整，取多数意见"}
        return {}
    type_into(wbp, "合议", "deliberation", deliberate)
    half = []

    def confirm_half(row):
        if "须核实" in (row["提醒"] or ""):
            half.append(row["申请编号"])
            if len(half) % 2:
                return {"核实": "已核实"}
        return {}
    type_into(wbp, "审定", "approval", confirm_half)
    saq("stage", "update", wbp, "--by", "张三")
    got["stages"] = root / "评定_评定中.xlsx"
    shutil.copy2(wbp, got["stages"])

    # then the rest; of an organisation and project listed twice only the first keeps its
    # level (P6, as the refusal of 公示 asks); then 公示, 发布
    kept = set()

    def settle(row):
        typed = {"核实": "已核实"} if "须核实" in (row["提醒"] or "") else {}
        if row["审定等级"] and row["审定等级"] != C.no_level:
            pair = (row["申请组织名称"], row["申报项目名称"])
            if pair in kept:
                typed.update({"审定等级": C.no_level,
                              "审定理由": "同一组织和项目只保留一个结果（P6）"})
            kept.add(pair)
        return typed
    type_into(wbp, "审定", "approval", settle)
    saq("stage", "update", wbp, "--by", "张三")
    saq("stage", "publicize", wbp, "--start", f"{C.year}-09-18", "--by", "张三")
    saq("stage", "publish", wbp, "--date", f"{C.year}-09-28", "--by", "张三")
    got["publication"] = demo / "公示名单.pdf"
    got["release"] = demo / "发布名单.pdf"
    got["stages_final"] = wbp
    print(f"示例活动走完：{time.perf_counter() - t:.0f} 秒", file=sys.stderr)
    return got


# ---------------------------------------------------------------------- printing
def screen_copy(src, dst, sheet, area, hide=()):
    """A copy of ``src`` whose ``sheet`` prints ``area`` on one page wide with the columns
    ``hide`` (letters ranges, "H:BS") hidden: a screen's view of a sheet too wide to print
    whole on a readable page (the expert form). Values cached as Excel would show them."""
    from openpyxl import load_workbook
    from openpyxl.utils import column_index_from_string, get_column_letter
    from openpyxl.worksheet.pagebreak import ColBreak

    from xl_addin.sheet.xlcache import save_with_values
    wb = load_workbook(src)
    ws = wb[sheet]
    ws.print_area = area
    ws.col_breaks = ColBreak()
    ws.print_title_cols = None
    ws.page_setup.orientation = "landscape"
    ws.page_setup.scale = None
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    for span in hide:
        first, last = (column_index_from_string(x) for x in span.split(":"))
        for c in range(first, last + 1):
            ws.column_dimensions[get_column_letter(c)].hidden = True
    save_with_values(wb, dst)


def to_pdf(paths, outdir):
    """Every file to PDF in one LibreOffice run (its own profile); {path: pdf}."""
    outdir.mkdir(parents=True, exist_ok=True)
    profile = Path(tempfile.mkdtemp(prefix="saq_pictures_lo_"))
    try:
        subprocess.run(["nice", "soffice", f"-env:UserInstallation={profile.as_uri()}",
                        "--headless", "--norestore", "--convert-to", "pdf", "--outdir",
                        str(outdir), *map(str, paths)], capture_output=True, timeout=1800,
                       check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    out = {}
    for p in paths:
        pdf = outdir / (Path(p).stem + ".pdf")
        if not pdf.exists():
            raise SystemExit(f"LibreOffice 没有生成 {pdf.name}")
        out[p] = pdf
    return out


def page_count(pdf):
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", out).group(1))


_TEXT = {}


def page_with(pdf, words):
    """The first page whose text (without spaces) holds every one of ``words``: a sheet's
    first page is found by its title, LibreOffice printing the sheets one after another."""
    if pdf not in _TEXT:
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                              text=True).stdout
        _TEXT[pdf] = [re.sub(r"\s", "", t) for t in text.split("\f")]
    for n, text in enumerate(_TEXT[pdf], start=1):
        if all(w in text for w in words):
            return n
    raise SystemExit(f"{pdf.name}：没有一页含 {words}")


def _ppm(path):
    import numpy as np
    data = path.read_bytes()
    parts = data.split(maxsplit=4)  # P6, width, height, maxval, pixels
    w, h = int(parts[1]), int(parts[2])
    return np.frombuffer(parts[4][: w * h * 3], dtype=np.uint8).reshape(h, w, 3)


def _png(img, path):
    """Write an RGB array as PNG (each row filtered by its left neighbour: small files)."""
    import struct
    import zlib

    import numpy as np
    h, w, _ = img.shape
    sub = img.astype(np.int16)
    sub[:, 1:] -= img[:, :-1]
    rows = np.concatenate([np.ones((h, 1), np.uint8), (sub % 256).astype(np.uint8).reshape(h, -1)],
                          axis=1)

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(rows.tobytes(), 9)) + chunk(b"IEND", b""))


def _word_top(pdf, page, word, dpi):
    """The top (pixels at ``dpi``) of the first word on ``page`` that starts with ``word``."""
    out = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         capture_output=True, text=True).stdout
    for m in re.finditer(r'<word xMin="[^"]+" yMin="([^"]+)"[^>]*>([^<]*)</word>', out):
        if m.group(2).startswith(word):
            return int(float(m.group(1)) * dpi / 72)
    raise SystemExit(f"{pdf.name} 第 {page} 页没有“{word}”")


def _page(pdf, page, dpi, pad=12):
    """(image, top) of page ``page`` at ``dpi``, cropped to what is printed on it; ``top``:
    where the crop starts on the page (pixels)."""
    import numpy as np
    with tempfile.TemporaryDirectory(prefix="saq_pictures_") as d:
        base = Path(d) / "p"
        subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page),
                        "-singlefile", str(pdf), str(base)], check=True)
        img = _ppm(base.with_suffix(".ppm"))
    ink = np.argwhere((img < 245).any(axis=2))
    if not len(ink):
        raise SystemExit(f"{pdf.name} 第 {page} 页是空白页")
    (y0, x0), (y1, x1) = ink.min(axis=0), ink.max(axis=0)
    y0, x0 = max(0, y0 - pad), max(0, x0 - pad)
    return img[y0: y1 + pad + 1, x0: x1 + pad + 1], y0


def render(pdf, page, target, dpi=DPI, pages=1, top=None, max_height=None):
    """Pages ``page`` … ``page + pages - 1`` of ``pdf``, each cropped to what is printed on
    it, one under the other, as ``target`` (PNG); the first from the word ``top`` down, the
    whole cut to ``max_height`` pixels (at ``DPI``; long tables show their top)."""
    import numpy as np
    while True:
        parts = [_page(pdf, n, dpi) for n in range(page, page + pages)]
        if top:
            img, y0 = parts[0]
            parts[0] = (img[max(0, _word_top(pdf, page, top, dpi) - 12 - y0):], 0)
        parts = [p for p, _ in parts]
        width = max(p.shape[1] for p in parts)
        img = np.concatenate([np.pad(p, ((0, 0), (0, width - p.shape[1]), (0, 0)),
                                     constant_values=255) for p in parts])
        if max_height:
            img = img[: max_height * dpi // DPI]
        target.parent.mkdir(parents=True, exist_ok=True)
        _png(img, target)
        size = target.stat().st_size
        if size <= MAX_BYTES or dpi <= 60:
            return target, dpi, size
        dpi -= 10


@dataclass
class Picture:
    name: str  # the file under the output folder
    source: str  # a key of walk()'s result
    page: tuple  # words its page holds (the first page that holds them all)
    max_height: int | None = None  # pixels at DPI
    dpi: int = DPI
    pages: int = 1  # this page and the next ones, one under the other
    top: str | None = None  # the first page from this word down
    screen: dict | None = None  # a copy as seen on screen: {"area": …, "hide": […]}


TITLE = "上海市用户满意等级评价"
PICTURES = [
    Picture("master_summary.png", "master", ("状态", "推荐单位", "问题说明"), max_height=640),
    Picture("master_stats.png", "master", ("一、按推荐单位×申请类别×建议等级统计",)),
    Picture("master_stats_charts.png", "master", ("四、图表",), pages=2, top="四、图表"),
    Picture("review_expert_form.png", "expert_form", ("专家评分表", "允许值"),
            screen={"sheet": "专家评分", "area": "A1:Z18"}),
    Picture("review_expert_computed.png", "expert_form", ("专家评分表", "评价结论"),
            screen={"sheet": "专家评分", "area": "A1:CA18", "hide": ["H:BS"]}),
    Picture("review_results.png", "results", (TITLE + "专家评审结果",), max_height=640),
    Picture("stages_deliberation.png", "stages", (TITLE + "合议",), max_height=560, dpi=120),
    Picture("stages_onsite.png", "stages", (TITLE + "现场评审结果",), max_height=560, dpi=120),
    Picture("stages_approval.png", "stages", (TITLE + "审定",), max_height=560, dpi=120),
    Picture("stages_publication.png", "publication", ("结果公示",)),
    Picture("stages_release.png", "release", ("结果",)),
    Picture("workbooks/application_form.png", "application", (TITLE + "申请书", "黄色单元格")),
    Picture("workbooks/application_result.png", "application", ("自评结果（随填写自动计算）",)),
]


def main(argv):
    import argparse
    import json
    ap = argparse.ArgumentParser(description="Redraw the README's pictures from a fresh saq demo.")
    ap.add_argument("out", nargs="?", default="docs", help="the docs folder (default: docs)")
    ap.add_argument("--keep", help="walk in this folder and keep it; a second run reuses it")
    args = ap.parse_args(argv[1:])
    out = Path(args.out)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="saq_pictures_") as d:
        root = Path(args.keep or d)
        record = root / "walked.json"
        if args.keep and record.exists():
            got = {k: Path(v) for k, v in json.loads(record.read_text()).items()}
        else:
            root.mkdir(parents=True, exist_ok=True)
            got = walk(root)
            record.write_text(json.dumps({k: str(v) for k, v in got.items()}))
        root = Path(d)
        # each workbook printed whole, as a user prints it (every sheet, its print area)
        copies = {}  # (source, screen) -> the copy LibreOffice prints
        for p in PICTURES:
            src = got[p.source]
            key = (p.source, repr(p.screen))
            if src.suffix != ".xlsx" or key in copies:
                continue
            copies[key] = root / "print" / f"{len(copies):02d}.xlsx"  # short names
            copies[key].parent.mkdir(exist_ok=True)
            if p.screen:
                screen_copy(src, copies[key], **p.screen)
            else:
                shutil.copyfile(src, copies[key])
        pdfs = to_pdf(list(copies.values()), root / "pdf")
        for p in PICTURES:
            src = got[p.source]
            key = (p.source, repr(p.screen))
            pdf = pdfs[copies[key]] if key in copies else src
            page = page_with(pdf, p.page)
            target, dpi, size = render(pdf, page, out / p.name, p.dpi, p.pages, p.top,
                                       p.max_height)
            print(f"{target}  （{src.name} 第 {page} 页，{dpi} dpi，{size // 1024} KB）")
    print(f"用时 {time.perf_counter() - started:.0f} 秒", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
