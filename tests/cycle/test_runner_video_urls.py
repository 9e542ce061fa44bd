"""The cycle runner's training rows name clips by absolute location: under a source whose
`videos` is a URL, that location is the clip's URL (percent-encoded), not a mangled local path."""
from __future__ import annotations

import json

from vstar_data.config import run_config_from_dict
from vstar_data.cycle.runner import CycleRunner


def test_training_rows_of_a_url_source_hold_clip_urls(tmp_path):
    csv = tmp_path / "a.csv"
    csv.write_text("label,youtube_id,time_start,time_end,split\n")
    rc = run_config_from_dict({"model": {"pretrained": "unused"}, "sources": [
        {"adapter": "kinetics700", "annotations": str(csv), "videos": "https://host.example/k700/"},
        {"adapter": "kinetics700", "annotations": str(csv), "videos": "clips"}]}, base=tmp_path)
    runner = CycleRunner(rc, echo=lambda m: None)
    gen = tmp_path / "gen"
    for i, video in enumerate(("validate/arm wrestling/a.mp4", "b.mp4")):
        folder = runner.layout.source_dir(gen, i, "kinetics700") / "attempts"
        folder.mkdir(parents=True)
        row = {"id": f"s{i}", "source": "kinetics700", "split": "validate", "task": "action_recognition",
               "video": video, "question": "What?", "prompt": "What?", "template_id": "q@1",
               "labels": [{"type": "category", "name": "action", "value": "x"}], "answer": "x",
               "origin": "generated", "cycle": 0, "attempt": 0, "accepted": True, "verifier_profile": "default",
               "verifier_scores": [], "model": "m", "model_revision": None, "frame_indices": [0], "timing": {}}
        (folder / "chunk-000000.jsonl").write_text(json.dumps(row) + "\n")
    items = json.loads(runner.training_rows(gen, tmp_path / "train.json").read_text())
    assert sorted(i["video"] for i in items) == sorted([
        "https://host.example/k700/validate/arm%20wrestling/a.mp4", str((tmp_path / "clips" / "b.mp4").resolve())])


def test_the_report_draws_frames_of_a_url_source_from_the_cache(tmp_path, videos_dir, monkeypatch):
    from http_videos import serve, served_clips
    from vstar_data.cycle.report import _Frames

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    frames = _Frames(2, 32, 64)
    with serve(served_clips(videos_dir, tmp_path / "served")) as (url, _):
        sheet, note = frames.sheet({"id": "a", "video": "yoga.mp4"}, url)
        assert sheet is not None and sheet.startswith("data:image/png") and note is None
        assert frames.sheet({"id": "b", "video": "../yoga.mp4"}, url) == (None, "video path leaves the source's video folder")
        missing, why = frames.sheet({"id": "c", "video": "gone.mp4"}, url)
    assert missing is None and "FileNotFoundError" in why and len(frames.missing) == 2


def test_the_leak_check_compares_url_clips_as_urls(tmp_path, videos_dir, kinetics_dir):
    """Before cycle 0 the runner compares eval and training clips by root + path: a URL root stays
    a URL in its refusal (joined as a local path it read `http:/127.0.0.1...`)."""
    import pytest
    from http_videos import serve, served_clips

    from vstar_data.errors import VstarError

    with serve(served_clips(videos_dir, tmp_path / "served")) as (url, _):
        source = {"adapter": "kinetics700", "annotations": str(kinetics_dir / "local_clips.csv"), "videos": url}
        rc = run_config_from_dict({"model": {"pretrained": "unused"}, "sources": [source], "eval": [source]},
                                  base=tmp_path)
        with pytest.raises(VstarError, match="share clips with its training sources") as info:
            CycleRunner(rc, echo=lambda m: None).check_leakage()
    assert f"clip {url}arm_wrestling.mp4 (whole video)" in str(info.value)
    assert "http:/1" not in str(info.value)
