"""The openai backend: answers with any OpenAI-compatible chat-completions server (vLLM
`vllm serve`, SGLang, TGI, LiteLLM, a hosted API), so generation runs on the serving stack users
already operate instead of in this process.

Each request is one POST to ``{base_url}/chat/completions`` with the frames, then the prompt
text. By default (``frames_as="video"``) the frames travel as one vLLM-style video part: a
``data:video/jpeg;base64,f1,f2,...`` URL (vLLM splits only lists under that label, and decodes
each frame with PIL, so lossless PNG frames, ``image_format="png"``, go under it too), with the
frames' timing (fps, frame indices, total frames, duration) in the request's
``media_io_kwargs`` so the model's temporal positions match the clip (vLLM needs the server flag
``--trust-request-mm-kwargs`` for that; a refusal stops the run with that advice;
``video_timing=false`` sends none and the server assumes 1 fps; the frames' times are then stated
in the prompt, see `reads_frame_times`). A server that refuses video
parts gets image parts from then on (``video_fallback``, on by default; counted in
``stats["video_fallbacks"]``); ``frames_as="images"`` always sends one image part per frame.
Token suppression stored in the model's ``generation_config.json`` (which vLLM ignores) is sent
as ``logit_bias`` (plus ``min_tokens: 1`` when the first end-of-text is suppressed); the file is
found from ``generation_config`` (a path), else the local ``--model`` folder, else the served
model's ``root`` in ``/v1/models`` when that folder is visible here. Without ``--model`` the one
model the server serves is used. Requests run
concurrently (``concurrency`` at a time) on a private asyncio event loop with one connection
pool for the backend's lifetime. Timeouts, connection errors, 408/429/5xx and malformed
responses are retried ``max_retries`` times with exponential backoff and jitter (a server's
Retry-After is honoured); what still fails becomes that request's GenerationError (``timeout``,
``connection_error``, ``server_error``, ``rate_limited``, ``malformed_response``, ...), so the
row is recorded as skipped with its reason and the batch goes on. Several servers (``base_url``
as a list) share the requests by load and fail over (openai_servers.py); a failure of the setup
rather than the clip (refused timing, rejected key, model gone, every server down) is raised as
one SetupError that stops the run. With ``cache_dir`` every answer
is stored under a hash of (sample id, frame indices + frame bytes, prompt, model, sampling and
encoding settings): re-running the same work sends no request.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import random
import time
import weakref
from collections import Counter
from typing import Any, ClassVar

from ..errors import ConfigError, MissingDependencyError, SetupError
from ._request_cache import RequestCache, array_digest, request_key
from .base import Backend, GenerationError, Request
from .openai_http import Runner, error_text, normalise_url, read_response
from .openai_request import encode_frames, find_generation_config, generation_config_bias, media_io_kwargs, video_part
from .openai_servers import SERVER_FAILURES, Server, ServerPool, parse_base_urls

log = logging.getLogger(__name__)
DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
FRAMES_AS = ("images", "video")
IMAGE_FORMATS = {"jpeg": ("JPEG", "jpeg"), "jpg": ("JPEG", "jpeg"), "png": ("PNG", "png")}
CACHE_VERSION = 2
MM_REFUSED = ("backend 'openai': the server refused the frames' timing (media_io_kwargs: fps and frame indices, "
              "which set the model's temporal positions): {detail}. Restart it with `vllm serve ... "
              "--trust-request-mm-kwargs`, or pass --backend-option video_timing=false to send none (the server "
              "then assumes 1 fps; frames.time_instruction auto or always states the times in the prompt instead)")
#: failures that are about the setup, not the clip: generation stops with one message (SetupError)
SETUP_FAILURES = {
    "mm_kwargs_refused": lambda detail: MM_REFUSED.format(detail=detail),
    "servers_down": lambda detail: (f"backend 'openai': every server stopped answering ({detail}); finished "
                                    "chunks are kept, re-run the same command once a server is up"),
    "unauthorized": lambda detail: (f"backend 'openai': the server rejected the API key mid-run ({detail}); "
                                    "check the key in the variable named by api_key_env"),
    "model_not_found": lambda detail: (f"backend 'openai': the server no longer serves the model ({detail}); "
                                       "check --model and the server"),
}
#: counters a run's summary reports (backend events), taken per chunk by take_events()
EVENTS = ("failovers", "servers_down", "video_fallbacks")


def flag(value: Any, name: str) -> bool:
    """A boolean backend option, also from the command line's strings ("false", "0", "no")."""
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"backend 'openai': {name} must be true or false, got {value!r}")
    return bool(value)


def _httpx() -> Any:
    """The async HTTP client: httpx2 (installed with huggingface_hub) or httpx."""
    try:
        import httpx2 as httpx
    except ImportError:
        try:
            import httpx  # type: ignore[no-redef]
        except ImportError as exc:
            raise MissingDependencyError("backend 'openai' needs an HTTP client; install it with: "
                                         "pip install httpx") from exc
    return httpx


class OpenAIBackend(Backend):
    """Remote inference over the OpenAI chat-completions API. Options (besides the common ones,
    see Backend; ``model`` is the *served* model name):

    ``base_url`` (one server's /v1 root, or several as a list or comma-separated: requests go to
    the least busy, and a server that stops answering is taken out; default $OPENAI_BASE_URL or
    http://127.0.0.1:8000/v1), ``api_key_env`` (the
    environment variable holding the key, default OPENAI_API_KEY; unset is fine for local
    servers), ``concurrency`` (requests in flight, default 8), ``max_retries`` (default 3),
    ``timeout`` (seconds per attempt, default 120), ``backoff`` / ``max_backoff`` (seconds,
    default 0.5 / 30), ``cache_dir`` (request cache folder; default none), ``frames_as``
    ("images" or "video"), ``image_format`` ("jpeg" or "png"), ``jpeg_quality`` (default 90),
    ``image_detail`` (OpenAI's "low"/"high"/"auto"), ``system_prompt``, ``revision`` (recorded
    as the rows' model_revision, e.g. the served weights' commit), ``extra_body`` (dict merged
    into every request body, e.g. ``{"top_k": 1}`` or vLLM's ``mm_processor_kwargs``),
    ``video_timing`` (send media_io_kwargs with video parts, default true), ``video_fallback``
    (switch to image parts when the server refuses video, default true), ``generation_config``
    (path to a model folder or generation_config.json for logit_bias; "none" to send none;
    default: found as described above).
    """

    name = "openai"
    #: the served model is asked for at load(): --model may be left out when the server serves one
    model_optional: ClassVar[bool] = True
    #: Options that change speed or where answers come from, not the answers: a resumed run may
    #: change them (for GenerationConfig.signature, which today excludes top-level knobs only).
    performance_options: ClassVar[frozenset[str]] = frozenset(
        {"base_url", "api_key_env", "concurrency", "max_retries", "timeout", "backoff", "max_backoff", "cache_dir"})

    def __init__(self, *, base_url: str | list[str] | None = None, api_key_env: str = "OPENAI_API_KEY",
                 concurrency: int = 8, max_retries: int = 3, timeout: float = 120.0, backoff: float = 0.5,
                 max_backoff: float = 30.0, cache_dir: str | None = None, frames_as: str = "video",
                 image_format: str = "jpeg", jpeg_quality: int = 90, image_detail: str | None = None,
                 system_prompt: str | None = None, revision: str | None = None,
                 extra_body: dict[str, Any] | str | None = None, video_timing: bool | str = True,
                 video_fallback: bool | str = True, generation_config: str | None = None,
                 **options: Any) -> None:
        super().__init__(**options)
        try:
            self.concurrency, self.max_retries = int(concurrency), int(max_retries)
            self.timeout, self.backoff, self.max_backoff = float(timeout), float(backoff), float(max_backoff)
            self.jpeg_quality = int(jpeg_quality)
            extra_body = json.loads(extra_body) if isinstance(extra_body, str) else extra_body
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"backend 'openai': an option has the wrong type ({exc})") from None
        checks = [(self.concurrency >= 1, f"concurrency must be >= 1, got {concurrency}"),
                  (self.max_retries >= 0, f"max_retries must be >= 0, got {max_retries}"),
                  (self.timeout > 0 and min(self.backoff, self.max_backoff) >= 0,
                   "timeout must be > 0, backoff and max_backoff >= 0"),
                  (frames_as in FRAMES_AS, f"frames_as must be one of {', '.join(FRAMES_AS)}, got {frames_as!r}"),
                  (str(image_format).lower() in IMAGE_FORMATS,
                   f"image_format must be jpeg or png, got {image_format!r}"),
                  (1 <= self.jpeg_quality <= 100, f"jpeg_quality must be in 1..100, got {jpeg_quality}"),
                  (extra_body is None or isinstance(extra_body, dict), "extra_body must be a JSON object")]
        problems = [msg for ok, msg in checks if not ok]
        try:
            self.base_urls = parse_base_urls(base_url, DEFAULT_BASE_URL)
            self.base_url = self.base_urls[0]
        except ValueError as exc:
            problems.append(str(exc))
        if problems:
            raise ConfigError("invalid options for backend 'openai'", problems=problems)
        self.api_key_env = api_key_env
        self.cache_dir = cache_dir
        self.frames_as = frames_as
        self.image_format = str(image_format).lower()
        self.image_detail = image_detail
        self.system_prompt = system_prompt
        self.revision = revision
        self.extra_body: dict[str, Any] = dict(extra_body or {})
        self.video_timing = flag(video_timing, "video_timing")
        self.video_fallback = flag(video_fallback, "video_fallback")
        self.generation_config = generation_config
        self.logit_bias: dict[str, int] = {}
        self.min_tokens = 0
        self.generation_config_path: str | None = None
        self._video_refused = False
        self._pool = ServerPool.of(getattr(self, "base_urls", []))
        self._events_taken: Counter = Counter()
        #: requests (HTTP POSTs, retries included), retries, cache_hits, failures, http_s, encode_s
        self.stats: Counter = Counter()
        self.served_models: list[str] = []
        self._cache: RequestCache | None = None
        self._runner: Runner | None = None

    # ------------------------------------------------------------------ setup
    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env or "", "")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def load(self) -> None:
        """Ask each server once which models it serves: an unreachable server, a rejected key or a
        model it does not serve is one ConfigError here, not a skip row per sample. With several
        servers, one that cannot be reached is taken out (and counted) as long as another answers;
        every reachable one must serve the model."""
        if self._loaded:
            return
        httpx = _httpx()
        listed: list[tuple[str, list[str], dict[str, str]]] = []
        unreachable: list[str] = []
        with httpx.Client(timeout=min(self.timeout, 30.0)) as client:
            for server in self._pool.servers:
                url = f"{server.url}/models"
                try:
                    resp = client.get(url, headers=self._headers())
                except httpx.HTTPError as exc:
                    unreachable.append(f"cannot reach {url} ({type(exc).__name__}: {exc})")
                    self._pool.take_out(server, f"unreachable at start: {type(exc).__name__}")
                    self.stats["servers_down"] += 1
                    continue
                listed.append((server.url, *self._model_list(url, resp)))
        if not listed:
            raise ConfigError(
                f"backend 'openai': {'; '.join(unreachable)}. Fix: start the server "
                "(e.g. `vllm serve Qwen/Qwen2-VL-7B-Instruct --port 8000`) or pass the right base_url "
                "(backend option base_url or $OPENAI_BASE_URL, e.g. http://HOST:8000/v1)")
        first_url, self.served_models, roots = listed[0]
        if not self.model:
            if len(self.served_models) != 1:
                raise ConfigError(f"backend 'openai' needs the served model name (--model); {first_url}/models "
                                  f"serves: {', '.join(self.served_models) or '(no list)'}")
            self.model = self.served_models[0]
        for url, served, _ in listed:
            if served and self.model not in served:
                raise ConfigError(f"backend 'openai': model {self.model!r} is not served at {url}; it serves: "
                                  f"{', '.join(served[:20])}")
        self._load_generation_config(roots.get(str(self.model), ""))
        if self.cache_dir and self._cache is None:
            self._cache = RequestCache(self.cache_dir)
        if self._runner is None:
            self._runner = Runner(httpx, self._headers(), self.timeout, self.concurrency)
            weakref.finalize(self, self._runner.close)
        self._loaded = True

    def _model_list(self, url: str, resp: Any) -> tuple[list[str], dict[str, str]]:
        """(served model ids, their `root` paths) from one server's /models answer."""
        if resp.status_code in (401, 403):
            have = "is not set" if not os.environ.get(self.api_key_env or "") else "was rejected"
            raise ConfigError(f"backend 'openai': {url} answered {resp.status_code}; the API key in "
                              f"${self.api_key_env} {have}. Put the key in that variable or name another "
                              "with the backend option api_key_env")
        if resp.status_code == 404:    # some servers have no model list: the endpoint is up, go on
            log.warning("%s answered 404; not checking the model name", url)
            return [], {}
        if resp.status_code >= 400:
            raise ConfigError(f"backend 'openai': {url} answered {resp.status_code}: {error_text(resp)}")
        try:
            data = resp.json()["data"]
            return [str(m["id"]) for m in data], {str(m["id"]): str(m.get("root") or "") for m in data}
        except Exception:
            raise ConfigError(f"backend 'openai': {url} did not answer with an OpenAI model list "
                              f"({resp.text[:200]!r}); is base_url an OpenAI-compatible /v1 endpoint?") from None

    def _load_generation_config(self, served_root: str) -> None:
        """Token suppression from the model's generation_config.json, sent as logit_bias."""
        found = find_generation_config(self.generation_config, self.model, served_root)
        if found is None:
            return
        try:
            self.logit_bias, self.min_tokens, lost = generation_config_bias(found)
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(f"backend 'openai': cannot read {found}: {exc}") from None
        self.generation_config_path = str(found)
        if lost:
            log.warning("begin_suppress_tokens %s in %s cannot be sent (only a first end-of-text can, as "
                        "min_tokens)", lost[:10], found)

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (Ray ships backends to actors): the event loop, connections and cache handle
        stay behind and are made again by the first generate() after unpickling."""
        return {**self.__dict__, "_runner": None, "_cache": None, "_loaded": False}

    def close(self) -> None:
        """Close the connection pool and the cache (also done when the backend is collected)."""
        if self._runner is not None:
            self._runner.close()
            self._runner = None
        if self._cache is not None:
            self._cache.close()
            self._cache = None
        self._loaded = False

    # ------------------------------------------------------------------ provenance
    @property
    def model_name(self) -> str:
        return str(self.model or "")

    @property
    def model_revision(self) -> str | None:
        return self.revision

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "base_url": self.base_url if len(self.base_urls) == 1 else self.base_urls,
                "frames_as": self.frames_as,
                "image_format": self.image_format, "jpeg_quality": self.jpeg_quality,
                "system_prompt": self.system_prompt, "extra_body": self.extra_body,
                "video_timing": self.video_timing, "logit_bias_tokens": len(self.logit_bias),
                "min_tokens": self.min_tokens, "generation_config": self.generation_config_path}

    # ------------------------------------------------------------------ generation
    def generate(self, requests: list[Request]) -> list[Any]:
        self.ensure_loaded()
        out: list[Any] = [None] * len(requests)
        jobs = []
        for i, req in enumerate(requests):
            frames = req.frames
            if frames is None or getattr(frames, "array", None) is None or len(frames.array) == 0:
                out[i] = GenerationError("no_frames", "the request has no frames", sample_id=req.sample_id)
            else:
                jobs.append((i, req.prompt, frames, req.sample_id))
        self._answer(jobs, out)
        return out

    def generate_text(self, prompts: list[str], sample_ids: list[str] | None = None) -> list[Any]:
        """Text-only chat (no frames), e.g. for question generation; same retries, cache, failures."""
        self.ensure_loaded()
        out: list[Any] = [None] * len(prompts)
        ids = sample_ids or [""] * len(prompts)
        self._answer([(i, p, None, sid) for i, (p, sid) in enumerate(zip(prompts, ids))], out)
        return out

    def _sampling(self, sample_id: str, prompt: str) -> dict[str, Any]:
        """Sampling settings as sent. Sampled requests get their own seed, mixed from the run seed,
        the sample id and the prompt: reproducible per request, independent across requests."""
        seed = self.seed
        if self.temperature > 0:
            digest = hashlib.blake2b(f"{self.seed}\x00{sample_id}\x00{prompt}".encode(), digest_size=8).digest()
            seed = int.from_bytes(digest, "big") % (2**31)
        out: dict[str, Any] = {"max_tokens": self.max_new_tokens, "temperature": self.temperature,
                               "top_p": self.top_p, "seed": seed}
        if self.logit_bias:
            out["logit_bias"] = self.logit_bias
        if self.min_tokens:
            out["min_tokens"] = self.min_tokens
        return out

    @property
    def sends_video(self) -> bool:
        return self.frames_as == "video" and not self._video_refused

    @property
    def reads_frame_times(self) -> bool:
        """The server gets the frames' timing only with a video part and ``video_timing`` on;
        otherwise generation states the times in the prompt (frames.time_instruction)."""
        return self.sends_video and self.video_timing

    def _key(self, prompt: str, frames: Any, sample_id: str) -> str:
        visual = None
        if frames is not None:
            visual = {"indices": [int(x) for x in frames.indices], "digest": array_digest(frames.array),
                      "as": "video" if self.sends_video else "images", "format": self.image_format,
                      "timing": media_io_kwargs(frames) if self.sends_video and self.video_timing else None,
                      "quality": self.jpeg_quality if self.image_format != "png" else None,
                      "detail": self.image_detail}
        return request_key({"v": CACHE_VERSION, "model": self.model, "id": sample_id, "frames": visual,
                            "prompt": prompt, "system": self.system_prompt,
                            "sampling": self._sampling(sample_id, prompt), "extra": self.extra_body})

    def _answer(self, jobs: list[tuple[int, str, Any, str]], out: list[Any]) -> None:
        """Fill `out` for `jobs` from the cache, then from the server; store new answers."""
        if not jobs:
            return
        keys = {i: self._key(p, f, sid) for i, p, f, sid in jobs} if self._cache is not None else {}
        cached = self._cache.get_many(keys.values()) if self._cache is not None else {}
        todo = []
        for job in jobs:
            hit = cached.get(keys.get(job[0], ""))
            if hit is not None:
                out[job[0]] = hit["answer"]
                self.stats["cache_hits"] += 1
            else:
                todo.append(job)
        if not todo:
            return
        assert self._runner is not None
        results = self._runner.run(self._gather(todo))
        setup = next((r for r in results if isinstance(r, GenerationError) and r.reason in SETUP_FAILURES), None)
        if setup is not None:
            raise SetupError(SETUP_FAILURES[setup.reason](setup.detail))
        fresh = {}
        for (i, *_), res in zip(todo, results):
            out[i] = res
            if isinstance(res, str) and self._cache is not None:
                fresh[keys[i]] = {"answer": res, "model": self.model}
            elif not isinstance(res, str):
                self.stats["failures"] += 1
        if self._cache is not None:
            self._cache.put_many(fresh)

    async def _gather(self, jobs: list[tuple[int, str, Any, str]]) -> list[Any]:
        runner = self._runner
        assert runner is not None
        runner.start()
        return list(await asyncio.gather(*(self._one(runner, *job[1:]) for job in jobs)))

    def _body(self, prompt: str, frames: Any, sample_id: str, as_video: bool) -> tuple[bytes, float]:
        """The request body as bytes and the seconds it took (frames are encoded here, in a worker
        thread; the bytes are reused on retries)."""
        t0 = time.perf_counter()
        content: list[dict[str, Any]] = []
        timing: dict[str, Any] = {}
        if frames is not None:
            fmt, sub = IMAGE_FORMATS[self.image_format]
            images = encode_frames(frames.array, fmt, self.jpeg_quality)
            if as_video:
                content.append(video_part(images))
                if self.video_timing:
                    timing = {"media_io_kwargs": media_io_kwargs(frames)}
            else:
                extra = {"detail": self.image_detail} if self.image_detail else {}
                content += [{"type": "image_url", "image_url": {"url": f"data:image/{sub};base64,{b}", **extra}}
                            for b in images]
        content.append({"type": "text", "text": prompt})
        messages: list[dict[str, Any]] = []
        if self.system_prompt:
            messages.append({"role": "system", "content": self.system_prompt})
        messages.append({"role": "user", "content": content})
        body = {"model": self.model, "messages": messages, "n": 1, "stream": False,
                **self._sampling(sample_id, prompt), **timing, **self.extra_body}
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return data, time.perf_counter() - t0

    async def _one(self, runner: "Runner", prompt: str, frames: Any, sample_id: str) -> Any:
        """One request with retries; a server that refuses video parts is asked again with image
        parts (and gets images from then on). Never raises (except cancellation)."""
        answer = await self._send(runner, prompt, frames, sample_id, True)
        if isinstance(answer, GenerationError) and answer.reason == "video_refused" and self.video_fallback:
            if not self._video_refused:
                log.warning("the server refused a video part (%s); sending frames as image parts from now on",
                            answer.detail)
                self._video_refused = True
            self.stats["video_fallbacks"] += 1
            answer = await self._send(runner, prompt, frames, sample_id, False)
        return answer

    async def _send(self, runner: "Runner", prompt: str, frames: Any, sample_id: str, allow_video: bool) -> Any:
        """One request on the least busy server, with retries there; when they run out on a
        server-level failure and the server no longer answers, the server is taken out and the
        request goes to another one (a failover). No server left: a `servers_down` failure."""
        async with runner.semaphore:
            as_video = allow_video and frames is not None and self.sends_video   # decided when it goes out
            try:
                body, seconds = await asyncio.get_running_loop().run_in_executor(
                    None, self._body, prompt, frames, sample_id, as_video)
                self.stats["encode_s"] += seconds
            except Exception as exc:
                return GenerationError("encode_failed", f"{type(exc).__name__}: {exc}", sample_id=sample_id)
            moved = False
            while True:
                server = self._pool.pick()
                if server is None:
                    return GenerationError("servers_down", self._pool.down_text(), sample_id=sample_id)
                if moved:
                    self.stats["failovers"] += 1
                server.outstanding += 1
                try:
                    answer = await self._attempts(runner, server, body, sample_id)
                finally:
                    server.outstanding -= 1
                if answer is None:       # the server was taken out while this request waited on it
                    moved = True
                    continue
                if (isinstance(answer, GenerationError) and answer.reason in SERVER_FAILURES
                        and not await self._still_serving(runner, server)):
                    if self._pool.take_out(server, f"{answer.reason}: {answer.detail}"):
                        self.stats["servers_down"] += 1
                    moved = True
                    continue
                if isinstance(answer, str):
                    server.answered += 1
                return answer

    async def _attempts(self, runner: "Runner", server: Server, body: bytes, sample_id: str) -> Any:
        """The answer, a GenerationError once the retries are used up, or None when another
        request took the server out meanwhile (the caller picks another server)."""
        httpx = runner.httpx
        reason, detail, wait = "generation_failed", "", None
        for attempt in range(self.max_retries + 1):
            if attempt:
                self.stats["retries"] += 1
                await asyncio.sleep(self._delay(attempt, wait))
            if server.down:
                return None
            self.stats["requests"] += 1
            t0 = time.perf_counter()
            try:
                resp = await runner.client.post(f"{server.url}/chat/completions", content=body)
            except httpx.TimeoutException as exc:
                reason, wait = "timeout", None
                detail = f"no answer within {self.timeout:g} s ({type(exc).__name__})"
                continue
            except httpx.HTTPError as exc:
                reason, detail, wait = "connection_error", f"{type(exc).__name__}: {exc}", None
                continue
            finally:
                self.stats["http_s"] += time.perf_counter() - t0
            answer, reason, detail, retry, wait = read_response(resp)
            if answer is not None:
                return answer
            if not retry:
                return GenerationError(reason, detail, sample_id=sample_id)
        tries = self.max_retries + 1
        return GenerationError(reason, f"{detail} (gave up after {tries} attempt{'s' * (tries > 1)})",
                               sample_id=sample_id)

    async def _still_serving(self, runner: "Runner", server: Server) -> bool:
        """Whether `server` still answers its model list: if it does, a request's failure was the
        request's (a skip row); if not, the server is gone (a failover)."""
        if server.down:
            return False
        try:
            resp = await runner.client.get(f"{server.url}/models", timeout=min(self.timeout, 10.0))
        except runner.httpx.HTTPError:
            return False
        return resp.status_code < 500

    def take_events(self) -> dict[str, int]:
        """Failovers, servers taken out and video fallbacks since the last call (for the run's
        summary, chunk by chunk)."""
        now = {k: int(self.stats[k]) for k in EVENTS}
        delta = {k: v - self._events_taken[k] for k, v in now.items() if v - self._events_taken[k]}
        self._events_taken.update(delta)
        return delta

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with jitter; a server's Retry-After wins (both capped)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_backoff)
        return min(self.max_backoff, self.backoff * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)

