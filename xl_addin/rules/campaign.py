"""Load and validate a campaign file (``campaigns/<year>.toml``).

A campaign is data: calendar (C), categories and levels (K), the rubric (S), the star
conditions (L), the flag catalogue (E), the form fields (F) and the decisions. Strings may
name the campaign year as ``{Y}``, ``{Y-1}``, ``{Y+1}``; they are resolved on load, so the
next year's campaign is a copy of the file with another ``year``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

# The loader asks each E code's Rule for its parameters (Rule.params). The registry may be
# imported here, at the top, because rules/codes never imports this module: its checks and
# formulas see a Campaign only through what they are handed (x.c, b.c), so the direction is
# campaign -> codes and tests/test_import_graph.py keeps it so. Handing the registry to
# the loader instead would make every caller name it, for no gain.
from xl_addin.rules import codes
from xl_addin.rules.errors import CampaignError
from xl_addin.rules.show import fmt_number

CAMPAIGN_DIR = Path(__file__).parents[1] / "campaigns"
CURRENT_FILE = CAMPAIGN_DIR / "current.toml"  # the one "current campaign" setting (issue 9)
CURRENT_ENV = "SAQ_CAMPAIGN"  # overrides it: a year or a campaign file's path
_YEAR_RE = re.compile(r"\{Y(?:([+-])(\d+))?\}")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Level:
    rank: int
    stars: str
    name: str
    applied: str
    variants: tuple


@dataclass(frozen=True)
class Category:
    name: str
    variants: tuple
    cap: int
    project_required: bool


@dataclass(frozen=True)
class Part:
    """One input cell of the rubric."""

    key: str
    label: str
    item: str
    kind: str  # "score", "range", "penalty", "errors"
    allowed: tuple = ()  # exact values ("score")
    max: float = 0  # the most it adds; for "range" the top of the range
    points: float = 0  # penalty points

    def allowed_text(self, step):
        if self.kind == "range":
            return f"0 到 {fmt_number(self.max)} 之间 {fmt_number(step)} 的倍数"
        if self.kind in ("penalty",):
            return "是、否"
        if self.kind == "errors":
            return "不小于 0 的整数"
        return "、".join(fmt_number(v) for v in self.allowed)


@dataclass(frozen=True)
class Item:
    id: str
    section: str
    name: str
    max: float
    text: str
    kind: str
    parts: tuple
    penalty: Part | None = None
    choices: dict = field(default_factory=dict)
    hint: str = ""  # what the input cell wants, said plainly (A3: the number of errors)


@dataclass(frozen=True)
class Section:
    id: str
    name: str
    weight: float
    bonus: bool


@dataclass(frozen=True)
class Rubric:
    base_total: float
    bonus_total: float
    step: float
    sections: tuple
    items: tuple
    conclusions: tuple  # (name, min) high to low
    veto_key: str
    veto_label: str

    @property
    def parts(self):
        """Every input key of the rubric in FIELDS.md order (penalty after its item's parts)."""
        out = []
        for item in self.items:
            out.extend(item.parts)
            if item.penalty:
                out.append(item.penalty)
        return tuple(out)

    def items_of(self, section_id):
        return tuple(i for i in self.items if i.section == section_id)


@dataclass(frozen=True)
class Condition:
    field: str
    fail: str
    allowed: tuple = ()
    min: float | None = None
    cap: bool = False


@dataclass(frozen=True)
class StarRule:
    rule: str
    level: int
    conditions: tuple


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    type: str
    choices: str | None = None
    only: tuple = ()
    block: str = "main"
    variants: tuple = ()
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    note: str | None = None


@dataclass(frozen=True)
class CalendarEntry:
    id: str
    label: str
    reference: str
    start: dt.date | None = None
    end: dt.date | None = None
    date: dt.date | None = None
    days: int | None = None
    decision: bool = False


@dataclass(frozen=True)
class Campaign:
    path: str
    year: int
    title: str
    reference: str
    template_version: str
    calendar: dict
    levels: tuple
    no_level: str
    categories: tuple
    decisions: dict
    decision_labels: dict
    rubric: Rubric
    stars: tuple
    star_text: dict
    flags: dict
    sampling: dict
    choices: dict
    fields: dict
    onsite: dict = field(default_factory=dict)  # L6: proposed ranks that need 现场评审
    review: dict = field(default_factory=dict)  # [review]: expert review thresholds (issue 5)
    materials: dict = field(default_factory=dict)  # [materials.Mxx]: the dossier (RULES.md M)
    dossier: dict = field(default_factory=dict)  # [dossier]: words of the checklist and banner
    stages: dict = field(default_factory=dict)  # [stages]: 合议 … 发布 settings (issue 14)
    deciding: dict = field(default_factory=dict)  # [deciding.Pn]: RULES.md P (issue 18)
    feedback: dict = field(default_factory=dict)  # [feedback]: the 补正 letters (issue 22)

    # -- lookups used everywhere -------------------------------------------------------
    def level(self, rank):
        for lv in self.levels:
            if lv.rank == rank:
                return lv
        return None

    def level_name(self, rank):
        """The result word of a rank; 0 is 不达标, None (unknown inputs) is 无法评定."""
        if rank is None:
            return self.star_text["undetermined"]
        lv = self.level(rank)
        return lv.name if lv else self.no_level

    def category(self, name):
        for c in self.categories:
            if c.name == name:
                return c
        return None

    @property
    def reference_date(self):
        """C6: the date "years since" checks count from."""
        return self.calendar["C6"].date

    @property
    def application_deadline(self):
        return self.calendar["C2"].end

    @property
    def recommendation_deadline(self):
        return self.calendar["C3"].end

    def publication_window(self, start):
        """C5: a publication that starts on ``start`` ends ``days - 1`` days later."""
        return start, start + dt.timedelta(days=self.calendar["C5"].days - 1)

    def field(self, form, key):
        for f in self.fields[form]:
            if f.key == key:
                return f
        raise KeyError(key)

    def rule_ids(self):
        """Every rule id this campaign defines (for the coverage test and `saq rules`)."""
        ids = list(self.calendar)
        ids += ["K1", "K2", "K3", "K4"]
        ids += ["S0", "S1", "S2", "S3", "S4"]
        ids += [s.rule for s in self.stars] + ["L4", "L5", "L5a", "L6"]
        ids += list(self.flags)
        ids += list(self.materials)
        ids += list(self.deciding)
        return ids


# ---------------------------------------------------------------------- loading
def current():
    """The current campaign's year or file: ``SAQ_CAMPAIGN`` if set, else the ``year`` of
    ``campaigns/current.toml``. Every surface (CLI, ribbon, UDFs) defaults to it.

    Returns:
        int year or str path
    Raises:
        CampaignError: the setting is missing or not a year.
    """
    env = (os.environ.get(CURRENT_ENV) or "").strip()
    if env:
        return int(env) if env.isdigit() else env
    return _current_year(CURRENT_FILE)


@lru_cache(maxsize=4)
def _current_year(path):
    """The year of ``current.toml``, read once per process (issue 23: every UDF call with a
    blank year asked for it; a new campaign starts with a new session of Excel)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise CampaignError(path, None, f"无法读取当前活动设置（{e}）") from None
    year = (raw.get("current") or {}).get("year")
    if not isinstance(year, int):
        raise CampaignError(path, "current.year", "应为年份，如 2023")
    return year


def load(year_or_path=None):
    """Load a campaign by year (``2023``) or by file path; cached.

    Args:
        year_or_path: a year whose file is in ``xl_addin/campaigns/``, a path, or None for
            the current campaign (:func:`current`).
    Returns:
        Campaign
    Raises:
        CampaignError: the file is missing, not TOML, or breaks a consistency rule.
    """
    return _load(current() if year_or_path is None else year_or_path)


@lru_cache(maxsize=8)
def _load(year_or_path):
    path = _resolve_path(year_or_path)
    return _build(path, _read_raw(path, ()))


def _read_raw(path, seen):
    """The file's TOML, over the campaign it ``extends`` (a year): tables merge key by key,
    anything else — lists included — is replaced, so a new year states only what changed."""
    if path in seen:
        raise CampaignError(path, "campaign.extends", "循环继承")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CampaignError(path, None, "文件不存在") from None
    except tomllib.TOMLDecodeError as e:
        raise CampaignError(path, None, f"不是有效的 TOML 文件（{e}）") from None
    base = (raw.get("campaign") or {}).pop("extends", None)
    if base is None:
        return raw
    if not (isinstance(base, int) or str(base).isdigit()):
        raise CampaignError(path, "campaign.extends", f"应为年份，如 2023：{base!r}")
    return _merge(_read_raw(_resolve_path(base), seen + (path,)), raw)


def _merge(base, over):
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(base[k], v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
    return out


def _resolve_path(year_or_path):
    if isinstance(year_or_path, int) or str(year_or_path).isdigit():
        return CAMPAIGN_DIR / f"{year_or_path}.toml"
    return Path(year_or_path)


def substitute_year(value, year):
    """``{Y}``, ``{Y-1}``, ``{Y+1}`` in strings (nested lists and tables too) -> the year."""
    if isinstance(value, str):
        def rep(m):
            n = int(m.group(2) or 0)
            return str(year + n if m.group(1) == "+" else year - n)
        return _YEAR_RE.sub(rep, value)
    if isinstance(value, list):
        return [substitute_year(v, year) for v in value]
    if isinstance(value, dict):
        return {k: substitute_year(v, year) for k, v in value.items()}
    return value


# ---------------------------------------------------------------------- placeholders
# Prose in the file never repeats a rule number (issue 9 §2): "满意度不低于 {min} 分" names the
# flag's own parameter, "最高 {rubric.total} 分" one elsewhere in the file; both are filled on
# load, so changing a parameter changes every text that mentions it.
_PLACEHOLDER_RE = re.compile(r"\{([^\W\d][^{}:\s]*)(?::([a-z]+))?\}")
_TERM_RE = re.compile(r"([+-])")
# Message templates: their other names ({value}, {limit} …) are filled when the message is
# shown (checks.Context.flag, formulas.template, stars, dossier); only names of the template's
# own table and campaign-wide (dotted) names are filled on load.
RUNTIME_KEYS = {"message", "missing", "fail", "over", "under", "not_docx", "unreadable",
                "workbook_missing", "workbook_many"}
_NOT_TEXT = {"pattern"}  # regular expressions: their braces are not placeholders


def _is_template(where):
    key = where[-1]
    return (key in RUNTIME_KEYS or key.endswith("_message") or where[0] == "star_text"
            or (where[0] == "dossier" and key.startswith("banner_")))


def placeholder_names(raw):
    """The campaign-wide names a text may use, over the year-substituted TOML ``raw``.

    ``C2.end``, ``C5.days`` (calendar), ``E15.min`` (flags), ``M05…`` (materials),
    ``L1.min`` (a star rule's satisfaction minimum), ``S4.优良`` (a conclusion's minimum),
    ``rubric.total`` (base + bonus); any table of the file by its path (``review.per_application``).

    Args:
        raw: the campaign TOML as a dict, ``{Y}`` already substituted.
    Returns:
        dict name -> table (dotted lookups go into it).
    """
    g = dict(raw)
    g.update(raw.get("calendar") or {})
    g.update(raw.get("flags") or {})
    g.update(raw.get("materials") or {})
    g.update(raw.get("deciding") or {})
    for s in raw.get("stars") or []:
        if isinstance(s, dict) and isinstance(s.get("rule"), str):
            mins = [cd["min"] for cd in s.get("conditions", []) if isinstance(cd, dict) and "min" in cd]
            g[s["rule"]] = {"min": mins[0]} if len(mins) == 1 else {}
    rub = raw.get("rubric") or {}
    if isinstance(rub, dict):
        g["S4"] = {cc.get("name"): cc.get("min") for cc in rub.get("conclusions", [])
                   if isinstance(cc, dict)}
        rubric = dict(rub)
        if isinstance(rub.get("base_total"), (int, float)) and isinstance(rub.get("bonus_total"), (int, float)):
            rubric["total"] = rub["base_total"] + rub["bonus_total"]
        g["rubric"] = rubric
    return g


def _lookup(table, name):
    """``name`` (dotted) inside ``table``; a rubric item's part key is the part's maximum."""
    cur = table
    for part in name.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, dict) and isinstance(cur.get("parts"), list):
            hit = [p for p in cur["parts"] if isinstance(p, list) and len(p) == 3 and p[0] == part]
            if not hit:
                return None
            allowed = hit[0][2]
            if isinstance(allowed, list) and allowed:
                cur = max(allowed)
            elif isinstance(allowed, str) and allowed.startswith("0-"):
                cur = float(allowed[2:]) if "." in allowed else int(allowed[2:])
            else:
                cur = cur.get("max")
        else:
            return None
    if isinstance(cur, str) and _DATE_RE.match(cur):
        try:
            return dt.date.fromisoformat(cur)
        except ValueError:
            return cur
    return cur if isinstance(cur, (int, float, str, dt.date)) and not isinstance(cur, bool) else None


def _show(value, fmt):
    if isinstance(value, dt.date):
        return {None: value.isoformat(), "year": str(value.year), "month": str(value.month),
                "day": str(value.day)}.get(fmt)
    if fmt is not None:
        return None
    return fmt_number(value) if isinstance(value, (int, float)) else str(value)


def _resolve(name, fmt, scopes, names):
    """The text for ``{name:fmt}``, or None. ``name`` may add or subtract names and whole
    numbers (``{se_P5e+se_P5f}``, ``{days-1}``); a bare name is looked up from the innermost
    table outwards, then among the campaign-wide names."""
    terms = _TERM_RE.split(name)
    values = []
    for t in terms[::2]:
        if t.isdigit():
            values.append(int(t))
            continue
        v = None
        for table in reversed(scopes):
            v = _lookup(table, t)
            if v is not None:
                break
        if v is None:
            v = _lookup(names, t)
        if v is None:
            return None
        values.append(v)
    if len(values) == 1:
        return _show(values[0], fmt)
    if fmt is not None or not all(isinstance(v, (int, float)) for v in values):
        return None
    total = values[0]
    for sign, v in zip(terms[1::2], values[1:]):
        total = total + v if sign == "+" else total - v
    return fmt_number(total)


def fill_placeholders(path, raw):
    """Fill every ``{name}`` of the campaign's prose from its parameters (see
    :func:`placeholder_names`); message templates keep the names filled when shown.

    Args:
        path: the campaign file (for errors).
        raw: the year-substituted TOML.
    Returns:
        a copy of ``raw`` with the prose filled.
    Raises:
        CampaignError: a prose text names a parameter that does not exist.
    """
    _check_dates(path, raw, [])
    # First the parameters that are another parameter (C6 date = "{C2.end}", a field's max =
    # "{rubric.total}"): the whole string becomes the typed value, so texts can name them too.
    for _ in range(3):
        raw, changed = _fill_values(raw, placeholder_names(raw))
        if not changed:
            break
    names = placeholder_names(raw)

    def text(s, where, scopes):
        template = _is_template(where)

        def rep(m):
            inner = scopes[-1:] if template else scopes
            out = _resolve(m.group(1), m.group(2), inner, names if (not template or "." in m.group(1)) else {})
            if out is None:
                if template:
                    return m.group(0)
                raise CampaignError(path, ".".join(where), f"占位符 {m.group(0)} 没有对应的参数")
            return out
        return _PLACEHOLDER_RE.sub(rep, s)

    return _map_leaves(raw, lambda v, where, scopes:
                       text(v, where, scopes) if isinstance(v, str) and "{" in v else v)


def _map_leaves(raw, leaf):
    """``raw`` with every value outside the _NOT_TEXT keys replaced by ``leaf(value, where,
    scopes)``: ``where`` the key path, ``scopes`` the enclosing tables, innermost last."""
    def walk(v, where, scopes):
        if isinstance(v, dict):
            inner = scopes + [v]
            return {k: (v2 if k in _NOT_TEXT else walk(v2, where + [str(k)], inner))
                    for k, v2 in v.items()}
        if isinstance(v, list):
            return [walk(x, where, scopes) for x in v]
        return leaf(v, where, scopes)
    return walk(raw, [], [])


def _check_dates(path, v, where):
    """A date a text may name must be a date (2023-07-35 is refused at its own key)."""
    if isinstance(v, dict):
        for k, x in v.items():
            _check_dates(path, x, where + [str(k)])
    elif isinstance(v, list):
        for i, x in enumerate(v):
            _check_dates(path, x, where + [str(i)])
    elif isinstance(v, str) and _DATE_RE.match(v):
        try:
            dt.date.fromisoformat(v)
        except ValueError:
            raise CampaignError(path, ".".join(where), f"不是有效日期：{v!r}") from None


def _fill_values(raw, names):
    """One pass of :func:`fill_placeholders` over parameters written as one placeholder."""
    changed = False

    def leaf(v, where, scopes):
        nonlocal changed
        m = _PLACEHOLDER_RE.fullmatch(v) if isinstance(v, str) and where else None
        if m and not m.group(2) and not _is_template(where) and _TERM_RE.search(m.group(1)) is None:
            for table in [*reversed(scopes), names]:
                got = _lookup(table, m.group(1))
                if isinstance(got, (int, float, dt.date)):
                    changed = True
                    return got.isoformat() if isinstance(got, dt.date) else got
        return v

    return _map_leaves(raw, leaf), changed


class _Reader:
    """Reads one table of the TOML, rejecting keys it does not know."""

    def __init__(self, path, where, table, allowed, required=()):
        self.path, self.where, self.t = path, where, table
        if not isinstance(table, dict):
            raise CampaignError(path, where, "应为表（table）")
        unknown = sorted(set(table) - set(allowed) - set(required))
        if unknown:
            raise CampaignError(path, f"{where}.{unknown[0]}", "未知的键（拼写错误？）")
        for k in required:
            if k not in table:
                raise CampaignError(path, f"{where}.{k}", "缺少必填的键")

    def get(self, key, default=None):
        return self.t.get(key, default)

    def date(self, key, default=None):
        v = self.t.get(key)
        if v is None:
            return default
        if isinstance(v, dt.date):
            return v
        if isinstance(v, str) and _DATE_RE.match(v):
            try:
                return dt.date.fromisoformat(v)
            except ValueError:
                pass
        raise CampaignError(self.path, f"{self.where}.{key}", f"不是有效日期：{v!r}")

    def number(self, key, default=None):
        v = self.t.get(key, default)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
            raise CampaignError(self.path, f"{self.where}.{key}", f"应为数字：{v!r}")
        return v


def _build(path, raw):
    top = _Reader(path, "", raw, ["campaign", "calendar", "levels", "no_level", "categories",
                                  "decisions", "rubric", "stars", "star_text", "flags",
                                  "sampling", "choices", "fields", "onsite_review",
                                  "review", "dossier", "materials", "stages", "deciding",
                                  "feedback"])
    c = _Reader(path, "campaign", top.get("campaign") or {},
                ["title", "reference", "template_version"], ["year"])
    year = c.get("year")
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise CampaignError(path, "campaign.year", f"应为 2000–2100 的年份：{year!r}")
    raw = fill_placeholders(path, substitute_year(raw, year))
    c = _Reader(path, "campaign", raw["campaign"], ["title", "reference", "template_version"],
                ["year"])

    calendar = {}
    for cid, entry in (raw.get("calendar") or {}).items():
        r = _Reader(path, f"calendar.{cid}", entry,
                    ["start", "end", "date", "days", "decision", "decision_label", "reference"],
                    ["label"])
        calendar[cid] = CalendarEntry(cid, r.get("label"), r.get("reference", ""),
                                      r.date("start"), r.date("end"), r.date("date"),
                                      r.number("days"), bool(r.get("decision", False)))
    for need in ("C2", "C3", "C5", "C6"):
        if need not in calendar:
            raise CampaignError(path, f"calendar.{need}", "缺少")
    if calendar["C6"].date is None or calendar["C5"].days is None:
        raise CampaignError(path, "calendar.C6", "须给出 date；C5 须给出 days")

    levels = []
    for i, lv in enumerate(raw.get("levels") or []):
        r = _Reader(path, f"levels[{i}]", lv, ["variants"], ["rank", "stars", "name", "applied"])
        levels.append(Level(r.get("rank"), r.get("stars"), r.get("name"), r.get("applied"),
                            tuple(r.get("variants", []))))
    levels.sort(key=lambda lv: -lv.rank)
    if not levels:
        raise CampaignError(path, "levels", "至少需要一个等级")
    ranks = {lv.rank for lv in levels}
    nl = _Reader(path, "no_level", raw.get("no_level") or {},
                 ["rule", "decision", "decision_label"], ["name"])

    cats = []
    for i, ct in enumerate(raw.get("categories") or []):
        r = _Reader(path, f"categories[{i}]", ct, ["variants", "project_required"],
                    ["name", "cap"])
        if r.get("cap") not in ranks:
            raise CampaignError(path, f"categories[{i}].cap", f"不是已定义的等级：{r.get('cap')}")
        cats.append(Category(r.get("name"), tuple(r.get("variants", [])), r.get("cap"),
                             bool(r.get("project_required", True))))

    d = dict(raw.get("decisions") or {})
    labels = d.pop("labels", {})
    known_decisions = {"bonus_counts", "reference_date", "top_band_falls_to_four",
                       "three_star_ceiling_band", "row_best_case", "unreadable_value_code"}
    for k in list(d) + list(labels):
        if k not in known_decisions:
            raise CampaignError(path, f"decisions.{k}", "未知的决定项")
    _Reader(path, "decisions.row_best_case", d.get("row_best_case"), [],
            ["report_use", "risk", "veto"])  # L5a: read by the engine and the formula builder

    rubric = _build_rubric(path, raw.get("rubric") or {})
    stars = _build_stars(path, raw.get("stars") or [], ranks)
    st = _Reader(path, "star_text", raw.get("star_text") or {}, ["unscored"],
                 ["met_top", "not_met", "none", "capped_by_applied", "unknown",
                  "undetermined"])

    flags = {}
    for code, spec in (raw.get("flags") or {}).items():
        if not re.fullmatch(r"E\d\d", code):
            raise CampaignError(path, f"flags.{code}", "代码应为 E 加两位数字")
        r = _Reader(path, f"flags.{code}", spec,
                    ["missing", "decision", "decision_label", "categories"]
                    + list(codes.params(code)),  # a key its Rule does not declare is a typo
                    ["severity", "rule", "message"])
        for k, v in spec.items():
            if k.endswith("severity") and v not in ("error", "warning"):
                raise CampaignError(path, f"flags.{code}.{k}", f"应为 error 或 warning：{v!r}")
        flags[code] = {k: (r.date(k) if isinstance(v, str) and _DATE_RE.match(v) else v)
                       for k, v in spec.items()}

    choices = {k: tuple(v) for k, v in (raw.get("choices") or {}).items()}
    fields = {}
    for form, rows in (raw.get("fields") or {}).items():
        out = []
        for i, f in enumerate(rows):
            r = _Reader(path, f"fields.{form}[{i}]", f,
                        ["choices", "only", "block", "variants", "unit", "min", "max", "note"],
                        ["key", "label", "type"])
            if r.get("choices") and r.get("choices") not in choices:
                raise CampaignError(path, f"fields.{form}[{i}].choices",
                                    f"没有名为 {r.get('choices')} 的选项表")
            out.append(Field(r.get("key"), r.get("label"), r.get("type"), r.get("choices"),
                             tuple(r.get("only", [])), r.get("block", "main"),
                             tuple(r.get("variants", [])), r.get("unit"), r.get("min"),
                             r.get("max"), r.get("note")))
        fields[form] = tuple(out)

    labels = dict(labels)
    labels.update(_rule_decisions(path, raw))
    return Campaign(str(path), year, c.get("title", ""), c.get("reference", ""),
                    c.get("template_version", str(year)), calendar, tuple(levels),
                    nl.get("name"), tuple(cats), d, labels, rubric, stars, st.t, flags,
                    _build_sampling(path, raw), choices, fields, _build_onsite(path, raw),
                    _build_review(path, raw.get("review") or {}, ranks),
                    *_build_materials(path, raw, {ct.name for ct in cats}),
                    _build_stages(path, raw.get("stages") or {}),
                    _build_deciding(path, raw, flags, fields),
                    _build_feedback(path, raw.get("feedback") or {}))


def _build_feedback(path, raw):
    """[feedback] (issue 22): the letters to the recommenders after consolidation — the
    date corrections are due, who to contact, the words of the letter."""
    r = _Reader(path, "feedback", raw, ["title", "intro", "accepted", "rejected", "closing",
                                         "contact"], ["deadline"])
    out = dict(raw)
    out["deadline"] = r.date("deadline")
    return out


def _build_stages(path, raw):
    """[stages] (issue 14): the stages after expert review; dates validated here."""
    r = _Reader(path, "stages", raw, ["approval_month", "publication_start", "onsite_results",
                                      "publisher", "publication_title", "publication_intro",
                                      "publication_objection", "release_title",
                                      "release_intro", "reference"])
    out = dict(raw)
    if r.get("publication_start") is not None:
        out["publication_start"] = r.date("publication_start")
    return out


# RULES.md P (issue 18): the keys each rule of [deciding] must have besides label and
# reference; anything else is a typo. severity is required where the rule refuses.
DECIDING_PARAMS = {
    "P1": ("severity", "refused_message", "applied_message", "cap_message", "reason_message"),
    "P2": ("severity", "identity", "error_message", "warning_message", "override_message",
           "reason_message", "identity_message"),
    "P3": ("severity", "confirm", "column", "confirm_words", "line_message", "blocked_message",
           "open_message", "confirmed_message"),
    "P4": ("severity", "status", "line_message", "blocked_message"),
    "P5": ("severity",),
    "P6": ("severity", "line_message", "blocked_message"),
    "P7": ("severity",),
    "P8": ("severity",),
    "P9": ("person", "address", "phone", "email"),
}


def _build_deciding(path, raw, flags, fields):
    """[deciding.P1] … [deciding.P9] (RULES.md P): every rule with its label and reference;
    the codes and fields they name must exist; P3 lists warnings only; P9's phone and
    e-mail must be in the 公示 text ([stages].publication_objection)."""
    table = raw.get("deciding") or {}
    if not isinstance(table, dict):
        raise CampaignError(path, "deciding", "应为表（table）")
    out = {}
    for rid in sorted(DECIDING_PARAMS, key=lambda r: int(r[1:])):
        where = f"deciding.{rid}"
        if rid not in table:
            raise CampaignError(path, where, "缺少（RULES.md P 的每条规则都须写明）")
        r = _Reader(path, where, table[rid], [], ("label", "reference") + DECIDING_PARAMS[rid])
        for k, v in r.t.items():
            if k in ("identity", "confirm", "confirm_words"):
                continue
            if not isinstance(v, str) or not v.strip():
                raise CampaignError(path, f"{where}.{k}", "应为非空的文字")
        if "severity" in r.t and r.get("severity") not in ("error", "warning"):
            raise CampaignError(path, f"{where}.severity",
                                f"应为 error 或 warning：{r.get('severity')!r}")
        out[rid] = dict(r.t)
    unknown = sorted(set(table) - set(DECIDING_PARAMS))
    if unknown:
        raise CampaignError(path, f"deciding.{unknown[0]}", "未知的规则（RULES.md P 只有 P1–P9）")
    keys = {f.key for form in fields.values() for f in form}
    identity = out["P2"]["identity"]
    if not isinstance(identity, dict):
        raise CampaignError(path, "deciding.P2.identity", "应为表：问题代码 = [字段键…]")
    for code, fks in identity.items():
        if code not in flags or flags[code]["severity"] != "error":
            raise CampaignError(path, f"deciding.P2.identity.{code}", "不是本活动的错误代码")
        if not isinstance(fks, list) or any(k not in keys for k in fks):
            raise CampaignError(path, f"deciding.P2.identity.{code}", f"应为字段键的列表：{fks!r}")
        out["P2"]["identity"] = {c: tuple(v) for c, v in identity.items()}
    confirm = out["P3"]["confirm"]
    if not isinstance(confirm, list) or not confirm:
        raise CampaignError(path, "deciding.P3.confirm", "应为问题代码的列表")
    for code in confirm:
        if code not in flags or flags[code]["severity"] != "warning":
            raise CampaignError(path, "deciding.P3.confirm", f"{code} 不是本活动的提醒代码")
    words = out["P3"]["confirm_words"]
    if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
        raise CampaignError(path, "deciding.P3.confirm_words", "应为非空的文字列表")
    out["P3"]["confirm"], out["P3"]["confirm_words"] = tuple(confirm), tuple(words)
    text = (raw.get("stages") or {}).get("publication_objection") or ""
    for k in ("phone", "email"):
        if out["P9"][k] not in text:
            raise CampaignError(path, "stages.publication_objection",
                                f"公示文字须写明{'联系电话' if k == 'phone' else '电子邮箱'}"
                                f"（{{P9.{k}}}，P9）")
    return out


def _rule_decisions(path, raw):
    """Rule id -> label of every rule whose reading is a choice (``decision = true``).

    The decisions live beside their rules (calendar C2/C6, flags E03/E06/E08/E23/E24, no_level
    L4, onsite_review L6); each must carry a ``decision_label`` so `saq rules`, the master's
    说明 sheet and docs/rules.md can show it.
    """
    out = {}
    tables = [(f"calendar.{k}", k, v) for k, v in (raw.get("calendar") or {}).items()]
    tables += [(f"flags.{k}", k, v) for k, v in sorted((raw.get("flags") or {}).items())]
    for name in ("no_level", "onsite_review"):
        t = raw.get(name) or {}
        tables.append((name, t.get("rule", name), t))
    for where, rid, t in tables:
        if not isinstance(t, dict) or not t.get("decision"):
            continue
        label = t.get("decision_label")
        if not isinstance(label, str) or not label:
            raise CampaignError(path, f"{where}.decision_label",
                                "标为决定（decision = true）的规则须写明 decision_label")
        out[rid] = label
    return out


def _build_sampling(path, raw):
    """[sampling]: the defaults of the sampling UDFs (A1 样本代表性), stated in the file."""
    r = _Reader(path, "sampling", raw.get("sampling") or {}, [],
                ["default_confidence", "default_p"])
    return {k: r.number(k) for k in ("default_confidence", "default_p")}


def _build_onsite(path, raw):
    r = _Reader(path, "onsite_review", raw.get("onsite_review") or {},
                ["reference", "by", "decision", "decision_label"],
                ["rule", "levels", "category_levels"])
    by = r.get("by", "applied")
    if by not in ("applied", "proposed"):
        raise CampaignError(path, "onsite_review.by", f"应为 applied 或 proposed：{by!r}")
    return {"levels": tuple(r.get("levels")), "by": by,
            "category_levels": {k: tuple(v) for k, v in r.get("category_levels").items()}}


def _build_review(path, raw, ranks):
    """[review] (issue 5): thresholds of the expert review, all stated in the file (the
    code keeps no defaults of its own)."""
    r = _Reader(path, "review", raw, ["reference"],
                ["per_application", "disagreement_range", "trimmed_min_scores",
                 "use_trimmed_mean", "shortlist_level", "publication_after"])
    for k in ("per_application", "disagreement_range", "trimmed_min_scores"):
        r.number(k)
    if r.get("shortlist_level") not in ranks:
        raise CampaignError(path, "review.shortlist_level", "不是已定义的等级")
    return dict(raw)


def _build_rubric(path, raw):
    r = _Reader(path, "rubric", raw, ["reference", "veto"],
                ["base_total", "bonus_total", "step", "conclusions", "sections", "items"])
    step = r.number("step")
    sections = []
    for i, s in enumerate(r.get("sections")):
        sr = _Reader(path, f"rubric.sections[{i}]", s, ["bonus"], ["id", "name", "weight"])
        sections.append(Section(sr.get("id"), sr.get("name"), sr.number("weight"),
                                bool(sr.get("bonus", False))))
    sec_ids = {s.id for s in sections}
    items, seen = [], set()
    for i, it in enumerate(r.get("items")):
        where = f"rubric.items[{i}]"
        ir = _Reader(path, where, it, ["kind", "penalty", "choices", "hint"],
                     ["id", "section", "name", "max", "text", "parts"])
        if ir.get("section") not in sec_ids:
            raise CampaignError(path, f"{where}.section", f"没有该部分：{ir.get('section')}")
        item_max = ir.number("max")
        parts = []
        for j, p in enumerate(ir.get("parts")):
            pw = f"{where}.parts[{j}]"
            if not (isinstance(p, list) and len(p) == 3):
                raise CampaignError(path, pw, "应为 [键, 名称, 允许值]")
            key, label, allowed = p
            if key in seen:
                raise CampaignError(path, pw, f"键 {key} 重复")
            seen.add(key)
            if allowed == "count":
                parts.append(Part(key, label, ir.get("id"), "errors", (), item_max))
            elif isinstance(allowed, str):
                m = re.fullmatch(r"0-(\d+(?:\.\d+)?)", allowed)
                if not m:
                    raise CampaignError(path, pw, f"允许值应为列表或 \"0-n\"：{allowed!r}")
                parts.append(Part(key, label, ir.get("id"), "range", (), float(m.group(1))))
            else:
                vals = tuple(allowed)
                if not vals or any(isinstance(v, bool) or not isinstance(v, (int, float))
                                   for v in vals):
                    raise CampaignError(path, pw, f"允许值应为数字：{allowed!r}")
                if max(vals) > item_max or min(vals) < 0:
                    raise CampaignError(path, pw,
                                        f"允许值 {list(vals)} 超出该项满分 {item_max}")
                parts.append(Part(key, label, ir.get("id"), "score", vals, max(vals)))
        if ir.get("kind", "score") != "errors":
            top = sum(p.max for p in parts)
            if abs(top - item_max) > 1e-9:
                raise CampaignError(path, f"{where}.parts",
                                    f"各分项满分之和 {fmt_number(top)} ≠ 该项满分 "
                                    f"{fmt_number(item_max)}")
        pen = None
        if ir.get("penalty"):
            pr = _Reader(path, f"{where}.penalty", ir.get("penalty"), [],
                         ["key", "label", "points"])
            pen = Part(pr.get("key"), pr.get("label"), ir.get("id"), "penalty", (), 0,
                       pr.number("points"))
        items.append(Item(ir.get("id"), ir.get("section"), ir.get("name"), item_max,
                          ir.get("text"), ir.get("kind", "score"), tuple(parts), pen,
                          dict(ir.get("choices", {})), ir.get("hint", "")))
    for s in sections:
        total = sum(i.max for i in items if i.section == s.id)
        if abs(total - s.weight) > 1e-9:
            raise CampaignError(path, f"rubric.sections.{s.id}",
                                f"各项满分之和 {fmt_number(total)} ≠ 权重 {fmt_number(s.weight)}")
    base = sum(s.weight for s in sections if not s.bonus)
    bonus = sum(s.weight for s in sections if s.bonus)
    # The stated totals (S1: 100 points, 10 bonus in 2023) must be what the sections add up to.
    if base != r.number("base_total"):
        raise CampaignError(path, "rubric.base_total",
                            f"基础分合计应为 {fmt_number(r.number('base_total'))}，实为 {fmt_number(base)}")
    if bonus != r.number("bonus_total"):
        raise CampaignError(path, "rubric.bonus_total",
                            f"加分项合计应为 {fmt_number(r.number('bonus_total'))}，实为 {fmt_number(bonus)}")
    for p in (p for i in items for p in i.parts if p.kind == "range"):
        if Decimal(str(p.max)) % Decimal(str(step)) != 0:
            raise CampaignError(path, f"rubric.{p.key}", "满分不是步长的整数倍")
    concl = []
    for i, cc in enumerate(r.get("conclusions")):
        cr = _Reader(path, f"rubric.conclusions[{i}]", cc, [], ["name", "min"])
        concl.append((cr.get("name"), cr.number("min")))
    concl.sort(key=lambda x: -x[1])
    veto = _Reader(path, "rubric.veto", r.get("veto") or {}, ["id"], ["key", "label"])
    return Rubric(r.number("base_total"), r.number("bonus_total"), step, tuple(sections),
                  tuple(items), tuple(concl), veto.get("key"), veto.get("label"))


_STAR_FIELDS = {"category", "veto", "conclusion", "satisfaction", "report_use", "risk"}


def _build_stars(path, raw, ranks):
    out = []
    for i, s in enumerate(raw):
        r = _Reader(path, f"stars[{i}]", s, [], ["rule", "level", "conditions"])
        if r.get("level") not in ranks:
            raise CampaignError(path, f"stars[{i}].level", f"不是已定义的等级：{r.get('level')}")
        conds = []
        for j, cnd in enumerate(r.get("conditions")):
            cr = _Reader(path, f"stars[{i}].conditions[{j}]", cnd, ["in", "min", "cap"],
                         ["field", "fail"])
            if cr.get("field") not in _STAR_FIELDS:
                raise CampaignError(path, f"stars[{i}].conditions[{j}].field",
                                    f"只能是 {sorted(_STAR_FIELDS)} 之一：{cr.get('field')!r}")
            conds.append(Condition(cr.get("field"), cr.get("fail"), tuple(cr.get("in", [])),
                                   cr.number("min"), bool(cr.get("cap", False))))
        out.append(StarRule(r.get("rule"), r.get("level"), tuple(conds)))
    out.sort(key=lambda s: -s.level)
    return tuple(out)


# ---------------------------------------------------------------------- M. the dossier
# The parameters each material code reads (dossier.py); anything else is a typo.
MATERIAL_PARAMS = {
    "M03": ("workbook_missing", "workbook_many"),
    "M05": ("missing", "not_docx", "unreadable", "over", "under", "sections"),
    "M11": ("separators",),
    "M12": ("kinds",),
}
_ITEM_KEYS = ("key", "name", "short", "words", "kinds", "categories", "named", "may_be_na")
_DOSSIER_KEYS = ("reference", "provided", "not_applicable", "report", "banner_form_ok",
                 "banner_form_bad", "banner_materials_ok", "banner_materials_bad",
                 "banner_ready", "banner_join", "print", "not_real_message")


def _build_materials(path, raw, categories):
    """[dossier] and [materials.Mxx] (RULES.md M): codes, severities, items, M05 sections.

    Returns:
        (materials, dossier): code -> spec (items as dicts with defaults), and the words.
    """
    dossier = _Reader(path, "dossier", raw.get("dossier") or {}, [], _DOSSIER_KEYS).t
    out, keys = {}, set()
    for code, spec in (raw.get("materials") or {}).items():
        where = f"materials.{code}"
        if not re.fullmatch(r"M\d\d", code):
            raise CampaignError(path, where, "代码应为 M 加两位数字")
        _Reader(path, where, spec, ["kind_message", "items"] + list(MATERIAL_PARAMS.get(code, ())),
                ["severity", "rule", "message"])
        if spec["severity"] not in ("error", "warning"):
            raise CampaignError(path, f"{where}.severity", f"应为 error 或 warning：{spec['severity']!r}")
        items = []
        for i, it in enumerate(spec.get("items", [])):
            r = _Reader(path, f"{where}.items[{i}]", it, ["categories", "named", "may_be_na"],
                        ["key", "name", "short", "words", "kinds"])
            if r.get("key") in keys:
                raise CampaignError(path, f"{where}.items[{i}].key", f"键 {r.get('key')} 重复")
            keys.add(r.get("key"))
            for k in ("words", "kinds"):
                if not r.get(k) or not all(isinstance(w, str) and w for w in r.get(k)):
                    raise CampaignError(path, f"{where}.items[{i}].{k}", "应为非空的文字列表")
            bad = [x for x in r.get("categories", []) if x not in categories]
            if bad:
                raise CampaignError(path, f"{where}.items[{i}].categories", f"没有该类别：{bad[0]}")
            items.append({"key": r.get("key"), "name": r.get("name"), "short": r.get("short"),
                          "words": tuple(r.get("words")),
                          "kinds": tuple(k.lower() for k in r.get("kinds")),
                          "categories": tuple(r.get("categories", [])),
                          "named": bool(r.get("named", False)),
                          "may_be_na": bool(r.get("may_be_na", False)), "code": code})
        for j, sec in enumerate(spec.get("sections", [])):
            sr = _Reader(path, f"{where}.sections[{j}]", sec, [],
                         ["numeral", "words", "title", "min", "max"])
            if not 0 <= sr.number("min") <= sr.number("max"):
                raise CampaignError(path, f"{where}.sections[{j}]", "应有 0 ≤ min ≤ max")
        out[code] = {**spec, "items": tuple(items)}
    if out and dossier.get("report") not in keys:
        raise CampaignError(path, "dossier.report", f"没有该材料项：{dossier.get('report')!r}")
    return out, dossier
