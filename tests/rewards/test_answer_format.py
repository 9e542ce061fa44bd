"""`<think>..</think><answer>..</answer>` completions: the answer part is what the verifier scores,
and the format part weighs in by `format_weight`, through TRL's, verl's and EasyR1's call."""
from __future__ import annotations

import json

import pytest

from vstar_data.errors import ConfigError
from vstar_data.rewards import (THINK_INSTRUCTION, easyr1_compute_score, prompt_with_format, score_answer,
                                split_answer, trl_reward, verl_compute_score)

ACT = [{"type": "category", "name": "action", "value": "playing guitar"}]
DIVE = [{"type": "number", "name": "dive_score", "value": 80.0, "abs_tol": 2.0}]
TAGGED = "<think>The man strums strings; it could be a violin.</think> <answer>He is playing guitar.</answer>"
PLAIN = "He is playing guitar."
# the reasoning names the class, the answer block does not: the answer block decides
WRONG_IN_TAGS = "<think>Maybe he is playing guitar?</think><answer>He plays the violin.</answer>"


def _three(labels, completion, weight):
    """The score each framework gives one completion with `weight`."""
    trl = trl_reward(prompts=["p"], completions=[completion], labels=[json.dumps(labels)], format_weight=weight)[0]
    verl = verl_compute_score("vstar", completion, json.dumps(labels), extra_info={"format_weight": weight})["score"]
    easy = easyr1_compute_score([{"response": completion, "ground_truth": json.dumps(labels)}],
                                format_weight=weight)[0]["overall"]
    return trl, verl, easy


@pytest.mark.parametrize("completion, weight, want", [
    (PLAIN, 0.5, 0.5),            # correct, no tags: accuracy 1 x 0.5 + format 0 x 0.5
    (TAGGED, 0.5, 1.0),           # correct in the tags
    (TAGGED, 0.0, 1.0),
    (PLAIN, 0.0, 1.0),            # weight 0 (the default): the score is the accuracy
    (WRONG_IN_TAGS, 0.5, 0.5),    # right form, wrong answer: the format part only
    (WRONG_IN_TAGS, 0.0, 0.0),    # the <think> part's "playing guitar" is not the answer
    ("<answer>He is playing guitar.</answer>", 0.5, 0.5),   # answer block without <think>: format 0
    ("<think>x</think><answer>violin</answer><answer>He is playing guitar.</answer>", 0.0, 1.0),  # last block
])
def test_every_framework_scores_the_answer_part(completion, weight, want):
    assert _three(ACT, completion, weight) == (pytest.approx(want),) * 3


def test_graded_labels_and_format_components():
    out = score_answer(DIVE, "<think>Clean entry.</think>\n<answer>The dive score is 79.</answer>", format_weight=0.2)
    assert out["accuracy"] == pytest.approx(0.75) and out["format"] == 1.0
    assert out["score"] == pytest.approx(0.8 * 0.75 + 0.2)
    # spaces inside the tags (some Qwen sizes write "< answer >") are the same tags
    assert split_answer("<think>a</think> < answer > 79 </ answer >").answer == "79"
    assert split_answer("no tags at all").format == 0.0 and not split_answer("no tags at all").tagged
    easy = easyr1_compute_score([{"response": PLAIN, "ground_truth": json.dumps(ACT)}], 0.5)[0]
    assert easy == {"overall": 0.5, "format": 0.0, "accuracy": 1.0, "accepted": 1.0}
    # no label applies: no reward, whatever the format
    assert trl_reward(completions=[TAGGED], labels=["[]"], format_weight=0.5) == [None]


def test_format_weight_and_prompt_checks():
    for bad in (-0.1, 1.5, "0.5", True):
        with pytest.raises(ConfigError, match="format_weight"):
            score_answer(ACT, PLAIN, format_weight=bad)
    assert prompt_with_format("What is he doing?", "plain") == "What is he doing?"
    assert prompt_with_format("What is he doing?", "think").endswith(THINK_INSTRUCTION)
    with pytest.raises(ConfigError, match="answer format"):
        prompt_with_format("q", "xml")
