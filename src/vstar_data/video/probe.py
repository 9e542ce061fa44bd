"""The packet-level demux pass behind frame sampling (`probe`): frame count, presentation-time
map and keyframes of a video without decoding it, checked for truncation, and cached by path,
size and modification time. `frames.py` samples frames from what this learns."""
from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable

from ..errors import SkipRecord

_CACHE_SIZE = 64   # unpinned entries kept (pinned ones, see `pin`, are on top of these)


@dataclass(slots=True)
class VideoInfo:
    """What the packet-level demux pass learned. Frame i has pts ``pts[i]`` (sorted)."""

    path: str
    pts: list[int]
    keyframes: list[int]          # frame indices of keyframes, ascending
    time_base: Fraction
    fps: float
    width: int
    height: int
    codec: str
    sar: Fraction = Fraction(1)
    header_frames: int = 0
    seekable: bool = True         # map trusted for seeking (unique pts, keyframe first)
    threads: bool = True          # False: the map is a single-threaded decode's (see _sample_video)
    source: str = "packets"       # "packets" or "decoded" (after a scan corrected the map)
    frame_ticks: int = 0          # typical frame duration in time_base ticks (median pts step)

    def __post_init__(self) -> None:
        if len(self.pts) > 1:
            steps = sorted(b - a for a, b in zip(self.pts, self.pts[1:]))
            self.frame_ticks = max(1, steps[len(steps) // 2])
        else:
            self.frame_ticks = max(1, round(1 / (self.fps * self.time_base))) if self.fps > 0 else 1

    @property
    def ticks(self) -> list[int]:
        p0 = self.pts[0]
        return [p - p0 for p in self.pts]

    @property
    def duration_ticks(self) -> int:
        return self.pts[-1] - self.pts[0] + self.frame_ticks

    @property
    def duration(self) -> float:
        return float(self.duration_ticks * self.time_base)


_cache: OrderedDict[tuple, VideoInfo] = OrderedDict()
_cache_lock = threading.Lock()
_pinned: dict[str, int] = {}          # resolved path -> pins held (see `pin`)
_inflight: dict[tuple, threading.Lock] = {}   # key -> lock of the demux pass under way
_stats = {"hits": 0, "misses": 0, "primed": 0}


def probe_stats() -> dict[str, int]:
    """This process's probe counters: ``misses`` (demux passes actually run), ``hits`` (answered
    from the cache), ``primed`` (entries handed in by `prime`), ``cached``/``pinned`` (now).
    Benchmarks and tests use them to check that a run probes each video once."""
    with _cache_lock:
        return dict(_stats, cached=len(_cache), pinned=len(_pinned))


def reset_probe_stats() -> None:
    """Zero the counters (the cache itself is kept; `clear_cache` empties it)."""
    with _cache_lock:
        for k in _stats:
            _stats[k] = 0


def clear_cache() -> None:
    """Forget every cached probe and pin (tests and benchmarks start cold with it)."""
    with _cache_lock:
        _cache.clear()
        _pinned.clear()


def pin(paths: Iterable[str | Path]) -> None:
    """Keep these videos' probes beyond the LRU bound until as many `unpin` calls: an engine pins
    the videos that later chunks use again, so windows of one video interleaved with more than
    64 other videos are still probed once per run. Pins count: pin twice, unpin twice."""
    keys = [str(Path(p).resolve()) for p in paths]
    with _cache_lock:
        for k in keys:
            _pinned[k] = _pinned.get(k, 0) + 1


def unpin(paths: Iterable[str | Path]) -> None:
    """Release one pin per path; a path whose last pin goes is an ordinary LRU entry again."""
    keys = [str(Path(p).resolve()) for p in paths]
    with _cache_lock:
        for k in keys:
            n = _pinned.get(k, 0) - 1
            if n > 0:
                _pinned[k] = n
            else:
                _pinned.pop(k, None)
        _evict()


def cached_entry(path: str | Path) -> tuple[tuple, VideoInfo]:
    """(cache key, VideoInfo) of `path`, probing it if needed: what `prime` takes in another
    process (the Ray engine's driver ships these to its decode tasks)."""
    info = probe(path)
    return _cache_key(Path(path)), info


def prime(entries: Iterable[tuple[tuple, VideoInfo]]) -> None:
    """Put probes made elsewhere (`cached_entry`) into this process's cache. The key holds the
    resolved path, size and modification time seen where it was made, so a file that differs
    here never matches it and is probed afresh."""
    for key, info in entries:
        _remember(key, info)
        with _cache_lock:
            _stats["primed"] += 1


def _skip(reason: str, detail: str, path: str | Path) -> SkipRecord:
    return SkipRecord(reason, detail, file=path)


def _cache_key(path: Path) -> tuple:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


def _check_file(path: Path) -> None:
    if not path.exists():
        raise _skip("video_missing", "no such file", path)
    if not path.is_file():
        raise _skip("video_unreadable", "not a regular file", path)
    if path.stat().st_size == 0:
        raise _skip("video_corrupt", "file is empty (0 bytes)", path)
    if not os.access(path, os.R_OK):
        raise _skip("video_unreadable", "permission denied", path)


def _open(path: Path) -> Any:
    import av

    try:
        return av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise _skip("video_corrupt", f"cannot open container: {exc}", path) from exc


def probe(path: str | Path) -> VideoInfo:
    """Demux the video stream's packets (no decoding): frame count, pts map, keyframes.

    Cached per (path, size, mtime). Raises SkipRecord for missing, empty, unreadable, truncated or
    corrupt files and for files without a video stream. Threads asking for the same file at once
    (a chunk's windows of one video, decoded in parallel) wait for one demux pass.
    """
    path = Path(path)
    _check_file(path)
    key = _cache_key(path)
    with _cache_lock:
        if key in _cache:
            return _hit(key)
        lock = _inflight.setdefault(key, threading.Lock())
    with lock:
        try:
            with _cache_lock:
                if key in _cache:
                    return _hit(key)
                _stats["misses"] += 1
            info = _demux(path)
            _remember(key, info)
            return info
        finally:
            with _cache_lock:
                if _inflight.get(key) is lock:
                    del _inflight[key]


def _hit(key: tuple) -> VideoInfo:
    """A cached probe (lock held)."""
    _cache.move_to_end(key)
    _stats["hits"] += 1
    return _cache[key]


def _demux(path: Path) -> VideoInfo:
    """The uncached packet pass behind `probe`."""
    import av

    with _open(path) as container:
        if not container.streams.video:
            raise _skip("no_video_stream", "the container has no video stream", path)
        stream = container.streams.video[0]
        if container.format.name == "gif" and not _ends_with(path, b";"):
            raise _skip("video_corrupt", "truncated: the GIF trailer is missing", path)
        rows: list[tuple[int | None, int | None, bool]] = []
        error = None
        try:
            for packet in container.demux(stream):
                if packet.size and not packet.is_discard:
                    rows.append((packet.pts, packet.dts, packet.is_keyframe))
        except av.error.FFmpegError as exc:
            error = exc
        tb = stream.time_base or Fraction(1, 90000)
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        cc = stream.codec_context
        header_frames = int(stream.frames or 0)
        header_dur = _header_duration(stream, container, tb)
        sar = stream.sample_aspect_ratio or Fraction(1)
        info_args = dict(time_base=tb, width=cc.width, height=cc.height, codec=cc.name,
                         sar=Fraction(sar) if sar else Fraction(1), header_frames=header_frames)
    if not rows:
        detail = f"no video packet could be read ({error})" if error else "no video packets"
        raise _skip("video_corrupt", detail, path)
    if error is not None:
        raise _skip("video_corrupt", f"truncated: demuxing stopped after {len(rows)} frames "
                                     f"({error})", path)
    fps = float(rate) if rate else 0.0
    stamps = [p if p is not None else d for p, d, _ in rows]
    seekable = None not in stamps and len(set(stamps)) == len(stamps)
    if seekable:
        order = sorted(range(len(stamps)), key=stamps.__getitem__)
        pts = [stamps[i] for i in order]
        rank = {stamps[i]: r for r, i in enumerate(order)}
        keyframes = sorted(rank[stamps[i]] for i, row in enumerate(rows) if row[2])
        seekable = bool(keyframes) and keyframes[0] == 0
    else:  # no usable timestamps: frame i at i / fps, decode order only
        step = max(1, round(1 / ((fps or 25.0) * tb)))
        pts, keyframes = [i * step for i in range(len(rows))], [0]
    info = VideoInfo(str(path), pts, keyframes, fps=fps or 25.0, seekable=seekable,
                     **info_args)
    if fps <= 0 and len(pts) > 1:
        info.fps = float(1 / (info.frame_ticks * tb))
    _check_truncation(info, header_dur, path)
    return info


def _ends_with(path: Path, tail: bytes) -> bool:
    with open(path, "rb") as fh:
        fh.seek(-len(tail), os.SEEK_END)
        return fh.read() == tail


def _header_duration(stream: Any, container: Any, tb: Fraction) -> tuple[float, bool] | None:
    """(seconds, video-specific?) the header promises: the video stream's own duration (or the
    Matroska DURATION tag), else the container's, which may include longer audio."""
    if stream.duration:
        return float(stream.duration * tb), True
    tag = (stream.metadata or {}).get("DURATION") or (stream.metadata or {}).get("duration")
    m = re.fullmatch(r"(\d+):(\d+):(\d+(?:\.\d+)?)", tag.strip()) if tag else None
    if m:
        return int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3]), True
    if container.duration:
        return container.duration / 1e6, False
    return None


def _check_truncation(info: VideoInfo, header: tuple[float, bool] | None, path: Path) -> None:
    """A header that promises clearly more than the packets deliver means a cut-off download.
    Small differences (a header frame count one more than the frames present) are normal."""
    n, hf = len(info.pts), info.header_frames
    if hf and n < hf - max(2, hf * 0.05):
        raise _skip("video_corrupt", f"truncated: header says {hf} frames, only {n} present", path)
    if header:
        secs, own = header
        slack = max(0.5, secs * 0.1) if own else max(1.0, secs * 0.25)
        if info.duration < secs - slack:
            raise _skip("video_corrupt", f"truncated: header says {secs:.2f} s, frames cover "
                                         f"{info.duration:.2f} s", path)


def _remember(key: tuple, info: VideoInfo) -> None:
    with _cache_lock:
        _cache[key] = info
        _cache.move_to_end(key)
        _evict()


def _evict() -> None:
    """Drop the least recently used unpinned entries beyond _CACHE_SIZE (lock held)."""
    excess = len(_cache) - _CACHE_SIZE
    if excess <= 0:
        return
    if _pinned:
        excess -= sum(1 for k in _cache if k[0] in _pinned)
    for k in [k for k in _cache if k[0] not in _pinned][:max(excess, 0)]:
        del _cache[k]


# ---------------------------------------------------------------- target selection
