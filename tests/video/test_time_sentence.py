"""The time instruction states the frames the sampler really took, on the labels' clock (seconds
from the sampled window's start), with the window's real length."""
from __future__ import annotations

import re

import pytest

from vstar_data.video.frames import sample_frames
from vstar_data.video.time_instruction import time_instruction, with_time_instruction

FORM = re.compile(r"The video lasts for (\d+\.\d\d) seconds, and (\d+) frames are uniformly sampled from it\. "
                  r"These frames are located at (.*)\.")


def _parse(text: str) -> tuple[float, int, list[float]]:
    m = FORM.fullmatch(text)
    assert m, text
    return float(m[1]), int(m[2]), [float(t.rstrip("s")) for t in m[3].split(", ")]


@pytest.mark.parametrize("window", [(2.5, 7.0), (None, None)])
def test_states_the_sampled_times_and_duration_of_the_window(videos_dir, window):
    start, end = window
    frames = sample_frames(videos_dir / "arm_wrestling.mp4", 5, start=start, end=end, size=32)
    duration, n, times = _parse(time_instruction(frames))
    lo, hi = frames.extra["window"]
    assert n == len(times) == len(frames.timestamps) == 5
    assert duration == pytest.approx(hi - lo, abs=0.006)
    assert duration == pytest.approx((end - start) if start is not None else frames.duration, abs=0.006)
    # each stated time is that frame's real timestamp, counted from the window's start
    assert times == pytest.approx([t - lo for t in frames.timestamps], abs=0.006)
    assert times == sorted(times) and 0 <= times[0] and times[-1] <= duration
    if start is not None:   # the labels' clock: a window's times start near 0, not at clip_start
        assert times[0] < (end - start) / 5


def test_with_time_instruction_puts_it_before_the_text_and_leaves_text_alone_without_one():
    assert with_time_instruction("When.", "What?") == "When.\nWhat?"
    assert with_time_instruction(None, "What?") == "What?"
