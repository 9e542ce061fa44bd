"""Frame sampling with PyAV: N frames uniformly over a clip or a [start, end] window.

Frame *i* is the i-th frame the decoder outputs when the whole video is decoded from its start;
timestamps are seconds from the first frame. A cheap packet-level demux pass (`probe`) gives the
frame count, the presentation-time map and the keyframes; both decoding modes pick their target
frames from that map, and both check what they decode against it:

- ``scan``: one threaded pass over the whole clip. If the decoded frames disagree with the packet
  map (a packet that does not decode, for instance) the decoded frames win and targets are redone.
- ``seek``: for each target, seek to the keyframe before it and decode forward to its exact pts
  (or keep decoding when that is cheaper). Every frame it decodes, and the last GOP, are checked
  against the map; any disagreement falls back to ``scan``. Both modes return identical frames.
- ``auto``: whichever the map predicts is cheaper (seek wins for long clips with keyframes).

Targets are segment centres: the window is split into N equal parts and the frame whose
timestamp is nearest each part's centre is taken (ties: the earlier frame). When the window holds
at least N frames, collisions (gaps, variable frame rate) are pushed apart so the N frames are
distinct; when it holds fewer, frames repeat in order, so the result always has exactly N frames.
A window end past the video is clamped (`extra["window_clamped"]`); a window that misses the video
raises SkipRecord("window_out_of_range").

Frame folders (FineDiving: ``00489.jpg`` ... ``00592.jpg``) are sampled the same way on the clock
frame number / fps: indices are the file numbers, timestamps number / fps, and a window is given
on that same clock.
"""
from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from .probe import VideoInfo, _cache_key, _open, _remember, _skip, probe


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


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
MODES = ("auto", "seek", "scan")
SEEK_OVERHEAD = 6      # cost of one seek in frame decodes (flush, keyframe, demuxer reposition)
SCAN_COST = 0.9        # per-frame cost of the threaded single pass relative to seek-mode decoding
def select_indices(ticks: Sequence[int], lo: Fraction, hi: Fraction, n: int) -> list[int]:
    """Indices of the frames nearest the centres of n equal segments of [lo, hi] (tick units,
    `ticks` ascending). Distinct when the window holds >= n frames; repeats in order otherwise."""
    a = bisect_left(ticks, lo)
    b = bisect_left(ticks, hi) - 1 if hi > lo else a - 1
    if b < a:  # window shorter than one frame: the frame showing at `lo`
        a = b = max(0, bisect_right(ticks, lo) - 1)
    out = []
    for k in range(n):
        c = lo + (hi - lo) * (2 * k + 1) / (2 * n)
        j = min(max(bisect_left(ticks, c, a, b + 1), a), b)
        if j > a and c - ticks[j - 1] <= ticks[j] - c:
            j -= 1
        out.append(j)
    if b - a + 1 >= n:  # push collisions apart, keeping order and the window
        for k in range(1, n):
            out[k] = max(out[k], out[k - 1] + 1)
        for k in range(n - 1, -1, -1):
            out[k] = min(out[k], b - (n - 1 - k), out[k + 1] - 1 if k + 1 < n else b)
    return out


def _window(start: float | None, end: float | None, t0: Fraction, t1: Fraction, tb: Fraction,
            path: str | Path) -> tuple[Fraction, Fraction, bool]:
    """[start, end] seconds -> tick window inside [t0, t1); clamps an end past the video."""
    if any(v is not None and not math.isfinite(v) for v in (start, end)):
        raise _skip("window_out_of_range", f"window [{start}, {end}] is not finite", path)
    lo = t0 if start is None else Fraction(start) / tb
    hi = t1 if end is None else Fraction(end) / tb
    if start is not None and end is not None and end < start:
        raise _skip("window_out_of_range", f"window end {end} is before its start {start}", path)
    total = float((t1 - t0) * tb)
    if lo >= t1 or hi < t0 or (hi == t0 and lo < hi):
        raise _skip("window_out_of_range", f"window [{start}, {end}] s is outside the video "
                                           f"({float(t0 * tb):.3f}-{float(t1 * tb):.3f} s, "
                                           f"{total:.3f} s long)", path)
    clamped = lo < t0 or hi > t1
    return max(lo, t0), min(hi, t1), clamped


def _target_size(h: int, w: int, size: int | tuple[int, int] | None) -> tuple[int, int]:
    if size is None:
        return h, w
    if isinstance(size, int):
        if size <= 0:
            raise ValueError("size must be positive")
        if h <= w:
            return size, max(1, round(w * size / h))
        return max(1, round(h * size / w)), size
    th, tw = size
    if th <= 0 or tw <= 0:
        raise ValueError("size must be positive")
    return int(th), int(tw)


# ---------------------------------------------------------------- decoding

class _Mismatch(Exception):
    """Seek-mode decoding disagreed with the packet map: fall back to a full scan."""


def _converter(info: VideoInfo, size: Any):
    """frame -> RGB uint8 array. The display matrix (phone clips stored sideways) is applied, so
    portrait comes out portrait. size=None keeps the stored pixels (no scaling, as other loaders
    return them); an int short side keeps the *display* aspect (non-square pixels corrected).
    Every frame is scaled to the stream's size, so a mid-stream size change is harmless."""
    sizes: dict[int, tuple[int, int]] = {}

    def dims(rot: int) -> tuple[int, int]:
        if rot not in sizes:
            dw = round(info.width * info.sar) if size is not None else info.width
            dh, dw = (dw, info.height) if rot % 2 else (info.height, dw)
            th, tw = _target_size(dh, dw, size)
            sizes[rot] = (tw, th) if rot % 2 else (th, tw)   # scale first, rotate after
        return sizes[rot]

    def convert(frame: Any) -> np.ndarray:
        rot = (round(frame.rotation or 0) // 90) % 4
        sh, sw = dims(rot)
        arr = frame.reformat(width=sw, height=sh, format="rgb24",
                             interpolation="BILINEAR").to_ndarray()
        return np.ascontiguousarray(np.rot90(arr, rot)) if rot else arr
    return convert


def _decoded(container: Any, stream: Any, strict: bool, errors: list) -> Iterator[Any]:
    """Frames in output order; decode errors end seek mode (`strict`) or are counted (scan)."""
    import av

    try:
        for packet in container.demux(stream):
            try:
                yield from packet.decode()
            except av.error.FFmpegError as exc:
                if strict:
                    raise _Mismatch(f"decode error: {exc}") from exc
                errors.append(exc)
                if len(errors) > 50:
                    raise
    except av.error.FFmpegError as exc:
        if strict:
            raise _Mismatch(f"demux error: {exc}") from exc
        errors.append(exc)


def _scan(info: VideoInfo, targets: set[int], convert) -> tuple[dict[int, np.ndarray], list, int]:
    """One pass from the start (threaded unless the map came from a single-threaded decode):
    the target frames, every output pts, and the number of packets that failed to decode."""
    import av

    path = Path(info.path)
    out: dict[int, np.ndarray] = {}
    seen: list[int | None] = []
    errors: list = []
    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO" if info.threads else "NONE"
        try:
            for frame in _decoded(container, stream, False, errors):
                if len(seen) in targets:
                    out[len(seen)] = convert(frame)
                seen.append(frame.pts)
        except av.error.FFmpegError as exc:
            raise _skip("video_corrupt", f"too many decode errors ({exc})", path) from exc
    return out, seen, len(errors)


def _seek(info: VideoInfo, targets: list[int], convert) -> tuple[dict[int, np.ndarray], int, int]:
    """Seek to the keyframe before each target and decode forward to its exact pts (or keep
    decoding when the next keyframe is close). Every decoded frame, and the last GOP, is checked
    against the map; any disagreement raises _Mismatch."""
    pts, kfs, m = info.pts, info.keyframes, len(info.pts)
    out: dict[int, np.ndarray] = {}
    want = set(targets)
    decoded = seeks = 0
    pos = -1
    box: list[Any] = [None, None]   # [container, frame generator]
    try:
        for t in sorted(want | {m - 1}):  # the last frame checks the frame count
            ki = bisect_right(kfs, t) - 1
            if box[1] is None or (kfs[ki] > pos and kfs[ki] - pos > SEEK_OVERHEAD):
                for attempt in range(4):
                    _reposition(box, info, kfs[ki])
                    seeks += 1
                    frame = next(box[1], None)
                    while frame is not None and frame.pts is not None and frame.pts < pts[kfs[ki]]:
                        decoded += 1   # leading frames of an earlier GOP: the seek landed early
                        frame = next(box[1], None)
                    if frame is None or frame.pts is None or frame.pts <= pts[kfs[ki]]:
                        break
                    ki = max(0, ki - 1) if attempt < 2 else 0  # landed late: go earlier
                pos = kfs[ki] - 1
            else:
                frame = next(box[1], None)
            while True:
                if frame is None:
                    raise _Mismatch(f"stream ended before frame {pos + 1} of {m}")
                pos, decoded = pos + 1, decoded + 1
                if frame.pts != pts[pos]:
                    raise _Mismatch(f"frame {pos}: decoded pts {frame.pts}, map {pts[pos]}")
                if pos in want:
                    out[pos] = convert(frame)
                if pos >= t:
                    break
                frame = next(box[1], None)
        if next(box[1], None) is not None:
            raise _Mismatch("more frames decode than the packets announce")
    finally:
        if box[1] is not None:
            box[1].close()
        if box[0] is not None:
            box[0].close()
    return out, decoded, seeks


def _reposition(box: list[Any], info: VideoInfo, k: int) -> None:
    """Point box's decoder at keyframe k: a fresh open for frame 0 (exact in every container),
    else a backward seek to the keyframe's pts."""
    import av

    if box[1] is not None:
        box[1].close()
    if k == 0 or box[0] is None:
        if box[0] is not None:
            box[0].close()
        box[0] = _open(Path(info.path))
        # single-threaded: frame threads add a pipeline refill per seek (measured 2.5x slower per
        # seek on 2 cores); the runs between seeks are short
        box[0].streams.video[0].thread_type = "NONE"
    stream = box[0].streams.video[0]
    if k:
        try:
            box[0].seek(info.pts[k], stream=stream, backward=True, any_frame=False)
        except av.error.FFmpegError as exc:
            raise _Mismatch(f"seek failed: {exc}") from exc
    box[1] = _decoded(box[0], stream, True, [])


def _prefers_seek(info: VideoInfo, targets: list[int]) -> bool:
    seek_cost, scan_cost = _costs(info, targets)
    return seek_cost < scan_cost


def _costs(info: VideoInfo, targets: list[int]) -> tuple[float, float]:
    """(seek-mode cost, scan cost) in frame decodes, simulated on the keyframe map."""
    kfs, m = info.keyframes, len(info.pts)
    pos, cost = None, 0.0
    for t in sorted(set(targets) | {m - 1}):
        k = kfs[bisect_right(kfs, t) - 1]
        if pos is None or (k > pos and k - pos > SEEK_OVERHEAD):
            cost += SEEK_OVERHEAD + (t - k + 1)
        else:
            cost += t - pos
        pos = t
    return cost, m * SCAN_COST


def _corrected(info: VideoInfo, seen: list[int | None]) -> VideoInfo:
    """The map the decoder actually produced (used when it disagrees with the packets)."""
    if None not in seen and len(set(seen)) == len(seen):
        pts = sorted(seen)  # type: ignore[arg-type]
    else:
        step = info.frame_ticks
        pts = [info.pts[0] + i * step for i in range(len(seen))]
    return VideoInfo(info.path, pts, [0], info.time_base, info.fps, info.width, info.height,
                     info.codec, info.sar, info.header_frames, seekable=False, threads=False,
                     source="decoded")


def _agrees(info: VideoInfo, seen: list[int | None]) -> bool:
    if len(seen) != len(info.pts):
        return False
    return None in seen or sorted(seen) == info.pts  # type: ignore[type-var]


# ---------------------------------------------------------------- public API

def sample_frames(path: str | Path, num_frames: int = 8, *, start: float | None = None,
                  end: float | None = None, size: int | tuple[int, int] | None = None,
                  mode: str = "auto", fps: float | None = None) -> Frames:
    """Sample exactly `num_frames` RGB frames uniformly over a video or a [start, end] window.

    `path` is a video file or a folder of frame images (``00489.jpg`` ...). `size`: an int sets the
    short side (aspect kept), a (h, w) pair sets both. `mode`: "auto", "seek" or "scan" (the frames
    are identical; `extra["decode_mode"]` says which produced them). `fps` is the frame rate of a
    frame folder (default 25); videos carry their own. Unusable inputs raise SkipRecord.
    """
    if num_frames < 1:
        raise ValueError("num_frames must be >= 1")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    if size is not None and not isinstance(size, int):
        size = (int(size[0]), int(size[1]))
    path = Path(path)
    if path.is_dir():
        return _sample_folder(path, num_frames, start, end, size, fps or 25.0)
    info = probe(path)
    return _sample_video(info, num_frames, start, end, size, mode)


def _targets(info: VideoInfo, start, end, n: int) -> tuple[list[int], dict[str, Any]]:
    lo, hi, clamped = _window(start, end, Fraction(0), Fraction(info.duration_ticks),
                              info.time_base, info.path)
    targets = select_indices(info.ticks, lo, hi, n)
    return targets, {"window": [float(lo * info.time_base), float(hi * info.time_base)],
                     "window_clamped": clamped, "repeated": len(set(targets)) < n}


def _sample_video(info: VideoInfo, n: int, start, end, size, mode: str) -> Frames:
    path = Path(info.path)
    convert = _converter(info, size)
    targets, extra = _targets(info, start, end, n)
    extra.update(requested_mode=mode, codec=info.codec)
    frames: dict[int, np.ndarray] | None = None
    if mode != "scan" and not info.seekable:
        extra["fallback"] = "timestamps not usable for seeking"
    elif mode == "seek" or (mode == "auto" and _prefers_seek(info, targets)):
        try:
            frames, decoded, seeks = _seek(info, targets, convert)
            extra.update(decode_mode="seek", decoded_frames=decoded, seeks=seeks)
        except _Mismatch as exc:
            extra["fallback"] = str(exc)
    if frames is None:
        frames, seen, errors = _scan(info, set(targets), convert)
        extra.update(decode_mode="scan", decoded_frames=len(seen), decode_errors=errors)
        for _ in range(2):
            if not seen:
                raise _skip("video_corrupt", "no frame decodes", path)
            if errors > max(3, len(info.pts) // 20):
                raise _skip("video_corrupt", f"{errors} packets fail to decode", path)
            if _agrees(info, seen):
                break
            # The decoder's output disagrees with the packets (a packet that does not decode):
            # the decoder wins. Decode single-threaded so the answer does not depend on the
            # machine's core count (frame threads can drop extra frames around a bad packet).
            info = _corrected(info, seen)
            targets, window = _targets(info, start, end, n)
            extra.update(window, map_corrected=True)
            frames, seen, errors = _scan(info, set(targets), convert)
        if not _agrees(info, seen):
            raise _skip("video_corrupt", "decoding is not repeatable", path)
        if info.source == "decoded":
            _remember(_cache_key(path), info)
    ticks, tb = info.ticks, info.time_base
    return Frames(array=np.stack([frames[i] for i in targets]), indices=list(targets),
                  timestamps=[float(ticks[i] * tb) for i in targets], fps=info.fps,
                  duration=info.duration, total_frames=len(info.pts), source=str(path),
                  extra=extra)


def _frame_number(name: str) -> int | None:
    digits = re.findall(r"\d+", Path(name).stem)
    return int(digits[-1]) if digits else None


def _sample_folder(folder: Path, n: int, start, end, size, fps: float) -> Frames:
    """A folder of frame images named by frame number: indices are those numbers, t = n / fps."""
    from PIL import Image, ImageOps

    if fps <= 0:
        raise ValueError("fps must be positive")
    files: dict[int, Path] = {}
    for p in sorted(folder.iterdir()):
        num = _frame_number(p.name) if p.suffix.lower() in IMAGE_SUFFIXES else None
        if num is not None and num not in files and p.is_file():
            files[num] = p
    if not files:
        raise _skip("empty_frame_folder", "no numbered image files (.jpg/.png/...)", folder)
    numbers = sorted(files)
    tb = Fraction(1) / Fraction(fps).limit_denominator(1_000_000)
    lo, hi, clamped = _window(start, end, Fraction(numbers[0]), Fraction(numbers[-1] + 1), tb,
                              folder)
    targets = select_indices(numbers, lo, hi, n)
    images: dict[int, np.ndarray] = {}
    shape: tuple[int, int] | None = None
    for i in sorted(set(targets)):
        try:
            with Image.open(files[numbers[i]]) as im:
                im = ImageOps.exif_transpose(im).convert("RGB")
                if shape is None:
                    shape = _target_size(im.height, im.width, size)
                if (im.height, im.width) != shape:
                    im = im.resize((shape[1], shape[0]), Image.BILINEAR)
                images[i] = np.asarray(im, dtype=np.uint8)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise _skip("video_corrupt", f"frame file {files[numbers[i]].name} unreadable: {exc}",
                        folder) from exc
    idx = [numbers[i] for i in targets]
    return Frames(array=np.stack([images[i] for i in targets]), indices=idx,
                  timestamps=[float(Fraction(x) * tb) for x in idx], fps=float(fps),
                  duration=float((numbers[-1] - numbers[0] + 1) * tb), total_frames=len(numbers),
                  source=str(folder),
                  extra={"decode_mode": "folder", "requested_mode": "folder",
                         "window": [float(lo * tb), float(hi * tb)], "window_clamped": clamped,
                         "repeated": len(set(targets)) < n})
