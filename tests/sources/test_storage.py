"""VideoStore / VideoCache over a plain HTTP file server on loopback: listing nested label folders
(names with spaces), the video folder's path rule for URLs, the cache's size bound (least recently
used first), and the `videos_cache` run-config key."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from http_videos import serve, served_clips
from vstar_data.adapters.kinetics700 import Kinetics700Adapter
from vstar_data.config import run_config_from_dict
from vstar_data.errors import AnnotationError, ConfigError, UnsafePathError
from vstar_data.sources.adapter import Adapter, safe_relpath
from vstar_data.sources.sample import Sample
from vstar_data.sources.clip_cache import video_cache
from vstar_data.sources.storage import VideoStore


def test_kinetics_label_folders_with_spaces_are_found_over_http_as_on_disk(tmp_path, videos_dir, kinetics_dir):
    csv = kinetics_dir / "local_clips.csv"
    served = tmp_path / "served"
    for s in Kinetics700Adapter(csv).samples():   # the downloaders' <split>/<label>/<file> layout
        label = s.labels[0]["value"]
        folder = served / s.split / label
        folder.mkdir(parents=True, exist_ok=True)
        clip = next(p for p in videos_dir.iterdir() if p.stem == s.metadata["youtube_id"])
        (folder / clip.name).symlink_to(clip)
    on_disk = {s.id: s.video for s in Kinetics700Adapter(csv, served).samples()}
    with serve(served) as (url, requests):
        ad = Kinetics700Adapter(csv, url)
        over_http = {s.id: s.video for s in ad.samples()}
        assert ad.stats.found == 7 and ad.stats.missing == 0
        local = VideoStore(url).local_path(over_http["arm_wrestling_000000_000010"],
                                           {"dir": str(tmp_path / "cache"), "max_gb": 1})
    assert over_http == on_disk and over_http["arm_wrestling_000000_000010"] == "validate/arm wrestling/arm_wrestling.mp4"
    assert local.read_bytes() == (videos_dir / "arm_wrestling.mp4").read_bytes()
    # the root's check, then one listing per folder (root, split, 7 labels); no request per candidate
    assert sorted(r for r in requests if r.endswith("/"))[:3] == ["/", "/", "/validate/"]
    assert len([r for r in requests if r.endswith("/")]) == 10
    assert [r for r in requests if not r.endswith("/")] == ["/validate/arm%20wrestling/arm_wrestling.mp4"] * 2  # HEAD, GET


def test_ids_that_climb_or_name_another_url_stay_under_the_root_url(tmp_path, videos_dir):
    folder = served_clips(videos_dir, tmp_path / "served" / "clips")
    (tmp_path / "served" / "secret.mp4").write_bytes(b"not yours")
    csv = tmp_path / "list.csv"
    csv.write_text("label,youtube_id,time_start,time_end,split\n"
                   "yoga,yoga,0,10,validate\n"
                   "yoga,../secret,0,10,validate\n"
                   "yoga,http://127.0.0.1:1/yoga,0,10,validate\n")
    with serve(folder) as (url, requests):
        store = VideoStore(url)
        for bad in ("../secret.mp4", "/etc/passwd", "s3://other-bucket/x.mp4", "https://evil.example/x.mp4"):
            with pytest.raises(UnsafePathError):
                store.location(bad)
        # a percent-escape in a name is that name, never a climb decoded by the server
        assert store.location("%2e%2e/secret.mp4") == url + "%252e%252e/secret.mp4"
        assert not store.exists("%2e%2e/secret.mp4")
        ad = Kinetics700Adapter(csv, url)
        ids = [s.id for s in ad.samples()]
    assert ids == ["yoga_000000_000010"] and ad.stats.skipped == {"invalid_row": 2}
    assert not any("secret" in r and "%25" not in r for r in requests)
    with pytest.raises(UnsafePathError):
        safe_relpath("s3://bucket/clip.mp4")   # the same rule for a local folder


def test_the_cache_keeps_its_bound_evicting_the_least_recently_used(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    for name, kb in (("a", 400), ("b", 400), ("c", 400), ("d", 1500)):
        (served / f"{name}.bin").write_bytes(os.urandom(kb * 1000))
    settings = {"dir": str(tmp_path / "cache"), "max_gb": 0.001}    # 1 MB
    cache = video_cache(settings)
    with serve(served) as (url, _):
        store = VideoStore(url)
        a = store.local_path("a.bin", settings)
        store.local_path("b.bin", settings)
        assert store.local_path("a.bin", settings) == a            # a hit: a is now the most recent
        store.local_path("c.bin", settings)                        # 1.2 MB: b, least recent, goes
        left = sorted(p.stat().st_size for p in cache.folder.iterdir())
        assert left == [400_000, 400_000] and a.exists() and cache.size() <= cache.max_bytes
        assert cache.stats == {"hits": 1, "fetched": 3, "evicted": 1, "oversized": 0}
        d = store.local_path("d.bin", settings)                    # alone over the bound: kept, counted
        assert [p for p in cache.folder.iterdir()] == [d] and d.read_bytes() == (served / "d.bin").read_bytes()
        assert cache.stats["evicted"] == 3 and cache.stats["oversized"] == 1


def test_videos_cache_config_key(tmp_path):
    base = {"model": {"pretrained": "unused"},
            "sources": [{"adapter": "kinetics700", "annotations": "a.csv", "videos": "https://host/clips/"}]}
    rc = run_config_from_dict({**base, "videos_cache": {"dir": "cache", "max_gb": 2.5}}, base=tmp_path)
    assert rc.videos_cache == {"dir": str(tmp_path / "cache"), "max_gb": 2.5}
    assert rc.sources[0].videos == "https://host/clips/"          # a URL is not a path to resolve
    assert run_config_from_dict(base, base=tmp_path).videos_cache == {"dir": None, "max_gb": 20}
    for bad in ({"max_gb": 0}, {"size": 3}):
        with pytest.raises(ConfigError):
            run_config_from_dict({**base, "videos_cache": bad}, base=tmp_path)


class _Listed(Adapter):
    """An adapter without the listing index: the base class asks for each candidate."""

    name = "listed_over_http"

    def read(self, root: Path):
        for clip in ("yoga.mp4", "gone.mp4"):
            yield Sample(id=clip, source=self.name, task="action_recognition", video=clip, split="test",
                         labels=[{"type": "category", "name": "action", "value": "yoga"}])


def test_an_adapter_without_an_index_asks_for_each_candidate_with_a_head_request(tmp_path, videos_dir):
    (tmp_path / "ann.txt").write_text("-")
    with serve(served_clips(videos_dir, tmp_path / "served")) as (url, requests):
        requests.clear()
        ad = _Listed(tmp_path / "ann.txt", url)
        assert [s.video for s in ad.samples()] == ["yoga.mp4"]
    assert (ad.stats.found, ad.stats.missing, ad.stats.missing_example) == (1, 1, url + "gone.mp4")
    # the root's check, then a HEAD per candidate (fsspec tries a GET after a 404), never a listing
    assert requests == ["/", "/yoga.mp4", "/gone.mp4", "/gone.mp4"]


def test_a_url_without_a_file_index_is_one_setup_error(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<html><body>Welcome</body></html>")   # served instead of a listing
    with serve(tmp_path / "site") as (url, _):
        with pytest.raises(AnnotationError, match="lists no files"):
            VideoStore(url).check()
        with pytest.raises(AnnotationError, match="does not exist"):
            VideoStore(url + "nothing/here/").check()
