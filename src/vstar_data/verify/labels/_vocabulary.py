"""A source's vocabulary (its class list) indexed for finding which classes an answer names.

The commitment check needs the rival values of a label: for a category, the other classes of the
source's vocabulary that the answer states. Matching 700 class names against every answer would
be slow, so each vocabulary list is compiled once (cached by the list object) into an index from a
class's longest content stem to the classes that need it; an answer only tries the classes all of
whose words it contains. Label types with a closed set of values (category today; a future choice
type) share it. `disjunction_forms` spells out a class name that is a disjunction ("trimming or
shaving beard"), either alternative of which satisfies it.
"""
from __future__ import annotations

from typing import Any, Callable

from ._text import Doc


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
