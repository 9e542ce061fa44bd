"""A source's vocabulary (its class list) indexed for finding which classes an answer names.

The commitment check needs the rival values of a label: for a category, the other classes of the
source's vocabulary that the answer states. Matching 700 class names against every answer would
be slow, so each vocabulary list is compiled once (cached by the list object) into an index from a
class's longest content stem to the classes that need it; an answer only tries the classes all of
whose words it contains. Label types with a closed set of values (category today; a future choice
type) share it. `disjunction_forms` spells out a class name that is a disjunction ("trimming or
shaving beard"), either alternative of which satisfies it.

Without a vocabulary, rivals can still be seen from the answer's shape: `listed_alternatives`
finds short phrases offered beside the label as alternatives ("yoga or tai chi", a bare list),
`corrected_claims` what a correction after the label goes on to claim ("looks like X at first,
but it is Y").
"""
from __future__ import annotations

from typing import Any, Callable

from ._commitment import CONTRAST, CORRECT
from .analysis import FUNCTION, NEG, PUNCT, SKIP, WORD, Doc


class _Vocabulary:
    """A source's class list indexed by stem, to find the rival classes an answer names."""

    __slots__ = ("names", "index")

    def __init__(self, names: Any, compile: Callable[[str], Any]) -> None:
        self.names = names
        self.index: dict[str, list[tuple[str, frozenset[str]]]] = {}
        for name in names:
            for var in compile(str(name)):
                need = frozenset(t.stem for t in var.toks if not t.optional)
                if need:
                    key = max(need, key=len)
                    self.index.setdefault(key, []).append((str(name), need))

    def named(self, doc: Doc) -> list[str]:
        """Classes all of whose words occur in the answer (cheap filter before matching)."""
        stems = doc.cache.get("stemset")
        if stems is None:
            stems = doc.cache["stemset"] = set(doc.stems)
        out: list[str] = []
        for s in stems.intersection(self.index):
            for name, need in self.index[s]:
                if need <= stems and name not in out:
                    out.append(name)
        return out


_VOCABS: dict[tuple[int, int], _Vocabulary] = {}


def vocabulary_index(names: Any, compile: Callable[[str], Any]) -> _Vocabulary:
    """The (cached) index of a vocabulary list; the cache is keyed by the list object itself.

    `compile(name)` gives a class's phrasings, each with `.toks` (items with `.stem`, `.optional`).
    """
    key = (id(names), id(compile))
    hit = _VOCABS.get(key)
    if hit is None or hit.names is not names:
        if len(_VOCABS) > 64:
            _VOCABS.clear()
        hit = _VOCABS[key] = _Vocabulary(names, compile)
    return hit


_PREPOSITIONS = frozenset({"with", "on", "in", "at", "to", "from", "off", "into"})


def disjunction_forms(words: list[str]) -> list[list[str]]:
    """A disjunctive class name said by one alternative: "trimming or shaving beard" -> "trimming
    beard", "shaving beard"; "canoeing or kayaking"; "playing squash or racquetball" -> "playing
    racquetball"; "riding or walking with horse" -> "riding with horse", "riding horse"."""
    if "or" not in words:
        return []
    k = words.index("or")
    left, right = words[:k], words[k + 1:]
    if not left or not right or "or" in right:
        return []
    out: list[list[str]] = []
    if len(left) == 1:                       # the alternatives share the tail
        out += [left + right[1:], right]
        if len(right) > 2 and right[1] in _PREPOSITIONS:
            out += [left + right[2:], right[:1] + right[2:]]
    elif len(right) == 1:                    # the alternatives share the head
        out += [left, left[:-1] + right]
    else:
        out += [left, right]
    return [w for w in out if w]


_LIST_LINK = frozenset({",", "/", "or", "either", "maybe", "perhaps", "possibly", "?", "-", "–", "—", "a", "an",
                        "the"})
_LIST_ALT = frozenset({",", "/", "or", "?"})


def listed_alternatives(doc: Doc, gold: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Without a vocabulary: short phrases offered next to the class as alternatives ("yoga or tai
    chi", "juggling balls / spinning poi", "abseiling, rock climbing, ice climbing")."""
    lows, kinds = doc.lows, doc.kinds
    n = len(lows)
    out: list[tuple[int, int]] = []
    for g0, g1 in gold:
        alone = doc.clause_start(g0) == g0
        for step in (1, -1):
            k, gap = (g1, []) if step == 1 else (g0 - 1, [])
            while 0 <= k < n and lows[k] in _LIST_LINK and len(gap) < 3:
                gap.append(lows[k])
                k += step
            if not _LIST_ALT & set(gap):
                continue
            words: list[int] = []
            while 0 <= k < n and kinds[k] == WORD and (lows[k] not in _LIST_LINK or (words and lows[k] in SKIP)) \
                    and len(words) < 5:
                if lows[k] not in SKIP:
                    words.append(k)
                k += step
            after = lows[k] if 0 <= k < n else "."
            ends = k < 0 or k >= n or kinds[k] == PUNCT or after in ("or", "and")
            if not words or len(words) > 3 or not ends \
                    or any(lows[w] in FUNCTION or lows[w] in NEG or lows[w].endswith("ly") for w in words):
                continue
            if not ("or" in gap or "/" in gap or alone or (step == 1 and after in ("or", ","))):
                continue
            if not ("or" in gap or "/" in gap or alone or any(lows[w].endswith("ing") for w in words)):
                continue
            a, b = min(words), max(words) + 1
            if not any(a < h1 and h0 < b for h0, h1 in gold):
                out.append((a, b))
    return out


def corrected_claims(doc: Doc, gold: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Without a vocabulary: what a correction after the class goes on to claim ("looks like rock
    climbing at first, but it is [abseiling]", "jogging - no, he is [running]")."""
    lows, kinds = doc.lows, doc.kinds
    n = len(lows)
    out: list[tuple[int, int]] = []
    for _, g1 in gold:
        for j in range(g1, min(g1 + 25, n)):
            if lows[j] in CORRECT or lows[j] in CONTRAST or (lows[j] == "no" and j + 1 < n and kinds[j + 1] == PUNCT):
                for k in range(j + 1, min(j + 7, n)):
                    if lows[k] in ("is", "are", "was", "s", "re"):
                        m = k + 1
                        while m < n and kinds[m] == WORD and (lows[m] in FUNCTION or lows[m].endswith("ly")
                                                              or lows[m] in ("actually", "in", "fact")):
                            m += 1
                        if m < n and kinds[m] == WORD and not any(h0 <= m < h1 for h0, h1 in gold):
                            out.append((m, m + 1))
                        break
                break
    return out


def _bare(doc: Doc, idx: list[int]) -> bool:
    """Only content words and articles: a name in a list, not a clause ("he is ...", "with a rope")."""
    return bool(idx) and all(doc.lows[k] in SKIP or (doc.lows[k] not in FUNCTION and doc.lows[k] not in NEG)
                             for k in idx)


def _ing(low: str) -> bool:
    return len(low) > 4 and low.endswith("ing")


def enumerated_items(doc: Doc, gold: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Without a vocabulary: the other items of a long enumeration the class is one item of, in any
    layout ("a; b; c; d", "a and b and c and d", "1. a 2. b 3. c", bullets, one per sentence, or a
    run-on "abseiling rock climbing ice climbing bouldering"). An enumeration is at least three
    other bare items (no clause words) shaped like the class (an "-ing" activity when the class is
    one); a list of equipment or of steps after the class ("with a rope, a harness and gloves",
    "he strums, frets chords") is not one. Returns their token ranges, or []."""
    lows, kinds = doc.lows, doc.kinds
    segments: list[list[int]] = [[]]
    for k in range(len(lows)):
        if kinds[k] == WORD and lows[k] not in ("and", "or"):
            segments[-1].append(k)
        elif segments[-1]:
            segments.append([])
    segments = [s for s in segments if s]
    for g0, g1 in gold:
        own = next((s for s in segments if g0 in s), None)
        if own is None or not _bare(doc, own):
            continue
        after = own[-1] + 1
        if after < len(lows) and lows[after] == ":":
            continue                               # "Abseiling: gripping the rope, leaning back, ...": its steps
        if own[0] > 0 and lows[own[0] - 1] == ":" and (after >= len(lows) or lows[after] in (".", "\n")):
            continue                               # "shape: red circle. bounces: 3.": one field's value
        gold_ing = any(_ing(lows[k]) for k in range(g0, g1))
        rest = [k for k in own if not g0 <= k < g1 and lows[k] not in SKIP]
        if rest:                                   # a run-on list in one segment
            ings = [k for k in rest if _ing(lows[k])]
            if gold_ing and len(ings) >= 3:
                return [(k, k + 1) for k in ings]
            continue
        items = [s for s in segments if s is not own and _bare(doc, s)
                 and 1 <= sum(lows[k] not in SKIP for k in s) <= 4
                 and (not gold_ing or any(_ing(lows[k]) for k in s))]
        if len(items) >= (3 if gold_ing else 4):
            return [(s[0], s[-1] + 1) for s in items]
    return []
