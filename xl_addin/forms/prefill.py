"""`saq recommender prefill 申请书文件夹 -o 附件3.xlsx` (issue 13): a recommender's 附件3
with one row per application it received, so nobody retypes them.

Each 申请书 is read by the one reader (fastread.read_submission) and evaluated by the
engine; a row carries what the application says (名称, 代码, 类别, 等级, 项目, 满意度) and
the recomputed 申请组织自评分. 第三方测评机构自评分 and 推荐意见 stay for the recommender
to write. Files that cannot be read are listed with their reason, never dropped silently.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from xl_addin.errors import InputFileError
from xl_addin.forms.fill import fill_recommender
from xl_addin.read import verdict
from xl_addin.read import workbook as fastread
from xl_addin.read.verdict import application_input
from xl_addin.rules.engine import evaluate_application

SKIP_PREFIXES = ("~$", ".")


@dataclass
class PrefillResult:
    path: Path
    rows: list = field(default_factory=list)  # dicts by recommendation_row key
    skipped: list = field(default_factory=list)  # (file, reason)
    recommender: str | None = None


def application_row(sub, campaign, seq):
    """The 附件3 row of one application workbook (fastread Submission)."""
    c = campaign
    raw = application_input(sub, c)  # the same engine input as `saq check` (verdict.py)
    ev = evaluate_application(raw, c)
    v = ev.values
    lv = c.level(v.get("level")) if v.get("level") is not None else None
    shown = lambda k: v.get(k) if v.get(k) is not None else raw.get(k)  # noqa: E731
    return {"seq": seq, "org_name": shown("org_name"), "uscc": shown("uscc"),
            "category": shown("category"), "level": lv.applied if lv else raw.get("level"),
            "project_name": shown("project_name"), "satisfaction": shown("satisfaction"),
            "self_score": ev.rubric.total if ev.rubric is not None else None}


def prefill(folder, out, campaign, recommender=None):
    """Write a 附件3 pre-filled from the 申请书 in ``folder`` (subfolders included).

    Args:
        folder: the applications a recommender received.
        out: the 附件3 .xlsx to write.
        campaign: the Campaign the applications are read for.
        recommender: the 推荐单位 (default: the one most applications name).
    Returns:
        PrefillResult
    Raises:
        InputFileError: the folder does not exist; OutputFileError: ``out`` not writable.
    """
    c = campaign
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(folder, "文件夹不存在")
    res = PrefillResult(Path(out))
    named = Counter()
    target = Path(out).resolve()
    for p in sorted(folder.rglob("*")):
        if not p.is_file() or p.name.startswith(SKIP_PREFIXES) or p.resolve() == target:
            continue
        if p.suffix.lower() not in (".xlsx", ".xlsm", ".xls", ".et"):
            continue
        rel = p.relative_to(folder).as_posix()
        try:
            sub = verdict.read(p, c)  # the one reader, the same acceptance as consolidation
        except (fastread.UnreadableWorkbook, fastread.NotOurWorkbook, verdict.NotAccepted) as e:
            res.skipped.append((rel, e.reason))
            continue
        if sub.kind != "application":
            res.skipped.append((rel, "不是申请书"))
            continue
        res.rows.append(application_row(sub, c, len(res.rows) + 1))
        rec = sub.values.get("recommender")
        if isinstance(rec, str) and rec.strip():
            named[rec.strip()] += 1
    res.recommender = recommender or (named.most_common(1)[0][0] if named else None)
    fill_recommender(out, {"recommender": res.recommender}, res.rows, c)
    return res


def summary_lines(res):
    lines = [f"已生成预填的初审推荐意见表（附件3）：{res.path}（{len(res.rows)} 行"
             + (f"，推荐单位：{res.recommender}" if res.recommender else "，推荐单位未填") + "）"]
    for name, reason in res.skipped:
        lines.append(f"  未读取：{name}（{reason}）")
    lines.append("请填写“申请选择组织自评分”“推荐意见”和填表人信息，打印盖章后将扫描件与本表放在一起提交。")
    return lines
