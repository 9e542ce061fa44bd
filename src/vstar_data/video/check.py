"""The clip check for backends that never look at frames (`uses_frames = False`, e.g. the template
baseline): no backend may write a row for a clip nobody can open."""
from __future__ import annotations

from pathlib import Path

from .frames import sample_frames


def check_clip(path: str | Path, start: float | None = None, end: float | None = None) -> None:
    """Raise the SkipRecord the decoding path would raise for this clip, with the same reasons:
    the container opens, it has a video stream, the [start, end] window lies in it and one frame
    of the window decodes (one tiny frame: much cheaper than sampling N at full size)."""
    sample_frames(path, 1, start=start, end=end, size=16)
