"""The time instruction: the frames' real times, stated in words for a model that is not given them.

Timestamp-aware processors (Qwen2.5-VL, Qwen3-VL) get fps and frame indices with the frames and
place them in time themselves; other models (LLaVA-OneVision, LLaVA-NeXT-Video, Video-LLaVA, a
server that gets no timing) see only pictures, yet interval and timestamp questions ask for
seconds. They are told the times in the user turn, before the question, in LLaVA-Video's words:
"The video lasts for 12.40 seconds, and 8 frames are uniformly sampled from it. These frames are
located at 0.00s, 1.55s, ...". Times are on the labels' clock: seconds from the start of the
sampled window (a sample's clip_start, else the video's start), and the duration is the window's.
"""
from __future__ import annotations

from typing import Any

#: `frames.time_instruction` values: `auto` (for samples with interval / timestamp labels, when
#: the model is not given the times otherwise), `always` (every sample with frames), `never`.
MODES = ("auto", "always", "never")


def time_instruction(frames: Any) -> str:
    """The sentence that tells a model when `frames` (a video.frames.Frames) were taken."""
    window = (getattr(frames, "extra", None) or {}).get("window")
    start, end = (float(window[0]), float(window[1])) if window else (0.0, float(frames.duration))
    times = ", ".join(f"{max(0.0, t - start):.2f}s" for t in frames.timestamps)
    return (f"The video lasts for {end - start:.2f} seconds, and {len(frames.timestamps)} frames are "
            f"uniformly sampled from it. These frames are located at {times}.")


def with_time_instruction(instruction: str | None, text: str) -> str:
    """The user text as the model reads it: the instruction (if any), a newline, then `text`."""
    return f"{instruction}\n{text}" if instruction else text
