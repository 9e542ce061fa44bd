"""Commitment cues shared by the new label types: hedges and sentence splitting.

An answer commits to a value when it states it without hedging ("maybe", "possibly", "I am not
sure", "it could be"). Negation lives in `_text.negated`; this module adds the hedge test the
choice, boolean, timestamp, bbox and text types apply to the clause that carries their match.
"""
from __future__ import annotations

import re

from .analysis import CLAUSE_WORDS, HARD, PUNCT, SOFT, WORD, Doc

HEDGES = frozenset({"maybe", "perhaps", "possibly", "probably", "might", "unclear", "uncertain", "unsure",
                    "guess", "likely", "presumably", "seemingly", "either"})
# multi-word hedges, as lowercase token tuples
HEDGE_PHRASES = (("not", "sure"), ("could", "be"), ("hard", "to", "tell"), ("hard", "to", "say"),
                 ("difficult", "to", "say"), ("difficult", "to", "tell"), ("cannot", "tell"),
                 ("cant", "tell"), ("can", "not", "tell"), ("not", "certain"), ("it", "depends"),
                 ("or", "maybe"), ("impossible", "to", "tell"), ("impossible", "to", "determine"))
_BREAK_RE = re.compile(r"[.!?]+(?=[\s\"')\]*]|$)|\n")
_MARKER_BEFORE = re.compile(r"(?:^|[\s(\[])(?:[A-Za-z]|\d{1,2}|e\.g|i\.e|vs|etc|Mr|Mrs|Dr|St)$")


def sentence_bounds(doc: Doc, i0: int, i1: int) -> tuple[int, int]:
    """Token range of the sentence(s) holding tokens i0..i1-1 (hard breaks only)."""
    lows, kinds = doc.lows, doc.kinds
    a = i0
    while a > 0 and not (kinds[a - 1] == PUNCT and lows[a - 1] in HARD):
        a -= 1
    b = max(i1, i0)
    while b < len(lows) and not (kinds[b] == PUNCT and lows[b] in HARD):
        b += 1
    return a, b


_STRONG = (("not", "sure"), ("hard", "to", "tell"), ("cannot", "tell"), ("cant", "tell"), ("not", "certain"),
           ("impossible", "to", "tell"), ("impossible", "to", "determine"))


def hedged(doc: Doc, i0: int, i1: int, clause: bool = False) -> int:
    """Index of a hedge cue in the sentence of tokens i0..i1-1 (with `clause`, in its clause, plus
    "not sure"-style cues anywhere in the sentence), or -1."""
    a, b = sentence_bounds(doc, i0, i1)
    lows, kinds = doc.lows, doc.kinds
    if clause:
        for k in range(a, b):
            if any(lows[k:k + len(p)] == list(p) for p in _STRONG):
                return k
        a = doc.clause_start(i0)
        e = max(i1, i0)
        while e < b and not (kinds[e] == PUNCT and lows[e] in SOFT) and lows[e] not in CLAUSE_WORDS:
            e += 1
        b = e
    for k in range(a, b):
        if kinds[k] != WORD:
            continue
        low = lows[k]
        if low in HEDGES:
            if low == "likely" and k and lows[k - 1] in ("most", "very", "highly"):
                continue                               # "most likely" commits, as people use it
            if low == "either" and not any(lows[m] == "or" for m in range(k + 1, b)):
                continue
            return k
        for phrase in HEDGE_PHRASES:
            if lows[k:k + len(phrase)] == list(phrase):
                return k
    return -1


def sentences(text: str) -> list[tuple[int, int]]:
    """Char spans of the sentences of `text` (stripped, non-empty)."""
    out = []
    cuts, start = [], 0
    for m in _BREAK_RE.finditer(text):
        if m.group() != "\n" and _MARKER_BEFORE.search(text[max(0, m.start() - 6):m.start()]):
            continue                   # "A." / "1." option markers and abbreviations end no sentence
        cuts.append((start, m.end()))
        start = m.end()
    if start < len(text):
        cuts.append((start, len(text)))
    for s, e in cuts:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s and any(c.isalnum() for c in text[s:e]):
            out.append((s, e))
    return out
