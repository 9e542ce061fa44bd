"""Trainer rows whose clips are on an HTTP server: relative paths under a `--videos` URL or
absolute URLs (the cycle runner's rows) are checked remotely and decoded from the cache."""
from __future__ import annotations

import json

from http_videos import serve, served_clips

from vstar_data.sources.storage import local_clip
from vstar_data.training.data import load_rows


def _row(i: int, video: str) -> dict:
    return {"id": f"r{i}", "video": video, "conversations": [{"from": "human", "value": "<video>\nWhat?"},
                                                            {"from": "gpt", "value": "Yoga."}]}


def test_rows_name_clips_under_a_url_or_by_url(tmp_path, videos_dir, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    folder = served_clips(videos_dir, tmp_path / "served")
    with serve(folder) as (url, _):
        data = tmp_path / "rows.json"
        data.write_text(json.dumps([_row(0, "yoga.mp4"), _row(1, url + "eye_makeup.avi"), _row(2, "gone.mp4"),
                                    _row(3, "../yoga.mp4"), _row(4, str(videos_dir / "yoga.mp4"))]))
        rows, skipped = load_rows(str(data), videos=url)
        assert [r["path"] for r in rows] == [url + "yoga.mp4", url + "eye_makeup.avi", str(videos_dir / "yoga.mp4")]
        assert skipped == {"video_missing": 1, "unsafe_path": 1}
        local = local_clip(rows[1]["path"])
    assert local.read_bytes() == (videos_dir / "eye_makeup.avi").read_bytes()
    assert local.parent == tmp_path / "xdg" / "vstar-data" / "videos"


def test_the_trainer_reads_url_clips_through_the_configured_cache(tmp_path, videos_dir, monkeypatch):
    """`videos_cache` (run config, `train --videos-cache`) reaches the dataset that decodes in the
    DataLoader workers: URL clips land in that folder, not the default one."""
    import pytest

    from vstar_data.errors import ConfigError
    from vstar_data.training.data import VideoChatDataset
    from vstar_data.training.recipe import TrainConfig

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with serve(served_clips(videos_dir, tmp_path / "served")) as (url, _):
        data = tmp_path / "rows.json"
        data.write_text(json.dumps([_row(0, "yoga.mp4")]))
        rows, _ = load_rows(str(data), videos=url)
        cache = {"dir": str(tmp_path / "mine"), "max_gb": 1}
        dataset = VideoChatDataset(rows, None, num_frames=2, frame_size=32, videos_cache=cache)
        frames = dataset._frames(rows[0])
    assert frames.array.shape[0] == 2
    assert [p.suffix for p in (tmp_path / "mine").iterdir() if p.is_file()] == [".mp4"]
    assert not (tmp_path / "xdg").exists()
    for bad in ({"dir": "x", "size": 3}, {"max_gb": 0}, "folder"):
        with pytest.raises(ConfigError, match="videos_cache"):
            TrainConfig(model="m", data=str(data), output_dir=str(tmp_path / "o"), videos_cache=bad)
    # a performance setting: another cache folder is still the same training
    a = TrainConfig(model="m", data=str(data), output_dir=str(tmp_path / "o"))
    b = TrainConfig(model="m", data=str(data), output_dir=str(tmp_path / "o"), videos_cache=cache)
    assert a.signature() == b.signature()


def test_build_passes_the_run_configs_cache_to_the_trainer(tmp_path):
    from vstar_data.config import run_config_from_dict
    from vstar_data.cycle.runner import CycleRunner

    csv = tmp_path / "a.csv"
    csv.write_text("label,youtube_id,time_start,time_end,split\n")
    rc = run_config_from_dict({"model": {"pretrained": "unused"}, "videos_cache": {"dir": "cache", "max_gb": 5},
                               "sources": [{"adapter": "kinetics700", "annotations": str(csv), "videos": "clips"}]},
                              base=tmp_path)
    assert CycleRunner(rc, echo=lambda m: None)._settings()["videos_cache"] == {"dir": str(tmp_path / "cache"), "max_gb": 5}
