"""The records consolidation passes between its steps (no logic here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from xl_addin.files import FileRecord
from xl_addin.rules.findings import code_counts, severity_word

KIND_APPLICATION, KIND_RECOMMENDER = "申请书", "推荐表"
WHOLE_FILE = "整个文件"


@dataclass
class FlagRecord:
    """One flag with where it is (a row of 问题清单)."""

    code: str
    severity: str  # error | warning
    message: str
    field: str  # field key (for colouring the 汇总 cell)
    file: str = ""
    sheet: str = ""
    cell: str = ""

    @property
    def severity_label(self):
        return severity_word(self.severity)


@dataclass
class AppSource:
    """An applicant workbook, read and evaluated."""

    file: FileRecord
    evaluation: object  # engine.Evaluation
    raw: dict  # key -> raw value as read
    locations: dict  # key -> (sheet, cell)
    respondents_listed: int | None
    dossier: list | None = None  # M findings of its 申报材料文件夹; None: no such folder


@dataclass
class RowSource:
    """A row of a recommender's 附件3 table, read and evaluated."""

    file: FileRecord
    recommender: str
    index: int  # 1-based data row of the table
    sheet: str
    excel_row: int
    evaluation: object  # engine.Evaluation (evaluate_row)
    raw: dict  # label -> raw value
    cells: dict  # field key -> (sheet, cell)


@dataclass
class Entry:
    """One application: a row of 汇总 (a workbook, a 附件3 row, or both matched)."""

    app: AppSource | None = None
    row: RowSource | None = None
    flags: list = field(default_factory=list)  # FlagRecord
    # A matched 附件3 row's own flags: listed in 问题清单 under the recommender's file (one
    # verdict per file, issue 9) but not counted again in the 汇总 row, which shows the
    # workbook's flags and the disagreements (E26).
    row_flags: list = field(default_factory=list)
    staff: dict = field(default_factory=dict)  # 审定意见 / 备注 kept from the last master

    @property
    def values(self):
        """Parsed values: the workbook's when there is one, else the row's."""
        return (self.app or self.row).evaluation.values

    @property
    def recommender(self):
        if self.row is not None:
            return self.row.recommender
        return self.app.evaluation.values.get("recommender") or ""

    @property
    def errors(self):
        """Codes with an error (a code found twice counts once, as the sheet counts)."""
        return code_counts(self.flags)[0]

    @property
    def warnings(self):
        return code_counts(self.flags)[1]


@dataclass
class Rejected:
    """A row (or a whole file) that could not be taken (a row of 拒收)."""

    file: str
    scope: str  # WHOLE_FILE or "第 n 行"
    sheet: str
    reason: str
    content: str = ""


@dataclass
class RecommenderHeader:
    """The header of one 附件3 workbook and its flags (E21, E22, E28)."""

    file: FileRecord
    name: str
    flags: list = field(default_factory=list)


@dataclass
class RunResult:
    """What a consolidation run produced."""

    output: Path
    written_to: Path  # == output, or the copy beside it when the master was locked
    files: list
    entries: list
    rejected: list
    headers: list
    seconds: float = 0.0
    messages: list = field(default_factory=list)  # notes for the user (Chinese)
    unmatched: list = field(default_factory=list)  # staff.Note no entry took (未匹配备注)
    campaign_year: int | None = None  # the year the run was made for
    feedback: tuple | None = None  # (letters, orphans, folder) when --feedback (issue 22)

    @property
    def errors(self):
        return sum(e.errors for e in self.entries)

    @property
    def warnings(self):
        return sum(e.warnings for e in self.entries)
