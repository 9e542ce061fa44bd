"""A small OpenAI-compatible chat-completions server on loopback, for tests and benchmarks.

`LoopbackServer(backend)` answers ``POST /v1/chat/completions`` with a loaded
TransformersBackend (so answers are real model output): it decodes the request's image parts
(or a vLLM-style ``data:video/jpeg;base64,f1,f2,...`` video part) back into frames and asks the
backend, with the request's max_tokens / temperature / top_p / seed. Text-only requests go
through its `generate_text`. Without a backend it echoes (``echo N frames: PROMPT``).
``GET /v1/models`` lists the served name; ``GET /v1/_stats`` and ``POST /v1/_reset`` let a
client in another process read and clear the request count and handler times.

Failure modes for tests: ``rule(body, attempt) -> mode``, where attempt counts earlier requests
with the same body, picks one of ``ok``, ``error500``, ``rate_limit`` (429, Retry-After 0),
``timeout`` (hangs `hang_s`, longer than the client waits), ``malformed`` (invalid JSON),
``no_choices`` (JSON without choices), ``drop`` (closes the connection), ``bad_request`` (400),
``refuse_video`` / ``refuse_mm_kwargs`` (400 with the messages of a server that takes no video
part, or of vLLM started without --trust-request-mm-kwargs; applied to requests that carry one).
`latency` adds a fixed sleep to every answer (benchmarks); `server_s` records the handler time
of each request, so a client's overhead is its latency minus that.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import numpy as np

MODES = ("ok", "error500", "rate_limit", "timeout", "malformed", "no_choices", "drop", "bad_request",
         "refuse_video", "refuse_mm_kwargs")
Rule = Callable[[dict[str, Any], int], str]


def decode_data_urls(url: str) -> list[np.ndarray]:
    """Frames from an image data URL, or from a video data URL of comma-separated images."""
    from PIL import Image

    head, _, data = url.partition(",")
    if not head.startswith("data:") or ";base64" not in head:
        raise ValueError(f"only base64 data URLs are supported, got {head[:40]!r}")
    chunks = data.split(",") if head.startswith("data:video/") else [data]
    return [np.asarray(Image.open(io.BytesIO(base64.b64decode(c))).convert("RGB")) for c in chunks]


def parse_messages(body: dict[str, Any], decode: bool = True) -> tuple[str, list[Any]]:
    """The last user message's text and frames (images in order, or the video's frames); with
    decode=False the frames are left as base64 text (echo mode counts them without the cost)."""
    user = [m for m in body["messages"] if m.get("role") == "user"][-1]
    content = user["content"]
    if isinstance(content, str):
        return content, []
    texts, frames = [], []
    for part in content:
        if part["type"] == "text":
            texts.append(part["text"])
        elif part["type"] in ("image_url", "video_url"):
            url = part[part["type"]]["url"]
            frames += decode_data_urls(url) if decode else url.partition(",")[2].split(",")
        else:
            raise ValueError(f"unsupported content part {part['type']!r}")
    return "\n".join(texts), frames


class LoopbackServer:
    """Threaded HTTP/1.1 server on 127.0.0.1 (a free port); use as a context manager."""

    def __init__(self, backend: Any = None, *, model_name: str = "tiny-vlm", latency: float = 0.0,
                 rule: Rule | None = None, hang_s: float = 5.0, fps: float = 2.0,
                 api_key: str | None = None) -> None:
        self.backend = backend
        self.model_name = model_name
        self.latency = latency
        self.rule = rule
        self.hang_s = hang_s
        self.fps = fps
        self.api_key = api_key
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.modes: Counter = Counter()
        self.attempts: Counter = Counter()
        self.server_s: list[float] = []
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()        # counters
        self._model_lock = threading.Lock()  # one generate at a time
        self._closing = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def reset(self) -> None:
        with self._lock:
            self.requests = 0
            self.modes.clear()
            self.attempts.clear()
            self.server_s.clear()
            self.bodies.clear()
            self.max_in_flight = 0

    def start(self) -> "LoopbackServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True   # headers and body go out as separate writes

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _authorised(self) -> bool:
                if server.api_key and self.headers.get("Authorization") != f"Bearer {server.api_key}":
                    self._json(401, {"error": {"message": "invalid API key"}})
                    return False
                return True

            def do_GET(self) -> None:
                if not self._authorised():
                    return
                if self.path.rstrip("/") == "/v1/_stats":   # for a client in another process (benchmarks)
                    with server._lock:
                        self._json(200, {"requests": server.requests, "server_s": server.server_s})
                elif self.path.rstrip("/") == "/v1/models":
                    self._json(200, {"object": "list", "data": [{"id": server.model_name, "object": "model",
                                                                  "owned_by": "loopback"}]})
                else:
                    self._json(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:
                t0 = time.perf_counter()
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if not self._authorised():
                    return
                if self.path.rstrip("/") == "/v1/_reset":
                    server.reset()
                    return self._json(200, {"ok": True})
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._json(404, {"error": {"message": f"no route {self.path}"}})
                    return
                try:
                    body = json.loads(raw)
                except ValueError:
                    self._json(400, {"error": {"message": "body is not JSON"}})
                    return
                digest = hashlib.sha256(raw).hexdigest()
                with server._lock:
                    server.requests += 1
                    attempt = server.attempts[digest]
                    server.attempts[digest] += 1
                    server.bodies.append(body)
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                mode = server.rule(body, attempt) if server.rule else "ok"
                with server._lock:
                    server.modes[mode] += 1
                try:
                    self._answer(mode, body)
                finally:
                    with server._lock:
                        server.in_flight -= 1
                        server.server_s.append(time.perf_counter() - t0)

            def _answer(self, mode: str, body: dict[str, Any]) -> None:
                if mode == "timeout":
                    server._closing.wait(server.hang_s)
                    mode = "ok"
                if mode == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if mode == "error500":
                    return self._json(500, {"error": {"message": "internal error (scripted)"}})
                if mode == "rate_limit":
                    return self._json(429, {"error": {"message": "slow down (scripted)"}}, {"Retry-After": "0"})
                if mode == "bad_request":
                    return self._json(400, {"error": {"message": "bad request (scripted)"}})
                has_video = any(p.get("type") == "video_url" for m in body["messages"]
                                if isinstance(m.get("content"), list) for p in m["content"])
                if mode == "refuse_video" and has_video:
                    return self._json(400, {"error": {"message": "At most 0 video(s) may be provided in one prompt."}})
                if mode == "refuse_mm_kwargs" and body.get("media_io_kwargs"):
                    return self._json(400, {"error": {"message": (
                        "Per-request media_io_kwargs are disabled by default because they can change multimodal "
                        "media loading resource usage. Start the server with --trust-request-mm-kwargs only when "
                        "clients are trusted.")}})
                if mode == "malformed":
                    return self._send(200, b'{"id": "x", "choices": [', "application/json")
                if mode == "no_choices":
                    return self._json(200, {"id": "x", "object": "chat.completion"})
                if server.latency:
                    time.sleep(server.latency)
                try:
                    text = server.complete(body)
                except Exception as exc:
                    return self._json(400, {"error": {"message": f"{type(exc).__name__}: {exc}"}})
                self._json(200, {"id": "chatcmpl-loopback", "object": "chat.completion", "created": int(time.time()),
                                 "model": server.model_name,
                                 "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                              "finish_reason": "stop"}],
                                 "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}})

            def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
                self._send(status, json.dumps(obj).encode(), "application/json", headers)

            def _send(self, status: int, data: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout mode)
                    self.close_connection = True

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="loopback-openai", daemon=True)
        self._thread.start()
        return self

    def complete(self, body: dict[str, Any]) -> str:
        """The answer text for one chat-completions body."""
        prompt, frames = parse_messages(body, decode=self.backend is not None)
        if self.backend is None:
            return f"echo {len(frames)} frames: {prompt}"
        from vstar_data.backends.base import Request
        from vstar_data.video.frames import Frames

        with self._model_lock:
            b = self.backend
            b.max_new_tokens = int(body.get("max_tokens") or body.get("max_completion_tokens") or b.max_new_tokens)
            b.temperature = float(body.get("temperature") or 0.0)
            b.top_p = float(body.get("top_p") or 1.0)
            b.seed = int(body.get("seed") or 0)
            if not frames:
                out = b.generate_text([prompt])[0]
            else:
                n = len(frames)
                arr = np.stack(frames)
                fr = Frames(array=arr, indices=list(range(n)), timestamps=[i / self.fps for i in range(n)],
                            fps=self.fps, duration=n / self.fps, total_frames=n, source="loopback")
                out = b.generate([Request(frames=fr, prompt=prompt)])[0]
        if isinstance(out, BaseException):
            raise out
        return out

    def stop(self) -> None:
        self._closing.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "LoopbackServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def main() -> None:
    """`python tests/backends/openai_server.py [--model DIR] [--latency S]`: serve until killed;
    the first line printed is the URL."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="transformers model folder (default: echo)")
    ap.add_argument("--latency", type=float, default=0.0)
    args = ap.parse_args()
    backend = None
    if args.model:
        from vstar_data.backends.transformers import TransformersBackend

        backend = TransformersBackend(model=args.model)
        backend.load()
    with LoopbackServer(backend, latency=args.latency) as server:
        print(f"serving on {server.url} (Ctrl-C to stop)", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
