"""Issue 12 beyond the corpus: staff notes are precious, races, entries that cannot be
opened, stale files of a killed run, clean shutdown and a CLI that speaks Chinese.

Each test runs consolidation on a folder of two or three files (fast).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from master_sheets import sheet

from xl_addin import cli, demo
from xl_addin.consolidate import consolidate, walk
from xl_addin.consolidate.output import backup, lock_path
from xl_addin.consolidate.staff import StaffColumnsMissing
from xl_addin.files import display_name
from xl_addin.rules.campaign import load

C = load(2023)
ROOT = Path(__file__).resolve().parent.parent


def write_app(path, seed, **changes):
    a = demo.application(C, random.Random(seed), seed, "服务类", demo.RECOMMENDERS[0])
    a.values.update(changes)
    demo.write_plain_application(path, {k: v for k, v in a.values.items() if v is not None},
                            a.respondents, C)
    return a


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    write_app(d / "a.xlsx", 1, project_name="甲项目")
    write_app(d / "b.xlsx", 2, project_name="乙项目")
    return d


def write_notes(master, notes):
    """Type notes into 汇总 as a person would in Excel: {来源文件: (审定意见, 备注)}."""
    from openpyxl import load_workbook
    wb = load_workbook(master)
    ws = wb["汇总"]
    head = [c.value for c in ws[1]]
    isrc, iop, inote = (head.index(h) + 1 for h in ("来源文件", "审定意见", "备注"))
    for r in range(2, ws.max_row + 1):
        got = notes.get(ws.cell(r, isrc).value)
        if got:
            ws.cell(r, iop).value, ws.cell(r, inote).value = got
    wb.save(master)


def notes_of(master):
    return {r["来源文件"]: (r["审定意见"], r["备注"]) for r in sheet(master, "汇总")}


# ---------------------------------------------------------------------- staff notes
def test_notes_follow_a_corrected_key_and_unmatched_ones_are_kept(folder, tmp_path):
    master = tmp_path / "m.xlsx"
    consolidate(folder, master, C, progress=False, workers=1)
    # A note pasted from Word carries a vertical tab: saved by Excel as _x000B_.
    write_notes(master, {"a.xlsx": ("同意", "已电话核实_x000B_第二段"), "b.xlsx": ("退回", "缺盖章")})
    write_app(folder / "a.xlsx", 1, project_name="甲项目（更正）")  # the key changes
    res = consolidate(folder, master, C, progress=False, workers=1)
    got = notes_of(master)
    assert got["a.xlsx"] == ("同意", "已电话核实\\x0B第二段")  # by source file, made visible
    assert got["b.xlsx"] == ("退回", "缺盖章")  # by key
    assert any("“备注”含表格不能保存的控制字符" in m for m in res.messages)
    # The applicant withdraws b: its note is listed, not dropped, run after run.
    (folder / "b.xlsx").unlink()
    for _ in range(2):
        res = consolidate(folder, master, C, progress=False, workers=1)
        kept = sheet(master, "未匹配备注")
        assert [(r["来源文件"], r["审定意见"], r["备注"]) for r in kept] == \
            [("b.xlsx", "退回", "缺盖章")]
        assert any("未匹配备注" in m for m in res.messages)
    assert notes_of(master)["a.xlsx"] == ("同意", "已电话核实\\x0B第二段")
    # Every run backed up the previous master.
    assert len(list(tmp_path.glob("m_备份_*.xlsx"))) >= 1


@pytest.mark.parametrize("gone", ["申请键", "来源文件", "备注"])
def test_master_without_key_columns_is_refused_and_left_unchanged(folder, tmp_path, gone):
    master = tmp_path / "m.xlsx"
    consolidate(folder, master, C, progress=False, workers=1)
    write_notes(master, {"a.xlsx": ("同意", "重要")})
    from openpyxl import load_workbook
    wb = load_workbook(master)
    ws = wb["汇总"]
    for c in ws[1]:
        if c.value == gone:
            c.value = gone + "（改）"
    wb.save(master)
    before = master.read_bytes()
    with pytest.raises(StaffColumnsMissing) as e:
        consolidate(folder, master, C, progress=False, workers=1)
    assert f"缺少 “{gone}” 列" in str(e.value) and "本次没有改动汇总表" in str(e.value)
    assert master.read_bytes() == before
    assert not lock_path(master).exists()
    assert cli.main(["consolidate", str(folder), "-o", str(master), "-q"]) == 1
    assert master.read_bytes() == before


def test_backups_keep_the_last_five(tmp_path):
    master = tmp_path / "汇总表.xlsx"
    master.write_bytes(b"x")
    for k in range(7):
        backup(master, dt.datetime(2023, 7, 1, 12, 0, k))
    kept = sorted(p.name for p in tmp_path.glob("汇总表_备份_*.xlsx"))
    assert kept == [f"汇总表_备份_20230701_1200{k:02d}.xlsx" for k in range(2, 7)]


# ---------------------------------------------------------------------- races
def test_a_file_deleted_during_the_run_is_listed(folder, tmp_path, monkeypatch):
    real = walk.fastread.probe

    def probe(p):
        if Path(p).name == "a.xlsx":
            os.unlink(p)  # gone between listing and reading
        return real(p)

    monkeypatch.setattr(walk.fastread, "probe", probe)
    res = consolidate(folder, tmp_path / "m.xlsx", C, progress=False, workers=1)
    files = {f["文件"]: f for f in sheet(tmp_path / "m.xlsx", "文件清单")}
    assert files["a.xlsx"]["状态"] == "已拒收"
    assert "在汇总过程中被删除" in files["a.xlsx"]["原因/说明"]
    assert files["b.xlsx"]["状态"] == "已导入" and len(res.entries) == 1


def test_a_file_changed_during_the_run_is_listed(folder, tmp_path, monkeypatch):
    real = walk.fastread.probe

    def probe(p):
        if Path(p).name == "b.xlsx":
            write_app(p, 3)  # replaced by the sender while we read
            os.utime(p, ns=(1, 1))
        return real(p)

    monkeypatch.setattr(walk.fastread, "probe", probe)
    consolidate(folder, tmp_path / "m.xlsx", C, progress=False, workers=1)
    files = {f["文件"]: f for f in sheet(tmp_path / "m.xlsx", "文件清单")}
    assert files["b.xlsx"]["状态"] == "已拒收"
    assert "在汇总过程中被修改" in files["b.xlsx"]["原因/说明"]


def test_a_folder_that_cannot_be_opened_is_listed(folder, tmp_path, monkeypatch):
    (folder / "私密").mkdir()
    write_app(folder / "私密" / "c.xlsx", 4)
    real = os.scandir

    def scandir(p="."):
        if str(p).endswith("私密"):
            raise PermissionError(13, "Permission denied", str(p))
        return real(p)

    monkeypatch.setattr(os, "scandir", scandir)
    consolidate(folder, tmp_path / "m.xlsx", C, progress=False, workers=1)
    files = {f["文件"]: f for f in sheet(tmp_path / "m.xlsx", "文件清单")}
    assert files["私密"]["状态"] == "已拒收"
    assert files["私密"]["原因/说明"] == ("无法打开文件夹（没有权限（Permission denied）），"
                                       "其中的文件未读取；请检查权限后重新汇总")
    rej = [r for r in sheet(tmp_path / "m.xlsx", "拒收") if r["文件"] == "私密"]
    assert rej and rej[0]["范围"] == "整个文件"


# ---------------------------------------------------------------------- a killed run
def test_stale_temp_files_and_lock_of_a_killed_run_are_removed(folder, tmp_path):
    master = tmp_path / "m.xlsx"
    stale = tmp_path / ".saq-999999999-k1l2.xlsx"  # no such process
    stale.write_bytes(b"half a workbook")
    live = tmp_path / f".saq-{os.getpid()}-abcd.xlsx"  # a live writer's: kept
    live.write_bytes(b"being written")
    lock_path(master).write_text("pid=999999999 start=2023-07-01 00:00:00")
    res = consolidate(folder, master, C, progress=False, workers=1)
    assert not stale.exists() and live.exists() and not lock_path(master).exists()
    assert "已清理上次中断的汇总留下的临时文件 1 个。" in res.messages
    assert res.written_to == master


# ---------------------------------------------------------------------- the CLI
def saq(*args, limit_bytes=None, shell=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8")

    def limit():
        if limit_bytes:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    cmd = shell or [sys.executable, "-m", "xl_addin", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, env=env, preexec_fn=limit, timeout=120,
                          shell=bool(shell))


def test_empty_folder_is_a_clear_message_and_exit_1(tmp_path, capsys):
    (tmp_path / "空").mkdir()
    code = cli.main(["consolidate", str(tmp_path / "空"), "-o", str(tmp_path / "m.xlsx"), "-q"])
    assert code == 1
    assert capsys.readouterr().err == (
        f"错误：文件夹 {tmp_path / '空'} 中没有任何文件，未生成汇总表；"
        "请确认文件夹是否选对，或先把推荐表和申请书放进去。\n")
    assert not (tmp_path / "m.xlsx").exists()


def test_output_naming_a_folder_writes_the_master_inside(folder, tmp_path, capsys):
    (tmp_path / "结果").mkdir()
    assert cli.main(["consolidate", str(folder), "-o", str(tmp_path / "结果"), "-q"]) == 0
    assert (tmp_path / "结果" / "汇总表.xlsx").exists()
    assert not (tmp_path / "结果.xlsx").exists()
    assert f"汇总表：{tmp_path / '结果' / '汇总表.xlsx'}" in capsys.readouterr().out


def test_argparse_speaks_chinese(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["汇总"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "saq：错误：参数 命令：无效的选择“汇总”" in err
    with pytest.raises(SystemExit):
        cli.main(["consolidate"])
    assert "saq consolidate：错误：缺少必需的参数：文件夹" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["consolidate", "x", "-j", "两"])
    assert "参数 -j/--workers：“两”不是有效的整数" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["consolidate", "-h"])
    out = capsys.readouterr().out
    assert out.startswith("用法：saq consolidate") and "选项" in out and "显示本帮助并退出" in out
    for english in ("usage", "options", "positional arguments", "show this help", "invalid",
                    "required", "OUTPUT", "FOLDER", "CAMPAIGN"):
        assert not re.search(rf"\b{english}\b", out + err), english


def test_broken_pipe_ends_quietly():
    r = saq(shell=f"{sys.executable} -m xl_addin rules | head -1")
    assert r.returncode == 0 and r.stderr == b""
    assert r.stdout.decode("utf-8").startswith("2023年上海市用户满意等级评价")


def test_full_disk_on_output_is_one_message():
    r = saq(shell=f"{sys.executable} -m xl_addin rules > /dev/full")
    assert r.returncode == 2
    assert r.stderr.decode("utf-8") == "错误：无法输出结果（磁盘已满（No space left on device））\n"


def test_file_size_limit_while_writing_the_master_is_one_message(folder, tmp_path):
    master = tmp_path / "m.xlsx"
    r = saq("consolidate", folder, "-o", master, "-q", limit_bytes=4096)
    err = r.stderr.decode("utf-8")
    assert r.returncode == 2, err
    assert err == f"错误：无法写入文件 {master}：文件超过系统允许的大小（File too large）\n"
    assert not master.exists() and not list(tmp_path.glob(".saq-*"))


def test_check_a_master_or_an_ods_says_what_it_is(folder, tmp_path, capsys):
    master = tmp_path / "m.xlsx"
    consolidate(folder, master, C, progress=False, workers=1)
    assert cli.main(["check", str(master)]) == 2
    assert capsys.readouterr().err == (
        f"错误：无法读取文件 {master}：这是本程序生成的汇总表，不是申请书或推荐表，未读取\n")
    import zipfile
    with zipfile.ZipFile(tmp_path / "x.ods", "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    assert cli.main(["check", str(tmp_path / "x.ods")]) == 2
    err = capsys.readouterr().err
    assert "这是 OpenDocument 电子表格（.ods" in err and "另存为" in err


# ---------------------------------------------------------------------- units
@pytest.mark.parametrize("raw, shown, note", [
    ("申请书.xlsx".encode("gbk"), "申请书.xlsx", "GB18030"),
    ("申请书.xlsx".encode("utf-8"), "申请书.xlsx", ""),
    (b"\xff\xfe.xlsx", "\\xff\\xfe.xlsx", "转义"),
    (b"a\x1bb.xlsx", "a\\x1Bb.xlsx", "控制字符"),
])
def test_display_name_never_gives_a_surrogate(raw, shown, note):
    got, why = display_name(os.fsdecode(raw))
    assert (got, note in why) == (shown, True)
    got.encode("utf-8")  # strict: no surrogate survives


def test_sheet_extent_counts_only_cells_with_content():
    from xl_addin.read import workbook as fastread
    xml = (b'<worksheet><dimension ref="A1:XFD1048576"/><sheetData>'
           b'<row r="3"><c r="C3"><v>1</v></c><c><v>2</v></c></row>'
           b'<row r="9"><c r="Z9" s="1"/></row><row><c r="B10" t="s"><v>0</v></c></row>'
           b'</sheetData></worksheet>')
    ext = fastread.sheet_extent(xml)
    assert (ext.rows, ext.cols, ext.declared) == (10, 4, "A1:XFD1048576")
    assert fastread.extent_reason("申请表", ext) is None
    far = fastread.sheet_extent(b'<sheetData><row r="1048576"><c r="XFD1048576">'
                                b'<v>1</v></c></row></sheetData>')
    assert "XFD1048576" in fastread.extent_reason("申请表", far)
