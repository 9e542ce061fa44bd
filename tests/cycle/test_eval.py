"""Held-out evaluation: accuracy per label type, MAE and Spearman for numbers, IoU for intervals."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from vstar_data.cli import app
from vstar_data.cycle.evaluation import evaluate_rows, spearman


def test_spearman_matches_the_rank_definition():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486833, rel=1e-6)  # ties: mean ranks
    assert spearman([1], [2]) is None and spearman([1, 1], [1, 2]) is None


def _row(accepted: bool, scores: list[dict], labels: list[dict], origin: str = "generated") -> dict:
    return {"accepted": accepted, "origin": origin, "verifier_scores": scores, "labels": labels}


def test_metrics_per_label_type_ignore_rationalized_rows():
    num = {"type": "number", "name": "final_score", "value": 80.0}
    iv = {"type": "interval", "name": "segment", "start": 0.0, "end": 10.0}
    rows = [
        _row(True, [{"name": "final_score", "type": "number", "passed": True, "score": 1.0, "value": 82.0},
                    {"name": "segment", "type": "interval", "passed": True, "score": 0.8}], [num, iv]),
        _row(False, [{"name": "final_score", "type": "number", "passed": False, "score": 0.0, "value": 60.0},
                     {"name": "segment", "type": "interval", "passed": False, "score": 0.2}],
             [dict(num, value=70.0), iv]),
        _row(True, [{"name": "final_score", "type": "number", "passed": True, "score": 1.0, "value": 1.0}],
             [num], origin="rationalized"),
    ]
    out = evaluate_rows(rows, skipped=1)
    assert out["n"] == 2 and out["skipped"] == 1 and out["accuracy"] == 0.5
    assert out["number"]["accuracy"] == 0.5 and out["number"]["mae"] == pytest.approx(6.0)
    assert out["number"]["by_label"]["final_score"]["spearman"] == pytest.approx(1.0)
    assert out["interval"]["mean_iou"] == pytest.approx(0.5)


def test_eval_cli_prints_accuracy_mae_and_spearman(tmp_path):
    from vstar_data.adapters.shapes import render_world

    world = render_world(tmp_path / "w", n=8, seed=4, test_share=1.0)
    out = tmp_path / "eval"
    res = CliRunner().invoke(app, ["eval", "shapes", "-a", str(world), "-v", str(world / "videos"),
                                   "--backend", "template", "--split", "test", "--out", str(out),
                                   "--option", "labels=direction,speed"])
    assert res.exit_code == 0, res.output
    result = json.loads((out / "eval.json").read_text())
    assert result["n"] == 8 and result["accuracy"] == 1.0          # the template baseline states the labels
    assert result["category"]["accuracy"] == 1.0 and result["number"]["mae"] == 0.0
    assert "MAE / Spearman" in res.output and "number accuracy" in res.output
