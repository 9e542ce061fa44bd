"""Where clips live: a local folder or an fsspec URL (``s3://``, ``gs://``, ``https://``, ...).

Every read of a video folder goes through `VideoStore`: joining an annotation's relative path
under the root (refused when it would leave it, as for local folders), listing, existence,
the (size, version) fingerprint that resume keys rows by, and the local file a decoder opens.
A local root is plain `pathlib` (no fsspec import, nothing changes); a URL root is read through
fsspec, and its clips are copied once into the bounded on-disk cache (clip_cache.py).
"""
from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Iterator
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from ..errors import AnnotationError, ConfigError, UnsafePathError
from .clip_cache import video_cache, version_of

_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")
EXTRA_HINT = {"s3": "pip install 'vstar-data[s3]'", "gs": "pip install 'vstar-data[gcs]'",
              "gcs": "pip install 'vstar-data[gcs]'", "http": "pip install aiohttp",
              "https": "pip install aiohttp"}


def safe_relpath(path: str, *, file: str | Path | None = None, row: Any = None,
                 key: str | None = None) -> str:
    """Normalise a video path from an annotation (public: `vstar_data.safe_relpath`); refuse
    absolute paths and `..` escapes with an UnsafePathError located at `file` / `row` / `key`."""
    text = str(path).replace("\\", "/").strip()
    pure = PurePosixPath(text)
    if not text or pure.is_absolute() or (len(text) > 1 and text[1] == ":") or ".." in pure.parts \
            or "://" in text:   # a URL (s3://other-bucket/...) is as absolute as /etc/passwd
        raise UnsafePathError(f"video path {path!r} escapes the video directory", file=file, row=row,
                              key=key)
    return pure.as_posix()


def resolve_under(root: Path, relpath: str) -> Path:
    """`root / relpath` for a path from an annotation (public: `vstar_data.resolve_under`, for any
    code that opens a file named by data: adapters, training data), which must stay inside `root` as written
    (relative, no `..`: `safe_relpath`). Symlinks that the user placed in the video folder are
    followed wherever they point: large datasets are usually laid out as folders of links."""
    rel = safe_relpath(relpath)
    return root / rel


def is_url(value: str | Path | None) -> bool:
    """Whether a `videos` setting names object storage (``scheme://...``) rather than a folder."""
    return isinstance(value, str) and bool(_URL_RE.match(value))


def _filesystem(url: str) -> tuple[Any, str]:
    """(fsspec filesystem, its path) for a URL; a missing implementation names the pip command.
    HTTP paths are sent as written (`encoded`): `VideoStore` percent-encodes them itself, so an
    annotation's ``%2e%2e`` is a file name, never a climb out of the root."""
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        raise ConfigError("video URLs need fsspec: pip install fsspec", key="videos") from None
    protocol = url.split("://", 1)[0].lower()
    kwargs = {"encoded": True} if protocol in ("http", "https") else {}
    try:
        return url_to_fs(url, **kwargs)
    except (ImportError, ValueError) as exc:
        hint = EXTRA_HINT.get(protocol, "a folder, or a URL whose fsspec implementation is installed")
        raise ConfigError(f"cannot read {protocol}:// URLs: {exc}; {hint}", key="videos") from None


class VideoStore:
    """One video root (a folder or a URL): the only way code reads clips named by annotations."""

    def __init__(self, root: str | Path) -> None:
        local = _local_text(root)
        self.remote = local is None
        self.http = False
        if local is not None:
            self.root: str = local
            self.path = Path(local)
            return
        parts = urlsplit(str(root))
        self.http = parts.scheme.lower() in ("http", "https")
        path = quote(unquote(parts.path), safe="/") if self.http else parts.path
        self.root = urlunsplit((parts.scheme, parts.netloc, path.rstrip("/"), parts.query, "")).rstrip("/")
        self.fs, self._fs_root = _filesystem(self.root + "/")
        self._fs_root = self._fs_root.rstrip("/")
        self._infos: dict[str, dict[str, Any]] = {}

    def __str__(self) -> str:
        return self.root

    def location(self, rel: str) -> str:
        """Where `rel` (an annotation's path, checked by `safe_relpath`) is: a URL or a local path."""
        if not self.remote:
            return str(resolve_under(self.path, rel))
        rel = safe_relpath(rel)
        return f"{self.root}/{quote(rel, safe='/') if self.http else rel}"

    def _fs_path(self, rel: str) -> str:
        url = self.location(rel)
        return url if self.http else f"{self._fs_root}/{url[len(self.root) + 1:]}"

    def check(self) -> None:
        """Raise a located AnnotationError when the root is not a readable folder: a server that is
        down is one setup error, not one skipped clip per sample."""
        if not self.remote:
            if not self.path.is_dir():
                raise AnnotationError("video directory " + ("does not exist" if not self.path.exists()
                                                            else "is not a folder"), file=self.root)
            return
        try:
            entries = self.fs.ls(self._fs_root + ("/" if self.http else ""), detail=False)
        except FileNotFoundError:
            raise AnnotationError("video folder URL does not exist", file=self.root) from None
        except Exception as exc:   # connection refused, DNS, auth: the whole run would fail
            raise AnnotationError(f"video folder URL cannot be listed ({type(exc).__name__}: "
                                  f"{' '.join(str(exc).split()) or 'no detail'}); check --videos and "
                                  f"that the server is up", file=self.root) from None
        if not entries:
            raise AnnotationError("video folder URL lists no files (not a folder, or an HTTP page "
                                  "without a file index)", file=self.root)

    def listing(self, max_depth: int) -> set[str]:
        """Relative paths of the files (and ``folder/`` entries) under the root, `max_depth` deep;
        hidden names skipped. A remote folder that cannot be listed contributes nothing."""
        out: set[str] = set()
        self._list("", max_depth, out)
        return out

    def _list(self, prefix: str, depth: int, out: set[str]) -> None:
        if not self.remote:
            self._add(self._scan(self.path / prefix if prefix else self.path), prefix, depth, out)
            return
        base = f"{self._fs_root}/{quote(prefix, safe='/') if self.http else prefix}"
        try:
            infos = self.fs.ls(base if self.http else base.rstrip("/"), detail=True)
        except Exception:
            return
        entries = []
        for info in infos:
            name = str(info["name"]).rstrip("/")
            if not name.startswith(base.rstrip("/") + "/"):
                continue
            leaf = name[len(base.rstrip("/")) + 1:]
            leaf = unquote(leaf) if self.http else leaf
            if not leaf or "/" in leaf:
                continue
            is_dir = info.get("type") == "directory"
            if not is_dir and info.get("size") is not None:
                self._infos[prefix + leaf] = info   # object stores list sizes and etags: no HEAD later
            entries.append((leaf, is_dir))
        self._add(entries, prefix, depth, out)

    @staticmethod
    def _scan(folder: Path) -> Iterator[tuple[str, bool]]:
        """(name, is a folder) of a local folder, iterated rather than listed (a 1M-clip folder's
        entries one at a time); a folder that goes away while listed keeps what was listed."""
        try:
            with os.scandir(folder) as entries:
                for e in entries:
                    try:
                        is_dir = e.is_dir()   # follows symlinks: a linked split folder is walked
                    except OSError:
                        continue
                    yield e.name, is_dir
        except OSError:
            return

    def _add(self, entries: Iterable[tuple[str, bool]], prefix: str, depth: int, out: set[str]) -> None:
        for name, is_dir in entries:
            if name.startswith("."):
                continue
            rel = prefix + name
            if is_dir:
                out.add(rel + "/")
                if depth > 1:
                    self._list(rel + "/", depth - 1, out)
            else:
                out.add(rel)

    def exists(self, rel: str) -> bool:
        """Whether the clip is there (symlinks followed for folders)."""
        if not self.remote:
            return Path(self.location(rel)).exists()
        try:
            if self.http:   # fsspec's HTTP `exists` GETs the whole body; HEAD (info) is enough
                self.info(rel)
                return True
            return bool(self.fs.exists(self._fs_path(rel)))
        except Exception:
            return False

    def info(self, rel: str) -> dict[str, Any]:
        """fsspec info of a remote clip (size, ETag / modification time), from the listing when it
        had them. Raises FileNotFoundError when it is gone."""
        cached = self._infos.get(rel)
        if cached is not None:
            return cached
        info = self.fs.info(self._fs_path(rel))
        self._infos[rel] = info
        return info

    def fingerprint(self, rel: str) -> tuple[int | None, Any] | None:
        """(size, version) of a clip: local size and mtime_ns, or the object's size and its ETag
        (else modification time); None when it cannot be read. Resume keys rows by it."""
        if not self.remote:
            try:
                st = Path(self.location(rel)).stat()   # follows a user's symlink to the real file
            except OSError:
                return None
            return st.st_size, st.st_mtime_ns
        try:
            self._infos.pop(rel, None)   # fresh: a changed object must show up
            info = self.info(rel)
        except Exception:
            return None
        return info.get("size"), version_of(info)

    def fingerprints(self, rels: Iterable[str], workers: int = 16) -> dict[str, tuple | None]:
        """`fingerprint` of many clips (remote ones asked concurrently: one request each)."""
        rels = list(dict.fromkeys(rels))
        if not self.remote or len(rels) < 2:
            return {r: self.fingerprint(r) for r in rels}
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as pool:
            return dict(zip(rels, pool.map(self.fingerprint, rels)))

    def local_path(self, rel: str, cache: dict[str, Any] | None = None) -> Path:
        """A local file holding the clip, for decoders: the path itself for a local root, else the
        `VideoCache` copy (fetched on first use). Raises FileNotFoundError / OSError on failure."""
        if not self.remote:
            return Path(self.location(rel))
        info = self.info(rel)
        return video_cache(cache).fetch(self.fs, self._fs_path(rel), self.location(rel), info)


def _local_text(location: str | Path) -> str | None:
    """The local path a location names, as written (a path, or a ``file://`` URL's path); None
    for a remote URL."""
    text = str(location)
    if is_url(text) and not text.startswith("file://"):
        return None
    return text[len("file://"):] if text.startswith("file://") else text


def _remote_clip(url: str) -> tuple[VideoStore, str]:
    """(the store of a clip URL's folder, the clip's name in it, as `VideoStore` methods take it)."""
    root, _, name = url.rpartition("/")
    store = VideoStore(root)
    return store, unquote(name) if store.http else name


def clip_exists(location: str | Path) -> bool:
    """Whether a clip named by a full location (path or URL) is there."""
    local = _local_text(location)
    if local is not None:
        return Path(local).is_file()
    store, name = _remote_clip(str(location))
    return store.exists(name)


def local_clip(location: str | Path, cache: dict[str, Any] | None = None) -> Path:
    """A local file for a clip named by a full location: a path as it is, or a URL fetched through
    the cache (training rows name their clips by absolute location)."""
    local = _local_text(location)
    if local is not None:
        return Path(local)
    store, name = _remote_clip(str(location))
    return store.local_path(name, cache)
