"""Content-keyed resume: a re-run reuses only chunks whose samples still have the same content."""
from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from vstar_data.generation.engines.local import LocalEngine
from vstar_data.generation.pipeline import GenerationConfig

CLIPS = ["arm_wrestling.mp4", "eye_makeup.avi", "pool_cleaning_1s.mp4", "flipping_pancake.mkv",
         "hitting_baseball.mp4", "yoga.mp4", "playing_guitar.mp4"]


def _attempts(out: Path) -> list[dict]:
    rows = []
    for p in sorted((out / "attempts").glob("*.jsonl")):
        rows += [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
    return rows


def _cfg(csv: Path, vdir: Path, **kw) -> GenerationConfig:
    base = dict(adapter="kinetics700", annotations=str(csv), videos=str(vdir), backend="template",
                num_frames=2, frame_size=32, progress=False, chunk_size=2, batch_size=2)
    base.update(kw)
    return GenerationConfig(**base)


def _generated_once(out: Path, n: int) -> dict[str, dict]:
    """Every sample has exactly one generated attempt (and at most one rationalized one)."""
    rows = _attempts(out)
    gen = Counter(r["id"] for r in rows if r["origin"] == "generated")
    rat = Counter(r["id"] for r in rows if r["origin"] == "rationalized")
    assert len(gen) == n and set(gen.values()) == {1}, gen
    assert not rat or max(rat.values()) == 1
    return {r["id"]: r for r in rows if r["origin"] == "generated"}


def test_half_then_all_interleaved_ends_with_every_sample_once(tmp_path, videos_dir, kinetics_dir):
    vdir = tmp_path / "videos"
    vdir.mkdir()
    for name in CLIPS[::2]:                 # every other clip present
        shutil.copy(videos_dir / name, vdir / name)
    csv = kinetics_dir / "local_clips.csv"
    out = tmp_path / "run"
    first = LocalEngine().run(_cfg(csv, vdir), out)
    assert first.samples == 4 and first.new == 4 and first.reused == 0
    for name in CLIPS[1::2]:                # then all of them
        shutil.copy(videos_dir / name, vdir / name)
    second = LocalEngine().run(_cfg(csv, vdir), out)
    assert second.samples == 7
    assert (second.reused, second.new, second.redone, second.retired) == (4, 3, 0, 0)
    _generated_once(out, 7)
    third = LocalEngine().run(_cfg(csv, vdir), out)   # nothing changed: all reused, nothing written
    assert (third.reused, third.new, third.redone, third.retired) == (7, 0, 0, 0)


def test_edited_annotation_row_is_redone_with_its_new_label_and_stale_rows_retired(tmp_path, videos_dir,
                                                                                      kinetics_dir):
    csv = tmp_path / "clips.csv"
    text = (kinetics_dir / "local_clips.csv").read_text()
    csv.write_text(text)
    out = tmp_path / "run"
    LocalEngine().run(_cfg(csv, videos_dir), out)
    before = _generated_once(out, 7)
    assert before["yoga_000000_000010"]["labels"][0]["value"] == "yoga"
    csv.write_text(text.replace("yoga,yoga,0,10", "tai chi,yoga,0,10"))   # one label changed
    summary = LocalEngine().run(_cfg(csv, videos_dir), out)
    after = _generated_once(out, 7)
    assert after["yoga_000000_000010"]["labels"][0]["value"] == "tai chi"
    assert "tai chi" in after["yoga_000000_000010"]["answer"]
    # the chunk holding yoga (2 samples) was retired and generated again; the other chunks reused
    assert summary.retired_chunks == 1 and summary.retired == 2
    assert summary.redone == 2 and summary.reused == 5 and summary.new == 0
    retired = [json.loads(line) for p in (out / "retired").rglob("attempts/*.jsonl")
               for line in p.read_text().splitlines()]
    assert {r["id"] for r in retired} == {"yoga_000000_000010", "hitting_baseball_000000_000010"}
    from vstar_data.generation.attempts import read_attempts

    rows, _ = read_attempts(out)           # the readers never see retired rows
    assert Counter(r["id"] for r in rows if r["origin"] == "generated") == Counter(list(after))


def test_changed_model_files_or_video_redo_their_samples(tmp_path, videos_dir, kinetics_dir):
    vdir = tmp_path / "videos"
    shutil.copytree(videos_dir, vdir)
    csv = kinetics_dir / "local_clips.csv"
    out = tmp_path / "run"
    LocalEngine().run(_cfg(csv, vdir), out)
    st = (vdir / "yoga.mp4").stat()
    os.utime(vdir / "yoga.mp4", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))   # the clip was replaced
    summary = LocalEngine().run(_cfg(csv, vdir), out)
    assert summary.redone == 2 and summary.reused == 5
    _generated_once(out, 7)


def test_model_fingerprint_follows_config_and_weight_files(tmp_path):
    from vstar_data.generation.resume import model_fingerprint

    model = tmp_path / "m"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "model.safetensors").write_bytes(b"x" * 10)
    a = model_fingerprint(str(model), "transformers")
    (model / "model.safetensors").write_bytes(b"y" * 11)
    assert model_fingerprint(str(model), "transformers") != a
    assert model_fingerprint("org/name", "transformers") == {"backend": "transformers", "model": "org/name"}
