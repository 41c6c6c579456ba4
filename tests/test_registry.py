"""The campaign registry and `saq history import` (issue 14; RULES.md K4, E06, E33).

Done-when: after `saq history import` of the 2023 results, a 2024 企业类 初评 application
from an organisation with a recorded 项目类 pass gets no E06, one without gets E06.
The lookup is the one consolidation and `saq check` make before calling the engine.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
import yaml

from xl_addin import cli, registry
from xl_addin.review.history import import_history
from xl_addin.review.publish import Listed, write_xlsx
from xl_addin.rules.campaign import CAMPAIGN_DIR, load
from xl_addin.rules.engine import evaluate_application
from xl_addin.rules.uscc import make

C23 = load(2023)
CASES = Path(__file__).parent / "cases"


def campaign_2024(tmp_path):
    """The 2024 campaign: its own file when the project has one, else 2023's with the year
    changed (every date of the file is relative to the year)."""
    if (CAMPAIGN_DIR / "2024.toml").exists():
        return load(2024)
    text = (CAMPAIGN_DIR / "2023.toml").read_text(encoding="utf-8")
    p = tmp_path / "2024.toml"
    p.write_text(text.replace("year = 2023", "year = 2024", 1), encoding="utf-8")
    c = load(str(p))
    assert c.year == 2024
    return c


def as_year(c, year):
    """The campaign ``c`` relabelled as ``year`` (its lists then state that year, P7)."""
    import dataclasses
    y, y0 = str(c.year), str(year)
    return dataclasses.replace(c, year=year, title=c.title.replace(y, y0), stages={
        k: (v.replace(y, y0) if isinstance(v, str) else v) for k, v in c.stages.items()})


def code(n):
    return make(f"9131011{n:010d}"[:17])


PASSED = code(1)       # 2023: 服务类 pass
ENTERPRISE = code(2)   # 2023: 企业类 pass only (not a 项目类 pass)
UNKNOWN = code(3)      # no record


def application(c, uscc, category="企业类", review="初评", prior="是"):
    """The clean base application of tests/cases, as an applicant of ``c``."""
    base = yaml.safe_load((CASES / "base_application.yaml").read_text(encoding="utf-8"))
    base.update(uscc=uscc, category=category, review_type=review, prior_pass=prior,
                credit_a="否", level="用户满意级")
    if category == "企业类":
        base["project_name"] = None
    return base


def evaluate_with_registry(raw, c, reg_path):
    """What consolidation does: look up by 统一社会信用代码, pass the answer in raw input."""
    with registry.Registry(reg_path) as reg:
        found = registry.lookup(reg, raw["uscc"], c.year, c)
    return evaluate_application({**raw, **registry.engine_inputs(found)}, c), found


@pytest.fixture
def reg_2023(tmp_path, capsys):
    """2023 results imported from the 发布名单.xlsx that `saq stage publish` writes."""
    items = [Listed("上海浦江客运服务有限公司", "轨道交通乘客热线服务", "服务类", 4, PASSED),
             Listed("上海某某（集团）有限公司", "", "企业类", 3, ENTERPRISE)]
    lst = write_xlsx(tmp_path / "发布名单_2023.xlsx", C23, items, "发布")
    reg = tmp_path / "评价档案.sqlite"
    rc = cli.main(["history", "import", str(lst), "--year", "2023", "--registry", str(reg),
                   "--by", "测试员"])
    out, err = capsys.readouterr()
    assert rc == 0 and err == ""
    # P8: a registry is made only by saying so
    assert out.splitlines()[:2] == [f"已新建评价档案：{reg}（此前没有评价档案）。",
                                    f"2023 年结果已导入评价档案 {reg}：新增 2 项，与档案相同 0 项，"
                                    "等级变更 0 项（已记入审计记录）。"]
    return reg


def test_recorded_pass_clears_e06_and_none_gives_e06(tmp_path, reg_2023):
    c = campaign_2024(tmp_path)
    # declared "否" but the registry holds a 2023 项目类 pass: no E06
    ev, found = evaluate_with_registry(application(c, PASSED, prior="否"), c, reg_2023)
    assert "E06" not in ev.codes.split()
    assert found["last_year"] == "服务类·用户满意（轨道交通乘客热线服务）"
    # declared "是" but no record at all: E06 (the registry replaces the declaration, K4)
    ev, found = evaluate_with_registry(application(c, UNKNOWN, prior="是"), c, reg_2023)
    assert "E06" in ev.codes.split()
    assert found["last_year"] == "无记录"
    # a 企业类 result is not a 项目类 pass
    ev, _ = evaluate_with_registry(application(c, ENTERPRISE, prior="是"), c, reg_2023)
    assert "E06" in ev.codes.split()


def test_fuping_without_record_is_a_warning(tmp_path, reg_2023):
    c = campaign_2024(tmp_path)
    ev, _ = evaluate_with_registry(application(c, UNKNOWN, "服务类", "复评"), c, reg_2023)
    e33 = [f for f in ev.flags if f.code == "E33"]
    assert [f.severity for f in e33] == ["warning"]
    ev, _ = evaluate_with_registry(application(c, PASSED, "服务类", "复评"), c, reg_2023)
    assert "E33" not in ev.codes.split()


def test_without_a_registry_year_the_declaration_stands(tmp_path):
    """A registry that holds no earlier year knows nothing: self-declared answers stand."""
    c = campaign_2024(tmp_path)
    ev, found = evaluate_with_registry(application(c, UNKNOWN, prior="是"), c,
                                       tmp_path / "empty.sqlite")
    assert found[registry.PRIOR_PASS_KEY] is None and "E06" not in ev.codes.split()


def test_simple_table_import_lists_every_row_it_skips(tmp_path):
    csv = tmp_path / "2022.csv"
    csv.write_text("统一社会信用代码,企业名称,申请类别,申报项目名称,等级\n"
                   f"{PASSED},上海浦江客运服务有限公司,服务,热线服务，夜间,四星\n"
                   "91310115MA1K3YJH35,校验位错的公司,服务类,某服务,用户满意\n"
                   f",没有代码的公司,产品类,某产品,三星\n"
                   f"{UNKNOWN},等级写错的公司,产品类,某产品,八星\n"
                   f"{PASSED},上海浦江客运服务有限公司,服务类,热线服务，夜间,用户满意\n",
                   encoding="utf-8")
    reg = tmp_path / "r.sqlite"
    res = import_history(csv, 2022, reg, C23, who="测试员")
    assert (res.new, res.same, res.changed) == (1, 0, 0)
    assert [r for r, _ in res.skipped] == [3, 4, 5, 6]
    assert "校验" in res.skipped[0][1] and "统一社会信用代码为空" in res.skipped[1][1]
    assert "八星" in res.skipped[2][1] and "重复" in res.skipped[3][1]
    with registry.Registry(reg) as r:
        (row,) = r.results_of(PASSED)
    # names exactly as written: the full-width comma stays
    assert row["project_name"] == "热线服务，夜间" and row["level"] == "用户满意"


def test_reimport_with_a_changed_level_leaves_an_audit_line(tmp_path):
    """P7: a changed level of a year already held needs --replace; then it is audited."""
    from xl_addin.review.history import NeedsReplace
    reg = tmp_path / "r.sqlite"
    for level in ("用户满意", "用户满意亮诺"):
        lst = write_xlsx(tmp_path / "l.xlsx", C23,
                         [Listed("甲公司", "甲服务", "服务类", C23.levels[[lv.name for lv in
                                                                     C23.levels].index(level)].rank,
                                 PASSED)], "发布")
        try:
            res = import_history(lst, 2023, reg, C23, who="测试员")
        except NeedsReplace as e:
            assert e.details == ["  变更：甲公司（服务类·甲服务）：“用户满意” → “用户满意亮诺”"]
            res = import_history(lst, 2023, reg, C23, who="测试员", replace=True)
    assert res.changed == 1
    with registry.Registry(reg) as r:
        trail = [a for a in r.audit_rows() if a["field"] == "等级"]
    assert [(a["old"], a["new"], a["who"]) for a in trail] == [("用户满意", "用户满意亮诺", "测试员")]


def test_audit_rows_can_be_neither_changed_nor_deleted(tmp_path):
    reg = tmp_path / "r.sqlite"
    with registry.Registry(reg) as r:
        r.audit("审定", "2023-001", "甲公司", "审定等级", "不达标", "用户满意", "理由", "测试员", 2023)
    db = sqlite3.connect(reg)
    with pytest.raises(sqlite3.DatabaseError, match="never"):
        db.execute("UPDATE audit SET new = '用户满意标杆'")
    with pytest.raises(sqlite3.DatabaseError, match="never"):
        db.execute("DELETE FROM audit")
    db.close()


def test_cli_history_errors_are_one_chinese_line(tmp_path, capsys):
    bad = tmp_path / "x.csv"
    bad.write_text("企业名称,等级\n甲,四星\n", encoding="utf-8")
    rc = cli.main(["history", "import", str(bad), "--year", "2022", "--registry",
                   str(tmp_path / "r.sqlite")])
    out, err = capsys.readouterr()
    assert rc == 2 and out == ""
    assert err == f"错误：无法读取文件 {bad}：缺少列：统一社会信用代码、申请类别\n"


def test_saq_check_looks_the_applicant_up_in_the_registry(tmp_path, capsys):
    """`saq check` passes the registry's answer to the engine as consolidation does."""
    from xl_addin.forms.fill import fill_application
    values = application(C23, UNKNOWN, prior="是")
    book = fill_application(tmp_path / "申请书.xlsx", values, campaign=C23)
    assert cli.main(["check", str(book)]) in (0, 1)
    out, _ = capsys.readouterr()
    assert "E06" not in out  # no registry: the declared pass stands
    lst = write_xlsx(tmp_path / "发布名单_2022.xlsx", as_year(C23, 2022),  # P7: a 2022 list
                     [Listed("别的公司", "别的服务", "服务类", 4, PASSED)], "发布")
    reg = tmp_path / "档案" / "评价档案.sqlite"
    assert cli.main(["history", "import", str(lst), "--year", "2022", "--registry",
                     str(reg)]) == 0
    capsys.readouterr()
    cli.main(["check", str(book), "--registry", str(reg)])
    out, _ = capsys.readouterr()
    assert "E06" in out


def test_republishing_withdraws_what_left_the_list(tmp_path):
    reg = tmp_path / "r.sqlite"
    with registry.Registry(reg) as r:
        for uscc in (PASSED, UNKNOWN):
            r.record_result(2023, uscc, "甲", "服务类", "甲服务", "用户满意", 4, "本年发布", "测试员")
        assert r.withdraw_results(2023, "本年发布", {(PASSED, "服务类", "甲服务")}, "测试员") == 1
        assert [x["year"] for x in r.results_of(UNKNOWN)] == []
        assert len(r.results_of(PASSED)) == 1
        (line,) = [a for a in r.audit_rows(2023) if a["stage"] == "发布"]
    assert (line["old"], line["new"], line["who"]) == ("用户满意", None, "测试员")


# ---------------------------------------------------------------------- guarded (issue 19)
V1_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE results(
    year INTEGER NOT NULL, uscc TEXT NOT NULL, org_name TEXT, category TEXT NOT NULL,
    project_name TEXT NOT NULL DEFAULT '', level TEXT, rank INTEGER, source TEXT,
    recorded_at TEXT, PRIMARY KEY(year, uscc, category, project_name));
CREATE TABLE applications(
    year INTEGER NOT NULL, app_id TEXT NOT NULL, uscc TEXT, org_name TEXT, category TEXT,
    project_name TEXT, level_applied TEXT, recommender TEXT, reviewed INTEGER, note TEXT,
    PRIMARY KEY(year, app_id));
CREATE TABLE experts(year INTEGER NOT NULL, name TEXT NOT NULL, unit TEXT, categories TEXT,
    PRIMARY KEY(year, name));
CREATE TABLE assignments(year INTEGER NOT NULL, app_id TEXT NOT NULL, expert TEXT NOT NULL,
    PRIMARY KEY(year, app_id, expert));
CREATE TABLE decisions(year INTEGER NOT NULL, app_id TEXT NOT NULL, stage TEXT NOT NULL,
    field TEXT NOT NULL, value TEXT, who TEXT, at TEXT, PRIMARY KEY(year, app_id, stage, field));
CREATE TABLE audit(id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, who TEXT NOT NULL,
    year INTEGER, stage TEXT NOT NULL, app_id TEXT, subject TEXT, field TEXT,
    old TEXT, new TEXT, reason TEXT);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit rows are never changed'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit rows are never deleted'); END;
INSERT INTO meta VALUES('schema_version', '1');
"""


def test_a_version_1_registry_is_migrated_with_its_audit_chained(tmp_path):
    """schema_version is checked: 1 is migrated in one transaction (hash chain over the
    existing rows, identity, index on 统一社会信用代码, issue 23)."""
    p = tmp_path / "旧档案.sqlite"
    db = sqlite3.connect(p)
    db.executescript(V1_SCHEMA)
    db.execute("INSERT INTO results VALUES(2022, ?, '甲', '服务类', '甲服务', '用户满意', 4, "
               "'导入', '2023-01-01 00:00:00')", (PASSED,))
    for i in range(3):
        db.execute("INSERT INTO audit(at, who, year, stage, field, old, new, reason) VALUES("
                   "'2023-01-0%d 00:00:00', '测试员', 2023, '审定', '审定等级', NULL, '用户满意', '')"
                   % (i + 1))
    db.commit()
    db.close()
    with registry.Registry(p, create=False) as r:
        assert r.meta("schema_version") == registry.SCHEMA_VERSION
        assert len(r.id) == 32 and r.generation() == 0
        assert r.verify_audit() == (3, None)
        assert [a["at"] for a in r.audit_rows()] == [f"2023-01-0{i} 00:00:00" for i in (1, 2, 3)]
        plan = " ".join(str(x) for x in r.db.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM results WHERE uscc=?", (PASSED,)).fetchall())
        assert "idx_results_uscc" in plan
        r.audit("审定", "2023-001", "甲", "审定理由", None, "x", "", "测试员", 2023)
        assert r.verify_audit() == (4, None)
    with pytest.raises(sqlite3.DatabaseError, match="never"):  # the trigger is back
        db = sqlite3.connect(p)
        try:
            db.execute("UPDATE audit SET new='x'")
        finally:
            db.close()


@pytest.mark.parametrize("content, words", [
    (b"", "是空文件（0 字节）"),
    (b"not a database at all", "不是 SQLite 数据库文件"),
])
def test_what_cannot_be_a_registry_is_refused_never_recreated(tmp_path, content, words):
    from xl_addin.errors import RegistryError
    p = tmp_path / "评价档案.sqlite"
    p.write_bytes(content)
    for kw in ({}, {"create": False}, {"readonly": True}):
        with pytest.raises(RegistryError, match=words):
            registry.Registry(p, **kw)
    with pytest.raises(RegistryError, match=words):
        registry.open_if_exists(p)  # consolidation and `saq check` refuse it too
    assert p.read_bytes() == content


def test_a_newer_registry_is_refused(tmp_path):
    from xl_addin.errors import RegistryError
    p = tmp_path / "r.sqlite"
    with registry.Registry(p):
        pass
    db = sqlite3.connect(p)
    db.execute("UPDATE meta SET value='3' WHERE key='schema_version'")
    db.commit()
    db.close()
    with pytest.raises(RegistryError) as e:
        registry.Registry(p)
    assert str(e.value) == (f"评价档案 {p} 由更新版本的程序建立（档案版本 3，本程序只认识到版本 "
                            f"{registry.SCHEMA_VERSION}），本程序不会读写它；请升级 saq 后再运行")


def test_sqlite_failures_are_chinese_lines(tmp_path):
    """Issue 19 §8: read-only and full are SQLite's own errors, told in Chinese."""
    from xl_addin.errors import RegistryError
    p = tmp_path / "r.sqlite"
    with registry.Registry(p) as r:
        r.db.execute("PRAGMA query_only = ON")
        with pytest.raises(RegistryError) as e:
            r.audit("审定", "1", "甲", "x", None, "y", "", "测试员", 2023)
        assert str(e.value).startswith(f"评价档案 {p} 或其所在文件夹只读")
        r.db.execute("PRAGMA query_only = OFF")
        pages = r.db.execute("PRAGMA page_count").fetchone()[0]
        r.db.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(RegistryError) as e:
            with r.transaction():
                r.record_applications(2023, [(f"2023-{i:04d}", "x" * 500, "甲" * 500, "服务类",
                                              "p", "", "", 1, "") for i in range(200)])
        assert str(e.value) == f"磁盘已满，评价档案 {p} 无法写入；未作任何改动。请腾出磁盘空间后再运行"
        assert r.applications(2023) == []  # rolled back


def test_one_writer_at_a_time_the_second_waits_then_names_the_first(tmp_path):
    import threading
    p = tmp_path / "r.sqlite"
    with registry.Registry(p):
        pass
    first = registry.WriterLock(p, "施卫丹", "saq stage update").acquire()
    with pytest.raises(registry.RegistryLocked) as e:
        registry.WriterLock(p, "李敏", "saq stage publish", wait=0.3).acquire()
    msg = str(e.value)
    assert msg.startswith(f"评价档案 {p} 正在被使用：施卫丹") and "saq stage update" in msg \
        and f"进程 {os.getpid()}" in msg and "已等待 0.3 秒，本次未作任何改动" in msg
    threading.Timer(0.3, first.release).start()  # released while the second waits
    second = registry.WriterLock(p, "李敏", "saq stage publish", wait=5).acquire()
    assert json.loads(registry.lock_path(p).read_text(encoding="utf-8"))["user"] == "李敏"
    second.release()
    assert not registry.lock_path(p).exists()


def test_a_failed_history_import_records_nothing(tmp_path, monkeypatch):
    """One transaction: a failure half-way leaves the registry as it was."""
    csv = tmp_path / "2022.csv"
    csv.write_text("统一社会信用代码,企业名称,申请类别,申报项目名称,等级\n"
                   f"{PASSED},甲,服务类,甲服务,用户满意\n{UNKNOWN},乙,服务类,乙服务,用户满意\n",
                   encoding="utf-8")
    reg = tmp_path / "r.sqlite"
    with registry.Registry(reg):
        pass

    def broken(self, *a, **k):
        raise sqlite3.OperationalError("disk I/O error")
    monkeypatch.setattr(registry.Registry, "audit_many", broken)
    rc = cli.main(["history", "import", str(csv), "--year", "2022", "--registry", str(reg)])
    assert rc == 2
    monkeypatch.undo()
    with registry.Registry(reg) as r:
        assert r.years() == [] and r.audit_rows() == []


def test_history_import_csv_title_and_meta_state_the_year(tmp_path, capsys):
    """P7: the year a list states must be the year given."""
    csv = tmp_path / "名单.csv"
    csv.write_text(f"2021年上海市用户满意等级评价结果\n统一社会信用代码,企业名称,申请类别,等级\n"
                   f"{PASSED},甲,企业类,用户满意\n", encoding="utf-8")
    rc = cli.main(["history", "import", str(csv), "--year", "2022", "--registry",
                   str(tmp_path / "r.sqlite")])
    out, err = capsys.readouterr()
    assert (rc, out) == (2, "")
    assert err == (f"错误：无法读取文件 {csv}：名单写明是 2021 年（标题“2021年上海市用户满意等级评价结果”），"
                   "与 --year 2022 不符；未导入任何内容（规则 P7）。请确认年度后重新运行\n")
    assert not (tmp_path / "r.sqlite").exists()


def test_history_verify_reports_the_first_broken_link_exactly(tmp_path, capsys):
    """Issue 19 §6: the exact words and exit codes of `saq history verify`."""
    p = tmp_path / "评价档案.sqlite"
    with registry.Registry(p) as r:
        for i in range(4):
            r.audit("审定", f"2023-00{i}", "甲", "审定理由", None, f"理由{i}", "", "测试员", 2023,
                    f"2023-09-2{i} 10:00:00")
    rc = cli.main(["history", "verify", "--registry", str(p)])
    assert (rc, capsys.readouterr().out) == (0, f"审计记录完整：评价档案 {p} 共 4 条审计记录，每一条都与"
                                                "前一条相连（哈希链未断）。\n")
    db = sqlite3.connect(p)
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("UPDATE audit SET new='改过' WHERE id=3")
    db.commit()
    db.close()
    rc = cli.main(["history", "verify", "--registry", str(p)])
    assert (rc, capsys.readouterr().out) == (1, f"审计记录在第 3 条断开（编号 3，2023-09-22 10:00:00，测试员，"
                                                f"审定）：这一条或它之前的一条在程序之外被改动或删除。评价档案 {p}。\n")
    rc = cli.main(["history", "verify", "--registry", str(tmp_path / "无.sqlite")])
    out, err = capsys.readouterr()
    assert (rc, out) == (2, "")
    assert err == (f"错误：评价档案 {tmp_path / '无.sqlite'} 不存在；评价档案不会自动重建，"
                   "请用 --registry 指定\n")
    assert not (tmp_path / "无.sqlite").exists()
