"""Loud inputs and no rows for unreadable clips, through `vstar-data generate` as a user runs it."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vstar_data.cli import app

BROKEN = ("empty_000000_000010", "truncated_000000_000010")


def _rows(out: Path, kind: str = "attempts") -> list[dict]:
    return [json.loads(line) for p in sorted((out / kind).glob("*.jsonl"))
            for line in p.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    from vstar_data.backends.tiny import build_tiny_model

    return build_tiny_model("qwen2_vl", tmp_path_factory.mktemp("tiny") / "qwen2_vl")


@pytest.fixture
def broken_clips(tmp_path: Path, videos_dir: Path, kinetics_dir: Path) -> tuple[Path, Path]:
    """The 7 fixture clips plus a zero-byte and a truncated copy (copied into tmp_path)."""
    vdir = tmp_path / "videos"
    shutil.copytree(videos_dir, vdir)
    (vdir / f"{BROKEN[0]}.mp4").write_bytes(b"")
    data = (videos_dir / "yoga.mp4").read_bytes()
    (vdir / f"{BROKEN[1]}.mp4").write_bytes(data[: len(data) // 3])
    csv = tmp_path / "clips.csv"
    csv.write_text((kinetics_dir / "local_clips.csv").read_text()
                   + "yoga,empty,0,10,validate\nyoga,truncated,0,10,validate\n")
    return csv, vdir


@pytest.mark.parametrize("backend", [None, "template"])
def test_unreadable_clips_are_skipped_with_reasons_by_every_backend(backend, tiny, broken_clips, tmp_path):
    csv, vdir = broken_clips
    out = tmp_path / "out"
    args = ["generate", "kinetics700", "--annotations", str(csv), "--videos", str(vdir), "--model", str(tiny),
            "--out", str(out), "--num-frames", "2", "--frame-size", "32", "--max-new-tokens", "4"]
    if backend:
        args += ["--backend", backend]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    rows = _rows(out)
    generated = {r["id"] for r in rows if r["origin"] == "generated"}
    assert len(generated) == 7 and not generated & set(BROKEN)
    # --model without --backend means the model: its answers, not the template's label echo
    assert {r["model"] for r in rows} == ({"template"} if backend else {tiny.name})
    skips = {s["id"]: s for s in _rows(out, "skipped")}
    assert set(skips) == set(BROKEN)
    assert skips[BROKEN[0]]["reason"] == "video_corrupt" and "empty" in skips[BROKEN[0]]["detail"]
    assert skips[BROKEN[1]]["reason"] == "video_corrupt" and "truncated" in skips[BROKEN[1]]["detail"]
    assert "skipped (video_corrupt)" in res.output


def test_empty_video_folder_is_an_error_naming_the_folder_and_an_expected_path(tmp_path, kinetics_dir):
    empty = tmp_path / "empty"
    empty.mkdir()
    res = CliRunner().invoke(app, ["generate", "kinetics700", "--annotations",
                                   str(kinetics_dir / "local_clips.csv"), "--videos", str(empty),
                                   "--out", str(tmp_path / "out")])
    assert res.exit_code != 0
    msg = str(res.exception)
    assert "none of the 7 annotated videos" in msg and str(empty) in msg
    assert str(empty / "arm_wrestling_000000_000010.mp4") in msg


def test_split_without_samples_is_an_error_listing_the_splits_present(tmp_path, kinetics_dir, videos_dir):
    res = CliRunner().invoke(app, ["generate", "kinetics700", "--annotations",
                                   str(kinetics_dir / "local_clips.csv"), "--videos", str(videos_dir),
                                   "--split", "train", "--out", str(tmp_path / "out")])
    assert res.exit_code != 0
    assert "split 'train' has no samples; splits present: validate (7)" in str(res.exception)


def test_generate_prints_annotated_found_missing_and_follows_symlinks(tmp_path, kinetics_dir, videos_dir):
    links = tmp_path / "links"
    links.mkdir()
    for clip in [c for c in sorted(videos_dir.iterdir()) if c.name != "basketball.mp4"][:5]:
        (links / clip.name).symlink_to(clip)
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["generate", "kinetics700", "--annotations",
                                   str(kinetics_dir / "local_clips.csv"), "--videos", str(links),
                                   "--out", str(out), "--num-frames", "2", "--frame-size", "32"])
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary-00000.json").read_text())
    assert (summary["annotated"], summary["found"], summary["missing"]) == (7, 5, 2)
    for line in ("annotated", "videos found", "videos missing", "reused", "redone", "new"):
        assert line in res.output
