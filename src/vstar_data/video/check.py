"""The clip check for backends that never look at frames (`uses_frames = False`, e.g. the template
baseline): no backend may write a row for a clip nobody can open."""
from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from ..errors import SkipRecord
from .frames import _targets, sample_frames
from .probe import _cache_key, probe

_CACHE_SIZE = 4096   # (file, first frame) outcomes kept: a frame decodes or not, whichever sample asks
_decoded: OrderedDict[tuple, tuple[str, str] | None] = OrderedDict()
_lock = threading.Lock()
_stats = {"decoded": 0, "remembered": 0}


def check_stats() -> dict[str, int]:
    """This process's counters: ``decoded`` (first frames actually decoded), ``remembered``
    (checks answered from an earlier decode of the same frame of the same file)."""
    with _lock:
        return dict(_stats)


def check_clip(path: str | Path, start: float | None = None, end: float | None = None) -> None:
    """Raise the SkipRecord the decoding path would raise for this clip, with the same reasons:
    the container opens, it has a video stream and is not truncated (the packet pass), the
    [start, end] window lies in it, and the window's first frame decodes (one 16 px frame, by
    seeking: 2-4x cheaper than the middle frame on the fixture clips). Whether a frame decodes is
    remembered per file (resolved path, size, modification time) and frame time, so a million
    windows over a few clips (symlinks, windows of one long video) decode each frame once."""
    path = Path(path)
    if path.is_dir():   # a frame folder: reading one frame file is the whole check
        sample_frames(path, 1, start=start, end=end, size=16)
        return
    info = probe(path)
    _, window = _targets(info, start, end, 1)
    first = window["window"][0]
    key = (_cache_key(path), first)
    with _lock:
        hit = key in _decoded
        if hit:
            _decoded.move_to_end(key)
            outcome = _decoded[key]
            _stats["remembered"] += 1
    if hit:
        if outcome is not None:
            raise SkipRecord(outcome[0], outcome[1], file=path)   # this sample's path, as a decode names it
        return
    try:
        sample_frames(path, 1, start=first, end=first, size=16, mode="seek")
    except SkipRecord as skip:
        _remember(key, (skip.reason, skip.detail))
        raise
    _remember(key, None)


def _remember(key: tuple, outcome: tuple[str, str] | None) -> None:
    with _lock:
        _stats["decoded"] += 1
        _decoded[key] = outcome
        while len(_decoded) > _CACHE_SIZE:
            _decoded.popitem(last=False)
