"""Number labels: the number the answer gives for that label (FineDiving difficulty and scores)."""
from __future__ import annotations

import pytest

from vstar_data.verify.labels.base import Profile
from vstar_data.verify.labels.number import NumberLabel
from vstar_data.testing.labels import LabelTypeContract, check_result

DEFAULT = Profile("default", fuzzy_threshold=85, rel_tol=0.05)
LABEL = NumberLabel()


def num(name: str, value: float, **kw: object) -> dict:
    return {"type": "number", "name": name, "value": value, **kw}


DD32, DD35, SCORE = num("difficulty", 3.2), num("difficulty", 3.5), num("final_score", 65.6)
SCORE885 = num("final_score", 88.5)

# (spec, answer, passes, reason when it fails, value read)
CASES = [
    # the number attached to the label's key
    (DD35, "The difficulty is 3.5.", True, None, 3.5),
    (DD32, "A dive with a difficulty of 3.2 scored 65.6 points.", True, None, 3.2),
    (SCORE, "A dive with a difficulty of 3.2 scored 65.6 points.", True, None, 65.6),
    (DD32, "The degree of difficulty (DD) for this dive is 3.2.", True, None, 3.2),
    (DD32, "DD: 3.2", True, None, 3.2),
    (DD32, "This is a 3.2 difficulty dive.", True, None, 3.2),
    (DD32, "3.2 is the difficulty of this forward dive.", True, None, 3.2),
    (SCORE, "The score of 65.6 reflects a difficulty of 3.2.", True, None, 65.6),
    (DD32, "The score of 65.6 reflects a difficulty of 3.2.", True, None, 3.2),
    (SCORE, "Its final score, 65.6, is solid.", True, None, 65.6),
    (num("dive_score", 65.6), "The judges scored it 65.6.", True, None, 65.6),
    # numbers in words and other forms
    (SCORE885, "The final score is eighty-eight point five.", True, None, 88.5),
    (SCORE885, "The judges gave a score of 88.5/100.", True, None, 88.5),
    (SCORE885, "It scored 88.5 out of 100.", True, None, 88.5),
    (DD35, "The degree of difficulty is three and a half.", True, None, 3.5),
    (num("final_score", 3.5), "The dive earned 3.5 points.", True, None, 3.5),
    (num("count", 21), "He jumps twenty one times.", True, None, 21),
    (num("temperature", -5), "The temperature is -5 degrees.", True, None, -5),
    (num("duration", 90, unit="s"), "The clip lasts 1.5 minutes.", True, None, 90),
    (num("count", 12), "He does 12 push-ups.", True, None, 12),                    # a count's noun is its thing
    (SCORE, "Judges' scores: 7.0, 7.5, 7.0; final score 65.6.", True, None, 65.6),
    (SCORE, "The judges gave 7.5, 8.0 and 7.5.", False, "not_found", None),
    # a number that belongs to something else is not the label's
    (DD35, "The diver completes 3.5 somersaults in the tuck position and scored 52.", False, "not_found", None),
    (DD35, "The diver does 3.5 somersaults.", False, "not_found", None),
    (DD32, "The score is 3.2 and the difficulty is high.", False, "not_found", None),
    (DD32, "The difficulty is 3.5 and the score is 3.2.", False, "out_of_tolerance", 3.5),
    (DD32, "The difficulty is 3.0 or 3.2.", False, "competing_value", 3.2),     # issue 13: alternatives
    (DD32, "The difficulty is not 3.2.", False, "negated", None),
    (num("duration", 90, unit="s"), "The clip lasts 90 meters.", False, "unit_mismatch", None),
    # the key is never mentioned: a lone bare number is the answer's claim, two are ambiguous
    (DD32, "The answer is 3.2.", True, None, 3.2),
    (DD32, "It is 3.2, maybe 3.4.", False, "not_found", None),
    # tolerance: the spec's own margin wins over the profile's
    (SCORE, "The score is 60.", False, "out_of_tolerance", 60),
    (num("final_score", 65.6, abs_tol=6), "The score is 60.", True, None, 60),
    (num("final_score", 65.6, rel_tol=0.2), "The score is 53.", True, None, 53),
    (SCORE, "The score is 63.", True, None, 63),            # 4% off, within the profile's 5%
    (SCORE, "", False, "empty_answer", None),
]


@pytest.mark.parametrize("spec, answer, passes, reason, value", CASES)
def test_number_rules(spec: dict, answer: str, passes: bool, reason: str | None, value: float | None) -> None:
    result = LABEL.verify(spec, answer, DEFAULT)
    assert result.passed is passes, result
    assert result.reason == reason
    if value is not None:
        assert result.extra["value"] == pytest.approx(value)
    check_result(result, spec, answer, "number")


def test_profile_margin_applies_without_spec_margin() -> None:
    answer = "The final score is 60."                   # 8.5% below 65.6
    assert not LABEL.verify(SCORE, answer, DEFAULT).passed
    assert LABEL.verify(SCORE, answer, Profile("code", rel_tol=0.10)).passed
    assert LABEL.verify(SCORE, answer, Profile("abs", rel_tol=0.0, abs_tol=6.0)).passed


def test_span_is_the_number_for_the_label() -> None:
    answer = "With 3.5 somersaults and a difficulty of 3.2, it scored 65.6."
    result = LABEL.verify(DD32, answer, DEFAULT)
    assert result.matched == "3.2" and answer[slice(*result.span)] == "3.2"


@pytest.mark.parametrize("value, unit, hint", [(65.6, None, "65.6"), (3.0, None, "3"), (88.50, None, "88.5"),
                                               (12.0, "s", "12 s")])
def test_hint_text(value: float, unit: str | None, hint: str) -> None:
    spec = num("final_score", value, **({"unit": unit} if unit else {}))
    assert LABEL.hint_text(spec) == hint


class TestNumberContract(LabelTypeContract):
    label_type_cls = NumberLabel
    spec = DD32
    passing = [(DD32, "The difficulty is 3.2."), (SCORE, "It scored 65.6 points.")]
    failing = [(DD35, "He does 3.5 somersaults and scores 52."), (SCORE, "The score is 30.")]
