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

Numbers are read by `_numbers` (shared with the interval and sequence types).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

from ._commitment import CONTRAST, CORRECT, check, commitment_extra
from .analysis import FUNCTION, HARD, NUM, PUNCT, WORD, Doc, analyze, negated, stem
from ._numbers import UNITS, Number, fmt_number, numbers
from ..metrics import Metric
from .base import LabelResult, LabelType, Profile, ScoreContext
from .contradiction import number_contradiction

# Attaching a number to its label --------------------------------------------------------------
# head word of a label name -> (mention phrases, unit words)
_ALIASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "score": (("score", "mark", "rating", "rated", "earned", "awarded", "scoreboard"), ("point", "points", "pt", "pts")),
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


_ALT_GAP = frozenset({"or", "to", "-", "–", "—", "and", ",", "/"})
_COMPARATIVE = frozenset({"more", "less", "fewer", "extra", "than", "others", "other"})
_ZERO_WORDS = frozenset({"none", "nobody", "noone", "zero", "nothing"})


def _zero_counts(doc: Doc) -> list[Number]:
    """Zero stated in words, for a count in an answer with no digits or number words: "none",
    "nobody", "no one", "no push-ups", "zero"."""
    lows, kinds = doc.lows, doc.kinds
    out: list[Number] = []
    for i, low in enumerate(lows):
        if kinds[i] != WORD:
            continue
        if low in _ZERO_WORDS:
            out.append(Number(0.0, i, i + 1))
        elif low == "no" and i + 1 < len(lows) and kinds[i + 1] == WORD and lows[i + 1] not in FUNCTION:
            out.append(Number(0.0, i, i + 2))
        elif low == "no" and i + 1 < len(lows) and lows[i + 1] == "one":
            out.append(Number(0.0, i, i + 2))
    return out


# negations that say "zero" with a determiner: "not a single push-up", "doesn't do any reps",
# "not one jump", "never manages a single pull-up"
_ZERO_DETERMINERS = frozenset({"single", "any", "one"})
_ZERO_NEG = frozenset({"not", "never", "nt", "without", "cannot", "cant", "isnt", "arent", "wasnt", "werent",
                       "dont", "doesnt", "didnt", "couldnt", "wont", "hasnt", "havent", "hadnt"})


def _negated_zeros(doc: Doc) -> list[Number]:
    """Zero counts said as a negation and a determiner before the thing counted. The Number spans
    from the negation to the determiner, so the negation is part of the value, not of its clause.
    The determiner must be followed by a content word (its noun): "not a single one is missed"
    counts no thing."""
    lows, kinds = doc.lows, doc.kinds
    out: list[Number] = []
    for j, low in enumerate(lows):
        if low not in _ZERO_DETERMINERS or kinds[j] != WORD:
            continue
        k = doc.next_word(j + 1)
        if k < 0 or kinds[k] != WORD or lows[k] in FUNCTION or lows[k] == "one":
            continue
        back = j - 1
        if low == "single":                      # "a single"
            if back < 0 or lows[back] != "a":
                continue
            back -= 1
        elif low == "one" and back >= 0 and lows[back] == "no":
            continue                             # "no one" is a person (nobody), see _zero_counts
        e = j + 1
        while e < len(lows) and not (kinds[e] == PUNCT and lows[e] in HARD):
            e += 1
        if any(w in ("until", "till") for w in lows[j + 1:e]):
            continue                             # "doesn't do any until the end, when he does three"
        for m in range(back, max(-1, back - 3), -1):
            if kinds[m] != WORD:
                break
            if lows[m] in _ZERO_NEG:
                out.append(Number(0.0, m, j + 1))
                break
    return out


class NumberLabel(LabelType):
    """A number with a tolerance (`rel_tol` or `abs_tol`, else the profile's) and an optional unit."""

    type_name = "number"
    # mae / spearman over the answers the parser read a value from (n_parsed); within_tol: the verdict
    metrics = (Metric("mae", item="error", label="MAE", format="number"),
               Metric("spearman", "spearman", item="pair", label="Spearman", format="number"),
               Metric("within_tol", label="within tol."),
               Metric("n_parsed", "count", item="pair", format="count", shown=False))
    right = "within_tol"

    def check(self, spec: dict[str, Any], answer: str, profile: Profile) -> LabelResult:
        name = spec.get("name", "")
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
        within: list[tuple[Number, float, float]] = []
        values: dict[Number, float] = {}
        for num in cands:
            value = self._in_spec_unit(doc, num, unit)
            if value is None:
                continue
            values[num] = value
            diff = abs(value - target)
            ok = (rel is not None and diff <= rel * abs(target) + 1e-9) or (ab is not None and diff <= ab + 1e-9)
            score = (1.0 - min(1.0, diff / abs(target))) if target else (1.0 if diff == 0 else 0.0)
            if ok:
                within.append((num, score, value))
            elif best is None or score > best[0]:
                best = (score, num, value)
        if within:
            closest = min(abs(v - target) for _, _, v in within)
            within = [w for w in within if abs(w[2] - target) == closest]   # "65.6 or 66.0": 66.0 is a rival
            gold = [(n.i0, n.i1) for n, _, _ in within]
            shown = {v for _, _, v in within}
            rivals = [(n.i0, n.i1) for n in [*cands, *negs] if values.get(n, n.value) not in shown]
            verdict = check(doc, gold, rivals, profile.require_commitment)
            num, score, value = next((w for w in within if (w[0].i0, w[0].i1) == verdict.mention), within[0])
            s, e = doc.span(num.i0, num.i1)
            if verdict.ok:
                return LabelResult(name, self.type_name, True, score, (s, e), answer[s:e], extra={"value": value})
            return LabelResult(name, self.type_name, False, score, (s, e), answer[s:e], reason=verdict.reason,
                               extra={"value": value, **commitment_extra(doc, verdict, gold)})
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

        if key.head == "count":
            zeros = _negated_zeros(doc)
            if zeros:                               # "not one push-up": zero, not a negated one
                nums = sorted([n for n in nums if not any(z.i0 <= n.i0 < z.i1 for z in zeros)] + zeros,
                              key=lambda n: n.i0)
            if not nums:
                nums = _zero_counts(doc)

        def follow(n: Number) -> None:
            """Also take the value offered as an alternative ("3.2 or 3.4", "10 to 12") or as a
            correction ("3.0 - sorry, 3.2", "56.5 at first, but it is 65.6") right after n."""
            at = nums.index(n) if n in nums else -1
            if at < 0 or at + 1 >= len(nums):
                return
            nxt = nums[at + 1]
            gap = doc.lows[n.i1:nxt.i0]
            if foreign(nxt) or any(doc.stems[k] in _KNOWN_KEYS and doc.stems[k] not in key.stems
                                   for k in range(n.i1, nxt.i0)):
                return
            if gap and len(gap) <= 2 and all(w in _ALT_GAP for w in gap):
                take(nxt)
            elif len(gap) <= 12 and any(w in CORRECT or w in CONTRAST or w == "no" for w in gap):
                take(nxt)

        mentions = sorted({m for p in key.phrases for m in _mentions(doc, p)})
        starts = {m0 for m0, _ in mentions}
        for n in nums:                                         # 1. "65.6 points", "3.2 difficulty"
            k = doc.next_word(n.i1)
            if k >= 0 and (doc.lows[k] in key.units or doc.stems[k] in key.units or k in starts) \
                    and not _claimed_by_other(doc, n, key):
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
            if key.head == "count":                             # every count of things ("4 push-ups")
                for n in plain:
                    own = _owner(doc, n)
                    k = doc.next_word(n.i1)
                    if own not in UNITS and not (k >= 0 and doc.lows[k] in _COMPARATIVE) \
                            and not _claimed_by_other(doc, n, key):
                        take(n)
            elif len(nums) == 1 and plain and not foreign(plain[0]) and not _claimed_by_other(doc, plain[0], key):
                take(plain[0])
        for n in list(cands):
            follow(n)
        return cands, negs

    def score(self, spec: dict[str, Any], answer: str | None, verdict: Mapping[str, Any],
              context: ScoreContext) -> dict[str, Any]:
        """`within_tol` (the verdict) and, when the verifier read a value, its error and (value, gold) pair."""
        out: dict[str, Any] = {"within_tol": bool(verdict.get("passed"))}
        value = verdict.get("value")
        if answer is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
            pred, true = float(value), float(spec["value"])
            out.update(error=abs(pred - true), pair=(pred, true))
        return out

    def contradiction(self, spec: dict[str, Any], answer: str, profile: Profile) -> LabelResult:
        """A value given for this quantity outside tolerance, asserted (labels/contradiction.py)."""
        return number_contradiction(spec, answer, profile, self.verify(spec, answer, profile))

    def hint_text(self, spec: dict[str, Any]) -> str:
        text = fmt_number(float(spec["value"]))
        unit = spec.get("unit")
        return f"{text} {unit}" if unit else text
