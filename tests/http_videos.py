"""A plain HTTP file server on loopback (`python -m http.server`'s handler, in a thread) serving a
tmp folder of the fixture clips: what `--videos http://127.0.0.1:PORT/` reads in tests."""
from __future__ import annotations

import shutil
import socket
import threading
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator


class _Quiet(SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the stdlib's name
        pass

    def send_head(self):  # type: ignore[no-untyped-def]
        type(self).requests.append(self.path)
        return super().send_head()


@contextmanager
def serve(folder: Path) -> Iterator[tuple[str, list[str]]]:
    """(root URL, the request paths it received) while `folder` is served on 127.0.0.1."""
    handler = type("Handler", (_Quiet,), {"requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", handler.requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def served_clips(videos_dir: Path, dest: Path, copies: tuple[str, ...] = ()) -> Path:
    """`dest` holding a symlink to every fixture clip, or a real copy for the names in `copies`
    (a test may change those without touching the shared fixtures)."""
    dest.mkdir(parents=True, exist_ok=True)
    for clip in sorted(videos_dir.iterdir()):
        if clip.name in copies:
            shutil.copyfile(clip, dest / clip.name)
        else:
            (dest / clip.name).symlink_to(clip)
    return dest


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
