"""`saq check FILE`: validate a filled workbook of ours with the Python engine.

The workbook is read by its defined names and tables (reader.py) and evaluated by the
engine — never by the workbook's own formulas — so a tampered or never-calculated file is
judged the same way as a good one. The stored total, when the file carries one, is compared
with the recomputed total (E27).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .campaign import load
from .engine import (count_respondents, evaluate_application, evaluate_recommender,
                     evaluate_row, field_labels)
from .errors import InputFileError
from .parse import is_blank
from .reader import read_submission


@dataclass
class Finding:
    where: str  # "申请表!B12" or "第 3 行（初审推荐意见表!A8）"
    code: str
    severity: str  # 错误 / 提醒
    field: str  # the field's label
    message: str


@dataclass
class CheckResult:
    path: str
    kind: str
    findings: list = field(default_factory=list)
    rows: int = 0  # 附件3 rows checked
    summary: dict = field(default_factory=dict)  # application: score, conclusion, levels

    @property
    def errors(self):
        return sum(1 for f in self.findings if f.severity == "错误")

    @property
    def warnings(self):
        return sum(1 for f in self.findings if f.severity == "提醒")

    @property
    def status(self):
        if not self.errors and not self.warnings:
            return "可以提交"
        return f"有 {self.errors} 项错误、{self.warnings} 项提醒"


def application_raw(sub, campaign):
    """The engine's input for an application workbook: inputs by key, the number of
    respondents listed (F4, E17) and the stored total (E27) when the file was calculated."""
    c = campaign
    keys = [f.key for f in c.fields["application"] if f.block != "derived"]
    keys += [p.key for p in c.rubric.parts] + [c.rubric.veto_key]
    raw = {k: sub.values.get(k) for k in keys}
    raw["respondents_listed"] = count_respondents(  # E17: 姓名 and 联系方式 both (issue 10)
        (r.get("姓名"), r.get("联系方式")) for r in sub.tables.get("respondent_list", []))
    stored = sub.values.get("se_total")
    if isinstance(stored, (int, float)) and not isinstance(stored, bool):
        raw["stored_total"] = stored
    return raw


def check_file(path, campaign=None):
    """Read and evaluate one workbook.

    Args:
        path: a filled 申请书 or 附件3 (.xlsx).
        campaign: a Campaign (default 2023).
    Returns:
        CheckResult
    Raises:
        InputFileError (NotOurWorkbook included): the file cannot be read.
    """
    c = campaign or load()
    sub = read_submission(path)
    res = CheckResult(str(path), sub.kind)
    if sub.kind == "application":
        ev = evaluate_application(application_raw(sub, c), c)
        labels = field_labels(c, "application")
        for f in ev.flags:
            res.findings.append(Finding(sub.locations.get(f.field, ""), f.code, f.severity_label,
                                        labels.get(f.field, f.field), f.message))
        s = ev.star
        res.summary = {"评价得分": ev.rubric.total, "评价结论": ev.rubric.conclusion,
                       "可评等级": c.level_name(s.achievable),
                       "建议等级": c.level_name(s.proposed) if s.proposed is not None else "",
                       "等级说明": s.reason}
    elif sub.kind == "recommender":
        ev = evaluate_recommender({f.key: sub.values.get(f.key) for f in c.fields["recommender"]}, c)
        labels = field_labels(c, "recommender")
        for f in ev.flags:
            res.findings.append(Finding(sub.locations.get(f.field, ""), f.code, f.severity_label,
                                        labels.get(f.field, f.field), f.message))
        row_labels = field_labels(c, "recommendation_row")
        official = [f.label for f in c.fields["recommendation_row"]]
        rows = sub.tables.get("recommendations", [])
        for i, row in enumerate(rows):
            data = {k: row.get(k) for k in official}
            if all(is_blank(v) for v in data.values()):
                continue
            res.rows += 1
            where = f"第 {i + 1} 行（{sub.locations.get(('recommendations', i), '')}）"
            for f in evaluate_row(data, c).flags:
                res.findings.append(Finding(where, f.code, f.severity_label,
                                            row_labels.get(f.field, f.field), f.message))
    else:
        raise InputFileError(path, "这是专家评分表，请用“saq review”检查，本命令只检查申请书和推荐表")
    return res
