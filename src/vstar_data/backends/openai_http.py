"""The openai backend's HTTP side: a connection pool on a private event loop (`Runner`), the base
URL in its one canonical form, and one chat-completions response read into an answer or a failure
reason with its retry hint. What a request carries is built in openai_request.py.
"""
from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable
from urllib.parse import urlsplit

_RETRY_STATUS = frozenset({408, 409, 425, 429})
_TOO_LONG = ("context length", "maximum context", "too long", "max_model_len", "exceeds the model")

TRUST_FLAG = "--trust-request-mm-kwargs"



def read_response(resp: Any) -> tuple[str | None, str, str, bool, float | None]:
    """(answer, reason, detail, retryable, retry_after) for one chat-completions response."""
    status = resp.status_code
    if status != 200:
        text = error_text(resp)
        wait = _retry_after(resp)
        low = text.lower()
        if status in (400, 403, 422) and ("media_io_kwargs" in low or TRUST_FLAG in low):
            return None, "mm_kwargs_refused", f"HTTP {status}: {text}", False, None
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


def error_text(resp: Any) -> str:
    """The server's error message (its JSON `error.message`, else the body), cut to 300 chars."""
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


def normalise_url(url: str) -> str:
    """'http://h:8000', 'http://h:8000/v1/' and '.../v1/chat/completions' all mean '.../v1'."""
    url = url.strip().rstrip("/")
    for suffix in ("/chat/completions", "/models"):
        if url.endswith(suffix):
            url = url[: -len(suffix)]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"base_url must be an http(s) URL such as http://127.0.0.1:8000/v1, got {url!r}")
    return url + "/v1" if not parts.path else url


class Runner:
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
