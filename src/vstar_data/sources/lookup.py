"""Finding videos in large folders: list the folder once, then answer lookups from a set.

Video folders can hold hundreds of thousands of clips: `VideoIndex` lists a folder once and
answers "does this candidate exist?" from a set, instead of stat-ing a dozen candidates per row;
`IndexedLookupMixin` makes an Adapter use it. Public API for adapter authors (from `vstar_data`).
"""
from __future__ import annotations

from pathlib import Path

from ..errors import UnsafePathError
from .adapter import Adapter, safe_relpath
from .sample import Sample
from .storage import VideoStore


class VideoIndex:
    """The relative paths of every file under a folder (to `max_depth`), listed once.

    Symlinked files are listed like files (and followed); `safe_relpath` still refuses annotation
    paths that are absolute or climb out with `..`.
    """

    def __init__(self, root: Path | str | VideoStore, max_depth: int = 3) -> None:
        store = root if isinstance(root, VideoStore) else VideoStore(root)
        self.root = store.path if not store.remote else store.root
        self.paths: set[str] = store.listing(max_depth)   # a URL root: fsspec listings, one per folder

    def __contains__(self, rel: str) -> bool:
        return rel in self.paths


class IndexedLookupMixin:
    """Adapter mixin: find videos through one `VideoIndex` listing instead of a stat per candidate.

    Same contract as `Adapter._locate`: the first candidate (in `video_candidates` order) that
    exists and stays inside the video folder wins, and the result is a safe relative path.
    """

    video_index_depth: int = 3
    _video_index: VideoIndex | None = None

    def _locate(self, sample: Sample) -> str | None:
        assert isinstance(self, Adapter) and self.video_store is not None
        if self._video_index is None:
            self._video_index = VideoIndex(self.video_store, self.video_index_depth)
        index = self._video_index
        candidates = self.video_candidates(sample)
        refused: UnsafePathError | None = None
        for rel in candidates:
            try:
                rel = safe_relpath(rel)
            except UnsafePathError as exc:
                refused = exc
                continue
            if rel in index:
                return rel
        if refused is not None:
            raise refused   # a refused path is a skip with its reason, not a "missing" video
        return None
