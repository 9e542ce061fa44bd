"""Held-out leakage: a clip of the `eval` config that also appears in a training row.

A clip is (video path, window); no window (`clip_start` / `clip_end` null) means the whole video.
Two clips of the same video leak into each other when their windows share some time (windows that
only touch at one instant do not). One rule for `validate`, `push` (a release's `eval` config
against its training configs) and `build` (the run's eval sources against its sources, checked
before anything is generated), so the three can never disagree about what counts as a leak.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from ..errors import VstarError


@dataclass(frozen=True, slots=True)
class Clip:
    """One clip: a video and a window in seconds (`end` = inf: to the end of the video)."""

    video: str
    start: float = 0.0
    end: float = math.inf

    @classmethod
    def of(cls, video: str, clip_start: float | None, clip_end: float | None) -> "Clip":
        return cls(video, 0.0 if clip_start is None else float(clip_start),
                   math.inf if clip_end is None else float(clip_end))

    def overlaps(self, other: "Clip") -> bool:
        return self.video == other.video and self.start < other.end and other.start < self.end

    def __str__(self) -> str:
        if self.start == 0.0 and self.end == math.inf:
            return f"{self.video} (whole video)"
        end = "end" if self.end == math.inf else f"{self.end:g}"
        return f"{self.video} [{self.start:g}-{end} s]"


@dataclass(frozen=True, slots=True)
class Leak:
    """A training row (config, shard, id) whose clip overlaps held-out sample `eval_id`'s clip."""

    config: str
    shard: str
    row_id: str
    clip: Clip
    eval_id: str
    eval_clip: Clip

    def __str__(self) -> str:
        return (f"config {self.config!r}, {self.shard}, row {self.row_id!r}: clip {self.clip} overlaps "
                f"held-out sample {self.eval_id!r} ({self.eval_clip})")


class HeldOut:
    """The held-out clips, indexed by video, so checking a training row costs one dict lookup
    (plus a bisect over that video's windows)."""

    def __init__(self, clips: Iterable[tuple[str, Clip]]) -> None:
        by_video: dict[str, list[tuple[float, float, str]]] = {}
        for eval_id, clip in clips:
            by_video.setdefault(clip.video, []).append((clip.start, clip.end, eval_id))
        self._by_video = {v: sorted(w) for v, w in by_video.items()}
        self._starts = {v: [w[0] for w in ws] for v, ws in self._by_video.items()}
        self._max_len = {v: max(e - s for s, e, _ in ws) for v, ws in self._by_video.items()}

    def __len__(self) -> int:
        return sum(len(w) for w in self._by_video.values())

    def match(self, clip: Clip) -> tuple[str, Clip] | None:
        """The first held-out (id, clip) that `clip` overlaps, or None."""
        windows = self._by_video.get(clip.video)
        if not windows:
            return None
        # candidates start before clip.end; a window longer than max_len cannot exist
        hi = bisect.bisect_left(self._starts[clip.video], clip.end)
        lo = 0 if self._max_len[clip.video] == math.inf else \
            bisect.bisect_left(self._starts[clip.video], clip.start - self._max_len[clip.video])
        for start, end, eval_id in windows[lo:hi]:
            other = Clip(clip.video, start, end)
            if clip.overlaps(other):
                return eval_id, other
        return None


def find_leaks(held_out: HeldOut, rows: Iterable[tuple[str, str, str, Clip]]) -> list[Leak]:
    """Every training row (config, shard, id, clip) that overlaps a held-out clip."""
    out = []
    if not len(held_out):
        return out
    for config, shard, row_id, clip in rows:
        hit = held_out.match(clip)
        if hit is not None:
            out.append(Leak(config, shard, row_id, clip, hit[0], hit[1]))
    return out


# --------------------------------------------------------------------------- a release's files

_CLIP_COLUMNS = ["id", "video", "clip_start", "clip_end"]


def parquet_clips(path: str | Path) -> Iterator[tuple[str, Clip]]:
    """(id, clip) of every row of one parquet file (only the four columns are read)."""
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(path).iter_batches(columns=_CLIP_COLUMNS, batch_size=65_536):
        cols = batch.to_pydict()
        for row_id, video, start, end in zip(cols["id"], cols["video"], cols["clip_start"], cols["clip_end"]):
            yield row_id, Clip.of(video, start, end)


def release_leaks(root: str | Path | Sequence[str | Path], eval_files: Iterable[str],
                  data_files: dict[str, list[str]]) -> list[Leak]:
    """Leaks of a release folder: `eval_files` (paths under `root`) against `data_files`
    (training config -> shard paths under `root`). `root` may be several folders, looked in
    in order (a release being built: its staging folder, then the store holding carried shards)."""
    roots = [Path(root)] if isinstance(root, (str, Path)) else [Path(r) for r in root]

    def where(rel: str) -> Path:
        return next((r / rel for r in roots if (r / rel).is_file()), roots[0] / rel)

    held_out = HeldOut(c for f in eval_files for c in parquet_clips(where(f)))
    if not len(held_out):
        return []
    rows = ((config, shard, row_id, clip) for config, shards in sorted(data_files.items()) for shard in shards
            for row_id, clip in parquet_clips(where(shard)))
    return find_leaks(held_out, rows)


ALLOW_HINT = "pass --allow-leakage (run config: store.allow_leakage: true) to publish it anyway"


def refuse(leaks: list[Leak], what: str, *, file: str | Path | None = None, shown: int = 20) -> None:
    """Raise a VstarError naming the leaking clips (the first `shown`), when there are any."""
    if not leaks:
        return
    lines = [str(leak) for leak in leaks[:shown]]
    if len(leaks) > shown:
        lines.append(f"... and {len(leaks) - shown} more")
    raise VstarError(f"{what}: {len(leaks)} training row(s) share a clip with the held-out `eval` "
                     f"config; {ALLOW_HINT}\n" + "\n".join(f"  - {x}" for x in lines), file=file)


def card_line(n_leaks: int) -> str:
    """The card's own line for a release published with `allow_leakage`."""
    return (f"\n**Held-out leakage allowed:** this release was published with `--allow-leakage`: "
            f"{n_leaks} training row(s) share a clip with the `eval` config, so held-out scores on "
            f"those clips are not held-out.\n")
