"""Timestamp labels: one moment in seconds, e.g. ``{"type": "timestamp", "name": "moment",
"value": 12.4, "abs_tol": 1.0}``.

Times are read as the interval type reads them ("at 12.4 s", "0:12", "around 12 seconds", "1
minute 5 seconds"; bare numbers only with a time cue such as "at 12.4"). Numbers that are part of
a stated interval ("from 10 to 15 s") are a span, not a moment, and are not read. The answer
passes when an unnegated, unhedged time lies within ``abs_tol`` seconds (default 1.0) of the
value, and it commits to it (the shared check in `_commitment`: not negated, hedged or
counterfactual, and no other stated time offered instead, "at 12 or 30 seconds": `competing_value`).
"""
from __future__ import annotations

from typing import Any

from ._commitment import check, commitment_extra
from ._numbers import fmt_number
from .analysis import NUM, WORD, analyze, negated
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


def _score(sec: float, value: float, tol: float) -> float:
    return max(0.0, 1.0 - abs(sec - value) / max(tol * 4, 1e-9))


class TimestampLabel(LabelType):
    """A moment in seconds; passes when the answer states it within `abs_tol`, unhedged."""

    type_name = "timestamp"
    in_seconds = True

    def check(self, spec: dict[str, Any], answer: str, profile: Profile) -> LabelResult:
        name = spec.get("name", "")
        value = float(spec["value"])
        tol = float(spec.get("abs_tol", DEFAULT_ABS_TOL))
        doc = analyze(answer)
        times = stated_times(doc)
        if not times:
            return LabelResult(name, self.type_name, False, 0.0, reason="not_found")
        gold = [(i0, i1) for sec, i0, i1 in times if abs(sec - value) <= tol + 1e-9]
        rivals = [(i0, i1) for sec, i0, i1 in times if abs(sec - value) > tol + 1e-9]
        if not gold:                       # the nearest unnegated moment, to say how far off it is
            live = [t for t in times if negated(doc, t[1], t[2]) < 0]
            if not live:
                s, e = doc.span(times[0][1], times[0][2])
                return LabelResult(name, self.type_name, False, 0.0, (s, e), answer[s:e], reason="negated")
            sec, i0, i1 = min(live, key=lambda t: abs(t[0] - value))
            s, e = doc.span(i0, i1)
            return LabelResult(name, self.type_name, False, _score(sec, value, tol), (s, e), answer[s:e],
                               reason="out_of_tolerance", extra={"stated": sec})
        # the shared commitment check: negated, hedged, counterfactual, a rival moment offered instead ...
        verdict = check(doc, gold, rivals, profile.require_commitment)
        i0, i1 = verdict.mention if verdict.mention in gold else gold[0]
        sec = next(t[0] for t in times if (t[1], t[2]) == (i0, i1))
        s, e = doc.span(i0, i1)
        extra = {"stated": sec}
        if not verdict.ok:
            return LabelResult(name, self.type_name, False, _score(sec, value, tol), (s, e), answer[s:e],
                               reason=verdict.reason, extra={**extra, **commitment_extra(doc, verdict, gold)})
        return LabelResult(name, self.type_name, True, _score(sec, value, tol), (s, e), answer[s:e], extra=extra)

    def hint_text(self, spec: dict[str, Any]) -> str:
        return f"{fmt_number(float(spec['value']))} s"

    def answer_text(self, spec: dict[str, Any]) -> str:
        return f"at {fmt_number(float(spec['value']))} seconds"
