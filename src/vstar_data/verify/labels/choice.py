"""Choice labels: one correct option among several, e.g. ``{"type": "choice", "name": "answer",
"options": ["The cup.", "The book.", "The towel."], "correct": 0}``.

An answer selects an option by its letter or number in the usual styles (``A``, ``(a)``,
``A.``, ``1.``, ``(B)``, ``Option 2``, ``Caption A``, ``Sentence B``, ``the answer is C``) or by
its text. Option texts are compared by what sets them apart: words that every option shares at
the start or end ("The man is ...", "... a basketball") are dropped, and what is left must appear
in order ("from left to right" is not "from right to left"), inflections and small words aside.
A selection that is negated ("not B", "he is not dribbling") does not count.

Selections stated as a conclusion (the first words, "the answer is B", "the correct caption is
...") win over options merely mentioned along the way; the answer passes when the selected
options are exactly the correct one, stated without hedging. Reasons: `not_found`,
`wrong_option`, `competing` (the correct option and another), `negated`, `hedged`.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from ._claims import hedged, sentences
from .analysis import GLUE, PUNCT, SKIP, WORD, Doc, analyze, negated, stem, token_sim
from .base import LabelResult, LabelType, Profile, unusable

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_KEYWORDS = r"option|caption|sentence|choice|information|candidate|answer|letter"
_KEYWORD_REF = re.compile(rf"\b({_KEYWORDS})s?\b\s*(?:is\s*|:\s*|#\s*|number\s*|no\.?\s*)?\(?([A-Za-z]|\d{{1,2}})\)?"
                          r"(?![\w'’])", re.I)
_LEAD_REF = re.compile(r"^[\s*_#>\"'`]{0,4}(?:(?:the\s+)?(?:final\s+|correct\s+|best\s+)?answer\s*(?:is)?\s*[:：-]?\s*)?"
                       r"\(?([A-Za-z]|\d{1,2})\)?(?=[.):,;!\s*]|$)", re.I)
_PAREN_REF = re.compile(r"\(([A-Z])\)")
# a bare capital letter ("Either A or B", "B is right"); A and I only before punctuation or or/and
_BARE_REF = re.compile(r"(?<![\w'’(])([B-HJ-Z])(?![\w'’])|(?<![\w'’(])([AI])(?=\s*(?:[.),;:!?]|$|\s(?:or|and|is)\b))")
# an explicit answer statement: "the answer is B", "the best caption that matches is:\n\n**Caption B",
# "B is the correct option"
_EXPLICIT_BEFORE = re.compile(r"\b(?:(?:best|correct|right|final|most (?:suitable|accurate|appropriate|likely))\s+"
                              r"(?:option|answer|choice|caption|sentence|description|match|information)|answer)\b"
                              r"[^.!?]{0,40}$", re.I)
_EXPLICIT_AFTER = re.compile(r"^[).*\s]{0,3}[^.!?\n]{0,60}?\b(?:is|seems|appears to be)\s+(?:the\s+)?(?:correct|best|right|"
                             r"most (?:accurate|suitable|appropriate)|answer)\b", re.I)
_CONCLUDE = re.compile(r"\b(?:answer|correct|right|best|choose|chose|select|selected|pick|picked|go with|"
                       r"matches|match|therefore|thus|so)\b[^.!?\n]{0,30}$", re.I)
_NEG_BEFORE = re.compile(r"\b(?:not|never|no|isn['’]?t|aren['’]?t|rather than|instead of|except|nor|neither)"
                         r"\b[^.;!?\n,]{0,25}$", re.I)
_NEG_AFTER = re.compile(r"^\)?\s*(?:is|was|seems)?\s*(?:not\b|n['’]t\b|incorrect|wrong|false|inaccurate|"
                        r"ruled out|eliminated)", re.I)
_AMBIGUOUS = frozenset("AaIi")
_LIST_GAP = re.compile(r"[\s,;]*(?:(?:,|\bor|\bnor|\band)\s*)+", re.I)


def option_index(token: str, n: int) -> int | None:
    """'B' / 'b' -> 1, '2' -> 1; None when outside the n options."""
    if token.isdigit():
        k = int(token) - 1
    else:
        k = LETTERS.find(token.upper())
    return k if 0 <= k < n else None


@lru_cache(maxsize=4096)
def option_cores(options: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """Per option, the stems that set it apart: shared leading/trailing words (articles aside) dropped."""
    words = [[w for w, kind in zip(Doc(o).lows, Doc(o).kinds) if kind != PUNCT] for o in options]
    stems_ = [[stem(w) for w in ws if w not in SKIP] for ws in words]
    if len(stems_) < 2:
        return tuple(tuple(s) for s in stems_)
    pre = 0
    while all(len(s) > pre for s in stems_) and len({s[pre] for s in stems_}) == 1:
        pre += 1
    suf = 0
    while all(len(s) > pre + suf for s in stems_) and len({s[-1 - suf] for s in stems_}) == 1:
        suf += 1
    out = []
    for s in stems_:
        core = s[pre:len(s) - suf]
        out.append(tuple(core) if core else tuple(s))
    return tuple(out)


def _match_core(doc: Doc, core: tuple[str, ...], thr: float) -> list[tuple[int, int]]:
    """Token spans where the core stems appear in order (articles and glue may sit between)."""
    if not core:
        return []
    stems, lows, kinds = doc.stems, doc.lows, doc.kinds
    n, out = len(stems), []
    for j in range(n):
        if kinds[j] == PUNCT or not token_sim(core[0], stems[j], thr):
            continue
        i, k = 1, j + 1
        while i < len(core) and k < n:
            if kinds[k] == PUNCT:
                if lows[k] in GLUE or lows[k] == ",":
                    k += 1
                    continue
                break
            if token_sim(core[i], stems[k], thr):
                i, k = i + 1, k + 1
            elif lows[k] in SKIP:
                k += 1
            else:
                break
        if i == len(core):
            out.append((j, k))
    return out


def _char_to_token(doc: Doc, pos: int) -> int:
    for t in range(len(doc.kinds)):
        s, e = doc.span(t, t + 1)
        if e > pos:
            return t
    return max(len(doc.kinds) - 1, 0)


def selections(spec: dict[str, Any], answer: str, thr: float = 85.0) -> list[dict[str, Any]]:
    """Every option the answer refers to: {index, start, end, conclusion, negated, hedged}."""
    options = [str(o) for o in spec["options"]]
    n = len(options)
    out: list[dict[str, Any]] = []

    def add(k: int | None, s: int, e: int, conclusion: bool) -> None:
        if k is None:
            return
        before = answer[max(0, s - 60):s]
        neg = bool(_NEG_BEFORE.search(before)) or bool(_NEG_AFTER.match(answer[e:e + 30]))
        out.append({"index": k, "start": s, "end": e, "conclusion": conclusion, "negated": neg,
                    "tier": _tier(answer, s, e, conclusion)})

    lead = _LEAD_REF.match(answer)
    if lead:
        tok = lead.group(1)
        after = answer[lead.end(1):]
        rest = re.split(r"[.\n]", re.sub(r"^\)?[.):,;\s*]*", "", after), maxsplit=1)[0]
        article = tok in _AMBIGUOUS and re.match(r"\s+[a-z]", after) is not None
        k = option_index(tok, n)
        numbered_step = (tok.isdigit() and after.startswith(".") and rest.strip()
                         and k is not None and not _mentions(options, k, rest, thr))
        if not article and not numbered_step:
            add(k, lead.start(1), lead.end(1), True)
            if out:
                out[-1]["tier"] = 3
    for m in _KEYWORD_REF.finditer(answer):
        keyword, tok = m.group(1).lower(), m.group(2)
        after = answer[m.end():m.end() + 12]
        if keyword in ("answer", "letter") and tok in _AMBIGUOUS and re.match(r"\s+[a-z]", after):
            continue                                           # "the answer is a man ..."
        if keyword == "information" and tok.isdigit():
            continue
        conclusion = keyword in ("answer", "letter") or bool(_CONCLUDE.search(answer[max(0, m.start() - 40):m.start()]))
        if lead and m.start(2) == lead.start(1):
            continue
        add(option_index(tok, n), m.start(2), m.end(2), conclusion)
    for m in _PAREN_REF.finditer(answer):
        if any(sel["start"] == m.start(1) for sel in out):
            continue
        add(option_index(m.group(1), n), m.start(1), m.end(1),
            bool(_CONCLUDE.search(answer[max(0, m.start() - 40):m.start()])))
    for m in _BARE_REF.finditer(answer):
        g = 1 if m.group(1) else 2
        if any(sel["start"] <= m.start(g) < sel["end"] for sel in out):
            continue
        add(option_index(m.group(g), n), m.start(g), m.end(g),
            bool(_CONCLUDE.search(answer[max(0, m.start() - 40):m.start()])))
    doc = analyze(answer)
    for k, core in enumerate(option_cores(tuple(options))):
        for i0, i1 in _match_core(doc, core, thr):
            s, e = doc.span(i0, i1)
            if any(sel["index"] != k and sel["start"] <= s and e <= sel["end"] and sel.get("text")
                   for sel in out):
                continue
            conclusion = bool(_CONCLUDE.search(answer[max(0, s - 40):s])) or i0 == _first_word(doc)
            out.append({"index": k, "start": s, "end": e, "conclusion": conclusion, "text": True,
                        "negated": negated(doc, i0, i1) >= 0, "tier": _tier(answer, s, e, conclusion)})
    # "there is no shopping, working out, or gardening": a list continues the negation of its first item
    texts_sorted = sorted((sel for sel in out if sel.get("text")), key=lambda x: x["start"])
    for prev, sel in zip(texts_sorted, texts_sorted[1:]):
        if prev["negated"] and not sel["negated"] and _LIST_GAP.fullmatch(answer[prev["end"]:sel["start"]]):
            sel["negated"] = True
    # what the answer says first is its answer: a reference opening it ("Caption B: ...", "**B**"),
    # or an option named in its first sentence ("The video is a time-lapse. In a normal-speed video ...")
    opening = re.match(r"[\s*_#>\"'`]*", answer).end()
    first = sentences(answer)
    first_end = first[0][1] if first else len(answer)
    for sel in out:
        if sel["start"] <= opening + 1 and not sel.get("text") or \
                re.fullmatch(r"(?:" + _KEYWORDS + r")s?\s*", answer[opening:sel["start"]], re.I):
            sel["tier"] = 3
        elif sel["start"] < first_end:
            sel["tier"] = max(sel["tier"], 2)
    # a text match inside a longer option's match is that longer option ("dunking" in "not dunking")
    texts = [sel for sel in out if sel.get("text")]
    keep = []
    for sel in out:
        if sel.get("text") and any(o is not sel and o["index"] != sel["index"] and o["start"] <= sel["start"]
                                   and sel["end"] <= o["end"] and (o["end"] - o["start"]) > (sel["end"] - sel["start"])
                                   for o in texts):
            continue
        keep.append(sel)
    for sel in keep:
        t0 = _char_to_token(doc, sel["start"])
        sel["hedged"] = hedged(doc, t0, t0 + 1, clause=True) >= 0 if len(doc) else False
    return keep


def _tier(answer: str, s: int, e: int, conclusion: bool) -> int:
    """3: stated as the answer; 2: in a concluding clause ("so", "therefore"); 1: mentioned."""
    if _EXPLICIT_BEFORE.search(answer[max(0, s - 80):s]) or _EXPLICIT_AFTER.match(answer[e:e + 80]):
        return 3
    return 2 if conclusion else 1


SEMANTIC_MARGIN = 0.02      # the closest option must beat the next one by this much cosine similarity


def _units(answer: str) -> list[tuple[int, int]]:
    spans = sentences(answer)
    return spans + [(0, len(answer))] if len(spans) > 1 else spans or [(0, len(answer))]


def _semantic(type_name: str, spec: dict[str, Any], answer: str) -> LabelResult:
    """`select_by: text` with `min_similarity`: no option's words appear, so compare meanings. The
    option closest to some sentence of the answer (all-MiniLM-L6-v2 cosine) is selected when it
    reaches `min_similarity` and beats every other option by `SEMANTIC_MARGIN` (or, among options that
    close, is the only one whose direction, colour or count the answer states); a negated or hedged
    best sentence does not count."""
    from . import _contrast, _embed, _events
    from .text import _negative

    name = spec.get("name", "")
    units = _units(answer)
    options = [str(o) for o in spec["options"]]
    vecs = _embed.embed([answer[s:e] for s, e in units])
    sims = _embed.embed(options) @ vecs.T                  # options x units
    best_unit = sims.argmax(axis=1)
    per_option = [float(sims[k, best_unit[k]]) for k in range(len(options))]
    # embeddings cannot tell "from left to right" from "from right to left": an option the answer
    # contradicts in direction, colour, count or order of events is out of the running
    clashes = [_contrast.value_conflict(analyze(o), analyze(answer[units[int(best_unit[k])][0]:units[int(best_unit[k])][1]]))
               or _contrast.order_conflict(analyze(o), analyze(answer)) for k, o in enumerate(options)]
    # nor can they see which of two events comes first: an ordering question ("X, then Y" /
    # "Y, then X" / "both at once") is settled by the order the answer states, never by closeness
    orders = _events.stated_orders(options, answer, _embed.word_sim)
    if orders is not None:
        clashes = [bool(c) or orders[k] is False for k, c in enumerate(clashes)]
    if not all(clashes):
        per_option = [-1.0 if clashes[k] else per_option[k] for k in range(len(options))]
    order = sorted(range(len(options)), key=lambda k: -per_option[k])
    in_order = [k for k in order if orders is not None and orders[k] and per_option[k] > -1.0]
    playback = [] if in_order else _stated_playback(options, answer, per_option)
    by_value = bool(playback)
    if by_value:                # "filmed in real time": the one option with the playback the caption states
        in_order = playback
    elif not in_order:          # "dribbles the ball from left to right", "an eye opening": the one such option
        in_order = _stated_direction_or_change(options, answer, per_option)
        by_value = bool(in_order)
    if in_order:
        order = in_order + [k for k in order if k not in in_order]
    # options too close to tell apart by meaning ("faster than" / "at the same speed as"): the one
    # option whose direction, colour or count the answer states is the one it describes
    close = [k for k in order if per_option[k] > -1.0 and per_option[order[0]] - per_option[k] < SEMANTIC_MARGIN]
    stated = [k for k in close if _contrast.shared_value(analyze(options[k]), analyze(answer))]
    tie_broken = len(close) > 1 and len(stated) == 1 and not in_order
    if tie_broken:
        order = stated + [k for k in order if k != stated[0]]
    k, score = order[0], max(0.0, min(1.0, per_option[order[0]]))
    s, e = units[int(best_unit[k])]
    extra = {"selected": [k], "similarity": round(score, 4), "semantic": True}
    # an order the answer states for the option's own events is found, however far the wording
    # ("Both events occur at the same time" is close to no caption)
    if score < float(spec["min_similarity"]) and len(in_order) != 1:
        return LabelResult(name, type_name, False, score, reason="not_found", extra=extra)
    unordered = orders is not None and not in_order and _events.ordering(options[k]) is not None
    if not in_order:
        unstated = unstated_value(options, k, answer)
        if unstated:            # "a time-lapse of two plants growing" for "growing at the same speed as ..."
            return LabelResult(name, type_name, False, score, (s, e), answer[s:e], reason="not_found",
                               extra={**extra, "unstated": unstated})
    if len(in_order) == 1:
        extra["stated_value" if by_value else "stated_order"] = True
    elif tie_broken:
        extra["stated_value"] = True
    elif unordered:             # the events, but no order of them: closeness would pick an order by chance
        others = [j for j in order[1:] if _events.ordering(options[j]) is not None]
        return LabelResult(name, type_name, False, score, (s, e), answer[s:e], reason="competing",
                           extra={**extra, "selected": [k] + others[:1], "no_stated_order": True})
    elif len(options) > 1 and score - per_option[order[1]] < SEMANTIC_MARGIN:
        return LabelResult(name, type_name, False, score, (s, e), answer[s:e], reason="competing",
                           extra={**extra, "selected": order[:2]})
    if k != int(spec["correct"]):
        return LabelResult(name, type_name, False, 0.0, (s, e), answer[s:e], reason="wrong_option", extra=extra)
    both = both_values(options, k, answer)
    if both:
        return LabelResult(name, type_name, False, score, (s, e), answer[s:e], reason="competing",
                           extra={**extra, "both_values": both})
    doc = analyze(answer[s:e])
    if _negative(answer[s:e]) and not _negative(options[k]):
        return LabelResult(name, type_name, False, score, (s, e), answer[s:e], reason="negated", extra=extra)
    if len(doc) and hedged(doc, 0, len(doc)) >= 0:
        return LabelResult(name, type_name, False, score, (s, e), answer[s:e], reason="hedged", extra=extra)
    return LabelResult(name, type_name, True, score, (s, e), answer[s:e], extra=extra)


# classes whose value is said with its own word ("faster", "zooming in", "red", "two"); changes
# such as appearing or growing have paraphrases ("materializes") that embeddings do see
VALUE_WORD_CLASSES = frozenset({"speed", "count", "colour", "horizontal", "vertical", "rotation", "zoom", "depth",
                                "forward", "playback"})


def _stated_playback(options: list[str], answer: str, per_option: list[float]) -> list[int]:
    """[k] when option k is the only one in the running whose playback ("time-lapse", "slow
    motion", "normal speed") the answer states; else []."""
    from . import _contrast

    said = _contrast.value_sets(analyze(answer)).get("playback")
    if not said:
        return []
    hits = [k for k, o in enumerate(options) if per_option[k] > -1.0
            and _contrast.value_sets(analyze(o)).get("playback", frozenset()) & said]
    return hits if len(hits) == 1 else []


# classes whose stated value picks an option however far the caption's other words are from it
# ("an aerial shot ascending over a cathedral" for "upwards"); speed is left out: "climbs quickly"
# is no comparison with the person below
DIRECTION_CLASSES = frozenset({"horizontal", "vertical", "depth", "rotation", "zoom", "forward"})


# classes of two states where a verb names the change into one ("opening", "fills", "empties"):
# it states an option "from <the other> to <that one>"; an adjective ("stands open") states no change
CHANGE_CLASSES = frozenset({"open", "fill", "appear"})
_DIRECTION_NEXT = frozenset({"to", "and", "or", "then", "side", "into", "across", "while", "as", "before", "after"})


def _stated_direction_or_change(options: list[str], answer: str, per_option: list[float]) -> list[int]:
    """[k] when option k is the only one in the running whose direction values the answer
    affirms, every one of them (a reversed "from right to left" is already out of the running),
    or whose change ("from closed to open") the answer names by its verb ("opening"); else []."""
    from . import _contrast

    doc = analyze(answer)
    said: dict[str, set[int]] = {}
    changed: dict[str, set[int | None]] = {}
    for cls, pole, i in _contrast.poles(doc):
        if negated(doc, i, i + 1) >= 0:
            continue
        low = doc.lows[i]
        if cls in CHANGE_CLASSES:      # a change verb ("opening", "empties"), or a state ("open": None)
            verb = low.endswith("ing") or (low.endswith("s") and not low.endswith("ss"))
            changed.setdefault(cls, set()).add(pole if verb else None)
        if cls not in DIRECTION_CLASSES:
            continue
        if low in ("left", "right") and i + 1 < len(doc.lows) and doc.kinds[i + 1] == WORD \
                and doc.lows[i + 1] not in _DIRECTION_NEXT:
            continue                                        # "right place, wrong time": an adjective
        said.setdefault(cls, set()).add(pole)
    if not said and not changed:
        return []
    hits = []
    for k, option in enumerate(options):
        if per_option[k] <= -1.0:
            continue
        opt = analyze(option)
        own = {c: v for c, v in _contrast.value_sets(opt).items() if c in DIRECTION_CLASSES}
        moves = {c: _contrast.ordered_values(opt, c) for c in CHANGE_CLASSES}
        moves = {c: v[-1] for c, v in moves.items() if len(v) == 2}         # "from X to Y": Y
        if (own or moves) and all(v <= said.get(c, set()) for c, v in own.items()) \
                and all(changed.get(c) == {end} for c, end in moves.items()):
            hits.append(k)
    return hits if len(hits) == 1 else []


def unstated_value(options: list[str], k: int, answer: str) -> str | None:
    """The closed class (speed, zoom, colour, count, ...) that sets option k apart from another
    option when the answer states no value of it: closeness of the other words cannot pick an
    option that differs only there."""
    from . import _contrast

    own = {c: v for c, v in _contrast.value_sets(analyze(options[k])).items() if c in VALUE_WORD_CLASSES}
    if not own:
        return None
    said = _contrast.value_sets(analyze(answer))
    for j, other in enumerate(options):
        if j == k:
            continue
        theirs = _contrast.value_sets(analyze(other))
        for cls, values in own.items():
            if cls in theirs and theirs[cls] != values and cls not in said:
                return cls
    return None


def both_values(options: list[str], k: int, answer: str) -> str | None:
    """The class in which the answer states option k's value and also a value only another option
    has ("getting smaller and larger"): it commits to neither. Speed is left out: a comparison
    names both sides ("the upper wave is slower, the lower one faster")."""
    from . import _contrast

    own = _contrast.value_sets(analyze(options[k]))
    said = _contrast.value_sets(analyze(answer), affirmed=True)
    for j, other in enumerate(options):
        if j == k:
            continue
        for cls, values in _contrast.value_sets(analyze(other)).items():
            if cls == "speed" or cls not in own or not own[cls] & said.get(cls, frozenset()):
                continue
            if (values - own[cls]) & said.get(cls, frozenset()):
                return cls
    return None


def _first_word(doc: Doc) -> int:
    return next((k for k in range(len(doc.kinds)) if doc.kinds[k] == WORD and doc.lows[k] not in SKIP), -1)


def _mentions(options: list[str], k: int, text: str, thr: float) -> bool:
    return bool(_match_core(analyze(text), option_cores(tuple(options))[k], thr))


class ChoiceLabel(LabelType):
    """One of several options; passes when the answer selects exactly the correct one."""

    type_name = "choice"

    def check(self, spec: dict[str, Any], answer: str, profile: Profile) -> LabelResult:
        name = spec.get("name", "")
        correct = int(spec["correct"])
        found = selections(spec, answer, float(profile.fuzzy_threshold))
        if spec.get("select_by") == "text" and not option_cores(tuple(str(o) for o in spec["options"]))[correct]:
            return unusable(self.type_name, spec, f"option {spec['options'][correct]!r}")   # "🙂": no words
        if spec.get("select_by") == "text":              # a caption must describe the option, not name it
            found = [f for f in found if f.get("text")]
            if not found and spec.get("min_similarity") is not None:
                return _semantic(self.type_name, spec, answer)
        live = [s for s in found if not s["negated"]]
        if not live:
            if found:
                s, e = found[0]["start"], found[0]["end"]
                return LabelResult(name, self.type_name, False, 0.0, (s, e), answer[s:e], reason="negated")
            return LabelResult(name, self.type_name, False, 0.0, reason="not_found")
        top = max(s["tier"] for s in live)
        chosen = [s for s in live if s["tier"] == top]
        picked = {s["index"] for s in chosen}
        best = next((s for s in chosen if s["index"] == correct), chosen[0])
        s, e = best["start"], best["end"]
        extra = {"selected": sorted(picked)}
        if correct not in picked:
            return LabelResult(name, self.type_name, False, 0.0, (s, e), answer[s:e], reason="wrong_option", extra=extra)
        if len(picked) > 1:
            return LabelResult(name, self.type_name, False, 1.0 / len(picked), (s, e), answer[s:e],
                               reason="competing", extra=extra)
        if best["hedged"]:
            return LabelResult(name, self.type_name, False, 0.5, (s, e), answer[s:e], reason="hedged", extra=extra)
        both = both_values([str(o) for o in spec["options"]], correct, answer) \
            if spec.get("select_by") == "text" else None
        if both:                # a caption that says "smaller and larger" describes neither option
            return LabelResult(name, self.type_name, False, 0.5, (s, e), answer[s:e], reason="competing",
                               extra={**extra, "both_values": both})
        return LabelResult(name, self.type_name, True, 1.0, (s, e), answer[s:e], extra=extra)

    def prepare(self, specs: list[dict[str, Any]], answers: list[str]) -> None:
        """Embed, in one batch, what the semantic fallback of `select_by: text` labels may compare
        (options, answer sentences, and for ordering questions the isolated words of the events)."""
        from . import _events

        texts: list[str] = []
        for spec, answer in zip(specs, answers):
            if spec.get("select_by") == "text" and spec.get("min_similarity") is not None and answer.strip():
                options = [str(o) for o in spec["options"]]
                texts += options + [answer[s:e] for s, e in _units(answer)] + _events.vocabulary(options, answer)
        if texts:
            from . import _embed

            _embed.embed(texts)

    def hint_text(self, spec: dict[str, Any]) -> str:
        k = int(spec["correct"])
        return f"({LETTERS[k]}) {str(spec['options'][k]).strip()}"

    def answer_text(self, spec: dict[str, Any]) -> str:
        return self.hint_text(spec)
