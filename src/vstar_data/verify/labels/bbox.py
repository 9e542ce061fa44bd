"""Bounding-box labels: where an object is in one frame, e.g. ``{"type": "bbox", "name": "object",
"box": [x1, y1, x2, y2], "frame_time": 12.0, "coords": "pixels", "min_iou": 0.5}``.

Boxes are corners (x1, y1) top-left and (x2, y2) bottom-right, and IoU is computed on those
corners (xyxy). The released Video-STaR code converted boxes as centre-x/centre-y/width/height by
mistake; this type does not. An answer states a box as ``[x1, y1, x2, y2]``, ``(x1, y1, x2, y2)``
or two corner points ``(x1, y1), (x2, y2)`` / ``(x1, y1) to (x2, y2)``. ``coords`` says whether the
label is in pixels or normalised to [0, 1]; an answer in the other system is converted when the
spec gives ``image_size: [width, height]``, and otherwise fails with `coords_mismatch` (it is never
guessed). A box whose corners are out of order is not a box. The answer passes when a box with IoU
>= ``min_iou`` (default: the profile's `min_iou`) is committed to (the shared check in `_commitment`:
not negated or hedged, no other box offered instead: `competing_value`).
"""
from __future__ import annotations

import re
from typing import Any

from ._commitment import check, commitment_extra
from ._numbers import fmt_number
from .analysis import analyze, negated
from .base import LabelResult, LabelType, Profile

_N = r"(-?\d+(?:\.\d+)?)"
_SEP = r"\s*,\s*"
_FOUR = re.compile(rf"[\[(]\s*{_N}{_SEP}{_N}{_SEP}{_N}{_SEP}{_N}\s*[\])]")
_PAIRS = re.compile(rf"\(\s*{_N}{_SEP}{_N}\s*\)[^()\[\]\d]{{0,40}}?\(\s*{_N}{_SEP}{_N}\s*\)")


def stated_boxes(answer: str) -> list[tuple[tuple[float, float, float, float], int, int]]:
    """((x1, y1, x2, y2), char start, char end) for each box the text states, in order."""
    out = []
    for rx in (_FOUR, _PAIRS):
        for m in rx.finditer(answer):
            if any(s <= m.start() < e for _, s, e in out):
                continue
            out.append((tuple(float(g) for g in m.groups()), m.start(), m.end()))  # type: ignore[misc]
    return sorted(out, key=lambda b: b[1])


def box_iou(a: tuple[float, ...] | list[float], b: tuple[float, ...] | list[float]) -> float:
    """Intersection over union of two xyxy boxes (corner coordinates)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    if union <= 0:
        return 1.0 if list(a) == list(b) else 0.0
    return inter / union


def _normalized(box: tuple[float, ...]) -> bool:
    return all(0.0 <= v <= 1.0 for v in box)


def _convert(box: tuple[float, ...], spec: dict[str, Any]) -> tuple[float, ...] | None:
    """The stated box in the spec's coordinate system, or None when that cannot be known."""
    pixels = spec.get("coords", "pixels") == "pixels"
    if pixels and not _normalized(box) or not pixels and _normalized(box):
        return box
    size = spec.get("image_size")
    if not size:
        return None
    w, h = float(size[0]), float(size[1])
    if pixels:                       # a normalised answer for a pixel label
        return (box[0] * w, box[1] * h, box[2] * w, box[3] * h)
    return (box[0] / w, box[1] / h, box[2] / w, box[3] / h)


class BboxLabel(LabelType):
    """An xyxy box; passes when a stated box overlaps it with IoU >= min_iou."""

    type_name = "bbox"

    def check(self, spec: dict[str, Any], answer: str, profile: Profile) -> LabelResult:
        name = spec.get("name", "")
        target = [float(v) for v in spec["box"]]
        min_iou = float(spec.get("min_iou", profile.min_iou))
        boxes = stated_boxes(answer)
        if not boxes:
            return LabelResult(name, self.type_name, False, 0.0, reason="not_found")
        doc = analyze(answer)
        scored: list[tuple[float, int, int, tuple[float, ...]]] = []
        fail: tuple[str, int, int] | None = None
        for box, s, e in boxes:
            if box[2] < box[0] or box[3] < box[1]:
                fail = fail or ("invalid_box", s, e)
                continue
            conv = _convert(box, spec)
            if conv is None:
                fail = fail or ("coords_mismatch", s, e)
                continue
            scored.append((box_iou(conv, target), s, e, conv))
        if not scored:
            reason, s, e = fail or ("not_found", 0, 0)
            return LabelResult(name, self.type_name, False, 0.0, (s, e), answer[s:e], reason=reason)
        spans = {(s, e): _tokens(doc, s, e) for _, s, e, _ in scored}
        gold = [spans[(s, e)] for score, s, e, _ in scored if score >= min_iou - 1e-9]
        rivals = [spans[(s, e)] for score, s, e, _ in scored if score < min_iou - 1e-9]
        if not gold:
            live = [b for b in scored if negated(doc, *spans[(b[1], b[2])]) < 0]
            if not live:
                s, e = scored[0][1], scored[0][2]
                return LabelResult(name, self.type_name, False, 0.0, (s, e), answer[s:e], reason="negated")
            score, s, e, conv = max(live)
            return LabelResult(name, self.type_name, False, score, (s, e), answer[s:e], reason="low_iou",
                               extra={"stated": [round(v, 4) for v in conv]})
        # the shared commitment check: negated, hedged, a rival box offered instead ("[...] or [...]") ...
        verdict = check(doc, gold, rivals, profile.require_commitment)
        mention = verdict.mention if verdict.mention in gold else gold[0]
        score, s, e, conv = next(b for b in scored if spans[(b[1], b[2])] == mention)
        extra = {"stated": [round(v, 4) for v in conv]}
        if not verdict.ok:
            return LabelResult(name, self.type_name, False, score, (s, e), answer[s:e], reason=verdict.reason,
                               extra={**extra, **commitment_extra(doc, verdict, gold)})
        return LabelResult(name, self.type_name, True, score, (s, e), answer[s:e], extra=extra)

    def hint_text(self, spec: dict[str, Any]) -> str:
        return "[" + ", ".join(fmt_number(round(float(v), 3)) for v in spec["box"]) + "]"


def _tokens(doc: Any, s: int, e: int) -> tuple[int, int]:
    """Token range covering chars s..e of the answer."""
    n = len(doc.kinds)
    t0 = next((t for t in range(n) if doc.span(t, t + 1)[1] > s), n - 1)
    t1 = next((t for t in range(t0, n) if doc.span(t, t + 1)[0] >= e), n)
    return max(t0, 0), max(t1, t0 + 1)
