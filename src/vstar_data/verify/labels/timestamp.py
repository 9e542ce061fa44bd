"""Timestamp labels: one moment in seconds, e.g. ``{"type": "timestamp", "name": "moment",
"value": 12.4, "abs_tol": 1.0}``.

Times are read as the interval type reads them ("at 12.4 s", "0:12", "around 12 seconds", "1
minute 5 seconds"; bare numbers only with a time cue such as "at 12.4"). Numbers that are part of
a stated interval ("from 10 to 15 s") are a span, not a moment, and are not read. The answer
passes when an unnegated, unhedged time lies within ``abs_tol`` seconds (default 1.0) of the
value and no other stated time is offered as an alternative ("at 12 or 30 seconds").
"""
from __future__ import annotations

from typing import Any

from ._claims import hedged
from ._numbers import fmt_number
from ._text import NUM, WORD, analyze, empty_answer, negated
from .base import LabelResult, LabelType, Profile
from .interval import _times, stated_intervals

DEFAULT_ABS_TOL = 1.0
_CUES = frozenset({"at", "around", "about", "approximately", "roughly", "near", "moment", "time", "timestamp",
                   "second", "mark", "t", "is", "by", "~"})


def stated_times(doc: Any) -> list[tuple[float, int, int]]:
    """(seconds, first token, last token + 1) for each moment the text states."""
    cached = doc.cache.get("moments")
    if cached is not None:
        return cached
    in_interval = [(i0, i1) for _, _, i0, i1, _ in stated_intervals(doc)]
    out = []
    for t in _times(doc):
        if t.owned or any(i0 <= t.i0 < i1 for i0, i1 in in_interval):
            continue
        if t.factor is None:      # a bare number: only with a time cue just before it
            k = t.i0 - 1
            while k >= 0 and doc.kinds[k] != WORD and doc.lows[k] in ("=", "~"):
                k -= 1
            if k < 0 or doc.lows[k] not in _CUES:
                continue
        out.append((t.seconds(None), t.i0, t.i1))
    doc.cache["moments"] = out
    return out


class TimestampLabel(LabelType):
    """A moment in seconds; passes when the answer states it within `abs_tol`, unhedged."""

    type_name = "timestamp"

    def verify(self, spec: dict[str, Any], answer: str, profile: Profile) -> LabelResult:
        name = spec.get("name", "")
        if (empty := empty_answer(self.type_name, spec, answer)) is not None:
            return empty
        value = float(spec["value"])
        tol = float(spec.get("abs_tol", DEFAULT_ABS_TOL))
        doc = analyze(answer)
        times = stated_times(doc)
        live, first_fail = [], None
        for sec, i0, i1 in times:
            if negated(doc, i0, i1) >= 0:
                first_fail = first_fail or ("negated", i0, i1, 0.0)
                continue
            live.append((sec, i0, i1))
        if not live:
            if first_fail:
                reason, i0, i1, _ = first_fail
                s, e = doc.span(i0, i1)
                return LabelResult(name, self.type_name, False, 0.0, (s, e), answer[s:e], reason=reason)
            return LabelResult(name, self.type_name, False, 0.0, reason="not_found")
        best = min(live, key=lambda x: abs(x[0] - value))
        sec, i0, i1 = best
        s, e = doc.span(i0, i1)
        score = max(0.0, 1.0 - abs(sec - value) / max(tol * 4, 1e-9))
        if abs(sec - value) > tol + 1e-9:
            return LabelResult(name, self.type_name, False, score, (s, e), answer[s:e], reason="out_of_tolerance",
                               extra={"stated": sec})
        for other, j0, j1 in live:     # "at 12 or 30 seconds": an alternative outside tolerance
            if abs(other - value) > tol and abs(j0 - i1) <= 3 or abs(other - value) > tol and abs(i0 - j1) <= 3:
                lo, hi = (i1, j0) if j0 >= i1 else (j1, i0)
                if any(doc.lows[k] == "or" for k in range(lo, hi)):
                    return LabelResult(name, self.type_name, False, score, (s, e), answer[s:e], reason="competing")
        if hedged(doc, i0, i1) >= 0:
            return LabelResult(name, self.type_name, False, score, (s, e), answer[s:e], reason="hedged")
        return LabelResult(name, self.type_name, True, score, (s, e), answer[s:e], extra={"stated": sec})

    def hint_text(self, spec: dict[str, Any]) -> str:
        return f"{fmt_number(float(spec['value']))} s"

    def answer_text(self, spec: dict[str, Any]) -> str:
        return f"at {fmt_number(float(spec['value']))} seconds"
