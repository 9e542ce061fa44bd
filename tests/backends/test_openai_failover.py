"""Several inference servers behind the openai backend, and setup errors that stop the run.

Servers run as separate processes (tests/backends/openai_server.py, echo mode) and are killed
with SIGKILL in the middle of a run, as a crashed node would be: the run ends with every clip
answered exactly once on the servers left, and counts the failover; with no server left it stops
with exit 2 and a plain re-run finishes the job. A server that refuses the requests' timing
stops `generate` with one message and no skip row (tested end to end, through the CLI)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from openai_server import LoopbackServer

from vstar_data.backends.openai import OpenAIBackend
from vstar_data.backends.openai_servers import ServerPool, parse_base_urls
from vstar_data.cli import main
from vstar_data.errors import ConfigError, SetupError
from vstar_data.generation.attempts import read_attempts
from vstar_data.generation.engines.local import LocalEngine
from vstar_data.generation.pipeline import GenerationConfig

SERVER = Path(__file__).with_name("openai_server.py")
FAST = {"backoff": 0.01, "max_backoff": 0.05, "max_retries": 1}


@contextmanager
def echo_server(latency: float = 0.0) -> Iterator[tuple[str, subprocess.Popen]]:
    """An echo server in its own process; yields (base URL, process)."""
    proc = subprocess.Popen([sys.executable, str(SERVER), "--latency", str(latency)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("serving on "), line
        yield line.split()[2], proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _served(url: str) -> int:
    with urllib.request.urlopen(f"{url}/_stats", timeout=5) as resp:
        return int(json.load(resp)["requests"])


def _kill_after(url: str, proc: subprocess.Popen, n: int) -> threading.Thread:
    """SIGKILL `proc` once its server has received `n` chat requests."""
    def watch() -> None:
        while proc.poll() is None:
            try:
                if _served(url) >= n:
                    os.kill(proc.pid, signal.SIGKILL)
                    return
            except OSError:
                return
            time.sleep(0.02)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def _config(kinetics_dir: Path, videos_dir: Path, urls: list[str], **options) -> GenerationConfig:
    return GenerationConfig(adapter="kinetics700", annotations=str(kinetics_dir / "local_clips.csv"),
                            videos=str(videos_dir), num_frames=2, frame_size=32, progress=False,
                            chunk_size=2, batch_size=4, backend="openai", model="tiny-vlm",
                            backend_options={"base_url": ",".join(urls), "concurrency": 2, **FAST, **options})


def _answers(out: Path) -> dict[tuple[str, str], str]:
    rows = read_attempts(out)[0]
    keys = [(r["id"], r["origin"]) for r in rows]
    assert len(keys) == len(set(keys)), "an attempt row twice"
    return {(r["id"], r["origin"]): r["answer"] for r in rows}


def test_base_urls_come_as_a_list_a_comma_string_or_the_environment(monkeypatch):
    assert parse_base_urls(["http://a:1", "http://b:2/v1/"], "http://d") == ["http://a:1/v1", "http://b:2/v1"]
    assert parse_base_urls("http://a:1/v1, http://b:2", "http://d") == ["http://a:1/v1", "http://b:2/v1"]
    monkeypatch.setenv("OPENAI_BASE_URL", "http://e:1,http://f:2")
    assert parse_base_urls(None, "http://d") == ["http://e:1/v1", "http://f:2/v1"]
    with pytest.raises(ValueError, match="twice"):
        parse_base_urls("http://a:1,http://a:1/v1", "http://d")
    with pytest.raises(ConfigError, match="base_url must be an http"):
        OpenAIBackend(model="m", base_url="http://a:1,ftp://b")


def test_the_least_busy_healthy_server_is_picked_in_turn():
    pool = ServerPool.of(["http://a/v1", "http://b/v1", "http://c/v1"])
    a, b, c = pool.servers
    a.outstanding, b.outstanding, c.outstanding = 2, 1, 1
    assert {pool.pick().url for _ in range(4)} == {b.url, c.url}, "ties take turns; the busiest waits"
    assert pool.take_out(b, "connection_error") and not pool.take_out(b, "again")
    assert [pool.pick() for _ in range(2)] == [c, c]
    pool.take_out(a, "x"), pool.take_out(c, "y")
    assert pool.pick() is None and "http://a/v1 (x)" in pool.down_text()


def test_requests_are_spread_over_the_servers():
    with LoopbackServer() as one, LoopbackServer() as two:
        backend = OpenAIBackend(model="tiny-vlm", base_url=[one.url, two.url], concurrency=4, **FAST)
        out = backend.generate_text([f"q{i}" for i in range(12)])
    assert out == [f"echo 0 frames: q{i}" for i in range(12)]
    assert one.requests >= 3 and two.requests >= 3 and one.requests + two.requests == 12


def test_a_server_killed_mid_run_fails_over_and_every_clip_is_answered_once(tmp_path, kinetics_dir, videos_dir):
    with echo_server(0.0) as (ref_url, _):
        LocalEngine().run(_config(kinetics_dir, videos_dir, [ref_url]), tmp_path / "reference")
    reference = _answers(tmp_path / "reference")
    with echo_server(0.15) as (url_a, _), echo_server(0.15) as (url_b, proc_b):
        watcher = _kill_after(url_b, proc_b, 3)
        summary = LocalEngine().run(_config(kinetics_dir, videos_dir, [url_a, url_b]), tmp_path / "run")
        watcher.join(timeout=5)
        assert proc_b.poll() == -signal.SIGKILL, "server B was killed during the run"
    assert _answers(tmp_path / "run") == reference and len(reference) >= 7
    assert dict(summary.skipped) == {}
    events = summary.to_dict()["backend_events"]
    assert events["servers_down"] == 1 and events["failovers"] >= 1, events


def test_with_every_server_gone_the_run_stops_and_a_re_run_finishes_it(tmp_path, kinetics_dir, videos_dir, capsys):
    with echo_server(0.0) as (ref_url, _):
        LocalEngine().run(_config(kinetics_dir, videos_dir, [ref_url]), tmp_path / "reference")
    argv = ["generate", "kinetics700", "-a", str(kinetics_dir / "local_clips.csv"), "-v", str(videos_dir),
            "--num-frames", "2", "--frame-size", "32", "--batch-size", "4",
            "--backend", "openai", "--model", "tiny-vlm", "--out", str(tmp_path / "run"),
            *[x for k, v in {"concurrency": 2, **FAST}.items() for x in ("--backend-option", f"{k}={v}")]]
    with echo_server(0.15) as (url, proc):
        watcher = _kill_after(url, proc, 5)
        with pytest.raises(SystemExit) as stop:
            main([*argv, "--backend-option", f"base_url={url}"])
        watcher.join(timeout=5)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "every server stopped answering" in err and url in err, err
    assert "Traceback" not in err
    skipped = [line for p in (tmp_path / "run").glob("skipped/*.jsonl") for line in p.read_text().splitlines()]
    assert skipped == [], "the outage left no skip row behind"
    with echo_server(0.0) as (url, _):
        with pytest.raises(SystemExit) as done:
            main([*argv, "--backend-option", f"base_url={url}"])
    assert done.value.code in (0, None), capsys.readouterr().err
    assert _answers(tmp_path / "run") == _answers(tmp_path / "reference")


def test_a_refused_timing_stops_generate_with_one_message_and_no_skip_row(tmp_path, kinetics_dir, videos_dir,
                                                                         capsys):
    with LoopbackServer(rule=lambda body, attempt: "refuse_mm_kwargs") as srv:
        with pytest.raises(SystemExit) as stop:
            main(["generate", "kinetics700", "-a", str(kinetics_dir / "local_clips.csv"), "-v", str(videos_dir),
                  "--num-frames", "2", "--frame-size", "32", "--backend", "openai", "--model", "tiny-vlm",
                  "--backend-option", f"base_url={srv.url}", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert stop.value.code == 2, err
    assert err.count("--trust-request-mm-kwargs") >= 1 and err.count("refused the frames' timing") == 1, err
    assert not any(p.read_text().strip() for p in (tmp_path / "run").glob("skipped/*.jsonl"))
    assert srv.modes["refuse_mm_kwargs"] >= 1


def test_a_setup_error_raised_by_a_backend_is_never_a_skip_row():
    """The chunk processor retries a failed batch item by item to keep one bad clip from costing
    the batch; a SetupError is not about a clip and passes through."""
    from vstar_data.generation.pipeline import ChunkProcessor

    class Refusing:
        calls = 0

        def generate(self, requests):
            Refusing.calls += 1
            raise SetupError("the server refuses everything")

    proc = ChunkProcessor.__new__(ChunkProcessor)
    proc.cfg, proc.backend = type("C", (), {"batch_size": 4})(), Refusing()
    with pytest.raises(SetupError):
        proc._generate([object()] * 3)
    assert Refusing.calls == 1, "no per-item retry of a setup error"
