"""Boolean labels: a yes/no answer, e.g. ``{"type": "boolean", "name": "answer", "value": true}``.

The answer's verdict is read, in order of strength, from:

1. its first word ("Yes, he is.", "No, he is not.", "Nope");
2. an explicit statement anywhere ("the answer is no", "so, yes.", "that is correct",
   "this is false", "it is not the case that ...", "it is not true that ...");

A "no" that is a determiner ("no one", "no ball") is not a verdict. Statements that disagree
("Yes. ... the answer is no") are `competing`; a verdict in a hedged sentence ("maybe yes") is
`hedged`; no verdict at all is `not_found` (a step-by-step answer must still say yes or no).
"""
from __future__ import annotations

from typing import Any

from ._claims import hedged
from .analysis import PUNCT, WORD, Doc, analyze, negated
from .base import LabelResult, LabelType, Profile

_YES = frozenset({"yes", "yeah", "yep", "yup", "affirmative", "indeed", "certainly", "definitely"})
_NO = frozenset({"no", "nope", "nah", "negative"})
_TRUE = frozenset({"true", "correct", "right", "accurate"})
_FALSE = frozenset({"false", "incorrect", "wrong", "inaccurate", "untrue"})
_LEAD_SKIP = frozenset({"answer", "a", "final", "the", "my", "verdict", "response", "short", "so", "well",
                        "oh", "hmm", "is", "would", "be", "it"})


def _standalone(doc: Doc, k: int) -> bool:
    """Is token k a verdict word on its own: followed by punctuation or the end ("No, ...", "so yes.")?"""
    nxt = k + 1
    return nxt >= len(doc.lows) or doc.kinds[nxt] == PUNCT or doc.lows[nxt] in ("it", "he", "she", "they",
                                                                                    "there", "this", "that", "i")


def verdicts(doc: Doc) -> list[tuple[bool, int, int, int]]:
    """(value, first token, last token + 1, strength) for each verdict the text states."""
    lows, kinds, n = doc.lows, doc.kinds, len(doc.lows)
    out: list[tuple[bool, int, int, int]] = []
    first = next((k for k in range(n) if kinds[k] == WORD and lows[k] not in _LEAD_SKIP), -1)
    for k in range(n):
        if kinds[k] != WORD:
            continue
        low = lows[k]
        strength = 2 if k == first else 1
        if low in _YES or low in _NO:
            if low == "no" and k + 1 < n and kinds[k + 1] == WORD \
                    and lows[k + 1] not in ("it", "he", "she", "they", "there", "this", "that", "i"):
                continue                                   # "no one", "no ball"
            if k != first and not _standalone(doc, k) and not (k >= 2 and lows[k - 1] == "is"
                                                                 and lows[k - 2] == "answer"):
                continue
            if low in ("indeed", "certainly", "definitely") and k != first:
                continue                                   # adverbs inside a sentence
            out.append((low in _YES, k, k + 1, strength))
        elif low in _TRUE or low in _FALSE:
            if low == "right" and (k + 1 < n and lows[k + 1] in ("to", "side", "of", "hand")
                                   or k and lows[k - 1] in ("to", "the", "from")):
                continue                                   # a direction, not a verdict
            prev = {lows[m] for m in range(max(0, k - 3), k)}
            if not prev & {"is", "s", "that", "thats", "statement", "answer", "be", "was"} and k != first:
                continue
            neg = negated(doc, k, k + 1) >= 0
            value = (low in _TRUE) != neg
            if k + 2 < n and lows[k + 1] == "that":        # "it is not true that ...": the claim's verdict
                value = (low in _TRUE) != neg
            out.append((value, k, k + 1, strength))
        elif low == "case" and k >= 1 and lows[k - 1] == "the" and k + 1 < n and lows[k + 1] == "that":
            neg = negated(doc, k - 1, k) >= 0              # "it is (not) the case that ..."
            out.append((not neg, k - 1, k + 1, 1))
    return out


class BooleanLabel(LabelType):
    """Yes/no: passes when the answer's verdict equals `value`, stated without hedging."""

    type_name = "boolean"

    def check(self, spec: dict[str, Any], answer: str, profile: Profile) -> LabelResult:
        name = spec.get("name", "")
        want = bool(spec["value"])
        doc = analyze(answer)
        found = verdicts(doc)
        if not found:
            return LabelResult(name, self.type_name, False, 0.0, reason="not_found")
        top = max(v[3] for v in found)
        strong = [v for v in found if v[3] == top]
        values = {v[0] for v in found}
        value, i0, i1, _ = strong[0]
        s, e = doc.span(i0, i1)
        if len(values) > 1:
            # a leading verdict explained by a negative clause ("No, it is not the case that ...") agrees
            return LabelResult(name, self.type_name, False, 0.5, (s, e), answer[s:e], reason="competing",
                               extra={"stated": value})
        if hedged(doc, i0, i1) >= 0:
            return LabelResult(name, self.type_name, False, 0.5, (s, e), answer[s:e], reason="hedged",
                               extra={"stated": value})
        if value != want:
            return LabelResult(name, self.type_name, False, 0.0, (s, e), answer[s:e], reason="wrong_value",
                               extra={"stated": value})
        return LabelResult(name, self.type_name, True, 1.0, (s, e), answer[s:e], extra={"stated": value})

    def hint_text(self, spec: dict[str, Any]) -> str:
        return "yes" if spec["value"] else "no"

    def answer_text(self, spec: dict[str, Any]) -> str:
        return "Yes" if spec["value"] else "No"
