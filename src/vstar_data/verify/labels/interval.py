"""Interval labels: a temporal segment, scored by the IoU of the best-matching interval stated.

Stated intervals are read from ranges ("from 12.4s to 18.9 s", "between 0:12 and 0:19",
"12.4-18.9 seconds", "12.4 to 18.9 seconds", "from 1:02.5 to 1:10"), from start/end cues that
may span sentences ("starting at 12 seconds and ending at 19", "It starts at 12 s. It ends at
19 s.", end first: "It is over by 19 s. It started at 12 s.", "At 19 s it finishes; it had begun
at 12 s.") and from a start plus a duration ("starts at 12 s and lasts 7 seconds"). Clock times
(m:ss, h:mm:ss) and minute/hour/millisecond units are converted to seconds; a unit given once
("12.4-18.9 seconds") applies to both ends; bare numbers are read as seconds. Numbers that
belong to another noun ("3 people") never form an interval. Negated statements are skipped.
"""
from __future__ import annotations

from typing import Any, Mapping

from .analysis import FUNCTION, NUM, SOFT, WORD, Doc, analyze, negated, stem
from ._commitment import check, commitment_extra
from ..metrics import Metric
from .base import LabelResult, LabelType, Profile, ScoreContext
from ._numbers import UNITS, fmt_number, numbers

THRESHOLDS = (0.3, 0.5, 0.7)   # R@1 at these IoUs, in held-out evaluation
_TIME_UNITS = {u: f for u, (family, f) in UNITS.items() if family == "time"}
_RANGE = frozenset({"-", "–", "—", "to", "until", "till", "through", "thru"})
_START_CUES = frozenset(stem(w) for w in ("start", "starts", "begins", "beginning", "began", "from", "between",
                                          "onset", "commences", "[", "(", "going"))
_END_CUES = frozenset(stem(w) for w in ("end", "ends", "finishes", "stops", "concludes", "until", "till",
                                        "through", "ending"))
# an interval stated end first, each end in its own clause ("The action is over by 30.4 s. It started
# at 24.3 s.", "At 30.4 s the action finishes; it had begun at 24.3 s."): wider cues, before or after
# the time, read only there
_END_FIRST = _END_CUES | frozenset(stem(w) for w in ("over", "done", "finished", "finish", "wraps", "wrapped",
                                                     "complete", "completed", "ended", "stopped", "halts",
                                                     "ceases", "ceased"))
_START_AFTER_END = _START_CUES | frozenset(stem(w) for w in ("begun", "started", "starting", "commenced",
                                                             "way", "kicks", "kicked", "opens", "opened"))
_DURATION_CUES = frozenset({"lasting", "lasts", "lasted", "last", "for", "duration", "spanning", "spans"})
_BETWEEN_OK = _RANGE | _END_CUES | frozenset({"and", ",", "at", "around", "about", "approximately", "roughly",
                                              "the", "mark", "by", "up", "s", "continuing", "then", "ending",
                                              "ends", "ended", "stopping", "finishing", "concluding", "it",
                                              "which", "lasts", "goes", "runs", "going", "running"})


class _Time:
    __slots__ = ("value", "factor", "i0", "i1", "owned")

    def __init__(self, value: float, factor: float | None, i0: int, i1: int, owned: bool) -> None:
        self.value, self.factor, self.i0, self.i1, self.owned = value, factor, i0, i1, owned

    def seconds(self, fallback: float | None) -> float:
        return self.value * (self.factor or fallback or 1.0)


def _times(doc: Doc) -> list[_Time]:
    """Every number as a time: its unit (if any), and whether another noun owns it."""
    cached = doc.cache.get("times")
    if cached is not None:
        return cached
    out: list[_Time] = []
    lows, kinds = doc.lows, doc.kinds
    for n in numbers(doc):
        factor = 1.0 if n.is_clock else None
        i1, owned = n.i1, False
        k = doc.next_word(n.i1)
        if factor is None and k >= 0 and kinds[k] == WORD:
            if lows[k] in _TIME_UNITS:
                factor, i1 = _TIME_UNITS[lows[k]], k + 1
            elif lows[k] == "m" and k + 1 < len(lows) and kinds[k + 1] == NUM:
                factor, i1 = 60.0, k + 1                 # "1m02s"
            elif lows[k] not in FUNCTION and lows[k] not in _BETWEEN_OK and lows[k] not in _DURATION_CUES \
                    and lows[k] != "and" and not lows[k].endswith("ed"):
                owned = True
        t = _Time(n.value, factor, n.i0, i1, owned)
        # "1 minute 5 seconds", "1 min and 5 s"
        if out and out[-1].factor == 60.0 and factor == 1.0 and out[-1].i1 <= t.i0 <= out[-1].i1 + 1 \
                and all(lows[m] == "and" for m in range(out[-1].i1, t.i0)):
            prev = out.pop()
            t = _Time(prev.value * 60 + n.value, 1.0, prev.i0, i1, False)
        out.append(t)
    doc.cache["times"] = out
    return out


def _cue_before(doc: Doc, t: _Time, cues: frozenset[str], reach: int = 3) -> bool:
    """Is one of `cues` among the `reach` words before the time ("starts at t=12.4s")?"""
    words = 0
    for k in range(t.i0 - 1, -1, -1):
        if doc.stems[k] in cues:
            return True
        if doc.kinds[k] == NUM:
            return False
        if doc.kinds[k] == WORD and doc.lows[k] != "t":
            words += 1
            if words == reach:
                return False
    return False


def _cue_after(doc: Doc, t: _Time, cues: frozenset[str], reach: int = 3) -> bool:
    """Is one of `cues` among the `reach` content words after the time, in its clause ("at 30.4 s
    the action finishes", "11.5 s is where it ends")?"""
    words = 0
    for k in range(t.i1, len(doc.lows)):
        if doc.kinds[k] == NUM or (doc.kinds[k] != WORD and doc.lows[k] in SOFT and doc.lows[k] != ","):
            return False
        if doc.kinds[k] != WORD:
            continue
        if doc.stems[k] in cues:
            return True
        if doc.lows[k] not in FUNCTION:
            words += 1
            if words == reach:
                return False
    return False


def _stated_end(doc: Doc, t: _Time) -> bool:
    return _cue_before(doc, t, _END_FIRST) or (_cue_after(doc, t, _END_FIRST)
                                                and not _cue_before(doc, t, _START_CUES))


def _stated_start(doc: Doc, t: _Time) -> bool:
    return (_cue_before(doc, t, _START_AFTER_END) or _cue_after(doc, t, _START_AFTER_END)) \
        and not _cue_before(doc, t, _END_FIRST)


def stated_intervals(doc: Doc) -> list[tuple[float, float, int, int, int]]:
    """(start s, end s, first token, last token + 1, kind) for each interval the text states."""
    cached = doc.cache.get("intervals")
    if cached is not None:
        return cached
    times = _times(doc)
    lows = doc.lows
    out: list[tuple[float, float, int, int, int]] = []
    for a, b in zip(times, times[1:]):                       # adjacent ranges
        between = [lows[k] for k in range(a.i1, b.i0) if lows[k] not in ("·",)]
        if a.owned or b.owned or len(between) > 6 or not all(w in _BETWEEN_OK for w in between):
            continue
        words = set(between)
        if not (words & _RANGE or {stem(w) for w in between} & _END_CUES
                or (words & {"and", ","} and _cue_before(doc, a, _START_CUES))):
            continue
        unit = a.factor or b.factor
        s, e = a.seconds(unit), b.seconds(unit)
        if e >= s:
            out.append((s, e, a.i0, b.i1, 0))
    for x, a in enumerate(times):                             # start ... end / start + duration
        if a.owned or not _cue_before(doc, a, _START_CUES):
            continue
        for b in times[x + 1:x + 4]:
            if b.i0 - a.i1 > 40 or b.owned:
                break
            dur = any(lows[k] in _DURATION_CUES for k in range(max(a.i1, b.i0 - 3), b.i0))
            if dur and b.factor:
                s = a.seconds(b.factor)
                out.append((s, s + b.seconds(None), a.i0, b.i1, 2))
                break
            if _cue_before(doc, b, _END_CUES):
                unit = a.factor or b.factor
                s, e = a.seconds(unit), b.seconds(unit)
                if e >= s:
                    out.append((s, e, a.i0, b.i1, 1))
                break
    for x, a in enumerate(times):                             # stated end first: "ends at 18.9 s, having started at 12.4 s"
        if a.owned or not _stated_end(doc, a):
            continue
        for b in times[x + 1:x + 3]:
            if b.i0 - a.i1 > 40 or b.owned:
                break
            if _stated_start(doc, b):
                unit = a.factor or b.factor
                s, e = b.seconds(unit), a.seconds(unit)
                if e >= s:
                    out.append((s, e, a.i0, b.i1, 3))
                break
    doc.cache["intervals"] = out
    return out


def iou(a0: float, a1: float, b0: float, b1: float) -> float:
    """Temporal intersection over union (1.0 for identical points)."""
    inter = max(0.0, min(a1, b1) - max(a0, b0))
    union = max(a1, b1) - min(a0, b0)
    if union <= 0:
        return 1.0 if (a0, a1) == (b0, b1) else 0.0
    return inter / union


class IntervalLabel(LabelType):
    """A [start, end] segment in seconds; passes when a stated interval has IoU >= min_iou."""

    type_name = "interval"
    in_seconds = True
    # from ONE predicted interval per answer (`first_interval`); none, or several differing: IoU 0
    metrics = (Metric("miou", item="iou", label="mIoU", format="number"),
               *(Metric(f"r1@{t}", label=f"R@1 IoU {t}") for t in THRESHOLDS))
    right = "hit"

    def check(self, spec: dict[str, Any], answer: str, profile: Profile) -> LabelResult:
        name = spec.get("name", "")
        start, end = float(spec["start"]), float(spec["end"])
        min_iou = float(spec.get("min_iou", profile.min_iou))
        doc = analyze(answer)
        scored = [(iou(s, e, start, end), s, e, i0, i1) for s, e, i0, i1, _ in stated_intervals(doc)]
        good = [c for c in scored if c[0] >= min_iou - 1e-9]
        if good:
            gold = [(c[3], c[4]) for c in good]
            rivals = [(c[3], c[4]) for c in scored if c[0] < min_iou - 1e-9
                      and not any(c[3] < g1 and g0 < c[4] for g0, g1 in gold)]
            verdict = check(doc, gold, rivals, profile.require_commitment)
            pick = max((c for c in good if (c[3], c[4]) == verdict.mention), default=None, key=lambda c: c[0]) \
                or max(good, key=lambda c: c[0])
            score, s, e, i0, i1 = pick
            c0, c1 = doc.span(i0, i1)
            extra: dict[str, Any] = {"start": s, "end": e}
            if verdict.ok:
                return LabelResult(name, self.type_name, True, score, (c0, c1), answer[c0:c1], extra=extra)
            return LabelResult(name, self.type_name, False, score, (c0, c1), answer[c0:c1], reason=verdict.reason,
                               extra={**extra, **commitment_extra(doc, verdict, gold)})
        live = [c for c in scored if negated(doc, c[3], c[4]) < 0]
        if not live:
            if scored:
                c0, c1 = doc.span(scored[0][3], scored[0][4])
                return LabelResult(name, self.type_name, False, 0.0, (c0, c1), answer[c0:c1], reason="negated")
            return LabelResult(name, self.type_name, False, 0.0, reason="not_found")
        score, s, e, i0, i1 = max(live, key=lambda c: c[0])
        c0, c1 = doc.span(i0, i1)
        return LabelResult(name, self.type_name, False, score, (c0, c1), answer[c0:c1], reason="low_iou",
                           extra={"start": s, "end": e})

    @staticmethod
    def first_interval(answer: str) -> tuple[float, float] | None:
        """The first (start, end) the answer states, unnegated; None when none, or when it states
        several differing ones."""
        doc = analyze(answer or "")
        found = sorted((i0, s, e) for s, e, i0, i1, _ in stated_intervals(doc) if negated(doc, i0, i1) < 0)
        if not found or len({(round(s, 3), round(e, 3)) for _, s, e in found}) > 1:
            return None
        return found[0][1], found[0][2]

    def score(self, spec: dict[str, Any], answer: str | None, verdict: Mapping[str, Any],
              context: ScoreContext) -> dict[str, Any]:
        """IoU of the first interval, R@1 at each threshold, and `hit`: IoU >= the label's min_iou."""
        pred = self.first_interval(answer) if answer is not None else None
        v = iou(pred[0], pred[1], float(spec["start"]), float(spec["end"])) if pred else 0.0
        return {"iou": v, **{f"r1@{t}": v >= t - 1e-9 for t in THRESHOLDS},
                "hit": v >= float(spec.get("min_iou", context.profile.min_iou)) - 1e-9}

    @classmethod
    def metrics_text(cls, values: Mapping[str, Any]) -> str:
        """mIoU, then R@1 at the thresholds on one line ("R@1 IoU 0.3/0.5/0.7 50.0% / ...")."""
        r1 = [m for m in cls.metrics if m.name.startswith("r1@")]
        return (f"{cls.metrics[0].display} {cls.metrics[0].format_value(values.get('miou'))}, R@1 IoU "
                + "/".join(m.name[3:] for m in r1) + " " + " / ".join(m.format_value(values.get(m.name)) for m in r1))

    def hint_text(self, spec: dict[str, Any]) -> str:
        return f"{fmt_number(float(spec['start']))} s to {fmt_number(float(spec['end']))} s"
