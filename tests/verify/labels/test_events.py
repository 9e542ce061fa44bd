"""Order of events for ordering questions (verify/labels/_events.py) and the event ranks they
share with the `text` label (_contrast.event_ranks). Lexical only: no encoder is loaded."""
from __future__ import annotations

import pytest

from vstar_data.verify.labels import _contrast, _events
from vstar_data.verify.labels.analysis import analyze

BREAD = ["Bread is sliced and then butter is spread on it", "Butter is spread and then bread is sliced",
         "Bread is sliced and butter is spread simultaneously"]


@pytest.mark.parametrize("option, first, second, simultaneous", [
    ("A kettle boils, then a man pours tea", "kettl", "pour", False),
    ("a girl jumping into water followed by a person kneading dough", "girl", "knead", False),
    ("The man stands up after he sits down", "sit", "stand", False),                 # 'after' reverses
    ("First, a woman smiles; then, a man smiles.", "woman", "man", False),
    ("changing from a cuboid into the shape of a man", "cuboid", "man", False),
    ("dancing at the same time as sending an air kiss", "danc", "kiss", True),
])
def test_ordering_reads_events_in_the_options_order(option: str, first: str, second: str, simultaneous: bool) -> None:
    read = _events.ordering(option)
    assert read is not None and read.simultaneous is simultaneous
    assert any(w.startswith(first) for w in read.events[0]) and not any(w.startswith(first) for w in read.events[1])
    assert any(w.startswith(second) for w in read.events[1])


@pytest.mark.parametrize("option", ["swimming in circles", "moving from left to right", "turning from green to red",
                                    "appears before the arrow"])
def test_options_that_order_no_events(option: str) -> None:
    """Value changes stay with the value checks; 'appears before X' names one event only."""
    assert _events.ordering(option) is None


@pytest.mark.parametrize("answer, expected", [
    ("A loaf gets cut into slices, which transitions to a knife spreading butter on the bread.", [True, False, False]),
    ("From slicing the bread to spreading the butter: breakfast.", [True, False, False]),
    ("Butter is spread on a plate, and then bread is sliced.", [False, True, False]),
    ("Butter is spread on the bread after the bread is sliced.", [True, False, False]),
    ("Someone slices bread while butter is spread at the same time.", [False, False, True]),
    ("Someone slices a loaf of bread and spreads butter on the slices.", [True, False, False]),   # narrated
    ("Bread is sliced and then butter is spread. Both happen simultaneously.", [None, None, None]),
    ("A kitchen counter with bread and butter on it.", [None, None, None]),          # objects, no events
])
def test_stated_orders(answer: str, expected: list) -> None:
    assert _events.stated_orders(BREAD, answer) == expected


def test_not_an_ordering_question() -> None:
    assert _events.stated_orders(["slow motion", "normal speed", "time-lapse"], "A slow-motion clip.") is None


def test_a_later_mention_of_an_object_is_another_event() -> None:
    """Only sentences that hold most of an event place it: the 'nut' eaten later is no second picking."""
    options = ["Turning back followed by picking up a nut", "Picking up a nut followed by turning back"]
    answer = "A squirrel is seen picking up a nut and turning back. The squirrel then eats the nut."
    assert _events.stated_orders(options, answer) == [False, True]


@pytest.mark.parametrize("ref, answer", [
    ("A ball morphs into a cube.", "A cube morphs into a ball."),
    ("The scene transitions from a beach to a forest.", "The scene transitions from a forest to a beach."),
    ("The video starts with a dog and ends with a cat.", "The video starts with a cat and ends with a dog."),
])
def test_event_ranks_read_transitions_for_text_labels_too(ref: str, answer: str) -> None:
    assert _contrast.order_conflict(analyze(ref), analyze(answer))
    assert not _contrast.order_conflict(analyze(ref), analyze(ref))


@pytest.mark.parametrize("text, cls, value", [
    ("at the same speed as the car below", "speed", 2),
    ("the room gets darker", "brightness", 1),
    ("zooming into the crowd", "zoom", 0),
    ("there are 2 of them", "count", 2.0),
])
def test_value_sets(text: str, cls: str, value: object) -> None:
    assert value in _contrast.value_sets(analyze(text)).get(cls, set())


def test_to_get_is_no_later_event() -> None:
    """'from the kitchen to get water': the infinitive 'to' opens no later event."""
    ranks = _contrast.event_ranks(analyze("He walks from the kitchen to get water"))
    assert len(set(ranks)) == 1


@pytest.mark.parametrize("text, pole", [("a time-lapse of clouds", 0), ("shown in slow-motion", 1),
                                         ("filmed in real time", 2), ("at normal speed", 2)])
def test_playback_is_its_own_class(text: str, pole: int) -> None:
    """The clip's playback, not the speed of what it shows ("slow motion" is no 'slow' speed)."""
    sets = _contrast.value_sets(analyze(text))
    assert sets.get("playback") == frozenset({pole}) and "speed" not in sets


def test_negated_values_are_not_affirmed() -> None:
    doc = analyze("The clip is not sped up or slowed down; it plays at normal speed.")
    assert _contrast.value_sets(doc, affirmed=True)["playback"] == frozenset({2})
    assert _contrast.value_sets(doc)["playback"] == frozenset({0, 1, 2})
