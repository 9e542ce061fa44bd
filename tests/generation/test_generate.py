"""The generation step end to end: provenance, resume, skips, shards, every tiny family."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from video_factory import kinetics_clip_set
from vstar_data.cli import app
from vstar_data.generation.engines.local import LocalEngine
from vstar_data.errors import ConfigError
from vstar_data.generation.pipeline import GenerationConfig

PROVENANCE = {"id", "answer", "origin", "template_id", "model", "model_revision", "cycle", "verifier_profile",
              "verifier_scores", "frame_indices", "timing", "accepted", "question", "prompt", "labels", "video"}


def _rows(out: Path) -> list[dict]:
    rows = []
    for p in sorted((out / "attempts").glob("*.jsonl")):
        rows += [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
    return rows


def _skips(out: Path) -> list[dict]:
    rows = []
    for p in sorted((out / "skipped").glob("*.jsonl")):
        rows += [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
    return rows


@pytest.fixture
def clips(tmp_path: Path, videos_dir: Path, kinetics_dir: Path) -> tuple[Path, Path]:
    """Four real clips plus a zero-byte and a garbage 'video', with a Kinetics-style CSV."""
    return kinetics_clip_set(tmp_path, videos_dir, [
        ("arm wrestling", "arm_wrestling", 0, 10), ("yoga", "yoga", 0, 10), ("cleaning pool", "pool_cleaning_1s", 0, 1),
        ("putting on eyeliner", "eye_makeup", 0, 7), ("yoga", "empty", 0, 10), ("yoga", "garbage", 0, 10)])


def _cfg(csv: Path, vdir: Path, **kw) -> GenerationConfig:
    base = dict(adapter="kinetics700", annotations=str(csv), videos=str(vdir), num_frames=4, frame_size=64,
                progress=False, chunk_size=2, batch_size=2)
    base.update(kw)
    return GenerationConfig(**base)


def test_template_backend_rows_carry_provenance_and_rerun_adds_nothing(clips, tmp_path):
    csv, vdir = clips
    out = tmp_path / "run"
    summary = LocalEngine().run(_cfg(csv, vdir, limit=4), out)
    rows = _rows(out)
    assert {r["id"] for r in rows} == {"arm_wrestling_000000_000010", "yoga_000000_000010",
                                       "pool_cleaning_1s_000000_000001", "eye_makeup_000000_000007"}
    for row in rows:
        assert PROVENANCE <= set(row)
        assert row["origin"] == "generated" and row["accepted"] and row["model"] == "template"
    assert summary.generated == 4 and summary.rejected == 0
    before = {p.name: p.read_bytes() for p in (out / "attempts").iterdir()}
    again = LocalEngine().run(_cfg(csv, vdir, limit=4), out)
    assert again.chunks_done_before == again.chunks_total and again.generated == 4
    assert {p.name: p.read_bytes() for p in (out / "attempts").iterdir()} == before


def test_corrupt_and_empty_videos_are_skipped_with_reason_others_written(clips, tmp_path):
    csv, vdir = clips
    out = tmp_path / "run"
    # a model-like backend that looks at frames: the tiny-free way is the transformers path, but
    # decoding happens for any backend with uses_frames; use a fake backend that needs frames.
    from vstar_data.backends.template import TemplateBackend

    class FrameBackend(TemplateBackend):
        uses_frames = True

    backend = FrameBackend(templates=None)
    backend.load()
    summary = LocalEngine().run(_cfg(csv, vdir), out, backend=backend)
    skips = {s["id"]: s for s in _skips(out)}
    assert set(skips) == {"empty_000000_000010", "garbage_000000_000010"}
    assert all(s["reason"].startswith("video_") and s["file"] for s in skips.values())
    assert len({r["id"] for r in _rows(out)}) == 4
    assert sum(summary.skipped.values()) == 2
    assert all(len(r["frame_indices"]) == 4 for r in _rows(out))


def test_run_dir_with_other_settings_is_refused(clips, tmp_path):
    csv, vdir = clips
    out = tmp_path / "run"
    LocalEngine().run(_cfg(csv, vdir, limit=2), out)
    with pytest.raises(ConfigError, match="different settings"):
        LocalEngine().run(_cfg(csv, vdir, limit=3), out)
    # performance knobs may change between runs
    LocalEngine().run(_cfg(csv, vdir, limit=2, batch_size=1, decode_workers=1), out)


def test_two_shards_in_one_dir_equal_one_unsharded_run(clips, tmp_path):
    csv, vdir = clips
    LocalEngine().run(_cfg(csv, vdir), tmp_path / "one")
    for i in range(2):
        LocalEngine().run(_cfg(csv, vdir, num_shards=2, shard_index=i), tmp_path / "sharded")
    key = lambda r: (r["id"], r["origin"])  # noqa: E731
    strip = lambda r: {k: v for k, v in r.items() if k != "timing"}  # noqa: E731
    assert sorted(map(strip, _rows(tmp_path / "one")), key=key) == sorted(map(strip, _rows(tmp_path / "sharded")), key=key)


def test_cli_dry_run_prints_both_prompts(kinetics_dir):
    res = CliRunner().invoke(app, ["generate", "kinetics700", "--annotations", str(kinetics_dir / "local_clips.csv"),
                                   "--out", "unused", "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "[generation]" in res.output and "[rationalization]" in res.output
    assert "Answer: action: arm wrestling." in res.output
    assert not Path("unused").exists()


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    from vstar_data.backends.tiny import TINY_ARCHS, build_tiny_model

    root = tmp_path_factory.mktemp("tiny")
    return {arch: build_tiny_model(arch, root / arch) for arch in TINY_ARCHS}


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["qwen2_vl", "qwen2_5_vl", "qwen3_vl", "llava_next_video", "llava_onevision",
                                  "video_llava"])
def test_generation_and_rationalization_with_every_tiny_family(arch, tiny_models, clips, tmp_path):
    csv, vdir = clips
    out = tmp_path / "run"
    cfg = _cfg(csv, vdir, backend="transformers", model=str(tiny_models[arch]), limit=2, max_new_tokens=8)
    summary = LocalEngine().run(cfg, out)
    rows = _rows(out)
    gen = [r for r in rows if r["origin"] == "generated"]
    rat = [r for r in rows if r["origin"] == "rationalized"]
    assert len(gen) == 2 and summary.samples == 2
    # random weights never name the class, so every sample goes through rationalization
    assert {r["id"] for r in rat} == {r["id"] for r in gen if not r["accepted"]}
    assert all("Answer: action:" in r["prompt"] for r in rat)
    assert all(r["model"] and r["model_revision"] and isinstance(r["answer"], str) for r in rows)


@pytest.mark.slow
def test_sigkill_midway_then_rerun_gives_the_same_rows(tiny_models, clips, tmp_path):
    csv, vdir = clips
    args = [sys.executable, "-m", "vstar_data.cli", "generate", "kinetics700", "--annotations", str(csv),
            "--videos", str(vdir), "--backend", "transformers", "--model", str(tiny_models["qwen2_vl"]),
            "--batch-size", "1", "--num-frames", "4", "--frame-size", "64", "--max-new-tokens", "8"]
    clean = tmp_path / "clean"
    subprocess.run(args + ["--out", str(clean)], check=True, capture_output=True, timeout=600)
    killed = tmp_path / "killed"
    proc = subprocess.Popen(args + ["--out", str(killed)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and len(list((killed / "attempts").glob("chunk-*.jsonl"))) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(list((killed / "attempts").glob("chunk-*.jsonl")))
    assert 0 < done_before < 6, "the kill should land mid-run"
    subprocess.run(args + ["--out", str(killed)], check=True, capture_output=True, timeout=600)
    strip = lambda r: {k: v for k, v in r.items() if k != "timing"}  # noqa: E731
    assert list(map(strip, _rows(killed))) == list(map(strip, _rows(clean)))
    assert [s["id"] for s in _skips(killed)] == [s["id"] for s in _skips(clean)]
    assert not list(killed.rglob("*.tmp"))


def test_a_disk_that_fills_up_mid_run_exits_2_and_keeps_the_finished_chunks(clips, tmp_path, capsys, monkeypatch):
    """ENOSPC while renaming chunk 1 into place: one located line, exit 2, and chunk 0 (finished
    before) stays on disk, so the rerun after freeing space resumes from it."""
    import errno
    import os

    from vstar_data.cli import main

    csv, vdir = clips
    out = tmp_path / "run"
    real = os.replace

    def replace(src, dst, *a, **kw):
        if "chunk-000001" in str(dst):
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        return real(src, dst, *a, **kw)
    monkeypatch.setattr(os, "replace", replace)
    argv = ["generate", "kinetics700", "-a", str(csv), "-v", str(vdir), "--out", str(out), "--batch-size", "1",
            "--num-frames", "2", "--frame-size", "32", "--limit", "3"]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "no space left" in err and "chunk-000001" in err and "Traceback" not in err
    kept = sorted(p.name for p in (out / "attempts").glob("*.jsonl"))
    assert kept and kept[0].startswith("chunk-000000")
    monkeypatch.setattr(os, "replace", real)
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    assert {r["id"] for r in _rows(out)} >= {"arm_wrestling_000000_000010", "yoga_000000_000010"}
    assert "chunks resumed from disk" in capsys.readouterr().out


def test_labels_without_letters_and_duplicate_ids_do_not_stop_a_run(tmp_path, videos_dir):
    """Emoji-only and punctuation-only classes are rejected (`unusable_label`), a blank class and a
    repeated id are skipped at the source with their location; the other clips are generated, and a
    re-run does the same."""
    csv, vdir = kinetics_clip_set(tmp_path, videos_dir, [
        ("🙂🙂", "yoga", 0, 10), ("?!...", "arm_wrestling", 0, 10), ("   ", "eye_makeup", 0, 7),
        ("cleaning pool", "pool_cleaning_1s", 0, 1), ("yoga", "pool_cleaning_1s", 0, 1)])
    out = tmp_path / "out"
    args = ["generate", "kinetics700", "--annotations", str(csv), "--videos", str(vdir), "--out", str(out),
            "--backend", "template", "--num-frames", "2", "--frame-size", "32"]
    for _ in range(2):
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 0, res.output
        rows = _rows(out)
        assert {r["id"] for r in rows if r["accepted"]} == {"pool_cleaning_1s_000000_000001"}
        rejected = {r["id"]: r["reject_reason"] for r in rows if not r["accepted"]}
        assert rejected == {"yoga_000000_000010": "unusable_label", "arm_wrestling_000000_000010": "unusable_label"}
        skips = {s["reason"]: s for s in _skips(out)}
        assert set(skips) == {"empty_label", "duplicate_id"}
        assert skips["empty_label"]["file"] == str(csv) and skips["empty_label"]["key"] == "label"
        assert skips["duplicate_id"]["id"] == "pool_cleaning_1s_000000_000001"
        assert "item 4" in skips["duplicate_id"]["detail"] and "item 5" in skips["duplicate_id"]["detail"]
        assert "skipped (duplicate_id)" in res.output and "rejected" in res.output


def test_unknown_backend_is_named_with_a_suggestion_not_asked_for_a_model():
    with pytest.raises(ConfigError) as info:
        GenerationConfig(adapter="kinetics700", annotations="x.csv", backend="templat")
    message = str(info.value)
    assert "unknown backend 'templat'" in message and "Did you mean 'template'" in message
    assert "needs --model" not in message


def test_generation_verifier_knows_the_source_classes_and_counts_what_they_reject(clips, tmp_path):
    """Issue 23: generation's verifier gets `adapter.label_vocabulary()`. An answer that states its
    class and then another class of the source as a separate claim passes a verifier that knows no
    classes; with the source's classes it is a competing value, and the summary counts it."""
    from vstar_data.backends.template import TemplateBackend

    csv, vdir = clips

    class TwoClaims(TemplateBackend):
        """States the sample's class, then another class of this source ("yoga" / "arm wrestling")."""

        def answer(self, req):
            gold = req.labels[0]["value"]
            other = "arm wrestling" if gold == "yoga" else "yoga"
            return f"The person is doing {gold}. Later the person is doing {other}."

    backend = TwoClaims(templates=None)
    backend.load()
    out = tmp_path / "run"
    summary = LocalEngine().run(_cfg(csv, vdir, limit=4, rationalize=False), out, backend=backend).to_dict()
    rows = _rows(out)
    assert len(rows) == 4 and summary["vocabulary"]["classes"] >= 4
    assert not any(r["accepted"] for r in rows)
    assert all(r["reject_reason"] == "competing_value" and r["verifier_vocabulary_reject"] for r in rows)
    assert summary["vocabulary"]["rejected_attempts"] == 4 and summary["rejected"] == 4
    # the same answers pass a verifier that is given no classes: the vocabulary made the difference
    from vstar_data.verify.verifier import Verifier
    assert all(Verifier(r["verifier_profile"]).verify(r["labels"], r["answer"]).accepted for r in rows)
