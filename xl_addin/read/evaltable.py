"""`saq eval`: evaluate a table of applications (one per row, FIELDS.md labels as headers)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from xl_addin.rules.engine import evaluate_application, key_of
from xl_addin.rules.parse import norm
from xl_addin.rules.show import fmt_number
from xl_addin.rules.stars import proposed_name
from xl_addin.tables import read_table, write_table

ADDED = ("自评分", "自评结论", "可评等级", "建议等级", "问题代码", "问题说明")


@dataclass
class TableResult:
    path: Path
    rows: int
    errors: int  # rows with at least one error
    warnings: int  # rows with warnings only
    ok: int
    summary: list  # per row: [row number, org name, score, conclusion, achievable, proposed, codes]
    unknown_headers: list


def default_output(path):
    p = Path(path)
    return p.with_name(f"{p.stem}_评估结果.xlsx")  # staff open it in Excel


def evaluate_table(path, out, campaign):
    """Evaluate every row of ``path`` and write the table with the added columns.

    Args:
        path: a CSV or xlsx whose first row holds FIELDS.md labels (or keys).
        out: where to write; None: ``<name>_评估结果.xlsx`` beside the input.
        campaign: the Campaign (chosen by the caller).
    Returns:
        TableResult
    Raises:
        InputFileError, OutputFileError
    """
    c = campaign
    headers, rows = read_table(path)
    known = key_of(c, "application")
    unknown = [h for h in headers if norm(h).replace(" ", "") not in known and h not in ADDED]
    out_headers = [f"{h}（原表）" if h in ADDED else h for h in headers] + list(ADDED)
    out_rows, summary = [], []
    n_err = n_warn = 0
    for i, row in enumerate(rows, start=2):
        ev = evaluate_application(row, c)
        added = [ev.rubric.total, ev.rubric.conclusion, c.level_name(ev.star.achievable),
                 proposed_name(c, ev.star, ev.values.get("level")) or "",
                 ev.codes, ev.messages]
        out_rows.append([row.get(h) for h in headers] + added)
        summary.append([i, ev.values.get("org_name") or "", fmt_number(ev.rubric.total),
                        ev.rubric.conclusion, added[2], added[3], ev.codes])
        if ev.errors:
            n_err += 1
        elif ev.warnings:
            n_warn += 1
    target = Path(out) if out else default_output(path)
    write_table(target, out_headers, out_rows)
    return TableResult(target, len(rows), n_err, n_warn, len(rows) - n_err - n_warn, summary,
                       unknown)
