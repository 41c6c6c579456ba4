"""Faults, tested, not assumed (issue 19 §4, §5, §8): two `saq stage update` at once, SIGKILL
during `saq stage publish` and during `saq history import`, a full disk for the lists and for
the registry, a read-only folder. Each runs the real command in its own process.

After every fault the registry and the folder are as they were (the temporary files of a
killed run aside, which the next run removes), and every failure is one Chinese line.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from stage_bases import REG, WB, C, Y, edit, reviewed_ids

ROOT = Path(__file__).resolve().parent.parent
TRACEBACK = ("Traceback", "Error:", "程序内部错误")


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    from conftest import shared_once
    from stage_bases import build_bases
    return shared_once(tmp_path_factory, "stage_bases", build_bases)


def env(**extra):
    return dict(os.environ, PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8", **extra)


def start(*args, cwd=None, path=None, **kw):
    e = env()
    if path:
        e["PATH"] = f"{path}{os.pathsep}{e['PATH']}"
    return subprocess.Popen([sys.executable, "-m", "xl_addin", *map(str, args)], cwd=cwd,
                            env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def finish(p, timeout=240):
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out.decode("utf-8"), err.decode("utf-8")


def q(p, sql, *args):
    assert Path(p).exists()
    db = sqlite3.connect(p)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def dump(p):
    db = sqlite3.connect(Path(p).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        return "\n".join(db.iterdump())
    finally:
        db.close()


def copy(bases, name, tmp_path):
    d = tmp_path / "campaign"
    shutil.copytree(bases[name], d)
    return d


def clean_message(err):
    assert not any(t in err for t in TRACEBACK), err
    assert err.startswith("错误：") and err.count("\n") == 1, err


# ---------------------------------------------------------------------- two at once
def test_two_updates_at_once_never_double_an_audit_line(bases, tmp_path):
    """Issue 19 §4: each edit is recorded once, by one of the two; the other waits or says
    who holds the registry."""
    d = copy(bases, "staged", tmp_path)
    apps = reviewed_ids(d / WB)
    edit(d / WB, "审定", {apps[1]: {"审定理由": "两人同时运行"}, apps[2]: {"审定理由": "第二处改动"}})
    before = len(q(d / REG, "SELECT id FROM audit"))
    ps = [start("stage", "update", d / WB, "--by", who) for who in ("甲", "乙")]
    results = [finish(p) for p in ps]
    for rc, out, err in results:
        assert rc in (0, 2), (out, err)
        if rc:
            clean_message(err)
            assert "正在被使用" in err and ("甲" in err or "乙" in err)
    lines = q(d / REG, "SELECT app_id, field, who FROM audit WHERE field='审定理由'")
    mine = [x for x in lines if x[0] in apps[1:3]]
    assert len(mine) == 2, mine  # once each, never doubled
    assert len({x[2] for x in mine}) == 1  # both by the same run
    assert len(q(d / REG, "SELECT id FROM audit")) == before + 2
    assert not list(d.glob(".saq-*")) and not list(d.glob(".*.saq-lock"))


# ---------------------------------------------------------------------- SIGKILL
def _hanging_soffice(folder):
    """A LibreOffice that never finishes; it writes its pid where the test can find it."""
    folder.mkdir()
    exe = folder / "soffice"
    exe.write_text(f"#!{sys.executable}\nimport os, time, pathlib\n"
                   f"pathlib.Path({str(folder / 'pid')!r}).write_text(str(os.getpid()))\n"
                   "time.sleep(120)\n", encoding="utf-8")
    exe.chmod(0o755)
    return folder / "pid"


def test_killed_publish_leaves_registry_and_folder_as_they_were(bases, tmp_path):
    """Issue 19 §5: SIGKILL while the PDF is made (the lists are written, LibreOffice hangs):
    the registry does not say "published", no 发布名单 stands; the next run cleans up."""
    d = copy(bases, "publicized", tmp_path)
    before = dump(d / REG)
    pid_file = _hanging_soffice(tmp_path / "bin")
    p = start("stage", "publish", d / WB, "--date", f"{Y}-09-28", path=tmp_path / "bin")
    deadline = time.monotonic() + 180
    while not pid_file.exists():
        assert p.poll() is None, finish(p)
        assert time.monotonic() < deadline
        time.sleep(0.1)
    p.send_signal(signal.SIGKILL)
    p.wait()
    with contextlib.suppress(ProcessLookupError, ValueError):
        os.kill(int(pid_file.read_text()), signal.SIGKILL)
    assert dump(d / REG) == before  # nothing committed: no 发布日期, no results
    assert ("发布", "*", "发布日期") not in {tuple(r) for r in q(
        d / REG, "SELECT stage, app_id, field FROM decisions")}
    assert not list(d.glob("发布名单.*"))
    rc, out, err = finish(start("stage", "update", d / WB))
    assert rc == 0, err
    assert "已清理上次中断的运行留下的临时文件" in out
    assert not list(d.glob(".saq-*")) and not list(d.glob(".*.saq-lock"))


def _big_history(path, n, year):
    from xl_addin.rules.uscc import make
    rnd = random.Random(n)
    lines = ["统一社会信用代码,企业名称,申请类别,申报项目名称,等级"]
    levels = [lv.name for lv in C.levels]
    for i in range(n):
        lines.append(f"{make(f'91310000{i:09d}')},上海测试{i}有限公司,服务类,服务{i},"
                     f"{rnd.choice(levels)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_killed_history_import_leaves_all_or_nothing(bases, tmp_path):
    """Issue 19 §5: `history import` is one transaction: killed at any moment, the year is
    wholly there (with its audit line) or not at all."""
    d = copy(bases, "staged", tmp_path)
    year = Y - 5
    _big_history(d / "名单.csv", 20_000, year)
    p = start("history", "import", d / "名单.csv", "--year", year, "--registry", d / REG)
    time.sleep(2.0)
    p.send_signal(signal.SIGKILL)
    p.wait()
    n = q(d / REG, "SELECT COUNT(*) FROM results WHERE year=?", year)[0][0]
    lines = q(d / REG, "SELECT COUNT(*) FROM audit WHERE year=? AND field='导入'", year)[0][0]
    assert (n, lines) in ((0, 0), (20_000, 1)), (n, lines)
    rc, out, err = finish(start("history", "import", d / "名单.csv", "--year", year,
                                "--registry", d / REG))
    assert rc == 0, err
    assert q(d / REG, "SELECT COUNT(*) FROM results WHERE year=?", year)[0][0] == 20_000


# ---------------------------------------------------------------------- a full disk, read-only
@contextlib.contextmanager
def tmpfs(path, size):
    """A small file system at ``path`` (root only; skipped elsewhere)."""
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                       capture_output=True)
    if r.returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_full_disk_for_the_lists_publishes_nothing(bases, tmp_path):
    d = copy(bases, "publicized", tmp_path)
    before = dump(d / REG)
    with tmpfs(tmp_path / "满", "16k") as full:
        rc, out, err = finish(start("stage", "publish", d / WB, "--date", f"{Y}-09-28",
                                    "--no-pdf", "-o", full))
        assert rc == 2, (out, err)
        clean_message(err)
        assert "磁盘已满" in err
        assert not list(full.iterdir())
    assert dump(d / REG) == before


def test_full_disk_for_the_registry_changes_nothing(bases, tmp_path):
    d = copy(bases, "staged", tmp_path)
    apps = reviewed_ids(d / WB)
    edit(d / WB, "审定", {a: {"审定理由": "很长的理由" * 200} for a in apps})
    size = (d / REG).stat().st_size
    before = dump(d / REG)
    wb_before = (d / WB).read_bytes()
    with tmpfs(tmp_path / "档案", f"{(size // 4096 + 3) * 4096}") as small:
        shutil.copy2(d / REG, small / REG)
        rc, out, err = finish(start("stage", "update", d / WB, "--registry", small / REG))
        assert rc == 2, (out, err)
        clean_message(err)
        assert "磁盘已满" in err and "未作任何改动" in err
        assert dump(small / REG) == before
    assert (d / WB).read_bytes() == wb_before


def test_read_only_folder_is_one_line(bases, tmp_path):
    d = copy(bases, "staged", tmp_path)
    with tmpfs(tmp_path / "只读", "4m") as ro:
        shutil.copy2(d / REG, ro / REG)
        before = dump(ro / REG)
        r = subprocess.run(["mount", "-o", "remount,ro", str(ro)], capture_output=True)
        if r.returncode:
            pytest.skip("cannot remount read-only")
        rc, out, err = finish(start("stage", "update", d / WB, "--registry", ro / REG))
        assert rc == 2, (out, err)
        clean_message(err)
        assert "只读" in err and "未作任何改动" in err
        assert dump(ro / REG) == before
