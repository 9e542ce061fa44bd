"""Boolean labels: yes/no verdicts with negation, hedges and conflicting statements."""
from __future__ import annotations

import pytest

from vstar_data.testing.labels import LabelTypeContract
from vstar_data.verify.labels.base import Profile
from vstar_data.verify.labels.boolean import BooleanLabel

P = Profile("default")
YES = {"type": "boolean", "name": "answer", "value": True}
NO = {"type": "boolean", "name": "answer", "value": False}


class TestBooleanContract(LabelTypeContract):
    label_type_cls = BooleanLabel
    spec = YES
    passing = [(YES, "Yes."), (YES, "yes, he is dunking"), (NO, "No, he is not."),
               (NO, "It is not the case that the man is dunking.")]
    failing = [(YES, "No."), (YES, "Maybe yes."), (YES, "Yes. Actually, the answer is no."),
               (YES, "The man is moving from left to right.")]


@pytest.mark.parametrize("spec, answer", [
    (YES, "Yes"), (YES, "yes."), (YES, "Yeah, the man dunks."), (YES, "Answer: yes"),
    (YES, "The man jumps towards the hoop, so the answer is yes."), (YES, "That is correct."),
    (YES, "It is true that he is dunking."),
    (NO, "No"), (NO, "No, he is not."), (NO, "Nope."), (NO, "It is not the case that he is dunking."),
    (NO, "No one is dunking here, so the answer is no."), (NO, "That is not correct."),
    (NO, "The statement is false."), (NO, "It is not true that the man is dunking."),
])
def test_verdicts(spec: dict, answer: str) -> None:
    result = BooleanLabel().verify(spec, answer, P)
    assert result.passed, (answer, result)


@pytest.mark.parametrize("spec, answer, reason", [
    (YES, "No.", "wrong_value"), (NO, "Yes, he is.", "wrong_value"),
    (YES, "Maybe yes.", "hedged"), (YES, "Yes, probably.", "hedged"),
    (YES, "Yes. Actually, the answer is no.", "competing"),
    (YES, "The man is moving from left to right.", "not_found"),   # a direction's "right" is no verdict
    (NO, "There is no ball in the video.", "not_found"),           # "no ball": a determiner, no verdict
])
def test_failures(spec: dict, answer: str, reason: str) -> None:
    result = BooleanLabel().verify(spec, answer, P)
    assert not result.passed and result.reason == reason, (answer, result)
