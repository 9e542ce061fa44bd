"""Finding videos in large folders: list the folder once, then answer lookups from a set.

Video folders can hold hundreds of thousands of clips: `VideoIndex` lists a folder once and
answers "does this candidate exist?" from a set, instead of stat-ing a dozen candidates per row;
`IndexedLookupMixin` makes an Adapter use it. Public API for adapter authors (from `vstar_data`).
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import UnsafePathError
from .adapter import Adapter, resolve_under, safe_relpath
from .sample import Sample


class VideoIndex:
    """The relative paths of every file under a folder (to `max_depth`), listed once.

    Symlinked files are listed like files (and followed); `safe_relpath` still refuses annotation
    paths that are absolute or climb out with `..`.
    """

    def __init__(self, root: Path, max_depth: int = 3) -> None:
        self.root = root
        self.paths: set[str] = set()
        self._scan(root, "", max_depth)

    def _scan(self, folder: Path, prefix: str, depth: int) -> None:
        try:
            entries = os.scandir(folder)   # iterated, not listed: a 1M-clip folder's entries one at a time
        except OSError:
            return
        with entries:
            try:
                for entry in entries:
                    self._add(entry, prefix, depth)
            except OSError:   # the folder went away while listed: what was listed stays
                return

    def _add(self, entry: os.DirEntry, prefix: str, depth: int) -> None:
        if entry.name.startswith("."):
            return
        rel = prefix + entry.name
        try:
            is_dir = entry.is_dir()   # follows symlinks: a linked split folder is walked
        except OSError:
            return
        if is_dir:
            self.paths.add(rel + "/")
            if depth > 1:
                self._scan(Path(entry.path), rel + "/", depth - 1)
        else:
            self.paths.add(rel)

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
        assert isinstance(self, Adapter) and self.videos is not None
        if self._video_index is None:
            self._video_index = VideoIndex(self.videos, self.video_index_depth)
        index = self._video_index
        candidates = self.video_candidates(sample)
        refused: UnsafePathError | None = None
        for rel in candidates:
            try:
                rel = safe_relpath(rel)
                resolve_under(self.videos, rel)
            except UnsafePathError as exc:
                refused = exc
                continue
            if rel in index:
                return rel
        if refused is not None:
            raise refused   # a refused path is a skip with its reason, not a "missing" video
        return None
