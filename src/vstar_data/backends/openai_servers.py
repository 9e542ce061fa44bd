"""Several OpenAI-compatible servers behind one backend: requests go to the healthy server with
the fewest outstanding requests, and a server that stops answering is taken out for the rest of
the run (its requests go to the others). With no server left the run stops: that is the setup
failing, not a clip.

Which failure means "the server is gone" and which "this request failed" is decided by asking
the server: after a request used up its retries with a connection error, a timeout or a 5xx, the
server's model list (``GET /models``) is fetched once; a server that still answers it keeps
serving (the request becomes its own skip row), one that does not is taken out.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from .openai_http import normalise_url

log = logging.getLogger(__name__)
#: failures after which the server itself is checked (the request may be fine on another one)
SERVER_FAILURES = frozenset({"connection_error", "server_error", "timeout"})


def parse_base_urls(value: str | list[str] | tuple[str, ...] | None, default: str) -> list[str]:
    """The servers' /v1 roots from the option (a list, or one string with comma-separated URLs:
    ``--backend-option base_url=URL1,URL2``), else $OPENAI_BASE_URL (also comma-separated), else
    the default. Raises ValueError naming a malformed or repeated URL."""
    if value is None or value == "" or value == []:
        value = os.environ.get("OPENAI_BASE_URL") or default
    items = value.split(",") if isinstance(value, str) else list(value)
    if not all(isinstance(u, str) for u in items):
        raise ValueError(f"base_url must be a URL or a list of URLs, got {value!r}")
    urls = [normalise_url(u) for u in items if u.strip()]
    if not urls:
        raise ValueError(f"base_url names no server: {value!r}")
    seen = {u for u in urls if urls.count(u) > 1}
    if seen:
        raise ValueError(f"base_url names a server twice: {', '.join(sorted(seen))}")
    return urls


@dataclass
class Server:
    url: str
    outstanding: int = 0     # requests sent and not yet answered
    answered: int = 0
    down: str = ""           # why it was taken out ("" while it serves)


@dataclass
class ServerPool:
    """The servers of one backend and their load; used from the backend's one event loop."""

    servers: list[Server]
    turn: int = 0

    @classmethod
    def of(cls, urls: list[str]) -> "ServerPool":
        return cls([Server(u) for u in urls])

    @property
    def healthy(self) -> list[Server]:
        return [s for s in self.servers if not s.down]

    def pick(self) -> Server | None:
        """The healthy server with the fewest outstanding requests (ties in turn); None when every
        server is down."""
        live = self.healthy
        if not live:
            return None
        least = min(s.outstanding for s in live)
        tied = [s for s in live if s.outstanding == least]
        self.turn += 1
        return tied[self.turn % len(tied)]

    def take_out(self, server: Server, why: str) -> bool:
        """Mark `server` down; False when it already was (another request got there first)."""
        if server.down:
            return False
        server.down = why or "no answer"
        left = len(self.healthy)
        log.warning("openai backend: %s is not answering (%s); taken out, %d server%s left",
                    server.url, server.down, left, "" if left == 1 else "s")
        return True

    def down_text(self) -> str:
        return "; ".join(f"{s.url} ({s.down})" for s in self.servers if s.down)

    def describe(self) -> list[dict[str, Any]]:
        return [{"url": s.url, "answered": s.answered, "down": s.down or None} for s in self.servers]
