"""Frame sampling with PyAV: N frames uniformly over a clip or a [start, end] window.

(Sampler implementation follows below the data type.)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(slots=True)
class Frames:
    """Sampled frames plus their provenance; processors receive `metadata()` as video metadata.

    `array` is uint8 RGB, shape (N, H, W, 3). `indices` are frame numbers in decode order of the
    whole video (or the frame-file numbers of a frame folder); `timestamps` are seconds from the
    video's start.
    """

    array: np.ndarray
    indices: list[int]
    timestamps: list[float]
    fps: float
    duration: float              # seconds of the whole video
    total_frames: int            # frames in the whole video (decoded or counted)
    source: str = ""             # path, for messages
    extra: dict[str, Any] = field(default_factory=dict)

    def metadata(self) -> dict[str, Any]:
        """Video metadata in the shape transformers' video processors accept."""
        h, w = self.array.shape[1:3]
        return {"total_num_frames": self.total_frames, "fps": self.fps, "duration": self.duration,
                "frames_indices": list(self.indices), "height": int(h), "width": int(w),
                "video_backend": "pyav"}
