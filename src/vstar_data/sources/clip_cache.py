"""The local copies of clips read from a video URL: a bounded on-disk LRU (`VideoCache`) keyed by
URL, size and ETag / modification time, so a changed object is fetched again and never mixed up
with its old copy; `video_cache` gives the process one cache per `videos_cache` setting."""
from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigError

# fsspec info keys that change when an object's content does, in order of preference
_VERSION_KEYS = ("ETag", "etag", "md5Hash", "Content-MD5", "LastModified", "Last-Modified", "last_modified",
                 "updated", "mtime", "created")
DEFAULT_CACHE_GB = 20.0   # the run config's default too (config.DEFAULTS["videos_cache"])


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/vstar-data/videos`` (``~/.cache/...`` when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vstar-data" / "videos"


def version_of(info: dict[str, Any]) -> str | None:
    """An object's version from its fsspec info: ETag (or a hash) first, else its modification time."""
    for key in _VERSION_KEYS:
        if info.get(key) not in (None, ""):
            return str(info[key])
    return None


class VideoCache:
    """Remote clips copied to local files, at most `max_bytes` in all (least recently used go first).

    A file is named by a hash of URL, size and version, written to a temporary name and renamed
    into place (a reader never sees half a clip; processes may share the folder). A hit touches
    the file's modification time, which is the LRU order. The clip just fetched is never evicted,
    even when it alone is larger than the bound (it is counted in `oversized`).
    """

    def __init__(self, folder: str | Path, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ConfigError(f"videos_cache max_gb must be > 0, got {max_bytes / 1e9:g}", key="videos_cache.max_gb")
        self.folder = Path(folder).expanduser()
        self.max_bytes = int(max_bytes)
        self.stats = {"hits": 0, "fetched": 0, "evicted": 0, "oversized": 0}
        self._lock = threading.Lock()

    def fetch(self, fs: Any, path: str, url: str, info: dict[str, Any]) -> Path:
        """The local copy of `url` (read from `fs` at `path`), fetched unless already cached."""
        size, version = info.get("size"), version_of(info)
        suffix = PurePosixPath(urlsplit(url).path).suffix[:8]
        key = hashlib.sha256(f"{url}\0{size}\0{version}".encode()).hexdigest()[:32] + suffix
        target = self.folder / key
        if target.is_file():
            os.utime(target)
            with self._lock:
                self.stats["hits"] += 1
            return target
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{key}.{os.getpid()}.{threading.get_ident()}.part"
        try:
            fs.get_file(path, str(tmp))
            got = tmp.stat().st_size
            if size is not None and got != size:
                raise OSError(f"download of {url} stopped at {got} of {size} bytes")
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        with self._lock:
            self.stats["fetched"] += 1
            self._evict(keep=target)
        return target

    def size(self) -> int:
        """Bytes the cached clips take now."""
        return sum(size for _, size, _ in self._entries())

    def _entries(self) -> list[tuple[Path, int, int]]:
        out = []
        try:
            with os.scandir(self.folder) as it:
                for e in it:
                    if e.name.startswith(".") or not e.is_file():
                        continue
                    try:
                        st = e.stat()
                    except OSError:   # evicted by another process meanwhile
                        continue
                    out.append((Path(e.path), st.st_size, st.st_mtime_ns))
        except FileNotFoundError:
            pass
        return out

    def _evict(self, keep: Path) -> None:
        entries = self._entries()
        total = sum(size for _, size, _ in entries)
        for path, size, _ in sorted(entries, key=lambda e: e[2]):
            if total <= self.max_bytes:
                return
            if path == keep:
                continue
            path.unlink(missing_ok=True)
            total -= size
            self.stats["evicted"] += 1
        if total > self.max_bytes:
            self.stats["oversized"] += 1


_caches: dict[tuple[str, int], VideoCache] = {}
_caches_lock = threading.Lock()


def video_cache(settings: dict[str, Any] | None = None) -> VideoCache:
    """The process's `VideoCache` for run-config settings ``{dir, max_gb}`` (defaults: the user
    cache folder, 20 GB); one object per setting, so its counters cover the whole run."""
    settings = settings or {}
    folder = str(Path(settings.get("dir") or default_cache_dir()).expanduser())
    max_gb = settings.get("max_gb")
    max_bytes = int(float(DEFAULT_CACHE_GB if max_gb is None else max_gb) * 1e9)
    with _caches_lock:
        cache = _caches.get((folder, max_bytes))
        if cache is None:
            cache = _caches[(folder, max_bytes)] = VideoCache(folder, max_bytes)
    return cache
