"""`--videos` as a URL: kinetics700 generated from a plain HTTP file server (loopback) gives the
rows generated from the folder; resume notices a changed remote clip; a server that is down is one
setup error (exit 2), not a skip per clip."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from http_videos import free_port, serve, served_clips
from vstar_data.cli import main
from vstar_data.generation.engines.local import LocalEngine
from vstar_data.generation.pipeline import GenerationConfig
from vstar_data.sources.clip_cache import video_cache


def _rows(out: Path) -> list[dict]:
    rows = []
    for p in sorted((out / "attempts").glob("*.jsonl")):
        rows += [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
    for r in rows:
        r.pop("timing", None)   # seconds differ run to run
    return rows


def _cli(capsys, *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    captured = capsys.readouterr()
    return exit_.value.code, captured.out + captured.err


def test_generate_from_http_gives_the_rows_generated_from_disk(tmp_path, capsys, videos_dir, kinetics_dir):
    csv = str(kinetics_dir / "local_clips.csv")
    folder = served_clips(videos_dir, tmp_path / "served")
    common = ["generate", "kinetics700", "-a", csv, "--backend", "template"]
    code, _ = _cli(capsys, *common, "-v", str(videos_dir), "-o", str(tmp_path / "disk"))
    assert code in (0, None)
    with serve(folder) as (url, requests):
        code, text = _cli(capsys, *common, "-v", url, "-o", str(tmp_path / "http"),
                          "--videos-cache", str(tmp_path / "cache"), "--videos-cache-gb", "1")
    assert code in (0, None), text
    disk, http = _rows(tmp_path / "disk"), _rows(tmp_path / "http")
    assert len(disk) == 7 and {r["origin"] for r in disk} == {"generated"}
    assert http == disk
    run = json.loads((tmp_path / "http" / "run.json").read_text())
    assert run["config"]["videos"] == url   # the run records the URL, not a cache path
    # every clip came over HTTP once, into the cache (named by URL + version, not by clip name)
    cached = sorted(p.stat().st_size for p in (tmp_path / "cache").iterdir())
    assert cached == sorted(p.stat().st_size for p in videos_dir.iterdir() if p.stem != "basketball")
    assert sum(1 for r in requests if r.endswith((".mp4", ".avi", ".mkv"))) >= 7


def test_a_changed_remote_clip_is_redone_and_the_rest_reused(tmp_path, videos_dir, kinetics_dir):
    folder = served_clips(videos_dir, tmp_path / "served", copies=("yoga.mp4",))
    cache = {"dir": str(tmp_path / "cache"), "max_gb": 1}
    with serve(folder) as (url, _):
        def cfg() -> GenerationConfig:
            return GenerationConfig(adapter="kinetics700", annotations=str(kinetics_dir / "local_clips.csv"),
                                    videos=url, backend="template", progress=False, chunk_size=1, batch_size=1,
                                    videos_cache=cache)
        first = LocalEngine().run(cfg(), tmp_path / "run")
        again = LocalEngine().run(cfg(), tmp_path / "run")
        st = (folder / "yoga.mp4").stat()
        os.utime(folder / "yoga.mp4", (st.st_atime, st.st_mtime + 10))   # the object was replaced
        third = LocalEngine().run(cfg(), tmp_path / "run")
    other_cache = GenerationConfig(**{**cfg().to_dict(), "videos_cache": {"dir": "elsewhere", "max_gb": 3}})
    assert other_cache.signature() == cfg().signature()   # where clips are cached never changes rows
    assert (first.new, first.reused) == (7, 0)
    assert (again.new, again.reused, again.redone) == (0, 7, 0)
    assert (third.reused, third.redone) == (6, 1)
    # the new version was fetched again (a new cache entry), not served from the old copy
    assert video_cache(cache).stats["fetched"] == 8
    assert len(list((tmp_path / "cache").iterdir())) == 8


def test_a_server_that_is_down_is_one_setup_error(tmp_path, capsys, kinetics_dir):
    url = f"http://127.0.0.1:{free_port()}/"
    code, text = _cli(capsys, "generate", "kinetics700", "-a", str(kinetics_dir / "local_clips.csv"),
                      "-v", url, "-o", str(tmp_path / "out"), "--backend", "template")
    assert code == 2
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and url.rstrip("/") in lines[0] and "cannot be listed" in lines[0], text
    assert not (tmp_path / "out" / "attempts").exists()


def test_eval_reads_a_video_url_through_the_cache_it_is_given(tmp_path, capsys, videos_dir, kinetics_dir):
    with serve(served_clips(videos_dir, tmp_path / "served")) as (url, _):
        code, text = _cli(capsys, "eval", "kinetics700", "-a", str(kinetics_dir / "local_clips.csv"), "-v", url,
                          "--backend", "template", "--split", "validate", "-o", str(tmp_path / "eval"),
                          "--videos-cache", str(tmp_path / "cache"), "--videos-cache-gb", "0.5")
    assert code in (0, None), text
    result = json.loads((tmp_path / "eval" / "eval.json").read_text())
    assert (result["n"], result["skipped"]) == (7, 0), result
    assert len(list((tmp_path / "cache").iterdir())) == 7
    assert video_cache({"dir": str(tmp_path / "cache"), "max_gb": 0.5}).stats["fetched"] == 7
