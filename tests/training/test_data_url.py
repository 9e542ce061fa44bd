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
