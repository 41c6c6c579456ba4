"""A corpus of attacks on what keeps the staff's decisions (issue 19, issue 18 P5/P7/P8): the
registry, the stage workbook (评定.xlsx), the stage commands and `saq history`.

A small demo campaign is taken once through the README's commands to three points — 合议 and
审定 decided (``staged``), 公示 held (``publicized``), 发布 done (``published``). Each case
copies one of them, does one hostile thing (an empty registry, a renamed column, a stale copy,
a formula typed into a cell, a list of another year …), runs one command and asserts, like
tests/test_consolidate_corpus.py: the exit code; a Chinese message with the case's words; no
traceback and no Python class name; the registry and 评定.xlsx unchanged, or changed exactly
as the case says; no live formula and no formula-like text without its quote prefix in any
workbook of the folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from master_sheets import formula_problems
from openpyxl import load_workbook
from openpyxl.utils import range_boundaries
from stage_bases import REG, TEXT, WB, C, Y, edit, excluded_ids, reviewed_ids, rows_of, saq, table

from xl_addin import registry as regmod

TRACEBACK = re.compile(r"Traceback|\b[A-Z][A-Za-z]+(?:Error|Exception)\b")
CHINESE = re.compile("[\u4e00-\u9fff]")
SQLITE_MAGIC = b"SQLite format 3\x00"


@pytest.fixture(scope="module")
def memo_collect():
    """The expert review is read once per review folder's content: every case runs on a copy
    of the same 专家评审 folder (its reading is tested in test_review_collect.py)."""
    from xl_addin.review import collect as mod
    real, memo = mod.collect, {}

    def cached(folder, campaign, publication_start=None, skip=()):
        files = sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                       for p in Path(folder).rglob("*") if p.is_file())
        key = (tuple(files), campaign.year, publication_start)
        if key not in memo:
            memo[key] = real(folder, campaign, publication_start, skip)
        return memo[key]

    mod.collect = cached
    yield
    mod.collect = real


# ---------------------------------------------------------------------- the workbook
def reviewed_names(d):
    return [r["申请组织名称"] for r in rows_of(d / WB, "审定", "approval")
            if not str(r["依据"]).startswith("未参加专家评审")]


# ---------------------------------------------------------------------- the registry
def reg_state(p):
    """What the registry holds, as one digest (a file that is no registry: its bytes)."""
    p = Path(p)
    if not p.exists():
        return None
    data = p.read_bytes()
    if not data.startswith(SQLITE_MAGIC):
        return hashlib.sha256(data).hexdigest()
    db = sqlite3.connect(p.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        dump = "\n".join(db.iterdump())
    except sqlite3.DatabaseError:
        dump = data.hex()
    finally:
        db.close()
    return hashlib.sha256(dump.encode()).hexdigest()


def q(p, sql, *args):
    assert Path(p).exists()  # sqlite3.connect would make an empty file
    db = sqlite3.connect(p)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def decisions(p):
    return {(s, a, f): v for s, a, f, v in q(p, "SELECT stage, app_id, field, value FROM "
                                               "decisions WHERE year=?", Y)}


def audit(p):
    return q(p, "SELECT stage, app_id, field, old, new, who, reason FROM audit ORDER BY id")


# ---------------------------------------------------------------------- the bases, once
@pytest.fixture(scope="module")
def bases(tmp_path_factory, memo_collect):
    from conftest import shared_once
    from stage_bases import build_bases
    return shared_once(tmp_path_factory, "stage_bases", build_bases)


# ---------------------------------------------------------------------- the cases
# Each case: ``case_x(d)`` prepares the copy ``d`` and returns what to run and expect:
#   argv, rc, words (each in stdout + stderr), registry ("same", "changed" or a check
#   ``f(d, before)``), workbook ("same" — the default — or "rewritten"), check (more).
# ``BASE[case]`` names the base it starts from (default "staged").
BASE = {}


def base(name):
    def mark(fn):
        BASE[fn.__name__] = name
        return fn
    return mark


def case_registry_zero_bytes(d):
    """Issue 19 §1: an empty registry is not a new one."""
    (d / REG).write_bytes(b"")
    return dict(argv=["stage", "update", d / WB], rc=2, registry="same", workbook="same",
                words=["是空文件（0 字节）", "不会被当作新档案使用"],
                check=lambda d, out, err: (d / REG).stat().st_size == 0)


def case_registry_missing(d):
    (d / REG).unlink()
    return dict(argv=["stage", "update", d / WB], rc=2, registry="same", workbook="same",
                words=["找不到评价档案", "不会重新建立"],
                check=lambda d, out, err: not (d / REG).exists())


def case_workbook_moved_without_registry(d):
    """Issue 19 §1 / 18.7: 评定.xlsx moved alone; says where the registry was."""
    assert saq("stage", "update", d / WB)[0] == 0  # written here: it records this place
    (d / "别处").mkdir()
    shutil.copy2(d / WB, d / "别处" / WB)
    shutil.copytree(d / "专家评审", d / "别处" / "专家评审")
    return dict(argv=["stage", "update", d / "别处" / WB], rc=2, registry="same",
                words=["找不到评价档案", str(d / "别处" / REG), "上次在", str(d / REG),
                       f"--registry {d / REG}"],
                check=lambda d, out, err: not (d / "别处" / REG).exists())


def case_start_in_another_folder_with_the_workbook(d):
    """P8: `stage start` with an existing workbook never invents a registry."""
    (d / "别处").mkdir()
    shutil.copy2(d / WB, d / "别处" / WB)
    return dict(argv=["stage", "start", d / "专家评审", "-o", d / "别处" / WB], rc=2,
                registry="same", words=["找不到评价档案", "不会重新建立"],
                check=lambda d, out, err: not (d / "别处" / REG).exists())


def case_start_new_folder_says_it_creates(d):
    """P8: only `stage start` creates a registry, and says so."""
    return dict(argv=["stage", "start", d / "专家评审", "-o", d / "新" / WB], rc=0,
                registry="same", words=["已新建评价档案", str(d / "新" / REG)],
                check=lambda d, out, err: (d / "新" / REG).exists() and (d / "新" / WB).exists())


def case_registry_of_another_campaign(d):
    """A registry with another identity at the recorded place."""
    (d / REG).rename(d / "原档案.sqlite")
    with regmod.Registry(d / REG):
        pass
    return dict(argv=["stage", "update", d / WB], rc=2, registry="same", workbook="same",
                words=["不是 评定.xlsx 所用的评价档案", "--registry"])


def case_registry_newer_schema(d):
    db = sqlite3.connect(d / REG)
    db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    db.commit()
    db.close()
    return dict(argv=["stage", "update", d / WB], rc=2, registry="same", workbook="same",
                words=["由更新版本的程序建立", "档案版本 99", "请升级"])


def case_registry_is_text(d):
    (d / REG).write_text("姓名,等级\n", encoding="utf-8")
    return dict(argv=["stage", "update", d / WB], rc=2, registry="same", workbook="same",
                words=["不是评价档案", "不是 SQLite"])


def case_registry_foreign_sqlite(d):
    (d / REG).unlink()
    db = sqlite3.connect(d / REG)
    db.execute("CREATE TABLE t(x)")
    db.commit()
    db.close()
    return dict(argv=["stage", "update", d / WB], rc=2, registry="same", workbook="same",
                words=["不是评价档案", "没有档案的版本信息"])


def case_registry_restored_from_an_old_backup(d):
    """A registry older than the workbook (fewer generations) misses later decisions."""
    db = sqlite3.connect(d / REG)
    db.execute("UPDATE meta SET value='0' WHERE key='generation'")
    db.commit()
    db.close()
    return dict(argv=["stage", "update", d / WB], rc=2, registry="same", workbook="same",
                words=["比 评定.xlsx 旧", "旧备份"])


def case_registry_locked_by_another_writer(d):
    """One writer at a time: a live process holds the lock (pid 1 never exits)."""
    import socket
    regmod.lock_path(d / REG).write_text(json.dumps({
        "pid": 1, "user": "李敏", "os_user": "limin", "host": socket.gethostname(),
        "command": "saq stage update", "since": "2023-09-20 10:00:00"}, ensure_ascii=False),
        encoding="utf-8")
    return dict(argv=["stage", "update", d / WB], rc=2, registry="same", workbook="same",
                words=["正在被使用", "李敏", "进程 1", "saq stage update", "已等待", "锁文件"],
                patch={"LOCK_WAIT": 0.3})


def case_stale_lock_of_a_dead_process(d):
    import socket
    regmod.lock_path(d / REG).write_text(json.dumps({
        "pid": 999_999_999, "user": "李敏", "host": socket.gethostname()}), encoding="utf-8")
    return dict(argv=["stage", "update", d / WB], rc=0, registry="same", workbook="rewritten",
                words=["本次没有新的改动"],
                check=lambda d, out, err: not regmod.lock_path(d / REG).exists())


def case_sqlite_locked_without_lock_file(d):
    """Another program (no lock file) holds SQLite's lock: one line, nothing changed."""
    edit(d / WB, "合议", {1: {"合议理由": "这一条不会被记录"}})

    def hold():
        holder = sqlite3.connect(d / REG, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        return holder.close
    return dict(argv=["stage", "update", d / WB], rc=2, registry="same", workbook="same",
                words=["正被另一个程序使用", "未作任何改动"],
                patch={"BUSY_TIMEOUT": 0.3}, hold=hold)


def case_renamed_level_header(d):
    """Issue 19 §2: 审定等级 renamed is refused, not read as blank for every row."""
    wb = load_workbook(d / WB)
    ws, h, rng = table(wb, "审定", "approval")
    ws.cell(rng[0] - 1, h["审定等级"]).value = "审定等级（终）"
    wb.save(d / WB)
    return dict(argv=["stage", "update", d / WB], rc=2, registry="same", workbook="same",
                words=["“审定”工作表的“审定等级”列", "不见了", "--refresh"])


def case_deleted_reason_column(d):
    wb = load_workbook(d / WB)
    ws, h, _ = table(wb, "审定", "approval")
    ws.delete_cols(h["审定理由"])
    wb.save(d / WB)
    return dict(argv=["stage", "update", d / WB], rc=2, registry="same", workbook="same",
                words=["“审定理由”列", "不见了"])


def case_deleted_sheet(d):
    wb = load_workbook(d / WB)
    del wb["合议"]
    wb.save(d / WB)
    return dict(argv=["stage", "update", d / WB], rc=2, registry="same", workbook="same",
                words=["“合议”工作表的表格", "不见了"])


def case_table_made_a_range_and_header_renamed(d):
    wb = load_workbook(d / WB)
    ws, h, rng = table(wb, "合议", "deliberation")
    del ws.tables["deliberation"]
    ws.cell(rng[0] - 1, h["合议等级"]).value = "等级"
    wb.save(d / WB)
    return dict(argv=["stage", "update", d / WB], rc=2, registry="same", workbook="same",
                words=["“合议”工作表的“合议等级”列", "不见了"])


def case_deleted_meta_sheet(d):
    wb = load_workbook(d / WB)
    del wb["_meta"]
    wb.save(d / WB)
    return dict(argv=["stage", "update", d / WB], rc=2, registry="same", workbook="same",
                words=["不是评定工作簿"])


def case_deleted_hidden_sheets_keeps_the_edit(d):
    """Issue 19 §3: deleting the workbook's hidden sheets (the old `_shown`) loses nothing."""
    app = reviewed_ids(d / WB)[1]
    edit(d / WB, "审定", {app: {"审定理由": "改动在删除隐藏表之后仍被记录"}})
    wb = load_workbook(d / WB)
    for ws in list(wb.worksheets):
        if ws.sheet_state != "visible" and ws.title != "_meta":
            del wb[ws.title]
    wb.save(d / WB)
    return dict(argv=["stage", "update", d / WB], rc=0, registry="changed",
                workbook="rewritten", words=["本次记录 1 项改动"],
                check=lambda d, out, err: decisions(d / REG)[("审定", app, "审定理由")] ==
                "改动在删除隐藏表之后仍被记录")


def case_edit_in_a_computed_column(d):
    edit(d / WB, "合议", {0: {"评审得分": 99, "申请组织名称": "改过的名称"}})
    return dict(argv=["stage", "update", d / WB], rc=0, workbook="rewritten",
                words=["2 处计算列（非黄色列）被改动，未记录"],
                registry=lambda d, before: decisions(d / REG) == before["decisions"])


def case_row_with_an_unknown_id(d):
    wb = load_workbook(d / WB)
    ws, h, rng = table(wb, "审定", "approval")
    r = rng[-1] + 1
    ws.cell(r, h["申请编号"]).value = f"{Y}-999"
    ws.cell(r, h["审定等级"]).value = "用户满意标杆"
    wb.save(d / WB)
    return dict(argv=["stage", "update", d / WB], rc=0, workbook="rewritten",
                words=[f"申请编号“{Y}-999”不是本次评审的申请，该行未记录"],
                registry=lambda d, before: decisions(d / REG) == before["decisions"])


def case_row_of_another_sheet(d):
    """An application copied into 现场评审, which does not list it."""
    other = excluded_ids(d / WB)[-1]
    wb = load_workbook(d / WB)
    ws, h, rng = table(wb, "合议", "deliberation")
    r = rng[-1] + 1
    ws.cell(r, h["申请编号"]).value = other
    ws.cell(r, h["合议等级"]).value = "用户满意"
    wb.save(d / WB)
    return dict(argv=["stage", "update", d / WB], rc=0, workbook="rewritten",
                words=[f"申请编号“{other}”不在此工作表列出的申请中"],
                registry=lambda d, before: decisions(d / REG) == before["decisions"])


def case_duplicated_rows_that_differ(d):
    app = reviewed_ids(d / WB)[2]
    wb = load_workbook(d / WB)
    ws, h, rng = table(wb, "审定", "approval")
    src = next(r for r in rng if ws.cell(r, h["申请编号"]).value == app)
    r = rng[-1] + 1
    for c in h.values():
        ws.cell(r, c).value = ws.cell(src, c).value
    ws.cell(src, h["审定等级"]).value = "用户满意"
    ws.cell(r, h["审定等级"]).value = "用户满意标杆"
    wb.save(d / WB)
    return dict(argv=["stage", "update", d / WB], rc=0, workbook="rewritten",
                words=[f"是同一申请 {app}", "内容不同，均未采纳"],
                registry=lambda d, before: decisions(d / REG) == before["decisions"])


def case_duplicated_rows_alike(d):
    app = reviewed_ids(d / WB)[2]
    wb = load_workbook(d / WB)
    ws, h, rng = table(wb, "审定", "approval")
    src = next(r for r in rng if ws.cell(r, h["申请编号"]).value == app)
    ws.cell(src, h["审定理由"]).value = "重复行中的理由"
    r = rng[-1] + 1
    for c in h.values():
        ws.cell(r, c).value = ws.cell(src, c).value
    wb.save(d / WB)
    return dict(argv=["stage", "update", d / WB], rc=0, workbook="rewritten",
                words=["重复行，按一行处理", "本次记录 1 项改动"], registry="changed",
                check=lambda d, out, err: [a for a in audit(d / REG)
                                           if a[1] == app and a[2] == "审定理由"] ==
                [("审定", app, "审定理由", "", "重复行中的理由", regmod.current_user(), "")])


def case_deleted_row(d):
    app = reviewed_ids(d / WB)[0]
    wb = load_workbook(d / WB)
    ws, h, rng = table(wb, "审定", "approval")
    ws.delete_rows(next(r for r in rng if ws.cell(r, h["申请编号"]).value == app))
    wb.save(d / WB)
    return dict(argv=["stage", "update", d / WB], rc=0, workbook="rewritten",
                words=["缺少 1 项申请的行", "决定保持不变"],
                registry=lambda d, before: decisions(d / REG) == before["decisions"])


def case_formula_typed_by_staff(d):
    """Issue 19 §6: staff text starting with = stays text, and is recorded once."""
    edit(d / WB, "合议", {1: {"合议理由": TEXT("=HYPERLINK(\"http://x\",\"点我\")")}})
    edit(d / WB, "审定", {reviewed_ids(d / WB)[1]: {"审定理由": TEXT("+1+1")}})

    def again(d, out, err):
        rc, out2, _ = saq("stage", "update", d / WB)
        return rc == 0 and "本次没有新的改动。" in out2
    return dict(argv=["stage", "update", d / WB], rc=0, registry="changed",
                workbook="rewritten", words=["本次记录 2 项改动"], check=again)


def case_control_characters_typed(d):
    """Issue 19 §10: CR and ESC never reach the terminal raw."""
    edit(d / WB, "合议", {1: {"合议等级": "用户满意_x000D__x001B_[2J审定通过"}})  # CR, ESC
    return dict(argv=["stage", "update", d / WB], rc=0, workbook="rewritten",
                words=["\\x0D", "\\x1B", "无法识别"], registry="changed",
                check=lambda d, out, err: "\r" not in out + err and "\x1b" not in out + err)


def case_unreadable_level(d):
    app = reviewed_ids(d / WB)[1]
    edit(d / WB, "审定", {app: {"审定等级": "八星"}})

    def shown(d, out, err):
        row = next(r for r in rows_of(d / WB, "审定", "approval") if r["申请编号"] == app)
        return "“八星”" in row["未采纳的改动"] and row["审定等级"] != "八星"
    return dict(argv=["stage", "update", d / WB], rc=0, workbook="rewritten",
                words=["“审定等级”改为“八星”未采纳", "无法识别"], check=shown,
                registry=lambda d, before: decisions(d / REG) == before["decisions"] and
                ("审定", app, "审定等级（未采纳）") in {a[:3] for a in audit(d / REG)})


def case_override_without_reason(d):
    app = excluded_ids(d / WB)[1]
    edit(d / WB, "审定", {app: {"审定等级": "用户满意亮诺"}})  # within every cap (P1)
    return dict(argv=["stage", "update", d / WB], rc=0, workbook="rewritten",
                words=["推翻自动排除须在审定理由中写明理由（所推翻的问题：", "未采纳（P2）"],
                registry=lambda d, before: decisions(d / REG) == before["decisions"])


def case_bad_onsite_date(d):
    rows = rows_of(d / WB, "现场评审", "onsite_results") if "onsite_results" in \
        load_workbook(d / WB)["现场评审"].tables else []
    if not rows:
        return case_unreadable_level(d)
    edit(d / WB, "现场评审", {0: {"现场评审日期": "明天上午"}})
    return dict(argv=["stage", "update", d / WB], rc=0, workbook="rewritten",
                words=["“现场评审日期”改为“明天上午”未采纳"],
                registry=lambda d, before: decisions(d / REG) == before["decisions"])


def _stale(d):
    """A copy of 评定.xlsx taken now; then a decision in the real one."""
    shutil.copy2(d / WB, d / "副本.xlsx")
    app = reviewed_ids(d / WB)[1]
    edit(d / WB, "审定", {app: {"审定等级": C.no_level, "审定理由": "审定会议决定"}})
    rc, out, err = saq("stage", "update", d / WB, "--by", "施卫丹")
    assert rc == 0 and "本次记录 2 项改动" in out, (out, err)
    return app


def case_stale_copy_with_a_conflict(d):
    """Issue 19 §4: a stale copy never overrides a newer decision."""
    app = _stale(d)
    edit(d / "副本.xlsx", "审定", {app: {"审定等级": C.no_level, "审定理由": "我的理由"}})
    return dict(argv=["stage", "update", d / "副本.xlsx", "--by", "李敏"], rc=1, registry="same",
                words=["是旧副本", f"冲突：审定 {app}", "审定理由：此副本改为“我的理由”",
                       "档案当前为“审定会议决定”", "施卫丹", "1 处改动与档案当前的值不同",
                       "未记录任何内容", "--refresh"],
                check=lambda d, out, err: decisions(d / REG)[("审定", app, "审定理由")] ==
                "审定会议决定")


def case_stale_copy_without_a_conflict(d):
    _stale(d)
    return dict(argv=["stage", "update", d / "副本.xlsx"], rc=0, registry="same",
                words=["是旧副本", "没有与评价档案不同的改动", "已按档案"])


def case_stale_copy_refreshed(d):
    app = _stale(d)
    edit(d / "副本.xlsx", "审定", {app: {"审定理由": "我的理由"}})
    return dict(argv=["stage", "update", d / "副本.xlsx", "--refresh"], rc=0,
                words=["已按评价档案重写", "放弃其中 1 处未记录的改动"],
                registry=lambda d, before: decisions(d / REG) == before["decisions"] and
                audit(d / REG)[-1][:3] == ("工作簿", None, "按评价档案重写"))


def case_workbook_open_in_excel(d):
    (d / ("~$" + WB)).write_bytes(b"\x05limin" + bytes(100))
    edit(d / WB, "合议", {1: {"合议理由": "打开时保存的改动"}})
    return dict(argv=["stage", "update", d / WB], rc=1, registry="same", workbook="same",
                words=["正在 Excel、WPS 或 LibreOffice 中打开", "~$评定.xlsx"])


def case_workbook_open_in_libreoffice(d):
    (d / f".~lock.{WB}#").write_text("limin,host,2023", encoding="utf-8")
    return dict(argv=["stage", "update", d / WB], rc=1, registry="same", workbook="same",
                words=["正在 Excel、WPS 或 LibreOffice 中打开"])


def case_killed_runs_temporary_file(d):
    (d / ".saq-999999999-ab12cd34-评定.xlsx").write_bytes(b"half a workbook")
    return dict(argv=["stage", "update", d / WB], rc=0, registry="same", workbook="rewritten",
                words=["已清理上次中断的运行留下的临时文件 1 个"],
                check=lambda d, out, err: not list(d.glob(".saq-*")))


def case_workbook_zero_bytes(d):
    (d / WB).write_bytes(b"")
    return dict(argv=["stage", "update", d / WB], rc=2, registry="same", workbook="same",
                words=["无法读取文件"])


def case_workbook_is_text(d):
    (d / WB).write_text("合议等级\n五星\n", encoding="utf-8")
    return dict(argv=["stage", "update", d / WB], rc=2, registry="same", workbook="same",
                words=["无法读取文件"])


def case_workbook_of_another_year(d):
    wb = load_workbook(d / WB)
    ws = wb["_meta"]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == "campaign_year":
            row[1].value = Y - 1
    wb.save(d / WB)
    return dict(argv=["stage", "update", d / WB], rc=2, registry="same", workbook="same",
                words=[f"评定工作簿属于 {Y - 1} 年活动"])


def case_backups_kept_five(d):
    for i in range(7):
        (d / f"评定_备份_2000010{i}_000000.xlsx").write_bytes(b"old")

    def five(d, out, err):
        backups = sorted(d.glob("评定_备份_*.xlsx"))
        return len(backups) == 5 and backups[-1].read_bytes()[:2] == b"PK"
    return dict(argv=["stage", "update", d / WB], rc=0, registry="same", workbook="rewritten",
                words=["本次没有新的改动"], check=five)


# -- P5: 公示, then 发布, then frozen
def case_publish_without_publicity(d):
    return dict(argv=["stage", "publish", d / WB, "--date", f"{Y}-09-28", "--no-pdf"], rc=1,
                registry="same", workbook="same", words=["尚未公示，不能发布", "规则 P5"],
                check=lambda d, out, err: not list(d.glob("发布名单.*")))


@base("publicized")
def case_publish_on_the_last_day_of_publicity(d):
    return dict(argv=["stage", "publish", d / WB, "--date", f"{Y}-09-24", "--no-pdf"], rc=1,
                registry="same", workbook="same",
                words=[f"发布日期 {Y}-09-24 不在公示期结束之后", f"公示期为 {Y}-09-18 至 {Y}-09-24",
                       f"最早为 {Y}-09-25", "规则 P5"],
                check=lambda d, out, err: not list(d.glob("发布名单.*")))


@base("publicized")
def case_publish_before_publicity(d):
    return dict(argv=["stage", "publish", d / WB, "--date", f"{Y}-09-01", "--no-pdf"], rc=1,
                registry="same", workbook="same", words=["不在公示期结束之后"],
                check=lambda d, out, err: not list(d.glob("发布名单.*")))


@base("publicized")
def case_publish_without_libreoffice(d):
    """Issue 19 §5: no PDF, no 发布 — the registry does not say "published"."""
    from xl_addin.forms import pdf
    return dict(argv=["stage", "publish", d / WB, "--date", f"{Y}-09-28"], rc=1,
                registry="same", workbook="same", words=["PDF 无法生成", "本次未发布", "--no-pdf"],
                patch={(pdf, "soffice"): lambda: None},
                check=lambda d, out, err: not list(d.glob("发布名单.*")) and
                not list(d.glob(".saq-*")))


@base("publicized")
def case_publish_while_the_list_is_open(d):
    (d / "~$发布名单.docx").write_bytes(b"\x05limin")
    return dict(argv=["stage", "publish", d / WB, "--date", f"{Y}-09-28", "--no-pdf"], rc=2,
                registry="same", workbook="same", words=["文件正在被打开", "本次未作任何改动"],
                check=lambda d, out, err: not list(d.glob("发布名单.*")))


@base("publicized")
def case_publish(d):
    def published(d, out, err):
        ds = decisions(d / REG)
        return ds[("发布", "*", "发布日期")] == f"{Y}-09-28" and (d / "发布名单.docx").exists() \
            and q(d / REG, "SELECT COUNT(*) FROM results WHERE year=?", Y)[0][0] > 0
    return dict(argv=["stage", "publish", d / WB, "--date", f"{Y}-09-28", "--no-pdf"], rc=0,
                registry="changed", workbook="rewritten", words=["已生成：", "发布名单.docx"],
                check=published)


@base("published")
def case_frozen_edit_is_refused(d):
    """P5 / 18.7: after 发布 a 审定 change is refused and audited as 未采纳."""
    app = reviewed_ids(d / WB)[1]
    edit(d / WB, "审定", {app: {"审定等级": C.no_level, "审定理由": "发布后降级"}})

    def refused(d, out, err):
        row = next(r for r in rows_of(d / WB, "审定", "approval") if r["申请编号"] == app)
        return "发布，已冻结" in row["未采纳的改动"] and row["审定等级"] != C.no_level
    return dict(argv=["stage", "update", d / WB], rc=0, workbook="rewritten",
                words=[f"本年度结果已于 {Y}-09-28 发布，已冻结（规则 P5）：工作簿中的 2 处改动未采纳",
                       "saq stage reopen"], check=refused,
                registry=lambda d, before: decisions(d / REG) == before["decisions"] and
                [a[2] for a in audit(d / REG)[-2:]] == ["审定等级（未采纳）", "审定理由（未采纳）"])


@base("published")
def case_frozen_start_with_a_downgrade(d):
    app = reviewed_ids(d / WB)[1]
    edit(d / WB, "审定", {app: {"审定等级": C.no_level}})
    return dict(argv=["stage", "start", d / "专家评审", "-o", d / WB], rc=0,
                workbook="rewritten", words=["已冻结（规则 P5）"],
                registry=lambda d, before: decisions(d / REG) == before["decisions"])


@base("published")
def case_frozen_publish_on_another_day(d):
    return dict(argv=["stage", "publish", d / WB, "--date", f"{Y}-10-08", "--no-pdf"], rc=1,
                registry="same", workbook="same", words=["已冻结", "saq stage reopen"])


@base("published")
def case_frozen_new_publicity_window(d):
    return dict(argv=["stage", "publicize", d / WB, "--start", f"{Y}-09-20", "--no-pdf"], rc=1,
                registry="same", workbook="same", words=["已冻结", "不能改公示期"])


@base("published")
def case_reopen_then_change(d):
    app = reviewed_ids(d / WB)[1]

    def after(d, out, err):
        edit(d / WB, "审定", {app: {"审定等级": C.no_level, "审定理由": "复核后降级"}})
        rc, out2, err2 = saq("stage", "update", d / WB)
        return rc == 0 and decisions(d / REG)[("审定", app, "审定等级")] == C.no_level
    return dict(argv=["stage", "reopen", d / WB, "--reason", "收到复核申请", "--by", "施卫丹"],
                rc=0, registry="changed", workbook="rewritten",
                words=["本次记录 1 项改动", f"发布日期：“{Y}-09-28” → “（空）”"], check=after)


def case_reopen_before_publishing(d):
    return dict(argv=["stage", "reopen", d / WB, "--reason", "试试"], rc=1, registry="same",
                workbook="same", words=["尚未发布"])


# -- P7: history import
def _history(d):
    return next(d.glob(f"发布名单_{Y - 1}.xlsx"))


def case_history_of_another_year(d):
    """18.6: the 2022 list with --year 2021 is refused."""
    return dict(argv=["history", "import", _history(d), "--year", Y - 2, "--registry", d / REG],
                rc=2, registry="same", words=[f"名单写明是 {Y - 1} 年", f"--year {Y - 2} 不符",
                                              "规则 P7"])


def case_history_title_states_the_year(d):
    (d / "网站名单.csv").write_text(f"{Y - 3}年用户满意名单\n统一社会信用代码,企业名称,申请类别,等级\n"
                                    f"91310000000000001X,甲公司,服务类,用户满意\n",
                                    encoding="utf-8")
    return dict(argv=["history", "import", d / "网站名单.csv", "--year", Y - 1, "--registry",
                      d / REG], rc=2, registry="same",
                words=[f"名单写明是 {Y - 3} 年（标题“{Y - 3}年用户满意名单”）"])


def _changed_history(d):
    wb = load_workbook(_history(d))
    ws = wb.active
    t = next(iter(ws.tables.values()))
    c1, r1, c2, r2 = range_boundaries(t.ref)
    head = {ws.cell(r1, c).value: c for c in range(c1, c2 + 1)}
    old = ws.cell(r1 + 1, head["等级"]).value
    new = next(lv.name for lv in C.levels if lv.name != old)
    ws.cell(r1 + 1, head["等级"]).value = new
    name = ws.cell(r1 + 1, head["企业名称"]).value
    wb.save(d / "改过的名单.xlsx")
    return old, new, name


def case_history_over_a_held_year(d):
    """P7: a changed list of a year already held shows the change and needs --replace."""
    old, new, name = _changed_history(d)
    return dict(argv=["history", "import", d / "改过的名单.xlsx", "--year", Y - 1, "--registry",
                      d / REG], rc=1, registry="same",
                words=[f"变更：{name}", f"“{old}” → “{new}”", "--replace", "未导入任何内容"])


def case_history_replace(d):
    old, new, name = _changed_history(d)
    return dict(argv=["history", "import", d / "改过的名单.xlsx", "--year", Y - 1, "--registry",
                      d / REG, "--replace"], rc=0, registry="changed", words=["等级变更 1 项"],
                check=lambda d, out, err: [a[3:5] for a in audit(d / REG) if a[2] == "等级"][-1]
                == (old, new))


def case_history_same_list_again(d):
    return dict(argv=["history", "import", _history(d), "--year", Y - 1, "--registry", d / REG],
                rc=0, words=["新增 0 项", "等级变更 0 项"],
                registry=lambda d, before: q(d / REG, "SELECT COUNT(*) FROM results")
                == before["results"])


def case_history_csv_too_many_rows(d):
    from xl_addin.review import history
    lines = "".join(f"9131000000000{i:05d},公司{i},服务类,用户满意\n" for i in range(60))
    (d / "大名单.csv").write_text("统一社会信用代码,企业名称,申请类别,等级\n" + lines, encoding="utf-8")
    return dict(argv=["history", "import", d / "大名单.csv", "--year", Y - 2, "--registry", d / REG],
                rc=2, registry="same", words=["超过 50 行上限", "未导入任何内容"],
                patch={(history, "MAX_ROWS"): 50})


def case_history_csv_too_big(d):
    from xl_addin.review import history
    (d / "大文件.csv").write_bytes(b"x" * 5000)
    return dict(argv=["history", "import", d / "大文件.csv", "--year", Y - 2, "--registry",
                      d / REG], rc=2, registry="same", words=["超出", "上限"],
                patch={(history, "MAX_BYTES"): 4096})


def case_history_without_codes_is_matched_by_name(d):
    """P7: the association's website list (no codes) goes to a sheet staff confirm."""
    names = reviewed_names(d)[:2]
    (d / "网站名单.csv").write_text(
        "企业名称,申请类别,等级\n" + f"{names[0]},服务类,用户满意\n{names[1]}（上海）,服务类,用户满意\n"
        "=HYPERLINK(\"http://x\"),服务类,用户满意\n", encoding="utf-8")

    def sheet(d, out, err):
        rows = rows_of(d / "网站名单_名称匹配.xlsx", "名称匹配", "name_match")
        return [r["匹配情况"] for r in rows][0] == "名称完全一致" and rows[0]["确认"] == "是" \
            and rows[0]["统一社会信用代码"] and not rows[2]["确认"]
    return dict(argv=["history", "import", d / "网站名单.csv", "--year", Y - 2, "--registry",
                      d / REG], rc=0, registry="same",
                words=["名单没有统一社会信用代码", "网站名单_名称匹配.xlsx", "尚未导入任何内容"],
                check=sheet)


def case_history_confirmed_match_sheet(d):
    names = reviewed_names(d)[:2]
    (d / "网站名单.csv").write_text("企业名称,申请类别,等级\n" + "".join(
        f"{n},服务类,用户满意\n" for n in names), encoding="utf-8")
    rc, out, err = saq("history", "import", d / "网站名单.csv", "--year", Y - 2, "--registry",
                       d / REG)
    assert rc == 0, err
    edit_match = load_workbook(d / "网站名单_名称匹配.xlsx")
    ws = edit_match["名称匹配"]
    ws.cell(6, 8).value = "否"  # the second row not confirmed
    edit_match.save(d / "网站名单_名称匹配.xlsx")
    return dict(argv=["history", "import", d / "网站名单_名称匹配.xlsx", "--year", Y - 2,
                      "--registry", d / REG], rc=0, registry="changed",
                words=["新增 1 项", "“确认”列不是“是”，未导入"],
                check=lambda d, out, err: q(d / REG, "SELECT COUNT(*) FROM results WHERE year=?",
                                            Y - 2) == [(1,)])


# -- the audit chain
def case_verify_intact(d):
    n = len(audit(d / REG))
    return dict(argv=["history", "verify", "--registry", d / REG], rc=0, registry="same",
                words=[f"审计记录完整：评价档案 {d / REG} 共 {n} 条审计记录"])


def _tamper(d, sql):
    db = sqlite3.connect(d / REG)
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("DROP TRIGGER audit_no_delete")
    db.execute(sql)
    db.commit()
    db.close()


def case_verify_changed_row(d):
    _tamper(d, "UPDATE audit SET new='用户满意标杆' WHERE id=3")
    return dict(argv=["history", "verify", "--registry", d / REG], rc=1, registry="same",
                words=["审计记录在第 3 条断开（编号 3，", "在程序之外被改动或删除"])


def case_verify_deleted_row(d):
    _tamper(d, "DELETE FROM audit WHERE id=2")
    return dict(argv=["history", "verify", "--registry", d / REG], rc=1, registry="same",
                words=["审计记录在第 2 条断开（编号 3，"])


def case_verify_truncated(d):
    _tamper(d, "DELETE FROM audit WHERE id=(SELECT MAX(id) FROM audit)")
    return dict(argv=["history", "verify", "--registry", d / REG], rc=1, registry="same",
                words=["审计记录不完整", "最后 1 条在程序之外被删除"])


def case_audit_export(d):
    n = len(audit(d / REG))
    return dict(argv=["history", "audit", "--registry", d / REG, "-o", d / "审计.xlsx"], rc=0,
                registry="same", words=[f"已导出审计记录 {n} 条"],
                check=lambda d, out, err: len(rows_of_plain(d / "审计.xlsx")) == n)


def rows_of_plain(path):
    ws = load_workbook(path)["审计记录"]
    return list(ws.iter_rows(min_row=2, values_only=True))


CASES = [v for k, v in sorted(globals().items(), key=lambda kv: kv[0])
         if k.startswith("case_") and callable(v)]


def test_at_least_forty_kinds():
    assert len(CASES) >= 40


def _apply_patch(patch, stack):
    for target, value in (patch or {}).items():
        obj, name = (regmod, target) if isinstance(target, str) else target
        old = getattr(obj, name)
        setattr(obj, name, value)
        stack.callback(setattr, obj, name, old)


OURS = ("评定", "副本", "公示名单", "发布名单", "审计", "网站名单", "改过的名单")


@pytest.mark.parametrize("make", CASES, ids=[c.__name__[5:] for c in CASES])
def test_stage_case(bases, tmp_path, make, monkeypatch):
    d = tmp_path / "campaign"
    shutil.copytree(bases[BASE.get(make.__name__, "staged")], d)
    monkeypatch.chdir(d)
    exp = make(d)
    before = {"registry": reg_state(d / REG),
              "workbook": (d / WB).read_bytes() if (d / WB).exists() else None}
    if _is_registry(d / REG):
        before["decisions"] = decisions(d / REG)
        before["results"] = q(d / REG, "SELECT COUNT(*) FROM results")
    with contextlib.ExitStack() as stack:
        _apply_patch(exp.get("patch"), stack)
        if exp.get("hold"):  # something held while the command runs
            stack.callback(exp["hold"]())
        rc, out, err = saq(*exp["argv"])
    text = out + err
    assert not TRACEBACK.search(text), text
    assert "程序内部错误" not in text, text
    assert CHINESE.search(err or out), (out, err)
    assert rc == exp["rc"], (out, err)
    if err:
        assert err.startswith("错误：") and err.count("\n") == 1, err  # one line
    for w in exp["words"]:
        assert w in text, (w, out, err)
    want = exp.get("registry")
    if want == "same":
        assert reg_state(d / REG) == before["registry"]
    elif want == "changed":
        assert reg_state(d / REG) != before["registry"]
    elif callable(want):
        assert want(d, before)
    got = (d / WB).read_bytes() if (d / WB).exists() else None
    if exp.get("workbook", "same") == "same":  # unless the case says it is rewritten
        assert got == before["workbook"]
    elif exp.get("workbook") == "rewritten":
        assert got != before["workbook"]
    for book in sorted(d.rglob("*.xlsx")):
        if book.name.startswith(OURS) and "_备份_" not in book.name \
                and book.read_bytes()[:2] == b"PK":  # a backup is the user's file, as it was
            assert formula_problems(book) == [], book.name
    if exp.get("check"):
        assert exp["check"](d, out, err), (out, err)


def _is_registry(p):
    if not Path(p).exists() or Path(p).read_bytes()[:16] != SQLITE_MAGIC:
        return False
    try:
        return bool(q(p, "SELECT 1 FROM sqlite_master WHERE name='decisions'"))
    except sqlite3.DatabaseError:
        return False


def test_the_bases_hold_what_the_cases_assume(bases):
    """The staged base has decisions of 合议 and 审定 (one an override of an exclusion), the
    published one a frozen 发布 with this year's results."""
    d = decisions(bases["staged"] / REG)
    assert {s for s, _, _ in d} >= {"合议", "审定"}
    assert any(f == "审定等级" for s, _, f in d if s == "审定")
    p = decisions(bases["published"] / REG)
    assert p[("发布", "*", "发布日期")] == f"{Y}-09-28"
    assert os.path.exists(bases["published"] / "发布名单.docx")
