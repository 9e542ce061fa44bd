"""Degenerate repetition (a word or short phrase said over and over: greedy decoding's loops, an
RL policy's reward hack) is no answer, whatever label it happens to name. Cases judged by hand
before the code: more than `max_repeats` (3 in the default profile) runs of the same 1-4 words
in a row is a loop; emphasis or a list of different items is not."""
from __future__ import annotations

import pytest

from vstar_data.rewards import score_answer
from vstar_data.verify.repetition import repeated_run
from vstar_data.verify.verifier import Verifier

RIGHT = [{"type": "category", "name": "direction", "value": "right"}]


@pytest.mark.parametrize("answer, degenerate", [
    ("video shows a right right right right right right right right", True),
    ("The video shows a red circle moving right right right right.", True),       # 4 in a row
    ("The man is the man is the man is the man is", True),                       # a 3-word loop, 4 times
    ("The ball bounces up, down, up, down, up, down, up, down.", True),           # punctuation aside
    ("1 1 1 1 blue triangle", True),
    ("It moves right, right, right and then stops.", False),                     # 3: emphasis, not a loop
    ("Step 1, step 2, step 3, step 4: the circle moves right.", False),           # different items
    ("The circle moves right. The square moves right. The triangle moves right.", False),
    ("A very very fast red car drives to the right.", False),
    ("", False),
])
def test_loops_are_found_and_emphasis_is_not(answer: str, degenerate: bool) -> None:
    assert (repeated_run(answer, 3) is not None) == degenerate


def test_the_run_is_located() -> None:
    run = repeated_run("A red circle moves right right right right.", 3)
    assert run is not None and run.phrase == "right" and run.times == 4
    assert "A red circle moves right right right right."[run.start:run.end] == "right right right right"


def test_the_verifier_and_the_reward_reject_a_loop_that_names_the_label() -> None:
    loop = "video shows a right right right right right right"
    verdict = Verifier("default").verify(RIGHT, loop)
    assert not verdict.accepted and verdict.reason == "degenerate"
    assert Verifier("default").verify(RIGHT, "The circle moves to the right.").accepted
    assert score_answer(RIGHT, loop)["score"] == 0.0 and score_answer(RIGHT, loop)["accepted"] is False
    assert score_answer(RIGHT, "It moves right.")["score"] == 1.0


def test_max_repeats_0_turns_the_check_off_and_the_papers_profiles_do_not_have_it(tmp_path) -> None:
    loop = "video shows a right right right right right right"
    assert Verifier("paper").verify(RIGHT, loop).accepted           # the paper's verifier had no such rule
    off = tmp_path / "off.yaml"
    off.write_text("extends: default\nmax_repeats: 0\n")
    assert Verifier(str(off)).verify(RIGHT, loop).accepted
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: default\nmax_repeats: -1\n")
    with pytest.raises(Exception, match="max_repeats"):
        Verifier(str(bad))
