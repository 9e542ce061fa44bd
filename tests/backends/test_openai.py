"""The openai backend against a loopback OpenAI-compatible server (openai_server.py): the same
rows as the transformers backend with the same tiny model, retries and skips on a failing server,
the request cache, bounded concurrency, one clear ConfigError per broken setup, and the contract."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from openai_server import LoopbackServer

from vstar_data.backends.base import GenerationError, Request
from vstar_data.backends.transformers import TransformersBackend
from vstar_data.backends.openai import OpenAIBackend
from vstar_data.backends.openai_http import normalise_url
from vstar_data.generation.engines.local import LocalEngine
from vstar_data.errors import ConfigError, SetupError
from vstar_data.generation.pipeline import GenerationConfig
from vstar_data.testing.backends import BackendContract, make_frames

SERVED = "tiny-qwen2-vl"
FAST = {"backoff": 0.01, "max_backoff": 0.05}


@pytest.fixture(scope="module")
def hf_backend(tiny_model: Callable[[str], Path]) -> TransformersBackend:
    backend = TransformersBackend(model=str(tiny_model("qwen2_vl")), max_new_tokens=8)
    backend.load()
    return backend


@pytest.fixture(scope="module")
def server(hf_backend: TransformersBackend):
    with LoopbackServer(hf_backend, model_name=SERVED) as srv:
        yield srv


def _client(srv: LoopbackServer, **kw: Any) -> OpenAIBackend:
    backend = OpenAIBackend(**{"model": srv.model_name, "base_url": srv.url, "max_new_tokens": 8, **FAST, **kw})
    backend.load()
    return backend


def _requests(n: int = 3, prompt: str = "What is happening?") -> list[Request]:
    return [Request(frames=make_frames(4, 32, 32, seed=k), prompt=f"{prompt} #{k}", sample_id=f"s{k}")
            for k in range(n)]


class TestOpenAIContract(BackendContract):
    backend = "openai"

    @pytest.fixture
    def options(self, server: LoopbackServer) -> dict[str, Any]:
        return {"model": SERVED, "base_url": server.url, "max_new_tokens": 8}


# ---------------------------------------------------------------------------- same rows as transformers
def _rows(out: Path) -> dict[tuple[str, str], dict]:
    from vstar_data.generation.attempts import read_attempts

    return {(r["id"], r["origin"]): r for r in read_attempts(out)[0]}


@pytest.mark.slow
def test_generation_through_openai_gives_the_transformers_rows(server, tiny_model, videos_dir, kinetics_dir,
                                                              tmp_path):
    """Real clips, greedy, lossless PNG frames: the same accepted ids and the same answers."""
    base = dict(adapter="kinetics700", annotations=str(kinetics_dir / "local_clips.csv"), videos=str(videos_dir),
                limit=3, num_frames=4, frame_size=64, max_new_tokens=8, progress=False, chunk_size=2, batch_size=2)
    LocalEngine().run(GenerationConfig(backend="transformers", model=str(tiny_model("qwen2_vl")), **base),
                      tmp_path / "hf")
    server.reset()
    with pytest.raises(ConfigError, match="needs --model"):
        GenerationConfig(backend="transformers", **base)
    cfg = GenerationConfig(backend="openai",          # no --model: the server serves one
                           backend_options={"base_url": server.url, "image_format": "png"}, **base)
    summary = LocalEngine().run(cfg, tmp_path / "oa")
    hf, oa = _rows(tmp_path / "hf"), _rows(tmp_path / "oa")
    assert summary.samples == 3 and len(hf) >= 3 and server.requests == len(oa)
    assert sorted(hf) == sorted(oa)
    assert {k for k, r in hf.items() if r["accepted"]} == {k for k, r in oa.items() if r["accepted"]}
    for key, row in hf.items():
        assert oa[key]["answer"] == row["answer"] and row["answer"], key
        assert oa[key]["prompt"] == row["prompt"] and oa[key]["frame_indices"] == row["frame_indices"]
        assert oa[key]["model"] == SERVED


def test_video_part_and_image_parts_give_the_same_answers(server):
    reqs = _requests()
    images = _client(server, image_format="png", frames_as="images").generate(reqs)
    server.reset()
    video = _client(server, image_format="png").generate(reqs)           # video is the default
    body = server.bodies[0]
    parts = body["messages"][-1]["content"]
    assert [p["type"] for p in parts] == ["video_url", "text"]
    # PNG frames under the video/jpeg label: the only frame list vLLM splits
    assert parts[0]["video_url"]["url"].startswith("data:video/jpeg;base64,iVBORw0KGgo")
    req = next(r for r in reqs if r.prompt == parts[1]["text"])
    timing = body["media_io_kwargs"]["video"]
    assert timing["frames_indices"] == list(req.frames.indices) and timing["fps"] == req.frames.fps
    assert timing["total_num_frames"] == req.frames.total_frames and timing["duration"] == req.frames.duration
    assert video == images and all(isinstance(a, str) and a for a in video)


def test_a_server_that_refuses_video_gets_images_from_then_on():
    with LoopbackServer(rule=lambda body, attempt: "refuse_video") as srv:
        backend = _client(srv, concurrency=1)
        out = backend.generate(_requests(3))
    assert all(isinstance(a, str) and a.startswith("echo 4 frames") for a in out)
    kinds = [[p["type"] for p in b["messages"][-1]["content"]][0] for b in srv.bodies]
    assert kinds == ["video_url", "image_url", "image_url", "image_url"]   # one refusal, then images
    assert backend.stats["video_fallbacks"] == 1
    with LoopbackServer(rule=lambda body, attempt: "refuse_video") as srv:
        strict = _client(srv, video_fallback="false")
        out = strict.generate(_requests(1))
    assert isinstance(out[0], GenerationError) and out[0].reason == "video_refused"


def test_refused_timing_is_one_setup_error_naming_the_server_flag():
    with LoopbackServer(rule=lambda body, attempt: "refuse_mm_kwargs") as srv:
        with pytest.raises(SetupError, match="--trust-request-mm-kwargs.*video_timing=false"):
            _client(srv).generate(_requests(2))
        out = _client(srv, video_timing="false").generate(_requests(2))
    assert all(isinstance(a, str) for a in out) and "media_io_kwargs" not in srv.bodies[-1]


def test_token_suppression_from_generation_config_becomes_logit_bias(tmp_path, tiny_model):
    model = tiny_model("qwen2_vl")
    gen = json.loads((model / "generation_config.json").read_text())
    with LoopbackServer(model_name=str(model)) as srv:       # vLLM names a local model by its path
        backend = OpenAIBackend(base_url=srv.url, max_new_tokens=4)
        backend.load()
        backend.generate(_requests(1))
        none = _client(srv, generation_config="none")
        none.generate(_requests(1, prompt="other"))
    body = srv.bodies[0]
    assert body["model"] == str(model)
    assert body["logit_bias"] == {str(t): -100 for t in gen["suppress_tokens"]} and body["logit_bias"]
    assert body["min_tokens"] == 1            # the first end-of-text is suppressed too
    assert "logit_bias" not in srv.bodies[1] and "min_tokens" not in srv.bodies[1]
    with pytest.raises(ConfigError, match="not a generation_config.json"):
        OpenAIBackend(base_url="http://127.0.0.1:9/v1", generation_config=str(tmp_path))._load_generation_config("")


def test_text_only_prompts_match_the_transformers_model(server, hf_backend):
    prompts = ["I am performing action recognition. Generate 10 unique questions.", "Say something."]
    assert _client(server).generate_text(prompts) == hf_backend.generate_text(prompts)


# ---------------------------------------------------------------------------- failing servers
def _flaky(mode: str, failures: int) -> Callable[[dict, int], str]:
    return lambda body, attempt: mode if attempt < failures else "ok"


@pytest.mark.parametrize("mode", ["error500", "rate_limit", "malformed", "no_choices", "drop", "timeout"])
def test_a_request_that_fails_twice_then_succeeds_is_answered(mode):
    with LoopbackServer(rule=_flaky(mode, 2), hang_s=3.0) as srv:
        backend = _client(srv, max_retries=2, timeout=0.4 if mode == "timeout" else 10)
        out = backend.generate(_requests(2))
    assert out == ["echo 4 frames: What is happening? #0", "echo 4 frames: What is happening? #1"]
    assert srv.requests == 6 and sorted(srv.attempts.values()) == [3, 3]
    assert backend.stats["retries"] == 4 and backend.stats["failures"] == 0


def test_exhausted_retries_become_skips_with_their_reason_in_order():
    modes = {"#0": "ok", "#1": "error500", "#2": "timeout", "#3": "malformed", "#4": "bad_request", "#5": "drop"}

    def rule(body: dict, attempt: int) -> str:
        text = body["messages"][-1]["content"][-1]["text"]
        return modes[text[text.index("#"):]]

    with LoopbackServer(rule=rule, hang_s=3.0) as srv:
        backend = _client(srv, max_retries=1, timeout=0.4)
        t0 = time.perf_counter()
        out = backend.generate(_requests(6))
        elapsed = time.perf_counter() - t0
    assert out[0] == "echo 4 frames: What is happening? #0"
    reasons = {e.sample_id: e.reason for e in out[1:]}
    assert all(isinstance(e, GenerationError) for e in out[1:])
    assert reasons == {"s1": "server_error", "s2": "timeout", "s3": "malformed_response", "s4": "request_rejected",
                       "s5": "connection_error"}
    assert "gave up after 2 attempts" in out[1].detail and "HTTP 500" in out[1].detail
    assert srv.modes["bad_request"] == 1, "a 400 is not retried"
    assert srv.modes["error500"] == srv.modes["timeout"] == srv.modes["malformed"] == 2
    assert elapsed < 2.5, "the client gives up after its 2 x 0.4 s, not when the server answers (3 s)"


def test_engine_run_on_a_failing_server_loses_no_row(videos_dir, kinetics_dir, tmp_path):
    """One clip's requests always fail, the others fail twice first: every sample ends up as
    attempt rows or as a skip row with its reason."""
    first: dict[str, str] = {}

    def rule(body: dict, attempt: int) -> str:
        images = json.dumps(body["messages"][-1]["content"][:-1])
        first.setdefault("doomed", images)
        return "error500" if images == first["doomed"] or attempt < 2 else "ok"

    with LoopbackServer(rule=rule) as srv:
        cfg = GenerationConfig(adapter="kinetics700", annotations=str(kinetics_dir / "local_clips.csv"),
                               videos=str(videos_dir), limit=3, num_frames=2, frame_size=32, progress=False,
                               chunk_size=3, batch_size=3, backend="openai", model=srv.model_name,
                               backend_options={"base_url": srv.url, "max_retries": 2, **FAST})
        summary = LocalEngine().run(cfg, tmp_path / "run")
    rows = _rows(tmp_path / "run")
    skips = [json.loads(line) for p in (tmp_path / "run" / "skipped").glob("*.jsonl")
             for line in p.read_text().splitlines()]
    assert summary.samples == 3 and dict(summary.skipped) == {"server_error": 1}
    assert len(skips) == 1 and skips[0]["reason"] == "server_error" and "gave up after 3" in skips[0]["detail"]
    answered = {i for i, _ in rows}
    assert len(answered) == 2 and skips[0]["id"] not in answered
    assert all(r["answer"].startswith("echo 2 frames") for r in rows.values())


# ---------------------------------------------------------------------------- cache
def test_cache_makes_a_rerun_free_and_keys_on_frames_and_prompt(tmp_path):
    doomed = "#2"

    def rule(body: dict, attempt: int) -> str:
        return "error500" if doomed in body["messages"][-1]["content"][-1]["text"] else "ok"

    with LoopbackServer(rule=rule) as srv:
        reqs = _requests(3)
        first = _client(srv, cache_dir=str(tmp_path / "c"), max_retries=0).generate(reqs)
        assert srv.requests == 3 and isinstance(first[2], GenerationError)
        doomed = "never"
        again = _client(srv, cache_dir=str(tmp_path / "c"), max_retries=0)
        second = again.generate(reqs)
        assert srv.requests == 4, "only the failed request is asked again (failures are not cached)"
        assert second[:2] == first[:2] and isinstance(second[2], str)
        assert again.stats["cache_hits"] == 2
        third = _client(srv, cache_dir=str(tmp_path / "c")).generate(reqs)
        assert srv.requests == 4 and third == second, "a re-run makes zero requests"
        changed = Request(frames=make_frames(4, 32, 32, seed=0), prompt=reqs[0].prompt, sample_id="s0")
        changed.frames.array[0, 0, 0, 0] ^= 1
        other = [changed, Request(frames=reqs[1].frames, prompt=reqs[1].prompt + "?", sample_id="s1"),
                 Request(frames=reqs[2].frames, prompt=reqs[2].prompt, sample_id="s2")]
        _client(srv, cache_dir=str(tmp_path / "c")).generate(other)
        assert srv.requests == 6, "one changed pixel and one changed prompt miss; the unchanged one hits"
        _client(srv, cache_dir=str(tmp_path / "c"), max_new_tokens=9).generate(reqs[:1])
        assert srv.requests == 7, "sampling settings are part of the key"


# ---------------------------------------------------------------------------- request shape, concurrency
def test_request_body_sampling_seed_and_auth(monkeypatch):
    monkeypatch.setenv("VSTAR_TEST_KEY", "sk-test")
    with LoopbackServer(api_key="sk-test") as srv:
        greedy = _client(srv, api_key_env="VSTAR_TEST_KEY", seed=7)
        greedy.generate(_requests(2))
        sampled = _client(srv, api_key_env="VSTAR_TEST_KEY", temperature=0.7, top_p=0.9, seed=7)
        sampled.generate(_requests(2))
        sampled.generate(_requests(2))
    g, s = srv.bodies[:2], srv.bodies[2:]
    assert all(b["temperature"] == 0 and b["seed"] == 7 and b["max_tokens"] == 8 and b["model"] == "tiny-vlm"
               for b in g)
    assert all(b["temperature"] == 0.7 and b["top_p"] == 0.9 for b in s)
    # requests run concurrently, so the server may see each pair in either order
    assert s[0]["seed"] != s[1]["seed"] and sorted(b["seed"] for b in s[:2]) == sorted(b["seed"] for b in s[2:])
    parts = g[0]["messages"][-1]["content"]
    assert [p["type"] for p in parts] == ["video_url", "text"]
    assert parts[0]["video_url"]["url"].startswith("data:video/jpeg;base64,/9j/")    # JPEG frames
    with LoopbackServer() as srv:
        _client(srv, frames_as="images").generate(_requests(1))
    parts = srv.bodies[0]["messages"][-1]["content"]
    assert [p["type"] for p in parts] == ["image_url"] * 4 + ["text"] and "media_io_kwargs" not in srv.bodies[0]
    assert parts[0]["image_url"]["url"].startswith("data:image/jpeg;base64,")


def test_a_loaded_backend_pickles_and_works_after(tmp_path):
    import pickle

    with LoopbackServer() as srv:
        backend = _client(srv, cache_dir=str(tmp_path / "c"))
        first = backend.generate(_requests(2))
        copy = pickle.loads(pickle.dumps(backend))
        assert copy.generate(_requests(2)) == first and srv.requests == 2, "the copy reopens the same cache"


def test_concurrency_is_bounded_and_used():
    with LoopbackServer(latency=0.1) as srv:
        backend = _client(srv, concurrency=4)
        t0 = time.perf_counter()
        out = backend.generate(_requests(12))
        elapsed = time.perf_counter() - t0
    assert len(out) == 12 and all(isinstance(a, str) for a in out)
    assert srv.max_in_flight <= 4 and srv.max_in_flight >= 2
    assert elapsed < 0.8 * 12 * 0.1


# ---------------------------------------------------------------------------- setup errors
def test_unreachable_server_is_one_config_error():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConfigError, match=rf"cannot reach http://127.0.0.1:{port}/v1/models.*vllm serve"):
        OpenAIBackend(model="m", base_url=f"http://127.0.0.1:{port}/v1").load()


def test_wrong_model_wrong_key_and_bad_options_are_config_errors(monkeypatch):
    monkeypatch.delenv("VSTAR_TEST_KEY", raising=False)
    with LoopbackServer(api_key="sk-right") as srv:
        with pytest.raises(ConfigError, match=r"\$VSTAR_TEST_KEY is not set"):
            OpenAIBackend(model="tiny-vlm", base_url=srv.url, api_key_env="VSTAR_TEST_KEY").load()
        monkeypatch.setenv("VSTAR_TEST_KEY", "sk-wrong")
        with pytest.raises(ConfigError, match="was rejected"):
            OpenAIBackend(model="tiny-vlm", base_url=srv.url, api_key_env="VSTAR_TEST_KEY").load()
        monkeypatch.setenv("VSTAR_TEST_KEY", "sk-right")
        with pytest.raises(ConfigError, match="'other' is not served .* it serves: tiny-vlm"):
            OpenAIBackend(model="other", base_url=srv.url, api_key_env="VSTAR_TEST_KEY").load()
        auto = OpenAIBackend(base_url=srv.url, api_key_env="VSTAR_TEST_KEY")
        auto.load()
        assert auto.model_name == "tiny-vlm", "the one served model is used when none is named"
    with pytest.raises(ConfigError) as info:
        OpenAIBackend(model="m", frames_as="gif", image_format="bmp", concurrency=0, base_url="ftp://x")
    assert len(info.value.problems) == 4


def test_base_url_forms():
    assert normalise_url("http://h:8000") == "http://h:8000/v1"
    assert normalise_url("http://h:8000/v1/") == "http://h:8000/v1"
    assert normalise_url("https://api.x.com/v1/chat/completions") == "https://api.x.com/v1"
    assert normalise_url("http://h/openai/v1") == "http://h/openai/v1"


def test_frames_are_sent_losslessly_as_png():
    with LoopbackServer() as srv:
        backend = _client(srv, image_format="png")
        req = _requests(1)[0]
        backend.generate([req])
    from openai_server import parse_messages

    _, frames = parse_messages(srv.bodies[0])
    assert np.array_equal(np.stack(frames), req.frames.array)


@pytest.fixture(scope="module")
def interval_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two shapes clips whose label is an interval (when the second shape is on screen)."""
    from vstar_data.adapters.shapes import render_world

    return render_world(tmp_path_factory.mktemp("interval-world"), n=2, seed=3, objects=2)


@pytest.mark.parametrize("options, told", [({}, False), ({"video_timing": False}, True),
                                           ({"frames_as": "images"}, True)])
def test_frame_times_travel_as_timing_or_in_the_prompt(interval_world: Path, tmp_path: Path,
                                                        options: dict[str, Any], told: bool) -> None:
    """An interval question: a server given media_io_kwargs gets no time instruction; with
    video_timing off, or frames as images, the prompt it receives states the frames' times."""
    with LoopbackServer() as srv:   # echo mode: the answer repeats the prompt the server received
        cfg = GenerationConfig(adapter="shapes", annotations=str(interval_world), videos=str(interval_world / "videos"),
                               adapter_options={"labels": "second_on_screen"}, backend="openai",
                               model=srv.model_name, backend_options={"base_url": srv.url, **options},
                               num_frames=4, frame_size=32, progress=False, rationalize=False)
        LocalEngine().run(cfg, tmp_path / "run")
        bodies = list(srv.bodies)
    rows = [json.loads(line) for p in sorted((tmp_path / "run" / "attempts").glob("*.jsonl"))
            for line in p.read_text().splitlines()]
    assert len(rows) == len(bodies) == 2
    for row in rows:
        assert row["answer"] == f"echo 4 frames: {row['prompt']}"       # the row shows what was sent
        assert ("time_instruction" in row) is told
        if told:
            stated = row["time_instruction"]
            assert row["prompt"] == f"{stated}\n{row['question']}"
            assert stated.endswith(", ".join(f"{t:.2f}s" for t in row["frame_timestamps"]) + ".")
    assert all(("media_io_kwargs" in b) is (not told) for b in bodies)
