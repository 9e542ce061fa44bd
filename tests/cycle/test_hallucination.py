"""Per-cycle hallucination counts (cycle/hallucination.py): before filtering, per origin and
constraint, and in the published rows (the publisher's winner rule)."""
from __future__ import annotations

from typing import Any

from vstar_data.cycle.hallucination import count_cycle
from vstar_data.verify.verifier import Verifier

LABELS = [{"type": "category", "name": "direction", "value": "left"},
          {"type": "category", "name": "colour", "value": "red", "vocabulary": ["red", "green", "blue"],
           "role": "constraint"},
          {"type": "number", "name": "count", "value": 1, "abs_tol": 0.0, "role": "constraint"}]


def _row(sid: str, answer: str, origin: str, enforce: bool) -> dict[str, Any]:
    verdict = Verifier("default", enforce_constraints=enforce).verify(LABELS, answer, origin).to_dict()
    return {"id": sid, "origin": origin, "attempt": 0 if origin == "generated" else 1, "cycle": 0,
            "answer": answer, "accepted": verdict["accepted"], "verifier_scores": verdict["scores"], "labels": LABELS}


def _rows(enforce: bool) -> list[dict[str, Any]]:
    return [_row("a", "A blue square moves to the left.", "generated", enforce),
            _row("a", "The red square travels to the left, toward the left edge of the frame.", "rationalized",
                 enforce),
            _row("b", "Two green squares move to the left.", "generated", enforce),
            _row("c", "A red square moves to the left.", "generated", enforce),
            _row("d", "A blue square sits still.", "generated", enforce)]


def test_counts_before_filtering_and_in_published_rows() -> None:
    enforced = count_cycle({"00-shapes": _rows(True)})
    assert enforced["constrained"]
    assert enforced["answers"] == {"generated": 4, "rationalized": 1, "published": 2}     # a (rationalized), c
    assert enforced["contradicting"] == {"generated": 3, "rationalized": 0, "published": 0}
    per = enforced["by_source"]["00-shapes"]["by_constraint"]
    assert per == {"colour": {"generated": 3, "rationalized": 0, "published": 0},
                   "count": {"generated": 1, "rationalized": 0, "published": 0}}
    example = enforced["by_source"]["00-shapes"]["examples"][0]
    assert example["answer"][slice(*example["span"])] == "blue" and not example["published"]

    measured = count_cycle({"00-shapes": _rows(False)})       # the ablation: the same answers, published
    assert measured["answers"] == {"generated": 4, "rationalized": 1, "published": 3}      # a, b, c
    assert measured["contradicting"] == {"generated": 3, "rationalized": 0, "published": 2}


def test_a_run_without_constraints_says_so() -> None:
    labels = LABELS[:1]
    verdict = Verifier("default").verify(labels, "It moves to the left.").to_dict()
    row = {"id": "a", "origin": "generated", "attempt": 0, "cycle": 0, "answer": "x", "accepted": True,
           "verifier_scores": verdict["scores"]}
    counts = count_cycle({"00-shapes": [row]})
    assert not counts["constrained"] and counts["contradicting"]["published"] == 0


def test_run_config_key_reaches_the_verifier_and_is_validated(tmp_path) -> None:
    import pytest
    import yaml

    from vstar_data.config import load_run_config
    from vstar_data.cycle.demo import demo_config
    from vstar_data.errors import ConfigError
    from vstar_data.generation.pipeline import GenerationConfig, make_verifier

    def generation(constraints: object) -> GenerationConfig:
        cfg = demo_config(tmp_path, tmp_path, tmp_path / "run", cycles=1, seed=0, rationalize=True, train_steps=1)
        cfg["verifier"]["constraints"] = constraints
        path = tmp_path / "run.yaml"
        path.write_text(yaml.safe_dump(cfg))
        rc = load_run_config(path)
        return GenerationConfig.from_run_config(rc, rc.sources[0], model="m", cycle=0, rationalize=True)

    enforce, measure = generation("enforce"), generation("measure")
    assert make_verifier(enforce).enforce_constraints and not make_verifier(measure).enforce_constraints
    assert enforce.signature() != measure.signature()          # measured rows are other rows
    with pytest.raises(ConfigError, match="constraints"):
        generation("sometimes")
