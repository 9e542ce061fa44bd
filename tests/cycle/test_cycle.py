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

# how a resumed run got there (reused vs new samples) differs from a clean run; the result does not
VOLATILE = {"seconds", "samples_per_s", "checkpoint", "model", "publish", "reused", "redone", "new", "retired"}


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
    rc = load_run_config(_config(tmp_path, world, tiny, store={"final_exclude_rationalized": True}))
    runner = CycleRunner(rc, echo=lambda m: None)
    stats = runner.run()
    assert [s["cycle"] for s in stats] == [0, 1]
    for s in stats:
        assert {"cycle", "samples", "generated", "rationalized", "rejected", "skipped", "train_loss", "eval",
                "seconds"} <= set(s)
        assert s["samples"] == 12 and s["generated"] == 12          # the template baseline answers right
        assert 0.0 <= s["eval"]["accuracy"] <= 1.0 and "category" in s["eval"]
        assert Path(s["checkpoint"], "train_done.json").exists()
    run = rc.run_dir
    on_disk = json.loads((run / "stats.json").read_text())
    assert on_disk["cycles"] == json.loads(json.dumps(stats))
    final = on_disk["final"]                                   # store.final_exclude_rationalized
    assert final == json.loads(json.dumps(runner.final)) and final["publish"]["tag"] == "final"
    assert final["rows"] == 12 and final["from_cycle"] == 1 and final["eval"]["n"] == 4
    assert (run / "final" / "checkpoint" / "train_done.json").exists()
    assert {s["engine"] for s in stats} == {"local"}
    assert "top1" in stats[-1]["eval"]["category"] and "by_source" in stats[-1]["eval"]
    assert (run / "yield_per_cycle.png").stat().st_size > 1000
    tags = {r.tag: r for r in revisions(rc.store["path"])}
    assert {"cycle-0", "cycle-1", "final"} <= set(tags)
    assert tags["final"].counts["default"]["train"] == 12
    assert tags["cycle-1"].counts["default"]["train"] == 12
    assert (Path(rc.store["path"]) / "README.md").read_text().count("cycle") > 0
    # the held-out samples ship with every release as split `eval`: questions + labels, no answers
    from datasets import load_dataset

    held_out = load_dataset(rc.store["path"], "eval", split="eval")
    assert held_out.num_rows == 4 and {"question", "labels", "video"} <= set(held_out.column_names)
    assert not {"conversations", "answer"} & set(held_out.column_names)
    assert load_dataset(rc.store["path"], split="train").num_rows == 12     # the default config is unchanged


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

    a = json.loads((tmp_path / "clean" / "run" / "stats.json").read_text())["cycles"]
    b = json.loads((run / "stats.json").read_text())["cycles"]
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


def test_plateau_on_accuracy_without_eval_sources_is_a_config_error(tmp_path, world, tiny):
    path = _config(tmp_path, world, tiny, eval=[])
    cfg = yaml.safe_load(path.read_text())
    cfg["cycles"]["plateau_metric"] = "accuracy"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError) as err:
        load_run_config(path)
    assert "plateau_metric" in str(err.value) and "eval" in str(err.value)


def test_unknown_engine_is_a_config_error(tmp_path, world, tiny):
    with pytest.raises(ConfigError, match="unknown engine 'spark'"):
        load_run_config(_config(tmp_path, world, tiny, engine={"name": "spark"}))


def test_a_cycle_trains_on_exactly_the_rows_its_tag_publishes(tmp_path, world, tiny):
    """One winner rule: with several accepted attempts of a sample on disk (a rerun's duplicates,
    a rationalized row beside a direct one, an older cycle), the training rows and the published
    rows are the same ids with the same answers."""
    from vstar_data.dataset.store import checkout, publish

    rc = load_run_config(_config(tmp_path, world, tiny))
    runner = CycleRunner(rc, echo=lambda m: None)
    gen = tmp_path / "gen"
    src_dir = gen / "00-shapes" / "attempts"
    src_dir.mkdir(parents=True)
    base = {"source": "shapes", "split": "train", "task": "shapes", "video": "v.mp4", "question": "What?",
            "prompt": "What?", "template_id": "shapes/q@v1", "labels": [{"type": "category", "name": "c",
                                                                         "value": "red"}],
            "verifier_profile": "default", "verifier_scores": [], "model": "m", "model_revision": None,
            "frame_indices": [0], "timing": {}, "reject_reason": None}

    def row(sid: str, answer: str, origin: str, cycle: int, attempt: int, accepted: bool = True) -> dict:
        return {**base, "id": sid, "answer": answer, "origin": origin, "cycle": cycle, "attempt": attempt,
                "accepted": accepted}

    rows_a = [row("a", "red (rationalized)", "rationalized", 1, 1), row("a", "red, first", "generated", 1, 0),
              row("b", "red, old cycle", "generated", 0, 0), row("b", "red, new cycle", "generated", 1, 0),
              row("c", "not red", "generated", 1, 0, accepted=False), row("c", "red hint", "rationalized", 1, 1)]
    rows_b = [row("a", "red, duplicate", "generated", 1, 0), row("b", "red, attempt 2", "generated", 1, 2)]
    (src_dir / "chunk-000000.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows_a))
    (src_dir / "chunk-000001.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows_b))
    trained = json.loads(runner.training_rows(gen, tmp_path / "train.json").read_text())
    publish(gen, tmp_path / "store", tag="cycle-1", message="test")
    import pyarrow.parquet as pq

    folder = checkout(tmp_path / "store", "cycle-1", tmp_path / "co")
    published = [r for p in sorted(folder.rglob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    as_trained = {t["id"].split("/", 1)[1]: t["conversations"][1]["value"] for t in trained}
    assert as_trained == {r["id"]: r["conversations"][1]["value"] for r in published}
    assert as_trained == {"a": "red, first", "b": "red, new cycle", "c": "red hint"}


@pytest.mark.slow
def test_build_on_the_ray_engine_runs_a_cycle_and_records_the_engine(tmp_path, world, tiny):
    ray = pytest.importorskip("ray")
    import os

    old = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    ray.init(address="local", num_cpus=2, include_dashboard=False, configure_logging=False)
    try:
        rc = load_run_config(_config(tmp_path, world, tiny, cycles=1, engine={"name": "ray", "address": None}))
        stats = CycleRunner(rc, echo=lambda m: None).run()
    finally:
        ray.shutdown()
        if old is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = old
    assert [s["engine"] for s in stats] == ["ray"]
    assert stats[0]["samples"] == 12 and stats[0]["generated"] == 12 and stats[0]["eval"]["n"] == 4
    chunks = sorted((rc.run_dir / "cycle-0" / "generate").rglob("chunks/chunk-*.json"))
    assert chunks and all(json.loads(p.read_text())["samples"] for p in chunks)   # written by the Ray driver
    assert {r.tag for r in revisions(rc.store["path"])} >= {"cycle-0"}


def test_build_with_an_empty_video_folder_or_a_missing_split_fails_loudly(tmp_path, world, tiny):
    from vstar_data.errors import AnnotationError

    empty = tmp_path / "empty"
    empty.mkdir()
    shapes = {"adapter": "shapes", "annotations": str(world), "videos": str(empty), "split": "train"}
    rc = load_run_config(_config(tmp_path, world, tiny, sources=[shapes]))
    with pytest.raises(AnnotationError, match="none of the 12 annotated videos was found") as err:
        CycleRunner(rc, echo=lambda m: None).run()
    assert str(empty) in str(err.value)
    rc = load_run_config(_config(tmp_path, world, tiny, sources=[{**shapes, "videos": str(world / "videos"),
                                                                  "split": "validate"}]))
    with pytest.raises(AnnotationError, match=r"split 'validate' has no samples; splits present: test \(4\), "
                                              r"train \(12\)"):
        CycleRunner(rc, echo=lambda m: None).run()


def test_a_second_build_on_a_locked_run_dir_exits_2_naming_the_holder(tmp_path, world, tiny, capsys):
    """Two builds on one run dir raced (`Directory not empty`); now the second stops at once with
    the holder's pid, and runs normally once the holder is gone (flock dies with its process)."""
    from vstar_data.cli import main
    from vstar_data.cycle.layout import RunLayout

    config = _config(tmp_path, world, tiny)   # a config that passes the checks made before the lock
    lock = RunLayout(tmp_path / "run").lock
    code = ("import time; from pathlib import Path; from vstar_data.procs import exclusive_lock\n"
            f"with exclusive_lock(Path({str(lock)!r}), 'run directory'):\n"
            "    print('held', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(SystemExit) as exit_:
            main(["build", "--config", str(config)])
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and "locked" in err and f"pid {holder.pid}" in err and str(tmp_path / "run") in err
        assert not (tmp_path / "run" / "run.yaml").exists()       # it touched nothing
    finally:
        holder.kill()
        holder.wait()
    runner = CycleRunner(load_run_config(config), echo=lambda m: None)
    runner._cycles = lambda: [{"cycle": 0}]                      # the loop itself is not under test
    assert runner.run() == [{"cycle": 0}]
    assert (tmp_path / "run" / "run.yaml").is_file()


def _build_exit(path: Path, monkeypatch, capsys) -> tuple[int, str]:
    from vstar_data.cli import main

    monkeypatch.setattr(sys, "argv", ["vstar-data", "build", "--config", str(path)])
    with pytest.raises(SystemExit) as info:
        main()
    return info.value.code, capsys.readouterr().err


def test_build_checks_training_keys_and_the_checkpoint_before_generating(tmp_path, world, tiny, monkeypatch,
                                                                         capsys):
    """A typo in `training:` or a wrong `model.pretrained` would surface only when cycle 0 trains,
    after a whole generation pass: `build` refuses it first, every problem at once, exit 2."""
    path = _config(tmp_path, world, tiny, model={"pretrained": str(tmp_path / "no-such-model")},
                   training={"lerning_rate": 1e-4, "output_dir": "x", "epochs": 0, "max_steps": -1})
    code, err = _build_exit(path, monkeypatch, capsys)
    assert code == 2 and err.startswith("error: ") and str(path) in err
    assert "training/lerning_rate: unknown training setting; did you mean 'learning_rate'?" in err
    assert "training/output_dir: set by the run" in err
    assert "epochs must be > 0" in err
    assert f"model/pretrained: {tmp_path / 'no-such-model'} does not exist" in err
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()              # no attempt rows, no store, no cycle-0 tag


def test_build_refuses_a_checkpoint_without_processor_files_or_an_uncached_hub_id(tmp_path, world, tiny,
                                                                                  monkeypatch, capsys):
    import shutil

    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(tiny / "config.json", bare / "config.json")
    code, err = _build_exit(_config(tmp_path, world, tiny, model={"pretrained": str(bare)}), monkeypatch, capsys)
    assert code == 2 and "has no tokenizer files" in err and "has no processor files" in err
    (bare / "config.json").write_text("{not json")
    code, err = _build_exit(_config(tmp_path, world, tiny, model={"pretrained": str(bare)}), monkeypatch, capsys)
    assert code == 2 and f"model/pretrained: {bare} has no loadable model config" in err
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, err = _build_exit(_config(tmp_path, world, tiny, model={"pretrained": "vstar-test/no-such-model"}),
                            monkeypatch, capsys)
    assert code == 2 and "vstar-test/no-such-model is not a local folder, and not in the Hugging Face cache" in err
    assert not (tmp_path / "run").exists()
    from vstar_data.training.checks import checkpoint_problems, settings_problems

    assert checkpoint_problems(str(tiny)) == [] and settings_problems({"learning_rate": 1e-4, "lora": True}) == []
    assert settings_problems({"epochs": "lots", "lora": 1}) == ["training/epochs: expected float, got 'lots'",
                                                               "training/lora: expected bool, got 1"]


def test_build_whose_eval_clips_are_among_its_sources_stops_before_publishing(tmp_path, world, tiny):
    """By hand: eval = the training split itself, so every eval clip is a training clip (shapes
    clips are whole videos): the build stops in check(), naming a clip, with no run dir and no
    store; `store.allow_leakage: true` lets check() through."""
    from vstar_data.errors import VstarError

    shapes = {"adapter": "shapes", "annotations": str(world), "videos": str(world / "videos"), "split": "train"}
    rc = load_run_config(_config(tmp_path, world, tiny, eval=[shapes]))
    with pytest.raises(VstarError, match=r"share clips with its training sources") as err:
        CycleRunner(rc, echo=lambda m: None).run()
    assert str(world / "videos") in str(err.value) and "(whole video)" in str(err.value)
    assert "--allow-leakage" in str(err.value)
    assert not (tmp_path / "run").exists() and not Path(rc.store["path"]).exists()
    allowed = load_run_config(_config(tmp_path, world, tiny, eval=[shapes], store={"allow_leakage": True}))
    assert allowed.store["allow_leakage"] is True
    CycleRunner(allowed, echo=lambda m: None).check()          # no error: the override is honoured


def test_build_mixes_instruction_rows_into_each_training_set_and_counts_them(tmp_path, world, tiny):
    """`training.mix` with a LLaVA JSON of video, image and text rows: each training set (cycle 0's
    and the final one) is the stage's own rows plus share x that many mix rows, the trainer trains
    on every one of them, and stats.json counts them per source. Publishing (which reads the
    generation folder, never train.json) and the final model's training are replaced to keep the
    test short; cycle 0 really trains."""
    from PIL import Image

    from vstar_data.training.mix import configured_mix, draw_mix

    media = tmp_path / "media"
    (media / "coco").mkdir(parents=True)
    (media / "videos").symlink_to(world / "videos")          # a folder of links, as large datasets are laid out
    for i in range(2):
        Image.new("RGB", (40, 30), (60 * i, 90, 120)).save(media / "coco" / f"{i}.png")
    clips = sorted(p.name for p in (world / "videos").glob("*.mp4"))
    ask = [{"from": "human", "value": "<video>\nDescribe the clip."}, {"from": "gpt", "value": "A shape moves."}]
    rows = [{"id": f"v{i}", "video": f"videos/{c}", "conversations": ask} for i, c in enumerate(clips[:4])]
    rows += [{"id": f"i{i}", "image": f"coco/{i % 2}.png",
              "conversations": [{"from": "human", "value": "<image>\nWhat colour is it?"},
                                {"from": "gpt", "value": "Blue-grey."}]} for i in range(4)]
    rows += [{"id": "gone", "image": "coco/none.png", "conversations": ask}]
    (tmp_path / "instruct.json").write_text(json.dumps(rows), "utf-8")
    training = {"max_steps": 1, "global_batch_size": 4, "per_device_batch_size": 2, "dataloader_workers": 0,
                "mix": [{"path": "instruct.json", "media_root": "media", "share": 0.5}]}   # relative to run.yaml
    rc = load_run_config(_config(tmp_path, world, tiny, cycles=1, eval=[], training=training,
                                 store={"final_exclude_rationalized": True}))
    assert rc.training["mix"][0]["path"] == str(tmp_path / "instruct.json")
    runner = CycleRunner(rc, echo=lambda m: None)
    runner.publish = lambda cycle: {"tag": None, "skipped": "not under test"}
    runner._publish = lambda *a, **k: {"tag": None, "skipped": "not under test"}
    real_train_on = runner.train_on

    def train_on(data, output_dir, what):
        if what == "the final release":
            return {"checkpoint": str(output_dir), "train_loss": None, "steps": 0, "samples_per_s": None}
        return real_train_on(data, output_dir, what)
    runner.train_on = train_on
    runner.run()
    stats = json.loads((rc.run_dir / "stats.json").read_text())
    for stage, entry in ((rc.run_dir / "cycle-0", stats["cycles"][0]), (rc.run_dir / "final", stats["final"])):
        trained = json.loads((stage / "train.json").read_text())
        own = [r["id"] for r in trained if not r["id"].startswith("mix/")]
        mixed = [r["id"] for r in trained if r["id"].startswith("mix/")]
        assert len(own) == 12 and len(mixed) == 6 and not set(own) & set(mixed)
        expected = draw_mix(configured_mix(rc.training), len(own), rc.seed + 0)      # seed + cycle
        assert mixed == [r["id"] for r in expected.rows]
        assert all(i.startswith("mix/instruct/") for i in mixed)
        assert entry["mix"] == {"instruct": 6} and entry["mix_short"] == {"instruct": 0}
    kinds = {k for r in json.loads((rc.run_dir / "cycle-0" / "train.json").read_text())
             if r["id"].startswith("mix/") for k in ("video", "image") if k in r}
    assert kinds == {"video", "image"}                # this seed's draw holds both kinds
    done = json.loads((rc.run_dir / "cycle-0" / "checkpoint" / "train_done.json").read_text())
    assert done["rows"] == 18 and done["skipped"] == {}                             # trained on all 18


def test_build_refuses_a_bad_training_mix_before_generating(tmp_path, world, tiny):
    rc = load_run_config(_config(tmp_path, world, tiny, training={"mix": [{"path": "nope.json", "share": 1,
                                                                           "rows": 2}]}))
    with pytest.raises(ConfigError) as err:
        CycleRunner(rc, echo=lambda m: None).run()
    assert err.value.problems == [f"training/mix/0/path: {tmp_path / 'nope.json'} does not exist",
                                  "training/mix/0: give exactly one of `share` (a fraction of the cycle's rows) "
                                  "or `rows` (a count)"]
    assert not rc.run_dir.exists()                        # nothing generated
