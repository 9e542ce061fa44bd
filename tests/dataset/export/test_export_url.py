"""`vstar-data export --video-root URL`: the written path is the clip's URL; a clip the server does
not have is skipped and counted; frame formats decode the cached copy. `vstar-data validate
--video-root URL` names each clip the server lacks."""
from __future__ import annotations

import json
from urllib.parse import quote

from factory import make_attempts, published, write_rows_dir
from http_videos import serve

from vstar_data.dataset.export import export
from vstar_data.dataset.store import publish
from vstar_data.dataset.validate import validate_release


def test_exports_write_the_clip_url_and_count_clips_the_server_lacks(tmp_path, videos_dir, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))      # the default cache folder moves
    rows = make_attempts(6, sources=("kinetics700",))
    store = tmp_path / "store"
    publish(write_rows_dir(tmp_path / "rows", rows), store, "v1", "first")
    kept = published(rows)
    served = tmp_path / "served"
    present = sorted(r["video"] for r in kept.values())[::2]        # every other clip is on the server
    for video in present:
        (served / video).parent.mkdir(parents=True, exist_ok=True)
        (served / video).symlink_to(videos_dir / "pool_cleaning_1s.mp4")
    with serve(served) as (url, _):
        lf = export(store, tmp_path / "lf", "llamafactory", video_root=url)
        trl = export(store, tmp_path / "trl", "trl", video_root=url, num_frames=2, frame_size=32)
        report = validate_release(store, "v1", url)   # `vstar-data validate --video-root URL`
    items = [json.loads(line) for line in (tmp_path / "lf" / "vstar.jsonl").read_text().splitlines() if line]
    assert sorted(v for i in items for v in i["videos"]) == sorted(url + quote(v) for v in present)
    assert lf.rows == len(present) and lf.skipped == {"video_missing": len(kept) - len(present)}
    assert trl.rows == len(present) and trl.clips == len(present) and trl.frames == 2 * len(present)
    missing = [p for p in report.problems if "not found under " + url.rstrip("/") in p]
    assert len(missing) == len(kept) - len(present) == len(report.problems)
    cached = list((tmp_path / "xdg" / "vstar-data" / "videos").iterdir())
    assert len(cached) == len(present)   # the trl export's copies (one per URL); llamafactory fetched none
