"""The lexical contradiction checks that run before sentence similarity (no model needed)."""
from __future__ import annotations

import pytest

from vstar_data.verify.labels._contrast import contrast


@pytest.mark.parametrize(("reference", "answer", "reason"), [
    ("The car moves from left to right.", "The car moves from right to left.", "wrong_direction"),
    ("The glass goes from empty to full.", "The glass goes from full to empty.", "wrong_direction"),
    ("The camera zooms in on the flower.", "The camera zooms out from the flower.", "wrong_direction"),
    ("The woman walks towards the camera.", "The woman walks away from the camera.", "wrong_direction"),
    ("Two dogs are playing in the snow.", "Three dogs are playing in the snow.", "wrong_number"),
    ("The man jumps 4 times.", "The man jumps twice.", "wrong_number"),
    ("The woman is wearing a red dress.", "The woman is wearing a blue dress.", "wrong_colour"),
    ("The man first picks up the phone and then sits down.", "The man sits down and then picks up the phone.",
     "wrong_order"),
    ("The man sits down after picking up the phone.", "He sits down, then picks up the phone.", "wrong_order"),
    ("The person puts the cup on the shelf.", "The person puts the book on the shelf.", "contradicted"),
    ("The wheel turns clockwise.", "The wheel turns counter-clockwise.", "wrong_direction"),
    ("The wheel turns anti-clockwise.", "The wheel turns clockwise.", "wrong_direction"),
    ("The camera zooms in on the tower.", "The camera is zooming backward from the tower.", "wrong_direction"),
])
def test_contradictions_are_named(reference: str, answer: str, reason: str) -> None:
    clash = contrast(reference, answer)
    assert clash is not None and clash[0] == reason


@pytest.mark.parametrize(("reference", "answer"), [
    ("The car moves from left to right.", "The car drives from the left side of the frame to the right side."),
    ("The man sits down after picking up the phone.", "The man picks up the phone and then sits down."),
    ("Three people are dancing on the stage.", "3 people dance on a stage for about 20 seconds."),
    ("The person puts the cup on the shelf.", "Someone places a mug onto the shelf."),
    ("The woman walks towards the camera.", "The woman is walking toward the camera."),
    ("The wheel turns counterclockwise.", "The wheel turns counter-clockwise."),
    ("The wheel turns counter clockwise.", "The wheel spins anticlockwise."),
    ("The camera zooms out from the tower.", "The camera is zooming backward from the tower."),
])
def test_agreeing_answers_pass(reference: str, answer: str) -> None:
    assert contrast(reference, answer) is None


@pytest.mark.parametrize(("reference", "answer", "said"), [
    ("The child takes a book from the table.", "The kid picks up a book from the table.", True),   # synonyms
    ("The man puts three cups on the shelf.", "Three cups are put on the shelf by the man.", True),
    ("The man puts three cups on the shelf.", "The man puts cups on the shelf.", False),            # no count
    ("The man puts the cup on the shelf.", "The man puts the cup away.", False),                     # no shelf
    ("The woman washes the dishes.", "The woman washes the plates.", False),     # a close word needs a model
])
def test_stated_needs_every_content_word_and_count(reference: str, answer: str, said: bool) -> None:
    from vstar_data.verify.labels._contrast import stated
    from vstar_data.verify.labels.analysis import analyze

    assert stated(analyze(reference), analyze(answer), None) is said


def test_stated_takes_close_words_from_the_word_similarity() -> None:
    from vstar_data.verify.labels._contrast import stated
    from vstar_data.verify.labels.analysis import analyze

    ref, ans = analyze("The woman washes the dishes."), analyze("The woman washes the plates.")
    assert stated(ref, ans, lambda a, b: 0.9 if {a, b} == {"dishes", "plates"} else 0.1)
    assert not stated(ref, ans, lambda a, b: 0.59)
