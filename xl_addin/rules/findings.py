"""One finding, one result, one status line (issue 21).

A :class:`Finding` is one problem a rule found: an E code of the engine (RULES.md E), an M
code of the 材料清单 or a dossier folder (RULES.md M), or a line of a master's 问题说明 read
back for the stages (RULES.md P2). The engine, the verdict of a workbook, the dossier and
the stages all hold this one type, so a finding keeps its words from the check that made it
to the list that shows it; only consolidation's ``FlagRecord`` adds the file and cell.

A result (:class:`Result`: the engine's Evaluation, the workbook's Verdict, the dossier's
DossierResult) is a list of findings with its errors, warnings and counts; the line that
sums it up is :func:`status_line`, and a workbook with a 材料清单 shows :func:`banner_text`
— built here only, so every surface says the same words.

Pure: the standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

READY = "可以提交"


def severity_word(severity):
    """错误 for an error, 提醒 for anything else: how every list names a severity."""
    return "错误" if severity == "error" else "提醒"


@dataclass(frozen=True)
class Finding:
    """One problem, with its words.

    Frozen: findings are compared (decide's P2/P3 lists, the verdict's 材料 items), hashed
    and pickled across consolidation's worker processes. Build one with keywords.
    """

    code: str  # "E15", "M05"; "" for a 问题说明 line that names no code
    severity: str  # "error" | "warning"
    message: str  # the words (then the code, where the campaign's template puts it)
    field: str = ""  # the key of the field (or the 材料清单's mat_* name) it is about
    label: str = ""  # that field's label, as a user reads it
    where: str = ""  # "申请表!B12", "第 3 行（初审推荐意见表!A8）" or a dossier file's name

    @property
    def is_error(self):
        return self.severity == "error"

    @property
    def severity_label(self):
        """错误 or 提醒, as every list shows it."""
        return severity_word(self.severity)

    def as_json(self, *keys):
        """The finding for machines: ``keys`` (default every field) in that order."""
        return {k: getattr(self, k) for k in keys or (f.name for f in fields(self))}


def code_counts(findings):
    """(errors, warnings): how many codes of each severity the findings have.

    The counts count codes, as the sheet's 错误项数 / 提醒项数 do (issue 20 §8): one code
    found on two fields (E20) or for two reasons (E32) is one item. ``findings`` are
    anything with ``code`` and ``severity`` (consolidation's FlagRecord too).
    """
    errors = {f.code for f in findings if f.severity == "error"}
    warnings = {f.code for f in findings if f.severity != "error"}
    return len(errors), len(warnings)


def status_line(errors, warnings, ok=READY, suffix=""):
    """The line that sums up a check: ``ok`` when nothing was found, else
    "有 N 项错误、M 项提醒" and ``suffix``.

    Args:
        errors, warnings: the counts (codes for a form, as :func:`code_counts`; the
            dossier counts its findings).
        ok: the words when both are 0 (default 可以提交).
        suffix: words after the counts ("（申报材料不齐或不符）").
    """
    if not errors and not warnings:
        return ok
    return f"有 {errors} 项错误、{warnings} 项提醒{suffix}"


def banner_text(words, errors, warnings, missing):
    """The banner of a workbook with a 材料清单: 表格 and 材料 reported separately, 可以提交
    only when both are clean (the sheet's formula says the same, forms/print_sheets.py).

    Args:
        words: the campaign's [dossier] words (banner_form_ok, banner_form_bad, …).
        errors, warnings: the form's counts (codes); missing: the 材料清单 items not shown
            as provided.
    """
    d = words
    form = d["banner_form_ok"] if errors + warnings == 0 else \
        d["banner_form_bad"].format(errors=errors, warnings=warnings)
    mat = d["banner_materials_ok"] if missing == 0 else \
        d["banner_materials_bad"].format(missing=missing)
    parts = [form, mat] + ([d["banner_ready"]] if errors + warnings + missing == 0 else [])
    return d["banner_join"].join(parts)


class Result:
    """What a check gives: a list of findings (the subclass's ``findings``, a field or a
    property) and what is said of them. Engine.Evaluation, verdict.Verdict and
    materials.DossierResult are results.
    """

    @property
    def errors(self):
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self):
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def codes(self):
        """The codes found, each once, in the findings' order (the sheet's 问题代码 cell)."""
        return " ".join(dict.fromkeys(f.code for f in self.findings))

    @property
    def error_count(self):
        """Codes with an error (a code found twice counts once, :func:`code_counts`)."""
        return code_counts(self.findings)[0]

    @property
    def warning_count(self):
        return code_counts(self.findings)[1]

    @property
    def status(self):
        """可以提交 / 有 N 项错误、M 项提醒 (N, M count codes, as the sheet does)."""
        return status_line(self.error_count, self.warning_count)
