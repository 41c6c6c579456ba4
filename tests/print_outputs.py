"""Every printed output of the project, built small and printed in one LibreOffice run
(issue 22): what tests/test_print.py checks and what docs/printing/ shows.

    .venv/bin/python tests/print_outputs.py docs/printing     # rebuild the pictures

Outputs come from ``generated.generate_all`` (templates, a filled 申请书 and 附件3, the
master, 分配表, an expert form, 评审结果, the experts template) plus what is built here: the
评定 workbook (`saq stage start`), the feedback letters (`saq consolidate --feedback`) and a
公示名单 .docx. ``printable`` outputs print through `saq pdf` (forms.pdf), the others as
Excel, WPS and LibreOffice print the file itself.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import print_check as pc  # noqa: E402

from xl_addin.rules.campaign import load  # noqa: E402

C = load()


@dataclass
class Output:
    key: str  # the picture's name and the row of docs/printing.md
    label: str
    path: Path
    printable: bool = False  # through `saq pdf`


def build(generated, root):
    """The outputs: ``generated`` (the dict of generate_all) and the ones built in ``root``."""
    from xl_addin import cli
    from xl_addin.consolidate import consolidate
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    review = root / "review"
    shutil.copytree(Path(generated["manifest"]).parent, review)
    stage = root / "stage" / "评定.xlsx"
    assert cli.main(["stage", "start", str(review), "-o", str(stage)]) == 0
    inbox = next(p for p in Path(generated["demo_application"]).parents if p.name == "inbox")
    res = consolidate(inbox, root / "feedback" / "汇总表.xlsx", C, progress=False,
                      feedback=root / "feedback" / "反馈")
    letters, _orphans, _folder = res.feedback
    letter = max(letters, key=lambda x: x.problems)
    docx = root / "公示名单.docx"
    from xl_addin.review.publish import Listed, write_docx
    items = [Listed(f"上海{n}有限公司", p, cat, rank, "")
             for n, p, cat, rank in (("申江电器", "申江牌 KFR-35GW 型变频空调", "产品类", 4),
                                     ("浦江客运", "浦江轨道交通乘客服务", "服务类", 5),
                                     ("临港信息技术集团", "", "企业类", 4),
                                     ("建工一建集团", "嘉和路改建工程", "工程类", 3))]
    import datetime as dt
    write_docx(docx, C, items, "公示", (dt.date(C.year, 9, 18), dt.date(C.year, 9, 24)))
    return [
        Output("application_form", "申请书（在 Excel / WPS 中直接打印）",
               Path(generated["application_template"])),
        Output("application_pdf", "申请书：saq pdf（封面、目录、附件2-1…2-5、被访者名单）",
               Path(generated["application_filled"]), True),
        Output("recommender_pdf", "附件3：saq pdf", Path(generated["recommender_filled"]), True),
        Output("recommender_print", "附件3（在 Excel / WPS 中直接打印）",
               Path(generated["recommender_filled"])),
        Output("master", "汇总表", Path(generated["master"])),
        Output("assignment", "分配表", Path(generated["manifest"])),
        Output("expert_form", "专家评分表（评分说明）", Path(generated["expert_filled"])),
        Output("results", "评审结果", Path(generated["results"])),
        Output("stages", "评定（合议、现场评审、审定、公示、审计记录）", stage),
        Output("experts_list", "专家名单模板", Path(generated["experts_template"])),
        Output("feedback_workbook", "补正清单（.xlsx）", letter.workbook),
        Output("feedback_letter", "补正通知（.docx）", letter.letter),
        Output("publication_docx", "公示名单（.docx）", docx),
    ]


@dataclass
class Printed:
    output: Output
    layout: object  # print_check.Layout
    pdf: Path
    pages: int
    page_size: str
    sheets: dict  # sheet -> pages (workbooks), {} for .docx
    clipped: list  # problems
    words: list  # (where, bare codes) of every printed text


def print_all(outputs, work, plain=True):
    """Convert every output in one LibreOffice run; count, check and read them.

    Args:
        plain: also print the plain copy of a workbook that has a coloured twin (for
            pictures). Without it the twin's PDF gives the pages and the paper size: colouring
            the cells changes no page break (the counts were the same for every output).
    """
    work = Path(work)
    lays = [pc.prepare(o.path, work / "in", printable=o.printable) for o in outputs]
    pdfs = pc.convert([x.plain for x in lays if plain or not x.coloured]
                      + [x.coloured for x in lays if x.coloured], work / "pdf")
    out = []
    for o, lay in zip(outputs, lays):
        pdf = pdfs[lay.plain] if plain or not lay.coloured else pdfs[lay.coloured]
        n, size = pc.pages(pdf)
        clipped, sheets, words = [], {}, []
        if lay.coloured:
            clipped = pc.clipped(lay, pdfs[lay.coloured])
            sheets = pc.pages_by_sheet(lay, pdfs[lay.coloured])
            for cell in lay.cells:
                bad = pc.bare_codes(cell.text)
                if bad:
                    words.append((f"{cell.sheet}!{cell.coord}", bad))
        else:
            text = pc.text(pdf)
            bad = pc.bare_codes(pc.norm(text))
            if bad:
                words.append(("全文", bad))
        out.append(Printed(o, lay, pdf, n, size, sheets, clipped, words))
    return out


def pictures(printed, folder, dpi=60):
    """The first page of every printed sheet (and of every document) as PNG in ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for p in printed:
        if not p.sheets:
            written += pc.png(p.pdf, folder / f"{p.output.key}.png", 1, p.pages, dpi)
            continue
        first = 1
        for i, n in enumerate(p.sheets.values()):
            name = folder / f"{p.output.key}_{i + 1}.png"
            written += pc.png(p.pdf, name, first, first, dpi)
            first += n
    return written


def main(argv):
    import tempfile

    from generated import generate_all
    folder = Path(argv[1]) if len(argv) > 1 else Path("docs/printing")
    with tempfile.TemporaryDirectory(prefix="saq_print_") as d:
        gen = generate_all(Path(d) / "generated")
        printed = print_all(build(gen, Path(d) / "built"), Path(d) / "work")
        for old in folder.glob("*.png"):
            old.unlink()
        for w in pictures(printed, folder):
            print(w)
        for p in printed:
            print(p.output.key, p.pages, p.sheets, len(p.clipped), p.words[:3])


if __name__ == "__main__":
    main(sys.argv)
