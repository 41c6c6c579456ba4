"""The campaign registry: one SQLite file that remembers the campaign across stages and years.

No server: the standard library's sqlite3. It holds the applications of a year, the levels
published by year (imported from earlier 发布名单 or recorded by `saq stage publish`), the
experts and their assignments, the staff's decisions per stage, what the stage workbook last
showed in each cell (so an edit is found by comparing with the registry, never with a sheet
of the workbook a user can delete), the edits that were refused, and an append-only audit
trail (every decision with who, when and old → new; SQLite triggers refuse to change or
delete an audit row, and each row carries the hash of the one before, so a row changed or
removed behind the program's back is found by `saq history verify`).

The registry is the truth, and it is guarded (issue 19, RULES.md P8):

- it is never recreated in place: a missing, empty (0 bytes), foreign or newer-schema file is
  refused with one Chinese line (:class:`xl_addin.errors.RegistryError`); only ``create=True``
  (``saq stage start``, ``saq history import``) makes a new one, with a new identity
  (``registry_id``) and generation 0;
- ``schema_version`` is checked: an older registry is migrated in one transaction, a newer
  one refused;
- one writer at a time: :func:`writing` takes a lock file (pid, user, host, command) beside
  the registry, waits :data:`LOCK_WAIT` seconds for another writer, then refuses naming who
  holds it; every write runs in ``BEGIN IMMEDIATE`` … ``COMMIT`` (:meth:`Registry.transaction`);
- every SQLite failure becomes one Chinese line (locked by whom, read-only, full disk,
  damaged, a newer program's file) — never a traceback.

The engine stays pure: callers (consolidation, `saq check`) look an organisation up here by
统一社会信用代码 and pass the answer in the engine's raw input (:func:`engine_inputs`,
RULES.md K4/E06). They open the registry read-only (:func:`open_if_exists`).

Where the file lives (:func:`default_path`): ``评价档案.sqlite`` beside the master workbook
or the stage workbook; every command takes ``--registry`` to name another file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import getpass
import hashlib
import json
import os
import socket
import sqlite3
import tempfile
import time
import uuid
from contextlib import closing
from pathlib import Path

from xl_addin.errors import RegistryError, os_reason
from xl_addin.rules import parse
from xl_addin.rules.engine import evaluate_application
from xl_addin.rules.uscc import clean as clean_uscc
from xl_addin.tables import normal_file_mode

FILE_NAME = "评价档案.sqlite"
SCHEMA_VERSION = "2"
SYSTEM = "（程序）"
# Raw-input keys the engine reads (derived fields of the campaign file).
PRIOR_PASS_KEY = "registry_prior_pass"  # 是: a recorded earlier 项目类 pass; 否: none recorded
RECORD_KEY = "registry_record"  # 是: any earlier result recorded for the organisation
SQLITE_MAGIC = b"SQLite format 3\x00"
LOCK_WAIT = 5.0  # seconds a second writer waits for the first before it refuses
BUSY_TIMEOUT = 5.0  # seconds SQLite waits for a lock held by a reader or a writer

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS results(
    year INTEGER NOT NULL, uscc TEXT NOT NULL, org_name TEXT, category TEXT NOT NULL,
    project_name TEXT NOT NULL DEFAULT '', level TEXT, rank INTEGER, source TEXT,
    recorded_at TEXT, PRIMARY KEY(year, uscc, category, project_name));
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
    old TEXT, new TEXT, reason TEXT, hash TEXT);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit rows are never changed'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit rows are never deleted'); END;
""" + """
CREATE TABLE IF NOT EXISTS shown(
    year INTEGER NOT NULL, gen INTEGER NOT NULL, stage TEXT NOT NULL, app_id TEXT NOT NULL,
    field TEXT NOT NULL, value TEXT, PRIMARY KEY(year, stage, app_id, field, gen));
CREATE TABLE IF NOT EXISTS refusals(
    year INTEGER NOT NULL, stage TEXT NOT NULL, app_id TEXT NOT NULL, field TEXT NOT NULL,
    value TEXT, why TEXT, who TEXT, at TEXT, PRIMARY KEY(year, stage, app_id, field));
CREATE INDEX IF NOT EXISTS idx_results_uscc ON results(uscc);
CREATE INDEX IF NOT EXISTS idx_audit_year ON audit(year, id);
CREATE INDEX IF NOT EXISTS idx_shown_gen ON shown(year, gen);
"""
AUDIT_COLUMNS = ("at", "who", "year", "stage", "app_id", "subject", "field", "old", "new",
                 "reason")


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
    return os_user()


def os_user():
    try:
        return getpass.getuser() or "未知用户"
    except Exception:  # noqa: BLE001 - no login name (service account, container)
        return "未知用户"


def now():
    return dt.datetime.now().replace(microsecond=0).isoformat(sep=" ")


# ---------------------------------------------------------------------- errors in Chinese
def sqlite_reason(e, path, lock_info=None):
    """An SQLite failure as one Chinese sentence about ``path`` (issue 19 §8).

    Args:
        e: the sqlite3.Error.
        path: the registry file.
        lock_info: who holds the writer's lock, when known (text).
    Returns:
        str: the whole message, ending with what happened to the registry.
    """
    text = str(e).lower()
    name = getattr(e, "sqlite_errorname", "") or ""
    if "locked" in text or name.startswith("SQLITE_BUSY") or name.startswith("SQLITE_LOCKED"):
        who = f"（{lock_info}）" if lock_info else ""
        return (f"评价档案 {path} 正被另一个程序使用{who}，等待 {BUSY_TIMEOUT:g} 秒后仍未释放；"
                "未作任何改动，请稍后再试")
    if "readonly" in text or "read-only" in text or name.startswith("SQLITE_READONLY"):
        return (f"评价档案 {path} 或其所在文件夹只读（没有写入权限），无法记录；未作任何改动。"
                "请把评价档案放在可写的文件夹中再运行")
    if "full" in text or name == "SQLITE_FULL":
        return f"磁盘已满，评价档案 {path} 无法写入；未作任何改动。请腾出磁盘空间后再运行"
    if "not a database" in text or "encrypted" in text or name == "SQLITE_NOTADB":
        return f"{path} 不是评价档案（不是本程序的 SQLite 数据库文件，或已损坏）；未作任何改动"
    if "malformed" in text or name.startswith("SQLITE_CORRUPT"):
        return f"评价档案 {path} 已损坏（数据库内容不完整）；未作任何改动。请从备份恢复"
    if "disk i/o" in text or name.startswith("SQLITE_IOERR"):
        return (f"读写评价档案 {path} 时磁盘出错（或文件超过系统允许的大小）；未作任何改动。"
                "请检查磁盘后再运行")
    if "unable to open" in text or name.startswith("SQLITE_CANTOPEN"):
        return (f"无法打开评价档案 {path}（文件夹不存在、只读或没有权限）；未作任何改动")
    if "no such table" in text or "no such column" in text:
        return f"{path} 不是本程序的评价档案（缺少档案的表）；未作任何改动"
    return f"评价档案 {path} 出错（{e}）；未作任何改动"


def _guarded(fn):
    """Every SQLite failure of a Registry method becomes a RegistryError (one Chinese line)."""
    @functools.wraps(fn)
    def wrapper(self, *args, **kw):
        try:
            return fn(self, *args, **kw)
        except sqlite3.Error as e:
            raise RegistryError(self.path, sqlite_reason(e, self.path,
                                                         lock_holder(self.path))) from None
    return wrapper


def _s(v):
    return None if v is None else str(v)


def _year(v):
    return None if v is None else int(v)


def audit_hash(prev, row):
    """The hash of an audit row: SHA-256 of the previous row's hash and this row's fields
    (:data:`AUDIT_COLUMNS`, as stored). Changing or removing a row breaks the next link."""
    payload = json.dumps([prev or "", *row], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------- the file itself
def check_file(path):
    """Refuse what cannot be a registry before SQLite touches it (SQLite would turn an empty
    file into a new, empty database: issue 19 §1).

    Raises:
        RegistryError
    """
    p = Path(path)
    if p.is_dir():
        raise RegistryError(p, f"{p} 是文件夹，不是评价档案")
    try:
        size = p.stat().st_size
        with open(p, "rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as e:
        raise RegistryError(p, f"无法读取评价档案 {p}（{os_reason(e)}）；未作任何改动") from None
    if size == 0:
        raise RegistryError(p, f"评价档案 {p} 是空文件（0 字节），其中没有任何记录；它不会被当作"
                               "新档案使用。请从备份恢复原来的评价档案，或用 --registry 指定正确的文件")
    if head != SQLITE_MAGIC:
        raise RegistryError(p, f"{p} 不是评价档案（不是 SQLite 数据库文件）；未作任何改动")


class Registry:
    """An open registry file. Use as a context manager.

    Writes run in a transaction (:meth:`transaction`); a method called outside one is its
    own transaction, committed at once.

    Args:
        path: the .sqlite file.
        create: make the file (and its folder) when it does not exist. An existing file is
            never recreated: an empty or foreign one is refused.
        readonly: open for reading only (consolidation, `saq check`): nothing is migrated or
            written, and the file may sit in a read-only folder.
    Raises:
        RegistryError: missing (and not ``create``), empty, not a registry, from a newer
            program, or SQLite cannot open it.
    """

    def __init__(self, path, create=True, readonly=False):
        self.path = Path(path)
        self.readonly = readonly
        self.created = False
        self._depth = 0
        self._head = None  # (count, last hash) of the audit while a transaction runs
        self._years = None
        if not self.path.exists():
            if not create or readonly:
                raise RegistryError(self.path, f"评价档案 {self.path} 不存在")
            self._create()
        else:
            check_file(self.path)
        try:
            self.db = self._connect()
        except sqlite3.Error as e:
            raise RegistryError(self.path, sqlite_reason(e, self.path)) from None
        try:
            self._check_schema()
        except BaseException:
            self.db.close()
            raise

    def _connect(self):
        if self.readonly:
            db = sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro", uri=True,
                                 timeout=BUSY_TIMEOUT, isolation_level=None)
        else:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        return db

    def _create(self):
        """A new registry: built in a temporary file, then linked into place, so that a
        half-made file never stands under the name and two creators never both succeed."""
        tmp = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".saq-{os.getpid()}-", suffix=".sqlite",
                                       dir=self.path.parent)
            os.close(fd)
            db = sqlite3.connect(tmp, isolation_level=None)
            try:
                db.execute("BEGIN")
                for stmt in _statements(SCHEMA):
                    db.execute(stmt)
                db.executemany("INSERT INTO meta VALUES(?, ?)", [
                    ("schema_version", SCHEMA_VERSION), ("registry_id", uuid.uuid4().hex),
                    ("generation", "0"), ("created_at", now()), ("audit_count", "0"),
                    ("audit_head", "")])
                db.execute("COMMIT")
            finally:
                db.close()
            normal_file_mode(tmp)
            try:
                os.link(tmp, self.path)  # fails when another run made it meanwhile
                self.created = True
            except FileExistsError:
                pass
            except OSError:  # a file system without hard links
                if not self.path.exists():
                    os.replace(tmp, self.path)
                    tmp, self.created = None, True
        except sqlite3.Error as e:
            raise RegistryError(self.path, sqlite_reason(e, self.path)) from None
        except OSError as e:
            raise RegistryError(self.path, f"无法建立评价档案 {self.path}（{os_reason(e)}）"
                                           "；未作任何改动") from None
        finally:
            if tmp:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        if not self.created:
            check_file(self.path)

    @_guarded
    def _check_schema(self):
        has_meta = self.db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND "
                                   "name='meta'").fetchone()
        version = None
        if has_meta:
            row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            version = row[0] if row else None
        if version is None:
            raise RegistryError(self.path, f"{self.path} 不是评价档案（没有档案的版本信息，可能是"
                                           "别的程序的数据库）；未作任何改动")
        try:
            v = int(str(version))
        except ValueError:
            raise RegistryError(self.path, f"{self.path} 的档案版本“{version}”无法识别；"
                                           "未作任何改动") from None
        if v > int(SCHEMA_VERSION):
            raise RegistryError(self.path, f"评价档案 {self.path} 由更新版本的程序建立（档案版本 {v}，"
                                           f"本程序只认识到版本 {SCHEMA_VERSION}），本程序不会读写它；"
                                           "请升级 saq 后再运行")
        if v < int(SCHEMA_VERSION) and not self.readonly:
            self._migrate(v)

    def _migrate(self, v):
        """Bring an older registry up to :data:`SCHEMA_VERSION` in one transaction.

        1 → 2: the audit's hash chain (computed over the existing rows, oldest first), the
        identity and generation, the tables ``shown`` and ``refusals``, the indexes on
        统一社会信用代码 and on the audit's year (issue 23).
        """
        with self.transaction():
            cols = {r[1] for r in self.db.execute("PRAGMA table_info(audit)")}
            if "hash" not in cols:
                self.db.execute("ALTER TABLE audit ADD COLUMN hash TEXT")
            for stmt in _statements(SCHEMA):
                self.db.execute(stmt)
            # The chain over the rows written before it existed: the program's own update,
            # the only one the trigger ever lets through, inside this transaction.
            self.db.execute("DROP TRIGGER IF EXISTS audit_no_update")
            prev, n = "", 0
            rows = self.db.execute("SELECT id, " + ",".join(AUDIT_COLUMNS) +
                                   " FROM audit ORDER BY id").fetchall()
            for r in rows:
                prev = audit_hash(prev, r[1:])
                self.db.execute("UPDATE audit SET hash=? WHERE id=?", (prev, r[0]))
                n += 1
            self.db.execute("CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN "
                            "SELECT RAISE(ABORT, 'audit rows are never changed'); END")
            meta = dict(self.db.execute("SELECT key, value FROM meta"))
            add = {"registry_id": meta.get("registry_id") or uuid.uuid4().hex,
                   "generation": meta.get("generation") or "0",
                   "audit_count": str(n), "audit_head": prev,
                   "schema_version": SCHEMA_VERSION, "migrated_at": now()}
            self.db.executemany("INSERT OR REPLACE INTO meta VALUES(?, ?)", add.items())
            self._head = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        with contextlib.suppress(sqlite3.Error):
            self.db.close()

    # -- transactions --------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self):
        """``BEGIN IMMEDIATE`` … ``COMMIT``; any exception rolls everything back. Nested
        uses join the outer transaction.

        Raises:
            RegistryError: SQLite failed (locked, read-only, full disk, …); nothing changed.
        """
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            raise RegistryError(self.path, sqlite_reason(e, self.path,
                                                         lock_holder(self.path))) from None
        self._depth = 1
        self._head = None
        try:
            yield self
            self._flush_head()
            self.db.execute("COMMIT")
        except BaseException as e:
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("ROLLBACK")
            self._head = None
            self._years = None
            if isinstance(e, sqlite3.Error):
                raise RegistryError(self.path, sqlite_reason(e, self.path,
                                                             lock_holder(self.path))) from None
            raise
        finally:
            self._depth = 0
        self._years = None

    @property
    def in_transaction(self):
        return self._depth > 0

    def _flush_head(self):
        if self._head is not None and self._head[2]:
            n, h, _ = self._head
            self.db.executemany("INSERT OR REPLACE INTO meta VALUES(?, ?)",
                                [("audit_count", str(n)), ("audit_head", h)])
        self._head = None

    # -- identity ------------------------------------------------------------------------------
    @_guarded
    def meta(self, key, default=None):
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row and row[0] is not None else default

    @property
    def id(self):
        """The registry's identity (a random hex string, made when the file was created)."""
        return self.meta("registry_id", "")

    def generation(self):
        """How many times the staff's decisions or the stage workbook's cells changed: a
        stage workbook written at an older generation is a stale copy."""
        try:
            return int(self.meta("generation", "0"))
        except ValueError:
            return 0

    @_guarded
    def bump_generation(self):
        """The next generation (inside the caller's transaction). Returns it."""
        with self.transaction():
            g = self.generation() + 1
            self.db.execute("INSERT OR REPLACE INTO meta VALUES('generation', ?)", (str(g),))
            return g

    # -- results by year (history) -------------------------------------------------------
    @_guarded
    def record_result(self, year, uscc, org_name, category, project_name, level, rank, source,
                      who=None):
        """Record one published level; a changed level of a known row leaves an audit line.

        Returns:
            "new", "same" or "changed"
        """
        with self.transaction():
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
        return state

    @_guarded
    def withdraw_results(self, year, source, keep, who=None):
        """Remove the results of ``year`` recorded from ``source`` whose key is not in
        ``keep`` (a set of (uscc, category, project_name)); each removal leaves an audit line.

        Returns:
            number removed
        """
        with self.transaction():
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
        return n

    @_guarded
    def held_results(self, year):
        """The results recorded for ``year``: {(uscc, category, project): (org_name, level,
        rank, source)}."""
        return {(u, c, p): (o, lv, r, s) for u, o, c, p, lv, r, s in self.db.execute(
            "SELECT uscc, org_name, category, project_name, level, rank, source FROM results "
            "WHERE year=?", (year,))}

    @_guarded
    def put_results(self, year, rows, source):
        """Insert or replace many results at once (inside the caller's transaction).

        Args:
            rows: (uscc, org_name, category, project_name, level, rank).
        """
        at = now()
        with self.transaction():
            self.db.executemany("INSERT OR REPLACE INTO results VALUES(?,?,?,?,?,?,?,?,?)",
                                [(year, u, o, c, p or "", lv, r, source, at)
                                 for u, o, c, p, lv, r in rows])

    @_guarded
    def delete_results(self, year, keys):
        """Remove results of ``year`` by (uscc, category, project)."""
        with self.transaction():
            self.db.executemany("DELETE FROM results WHERE year=? AND uscc=? AND category=? "
                                "AND project_name=?", [(year, *k) for k in keys])

    @_guarded
    def years(self):
        """Years with recorded results, ascending.

        One index probe per year (issue 23: ``SELECT DISTINCT`` read every row of a
        20,000-row registry on each `saq check` lookup); kept until the next write."""
        if self._years is None or self._depth:
            self._years = [r[0] for r in self.db.execute(
                "WITH RECURSIVE y(v) AS (SELECT MIN(year) FROM results UNION ALL "
                "SELECT (SELECT MIN(year) FROM results WHERE year > v) FROM y WHERE v IS NOT NULL) "
                "SELECT v FROM y WHERE v IS NOT NULL")]
        return list(self._years)

    @_guarded
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

    @_guarded
    def known_names(self):
        """Every organisation name the registry knows with its 统一社会信用代码s (results of
        all years and the applications): {name: {uscc, …}} — for lists without codes (P7)."""
        out = {}
        for name, uscc in self.db.execute(
                "SELECT org_name, uscc FROM results UNION SELECT org_name, uscc FROM applications"):
            if name and uscc:
                out.setdefault(name, set()).add(uscc)
        return out

    # -- campaign data -----------------------------------------------------------------------
    @_guarded
    def record_applications(self, year, rows):
        """rows: (app_id, uscc, org_name, category, project_name, level_applied, recommender,
        reviewed, note)."""
        with self.transaction():
            self.db.executemany("INSERT OR REPLACE INTO applications VALUES(?,?,?,?,?,?,?,?,?,?)",
                                [(year, *r) for r in rows])

    @_guarded
    def record_experts(self, year, experts, by_app):
        with self.transaction():
            self.db.executemany("INSERT OR REPLACE INTO experts VALUES(?,?,?,?)",
                                [(year, e.name, e.unit, "、".join(e.categories)) for e in experts])
            self.db.executemany("INSERT OR IGNORE INTO assignments VALUES(?,?,?)",
                                [(year, a, n) for a, names in by_app.items() for n in names])

    @_guarded
    def applications(self, year):
        cols = ("app_id", "uscc", "org_name", "category", "project_name", "level_applied",
                "recommender", "reviewed", "note")
        return [dict(zip(cols, r)) for r in self.db.execute(
            "SELECT " + ",".join(cols) + " FROM applications WHERE year=? ORDER BY app_id",
            (year,))]

    # -- decisions and audit -------------------------------------------------------------------
    @_guarded
    def decisions(self, year, stage):
        """(app_id, field) -> value of one stage's recorded decisions."""
        return {(a, f): v for a, f, v in self.db.execute(
            "SELECT app_id, field, value FROM decisions WHERE year=? AND stage=?", (year, stage))}

    @_guarded
    def decision_rows(self, year):
        """(stage, app_id, field) -> (value, who, at) of every decision of ``year``."""
        return {(s, a, f): (v, w, t) for a, s, f, v, w, t in self.db.execute(
            "SELECT app_id, stage, field, value, who, at FROM decisions WHERE year=?", (year,))}

    @_guarded
    def decide(self, year, stage, app_id, field, old, new, who, reason="", subject=""):
        """Record a staff decision and its audit line (who, when, old → new); a refusal
        recorded earlier for the same cell is settled by it."""
        at = now()
        with self.transaction():
            self.db.execute("INSERT OR REPLACE INTO decisions VALUES(?,?,?,?,?,?,?)",
                            (year, app_id, stage, field, new, who, at))
            self.db.execute("DELETE FROM refusals WHERE year=? AND stage=? AND app_id=? AND "
                            "field=?", (year, stage, app_id, field))
            self.audit(stage, app_id, subject, field, old, new, reason, who, year, at)

    @_guarded
    def refuse(self, year, stage, app_id, field, old, value, why, who, subject=""):
        """Record an edit that was not taken: an audit line ``<field>（未采纳）`` and the
        refusal the stage workbook shows on the row until a decision settles the cell."""
        at = now()
        with self.transaction():
            self.db.execute("INSERT OR REPLACE INTO refusals VALUES(?,?,?,?,?,?,?,?)",
                            (year, stage, app_id, field, _s(value), why, who, at))
            self.audit(stage, app_id, subject, f"{field}（未采纳）", old, value, why, who, year,
                       at)

    @_guarded
    def refusals(self, year):
        """(stage, app_id, field) -> dict(value, why, who, at) of the open refusals."""
        return {(s, a, f): {"value": v, "why": y, "who": w, "at": t}
                for s, a, f, v, y, w, t in self.db.execute(
                    "SELECT stage, app_id, field, value, why, who, at FROM refusals WHERE year=?",
                    (year,))}

    def _audit_head(self):
        if self._head is None:
            n = self.db.execute("SELECT COUNT(*) FROM audit").fetchone()[0] \
                if self.meta("audit_count") is None else int(self.meta("audit_count"))
            last = self.db.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
            self._head = (n, (last[0] or "") if last else "", False)
        return self._head

    @_guarded
    def audit(self, stage, app_id, subject, field, old, new, reason="", who=None, year=None,
              at=None):
        """Append one audit line (never changed afterwards), chained to the one before."""
        self.audit_many([(at or now(), who or current_user(), year, stage, app_id, subject,
                          field, old, new, reason or "")])

    @_guarded
    def audit_many(self, lines):
        """Append audit lines: tuples in the order of :data:`AUDIT_COLUMNS`."""
        with self.transaction():
            n, prev, _ = self._audit_head()
            rows = []
            for at, who, year, stage, app_id, subject, field, old, new, reason in lines:
                row = (str(at), str(who), _year(year), str(stage), _s(app_id), _s(subject),
                       _s(field), _s(old), _s(new), str(reason or ""))
                prev = audit_hash(prev, row)
                rows.append((*row, prev))
                n += 1
            self.db.executemany("INSERT INTO audit(at, who, year, stage, app_id, subject, "
                                "field, old, new, reason, hash) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                                rows)
            self._head = (n, prev, True)

    @_guarded
    def audit_rows(self, year=None, last=None):
        """Audit lines, oldest first: dicts of at, who, year, stage, app_id, subject, field,
        old, new, reason.

        Args:
            year: only the lines of that year (and those of no year).
            last: only the newest ``last`` lines (the stage workbook shows a bounded trail;
                a command reads only the lines it needs, issue 19 §7).
        """
        cols = "SELECT id, " + ",".join(AUDIT_COLUMNS) + " FROM audit"
        if last is None:
            q, args = cols, ()
            if year is not None:
                q, args = cols + " WHERE year=? OR year IS NULL", (year,)
            rows = self.db.execute(q + " ORDER BY id", args).fetchall()
        elif year is None:
            rows = self.db.execute(cols + " ORDER BY id DESC LIMIT ?", (int(last),)).fetchall()
        else:  # each part walks its index backwards and stops: no sort of the whole trail
            rows = self.db.execute(cols + " WHERE year=? ORDER BY id DESC LIMIT ?",
                                   (year, int(last))).fetchall()
            rows += self.db.execute(cols + " WHERE year IS NULL ORDER BY id DESC LIMIT ?",
                                    (int(last),)).fetchall()
            rows = sorted(rows, reverse=True)[:int(last)]
        rows.sort()
        return [dict(zip(AUDIT_COLUMNS, r[1:])) for r in rows]

    @_guarded
    def audit_count(self, year=None):
        if year is None:
            return self.db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
        return self.db.execute("SELECT COUNT(*) FROM audit WHERE year=? OR year IS NULL",
                               (year,)).fetchone()[0]

    @_guarded
    def iter_audit(self, year=None, batch=2000):
        """Every audit line (with its id and hash), oldest first, read in batches."""
        q = "SELECT id, " + ",".join(AUDIT_COLUMNS) + ", hash FROM audit"
        args = ()
        if year is not None:
            q, args = q + " WHERE year=? OR year IS NULL", (year,)
        cur = self.db.execute(q + " ORDER BY id", args)
        while True:
            chunk = cur.fetchmany(batch)
            if not chunk:
                return
            yield from chunk

    @_guarded
    def verify_audit(self):
        """Walk the hash chain of the audit.

        Returns:
            (number of lines, None) when every link holds, else (number of lines, dict of
            n (1-based position), id, at, who, stage, problem) for the first broken link.
        """
        prev, n = "", 0
        for row in self.iter_audit():
            n += 1
            rid, fields, stored = row[0], row[1:-1], row[-1]
            if stored != audit_hash(prev, fields):
                return n, {"n": n, "id": rid, "at": fields[0], "who": fields[1],
                           "stage": fields[3], "problem": "changed" if stored else "unchained"}
            prev = stored
        want = self.meta("audit_count")
        if want is not None and want.isdigit() and int(want) > n:
            return n, {"n": n + 1, "id": None, "at": "", "who": "", "stage": "",
                       "problem": "truncated", "missing": int(want) - n}
        head = self.meta("audit_head")
        if head and head != prev and want is not None and int(want or 0) == n:
            return n, {"n": n, "id": None, "at": "", "who": "", "stage": "",
                       "problem": "head"}
        return n, None

    # -- what the stage workbook showed --------------------------------------------------------
    @_guarded
    def shown(self, year, gen=None):
        """(stage, app_id, field) -> the text the stage workbook of generation ``gen``
        (default: the current one) showed in that cell."""
        q = "SELECT stage, app_id, field, value FROM shown WHERE year=?"
        args = [year]
        if gen is not None:
            q += " AND gen<=?"
            args.append(int(gen))
        out = {}
        for s, a, f, v in self.db.execute(q + " ORDER BY gen", args):
            if v is None:
                out.pop((s, a, f), None)
            else:
                out[(s, a, f)] = v
        return out

    @_guarded
    def record_shown(self, year, gen, values):
        """Remember what the workbook of generation ``gen`` shows (only what changed).

        Returns:
            number of cells that changed since the last generation.
        """
        with self.transaction():
            before = self.shown(year)
            rows = [(year, gen, *k, v) for k, v in values.items() if before.get(k) != v]
            rows += [(year, gen, *k, None) for k in before if k not in values]
            self.db.executemany("INSERT OR REPLACE INTO shown VALUES(?,?,?,?,?,?)", rows)
        return len(rows)


def _statements(script):
    """The statements of a schema script (a trigger's body keeps its inner semicolon)."""
    out, buf = [], ""
    for line in script.splitlines():
        buf += line + "\n"
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    return out


# ---------------------------------------------------------------------- one writer at a time
def lock_path(path):
    p = Path(path)
    return p.with_name(f".{p.name}.saq-lock")


def pid_alive(pid):
    """Whether process ``pid`` runs on this machine (never signals it)."""
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill would terminate it on Windows
        import ctypes  # lazy: Windows only; ~2 ms that saq check (which imports this) would pay
        k32 = ctypes.windll.kernel32
        h = k32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not h:
            return False
        code = ctypes.c_ulong()
        k32.GetExitCodeProcess(h, ctypes.byref(code))
        k32.CloseHandle(h)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _read_lock(p):
    try:
        return json.loads(Path(p).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def describe_lock(info):
    """Who holds a writer's lock, in words."""
    if not info:
        return "锁文件内容无法读取"
    parts = [f"{info.get('user') or '未知'}"]
    extra = []
    if info.get("os_user") and info.get("os_user") != info.get("user"):
        extra.append(f"系统用户 {info['os_user']}")
    if info.get("host"):
        extra.append(f"计算机 {info['host']}")
    if info.get("pid"):
        extra.append(f"进程 {info['pid']}")
    text = parts[0] + (f"（{'，'.join(extra)}）" if extra else "")
    if info.get("command"):
        text += f"正在运行 {info['command']}"
    if info.get("since"):
        text += f"，自 {info['since']} 起"
    return text


def lock_holder(path):
    """Who holds the writer's lock of the registry at ``path`` (text), or None."""
    p = lock_path(path)
    if not p.exists():
        return None
    return describe_lock(_read_lock(p))


class RegistryLocked(RegistryError):
    """Another command is writing the registry."""


class WriterLock:
    """The registry's writer lock: a file beside it holding pid, user, host and command.

    A lock left by a process that no longer runs on this computer is taken over; one of a
    live process (or of another computer) makes the caller wait up to ``wait`` seconds, then
    refuse, naming who holds it.
    """

    def __init__(self, path, who=None, command="", wait=None):
        self.registry = Path(path)
        self.path = lock_path(path)
        self.who, self.command = current_user(who), command
        self.wait = LOCK_WAIT if wait is None else wait
        self.held = False

    def acquire(self):
        deadline = time.monotonic() + self.wait
        info = {"pid": os.getpid(), "user": self.who, "os_user": os_user(),
                "host": socket.gethostname(), "command": self.command, "since": now()}
        while True:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                held = _read_lock(self.path)
                if self._stale(held):
                    with contextlib.suppress(OSError):
                        os.unlink(self.path)
                    continue
                if time.monotonic() >= deadline:
                    raise RegistryLocked(self.registry, (
                        f"评价档案 {self.registry} 正在被使用：{describe_lock(held)}。已等待 "
                        f"{self.wait:g} 秒，本次未作任何改动；请等对方完成后再运行。如确认没有"
                        f"程序在运行，可删除锁文件 {self.path}")) from None
                time.sleep(0.2)
                continue
            except OSError as e:
                raise RegistryError(self.registry, (
                    f"无法在 {self.path.parent} 建立评价档案的锁文件（{os_reason(e)}）：文件夹只读"
                    "或没有写入权限；未作任何改动")) from None
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(info, f, ensure_ascii=False)
            except OSError as e:
                with contextlib.suppress(OSError):
                    os.unlink(self.path)
                raise RegistryError(self.registry, (
                    f"无法写入评价档案的锁文件 {self.path}（{os_reason(e)}）；未作任何改动")) from None
            self.held = True
            return self

    def _stale(self, held):
        if held is None:  # half-written by a process killed at that moment
            try:
                return time.time() - self.path.stat().st_mtime > 60
            except OSError:
                return True
        if held.get("host") != socket.gethostname():
            return False  # another computer's: its process cannot be checked from here
        try:
            return not pid_alive(int(held.get("pid")))
        except (TypeError, ValueError):
            return False

    def release(self):
        if self.held:
            held = _read_lock(self.path)
            if held is None or held.get("pid") == os.getpid():
                with contextlib.suppress(OSError):
                    os.unlink(self.path)
            self.held = False

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


@contextlib.contextmanager
def writing(path, who=None, command="", create=False, wait=None):
    """Open the registry at ``path`` for writing, holding its writer's lock.

    Args:
        create: make it when missing (``saq stage start``, ``saq history import``); the
            Registry's ``created`` says whether it did.
        wait: seconds to wait for another writer (default :data:`LOCK_WAIT`).
    Yields:
        Registry
    Raises:
        RegistryError: missing (and not ``create``), locked by someone else, empty, foreign,
            newer, read-only, …
    """
    p = Path(path)
    if not p.exists() and not create:
        raise RegistryError(p, f"评价档案 {p} 不存在；评价档案不会自动重建，请用 --registry 指定")
    if create:
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RegistryError(p, f"无法建立文件夹 {p.parent}（{os_reason(e)}）") from None
    with WriterLock(p, who, command, wait):
        reg = Registry(p, create=create)
        try:
            yield reg
        finally:
            reg.close()


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
    return None if parse.is_blank(value) else clean_uscc(parse.text(value))  # E16's folding


def engine_inputs(found):
    """The keys of :func:`lookup`'s answer that go into the engine's raw input."""
    return {k: found[k] for k in (PRIOR_PASS_KEY, RECORD_KEY)}


def open_if_exists(path):
    """A read-only Registry when ``path`` exists, else None (no registry: self-declared
    answers stand). An existing file that is not a usable registry (empty, foreign, newer)
    is refused, never read as "no registry".

    Raises:
        RegistryError
    """
    p = Path(path) if path else None
    if p is None or not p.exists():
        return None
    return Registry(p, create=False, readonly=True)


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
