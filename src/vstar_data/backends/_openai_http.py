"""HTTP plumbing of the openai backend: response parsing, retry hints, frame encoding, URL
normalisation and the private event loop that runs requests concurrently."""
from __future__ import annotations

import asyncio
import base64
import io
import threading
from typing import Any, Callable
from urllib.parse import urlsplit

_RETRY_STATUS = frozenset({408, 409, 425, 429})
_TOO_LONG = ("context length", "maximum context", "too long", "max_model_len", "exceeds the model")

#: The data-URL label of a frame-list video. vLLM splits only lists labelled video/jpeg into frames
#: (any other video/* is decoded as one file) and decodes each frame with PIL, so PNG frames travel
#: under this label too.
VIDEO_MIME = "video/jpeg"
TRUST_FLAG = "--trust-request-mm-kwargs"


def video_part(images: list[str]) -> dict[str, Any]:
    """One `video_url` part holding every frame (base64 JPEG or PNG), as vLLM reads a frame list."""
    return {"type": "video_url", "video_url": {"url": f"data:{VIDEO_MIME};base64," + ",".join(images)}}


def media_io_kwargs(frames: Any) -> dict[str, Any]:
    """The frames' timing for vLLM (request field `media_io_kwargs`): without it the server
    assumes 1 fps and frames 0..N-1, and the model's temporal positions are wrong."""
    n = len(frames.array)
    total = max(int(getattr(frames, "total_frames", n) or n), n)
    fps = float(getattr(frames, "fps", 0) or 0) or 1.0
    duration = float(getattr(frames, "duration", 0) or 0) or total / fps
    return {"video": {"fps": fps, "frames_indices": [int(i) for i in frames.indices],
                      "total_num_frames": total, "duration": duration}}


def generation_config_bias(path: Any) -> tuple[dict[str, int], int, list[int]]:
    """(logit_bias, min_tokens, begin-suppressed ids that cannot be sent) from a model's
    generation_config.json: vLLM ignores `suppress_tokens` / `begin_suppress_tokens` stored there.
    `suppress_tokens` become bias -100; a suppressed first end-of-sequence becomes min_tokens 1."""
    import json
    from pathlib import Path

    cfg = json.loads(Path(path).read_text("utf-8"))
    suppress = [int(t) for t in cfg.get("suppress_tokens") or []]
    begin = [int(t) for t in cfg.get("begin_suppress_tokens") or []]
    eos = cfg.get("eos_token_id")
    eos_ids = {int(e) for e in (eos if isinstance(eos, list) else [eos]) if e is not None}
    min_tokens = 1 if eos_ids and eos_ids & set(begin) else 0
    lost = sorted(set(begin) - set(suppress) - eos_ids)
    return {str(t): -100 for t in suppress}, min_tokens, lost


MM_REFUSED = ("backend 'openai': the server refused the frames' timing (media_io_kwargs: fps and frame indices, "
              "which set the model's temporal positions): {detail}. Restart it with `vllm serve ... "
              "--trust-request-mm-kwargs`, or pass --backend-option video_timing=false to send none (the server "
              "then assumes 1 fps)")


def find_generation_config(choice: str | None, model: str | None, served_root: str) -> Any:
    """The generation_config.json to read: `choice` (a file or folder; "none" for none), else the
    local model folder, else the served model's root when it is visible here; None if none."""
    from pathlib import Path

    from ..errors import ConfigError

    if choice is not None and str(choice).lower() == "none":
        return None
    for cand in filter(None, [choice] if choice else [model, served_root]):
        path = Path(str(cand))
        path = path / "generation_config.json" if path.is_dir() else path
        if path.is_file() and path.name.endswith(".json"):
            return path
    if choice:
        raise ConfigError(f"backend 'openai': generation_config {choice!r} is not a generation_config.json "
                          "or a folder holding one")
    return None


def flag(value: Any, name: str) -> bool:
    """A boolean backend option, also from the command line's strings ("false", "0", "no")."""
    from ..errors import ConfigError

    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"backend 'openai': {name} must be true or false, got {value!r}")
    return bool(value)


def read_response(resp: Any) -> tuple[str | None, str, str, bool, float | None]:
    """(answer, reason, detail, retryable, retry_after) for one chat-completions response."""
    status = resp.status_code
    if status != 200:
        text = _error_text(resp)
        wait = _retry_after(resp)
        low = text.lower()
        if status in (400, 403, 422) and ("media_io_kwargs" in low or TRUST_FLAG in low):
            return None, "mm_kwargs_refused", (f"HTTP {status}: {text} (start the server with {TRUST_FLAG}, "
                                               "or set the backend option video_timing=false)"), False, None
        if status in (400, 415, 422) and "video" in low and not any(s in low for s in _TOO_LONG):
            return None, "video_refused", f"HTTP {status}: {text}", False, None
        if status == 429:
            return None, "rate_limited", f"HTTP 429: {text}", True, wait
        if status >= 500 or status in _RETRY_STATUS:
            return None, "server_error", f"HTTP {status}: {text}", True, wait
        if status in (401, 403):
            return None, "unauthorized", f"HTTP {status}: {text}", False, None
        if status == 404:
            return None, "model_not_found", f"HTTP 404: {text}", False, None
        if any(s in text.lower() for s in _TOO_LONG):
            return None, "prompt_too_long", f"HTTP {status}: {text}", False, None
        return None, "request_rejected", f"HTTP {status}: {text}", False, None
    try:
        data = resp.json()
        message = data["choices"][0]["message"]
    except Exception:
        return None, "malformed_response", f"not a chat completion: {resp.text[:200]!r}", True, None
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, list):   # a few servers answer with content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if not isinstance(content, str):
        return None, "empty_response", f"the answer has no text content ({str(message)[:200]})", False, None
    return content.strip(), "", "", False, None


def _error_text(resp: Any) -> str:
    try:
        data = resp.json()
        err = data.get("error", data) if isinstance(data, dict) else data
        msg = err.get("message", err) if isinstance(err, dict) else err
        return str(msg)[:300]
    except Exception:
        return resp.text[:300]


def _retry_after(resp: Any) -> float | None:
    try:
        return float(resp.headers.get("retry-after"))
    except (TypeError, ValueError):
        return None


def encode_frames(array: Any, fmt: str = "JPEG", quality: int = 90) -> list[str]:
    """Each uint8 RGB frame as base64 JPEG (lossy) or PNG (lossless, fast compression)."""
    from PIL import Image

    out = []
    for frame in array:
        buf = io.BytesIO()
        if fmt == "PNG":
            Image.fromarray(frame).save(buf, "PNG", compress_level=1)
        else:
            Image.fromarray(frame).save(buf, "JPEG", quality=quality)
        out.append(base64.b64encode(buf.getvalue()).decode("ascii"))
    return out


def _normalise_url(url: str) -> str:
    """'http://h:8000', 'http://h:8000/v1/' and '.../v1/chat/completions' all mean '.../v1'."""
    url = url.strip().rstrip("/")
    for suffix in ("/chat/completions", "/models"):
        if url.endswith(suffix):
            url = url[: -len(suffix)]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"base_url must be an http(s) URL such as http://127.0.0.1:8000/v1, got {url!r}")
    return url + "/v1" if not parts.path else url


class _Runner:
    """A private event loop in a daemon thread: one connection pool for the backend's lifetime,
    callable from any thread, including code that already runs its own event loop."""

    def __init__(self, httpx: Any, headers: dict[str, str], timeout: float, concurrency: int) -> None:
        self.httpx = httpx
        self._make: Callable[[], Any] = lambda: httpx.AsyncClient(
            headers=headers, timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency))
        self.concurrency = concurrency
        self.client: Any = None
        self.semaphore: asyncio.Semaphore | None = None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="vstar-openai", daemon=True)
        self.thread.start()

    def start(self) -> None:
        """Create the client and semaphore on the loop (called from a coroutine)."""
        if self.client is None:
            self.client = self._make()
            self.semaphore = asyncio.Semaphore(self.concurrency)

    def run(self, coro: Any) -> Any:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    def close(self) -> None:
        if self.loop.is_closed():
            return
        if self.client is not None and self.thread.is_alive():
            try:
                asyncio.run_coroutine_threadsafe(self.client.aclose(), self.loop).result(timeout=5)
            except Exception:
                pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        if not self.thread.is_alive():
            self.loop.close()
