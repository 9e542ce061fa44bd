"""The clip check for backends that never look at frames (`uses_frames = False`, e.g. the template
baseline): no backend may write a row for a clip nobody can open."""
from __future__ import annotations

from pathlib import Path

from .frames import _targets, sample_frames
from .probe import probe


def check_clip(path: str | Path, start: float | None = None, end: float | None = None) -> None:
    """Raise the SkipRecord the decoding path would raise for this clip, with the same reasons:
    the container opens, it has a video stream and is not truncated (the packet pass), the
    [start, end] window lies in it, and the window's first frame decodes (one 16 px frame, by
    seeking: 2-4x cheaper than the middle frame on the fixture clips)."""
    path = Path(path)
    if path.is_dir():   # a frame folder: reading one frame file is the whole check
        sample_frames(path, 1, start=start, end=end, size=16)
        return
    info = probe(path)
    _, window = _targets(info, start, end, 1)
    first = window["window"][0]
    sample_frames(path, 1, start=first, end=first, size=16, mode="seek")
