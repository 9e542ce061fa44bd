"""Sequence labels: FineDiving sub-actions, all present and in order, abbreviations folded."""
from __future__ import annotations

import pytest

from vstar_data.verify.labels.base import Profile
from vstar_data.verify.labels.sequence import SequenceLabel
from vstar_data.testing.labels import LabelTypeContract, check_result

DEFAULT = Profile("default", fuzzy_threshold=85, rel_tol=0.05)
PAPER = Profile("paper", fuzzy_threshold=80, rel_tol=0.05)
LABEL = SequenceLabel()


def seq(*items: str) -> dict:
    return {"type": "sequence", "name": "sub_actions", "value": list(items)}


INWARD = seq("Inward", "3.5 Soms.Tuck", "Entry")
BACK = seq("Back", "2.5 Soms.Pike", "0.5 Twist", "Entry")

# (spec, answer, passes, reason when it fails, score)
CASES = [
    (INWARD, "Inward, 3.5 Soms.Tuck, Entry", True, None, 1.0),
    (INWARD, "The diver starts with an inward takeoff, performs three and a half somersaults in the tuck "
             "position, and finishes with a clean entry.", True, None, 1.0),
    (INWARD, "Inward dive, 3.5 soms tuck, then the entry.", True, None, 1.0),
    (INWARD, "Inward, 3.5 somersaults tuck, entry.", True, None, 1.0),
    (INWARD, "An inward dive with a tucked three-and-a-half somersault before entering the water.", True, None, 1.0),
    (INWARD, "Inward, 3.5 somersalts tuck, entry.", True, None, 1.0),           # typo in a long word
    (BACK, "Back takeoff, two and a half somersaults piked with a half twist, entry.", True, None, 1.0),
    (BACK, "A backward dive with 2.5 somersaults in pike and 0.5 twist before entering the water.", True, None, 1.0),
    (seq("Forward", "Arm.Back", "Reverse"), "Forward, then an armstand back, then reverse.", True, None, 1.0),
    # numbers must agree exactly
    (INWARD, "Inward, 2.5 somersaults tuck, entry.", False, "incomplete", 2 / 3),
    (INWARD, "Inward, 3.5 somersaults pike, entry.", False, "incomplete", 2 / 3),
    # order matters
    (INWARD, "Entry first, then inward and 3.5 somersaults tuck.", False, "out_of_order", 2 / 3),
    (INWARD, "Only the entry is visible.", False, "incomplete", 1 / 3),
    (INWARD, "Nothing relevant here.", False, "not_found", 0.0),
    (INWARD, "", False, "empty_answer", 0.0),
]


@pytest.mark.parametrize("spec, answer, passes, reason, score", CASES)
def test_sequence_rules(spec: dict, answer: str, passes: bool, reason: str | None, score: float) -> None:
    result = LABEL.verify(spec, answer, DEFAULT)
    assert result.passed is passes, result
    assert result.reason == reason
    assert result.score == pytest.approx(score)
    check_result(result, spec, answer, "sequence")


def test_repeated_items_need_repeated_mentions() -> None:
    spec = seq("Forward", "Forward", "Entry")
    assert not LABEL.verify(spec, "Forward, then entry.", DEFAULT).passed
    assert LABEL.verify(spec, "Forward, forward again, then entry.", DEFAULT).passed


def test_fuzzy_threshold_comes_from_the_profile() -> None:
    answer = "Inward, 3.5 somersaulk tuck, entry."   # one substitution in "somersault": ratio 90
    assert LABEL.verify(INWARD, answer, DEFAULT).passed
    assert not LABEL.verify(INWARD, answer, Profile("exact", fuzzy_threshold=95)).passed


def test_hint_text_joins_items() -> None:
    assert LABEL.hint_text(INWARD) == "Inward, 3.5 Soms.Tuck, Entry"
    assert LABEL.verify(INWARD, f"sub actions: {LABEL.hint_text(INWARD)}.", PAPER).passed


class TestSequenceContract(LabelTypeContract):
    label_type_cls = SequenceLabel
    spec = INWARD
    passing = [(INWARD, "Inward, 3.5 somersaults tuck, entry."), (BACK, "Back, 2.5 soms pike, half twist, entry")]
    failing = [(INWARD, "Entry, inward, 3.5 soms tuck."), (BACK, "Back, 2.5 soms pike, entry")]
