"""Reading numbers from text: digits, decimals, signs, number words, fractions, clock times and units.

Shared by the number, interval and sequence label types (and the category type's number words);
private to the label types.
"""
from __future__ import annotations

from .analysis import NUM, WORD, Doc, positions

# Reading numbers from text (shared with interval and sequence) ------------------------------
_ONES = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_ONES_TENS = frozenset(_ONES) | frozenset(_TENS)
_FRACTIONS = {"half": 0.5, "quarter": 0.25, "halves": 0.5, "quarters": 0.25}
# vulgar fraction signs: "3½ somersaults", "a score of 65½"
VULGAR = {"½": 0.5, "¼": 0.25, "¾": 0.75, "⅓": 1 / 3, "⅔": 2 / 3, "⅕": 0.2, "⅖": 0.4, "⅗": 0.6, "⅘": 0.8,
          "⅙": 1 / 6, "⅚": 5 / 6, "⅛": 0.125, "⅜": 0.375, "⅝": 0.625, "⅞": 0.875}
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
_HEAD_WORDS = NUMBER_WORDS | frozenset(VULGAR)


def numbers(doc: Doc) -> list[Number]:
    """Every number in the text, with digits or words, halves, signs and 'x/y', 'x out of y'."""
    cached = doc.cache.get("numbers")
    if cached is not None:
        return cached
    lows, kinds = doc.lows, doc.kinds
    n = len(lows)
    heads = positions(kinds, NUM)
    if not _HEAD_WORDS.isdisjoint(lows):
        heads = sorted(heads + [i for i, w in enumerate(lows) if w in _HEAD_WORDS])
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
                if j < n and lows[j] in VULGAR and "." not in low:
                    value, j = value + VULGAR[lows[j]], j + 1          # "3½", "3 ½"
        elif low in VULGAR:
            value = VULGAR[low]
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
