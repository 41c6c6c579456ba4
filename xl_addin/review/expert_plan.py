"""The formula plan of one expert row, built with issue 3's formula builder.

The row must show 专家总分 (se_total), 评价结论 (se_conclusion), 可评等级 (achievable_level),
缺项数, 无效项数 and 填写状态 exactly as the engine computes them (expert_table.read_row).
The application workbook parses every rubric part in two cells of its own (value, E23
message); an expert row would then carry ~200 formulas. Here the rubric parts are read
straight from the row's input cells instead (issue 14), range by range:

- a part's points: ``SUM`` over the item's cells (text is skipped by SUM), plus the text
  cells that are one of the score spellings (rubric.score_spellings: ５, １．５, 2分 — issue
  20 §5), looked up in a hidden list (``[[list:score_text]]`` / ``[[list:score_value]]``, the
  expert form lays it out) only where a run of cells holds text; N1's words added by value, A3
  as its maximum minus the errors found, M1's penalty applied to its item (S1–S3);
- blank cells (empty, or one of the engine's blank words such as "-" or "－"), counted with
  ``SUMPRODUCT`` over each run of adjacent input cells;
- allowed values: score parts by comparing each cell (number, or spelling's value) with
  every allowed value and a 0/1 mask per column (array constants inside SUMPRODUCT only),
  range and error parts one cell at a time, the choice cells (否决项, the penalty, 测量报告
  应用, 风险) by the builder's own reading of them (value not empty);
- 无效项数 = cells checked − blank − valid (a cell is exactly one of the three); a scoring
  cell among them leaves 可评等级 无法评定 (RULES.md E29, E19), as the engine does.

Only the choice inputs (category, satisfaction, 测量报告应用, 风险, 否决项, the penalty)
keep the builder's parsing cells, as the star rules (L) need their canonical values.
Every constant comes from the campaign; nothing about the 2023 rubric is written here.
"""

from __future__ import annotations

import re

from xl_addin.rules import parse, report_use
from xl_addin.rules.expr import any_equal
from xl_addin.rules.rubric import score_spellings
from xl_addin.sheet.formulas import Builder, array_const, conclusion_expr, lit, num, switch

# Parts an expert must fill for the row to count (the penalty, error count and veto default).
REQUIRED_KINDS = ("score", "range")
STAR_INPUTS = ("category", "satisfaction", "report_use", "risk")
CHOICE_INPUTS = ("report_use", "risk")
# The application's own values, written by `review assign` into locked cells (collect takes
# them from the assignment): read as they are, without the typed-value parsing.
INFO_INPUTS = ("category", "satisfaction")
MAX_FORMULA = 7000  # characters per cell (Excel's limit is 8192); longer sums are split
# The hidden list of score spellings (text, value), laid out by the expert form.
SCORE_TEXT, SCORE_VALUE = "[[list:score_text]]", "[[list:score_value]]"
LISTS = {"score_text": 0, "score_value": 1}  # list name -> column of the hidden list


def use_choices(campaign):
    """测量报告应用 in the expert form: typed word (compared as parse._key compares: folded,
    lower case, no spaces) -> value. An expert chooses; free text is not read."""
    return {parse._key(w): v for w, v in report_use.words(campaign).choices.items()}


def use_expected(campaign):
    """What E23 says a 测量报告应用 cell of the expert form should hold."""
    return "应为 " + "、".join(campaign.choices["report_use_form"])


def score_list(campaign):
    """The rows of the hidden list: (text, value) of rubric.score_spellings."""
    return sorted(score_spellings(campaign).items())


def required_keys(campaign):
    """Input keys a complete row must have, rubric parts first, then 测量报告应用 and 风险."""
    return [p.key for p in campaign.rubric.parts if p.kind in REQUIRED_KINDS] + \
        list(CHOICE_INPUTS)


def checked_keys(campaign):
    """Input keys whose value can be invalid (E23 / E29): every part, the veto, the choices."""
    return [p.key for p in campaign.rubric.parts] + [campaign.rubric.veto_key] + \
        list(CHOICE_INPUTS)


def input_keys(campaign):
    """Every input the plan reads from the row (``in:<key>``)."""
    rb = campaign.rubric
    return [p.key for p in rb.parts] + [rb.veto_key] + list(STAR_INPUTS)


def spans(keys, order):
    """Runs of ``keys`` that sit in adjacent columns of ``order``, as (first, last) pairs."""
    pos = {k: i for i, k in enumerate(order)}
    runs = []
    for k in sorted(keys, key=lambda k: pos.get(k, len(pos))):
        if runs and k in pos and runs[-1][1] in pos and pos[k] == pos[runs[-1][1]] + 1:
            runs[-1][1] = k
        else:
            runs.append([k, k])
    return [tuple(r) for r in runs]


def _ref(first, last):
    return f"[[in:{first}]]" if first == last else f"[[in:{first}]]:[[in:{last}]]"


def _text(ref):
    """A cell's text as parse.is_blank and rubric.typed_score trim it (the ideographic
    space too)."""
    return f'TRIM(SUBSTITUTE({ref}&"","\u3000"," "))'


def _if_text(ref, expr):
    """``expr`` only where ``ref`` holds text (else 0): the list is looked up only then."""
    if ":" not in ref:
        return f"IF(ISTEXT({ref}),{expr},0)"
    return f"IF(SUMPRODUCT(--ISTEXT({ref}))=0,0,{expr})"


def _spelled(ref):
    """Excel (array over ``ref`` × the list): 1 where the cell's text is a score spelling."""
    return f"(ISTEXT({ref})*({_text(ref)}={SCORE_TEXT}))"


def blank_count(keys, order):
    """Excel: how many of ``keys`` hold nothing the engine reads (empty or a blank word)."""
    words = [""] + parse.blank_spellings()
    terms = []
    for first, last in spans(keys, order):
        t = _text(_ref(first, last))
        terms.append("SUMPRODUCT(" + "+".join(f"({t}={lit(w)})" for w in words) + ")")
    return terms


def _score_valid(parts, order):
    """SUMPRODUCT terms: score cells holding one of their allowed values, as a number or as
    a score spelling (text; looked up only where there is text)."""
    terms = []
    by_key = {p.key: p for p in parts}
    pos = {k: i for i, k in enumerate(order)}
    for first, last in spans(list(by_key), order):
        cols = [k for k in order[pos[first]:pos[last] + 1]]
        r = _ref(first, last)
        union = sorted({a for k in cols for a in by_key[k].allowed})
        hits, text_hits = [], []
        for a in union:
            mask = [1 if a in by_key[k].allowed else 0 for k in cols]
            m = "" if all(mask) else f"*{array_const(mask)}"
            hits.append(f"({r}={num(a)}){m}")
            text_hits.append(f"({SCORE_VALUE}={num(a)}){m}")
        terms.append(f"SUMPRODUCT(ISNUMBER({r})*(" + "+".join(hits) + "))")
        terms.append(_if_text(r, f"SUMPRODUCT({_spelled(r)}*(" + "+".join(text_hits) + "))"))
    return terms


def _words_valid(ref, words):
    words = list(dict.fromkeys(words))
    if not words:
        return None
    return f"SUMPRODUCT(--({_text(ref)}={array_const(lit(w) for w in words)}))"


def _read_valid(b, key):
    """1 when the builder's reading of a choice cell gives a value (engine parity)."""
    return f"IF({b.V(key)}=\"\",0,1)"


def _spelled_value(x):
    """Excel: the value of a single text cell that is a score spelling (0 when none)."""
    return f"SUMPRODUCT({_spelled(x)}*{SCORE_VALUE})"


def scoring_valid_terms(b, order):
    """Excel terms whose sum is the number of scoring cells (parts, penalty, 否决项) holding
    a valid value."""
    rb = b.c.rubric
    step = num(rb.step)
    terms = _score_valid([p for p in rb.parts if p.kind == "score"], order)
    items = {p.key: it for it in rb.items for p in it.parts}
    for p in rb.parts:
        x = f"[[in:{p.key}]]"
        it = items.get(p.key)
        if p.kind == "score" and it is not None and it.choices:
            ok = [w for w, v in it.choices.items() if any(abs(v - a) < 1e-9 for a in p.allowed)]
            term = _words_valid(x, ok)
            if term:
                terms.append(term)
        elif p.kind == "range":
            terms.append(f"IF(ISNUMBER({x}),IF(AND({x}>=0,{x}<={num(p.max)},"
                         f"ABS({x}/{step}-ROUND({x}/{step},0))<1E-9),1,0),"
                         f"IF(ISTEXT({x}),SUMPRODUCT({_spelled(x)}*({SCORE_VALUE}<={num(p.max)})*"
                         f"(ABS({SCORE_VALUE}/{step}-ROUND({SCORE_VALUE}/{step},0))<1E-9)),0))")
        elif p.kind == "errors":
            terms.append(f"IF(ISNUMBER({x}),IF(AND({x}>=0,{x}=INT({x})),1,0),"
                         f"IF(ISTEXT({x}),SUMPRODUCT({_spelled(x)}*({SCORE_VALUE}=INT({SCORE_VALUE}))),0))")
        elif p.kind == "penalty":
            terms.append(_read_valid(b, p.key))
    terms.append(_read_valid(b, rb.veto_key))
    return terms


def scoring_keys(campaign):
    """The scoring inputs of a row: every part (penalties included) and the veto."""
    return [p.key for p in campaign.rubric.parts] + [campaign.rubric.veto_key]


def total_expr(b):
    """se_total from the input cells: items, sections, base + bonus, as rubric.score adds."""
    c, rb = b.c, b.c.rubric
    order = b.order

    def item_expr(item):
        plain = [p.key for p in item.parts if p.kind in ("score", "range")]
        refs = [_ref(f, last) for f, last in spans(plain, order)]
        out = "SUM(" + ",".join(refs) + ")" if refs else "0"
        for r in refs:  # score spellings typed as text (５, １．５, 2分)
            out += "+" + _if_text(r, f"SUMPRODUCT({_spelled(r)}*{SCORE_VALUE})")
        for p in item.parts:
            x = f"[[in:{p.key}]]"
            if p.kind == "errors":
                # no count (blank or unreadable) = the full points
                typed = (f"IF(SUMPRODUCT(--{_spelled(x)})>0,"
                         f"MAX(0,{num(item.max)}-{_spelled_value(x)}),{num(item.max)})")
                out = (f"IF(ISNUMBER({x}),MAX(0,{num(item.max)}-{x}),"
                       f"IF(ISTEXT({x}),{typed},{num(item.max)}))")
            elif item.choices and p.kind == "score":
                words = switch(_text(x), {lit(w): num(v) for w, v in item.choices.items()}, "0")
                out += f"+IF(ISNUMBER({x}),0,{words})"
        if item.penalty:
            pen = b.V(item.penalty.key)
            out = f"IF({pen}=\"是\",MAX(0,{out}-{num(item.penalty.points)}),{out})"
        return f"({out})"

    def section(sec):
        items = [item_expr(i) for i in rb.items_of(sec.id)]
        return "(" + "+".join(items) + ")" if items else "0"

    counted = [s for s in rb.sections if not s.bonus or c.decisions.get("bonus_counts", True)]
    # base + bonus (S3), in as few cells as Excel's formula length allows
    return _sum_cells(b.p, "tot", [section(s) for s in counted])


def _sum_cells(p, name, terms):
    """Join terms with + in one cell, or in several when one would be too long."""
    body = "+".join(t for t in terms if t) or "0"
    if len(body) <= MAX_FORMULA:
        return body
    refs, chunk = [], []
    for t in (t for t in terms if t):
        if chunk and len("+".join(chunk + [t])) > MAX_FORMULA:
            refs.append(p.add(f"{name}:{len(refs)}", "+".join(chunk)))
            chunk = []
        chunk.append(t)
    if chunk:
        refs.append(p.add(f"{name}:{len(refs)}", "+".join(chunk)))
    return "+".join(refs)


def prune(plan):
    """Drop the cells no output needs (the builder also makes messages an expert row does
    not show); the remaining cells keep their order."""
    need, todo = set(), list(plan.outputs.values())
    while todo:
        name = todo.pop()
        if name in need or name.startswith(("in:", "list:")):
            continue
        need.add(name)
        todo += [r for r in plan.refs(name) if not r.startswith(("in:", "list:"))]
    plan.cells = {k: v for k, v in plan.cells.items() if k in need}
    plan.instances = []
    return plan


INLINE_MAX = 250  # a helper cell used once and shorter than this goes into its user


def inline(plan):
    """Put each short helper cell used by exactly one other cell into that cell's formula
    (fewer cells per row; each such body is a complete expression, so parenthesised)."""
    ref = re.compile(r"\[\[([^\]]+)\]\]")
    keep = set(plan.outputs.values())
    while True:
        users = {}
        for name, body in plan.cells.items():
            for r in ref.findall(body):
                users.setdefault(r, []).append(name)
        todo = [n for n, body in plan.cells.items() if n not in keep and len(body) <= INLINE_MAX
                and len(users.get(n, ())) == 1 and plan.cells[users[n][0]].count(f"[[{n}]]") == 1]
        if not todo:
            return plan
        n = todo[0]
        user = users[n][0]
        plan.cells[user] = plan.cells[user].replace(f"[[{n}]]", f"({plan.cells[n]})")
        del plan.cells[n]


def expert_plan(campaign, words, order=None):
    """Plan cells of one expert row.

    Args:
        campaign: the Campaign.
        words: the status words (expert_table.WORDS).
        order: the input keys in column order (adjacent keys are read as one range);
            default :func:`input_keys`.
    Returns:
        formulas.Plan with outputs ``total``, ``conclusion``, ``achievable``, ``missing``,
        ``invalid``, ``status``; inputs ``in:<key>`` of :func:`input_keys` and ``in:recused``;
        the hidden list ``list:score_text`` / ``list:score_value`` (:func:`score_list`).
    """
    c = campaign
    rb = c.rubric
    order = list(order or input_keys(c))
    b = Builder(c, "application")
    b.order = order
    for key in STAR_INPUTS:
        if key == "report_use":  # a choice in the expert form: no free text
            b.parsed(key, "choice", mapping={w: lit(v) for w, v in use_choices(c).items()},
                     expected_text=use_expected(c))
        elif key in INFO_INPUTS:  # written by `review assign` (locked): the canonical value
            x = b.inp(key)
            f = c.field("application", key)
            ok = any_equal(x, [lit(ct.name) for ct in c.categories]) if key == "category" else \
                f"AND(ISNUMBER({x}),{x}>={num(f.min)},{x}<={num(f.max)})"
            b.p.add(f"v:{key}", f"IF({ok},{x},\"\")")
        else:
            b.parse_field(c.field("application", key))
    for item in rb.items:
        if item.penalty:
            b.parse_penalty(item.penalty.key)
    b.parse_penalty(rb.veto_key)
    p = b.p
    p.add("se_total", total_expr(b))
    veto = p.add("veto", f"IF({b.V(rb.veto_key)}=\"\",\"否\",{b.V(rb.veto_key)})")
    p.add("se_conclusion", conclusion_expr(c, "[[se_total]]", veto))
    # RULES.md E29, E19: a scoring cell that cannot be read or is out of its allowed values
    # leaves the level 无法评定 (engine.scored)
    scoring = scoring_keys(c)
    p.add("bad_scores", f"{len(scoring)}-({'+'.join(blank_count(scoring, order))})-"
                        f"({_sum_cells(p, 'valid', scoring_valid_terms(b, order))})")
    facts = {"category": b.V("category"), "conclusion": "[[se_conclusion]]",
             "satisfaction": b.V("satisfaction"), "report_use": b.V("report_use"),
             # L1: a blank or unreadable answer is not 无 (stars.evaluate)
             "risk": b.V("risk"),
             "veto": veto}
    b.star(facts, None, unscored="[[bad_scores]]>0")
    # A row counts only when every required cell holds a readable value.
    p.add("missing", _sum_cells(p, "miss", blank_count(required_keys(c), order)))
    blanks = "+".join(blank_count(list(CHOICE_INPUTS), order))
    p.add("invalid", f"[[bad_scores]]+{len(CHOICE_INPUTS)}-({blanks})-("
                     + "+".join(_read_valid(b, k) for k in CHOICE_INPUTS) + ")")
    n_req = len(required_keys(c))
    p.add("status", f"IF([[in:recused]]=\"是\",{lit(words['recused'])},"
                    f"IF([[invalid]]>0,\"有 \"&[[invalid]]&\" 项填写无效\","
                    f"IF([[missing]]=0,{lit(words['complete'])},"
                    f"IF([[missing]]={n_req},{lit(words['empty'])},"
                    f"\"未完成（缺 \"&[[missing]]&\" 项）\"))))")
    p.outputs.clear()
    p.outputs.update(total="se_total", conclusion="se_conclusion",
                     achievable="achievable_level", missing="missing", invalid="invalid",
                     status="status")
    return inline(prune(p))
