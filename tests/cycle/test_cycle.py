"""The self-training cycle: build end to end, resume after SIGKILL, config validation, plateau."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from vstar_data.config import load_run_config
from vstar_data.cycle.runner import CycleRunner
from vstar_data.errors import ConfigError
from vstar_data.dataset.store import revisions

VOLATILE = {"seconds", "samples_per_s", "checkpoint", "model", "publish"}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    from vstar_data.adapters.shapes import render_world

    return render_world(tmp_path_factory.mktemp("world"), n=16, seed=3)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    from vstar_data.backends.tiny import build_tiny_model

    return build_tiny_model("qwen2_vl", tmp_path_factory.mktemp("m") / "qwen2_vl")


def _config(tmp: Path, world: Path, tiny: Path, cycles: int = 2, **extra) -> Path:
    shapes = {"adapter": "shapes", "annotations": str(world), "videos": str(world / "videos")}
    cfg = {"run_dir": str(tmp / "run"), "seed": 0,
           "sources": [{**shapes, "split": "train"}], "eval": [{**shapes, "split": "test"}],
           "model": {"pretrained": str(tiny)},
           "backend": {"name": "template", "batch_size": 4},
           "frames": {"num_frames": 4, "size": None},
           "training": {"max_steps": 2, "global_batch_size": 4, "per_device_batch_size": 4,
                        "dataloader_workers": 0, "learning_rate": 1e-4},
           "cycles": {"max": cycles, "plateau_metric": "yield", "min_delta": 0.0}}
    cfg.update(extra)
    path = tmp / "run.yaml"
    path.write_text(yaml.safe_dump(cfg), "utf-8")
    return path


def _comparable(stats: list[dict]) -> list[dict]:
    return [{k: v for k, v in s.items() if k not in VOLATILE} for s in stats]


@pytest.mark.slow
def test_build_two_cycles_tags_stats_plot_checkpoints(tmp_path, world, tiny):
    rc = load_run_config(_config(tmp_path, world, tiny))
    stats = CycleRunner(rc, echo=lambda m: None).run()
    assert [s["cycle"] for s in stats] == [0, 1]
    for s in stats:
        assert {"cycle", "samples", "generated", "rationalized", "rejected", "skipped", "train_loss", "eval",
                "seconds"} <= set(s)
        assert s["samples"] == 12 and s["generated"] == 12          # the template baseline answers right
        assert 0.0 <= s["eval"]["accuracy"] <= 1.0 and "category" in s["eval"]
        assert Path(s["checkpoint"], "train_done.json").exists()
    run = rc.run_dir
    assert json.loads((run / "stats.json").read_text()) == json.loads(json.dumps(stats))
    assert (run / "yield_per_cycle.png").stat().st_size > 1000
    tags = {r.tag: r for r in revisions(rc.store["path"])}
    assert {"cycle-0", "cycle-1"} <= set(tags)
    assert tags["cycle-1"].counts["default"]["train"] == 12
    assert (Path(rc.store["path"]) / "README.md").read_text().count("cycle") > 0


@pytest.mark.slow
def test_sigkill_in_cycle_1_then_rerun_matches_an_uninterrupted_run(tmp_path, world, tiny):
    (tmp_path / "clean").mkdir()
    clean_cfg = _config(tmp_path / "clean", world, tiny)
    cmd = [sys.executable, "-m", "vstar_data.cli", "build", "--config"]
    res = subprocess.run(cmd + [str(clean_cfg)], check=True, capture_output=True, text=True, timeout=900)
    report = tmp_path / "clean" / "run" / "report.html"
    assert report.stat().st_size > 0 and "report.html" in res.stdout  # build writes and names it

    (tmp_path / "killed").mkdir()
    killed_cfg = _config(tmp_path / "killed", world, tiny)
    run = tmp_path / "killed" / "run"
    proc = subprocess.Popen(cmd + [str(killed_cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while time.time() < deadline and not (run / "cycle-1" / "published.json").exists():
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be killed in cycle 1"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (run / "cycle-1" / "stats.json").exists()
    subprocess.run(cmd + [str(killed_cfg)], check=True, capture_output=True, timeout=900)

    a = json.loads((tmp_path / "clean" / "run" / "stats.json").read_text())
    b = json.loads((run / "stats.json").read_text())
    assert _comparable(a) == _comparable(b)
    for cycle in (0, 1):
        ids = lambda root: sorted(r["id"] for r in json.loads((root / f"cycle-{cycle}" / "train.json").read_text()))  # noqa: E731
        assert ids(tmp_path / "clean" / "run") == ids(run)
    ra = {r.tag: r.counts for r in revisions(tmp_path / "clean" / "run" / "vstar-1m")}
    rb = {r.tag: r.counts for r in revisions(run / "vstar-1m")}
    assert ra == rb


def test_run_config_reports_every_problem_at_once(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"sources": [{"adapter": "shapes"}], "model": {}, "cycles": {"max": 0},
                                    "bogus": 1}))
    with pytest.raises(ConfigError) as err:
        load_run_config(path)
    text = str(err.value)
    assert str(path) in text
    for needle in ("annotations", "pretrained", "bogus", "max"):
        assert needle in text


def test_relative_paths_resolve_against_the_config_file(tmp_path, world):
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "run.yaml"
    path.write_text(yaml.safe_dump({"sources": [{"adapter": "shapes", "annotations": "../w"}],
                                    "model": {"pretrained": "Qwen/Qwen2-VL-2B-Instruct"}}))
    rc = load_run_config(path)
    assert rc.sources[0].annotations == str(tmp_path / "sub" / "../w")
    assert rc.pretrained == "Qwen/Qwen2-VL-2B-Instruct"        # a Hub id stays a Hub id
    assert rc.run_dir == tmp_path / "sub" / "run-run"
    assert rc.store["path"] == str(tmp_path / "sub" / "run-run" / "vstar-1m")


def test_plateau_stops_when_the_yield_stops_growing(tmp_path, world, tiny):
    rc = load_run_config(_config(tmp_path, world, tiny, cycles=3))
    rc.cycles["min_delta"] = 0.01
    runner = CycleRunner(rc, echo=lambda m: None)
    runner.stats = [{"cycle": 0, "generation_yield": 0.5}]
    assert not runner._plateau()                              # one cycle: nothing to compare
    runner.stats.append({"cycle": 1, "generation_yield": 0.505})
    assert runner._plateau()                                  # +0.5 points < 1 point
    runner.stats[-1]["generation_yield"] = 0.55
    assert not runner._plateau()                              # +5 points
