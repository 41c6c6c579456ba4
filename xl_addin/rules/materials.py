"""The 材料清单 rules (RULES.md M): the items of the campaign, the applicant's checklist and
the banner. Pure: no file is read here; ``read/dossier.py`` judges a dossier folder's files,
the sheet's formulas (forms/checklist.py, forms/print_sheets.py) say the same as these.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xl_addin.rules.findings import Finding, Result, banner_text, status_line


@dataclass
class DossierResult(Result):
    """The verdict on one dossier folder (the workbook's verdict merged in): its findings
    (``issues``: the workbook's E codes, then the M codes of its files)."""

    path: str
    workbook: str | None = None
    issues: list = field(default_factory=list)  # rules.findings.Finding
    files: dict = field(default_factory=dict)  # item key -> file names recognised
    summary: dict = field(default_factory=dict)  # the workbook's scores and levels
    sections: dict = field(default_factory=dict)  # M05: section title -> 字数 (None: not found)
    notes: list = field(default_factory=list)  # where the 材料清单 and the files disagree

    @property
    def findings(self):
        """The findings (:class:`~xl_addin.rules.findings.Result`); ``issues`` is the
        field's name (check_dossier and consolidation add to it)."""
        return self.issues

    @property
    def complete(self):
        """No material is missing or wrong (no M error and no M warning)."""
        return not any(i.code.startswith("M") for i in self.issues)

    @property
    def status(self):
        """The last line of `saq check 文件夹`. It counts findings, not codes: two items of
        one M code missing are two things to send (the banner's 材料：缺 N 项 counts items)."""
        return status_line(len(self.errors), len(self.warnings), ok="材料齐全、无问题，可以提交",
                           suffix="" if self.complete else "（申报材料不齐或不符）")

    def add(self, issue):
        if all((i.code, i.message) != (issue.code, issue.message) for i in self.issues):
            self.issues.append(issue)

    def as_json(self):
        """The verdict as one JSON object (the same shape as `saq check FILE --json`)."""
        s = self.summary
        return {"kind": "dossier", "path": self.path, "workbook": self.workbook,
                "errors": [i.as_json("code", "message") for i in self.errors],
                "warnings": [i.as_json("code", "message") for i in self.warnings],
                "selfeval_total": s.get("评价得分"), "achievable_level": s.get("可评等级"),
                "proposed_level": s.get("建议等级"), "complete": self.complete,
                "report_sections": self.sections, "notes": list(self.notes)}


# ---------------------------------------------------------------------- the items
def material_items(campaign):
    """Every material item of the campaign, in the notice's order (M01 … M10).

    Returns:
        list of dicts: key, name, short, words, kinds, categories, named, may_be_na, code.
    """
    return [it for code in sorted(campaign.materials) for it in campaign.materials[code].get("items", ())]


def applies(item, category):
    """Whether an item is asked of this category (None: category unknown → only the
    items every category needs)."""
    return not item["categories"] or category in item["categories"]


def _fill(spec, key, **params):
    return spec[key].format(**params)


def item_issue(c, item, key="message", **params):
    spec = c.materials[item["code"]]
    return Finding(code=item["code"], severity=spec["severity"],
                   message=_fill(spec, key, item=item["name"],
                                 kinds="、".join("." + k for k in item["kinds"]), **params),
                   where=params.get("file", ""))


def checklist_name(item):
    """The defined name of an item's answer cell on the 材料清单 sheet (FIELDS.md style)."""
    return f"mat_{item['key']}"


def checklist_names(campaign):
    """The defined names of every item's answer cell (``mat_*``), in the checklist's order."""
    return [checklist_name(it) for it in material_items(campaign)]


def complete_checklist(category, campaign):
    """A 材料清单 with every item asked of ``category`` answered 已提供 (tests, examples).

    Returns:
        dict: defined name (``mat_*``) -> answer.
    """
    c = campaign
    return {checklist_name(it): c.dossier["provided"] for it in material_items(c)
            if applies(it, category)}


def checklist_missing(values, category, campaign):
    """The items the checklist does not show as provided (the sheet's 缺 N 项).

    Args:
        values: defined name -> raw value (the workbook's ``mat_*`` cells).
        category: the application's category (parsed) or None.
    Returns:
        list of items; an item is missing unless its answer is 已提供, or 不适用 where
        the item allows it (``may_be_na``). Only the list's exact words count (trimmed).
    """
    c = campaign
    yes, na = c.dossier["provided"], c.dossier["not_applicable"]
    out = []
    for it in material_items(c):
        if not applies(it, category):
            continue
        ans = str(values.get(checklist_name(it)) or "").strip(" ")  # as Excel TRIM
        if ans == yes or (ans == na and it["may_be_na"]):
            continue
        out.append(it)
    return out


def checklist_issues(values, category, campaign):
    """M issues of the workbook's 材料清单 (none when the workbook has no checklist: an
    older template says nothing about the materials).

    Returns:
        list of Finding
    """
    c = campaign
    items = material_items(c)
    if not any(checklist_name(it) in values for it in items):
        return []
    return [item_issue(c, it) for it in checklist_missing(values, category, c)]


def banner(errors, warnings, missing, campaign):
    """The workbook's banner: 表格 and 材料 reported separately; 可以提交 only when both
    are clean (the sheet's formula says the same, see forms/print_sheets.py)."""
    return banner_text(campaign.dossier, errors, warnings, missing)
