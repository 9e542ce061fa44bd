"""Interval labels: stated segments in every common form, scored by temporal IoU (THUMOS14 rows)."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from vstar_data.verify.labels.base import Profile
from vstar_data.verify.labels.interval import IntervalLabel, iou
from vstar_data.testing.labels import LabelTypeContract, check_result

DEFAULT = Profile("default", fuzzy_threshold=85, rel_tol=0.05, min_iou=0.5)
LABEL = IntervalLabel()
SEG = {"type": "interval", "name": "segment", "start": 12.4, "end": 18.9}

# (answer, stated start, stated end) -- all stated forms of (about) 12.4 s to 18.9 s
FORMS = [
    ("The action happens from 12.4s to 18.9 s.", 12.4, 18.9),
    ("It occurs between 0:12 and 0:19.", 12.0, 19.0),
    ("The dunk is at 12.4-18.9 seconds.", 12.4, 18.9),
    ("It is starting at 12 seconds and ending at 19.", 12.0, 19.0),
    ("The action spans 12.4 to 18.9 seconds.", 12.4, 18.9),
    ("It starts at 12.4 s. Then it ends at 18.9 s.", 12.4, 18.9),
    ("It starts at 12.4 seconds and lasts 6.5 seconds.", 12.4, 18.9),
    ("The action takes place 12.4 s – 18.9 s into the video.", 12.4, 18.9),
    ("The action occurs during [12.4, 18.9].", 12.4, 18.9),
    ("It doesn't start until 12.4 s and ends at 18.9 s.", 12.4, 18.9),
    ("The swing is between 12400 ms and 18900 ms.", 12.4, 18.9),
    ("It goes from the 12.4-second mark to the 18.9-second mark.", 12.4, 18.9),
    ("It starts at 12.4 seconds, ends at 18.9 seconds.", 12.4, 18.9),
    ("It lasts from about 12.4 s until around 18.9 s.", 12.4, 18.9),
    ("The event begins at t=12.4s and concludes at t=18.9s.", 12.4, 18.9),
]


@pytest.mark.parametrize("answer, start, end", FORMS)
def test_stated_forms_are_read(answer: str, start: float, end: float) -> None:
    result = LABEL.verify(SEG, answer, DEFAULT)
    assert result.passed, result
    assert (result.extra["start"], result.extra["end"]) == pytest.approx((start, end))
    assert result.score == pytest.approx(iou(start, end, 12.4, 18.9))
    check_result(result, SEG, answer, "interval")


@pytest.mark.parametrize("answer, start, end", [
    ("From 1:02.5 to 1:10 the ball is in the air.", 62.5, 70.0),
    ("from 1 minute 2 seconds to 1 minute 10 seconds", 62.0, 70.0),
    ("between 1 and 2 minutes", 60.0, 120.0),
    ("from 1m02s to 1m10s", 62.0, 70.0),
])
def test_clock_times_and_units_become_seconds(answer: str, start: float, end: float) -> None:
    spec = {**SEG, "start": start, "end": end}
    result = LABEL.verify(spec, answer, DEFAULT)
    assert result.passed and result.score == pytest.approx(1.0), result


@pytest.mark.parametrize("answer, reason", [
    ("The pitch happens from 0 to 5 seconds.", "low_iou"),
    ("3 people stand between 12 and 19 meters away.", "not_found"),
    ("Between 3 people and 5 dogs are visible.", "not_found"),
    ("It does not happen from 12.4 to 18.9 seconds.", "negated"),
    ("The action is at 15 seconds.", "not_found"),
    ("There is no timestamp at all.", "not_found"),
])
def test_failures_have_reasons(answer: str, reason: str) -> None:
    result = LABEL.verify(SEG, answer, DEFAULT)
    assert not result.passed and result.reason == reason, result


def test_best_matching_interval_counts() -> None:
    answer = "A first swing is from 2 to 5 s; the main one is from 12 to 19 s."
    result = LABEL.verify(SEG, answer, DEFAULT)
    assert result.passed and result.matched == "12 to 19 s"


def test_spec_min_iou_wins_over_profile() -> None:
    answer = "It happens from 10 to 18.9 s."           # IoU 6.5 / 8.9 = 0.73
    assert LABEL.verify(SEG, answer, DEFAULT).passed
    assert not LABEL.verify({**SEG, "min_iou": 0.9}, answer, DEFAULT).passed
    assert not LABEL.verify(SEG, answer, Profile("tight", min_iou=0.8)).passed


@pytest.mark.parametrize("a, b, expected", [((0, 10), (5, 15), 5 / 15), ((0, 10), (10, 20), 0.0),
                                            ((3, 3), (3, 3), 1.0), ((0, 10), (0, 10), 1.0)])
def test_iou(a: tuple[float, float], b: tuple[float, float], expected: float) -> None:
    assert iou(*a, *b) == pytest.approx(expected)


def test_thumos_segments(thumos_dir: Path) -> None:
    with (thumos_dir / "val_Annotation.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["type"] != "Ambiguous"][:50]
    for r in rows:
        spec = {"type": "interval", "name": r["type"], "start": float(r["start"]), "end": float(r["end"])}
        answer = f"The {r['type']} happens {LABEL.hint_text(spec).replace(' s to ', ' to ')} into the video."
        assert LABEL.verify(spec, answer, DEFAULT).passed, answer
        late = {**spec, "start": spec["end"] + 5, "end": spec["end"] + 9}
        assert not LABEL.verify(late, answer, DEFAULT).passed


class TestIntervalContract(LabelTypeContract):
    label_type_cls = IntervalLabel
    spec = SEG
    passing = [(SEG, "It happens from 12.4 to 18.9 seconds."), (SEG, "Between 0:12 and 0:19.")]
    failing = [(SEG, "It happens from 30 to 40 seconds."), (SEG, "It happens at 12 seconds.")]
