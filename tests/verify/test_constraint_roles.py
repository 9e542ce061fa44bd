"""Constraint labels around the verifier (issue 26): the spec's `role` is validated, constraints
are never hinted, `verifier.constraints: measure` records without rejecting, and a stored row's
labels come back from the dataset struct with their role (reverify enforces them)."""
from __future__ import annotations

import pytest

from vstar_data.dataset.rows import label_to_struct, struct_to_label
from vstar_data.errors import LabelSpecError
from vstar_data.sources.sample import validate_label_specs
from vstar_data.sources.templates import render_hint
from vstar_data.verify.verifier import Verifier

TARGET = {"type": "category", "name": "direction", "value": "left"}
COLOUR = {"type": "category", "name": "colour", "value": "red", "vocabulary": ["red", "green", "blue"],
          "role": "constraint"}
WRONG = "A blue square moves to the left."


def test_role_is_validated_and_a_sample_needs_a_target() -> None:
    assert validate_label_specs([TARGET, COLOUR]) == [TARGET, COLOUR]
    with pytest.raises(LabelSpecError, match="role"):
        validate_label_specs([TARGET, {**COLOUR, "role": "hint"}])
    with pytest.raises(LabelSpecError, match="at least one target"):
        validate_label_specs([COLOUR])
    interval = {"type": "interval", "name": "when", "start": 1.0, "end": 2.0, "role": "constraint"}
    with pytest.raises(LabelSpecError, match="cannot be a constraint"):
        validate_label_specs([TARGET, interval])


def test_constraints_are_never_hinted() -> None:
    assert render_hint([TARGET, COLOUR]) == "direction: left"


def test_enforced_rejects_measured_records_and_accepts() -> None:
    enforced = Verifier("default").verify([TARGET, COLOUR], WRONG)
    measured = Verifier("default", enforce_constraints=False).verify([TARGET, COLOUR], WRONG)
    assert not enforced.accepted and enforced.reason == "contradicts"
    assert measured.accepted and measured.reason is None
    for verdict in (enforced, measured):
        colour = verdict.to_dict()["scores"][1]
        assert colour["reason"] == "contradicts" and colour["matched"] == "blue" and colour["stated"] == "blue"
    # a blank answer contradicts nothing (the target fails on its own)
    blank = Verifier("default").verify([TARGET, COLOUR], " ")
    assert blank.reason == "empty_answer" and blank.results[1].passed


def test_a_one_list_vocabulary_is_the_targets_not_the_constraints() -> None:
    """`verify --vocabulary` gives one class list; it must not become a colour constraint's
    vocabulary (the directions would then 'contradict' a colour)."""
    colour = {k: v for k, v in COLOUR.items() if k != "vocabulary"}
    verdict = Verifier("default", vocabulary=["left", "right", "up", "down"]).verify([TARGET, colour],
                                                                                    "A red square moves left.")
    assert verdict.accepted, verdict.to_dict()


def test_role_survives_the_published_row_struct_so_reverify_enforces_it() -> None:
    back = [struct_to_label(label_to_struct(s)) for s in (TARGET, COLOUR)]
    assert back[1]["role"] == "constraint" and back[1]["vocabulary"] == COLOUR["vocabulary"]
    assert Verifier("default").verify(back, WRONG).reason == "contradicts"
