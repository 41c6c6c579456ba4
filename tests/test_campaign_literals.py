"""No rule number written twice (issue 9 §2): a text of a campaign file that mentions a
parameter names it as a ``{placeholder}``, filled on load from the parameter, so changing the
parameter changes every text. This test scans every prose string of every campaign file for
numbers and dates equal to a parameter and fails unless they are placeholders."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from xl_addin.rules import campaign as cm

FILES = sorted(p for p in cm.CAMPAIGN_DIR.glob("*.toml") if p.name != "current.toml")

# Strings under these keys are data (ids, words to match, patterns, dates), not prose.
DATA_KEYS = {"variants", "words", "kinds", "separators", "pattern", "key", "id", "rule_id",
             "template_version", "approval_month", "publication_start", "reference_date",
             "publication_after", "unreadable_value_code", "required", "required_row",
             "required_header", "required_top", "fields", "excluded", "strict", "relaxed", "series_words",
             "institution_suffixes", "negators", "negation_links", "use_words",
             "negated_phrases", "not_negation", "strategy_words", "management_words",
             "unclear_words", "none_words", "exempt_review_types", "categories", "choices",
             "start", "end", "date", "established_by", "survey_from", "credit_a_since",
             "earliest", "severity", "relaxed_severity", "other_severity", "field", "wanted",
             "in", "ignore", "extends", "report", "numeral", "type", "only", "block", "by", "shape"}

# Numbers that are not parameters, each with the reason. Keep this list short: anything
# else equal to a parameter must be a placeholder.
ALLOWED = [
    (r"附件\s?\d(?:\s?-\s?\d)?", "numbers of the notice's attachments (附件2-3)"),
    (r"第\s?\d+(?:\s?[–-]\s?\d+)?\s?[项位]", "ordinals: 通知 §五 第1项; 代码第 3–8 位"),
    (r"GB 32100-2015", "the standard's number"),
    (r"\d+ 位", "lengths of codes (18 位, 11 位)"),
    (r"1 开头", "mobile numbers begin with 1"),
    (r"〔\{Y\}〕12号", "the notice's document number"),
    (r"泰安路 74 号", "an address"),
    (r"中旬止于 20 日", "the 中旬 of any month ends on the 20th: a fact of the calendar, not C2"),
    (r"每发现\s?(?:一|1)\s?项[^。]*?扣 1 分", "A3 takes one point per error (kind = errors): "
                                           "the unit of the rule, not the item's maximum"),
    (r"计为 1 人", "one respondent counts as one person"),
    (r"\{Y\}[./年]5[./月]1日?", "example dates of the forms a date may be typed in (E23)"),
]
_ALLOWED_RE = re.compile("|".join(f"(?:{a})" for a, _ in ALLOWED))
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_QUOTE = re.compile(r"“[^”]*”")
_CN = dict(zip("一二三四五六七八九十", range(1, 11)))


def _scalars(v):
    """Numbers and dates anywhere inside ``v`` (booleans are not numbers)."""
    if isinstance(v, dict):
        for x in v.values():
            yield from _scalars(x)
    elif isinstance(v, list):
        for x in v:
            yield from _scalars(x)
    elif isinstance(v, bool):
        return
    elif isinstance(v, (int, float, dt.date)):
        yield v
    elif isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        yield dt.date.fromisoformat(v)


def campaign_wide(filled):
    """Parameters a text anywhere might repeat: dates, the year, and numbers of 10 or more of
    the calendar, flags, materials, stars, conclusions, rubric totals, review and stages.
    Smaller numbers (1–9) are ordinals, counts and points everywhere: they are compared only
    with the text's own table."""
    out = set()
    for name in ("calendar", "flags", "materials", "stars", "review", "stages",
                 "onsite_review"):
        out |= set(_scalars(filled.get(name) or {}))
    rub = filled.get("rubric") or {}
    out |= set(_scalars(rub.get("conclusions") or []))
    out |= {rub.get("base_total"), rub.get("bonus_total"),
            rub.get("base_total", 0) + rub.get("bonus_total", 0)}
    out.add(filled["campaign"]["year"])
    return {v for v in out if isinstance(v, dt.date) or (isinstance(v, (int, float)) and v >= 10)}


def repeats(text, own, wide, key=""):
    """The numbers and dates of ``text`` equal to a parameter (``own``: the text's table;
    ``wide``: campaign-wide), placeholders and allowed numbers removed.

    Returns:
        list of the offending pieces of text.
    """
    t = _PLACEHOLDER.sub(" ", _ALLOWED_RE.sub(" ", text))
    if key == "reference":  # a reference cites the notice word for word, in “quotes”
        t = _QUOTE.sub(" ", t)
    dates = {v for v in own | wide if isinstance(v, dt.date)}
    own_dates = {v for v in own if isinstance(v, dt.date)}
    nums = {float(v) for v in own | wide if not isinstance(v, dt.date)}
    nums |= {float(d.year) for d in dates}
    found = []

    def take(pattern, hit):
        nonlocal t

        def rep(m):
            if hit(m):
                found.append(m.group(0))
            return " "
        t = re.sub(pattern, rep, t)

    g = lambda m, i: int(m.group(i))  # noqa: E731
    take(r"(\d{4})\s?(?:-|年|\.|/)\s?(\d{1,2})\s?(?:-|月|\.|/)\s?(\d{1,2})\s?日?",
         lambda m: any((d.year, d.month, d.day) == (g(m, 1), g(m, 2), g(m, 3)) for d in dates))
    take(r"(\d{4})\s?年\s?(\d{1,2})\s?月",
         lambda m: any((d.year, d.month) == (g(m, 1), g(m, 2)) for d in dates))
    take(r"(\d{1,2})\s?月\s?(\d{1,2})\s?日",
         lambda m: any((d.month, d.day) == (g(m, 1), g(m, 2)) for d in dates))
    take(r"(\d{1,2})\s?月", lambda m: any(d.month == g(m, 1) for d in own_dates))
    take(r"(?<![\d.])(\d{1,2})\s?日", lambda m: any(d.day == g(m, 1) for d in own_dates))
    take(r"([一二三四五六七八九十])\s?年(?:以上|以内)",
         lambda m: float(_CN[m.group(1)]) in {float(v) for v in own if not isinstance(v, dt.date)})
    take(r"(?<![A-Za-z0-9_.])\d+(?:\.\d+)?(?![A-Za-z0-9_])", lambda m: float(m.group(0)) in nums)
    return found


def prose(raw, filled, where=(), scopes=()):
    """(where, key, text, own parameters) for every string of the unsubstituted ``raw``,
    with the parameters of its innermost table read from the filled campaign ``filled``."""
    if isinstance(raw, dict):
        for k, v in raw.items():
            if k in DATA_KEYS:
                continue
            yield from prose(v, filled[k], where + (str(k),), scopes + (filled,))
    elif isinstance(raw, list):
        for i, (v, f) in enumerate(zip(raw, filled)):
            if where and where[-1] == "parts":
                continue  # [key, label, allowed]: the label is a name, the rest data
            yield from prose(v, f, where + (str(i),), scopes)
    elif isinstance(raw, str):
        own = set(_scalars(scopes[-1])) if scopes else set()
        key = next((w for w in reversed(where) if not w.isdigit()), "")
        yield ".".join(where), key, raw, own


def _files():
    for path in FILES:
        raw = cm._read_raw(path, ())
        year = raw["campaign"]["year"]
        filled = cm.fill_placeholders(path, cm.substitute_year(raw, year))
        yield path, raw, filled


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_no_prose_of_a_campaign_file_repeats_a_parameter(path):
    raw = cm._read_raw(path, ())
    filled = cm.fill_placeholders(path, cm.substitute_year(raw, raw["campaign"]["year"]))
    wide = campaign_wide(filled)
    bad = []
    for where, key, text, own in prose(raw, filled):
        hits = repeats(text, own, wide, key)
        if hits:
            bad.append(f"{where}: {hits} in {text!r}")
    assert not bad, "write these as {placeholders} of the parameter:\n" + "\n".join(bad)


@pytest.mark.parametrize("text, own, found", [
    # the scan itself can fail: each rule number written out is caught
    ("满意度不低于 70 分", {70}, ["70"]),
    ("满意度不低于 {min} 分", {70}, []),
    ("第三方调查开展时间须在 2022 年 10 月之后", {dt.date(2022, 10, 1)}, ["2022 年 10 月"]),
    ("“7月中旬”截止读作 7 月 20 日", {dt.date(2023, 7, 20)}, ["7 月 20 日", "7月"]),
    ("工程类须交付使用一年以上、三年以内", {1, 3}, ["一年以上", "三年以内"]),
    ("最高 110 分", set(), ["110"]),  # campaign-wide: the rubric total
    ("附件2-3 申请表，第1项", {2, 3, 1}, []),
    ("每项 2 分，共 6 分", {2, 6}, ["2", "6"]),
])
def test_the_scan_finds_written_out_numbers(text, own, found):
    assert sorted(repeats(text, own, {110})) == sorted(found)


def test_a_prose_placeholder_without_a_parameter_is_refused(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text('[campaign]\nextends = 2023\nyear = 2023\n\n[flags.E15]\n'
                 'rule = "满意度不低于 {minimum} 分"\n', encoding="utf-8")
    with pytest.raises(cm.CampaignError) as e:
        cm.load(str(p))
    assert "flags.E15.rule" in str(e.value) and "{minimum}" in str(e.value)
