"""Timestamp labels: one moment in seconds within abs_tol; spans, negations, hedges and
alternatives do not count."""
from __future__ import annotations

import pytest

from vstar_data.testing.labels import LabelTypeContract
from vstar_data.verify.labels.base import Profile
from vstar_data.verify.labels.timestamp import TimestampLabel

P = Profile("default")
SPEC = {"type": "timestamp", "name": "moment", "value": 12.4, "abs_tol": 1.0}


class TestTimestampContract(LabelTypeContract):
    label_type_cls = TimestampLabel
    spec = SPEC
    passing = [(SPEC, "It happens at 12 seconds."), (SPEC, "At 0:12 the cup falls."), (SPEC, "at 12.4")]
    failing = [(SPEC, "It happens at 30 s."), (SPEC, "It is not at 12 s."), (SPEC, "Maybe at 12 s.")]


@pytest.mark.parametrize("answer", ["It happens at 12 seconds.", "At 0:12 the cup falls.", "around 13.2 s",
                                    "The moment is 12.4 s.", "at 12400 ms", "The 3 people react at 12.9s."])
def test_moments_within_tolerance_pass(answer: str) -> None:
    assert TimestampLabel().verify(SPEC, answer, P).passed, answer


@pytest.mark.parametrize("answer, reason", [
    ("It happens at 30 s.", "out_of_tolerance"), ("It happens at 13.5 seconds.", "out_of_tolerance"),
    ("It is not at 12 s.", "negated"), ("Maybe at 12 s.", "hedged"),
    ("It happens at 12 or 30 seconds.", "competing_value"),
    ("from 10 to 15 seconds", "not_found"),           # a span is not a moment
    ("There are 12 people.", "not_found"),            # a number owned by a noun
])
def test_failures(answer: str, reason: str) -> None:
    result = TimestampLabel().verify(SPEC, answer, P)
    assert not result.passed and result.reason == reason, (answer, result)


def test_tolerance_comes_from_the_spec() -> None:
    tight = dict(SPEC, abs_tol=0.2)
    assert not TimestampLabel().verify(tight, "at 12 s", P).passed
    assert TimestampLabel().verify(tight, "at 12.5 s", P).passed
