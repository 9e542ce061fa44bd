"""Order of events: which option of an ordering question ("X and then Y" / "Y and then X" /
"X and Y simultaneously") an answer states.

Sentence embeddings put "A kettle boils, then a man pours tea" and the reverse at 0.99 cosine,
so a caption that names both events matches both orders equally, or one by chance. Here the
events of each option are read from its connectors ("then", "followed by", "before", "after"),
found in the answer by their words (same stem, a typo, a synonym, or an isolated word within
`WORD_SIM`), and placed by the answer's own connectors (`_contrast` ranks: "then", "before",
"transitions to", "from X to Y", "ends with", ...), by a stated simultaneity ("while", "at the
same time"), or else by the order the answer narrates them in ("slices the bread and spreads
the butter"). An event is found when more than half of the words that set it apart from the
other event of its option are in the answer: objects named without their actions place nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from . import _contrast
from .analysis import HARD, Doc, analyze, token_sim

WORD_SIM = _contrast.WORD_SIM
_SEQ = re.compile(r"[,;]?\s*\b(?:and\s+then|then|followed\s+by|before|after)\b\s*,?\s*", re.I)
_SIMUL = re.compile(r"\b(?:simultaneous(?:ly)?|at\s+the\s+same\s+(?:time|moment)(?:\s+as)?|concurrent(?:ly)?|"
                    r"meanwhile|in\s+the\s+meantime|while|whilst|at\s+once)\b", re.I)
# an answer that also calls the events simultaneous states no single order ("X and then Y ... the
# events happen simultaneously")
_AT_ONCE = re.compile(r"\b(?:simultaneous(?:ly)?|at\s+the\s+same\s+(?:time|moment)|concurrent(?:ly)?)\b", re.I)
_NOT_NARRATED = frozenset({"with", "as", "while", "whilst", "during", "amid"})
_FROM_TO = re.compile(r"\bfrom\b(.+?)\b(?:to|into)\b(.+)", re.I)
_FIRST = re.compile(r"\b(?:first(?:ly)?|initially)\b,?\s*", re.I)
_JOIN = re.compile(r"\s*(?:,|\band\b|\bas\b)\s*", re.I)


@dataclass(frozen=True)
class Ordering:
    """An option read as events: `events` in the order the option states them; `simultaneous`
    when it says they happen at once (events then unordered, possibly none: "both at once")."""

    events: tuple[frozenset[str], ...]
    simultaneous: bool
    states: bool = False        # "from X into Y": two states, placed only by connectors, never by narration


def _stems(text: str) -> frozenset[str]:
    doc = analyze(text)
    return frozenset(doc.stems[i] for i in _contrast.content_tokens(doc))


def ordering(option: str) -> Ordering | None:
    """The events an option orders ("X, then Y", "Y after X", "from X into Y"), or None when it
    orders nothing ("swimming in circles")."""
    text = _FIRST.sub(" ", option)
    if _SIMUL.search(text):
        parts = [p for p in _JOIN.split(_SIMUL.sub(",", text)) if _stems(p)]
        return Ordering(tuple(_stems(p) for p in parts), True)
    m = _SEQ.search(text)
    if not m:
        change = _FROM_TO.search(text)          # "transforming from a square into a flower"
        if change and _stems(change.group(1)) and _stems(change.group(2)) and \
                not all(_contrast.value_sets(analyze(g)) for g in change.groups()):   # "from green to red": a value check's
            return Ordering((_stems(change.group(1)), _stems(change.group(2))), False, states=True)
        return None
    a, b = text[:m.start()], text[m.end():]
    if not _stems(a) or not _stems(b):
        return None
    if m.group().strip(" ,;").lower() == "after":
        a, b = b, a
    return Ordering((_stems(a), _stems(b)), False)


def _mentions(doc: Doc, words: frozenset[str], other: frozenset[str],
              word_sim: Callable[[str, str], float] | None) -> tuple[list[int], bool]:
    """Answer tokens that state an event's words (not words of the other event: "man" is no
    mention of "woman"), and whether more than half of its words are there."""
    tokens = [i for i in _contrast.content_tokens(doc)
              if not any(doc.stems[i] == o or token_sim(o, doc.stems[i], 85.0) for o in other)]
    hits: dict[int, str] = {}
    for w in words:
        same = [i for i in tokens if doc.stems[i] == w or token_sim(w, doc.stems[i], 85.0)
                or _contrast.synonym(w, doc.stems[i])]
        if not same and word_sim is not None:
            same = [i for i in tokens if word_sim(w, doc.lows[i]) >= WORD_SIM]
        hits.update((i, w) for i in same)
    strong = 2 * len(set(hits.values())) > len(words)
    # where most of the event is in one sentence, only those sentences state it ("picks up a nut
    # and turns back. It then eats the nut": the later "nut" is another event)
    sentence, k = [], 0
    for low in doc.lows:
        sentence.append(k)
        k += low in HARD
    full = {k for k in set(sentence) if 2 * len({w for i, w in hits.items() if sentence[i] == k}) > len(words)}
    keep = sorted(i for i in hits if sentence[i] in full) if full else sorted(hits)
    return keep, strong


def _simultaneous(answer: str, doc: Doc, a: int, b: int) -> bool:
    """A simultaneity word in the sentence(s) from the earlier event's to the later event's."""
    lo, hi = min(a, b), max(a, b)
    while lo > 0 and doc.lows[lo - 1] not in HARD:
        lo -= 1
    while hi + 1 < len(doc.lows) and doc.lows[hi] not in HARD:
        hi += 1
    s, e = doc.span(lo, hi + 1)
    return bool(_SIMUL.search(answer[s:e]))


def stated_orders(options: list[str], answer: str,
                  word_sim: Callable[[str, str], float] | None = None) -> list[bool | None] | None:
    """Per option: True when the answer states its order of events, False when it states
    another, None when it says nothing about them; None overall when the options are not an
    ordering question (fewer than two options in sequence)."""
    read = [ordering(o) for o in options]
    if sum(1 for r in read if r is not None and not r.simultaneous) < 2:
        return None
    doc = analyze(answer)
    ranks = _contrast.event_ranks(doc)
    pairs = {r.events for r in read if r is not None and not r.simultaneous}
    out: list[bool | None] = []
    for r in read:
        if r is None:
            out.append(None)
            continue
        if r.simultaneous:
            candidates = [r.events] if len(r.events) >= 2 else list(pairs)
            verdicts = [_relation(answer, doc, ranks, ev, word_sim, r.states) for ev in candidates]
            states = [v for v in verdicts if v is not None]
            out.append(None if not states else any(v == "simultaneous" for v in states))
            continue
        rel = _relation(answer, doc, ranks, r.events, word_sim, r.states)
        out.append(None if rel is None else rel == "in_order")
    return out


def _relation(answer: str, doc: Doc, ranks: list[int], events: tuple[frozenset[str], ...],
              word_sim: Callable[[str, str], float] | None, states: bool = False) -> str | None:
    """'in_order' / 'reversed' / 'simultaneous' for the first two events, None when the answer
    places them nowhere or in both orders. Connectors decide first (every mention of one event
    against every mention of the other, by rank); a stated simultaneity or the narrated order
    only for events whose words are mostly there."""
    if len(events) < 2:
        return None
    a_words, b_words = events[0] - events[1], events[1] - events[0]
    if not a_words or not b_words:
        return None
    ma, strong_a = _mentions(doc, a_words, b_words, word_sim)
    mb, strong_b = _mentions(doc, b_words, a_words, word_sim)
    if not ma or not mb:
        return None
    votes = [(ranks[i] < ranks[j]) - (ranks[i] > ranks[j]) for i in ma for j in mb]
    score = sum(votes)
    at_once = bool(_AT_ONCE.search(answer))
    if score:
        return None if at_once else "in_order" if score > 0 else "reversed"
    if not (strong_a or strong_b):
        return None                          # objects named, no action: "bread and butter on a counter"
    a, b = ma[0], mb[0]
    if _simultaneous(answer, doc, a, b):
        return "simultaneous"
    if at_once or a == b or states:
        return None
    lo, hi = sorted((a, b))
    between = set(doc.lows[lo + 1:hi])
    if not (between & ({"and"} | HARD)) or between & _NOT_NARRATED:
        return None                          # "a man exercising, with turbines turning": no sequence narrated
    if not any(lo < i < hi for i in _contrast.content_tokens(doc)):
        return None                          # "Man and woman smile": one event with two subjects
    return "in_order" if a < b else "reversed"


def vocabulary(options: list[str], answer: str) -> list[str]:
    """The isolated words `stated_orders` may compare by embedding (event words, the answer's
    content words), so a caller can embed them in one batch; [] when the options order nothing."""
    read = [ordering(o) for o in options]
    if sum(1 for r in read if r is not None and not r.simultaneous) < 2:
        return []
    doc = analyze(answer)
    words = {w for r in read if r is not None for ev in r.events for w in ev}
    return sorted(words | {doc.lows[i] for i in _contrast.content_tokens(doc)})

