"""Benchmark frame sampling: the adaptive sampler vs decode-everything, plus decord as a peer.

For each clip (the fixture clips and a generated long clip: 60 s, 320x240 h264, a keyframe every
2 s) and each N, time (best of --repeat interleaved runs, probe cache cleared each run):

- adaptive:    `sample_frames(path, N)` (auto mode: seek or scan, whichever the map predicts)
- decode-all:  PyAV, thread_type AUTO, decode every frame, convert only the N picked ones to RGB
- decord:      `VideoReader(path).get_batch(indices)` with the same indices (if decord imports)

Reports sampled frames/s and the speed ratio decode-all / adaptive (and decord / adaptive), and
checks that decode-all returns the same pixels as the sampler.

    .venv/bin/python benchmarks/bench_frames.py [--repeat 5] [--frames 8 32] [--long-seconds 60]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("VSTAR_FIXTURES", ROOT.parent / "shared" / "fixtures"))
sys.path.insert(0, str(ROOT / "tests"))  # video_factory


def timed(repeat: int, fns: list[Callable[[], object]]) -> list[tuple[float, object]]:
    """Best-of-`repeat` wall time and last result of each fn, runs interleaved (a, b, c, a, ...)
    so that load from other processes hits every method alike; the minimum is the least noisy
    estimate on a shared machine."""
    times: list[list[float]] = [[] for _ in fns]
    results: list[object] = [None] * len(fns)
    for _ in range(repeat):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            results[k] = fn()
            times[k].append(time.perf_counter() - t0)
    return [(min(t), r) for t, r in zip(times, results)]


def decode_all(path: Path, indices: list[int]) -> np.ndarray:
    """The baseline: decode every frame in one threaded pass, keep the picked ones."""
    import av

    want = set(indices)
    picked = {}
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for i, frame in enumerate(container.decode(stream)):
            if i in want:
                picked[i] = frame.to_ndarray(format="rgb24")
    return np.stack([picked[i] for i in indices])


def decord_batch(path: Path, indices: list[int]) -> np.ndarray | None:
    try:
        import decord
    except ImportError:
        return None
    vr = decord.VideoReader(str(path), num_threads=0)
    if max(indices) >= len(vr):
        return None
    return vr.get_batch(indices).asnumpy()


def long_clip(seconds: int, cache: Path) -> Path:
    from video_factory import make_clip

    path = cache / f"long_{seconds}s_320x240_gop60.mp4"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        make_clip(path, n_frames=seconds * 30, fps=30, width=320, height=240, gop=60)
        print(f"generated {path} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--frames", type=int, nargs="+", default=[8, 32])
    ap.add_argument("--long-seconds", type=int, default=60)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/vstar_bench_frames"))
    ap.add_argument("--no-decord", action="store_true")
    args = ap.parse_args()

    from vstar_data.video.frames import sample_frames
    from vstar_data.video.probe import _cache

    clips: list[tuple[str, Path, dict]] = []
    vids = FIXTURES / "videos"
    if vids.is_dir():
        clips += [(p.name, p, {}) for p in sorted(vids.iterdir()) if p.is_file()]
    lc = long_clip(args.long_seconds, args.cache)
    clips.append((lc.name, lc, {}))
    clips.append((lc.name + " [10-14 s]", lc, {"start": 10.0, "end": 14.0}))

    def adaptive(path: Path, n: int, kw: dict):
        _cache.clear()  # include the demux pass in every run
        return sample_frames(path, n, **kw)

    header = (f"{'clip':38} {'N':>3} {'mode':>5} {'adaptive':>9} {'decode-all':>10} {'decord':>8}"
              f" {'fr/s adapt':>10} {'fr/s all':>9} {'all/adapt':>9} {'decord/adapt':>12} same")
    print(header)
    print("-" * len(header))
    ratios, dratios = [], []
    for name, path, kw in clips:
        for n in args.frames:
            fr = adaptive(path, n, kw)  # warm-up: imports, OS file cache
            fns = [lambda: adaptive(path, n, kw), lambda: decode_all(path, fr.indices)]
            if not args.no_decord:
                fns.append(lambda: decord_batch(path, fr.indices))
            timings = timed(args.repeat, fns)
            (t_ad, fr), (t_all, base) = timings[:2]
            same = base.shape == fr.array.shape and np.array_equal(base, fr.array)
            t_dec = timings[2][0] if len(timings) > 2 and timings[2][1] is not None else None
            ratios.append(t_all / t_ad)
            if t_dec:
                dratios.append(t_dec / t_ad)
            print(f"{name[:38]:38} {n:>3} {fr.extra['decode_mode']:>5} {t_ad * 1e3:>7.1f}ms "
                  f"{t_all * 1e3:>8.1f}ms "
                  + (f"{t_dec * 1e3:>6.1f}ms" if t_dec else f"{'-':>8}")
                  + f" {n / t_ad:>10.0f} {n / t_all:>9.0f} {t_all / t_ad:>8.2f}x "
                  + (f"{t_dec / t_ad:>11.2f}x" if t_dec else f"{'-':>12}")
                  + f" {'yes' if same else 'NO'}")
    gm = lambda xs: float(np.exp(np.mean(np.log(xs)))) if xs else float("nan")  # noqa: E731
    print(f"\ngeometric mean speed-up over decode-all: {gm(ratios):.2f}x"
          + (f"; decord time / adaptive time: {gm(dratios):.2f}x" if dratios else ""))


if __name__ == "__main__":
    main()
