"""Choice labels: letters, numbers and option texts in the usual styles; competing, negated and
hedged selections fail (TempCompass and STAR shapes)."""
from __future__ import annotations

import pytest

from vstar_data.testing.labels import LabelTypeContract
from vstar_data.verify.labels.base import Profile
from vstar_data.verify.labels.choice import ChoiceLabel, option_cores

P = Profile("default")
LABEL = ChoiceLabel()
MC = {"type": "choice", "name": "answer", "correct": 0,
      "options": ["dunking a basketball", "dribbling a basketball", "passing a basketball"]}
DIRECTION = {"type": "choice", "name": "answer", "correct": 1,
             "options": ["moving from left to right", "moving from right to left", "moving towards the camera"]}
CAPTIONS = {"type": "choice", "name": "answer", "correct": 1,
            "options": ["The man is dribbling a basketball.", "A man is dunking a basketball."]}
CAPTIONING = dict(MC, select_by="text")


class TestChoiceContract(LabelTypeContract):
    label_type_cls = ChoiceLabel
    spec = MC
    passing = [(MC, "A"), (MC, "(a)"), (MC, "A."), (MC, "1."), (MC, "Option 1"), (MC, "The answer is A."),
               (MC, "The man is dunking the ball."), (CAPTIONS, "Caption B"), (CAPTIONS, "Sentence B."),
               (CAPTIONS, "Option 2: A man is dunking a basketball.")]
    failing = [(MC, "B"), (MC, "Either A or B."), (MC, "It is not A."), (MC, "Maybe A."),
               (MC, "He is dribbling."), (CAPTIONS, "Caption A")]


@pytest.mark.parametrize("answer", [
    "A", "a", "(A)", "(a)", "A.", "A)", "1.", "Option 1", "option A", "Caption A", "Sentence A", "Answer: A",
    "The answer is A.", "The correct option is (A).", "**A. dunking a basketball**",
    "A. dunking a basketball", "He is dunking a basketball.", "The man dunks the basketball.",
    "He is not dribbling; he is dunking a basketball.", "B is wrong; A is right.",
    "The man dribbles first. The answer is A.",
    "The best option is A. There is no passing or dribbling in the video.",
])
def test_selects_the_correct_option(answer: str) -> None:
    result = LABEL.verify(MC, answer, P)
    assert result.passed, (answer, result)


@pytest.mark.parametrize("answer, reason", [
    ("B", "wrong_option"), ("Option 3", "wrong_option"), ("He is passing the basketball.", "wrong_option"),
    ("Either A or B.", "competing"), ("He dribbles and then dunks a basketball.", "competing"),
    ("It is not A.", "negated"), ("He is not dunking a basketball.", "negated"),
    ("Maybe A.", "hedged"), ("Perhaps he is dunking a basketball.", "hedged"),
    ("The man plays basketball.", "not_found"), ("The answer is a man dunking", "not_found_or_text"),
])
def test_fails_with_reason(answer: str, reason: str) -> None:
    result = LABEL.verify(MC, answer, P)
    if reason == "not_found_or_text":       # "a man" is an article, not option A: only the text counts
        assert result.passed and result.matched == "dunking"
        return
    assert not result.passed and result.reason == reason, (answer, result)


def test_word_order_tells_directions_apart() -> None:
    assert LABEL.verify(DIRECTION, "The man walks from right to left.", P).passed
    r = LABEL.verify(DIRECTION, "The man walks from left to right.", P)
    assert not r.passed and r.reason == "wrong_option"
    assert option_cores(tuple(DIRECTION["options"])) == (("from", "left", "to", "right"),
                                                         ("from", "right", "to", "left"), ("toward", "camera"))


def test_a_stated_answer_wins_over_options_discussed_later() -> None:
    answer = ("Caption B: A man is dunking a basketball.\n\nCaption A mentions dribbling, which the video "
              "also shows before the dunk.")
    assert LABEL.verify(CAPTIONS, answer, P).passed
    listed = "The options are A. dunking a basketball, B. dribbling a basketball, C. passing a basketball."
    assert LABEL.verify(MC, listed, P).reason == "competing"


def test_captioning_needs_the_text_not_a_letter() -> None:
    assert LABEL.verify(CAPTIONING, "A man dunks a basketball on an outdoor court.", P).passed
    r = LABEL.verify(CAPTIONING, "A", P)
    assert not r.passed and r.reason == "not_found"
    assert LABEL.verify(CAPTIONING, "A man is dribbling a basketball.", P).reason == "wrong_option"
