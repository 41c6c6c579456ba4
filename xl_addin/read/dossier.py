"""The 申请书 dossier (RULES.md M): the checklist of materials and `saq check 文件夹`.

A dossier is the 申请书 workbook plus the files the notice (附件2 填报说明 二、三) asks for.
Every item, its words, file kinds and categories are campaign data ([materials.Mxx]); this
module only applies them:

- :func:`checklist_issues` reads the workbook's 材料清单 answers (已提供 / 不适用) — the same
  rule the sheet's formulas apply, so the sheet and `saq check` give one verdict;
- :func:`check_dossier` reads a folder: the workbook (via check.check_file), the files
  present by name and kind, the naming rule M11 and the section lengths of the 实践报告
  .docx (M05).

Where a folder is checked, the files are the evidence (RULES.md M): an item is judged by its
file, whatever the 材料清单 says — an unticked item whose file is present is not missing, a
ticked one whose file is absent is. A file counts only when it is real (read/evidence.py:
not empty, not sparse, its content matching its extension, not a link leaving the folder);
the 材料清单 still says which items are 不适用, and where it disagrees with the files the
verdict notes it.

Only the 实践报告 is read for its content. The others — M06 营业执照, M09 竣工验收证明 among
them — are scans: what they certify is in a picture, which needs OCR, and a text check
would judge the rare PDF with a text layer differently from the same certificate scanned
(decision in RULES.md M). Their name and kind are checked; their content is the experts'.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

from xl_addin.errors import InputFileError
from xl_addin.files import terminal_text
from xl_addin.read.check import check_file
from xl_addin.read.docx_text import paragraphs
from xl_addin.read.evidence import problem
from xl_addin.read.workbook import probe, read_submission
from xl_addin.rules import parse
from xl_addin.rules.findings import Finding
from xl_addin.rules.materials import (
    DossierResult,
    applies,
    checklist_missing,
    checklist_name,
    item_issue,
    material_items,
)
from xl_addin.rules.show import fmt_number

SKIP_PREFIXES = ("~$", ".", "._")  # Office lock files, hidden files, macOS resource forks
# 汉字: CJK Unified Ideographs, Extension A and the compatibility block (decision: punctuation,
# digits and Latin letters are not 字; headings excluded — RULES.md M05).
_HANZI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


# ---------------------------------------------------------------------- file names
def _norm(text):
    return unicodedata.normalize("NFKC", str(text or "")).strip().lower()


def classify(name, campaign):
    """The material item a file name names (its longest matching word wins), or None."""
    c = campaign
    stem = _norm(Path(name).stem)
    best, best_len = None, 0
    for it in material_items(c):
        for w in it["words"]:
            w = _norm(w)
            if w in stem and len(w) > best_len:
                best, best_len = it, len(w)
    return best


def expected_stem(org, project, category, item, campaign):
    """The file name the notice asks for: 申请组织全称+申报项目名称 (企业类: the full name)
    followed by the item's word, e.g. ``上海某某公司老旧小区电梯加装代办服务-测量方案``."""
    c = campaign
    cat = c.category(category)
    proj = "" if (cat is not None and not cat.project_required) else str(project or "").strip()
    return f"{str(org or '').strip()}{proj}-{item['short']}"


def name_ok(name, org, project, category, campaign):
    """M11 as RULES.md reads it: the name starts with the full organisation name, then the
    project name (企业类: none), separators tolerated between them."""
    c = campaign
    seps = "".join(re.escape(_norm(s) or s) for s in c.materials["M11"]["separators"])
    stem = _norm(Path(name).stem)
    org_n = _norm(org)
    if not org_n or not stem.startswith(org_n):
        return False
    cat = c.category(category)
    if cat is not None and not cat.project_required:
        return True
    rest = re.sub(f"^[{seps}]+", "", stem[len(org_n):])
    proj = _norm(project)
    return not proj or rest.startswith(proj)


# ---------------------------------------------------------------------- M05 实践报告
def count_hanzi(text):
    """Chinese characters (汉字) in ``text``."""
    return len(_HANZI.findall(text or ""))


def report_sections(path, campaign):
    """字数 of each section of the 实践报告, under the notice's four headings.

    A heading is a paragraph that starts with its numeral and 、 and names its words
    (“一、企业简介（500 字以内）”). Text before the first heading (the title) is not counted.

    Args:
        path: a .docx file.
    Returns:
        dict: section title -> 汉字 count, or None when its heading is not found.
    Raises:
        InputFileError: the file is not a readable .docx, or is beyond the reader's bounds
            (a zip bomb: docx_text.UnreadableDocument, with its reason).
    """
    c = campaign
    secs = c.materials["M05"]["sections"]
    blocks = paragraphs(path)  # bounded: zip sizes checked before anything is inflated
    counts = {s["title"]: None for s in secs}
    current = None
    for text in blocks:
        t = _norm(text)
        head = next((s for s in secs
                     if re.match(rf"^{s['numeral']}\s*[、.．]", t) and _norm(s["words"]) in t), None)
        if head is not None:
            current = head["title"]
            counts[current] = counts[current] or 0
            continue
        if current is not None:
            counts[current] += count_hanzi(text)
    return counts


def report_issues(path, campaign):
    """M05 issues of one 实践报告 file, and the counts."""
    c = campaign
    spec = c.materials["M05"]
    sev = spec["severity"]
    name = Path(path).name
    if Path(path).suffix.lower() != ".docx":
        return [Finding(code="M05", severity=sev, where=name,
                        message=spec["not_docx"].format(file=terminal_text(name)))], {}
    try:
        counts = report_sections(path, c)
    except InputFileError as e:
        reason = getattr(e, "reason", "") or "不是有效的 .docx"
        return [Finding(code="M05", severity=sev, where=name,
                        message=spec["unreadable"].format(file=terminal_text(name), reason=reason))], {}
    out = []
    for s in spec["sections"]:
        n = counts[s["title"]]
        if n is None:
            out.append(Finding(code="M05", severity=sev, where=name,
                               message=spec["missing"].format(section=s["title"])))
        elif n > s["max"] or n < s["min"]:
            limit = spec["over"].format(max=s["max"]) if n > s["max"] else \
                spec["under"].format(min=s["min"])
            out.append(Finding(code="M05", severity=sev, where=name,
                               message=spec["message"].format(section=s["title"], count=n, limit=limit)))
    return out, counts


# ---------------------------------------------------------------------- the folder
def dossier_files(folder):
    """Files of a dossier folder (subfolders included), lock and hidden files skipped.

    Symbolic links to files are listed, never followed: :func:`evidence.problem` judges
    them (a link leaving the folder does not count as a material)."""
    out = []
    # os.walk skips what it cannot open (a folder past the path limit, no permission):
    # consolidation's own walk lists those with their reasons; here they are no material.
    for dirpath, _dirs, names in os.walk(folder):
        for n in names:
            p = Path(dirpath) / n
            if n.startswith(SKIP_PREFIXES):
                continue
            if p.is_symlink() and not p.is_dir() or p.is_file():
                out.append(p)
    return sorted(out)


def _application_workbooks(files):
    found = []
    for p in files:
        if p.suffix.lower() not in (".xlsx", ".xlsm") or p.is_symlink():
            continue  # a link is never followed (it may lead out of the folder)
        try:
            pr = probe(p)
            if pr.format == "xlsx" and read_submission(p, pr, names=()).kind == "application":
                found.append(p)
        except Exception:  # noqa: BLE001 - not a workbook of ours: an ordinary material file
            continue
    return found


def _not_applicable(it, answers, c):
    return it["may_be_na"] and str((answers or {}).get(checklist_name(it)) or "").strip(" ") \
        == c.dossier["not_applicable"]


def material_issues(files, org, project, category, campaign, answers=None, root=None):
    """M issues of the files present (M01–M11 except the workbook's own M03 line).

    An item is judged by its files alone (RULES.md M, "the files are the evidence"): a
    file counts when its name names the item and it is real (:func:`evidence.problem`);
    the 材料清单 answers only say which items are 不适用.

    Args:
        files: paths of the dossier (the workbook excluded).
        org, project, category: the application's 企业名称, 申报项目名称, parsed category
            (None when unknown: category items and M11 are then not judged).
        campaign: the Campaign.
        answers: the 材料清单's values (``mat_*``): an item that may be 不适用 and is
            answered so is not looked for.
        root: the dossier folder (a link leaving it does not count); default each file's
            own folder.
    Returns:
        (issues, recognised): list of Finding; item key -> file names.
    """
    c = campaign
    by_item = {}
    for p in files:
        it = classify(p.name, c)
        if it is not None:
            by_item.setdefault(it["key"], []).append(p)
    issues, seen = [], {}
    for it in material_items(c):
        if category is None and it["categories"]:
            continue
        if not applies(it, category):
            continue
        if _not_applicable(it, answers, c):
            continue
        cands = by_item.get(it["key"], [])
        seen[it["key"]] = [p.name for p in cands]
        if not cands:
            issues.append(item_issue(c, it))
            continue
        why = {p: problem(p, root if root is not None else p.parent) for p in cands}
        real = [p for p in cands if why[p] is None]
        if not real:  # issue 19 §9: an empty, fake or outside file is no material
            bad = cands[0]
            issues.append(Finding(code=it["code"], severity=c.materials[it["code"]]["severity"],
                                  message=c.dossier["not_real_message"].format(
                                      file=terminal_text(bad.name), reason=why[bad],
                                      item=it["name"], code=it["code"]),
                                  where=bad.name))
            continue
        good = [p for p in real if p.suffix.lower().lstrip(".") in it["kinds"]]
        if not good:
            issues.append(item_issue(c, it, "kind_message", file=terminal_text(real[0].name)))
            continue
        if it["named"] and org and not any(name_ok(p.name, org, project, category, c)
                                           for p in good):
            spec = c.materials["M11"]
            exp = expected_stem(org, project, category, it, c) + good[0].suffix.lower()
            issues.append(Finding(code="M11", severity=spec["severity"],
                                  message=spec["message"].format(file=terminal_text(good[0].name),
                                                                 expected=terminal_text(exp)),
                                  where=good[0].name))
        if it["key"] == c.dossier["report"]:
            docx = [p for p in good if p.suffix.lower() == ".docx"] or good
            more, _ = report_issues(docx[0], c)
            issues.extend(more)
    return issues, seen


def present_items(files, campaign, root=None):
    """Keys of the items a real file of the right kind stands for (the files' evidence)."""
    c = campaign
    out = set()
    for p in files:
        it = classify(p.name, c)
        if it is not None and p.suffix.lower().lstrip(".") in it["kinds"] and \
                problem(p, root if root is not None else p.parent) is None:
            out.add(it["key"])
    return out


def check_dossier(folder, campaign):
    """Check a whole dossier folder.

    The workbook gets its one verdict (check.check_file) without its 材料清单's "missing"
    items: here the files are the evidence (RULES.md M). Items whose file is present though
    the checklist leaves them unticked are listed in ``notes``.

    Args:
        folder: the applicant's folder: the 申请书 workbook and its materials.
        campaign: the Campaign.
    Returns:
        DossierResult (the workbook's findings merged in, then the materials').
    Raises:
        InputFileError: the folder does not exist.
    """
    c = campaign
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(folder, "文件夹不存在")
    res = DossierResult(str(folder))
    files = dossier_files(folder)
    books = _application_workbooks(files)
    m03 = c.materials["M03"]
    org = project = category = None
    values = {}
    if not books:
        res.add(Finding(code="M03", severity=m03["severity"], message=m03["workbook_missing"]))
    elif len(books) > 1:
        res.add(Finding(code="M03", severity=m03["severity"], message=m03["workbook_many"].format(
            count=len(books), files="、".join(terminal_text(p.name) for p in books))))
    if books:
        book = books[0]
        res.workbook = book.name
        # materials=False: the checklist's answers are not the evidence here (RULES.md M)
        wres = check_file(book, c, materials=False)
        for f in wres.findings:
            res.add(f)
        res.summary = {"评价得分": wres.selfeval_total, "评价结论": wres.conclusion,
                       "可评等级": wres.achievable_level, "建议等级": wres.proposed_level,
                       "等级说明": wres.level_reason}
        values = _workbook_values(book, c)
        org, project = values.get("org_name"), values.get("project_name")
        try:
            category = parse.category(values.get("category"), c)
        except parse.Unreadable:
            category = None
    rest = [p for p in files if p not in books]
    issues, res.files = material_issues(rest, org, project, category, c, values, folder)
    for i in issues:
        res.add(i)
    if any(checklist_name(it) in values for it in material_items(c)):
        have = present_items(rest, c, folder)
        unticked = [it["name"] for it in checklist_missing(values, category, c)
                    if it["key"] in have]
        if unticked:
            res.notes.append(f"材料清单中有 {len(unticked)} 项未选“{c.dossier['provided']}”，"
                             f"但文件夹中有其文件，以文件为准：{'、'.join(unticked)}"
                             f"（请在申请书的材料清单中改选“{c.dossier['provided']}”，"
                             "表格中的提示才会一致）")
    rep = res.files.get(c.dossier["report"]) or []
    docx = [folder_file for folder_file in rest if folder_file.name in rep
            and folder_file.suffix.lower() == ".docx" and problem(folder_file, folder) is None]
    if docx:
        try:
            res.sections = report_sections(docx[0], c)
        except InputFileError:
            res.sections = {}
    return res


def _workbook_values(path, c):
    names = ["org_name", "project_name", "category"] + [checklist_name(it)
                                                        for it in material_items(c)]
    return dict(read_submission(path, names=names).values)


def summary_lines(res):
    """The verdict in Chinese lines for the terminal (names escaped: a carriage return or
    an ESC in a file name cannot rewrite the verdict line)."""
    t = terminal_text
    lines = [f"{t(res.path)}：申报材料文件夹" + (f"（申请书：{t(res.workbook)}）" if res.workbook else "")]
    for k, v in res.summary.items():
        lines.append(f"  {k}：{fmt_number(v) if isinstance(v, float) else t(v or '')}")
    for title, n in res.sections.items():
        lines.append(f"  实践报告 {title}：{'未找到' if n is None else f'{n} 字'}")
    for note in res.notes:
        lines.append(f"  注意：{note}")
    for i in res.issues:
        lines.append(f"  [{i.code} {i.severity_label}] {t(i.message)}")
    lines.append(res.status)
    return lines


# ---------------------------------------------------------------------- M12 附件3 scan
def stamped_scans(recommender_file, campaign):
    """The stamped scans of a 附件3 (RULES.md M12): PDF or image files beside it.

    When the folder holds this one 附件3 only, any such file counts; beside several 附件3,
    only a scan whose name contains the workbook's name (without extension) does.

    Returns:
        list of Path
    """
    c = campaign
    p = Path(recommender_file)
    kinds = {"." + k for k in c.materials["M12"]["kinds"]}
    here = [q for q in p.parent.iterdir() if q.is_file() and not q.name.startswith(SKIP_PREFIXES)]
    # a scan counts when it is real (issue 19 §9): not empty, its content its extension's
    scans = [q for q in here if q.suffix.lower() in kinds and problem(q, p.parent) is None]
    books = [q for q in here if q.suffix.lower() in (".xlsx", ".xlsm") and q != p]
    if books:
        stem = _norm(p.stem)
        scans = [q for q in scans if stem in _norm(q.stem)]
    return sorted(scans)


def scan_issue(recommender_file, campaign):
    """M12 when a 附件3 has no stamped scan beside it, else None."""
    c = campaign
    if stamped_scans(recommender_file, c):
        return None
    spec = c.materials["M12"]
    return Finding(code="M12", severity=spec["severity"], message=spec["message"],
                   where=Path(recommender_file).name)

