"""Number labels: the value the answer gives *for this label*, within tolerance.

Numbers are read as digits, decimals, signs, number words ("eighty-eight point five", "three and
a half"), "88.5/100" and "88.5 out of 100". A number counts for the label only when it is
attached to the label's key: the label name with underscores as spaces plus aliases
(final_score/dive_score -> "score", "scored"; difficulty -> "degree of difficulty", "DD";
count -> "times", "reps"; the spec's `unit`). Attachment, in order of strength:

1. the number is followed by the key or one of its units ("3.2 degree of difficulty", "65.6 points");
2. the nearest number after a mention of the key in the same sentence ("the difficulty is 3.2"),
   skipping numbers owned by another noun ("3.5 somersaults") and stopping at another label's key;
3. the nearest number before a mention ("3.2 is the difficulty") that no other key has claimed.

If the key is never mentioned and no number carries a key unit, the answer passes only when it
states exactly one number, that number belongs to no other noun or key ("The answer is 3.2."):
a lone bare number is the answer's claim, but with two or more we cannot tell which is meant, so
the label is not found (precision over recall).

This module also reads numbers for the other label types (`numbers`, `UNITS`, `fmt_number`).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from ._text import FUNCTION, HARD, NUM, PUNCT, WORD, Doc, analyze, empty_answer, negated, positions, stem
from .base import LabelResult, LabelType, Profile

# Reading numbers from text (shared with interval and sequence) ------------------------------
_ONES = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_ONES_TENS = frozenset(_ONES) | frozenset(_TENS)
_FRACTIONS = {"half": 0.5, "quarter": 0.25, "halves": 0.5, "quarters": 0.25}
_ONE_NOT_NUMBER_PREV = frozenset({"no", "any", "every", "each", "some", "which", "the", "this", "that",
                                  "someone", "anyone", "everyone", "another"})
_ONE_NOT_NUMBER_NEXT = frozenset({"of", "another", "who", "that", "which", "s", "hand", "side"})


class Number:
    """One number stated in a text: value and token range [i0, i1) (span via Doc.span)."""

    __slots__ = ("value", "i0", "i1", "denominator", "is_clock")

    def __init__(self, value: float, i0: int, i1: int, denominator: float | None = None,
                 is_clock: bool = False) -> None:
        self.value, self.i0, self.i1 = value, i0, i1
        self.denominator, self.is_clock = denominator, is_clock

    def __repr__(self) -> str:
        return f"Number({self.value}, tokens {self.i0}:{self.i1})"


def _clock(text: str) -> float:
    parts = text.split(":")
    total = 0.0
    for p in parts:
        total = total * 60 + float(p)
    return total


def _word_number(lows: list[str], kinds: list[int], i: int) -> tuple[float, int] | None:
    """(value, end token) of number words from token i: 'eighty-eight', 'one hundred and five'."""
    n = len(lows)
    total = current = 0.0
    seen, end, j = False, i, i
    while j < n:
        low = lows[j]
        word = kinds[j] == WORD
        if word and low in _ONES:
            if low == "one" and not seen and ((j and lows[j - 1] in _ONE_NOT_NUMBER_PREV)
                                              or (j + 1 < n and lows[j + 1] in _ONE_NOT_NUMBER_NEXT)):
                return None                              # "no one", "one of them"
            if seen and current % 10 and current % 100 < 20:
                break                                    # "five six" is two numbers
            current += _ONES[low]
        elif word and low in _TENS:
            if seen and current % 100:
                break
            current += _TENS[low]
        elif word and low in _SCALES:
            if not seen and not (j > i and lows[j - 1] == "a"):
                return None
            current = max(current, 1) * _SCALES[low]
            if _SCALES[low] > 100:
                total, current = total + current, 0.0
        elif low == "a" and not seen and j + 1 < n and lows[j + 1] in _SCALES:
            j += 1                                       # "a hundred"
            continue
        elif seen and (low == "-" or (low == "and" and j + 1 < n and lows[j + 1] in _ONES_TENS
                                      and (current >= 100 or total >= 1000))):
            j += 1                                       # "eighty-eight", "one hundred and five"
            continue
        else:
            break
        seen, end, j = True, j + 1, j + 1
    return (total + current, end) if seen else None


def _decimal_words(lows: list[str], kinds: list[int], j: int) -> tuple[str, int]:
    """Digits after 'point': 'five' -> '5', 'two five' -> '25', or one digit token."""
    if j < len(lows) and kinds[j] == NUM and lows[j].isdigit():
        return lows[j], j + 1
    digits = ""
    while j < len(lows) and kinds[j] == WORD and _ONES.get(lows[j], 10) < 10:
        digits += str(_ONES[lows[j]])
        j += 1
    return digits, j


NUMBER_WORDS = frozenset(_ONES) | frozenset(_TENS) | frozenset(_SCALES) | {"point"}


def numbers(doc: Doc) -> list[Number]:
    """Every number in the text, with digits or words, halves, signs and 'x/y', 'x out of y'."""
    cached = doc.cache.get("numbers")
    if cached is not None:
        return cached
    lows, kinds = doc.lows, doc.kinds
    n = len(lows)
    heads = positions(kinds, NUM)
    if not NUMBER_WORDS.isdisjoint(lows):
        heads = sorted(heads + [i for i, w in enumerate(lows) if w in NUMBER_WORDS])
    out: list[Number] = []
    done = 0
    for i in heads:
        if i < done:
            continue
        low = lows[i]
        value: float | None = None
        j = i + 1
        is_clock = False
        if kinds[i] == NUM:
            if ":" in low:
                value, is_clock = _clock(low), True
            else:
                value = float(low)
        elif low == "point":
            digits, k = _decimal_words(lows, kinds, i + 1)
            if digits and kinds[i + 1] == WORD:
                value, j = float(f"0.{digits}"), k
        else:
            if low in _SCALES and i and lows[i - 1] == "a":
                i -= 1                                   # "a hundred"
            parsed = _word_number(lows, kinds, i)
            if parsed is not None:
                value, j = parsed
                if j < n and lows[j] == "point":
                    digits, k = _decimal_words(lows, kinds, j + 1)
                    if digits:
                        value, j = float(f"{int(value)}.{digits}"), k
        if value is None:
            continue
        i0 = i
        # "three and a half", "3-and-a-half"
        frac = [k for k in range(j, min(j + 6, n)) if lows[k] != "-"][:3]
        if len(frac) == 3 and lows[frac[0]] == "and" and lows[frac[1]] in ("a", "one") \
                and lows[frac[2]] in _FRACTIONS:
            value += _FRACTIONS[lows[frac[2]]]
            j = frac[2] + 1
        if i0 >= 1 and lows[i0 - 1] in ("minus", "negative"):
            value, i0 = -value, i0 - 1
        denom = None
        if j + 1 < n and lows[j] == "/" and kinds[j + 1] == NUM and ":" not in lows[j + 1]:
            denom, j = float(lows[j + 1]), j + 2
        elif j + 2 < n and lows[j] == "out" and lows[j + 1] == "of":
            parsed = (float(lows[j + 2]), j + 3) if kinds[j + 2] == NUM and ":" not in lows[j + 2] \
                else _word_number(lows, kinds, j + 2)
            if parsed is not None:
                denom, j = parsed
        out.append(Number(value, i0, j, denom, is_clock))
        done = j
    doc.cache["numbers"] = out
    return out


# Units: family and factor to the family's base unit (numbers convert; intervals read time).
UNIT_TABLE: dict[str, dict[str, float]] = {
    "time": {"s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1, "ms": 0.001, "millisecond": 0.001,
             "milliseconds": 0.001, "min": 60, "mins": 60, "minute": 60, "minutes": 60, "h": 3600,
             "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600},
    "length": {"m": 1, "meter": 1, "meters": 1, "metre": 1, "metres": 1, "cm": 0.01, "mm": 0.001,
               "km": 1000, "ft": 0.3048, "feet": 0.3048, "foot": 0.3048},
    "mass": {"kg": 1, "kilogram": 1, "kilograms": 1, "g": 0.001, "gram": 0.001, "grams": 0.001,
             "lb": 0.4536, "lbs": 0.4536, "pound": 0.4536, "pounds": 0.4536},
    "percent": {"%": 1, "percent": 1, "pct": 1},
    "angle": {"degree": 1, "degrees": 1, "deg": 1, "°": 1},
    "speed": {"mph": 0.44704, "kph": 1 / 3.6, "kmh": 1 / 3.6, "mps": 1},
    "rate": {"bpm": 1, "fps": 1, "hz": 1},
}
UNITS = {u: (family, float(f)) for family, table in UNIT_TABLE.items() for u, f in table.items()}


def fmt_number(value: float) -> str:
    """65.6 -> '65.6', 3.0 -> '3', 88.50 -> '88.5' (no trailing zeros, no exponent)."""
    text = f"{value:.10f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# Attaching a number to its label --------------------------------------------------------------
# head word of a label name -> (mention phrases, unit words)
_ALIASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "score": (("score", "mark", "rating", "rated", "earned", "awarded"), ("point", "points", "pt", "pts")),
    "difficulty": (("difficulty", "degree of difficulty", "dd", "tariff", "difficulty degree"), ()),
    "count": (("count", "number", "times", "total"), ("time", "times", "rep", "reps", "repetition")),
    "duration": (("duration", "length", "lasts", "lasting", "long"), ("second", "seconds", "s", "sec", "secs")),
}
_HEADS = {"final_score": "score", "dive_score": "score", "total_score": "score", "judge_score": "score",
          "dd": "difficulty", "degree_of_difficulty": "difficulty", "num": "count", "number": "count",
          "reps": "count", "repetitions": "count"}
# Stems of every known key: a scan from one label's mention stops at another label's key.
_KNOWN_KEYS = frozenset(stem(w) for mentions, _ in _ALIASES.values() for m in mentions for w in m.split()
                        if w != "of")
_VERBS = frozenset({"reflects", "shows", "indicates", "suggests", "means", "makes", "puts", "places", "gives",
                    "demonstrates", "represents", "earns", "ranks", "seems", "appears", "looks", "matches",
                    "reflect", "show", "indicate", "suggest", "mean", "make", "put", "place", "give", "rank"})
_NEUTRAL_UNITS = frozenset({"point", "points", "pt", "pts", "%", "percent"})


class _Key:
    """A label name compiled: mention phrases (stem tuples) and unit words."""

    __slots__ = ("head", "phrases", "units", "stems")

    def __init__(self, name: str, unit: str | None) -> None:
        words = name.lower().replace("-", "_").replace(" ", "_").strip("_").split("_")
        words = [w for w in words if w] or [name.lower()]
        head = _HEADS.get("_".join(words)) or _HEADS.get(words[0]) or _HEADS.get(words[-1]) or words[-1]
        phrases = {" ".join(words), head}
        units: set[str] = set()
        mentions, alias_units = _ALIASES.get(head, ((), ()))
        phrases.update(mentions)
        units.update(alias_units)
        if head == "count":           # num_people / somersault_count: the counted thing is the unit
            units.update(w for w in words if w not in ("num", "number", "count", "of", "total"))
        if unit:
            units.add(unit.lower())
        self.head = head
        self.phrases = tuple(sorted({tuple(stem(w) for w in p.split()) for p in phrases if p}, key=len,
                                    reverse=True))
        self.units = frozenset(units) | frozenset(stem(u) for u in units)
        self.stems = frozenset(s for p in self.phrases for s in p)


@lru_cache(maxsize=4096)
def _key(name: str, unit: str | None) -> _Key:
    return _Key(name, unit)


def _mentions(doc: Doc, phrase: tuple[str, ...]) -> list[tuple[int, int]]:
    out = []
    stems, kinds = doc.stems, doc.kinds
    for j in doc.where(phrase[0]):
        k, ok = j + 1, True
        for s in phrase[1:]:
            while k < len(stems) and kinds[k] == PUNCT and stems[k] == "-":
                k += 1
            if k >= len(stems) or stems[k] != s:
                ok = False
                break
            k += 1
        if ok:
            out.append((j, k))
    return out


def _owner(doc: Doc, num: Number) -> str | None:
    """The word a number belongs to when a content word follows it ("3.5 somersaults")."""
    if num.i1 < len(doc.lows) and doc.lows[num.i1] == "%":
        return "%"
    k = doc.next_word(num.i1)
    if k < 0 or doc.kinds[k] != WORD:
        return None
    low = doc.lows[k]
    if low in FUNCTION or low in UNITS or low in _NEUTRAL_UNITS:
        return low if low in UNITS else None
    if len(low) > 4 and (low.endswith("ed") or low.endswith("ly")) or low in _VERBS:
        return None                       # a verb or adverb: "3.2 scored", "65.6 reflects"
    if num.value * 2 != int(num.value * 2):
        return None                       # 65.6 counts no objects: the next word is not its noun
    return low


def _claimed_by_other(doc: Doc, num: Number, key: _Key) -> bool:
    """Is the number right after some other label's key ("a score of 65.6")?"""
    stems, kinds = doc.stems, doc.kinds
    for k in range(num.i0 - 1, max(num.i0 - 7, -1), -1):
        if kinds[k] == PUNCT and stems[k] in HARD or kinds[k] == NUM:
            return False
        if stems[k] in _KNOWN_KEYS and stems[k] not in key.stems:
            return True
        if stems[k] in key.stems:
            return False
    return False


class NumberLabel(LabelType):
    """A number with a tolerance (`rel_tol` or `abs_tol`, else the profile's) and an optional unit."""

    type_name = "number"

    def verify(self, spec: dict[str, Any], answer: str, profile: Profile) -> LabelResult:
        name = spec.get("name", "")
        if (empty := empty_answer(self.type_name, spec, answer)) is not None:
            return empty
        target = float(spec["value"])
        unit = spec.get("unit")
        key = _key(name, unit)
        doc = analyze(answer)
        cands, negs = self._attached(doc, key)
        if not cands:
            if negs:
                s, e = doc.span(negs[0].i0, negs[0].i1)
                return LabelResult(name, self.type_name, False, 0.0, (s, e), answer[s:e], reason="negated")
            return LabelResult(name, self.type_name, False, 0.0, reason="not_found")
        rel, ab = spec.get("rel_tol"), spec.get("abs_tol")
        if rel is None and ab is None:
            rel, ab = profile.rel_tol, profile.abs_tol
        best: tuple[float, Number, float] | None = None
        for num in cands:
            value = self._in_spec_unit(doc, num, unit)
            if value is None:
                continue
            diff = abs(value - target)
            ok = (rel is not None and diff <= rel * abs(target) + 1e-9) or (ab is not None and diff <= ab + 1e-9)
            score = (1.0 - min(1.0, diff / abs(target))) if target else (1.0 if diff == 0 else 0.0)
            if ok:
                s, e = doc.span(num.i0, num.i1)
                return LabelResult(name, self.type_name, True, score, (s, e), answer[s:e], extra={"value": value})
            if best is None or score > best[0]:
                best = (score, num, value)
        if best is None:
            return LabelResult(name, self.type_name, False, 0.0, reason="unit_mismatch")
        score, num, value = best
        s, e = doc.span(num.i0, num.i1)
        return LabelResult(name, self.type_name, False, score, (s, e), answer[s:e], reason="out_of_tolerance",
                           extra={"value": value})

    @staticmethod
    def _in_spec_unit(doc: Doc, num: Number, unit: str | None) -> float | None:
        """The number in the spec's unit (12 minutes -> 720 for unit "s"); None if incompatible."""
        said = _owner(doc, num)
        if num.is_clock:
            said = "s"
        if said not in UNITS or not unit or unit.lower() not in UNITS:
            return num.value
        (f_said, k_said), (f_spec, k_spec) = UNITS[said], UNITS[unit.lower()]
        if f_said != f_spec:
            return None
        return num.value * k_said / k_spec

    @staticmethod
    def _attached(doc: Doc, key: _Key) -> tuple[list[Number], list[Number]]:
        """Numbers attached to the key (strongest first), and attached ones that are negated."""
        nums = numbers(doc)
        cands: list[Number] = []
        negs: list[Number] = []

        def take(n: Number) -> bool:
            if n in cands or n in negs:
                return True
            if negated(doc, n.i0, n.i1) >= 0:
                negs.append(n)
                return False
            cands.append(n)
            return True

        def foreign(n: Number) -> bool:
            own = _owner(doc, n)
            return own is not None and own not in key.units and stem(own) not in key.stems \
                and own not in _NEUTRAL_UNITS and own not in UNITS

        mentions = sorted({m for p in key.phrases for m in _mentions(doc, p)})
        starts = {m0 for m0, _ in mentions}
        for n in nums:                                         # 1. "65.6 points", "3.2 difficulty"
            k = doc.next_word(n.i1)
            if k >= 0 and (doc.lows[k] in key.units or doc.stems[k] in key.units or k in starts):
                take(n)
        for m0, m1 in mentions:
            found = False
            for n in nums:                                     # 2. nearest after the mention
                if n.i0 < m1:
                    continue
                if n.i0 - m1 > 12 or not doc.same_sentence(m1, n.i0):
                    break
                if any(doc.stems[k] in _KNOWN_KEYS and doc.stems[k] not in key.stems for k in range(m1, n.i0)):
                    break
                if foreign(n):
                    continue
                if take(n):
                    found = True
                    break
            if found:
                continue
            for n in reversed(nums):                           # 3. nearest before it
                if n.i1 > m0:
                    continue
                if m0 - n.i1 > 6 or not doc.same_sentence(n.i1, m0):
                    break
                if not foreign(n) and not _claimed_by_other(doc, n, key):
                    take(n)
                break
        if not mentions and not cands and not negs:            # no key anywhere: a lone bare number
            plain = [n for n in nums if not n.is_clock]        # (for a count, the noun is what it counts)
            if len(nums) == 1 and plain and (key.head == "count" or not foreign(plain[0])) \
                    and not _claimed_by_other(doc, plain[0], key):
                take(plain[0])
        return cands, negs

    def hint_text(self, spec: dict[str, Any]) -> str:
        text = fmt_number(float(spec["value"]))
        unit = spec.get("unit")
        return f"{text} {unit}" if unit else text
