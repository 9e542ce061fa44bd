"""Rewards on fixed inputs whose scores were worked out by hand (numbers in the comments), in
every label form and completion form the RL frameworks hand over."""
from __future__ import annotations

import json

import pytest

from vstar_data.rewards import easyr1_compute_score, parse_labels, score_answer, trl_reward, verl_compute_score

DIVE = {"type": "number", "name": "dive_score", "value": 80.0, "abs_tol": 2.0}
SEG = {"type": "interval", "name": "segment", "start": 10.0, "end": 20.0}
SUBS = {"type": "sequence", "name": "sub_actions", "value": ["Forward", "3.5 Soms.Tuck", "Entry"]}
ACT = {"type": "category", "name": "action", "value": "playing guitar"}


@pytest.mark.parametrize("labels, answer, want", [
    ([ACT], "A man is playing guitar on a porch.", 1.0),
    ([ACT], "Nobody is playing guitar here.", 0.0),                   # negated: not a commitment
    ([ACT], "A man plays the violin.", 0.0),
    ([DIVE], "The dive score is 80.", 1.0),
    ([DIVE], "The dive score is 79.", 0.75),     # err 1, tolerance 2, scale 2x2=4: 1 - 1/4
    ([DIVE], "The dive score is 77.", 0.25),     # err 3: 1 - 3/4
    ([DIVE], "The dive score is 70.", 0.0),      # err 10 > 4: clipped at 0
    ([{"type": "number", "name": "difficulty", "value": 3.0, "rel_tol": 0.1}], "The difficulty is 3.15.", 0.75),
    # rel_err 0.05, tol_scale 2 x 0.1 = 0.2: 1 - 0.05/0.2
    ([SEG], "It happens from 10 s to 20 s.", 1.0),
    ([SEG], "It happens from 15 s to 25 s.", 1 / 3),   # overlap 15-20 = 5 s, union 10-25 = 15 s
    ([SEG], "It happens from 12 s to 16 s.", 0.4),     # overlap 4, union 10
    ([SUBS], "A forward take-off, a 3.5 somersault tuck, then the entry.", 1.0),
    ([SUBS], "The entry, then forward, then a 3.5 somersault tuck.", 2 / 3),   # Forward, Tuck in order
    ([SUBS], "Only the entry is visible.", 1 / 3),
    ([DIVE, SEG], "The dive score is 79. It happens from 15 s to 25 s.", (0.75 + 1 / 3) / 2),
])
def test_graded_scores(labels, answer, want):
    assert score_answer(labels, answer)["score"] == pytest.approx(want, abs=1e-9)


def test_label_forms_give_the_same_score():
    from vstar_data.dataset.rows import label_to_struct

    answer = "The dive score is 79. It happens from 15 s to 25 s."
    specs = [DIVE, SEG]
    structs = [label_to_struct(s) for s in specs]                # the published dataset's label structs
    arrow_filled = [{**dict.fromkeys(("type", "name", "value", "start", "end", "abs_tol")), **s} for s in specs]
    forms = [specs, structs, json.dumps(specs), json.dumps(structs), arrow_filled, [json.dumps(s) for s in specs]]
    scores = [score_answer(f, answer)["score"] for f in forms]
    assert scores == [pytest.approx((0.75 + 1 / 3) / 2)] * len(forms)
    assert parse_labels(json.dumps(structs)) == [{**DIVE}, {**SEG}]


def test_trl_reward_reads_strings_and_conversations():
    labels = [json.dumps([ACT]), json.dumps([DIVE]), json.dumps([])]
    completions = ["He is playing guitar.",
                   [{"role": "assistant", "content": "The dive score is 77."}],
                   "whatever"]
    assert trl_reward(prompts=["p"] * 3, completions=completions, labels=labels, trainer_state=None) == [1.0, 0.25, None]
    typed = [[{"role": "assistant", "content": [{"type": "text", "text": "The dive score is "},
                                                {"type": "text", "text": "79."}]}]]
    assert trl_reward(completions=typed, labels=[[DIVE]]) == [0.75]
    with pytest.raises(TypeError, match="labels"):
        trl_reward(prompts=["p"], completions=["x"], solution=["y"])


def test_unknown_and_plugin_label_types(clean_registries):
    from vstar_data.registry import LABEL_TYPES
    from vstar_data.verify.labels.base import LabelResult, LabelType

    class Colour(LabelType):
        type_name = "colour"

        def verify(self, spec, answer, profile):
            hit = spec["value"] in answer
            return LabelResult(spec["name"], "colour", hit, 0.6 if hit else 0.2)

        def hint_text(self, spec):
            return spec["value"]

    class Strict(Colour):
        type_name = "strict"
        reward = "pass_fail"

    LABEL_TYPES.register("colour", Colour)
    LABEL_TYPES.register("strict", Strict)
    colour = {"type": "colour", "name": "c", "value": "red"}
    assert score_answer([colour], "a red ball")["score"] == pytest.approx(0.6)    # its own graded score
    assert score_answer([{**colour, "type": "strict"}], "a red ball")["score"] == 1.0
    assert score_answer([{**colour, "type": "strict"}], "a blue ball")["score"] == 0.0
    out = score_answer([{"type": "not_installed", "name": "x"}, ACT], "playing guitar")
    assert out["score"] == 1.0 and out["not_applicable"] == ["not_installed"]
    assert score_answer([{"type": "not_installed", "name": "x"}], "anything")["score"] is None


def test_verl_and_easyr1_signatures():
    gt = json.dumps([DIVE])
    assert verl_compute_score("vstar/finediving", "The dive score is 79.", gt) == \
        {"score": 0.75, "acc": 1.0, "format": 0.0, "applicable": 1.0}   # within abs_tol 2: accepted
    assert verl_compute_score("vstar", "The dive score is 80.", gt, extra_info={"index": 3}) == \
        {"score": 1.0, "acc": 1.0, "format": 0.0, "applicable": 1.0}
    assert verl_compute_score("vstar", "x", "[]") == {"score": 0.0, "acc": 0.0, "format": 0.0, "applicable": 0.0}
    out = easyr1_compute_score([{"response": "The dive score is 77.", "response_length": 6, "ground_truth": gt},
                                {"response": "It happens from 12 s to 16 s.", "ground_truth": json.dumps([SEG])}])
    assert out == [{"overall": 0.25, "format": 0.0, "accuracy": 0.25, "accepted": 0.0},
                   {"overall": pytest.approx(0.4), "format": 0.0, "accuracy": pytest.approx(0.4), "accepted": 0.0}]


@pytest.mark.parametrize("labels", [
    '[{"type": "number", "name": "dive_score", "value": NaN}]',
    '[{"type": "number", "name": "dive_score", "value": 1e999}]',
    [{"type": "number", "name": "dive_score", "value": 80.0, "abs_tol": float("inf")}],
    [{"type": "number", "name": "dive_score", "value_number": float("nan"), "extra": None}],   # a published struct
])
def test_non_finite_label_is_a_clear_error_not_an_accept(labels):
    from vstar_data.errors import ConfigError

    with pytest.raises(ConfigError, match="dive_score.*not a finite number"):
        score_answer(labels, "The dive score is 80.")
    with pytest.raises(ConfigError, match="not a finite number"):
        parse_labels(labels)


# The shapes world's labels: a target and three constraints (adapters/shapes.py). A constraint is
# never scored (an answer need not state it) and an answer that contradicts one is rejected by the
# verifier, so its reward is 0 like any rejected answer.
DIRECTION = {"type": "category", "name": "direction", "value": "left"}
COLOUR = {"type": "category", "name": "colour", "value": "blue", "role": "constraint",
          "vocabulary": ["red", "green", "blue", "yellow"]}
SHAPE = {"type": "category", "name": "shape", "value": "triangle", "role": "constraint",
         "vocabulary": ["square", "circle", "triangle"]}
COUNT = {"type": "number", "name": "count", "value": 1.0, "abs_tol": 0.0, "role": "constraint"}
WORLD = [DIRECTION, COLOUR, SHAPE, COUNT]


@pytest.mark.parametrize("answer, want, accepted", [
    ("A blue triangle moves left.", 1.0, True),          # the target, no constraint contradicted
    ("It moves left.", 1.0, True),                       # constraints need not be stated
    ("A red triangle moves left.", 0.0, False),          # contradicts the colour: rejected, reward 0
    ("Two triangles move left.", 0.0, False),            # contradicts the count
    ("A blue triangle, 1 object, moves right.", 0.0, False),   # stating constraints earns nothing
    ("1 1 1 blue triangle", 0.0, False),
])
def test_constraints_are_never_scored_and_a_contradiction_scores_zero(answer: str, want: float,
                                                                     accepted: bool) -> None:
    scored = score_answer(WORLD, answer)
    assert scored["score"] == pytest.approx(want) and scored["accepted"] is accepted
    assert [p["name"] for p in scored["labels"] if p["role"] == "target"] == ["direction"]
    assert trl_reward(None, [answer], labels=[WORLD]) == [pytest.approx(want)]
    assert verl_compute_score("shapes", answer, WORLD)["score"] == pytest.approx(want)
    assert easyr1_compute_score([{"response": answer, "ground_truth": WORLD}])[0]["overall"] == pytest.approx(want)


def test_measured_constraints_are_reported_but_do_not_lower_the_reward() -> None:
    """`enforce_constraints=False` (a run's `verifier.constraints: measure`): the contradiction is
    recorded, the reward is the target's alone."""
    scored = score_answer(WORLD, "A red triangle moves left.", enforce_constraints=False)
    assert scored["score"] == 1.0 and scored["accepted"] is True
    assert scored["contradicts"] == ["colour"]
    assert trl_reward(None, ["A red triangle moves left."], labels=[WORLD], enforce_constraints=False) == [1.0]
    assert verl_compute_score("shapes", "A red triangle moves left.", WORLD,
                              {"enforce_constraints": False})["score"] == 1.0
    assert easyr1_compute_score([{"response": "A red triangle moves left.", "ground_truth": WORLD}],
                                enforce_constraints=False)[0]["overall"] == 1.0


def test_constraints_alone_reward_nothing() -> None:
    assert score_answer([COLOUR, SHAPE], "A blue triangle.")["score"] is None


def test_the_sources_vocabulary_makes_a_list_of_classes_no_commitment() -> None:
    """Generation's verifier knows every class of the source (`Adapter.label_vocabulary`); the
    reward must too, or "up up down" names "up" and earns what generation rejects (the GRPO demo's
    policy learned exactly that)."""
    vocabulary = {"direction": ["left", "right", "up", "down"]}
    up = [{"type": "category", "name": "direction", "value": "up"}]
    listed = "The video up up down up"
    assert score_answer(up, listed)["score"] == 1.0                        # no class list: "down" unknown
    scored = score_answer(up, listed, vocabulary=vocabulary)
    assert scored["score"] == 0.0 and scored["labels"][0]["reason"] is not None
    assert score_answer(up, "The shape moves up.", vocabulary=vocabulary)["score"] == 1.0
    assert trl_reward(None, [listed, "It goes up."], labels=[up, up], vocabulary=vocabulary) == [0.0, 1.0]
