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
    assert [s["cycle"] for s in on_disk["cycles"]] == [0, 1]
    # the paper's final step (the demo config turns it on): direct answers only -> final model
    run = tmp_path / "demo" / "run"
    final = on_disk["final"]
    assert final["publish"]["tag"] == "final" and final["rows"] == last["generated"]
    assert (run / "final" / "checkpoint" / "train_done.json").exists()
    assert final["checkpoint"] == str(run / "final" / "checkpoint")
    assert final["eval"]["n"] > 0 and final["eval"]["accuracy"] >= first["eval_generator"]["accuracy"]
    import pyarrow.parquet as pq

    from vstar_data.dataset.store import checkout

    folder = checkout(run / "vstar-1m", "final", tmp_path / "final-co")
    published = [r for p in sorted(folder.rglob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    assert len(published) == final["rows"] and {r["origin"] for r in published} == {"generated"}
    trained = json.loads((run / "final" / "train.json").read_text())
    assert sorted(t["id"].split("/", 1)[1] for t in trained) == sorted(r["id"] for r in published)
    assert (tmp_path / "demo" / "run" / "yield_per_cycle.png").exists()
    assert (tmp_path / "demo" / "run" / "vstar-1m" / "README.md").exists()
