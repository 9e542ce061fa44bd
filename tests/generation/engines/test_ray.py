"""The Ray engine gives the local engine's rows, skips and resume on a local 2-CPU Ray."""
from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

ray = pytest.importorskip("ray")

from video_factory import kinetics_clip_set  # noqa: E402
from vstar_data.backends.template import TemplateBackend  # noqa: E402
from vstar_data.cli import app  # noqa: E402
from vstar_data.generation.engines.local import LocalEngine  # noqa: E402
from vstar_data.generation.engines.ray import RayEngine, plan_pool  # noqa: E402
from vstar_data.errors import ConfigError  # noqa: E402
from vstar_data.generation.pipeline import GenerationConfig  # noqa: E402


def _rows(out: Path, kind: str = "attempts") -> list[dict]:
    rows = []
    for p in sorted((out / kind).glob("chunk-*.jsonl")):
        rows += [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
    return rows


def _strip(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "timing"} for r in rows]


def _cfg(csv: Path, vdir: Path, **kw) -> GenerationConfig:
    base = dict(adapter="kinetics700", annotations=str(csv), videos=str(vdir), num_frames=4, frame_size=64,
                progress=False, chunk_size=2, batch_size=2)
    base.update(kw)
    return GenerationConfig(**base)


class PixelBackend(TemplateBackend):
    """Looks at the frames: each answer carries a digest of the pixels it was given, so equal
    rows from both engines mean the frames crossed Ray's process boundaries intact."""

    uses_frames = True

    def generate(self, requests):
        answers = super().generate(requests)
        return [a if isinstance(a, BaseException) else
                f"{a} [{hashlib.sha1(r.frames.array.tobytes()).hexdigest()[:12]} {r.frames.array.shape}]"
                for r, a in zip(requests, answers)]


@pytest.fixture(scope="module")
def local_ray():
    """A fresh local Ray with 2 CPUs for this module (never someone else's `ray start` cluster)."""
    from ray import cloudpickle

    env = pytest.MonkeyPatch()
    env.setenv("RAY_AUTH_MODE", "disabled")
    cloudpickle.register_pickle_by_value(sys.modules[__name__])   # workers cannot import this test file
    ray.init(address="local", num_cpus=2, include_dashboard=False, configure_logging=False)
    yield
    ray.shutdown()
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    env.undo()


def test_cli_ray_engine_writes_the_local_engines_rows_and_a_rerun_adds_nothing(local_ray, kinetics_dir,
                                                                                videos_dir, tmp_path):
    base = ["generate", "kinetics700", "--annotations", str(kinetics_dir / "local_clips.csv"), "--videos",
            str(videos_dir), "--batch-size", "2", "--num-frames", "4", "--frame-size", "64"]
    runner = CliRunner()
    res = runner.invoke(app, base + ["--out", str(tmp_path / "local")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, base + ["--out", str(tmp_path / "ray"), "--engine", "ray"])
    assert res.exit_code == 0, res.output
    local, rayed = _rows(tmp_path / "local"), _rows(tmp_path / "ray")
    assert len(rayed) == 7 and {r["model"] for r in rayed} == {"template"}
    assert _strip(rayed) == _strip(local)                 # same rows, same order, chunk by chunk
    assert sorted(p.name for p in (tmp_path / "ray" / "attempts").iterdir()) == \
        [f"chunk-{k:06d}.jsonl" for k in range(4)]
    run = lambda d: json.loads((tmp_path / d / "run.json").read_text())  # noqa: E731
    assert run("ray")["signature"] == run("local")["signature"] and run("ray")["config"] == run("local")["config"]

    before = {p.name: p.read_bytes() for p in (tmp_path / "ray" / "attempts").iterdir()}
    res = runner.invoke(app, base + ["--out", str(tmp_path / "ray"), "--engine", "ray"])
    assert res.exit_code == 0, res.output
    assert re.search(r"chunks resumed from disk\W+4\b", res.output), res.output
    assert {p.name: p.read_bytes() for p in (tmp_path / "ray" / "attempts").iterdir()} == before


def test_decoded_frames_reach_the_actors_intact_and_bad_videos_are_skipped(local_ray, videos_dir, tmp_path):
    csv, vdir = kinetics_clip_set(tmp_path, videos_dir, [
        ("arm wrestling", "arm_wrestling", 0, 10), ("yoga", "empty", 0, 10), ("putting on eyeliner", "eye_makeup", 0, 7),
        ("yoga", "garbage", 0, 10), ("cleaning pool", "pool_cleaning_1s", 0, 1)])
    backend = PixelBackend(templates=None)
    backend.load()
    LocalEngine().run(_cfg(csv, vdir), tmp_path / "local", backend=backend)
    summary = RayEngine().run(_cfg(csv, vdir), tmp_path / "ray", backend=backend)
    rows = _rows(tmp_path / "ray")
    assert _strip(rows) == _strip(_rows(tmp_path / "local"))
    assert len(rows) == 3 and all("(4, 64, " in r["answer"] and len(r["frame_indices"]) == 4 for r in rows)
    assert len({r["answer"].rsplit("[", 1)[1] for r in rows}) == 3     # three clips, three different pixel sets
    skips = _rows(tmp_path / "ray", "skipped")
    assert skips == _rows(tmp_path / "local", "skipped")
    assert {s["id"] for s in skips} == {"empty_000000_000010", "garbage_000000_000010"}
    assert summary.generated + summary.rationalized + summary.rejected == 3 and sum(summary.skipped.values()) == 2


def test_resume_after_a_partial_run_redoes_only_the_missing_chunks(local_ray, kinetics_dir, videos_dir, tmp_path):
    csv = kinetics_dir / "local_clips.csv"
    out = tmp_path / "run"
    LocalEngine().run(_cfg(csv, videos_dir), out)
    full = _rows(out)
    kept = {k: (out / "attempts" / f"chunk-{k:06d}.jsonl").stat().st_mtime_ns for k in (0, 2)}
    for k in (1, 3):   # as if the run had been killed before these chunks were written
        (out / "attempts" / f"chunk-{k:06d}.jsonl").unlink()
    engine = RayEngine()
    summary = engine.run(_cfg(csv, videos_dir), out)
    assert summary.chunks_done_before == 2 and engine.stats["chunks_todo"] == 2
    assert summary.generated == 7 and summary.samples == 7
    assert _strip(_rows(out)) == _strip(full)
    assert {k: (out / "attempts" / f"chunk-{k:06d}.jsonl").stat().st_mtime_ns for k in (0, 2)} == kept
    with pytest.raises(ConfigError, match="different settings"):
        RayEngine().run(_cfg(csv, videos_dir, num_frames=2), out)


def test_broken_model_setup_fails_as_a_config_error_not_a_ray_trace(local_ray, kinetics_dir, videos_dir, tmp_path):
    cfg = _cfg(kinetics_dir / "local_clips.csv", videos_dir, backend="transformers",
               model=str(tmp_path / "no-such-model"), limit=2)
    with pytest.raises(ConfigError, match="no-such-model") as info:
        RayEngine().run(cfg, tmp_path / "run")
    assert not isinstance(info.value, ray.exceptions.RayError)
    assert not list((tmp_path / "run").glob("attempts/*.jsonl"))


@pytest.mark.parametrize("gpus,backend,device,actors,expect", [
    (4, "transformers", None, None, (4, 1.0)),      # one actor per GPU
    (4, "transformers", None, 2, (2, 1.0)),
    (4, "template", None, None, (1, 0.0)),          # no model: never holds a GPU
    (4, "transformers", "cpu", 3, (3, 0.0)),
    (0, "transformers", None, None, (1, 0.0)),      # CPU-only cluster: configured CPU actors
    (0, "transformers", None, 2, (2, 0.0)),
])
def test_pool_plan_is_one_actor_per_gpu_else_cpu_actors(gpus, backend, device, actors, expect, tmp_path):
    cfg = GenerationConfig(adapter="kinetics700", annotations="x.csv", backend=backend,
                           model=None if backend == "template" else "m", device=device)
    plan = plan_pool(gpus, cfg, actors)
    assert (plan.size, plan.num_gpus) == expect


@pytest.mark.slow
def test_tiny_transformers_model_gives_the_same_rows_as_the_local_engine(local_ray, kinetics_dir, videos_dir,
                                                                         tmp_path):
    from vstar_data.backends.tiny import build_tiny_model

    model = build_tiny_model("qwen2_vl", tmp_path / "tiny")
    cfg = lambda: _cfg(kinetics_dir / "local_clips.csv", videos_dir, backend="transformers",  # noqa: E731
                       model=str(model), limit=4, max_new_tokens=8)
    LocalEngine().run(cfg(), tmp_path / "local")
    summary = RayEngine().run(cfg(), tmp_path / "ray")
    rows = _rows(tmp_path / "ray")
    assert _strip(rows) == _strip(_rows(tmp_path / "local"))
    assert {r["origin"] for r in rows} == {"generated", "rationalized"}   # random weights: hints needed
    assert all(r["model_revision"] and len(r["frame_indices"]) == 4 for r in rows)
    assert summary.samples == 4 and summary.attempts == len(rows)
    again = RayEngine().run(cfg(), tmp_path / "ray")
    assert again.chunks_done_before == again.chunks_total == 2 and again.attempts == len(rows)
