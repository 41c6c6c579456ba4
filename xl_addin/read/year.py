"""Which campaign year a command runs for: the year follows the data (issue 20 §7).

The campaign is chosen at the edges — `saq` (cli.py) and the Excel surfaces — and passed
to the library. This module gives them one lookup, in this order:

1. ``--campaign`` on the command line (a year or a campaign file): always wins;
2. the folder's setting: the nearest ``活动.toml`` in the folder the command works on or any
   folder above it (written by `saq init 年度` and by `saq demo`);
3. the files themselves: the ``campaign_year`` in the ``_meta`` sheet of the workbooks the
   command reads (applications and 附件3 for `saq consolidate` and `saq check`, the 汇总表
   or the 分配表 for `saq review`), when they all agree; files of different years are
   refused (:class:`MixedYears`, with a table of files by year and the command to run);
4. the program's current campaign: ``SAQ_CAMPAIGN`` if set, else
   ``xl_addin/campaigns/current.toml``.

Nobody edits a file inside the installed package to switch years any more: the folder says
it, or the files do. Every command that reads submissions says which year it used and why
(:meth:`Choice.line`).
"""

from __future__ import annotations

import os
import re
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from xl_addin.errors import SaqError
from xl_addin.files import list_files, terminal_text
from xl_addin.read import workbook as fastread
from xl_addin.rules.campaign import CAMPAIGN_DIR, CURRENT_ENV, CampaignError, load
from xl_addin.rules.textable import render
from xl_addin.sheet.xlcache import unescape
from xl_addin.tables import write_atomic

SETTING_FILE = "活动.toml"
MAX_META_XML = 1024 * 1024  # the _meta sheet is a dozen rows
MAX_SST = 8 * 1024 * 1024  # shared strings read to name the _meta keys
SHOWN_PER_YEAR = 3  # files named per year in the mixed-years table


@dataclass
class Choice:
    """The campaign a command runs for, and where the choice came from (Chinese)."""

    campaign: object
    source: str
    files: int = 0  # files whose _meta gave the year (source "files")

    def line(self):
        return f"活动年度：{self.campaign.year}（{self.source}）"


class MixedYears(SaqError):
    """The files of one run belong to campaigns of different years (issue 20 §7)."""

    exit_code = 2

    def __init__(self, years, command):
        self.years = {y: list(v) for y, v in years.items()}
        order = sorted(years, key=lambda y: (-len(years[y]), y))
        rows = []
        for y in order:
            names = [terminal_text(n) for n in years[y][:SHOWN_PER_YEAR]]
            more = len(years[y]) > len(names)
            rows.append([f"{y} 年", len(years[y]), "、".join(names) + ("、…" if more else "")])
        table = "\n".join("  " + ln for ln in render(["年度", "文件数", "文件"], rows, 160).splitlines())
        top = order[0]
        which = "、".join(f"{y} 年" for y in order)
        lines = [f"这些文件属于不同年度的活动（{which}），无法确定按哪一年处理，本次未处理：",
                 table,
                 "请确认本次活动的年度，把其他年度的文件移出文件夹，或指定年度后重新运行，例如：",
                 "  " + command.replace("{year}", str(top)),
                 f"（在活动文件夹中运行 saq init {top} 写明年度后，以后不必再指定）"]
        super().__init__("\n".join(lines))


# ---------------------------------------------------------------------- the folder setting
def find_setting(start):
    """The nearest ``活动.toml`` in ``start`` (a file's folder) or a folder above it.

    Returns:
        Path or None.
    """
    p = Path(os.path.abspath(start))
    if not p.is_dir():
        p = p.parent
    for d in (p, *p.parents):
        f = d / SETTING_FILE
        if f.is_file():
            return f
    return None


def read_setting(path):
    """The campaign a setting file names: a year (int), or a campaign file's absolute path.

    Raises:
        CampaignError: not TOML, or neither ``year`` nor ``file`` in ``[campaign]``.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise CampaignError(path, None, f"无法读取（{e}）") from None
    except tomllib.TOMLDecodeError as e:
        raise CampaignError(path, None, f"不是有效的 TOML 文件（{e}）") from None
    sec = raw.get("campaign")
    if not isinstance(sec, dict):
        raise CampaignError(path, "campaign", "缺少 [campaign] 表；请用 saq init 年度 重新生成")
    if isinstance(sec.get("file"), str) and sec["file"].strip():
        f = Path(sec["file"])
        return str(f if f.is_absolute() else path.parent / f)
    year = sec.get("year")
    if isinstance(year, int) and not isinstance(year, bool):
        return year
    raise CampaignError(path, "campaign.year", "应为年份，如 2024")


def write_setting(folder, year_or_path):
    """Write ``活动.toml`` in ``folder`` (created if needed): the folder's campaign.

    Args:
        year_or_path: a year (2024) or a campaign file (kept relative to the folder when
            it lies inside it).
    Returns:
        Path of the file written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    head = ("# 用户满意等级评价：本文件夹的活动年度（由 saq init 或 saq demo 写入）。\n"
            "# 在本文件夹及其子文件夹中运行 saq consolidate、check、review、stage 等命令时按此年度；\n"
            "# 命令行的 --campaign 优先。改年度：saq init 年度，或直接修改下面的数字。\n"
            "[campaign]\n")
    if isinstance(year_or_path, int) or str(year_or_path).isdigit():
        body = f"year = {int(year_or_path)}\n"
    else:
        f = Path(year_or_path).resolve()
        try:
            shown = f.relative_to(folder.resolve()).as_posix()
        except ValueError:
            shown = f.as_posix()
        body = f"file = {_toml_string(shown)}\n"
    text = head + body
    return Path(write_atomic(folder / SETTING_FILE,
                             lambda tmp: Path(tmp).write_text(text, encoding="utf-8")))


def _toml_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------------- the files' _meta
def file_meta(path):
    """(kind, year) from a workbook's ``_meta`` sheet, read within the reader's bounds
    (read/workbook.probe: size, zip bomb) and without parsing any other sheet.

    Returns:
        (kind, year): kind as read/workbook.TEMPLATE_KINDS ("application", …) or the
        template id of our other workbooks ("saq-review-assignment", "saq-stage-workbook");
        year an int. None when the file is not one of our workbooks or says no year.
    """
    p = Path(path)
    try:
        pr = fastread.probe(p)
        if pr.format != "xlsx":
            return None
        with zipfile.ZipFile(p) as z:
            sheets, _names = fastread._workbook_parts(z, p)
            part = next((pp for n, _st, pp in sheets if n == fastread.META_SHEET), None)
            if part is None or part not in z.NameToInfo or \
                    z.getinfo(part).file_size > MAX_META_XML:
                return None
            meta = _meta_cells(z, z.read(part))
    except Exception:  # noqa: BLE001 - not ours, unreadable, vanished: no year from it
        return None
    tid = str(meta.get("template_id") or "")
    kind = fastread.TEMPLATE_KINDS.get(tid, tid)  # else the id itself: saq-review-assignment …
    year = str(meta.get("campaign_year") or "").split(".")[0].strip()
    if not tid.startswith("saq-") or not year.isdigit():
        return None
    return kind, int(year)


_CELL = re.compile(rb'<c\b([^>]*?)(?:/>|>(.*?)</c>)', re.S)
_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_TYPE = re.compile(rb'\bt="(\w+)"')
_V = re.compile(rb"<v>(.*?)</v>", re.S)
_T = re.compile(rb"<t\b[^>]*>(.*?)</t>", re.S)


def _meta_cells(z, xml):
    """key -> value of a _meta sheet (column A -> column B)."""
    rows, sst = {}, None
    for m in _CELL.finditer(xml):
        ref = _REF.search(m.group(1))
        if not ref or ref.group(1) not in (b"A", b"B"):
            continue
        t = _TYPE.search(m.group(1))
        t = t.group(1) if t else b"n"
        inner = m.group(2) or b""
        if t == b"inlineStr":
            v = b"".join(_T.findall(inner))
        else:
            vm = _V.search(inner)
            if not vm:
                continue
            v = vm.group(1)
            if t == b"s":
                if sst is None:
                    sst = _shared_strings(z)
                i = int(v)
                v = sst[i] if i < len(sst) else b""
        rows.setdefault(ref.group(2), {})[ref.group(1)] = unescape(v.decode("utf-8", "replace")).strip()
    return {r[b"A"]: r.get(b"B") for r in rows.values() if r.get(b"A")}


def _shared_strings(z):
    name = "xl/sharedStrings.xml"
    if name not in z.NameToInfo or z.getinfo(name).file_size > MAX_SST:
        return []
    data = z.read(name)
    return [b"".join(_T.findall(si)) for si in re.findall(rb"<si>(.*?)</si>", data, re.S)]


def folder_years(folder, kinds=("application", "recommender"), skip=()):
    """The years the workbooks of ``kinds`` under ``folder`` say they belong to.

    Args:
        folder: walked as consolidation walks it (files.list_files: links never followed).
        kinds: the template kinds that count.
        skip: paths to leave out (the master being written).
    Returns:
        dict year -> list of paths relative to ``folder`` (in walking order).
    """
    out = {}
    skip = {os.path.realpath(s) for s in skip}
    for rec in list_files(folder):
        if rec.status or os.path.realpath(rec.path) in skip:
            continue  # a link, a pipe, a folder not to read
        if rec.path.name.startswith(("~$", ".")):
            continue
        got = file_meta(rec.path)
        if got and got[0] in kinds:
            out.setdefault(got[1], []).append(rec.rel)
    return out


def file_years(path, kinds=None):
    """:func:`folder_years` of one file: {year: [name]} or {} (not ours, no year)."""
    got = file_meta(path)
    if not got or (kinds is not None and got[0] not in kinds):
        return {}
    return {got[1]: [Path(path).name]}


# ---------------------------------------------------------------------- the choice
def available_years():
    """The years this program has a campaign file for (xl_addin/campaigns/<year>.toml)."""
    return sorted(int(f.stem) for f in CAMPAIGN_DIR.glob("*.toml") if f.stem.isdigit())


def load_year(year_or_path, what="指定的"):
    """:func:`campaign.load`, with a year this program does not have named as such.

    Raises:
        SaqError: no campaign file for that year (the years there are listed).
        CampaignError: the file is missing or broken.
    """
    if isinstance(year_or_path, int) or str(year_or_path).strip().isdigit():
        y = int(year_or_path)
        if not (CAMPAIGN_DIR / f"{y}.toml").is_file():
            have = "、".join(str(x) for x in available_years())
            raise SaqError(f"{what} {y} 年没有活动配置：本程序只有 {have} 年的活动配置；"
                           "请安装支持该年度的新版本，或用 --campaign 指定活动配置文件（.toml）")
        return load(y)
    return load(year_or_path)


def choose(flag=None, where=None, years=None, command="saq … --campaign {year}"):
    """The campaign a command runs for (the lookup order of the module's docstring).

    Args:
        flag: ``--campaign`` (a year or a campaign file), or None.
        where: the file or folder the command works on (its 活动.toml is looked for from
            there upwards); None: the current folder.
        years: what the files say (:func:`folder_years`), or None when the command reads
            no submissions.
        command: the command to suggest when the years are mixed; ``{year}`` in it is
            replaced by the year of most files.
    Returns:
        Choice
    Raises:
        MixedYears: the files say different years, and neither the flag nor a setting
            decides.
        CampaignError: the setting is unreadable, or names a campaign with no file.
    """
    if flag is not None:
        return Choice(load_year(flag, "--campaign 指定的"), "按命令行 --campaign 指定")
    setting = find_setting(where if where is not None else os.getcwd())
    if setting is not None:
        return Choice(load_year(read_setting(setting), f"{terminal_text(setting)} 设定的"),
                      f"按 {terminal_text(setting)} 的设置")
    if years:
        if len(years) > 1:
            raise MixedYears(years, command)
        (year, files), = years.items()
        return Choice(load_year(year, "文件中的模板年度"),
                      f"取自文件中的模板年度，{len(files)} 个文件一致", len(files))
    env = (os.environ.get(CURRENT_ENV) or "").strip()
    source = f"环境变量 {CURRENT_ENV} 指定的当前活动" if env else "程序的当前活动"
    if years is not None:
        source += "；文件中没有模板年度"
    return Choice(load(None), source)
