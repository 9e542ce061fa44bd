"""The demo world shows Video-STaR's point on a CPU: cycling raises yield and held-out accuracy."""
from __future__ import annotations

import json

import pytest

from vstar_data.cycle.demo import run_demo


@pytest.mark.slow
def test_self_training_raises_held_out_accuracy_by_40_points(tmp_path):
    stats = run_demo(tmp_path / "demo", cycles=2, seed=0, echo=lambda m: None)
    first, last = stats[0], stats[-1]
    # cycle 0: the warm-start model almost never states the direction unaided ...
    assert first["eval_generator"]["accuracy"] <= 0.1
    assert first["generated"] <= 0.1 * first["samples"]
    # ... label rationalization supplies most of the rows ...
    assert first["rationalized"] >= 0.5 * first["samples"]
    # ... and the models trained on them answer unaided: yield and held-out accuracy rise.
    assert last["generated"] >= 0.5 * last["samples"]
    assert last["eval"]["accuracy"] - first["eval_generator"]["accuracy"] >= 0.40
    on_disk = json.loads((tmp_path / "demo" / "run" / "stats.json").read_text())
    assert [s["cycle"] for s in on_disk] == [0, 1]
    assert (tmp_path / "demo" / "run" / "yield_per_cycle.png").exists()
    assert (tmp_path / "demo" / "run" / "vstar-1m" / "README.md").exists()
