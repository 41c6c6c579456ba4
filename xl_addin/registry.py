"""The campaign registry: one SQLite file that remembers the campaign across stages and years.

No server: the standard library's sqlite3. It holds the applications of a year, the levels
published by year (imported from earlier 发布名单 or recorded by `saq stage publish`), the
experts and their assignments, the staff's decisions per stage and an append-only audit
trail (every decision with who, when and old → new; SQLite triggers refuse to change or
delete an audit row, so nothing is overwritten without a trail).

The engine stays pure: callers (consolidation, `saq check`) look an organisation up here by
统一社会信用代码 and pass the answer in the engine's raw input (:func:`engine_inputs`,
RULES.md K4/E06).

Where the file lives (:func:`default_path`): ``评价档案.sqlite`` beside the master workbook
or the stage workbook; every command takes ``--registry`` to name another file.
"""

from __future__ import annotations

import datetime as dt
import getpass
import sqlite3
from contextlib import closing
from pathlib import Path

from xl_addin.errors import OutputFileError
from xl_addin.rules import parse

FILE_NAME = "评价档案.sqlite"
SCHEMA_VERSION = "1"
SYSTEM = "（程序）"
# Raw-input keys the engine reads (derived fields of the campaign file).
PRIOR_PASS_KEY = "registry_prior_pass"  # 是: a recorded earlier 项目类 pass; 否: none recorded
RECORD_KEY = "registry_record"  # 是: any earlier result recorded for the organisation

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS results(
    year INTEGER NOT NULL, uscc TEXT NOT NULL, org_name TEXT, category TEXT NOT NULL,
    project_name TEXT NOT NULL DEFAULT '', level TEXT, rank INTEGER, source TEXT,
    recorded_at TEXT, PRIMARY KEY(year, uscc, category, project_name));
CREATE INDEX IF NOT EXISTS results_uscc ON results(uscc);
CREATE TABLE IF NOT EXISTS applications(
    year INTEGER NOT NULL, app_id TEXT NOT NULL, uscc TEXT, org_name TEXT, category TEXT,
    project_name TEXT, level_applied TEXT, recommender TEXT, reviewed INTEGER, note TEXT,
    PRIMARY KEY(year, app_id));
CREATE TABLE IF NOT EXISTS experts(
    year INTEGER NOT NULL, name TEXT NOT NULL, unit TEXT, categories TEXT,
    PRIMARY KEY(year, name));
CREATE TABLE IF NOT EXISTS assignments(
    year INTEGER NOT NULL, app_id TEXT NOT NULL, expert TEXT NOT NULL,
    PRIMARY KEY(year, app_id, expert));
CREATE TABLE IF NOT EXISTS decisions(
    year INTEGER NOT NULL, app_id TEXT NOT NULL, stage TEXT NOT NULL, field TEXT NOT NULL,
    value TEXT, who TEXT, at TEXT, PRIMARY KEY(year, app_id, stage, field));
CREATE TABLE IF NOT EXISTS audit(
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, who TEXT NOT NULL,
    year INTEGER, stage TEXT NOT NULL, app_id TEXT, subject TEXT, field TEXT,
    old TEXT, new TEXT, reason TEXT);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit rows are never changed'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit rows are never deleted'); END;
"""


def default_path(anchor):
    """The registry beside ``anchor`` (a file: its folder; a folder: inside it).

    Returns:
        Path
    """
    a = Path(anchor)
    return (a if a.is_dir() else a.parent) / FILE_NAME


def current_user(given=None):
    """Who acts: the name given (``--by``), else the OS user."""
    if given and str(given).strip():
        return str(given).strip()
    try:
        return getpass.getuser() or "未知用户"
    except Exception:  # noqa: BLE001 - no login name (service account, container)
        return "未知用户"


def now():
    return dt.datetime.now().replace(microsecond=0).isoformat(sep=" ")


class Registry:
    """An open registry file. Use as a context manager; every write is committed at once.

    Args:
        path: the .sqlite file (created with its folder when missing).
    Raises:
        OutputFileError: the file cannot be opened or is not a registry.
    """

    def __init__(self, path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path)
            self.db.executescript(SCHEMA)
            self.db.execute("INSERT OR IGNORE INTO meta VALUES('schema_version', ?)",
                            (SCHEMA_VERSION,))
            self.db.commit()
        except (sqlite3.Error, OSError) as e:
            raise OutputFileError(self.path, f"评价档案无法打开（{e}）") from None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.db.close()

    # -- results by year (history) -------------------------------------------------------
    def record_result(self, year, uscc, org_name, category, project_name, level, rank, source,
                      who=None):
        """Record one published level; a changed level of a known row leaves an audit line.

        Returns:
            "new", "same" or "changed"
        """
        key = (year, uscc, category, project_name or "")
        old = self.db.execute("SELECT level FROM results WHERE year=? AND uscc=? AND "
                              "category=? AND project_name=?", key).fetchone()
        state = "new" if old is None else ("same" if old[0] == level else "changed")
        self.db.execute("INSERT OR REPLACE INTO results VALUES(?,?,?,?,?,?,?,?,?)",
                        (year, uscc, org_name, category, project_name or "", level, rank,
                         source, now()))
        if state == "changed":
            self.audit("往年结果", None, f"{year} {org_name}", "等级", old[0], level,
                       f"重新记录：{source}", who, year)
        self.db.commit()
        return state

    def withdraw_results(self, year, source, keep, who=None):
        """Remove the results of ``year`` recorded from ``source`` whose key is not in
        ``keep`` (a set of (uscc, category, project_name)); each removal leaves an audit line.

        Returns:
            number removed
        """
        rows = self.db.execute("SELECT uscc, category, project_name, org_name, level FROM "
                               "results WHERE year=? AND source=?", (year, source)).fetchall()
        n = 0
        for uscc, cat, project, org, level in rows:
            if (uscc, cat, project) in keep:
                continue
            self.db.execute("DELETE FROM results WHERE year=? AND uscc=? AND category=? AND "
                            "project_name=?", (year, uscc, cat, project))
            self.audit("发布", None, f"{year} {org}", "等级", level, None,
                       "重新发布时已不在名单中，撤销记录", who, year)
            n += 1
        self.db.commit()
        return n

    def years(self):
        """Years with recorded results, ascending.

        One index probe per year (issue 23: ``SELECT DISTINCT`` read every row of a
        20,000-row registry on each `saq check` lookup)."""
        return [r[0] for r in self.db.execute(
            "WITH RECURSIVE y(v) AS (SELECT MIN(year) FROM results UNION ALL "
            "SELECT (SELECT MIN(year) FROM results WHERE year > v) FROM y WHERE v IS NOT NULL) "
            "SELECT v FROM y WHERE v IS NOT NULL")]

    def results_of(self, uscc, year=None):
        """Recorded results of an organisation (all years, or one), newest first.

        Returns:
            list of dict(year, org_name, category, project_name, level, rank)
        """
        q = "SELECT year, org_name, category, project_name, level, rank FROM results WHERE uscc=?"
        args = [uscc]
        if year is not None:
            q += " AND year=?"
            args.append(year)
        cols = ("year", "org_name", "category", "project_name", "level", "rank")
        # rowid: rows of one year in the order they were recorded, whichever index is used
        return [dict(zip(cols, r)) for r in self.db.execute(q + " ORDER BY year DESC, rowid",
                                                           args)]

    # -- campaign data -----------------------------------------------------------------------
    def record_applications(self, year, rows):
        """rows: (app_id, uscc, org_name, category, project_name, level_applied, recommender,
        reviewed, note)."""
        self.db.executemany("INSERT OR REPLACE INTO applications VALUES(?,?,?,?,?,?,?,?,?,?)",
                            [(year, *r) for r in rows])
        self.db.commit()

    def record_experts(self, year, experts, by_app):
        self.db.executemany("INSERT OR REPLACE INTO experts VALUES(?,?,?,?)",
                            [(year, e.name, e.unit, "、".join(e.categories)) for e in experts])
        self.db.executemany("INSERT OR IGNORE INTO assignments VALUES(?,?,?)",
                            [(year, a, n) for a, names in by_app.items() for n in names])
        self.db.commit()

    def applications(self, year):
        cols = ("app_id", "uscc", "org_name", "category", "project_name", "level_applied",
                "recommender", "reviewed", "note")
        return [dict(zip(cols, r)) for r in self.db.execute(
            "SELECT " + ",".join(cols) + " FROM applications WHERE year=? ORDER BY app_id",
            (year,))]

    # -- decisions and audit -------------------------------------------------------------------
    def decisions(self, year, stage):
        """(app_id, field) -> value of one stage's recorded decisions."""
        return {(a, f): v for a, f, v in self.db.execute(
            "SELECT app_id, field, value FROM decisions WHERE year=? AND stage=?", (year, stage))}

    def decide(self, year, stage, app_id, field, old, new, who, reason="", subject=""):
        """Record a staff decision and its audit line (who, when, old → new)."""
        at = now()
        self.db.execute("INSERT OR REPLACE INTO decisions VALUES(?,?,?,?,?,?,?)",
                        (year, app_id, stage, field, new, who, at))
        self.audit(stage, app_id, subject, field, old, new, reason, who, year, at)
        self.db.commit()

    def audit(self, stage, app_id, subject, field, old, new, reason="", who=None, year=None,
              at=None):
        """Append one audit line (never changed afterwards)."""
        self.db.execute("INSERT INTO audit(at, who, year, stage, app_id, subject, field, old, "
                        "new, reason) VALUES(?,?,?,?,?,?,?,?,?,?)",
                        (at or now(), who or current_user(), year, stage, app_id, subject,
                         field, _s(old), _s(new), reason or ""))
        self.db.commit()

    def audit_rows(self, year=None):
        """Audit lines, oldest first: dicts of at, who, stage, app_id, subject, field, old,
        new, reason."""
        cols = ("at", "who", "year", "stage", "app_id", "subject", "field", "old", "new",
                "reason")
        q = "SELECT " + ",".join(cols) + " FROM audit"
        args = ()
        if year is not None:
            q, args = q + " WHERE year=? OR year IS NULL", (year,)
        return [dict(zip(cols, r)) for r in self.db.execute(q + " ORDER BY id", args)]


def _s(v):
    return None if v is None else str(v)


# ---------------------------------------------------------------------- what the engine gets
def project_categories(campaign):
    """项目类 = the categories that name a project (服务类, 产品类, 工程类; K4)."""
    return {c.name for c in campaign.categories if c.project_required}


def lookup(reg, uscc, year, campaign):
    """What the registry knows of an organisation before ``year``.

    Returns:
        dict with PRIOR_PASS_KEY and RECORD_KEY ("是", "否" or None — None when the registry
        holds no earlier year at all, so the self-declared answer stands), and "last_year":
        a short text of the results of year − 1 ("" when that year was never loaded).
    """
    earlier = [y for y in reg.years() if y < year]
    if not uscc or not earlier:
        return _answer(None, earlier, year, campaign)
    return _answer([r for r in reg.results_of(uscc) if r["year"] < year], earlier, year, campaign)


def _answer(rows, earlier, year, campaign):
    """:func:`lookup`'s answer from an organisation's results before ``year`` (newest first)."""
    if rows is None or not earlier:
        return {PRIOR_PASS_KEY: None, RECORD_KEY: None, "last_year": ""}
    proj = project_categories(campaign)
    passed = any(r["category"] in proj and (r["rank"] or 0) > 0 for r in rows)
    last = [r for r in rows if r["year"] == year - 1]
    if last:
        text = "；".join(f"{r['category']}·{r['level']}" +
                        (f"（{r['project_name']}）" if r["project_name"] else "") for r in last)
    else:
        text = "无记录" if (year - 1) in earlier else ""
    return {PRIOR_PASS_KEY: "是" if passed else "否", RECORD_KEY: "是" if rows else "否",
            "last_year": text}


class Known:
    """What the registry knows before a year of every organisation it holds, read in one
    query (issue 23): a run's lookups cost one pass over the earlier results, not one query
    per application, and the answers can go to the processes that evaluate the workbooks.

    ``get(uscc)`` is :func:`lookup`'s answer for that organisation, exactly.
    """

    def __init__(self, reg, year, campaign):
        self.year, self.campaign = year, campaign
        self.earlier = [y for y in reg.years() if y < year] if reg is not None else []
        self.by_uscc, self._answers = {}, {}
        if not self.earlier:
            return
        cols = ("year", "org_name", "category", "project_name", "level", "rank")
        for uscc, *row in reg.db.execute(
                "SELECT uscc, " + ", ".join(cols) + " FROM results WHERE year < ? "
                "ORDER BY year DESC, rowid", (year,)):
            self.by_uscc.setdefault(uscc, []).append(dict(zip(cols, row)))

    def get(self, uscc):
        if not uscc or not self.earlier:
            return _answer(None, self.earlier, self.year, self.campaign)
        if uscc not in self._answers:
            self._answers[uscc] = _answer(self.by_uscc.get(uscc, []), self.earlier, self.year,
                                          self.campaign)
        return self._answers[uscc]

    def engine_inputs(self, uscc):
        """The answer's keys for the engine's raw input, or {} when they would change nothing
        (no earlier year recorded: the self-declared answers stand)."""
        extra = engine_inputs(self.get(uscc))
        return extra if any(v is not None for v in extra.values()) else {}


def known_before(path, campaign):
    """:class:`Known` of the registry at ``path`` for ``campaign``'s year; None when there is
    no registry file."""
    with with_closing(open_if_exists(path)) as reg:
        return None if reg is None else Known(reg, campaign.year, campaign)


def uscc_key(value):
    """A typed 统一社会信用代码 as the engine reads it (rules.engine: the ``uscc`` type), the key
    the registry is looked up by."""
    return None if parse.is_blank(value) else parse.text(value).upper().replace(" ", "")


def engine_inputs(found):
    """The keys of :func:`lookup`'s answer that go into the engine's raw input."""
    return {k: found[k] for k in (PRIOR_PASS_KEY, RECORD_KEY)}


def open_if_exists(path):
    """A Registry when ``path`` exists, else None (no registry: self-declared answers stand)."""
    p = Path(path) if path else None
    if p is None or not p.exists():
        return None
    return Registry(p)


def apply_to_applications(apps, reg, campaign):
    """Consolidation: re-evaluate applicant workbooks with the registry's answers (K4/E06).

    Args:
        apps: consolidate.model.AppSource list (updated in place).
        reg: an open Registry, or None (nothing changes).
    Returns:
        {uscc: lookup answer} for :func:`annotate_entries`.
    """
    found = {}
    if reg is None:
        return found
    from xl_addin.rules.engine import evaluate_application
    for src in apps:
        uscc = src.evaluation.values.get("uscc")
        if not uscc:
            continue
        if uscc not in found:
            found[uscc] = lookup(reg, uscc, campaign.year, campaign)
        extra = engine_inputs(found[uscc])
        if any(v is not None for v in extra.values()):
            src.raw.update(extra)
            src.evaluation = evaluate_application(src.raw, campaign)
    return found


def annotate_entries(entries, reg, campaign, found=None):
    """Consolidation: set ``prior_result`` (the 汇总 column 上年结果) on every entry.

    Args:
        reg: an open Registry, a :class:`Known`, or None (nothing is set).
    """
    if reg is None:
        return
    if isinstance(reg, Known):
        for e in entries:
            uscc = e.values.get("uscc")
            e.prior_result = reg.get(uscc)["last_year"] if uscc else ""
        return
    found = found if found is not None else {}
    for e in entries:
        uscc = e.values.get("uscc")
        if uscc and uscc not in found:
            found[uscc] = lookup(reg, uscc, campaign.year, campaign)
        e.prior_result = found[uscc]["last_year"] if uscc else ""


def with_closing(reg):
    """``with with_closing(open_if_exists(p)) as reg`` that tolerates None."""
    return closing(reg) if reg is not None else _Null()


class _Null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
