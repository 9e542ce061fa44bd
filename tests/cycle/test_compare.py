"""`report RUN_A RUN_B` (two runs side by side) and the demo's `--method grpo` config, on stats
written here (no training: cheap)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from vstar_data.cli import app, main


def _run(root: Path, name: str, method: str, accs: list[float], rewards: list[float | None], final: float) -> Path:
    run = root / name
    run.mkdir(parents=True)
    cycles = [{"cycle": i, "samples": 40, "generated": 10 + 5 * i, "rationalized": 3, "rejected": 27 - 5 * i,
               "skipped": 0, "train_loss": 0.1, "seconds": 100.0 + i,
               "eval_generator": {"accuracy": accs[i - 1] if i else 0.25, "n": 24},
               "eval": {"accuracy": a, "n": 24},
               **({"reward": {"mean": r, "groups_with_reward": 3 + i, "groups": 8}} if r is not None else {})}
              for i, (a, r) in enumerate(zip(accs, rewards))]
    (run / "stats.json").write_text(json.dumps({"cycles": cycles, "final": {"eval": {"accuracy": final}}}))
    (run / "run.yaml").write_text(yaml.safe_dump({"training": {"method": method}} if method == "grpo" else {}))
    return run


def test_report_of_two_runs_puts_their_curves_side_by_side(tmp_path):
    sft = _run(tmp_path, "run", "sft", [0.5, 0.625, 0.75], [None] * 3, 0.7917)
    grpo = _run(tmp_path, "run-grpo", "grpo", [0.25, 0.2917], [0.125, 0.5], 0.4583)
    res = CliRunner().invoke(app, ["report", str(sft), str(grpo)], env={"COLUMNS": "240"})
    assert res.exit_code == 0, res.output
    page = (tmp_path / "compare-run-run-grpo.html").read_text()
    assert "method sft" in page and "method grpo" in page and page.count("data:image/png;base64,") == 1
    cells = {row.split("</td>")[0]: row for row in page.split("<tr><td>")[1:]}
    # cycle 1: SFT 62.5% after, GRPO 29.2% after with its reward; cycle 2 only in the SFT run
    assert "62.5%" in cells["1"] and "29.2%" in cells["1"] and "0.500 (4/8)" in cells["1"]
    assert "0.125 (3/8)" in cells["0"] and "75.0%" in cells["2"] and "0.500" not in cells["2"]
    assert "79.2%" in page and "45.8%" in page                        # each run's final release
    printed = " ".join(res.output.split())
    assert "62.5%" in printed and "0.500 (4/8)" in printed and "79.2%" in printed
    with pytest.raises(SystemExit) as exit_:
        main(["report", str(sft), str(tmp_path / "nothing")])
    assert exit_.value.code == 2


def test_demo_grpo_config_is_a_valid_grpo_build(tmp_path):
    from vstar_data.config import load_run_config
    from vstar_data.cycle.demo import DEMO_GRPO, demo_config, demo_run_dir
    from vstar_data.training.checks import settings_problems

    run = demo_run_dir(tmp_path, method="grpo")
    assert run.name == "run-grpo" and demo_run_dir(tmp_path).name == "run"
    assert demo_run_dir(tmp_path, constraints=False).name == "run-no-constraints"
    (tmp_path / "world").mkdir()
    sft = demo_config(tmp_path / "world", tmp_path / "m", tmp_path / "run", cycles=2, seed=0, rationalize=True,
                      train_steps=7)
    cfg = demo_config(tmp_path / "world", tmp_path / "m", run, cycles=2, seed=0, rationalize=True, train_steps=7,
                      method="grpo")
    assert cfg["training"] == {**sft["training"], "method": "grpo", "grpo": DEMO_GRPO}
    assert "method" not in sft["training"]
    assert settings_problems(cfg["training"]) == [] and cfg["training"]["global_batch_size"] % 4 == 0
    path = tmp_path / "run-grpo.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert load_run_config(path).training["method"] == "grpo"
