"""Generated applications for the differential between the engine and the sheet's formulas
(issue 20: "biased to thresholds, blanks and typed variants").

Each case starts from the boundary cases or a random plausible application of
tests/lo_cases.py, then, by chance, gets typed variants pasted into a few fields (full-width
digits, units, date forms, 是/否 words …), a 测量报告应用 phrasing of the E24 table, some
fields blanked, and a rubric total just below, at or above a conclusion's minimum. Seeded:
the same seed gives the same cases.
"""

from __future__ import annotations

import random
from pathlib import Path

import lo_cases
import yaml

from xl_addin.rules import engine, stars

PHRASINGS = Path(__file__).parent / "cases" / "report_use_phrasings.yaml"
RISKY = ("satisfaction", "category", "level", "risk", "report_use", "fill_date", "uscc",
         "contact_mobile", "respondents", "survey_start", "survey_end", "employees",
         "beneficiaries", "revenue_last", "service_staff")


def phrasings():
    data = yaml.safe_load(PHRASINGS.read_text(encoding="utf-8"))
    return [t for texts in data.values() for t in texts]


def input_keys(c):
    keys = [f.key for f in c.fields["application"] if f.block != "derived"]
    return keys + [p.key for p in c.rubric.parts] + [c.rubric.veto_key]


def cases(n, seed, c):
    """``n`` applications (dicts of raw inputs, with ``respondents_listed``)."""
    rng = random.Random(seed)
    targeted = lo_cases.targeted_applications(c)
    uses = phrasings()
    keys = input_keys(c)
    lim = lo_cases.limits(c)
    full = lo_cases.base_application(c)
    out = []
    for _ in range(n):
        if rng.random() < 0.2:
            a = dict(targeted[rng.randrange(len(targeted))])
        else:
            a = lo_cases.random_application(rng, c)
        r = rng.random()
        if r < 0.5:  # typed variants pasted into a few fields
            typed = lo_cases.typed_variant_row(rng, c)
            for k in rng.sample(keys, rng.randint(1, 8)):
                a[k] = typed[k]
        if rng.random() < 0.3:
            typed = lo_cases.typed_variant_row(rng, c)
            for k in rng.sample(RISKY, rng.randint(1, 3)):
                a[k] = typed.get(k)
        if rng.random() < 0.2:
            a["report_use"] = rng.choice(uses)
        if rng.random() < 0.2:  # blanks
            for k in rng.sample(keys, rng.randint(1, 3)):
                a[k] = None
        if rng.random() < 0.15:  # a total at a conclusion's threshold (S4)
            m = rng.choice(lim.concl)
            drop = lim.full - m + rng.choice([-lim.step, 0, lim.step])
            for p in c.rubric.parts:
                a[p.key] = full.get(p.key)
            a.update(lo_cases._drop_points(c, full, drop))
        if "respondents_listed" not in a or rng.random() < 0.1:
            a["respondents_listed"] = rng.choice([0, 9, lim.threshold, lim.threshold + 3])
        out.append(a)
    return out


APP_OUTPUTS = ("se_base", "se_bonus", "se_total", "se_conclusion", "achievable_level",
               "proposed_level", "level_reason", "flags", "flag_text", "error_count",
               "warning_count", "status")


def expected(case, c):
    """What the engine says, in the shape of :data:`APP_OUTPUTS` (numbers as floats)."""
    ev = engine.evaluate_application(dict(case), c)
    s = ev.star
    return {"se_base": ev.rubric.base, "se_bonus": ev.rubric.bonus, "se_total": ev.rubric.total,
            "se_conclusion": ev.rubric.conclusion,
            "achievable_level": c.level_name(s.achievable),
            "proposed_level": stars.proposed_name(c, s, ev.values.get("level")) or "",
            "level_reason": s.reason, "flags": ev.codes, "flag_text": ev.messages,
            "error_count": float(ev.error_count), "warning_count": float(ev.warning_count),
            "status": ev.status}


def differences(got, want):
    """[(output, sheet, engine)] where they differ (floats compared to 1e-9)."""
    out = []
    for k in APP_OUTPUTS:
        g, w = got[k], want[k]
        if isinstance(w, float) and isinstance(g, (int, float)) and not isinstance(g, bool):
            if abs(g - w) < 1e-9:
                continue
        elif g == w:
            continue
        out.append((k, g, w))
    return out
