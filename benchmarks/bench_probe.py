"""Probes (container checks: the packet-level demux pass) per distinct video, on TAL-shaped data.

Builds synthetic annotations for the `tal` adapter over copies of the 10 s fixture clips (one
file per video, outside the project), then runs generation with the template backend (it probes
and checks every clip, decodes nothing) and counts demux passes (`probe_stats()["misses"]`):

- `thumos`:   V videos x 15 segments, one CSV per segment index, so a video's windows are
              listed interleaved with every other video's (chunk k holds 8 different videos);
- `thumos-big`: the same with more videos than the 64-entry probe cache holds;
- `charades`: V videos x 4 sentences listed together (Charades-STA: sentences of a video are
              consecutive, so a video spans at most two chunks).

Each shape goes through the LocalEngine twice (`pin` disabled = the old behaviour, then as
shipped) and a small THUMOS shape through the RayEngine twice (driver-shared probes disabled,
then as shipped). Ray workers count their demux passes into a log file through a
`worker_process_setup_hook` (each worker process has its own counters).

    .venv/bin/python benchmarks/bench_probe.py [--json out.json]

Measured 2026-12-07 on the 2-core helper machine (shared, load ~8-11; seconds are noisy, probe
counts are not). Demux passes per distinct video, old behaviour -> as shipped:

| shape (template backend, chunk 8)            | samples | videos | local        | ray (4 CPUs, 3 decode workers) |
| --- | --- | --- | --- | --- |
| THUMOS, 15 windows/video interleaved         | 600     | 40     | 1.0 -> 1.0   | |
| THUMOS, 15 windows/video, > 64 videos        | 1200    | 80     | 15.0 -> 1.0  | |
| Charades-STA, 4 sentences/video together     | 160     | 40     | 1.025 -> 1.0 (1.4-1.5 in an earlier run on 10 videos) | |
| THUMOS, 6 windows/video interleaved          | 96      | 16     |              | 2.5 -> 1.0 (16 on the driver, 0.11 s; 0 in workers) |

Where the probe was repeated: the 64-entry LRU when a video's windows are interleaved with more
than 64 other videos (every window re-probed); two decode threads probing one video at once (a
chunk holding several windows of it); and each Ray decode worker process probing every shared
video again.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("VSTAR_FIXTURES", ROOT.parent / "shared" / "fixtures"))
CLIPS = ["arm_wrestling.mp4", "basketball.mp4", "flipping_pancake.mkv", "hitting_baseball.mp4",
         "playing_guitar.mp4", "yoga.mp4"]   # the >= 10 s fixture clips
CLASSES = ["BaseballPitch", "CleanAndJerk", "CliffDiving", "GolfSwing", "HammerThrow"]
HEADER = "video,type,type_idx,start,end,startFrame,endFrame\n"
LOG_ENV = "VSTAR_BENCH_PROBE_LOG"


def make_videos(vdir: Path, n: int) -> list[str]:
    """n video ids, each its own file (a copy: the probe cache keys on the resolved path)."""
    vdir.mkdir(parents=True, exist_ok=True)
    ids = []
    for i in range(n):
        name = CLIPS[i % len(CLIPS)]
        vid = f"video_{i:04d}"
        target = vdir / f"{vid}{Path(name).suffix}"
        if not target.exists():
            shutil.copy(FIXTURES / "videos" / name, target)
        ids.append(vid)
    return ids


def _line(vid: str, j: int, start: float, end: float) -> str:
    cls = CLASSES[j % len(CLASSES)]
    return f"{vid},{cls},{j % len(CLASSES)},{start:.2f},{end:.2f},{int(start * 30)},{int(end * 30)}\n"


def make_thumos(adir: Path, ids: list[str], segments: int = 15) -> None:
    """One CSV per segment index, each listing every video: windows interleaved across chunks."""
    adir.mkdir(parents=True, exist_ok=True)
    for j in range(segments):
        start = 0.6 * j
        text = HEADER + "".join(_line(vid, j, start, start + 0.5) for vid in ids)
        (adir / f"val_part{j:02d}.csv").write_text(text)


def make_charades(adir: Path, ids: list[str], sentences: int = 4) -> None:
    """One CSV, a video's sentences (moments) together."""
    adir.mkdir(parents=True, exist_ok=True)
    rows = [_line(vid, j, 2.0 * j, 2.0 * j + 1.5) for vid in ids for j in range(sentences)]
    (adir / "val_sta.csv").write_text(HEADER + "".join(rows))


def _cfg(adir: Path, vdir: Path) -> Any:
    from vstar_data.generation.pipeline import GenerationConfig

    return GenerationConfig(adapter="tal", annotations=str(adir), videos=str(vdir), backend="template",
                            adapter_options={"tasks": "classification", "window": 4}, chunk_size=8, batch_size=8,
                            progress=False)


class _NoSharing(dict):
    """In-flight table that gives every caller a lock of its own: concurrent probes of one file
    each run their demux pass, as before the fix."""

    def setdefault(self, key: Any, default: Any = None) -> Any:
        import threading

        return threading.Lock()


def run_local(adir: Path, vdir: Path, out: Path, videos: int, pinned: bool) -> dict[str, Any]:
    from vstar_data.generation.engines import local as local_mod
    from vstar_data.generation.engines.local import LocalEngine
    from vstar_data.video import probe as probe_mod

    probe_mod.clear_cache()
    probe_mod.reset_probe_stats()
    inflight = probe_mod._inflight
    if not pinned:   # the old behaviour: the 64-entry LRU only, every caller its own demux pass
        local_mod.probe_mod = type(sys)("nopin")
        local_mod.probe_mod.pin = local_mod.probe_mod.unpin = lambda paths: list(paths) and None
        probe_mod._inflight = _NoSharing()
    try:
        t0 = time.perf_counter()
        summary = LocalEngine().run(_cfg(adir, vdir), out)
        secs = time.perf_counter() - t0
    finally:
        local_mod.probe_mod = probe_mod
        probe_mod._inflight = inflight
    st = probe_mod.probe_stats()
    return {"engine": "local", "shared": pinned, "samples": summary.samples, "videos": videos,
            "probes": st["misses"], "probes_per_video": round(st["misses"] / videos, 3),
            "cache_hits": st["hits"], "seconds": round(secs, 2)}


def _count_misses() -> None:
    """Ray worker setup hook: append one line per demux pass (cache miss) to the log file."""
    import vstar_data.video.frames  # noqa: F401  (binds its own _open first: seeks are not probes)
    from vstar_data.video import probe as probe_mod

    log = os.environ[LOG_ENV]
    opened = probe_mod._open

    def counting_open(path: Any) -> Any:
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()}\t{path}\n")
        return opened(path)

    probe_mod._open = counting_open


def run_ray(adir: Path, vdir: Path, out: Path, videos: int, shared: bool, log: Path) -> dict[str, Any]:
    import ray

    from vstar_data.generation.engines import ray as ray_mod
    from vstar_data.generation.engines.ray import RayEngine

    log.write_text("")
    ray.init(num_cpus=4, include_dashboard=False, configure_logging=False,
             runtime_env={"worker_process_setup_hook": _count_misses, "env_vars": {LOG_ENV: str(log)}})
    saved = ray_mod.shared_probes
    if not shared:
        ray_mod.shared_probes = lambda plan: {}
    try:
        engine = RayEngine(num_actors=1)
        t0 = time.perf_counter()
        summary = engine.run(_cfg(adir, vdir), out)
        secs = time.perf_counter() - t0
    finally:
        ray_mod.shared_probes = saved
        ray.shutdown()
    lines = [ln.split("\t") for ln in log.read_text().splitlines() if ln]
    driver = engine.stats.get("shared_probes", {})
    workers = len({pid for pid, _ in lines})
    total = len(lines) + driver.get("videos", 0)
    return {"engine": "ray", "shared": shared, "samples": summary.samples, "videos": videos,
            "probes": total, "probes_per_video": round(total / videos, 3),
            "driver_probes": driver.get("videos", 0), "driver_probe_s": driver.get("s", 0.0),
            "worker_probes": len(lines), "decode_workers_probing": workers, "seconds": round(secs, 2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=40)
    ap.add_argument("--big-videos", type=int, default=80)
    ap.add_argument("--ray-videos", type=int, default=16)
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--shapes", default="thumos,thumos-big,charades", help="local shapes to run")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench_probe_") as tmp:
        work = Path(tmp)
        vdir = work / "videos"
        ids = make_videos(vdir, max(args.videos, args.big_videos, args.ray_videos))
        shapes = {"thumos": (make_thumos, args.videos), "thumos-big": (make_thumos, args.big_videos),
                  "charades": (make_charades, args.videos)}
        for shape, (make, n) in shapes.items():
            if shape not in args.shapes.split(","):
                continue
            adir = work / f"ann-{shape}"
            make(adir, ids[:n])
            for shared in (False, True):
                res = run_local(adir, vdir, work / f"out-{shape}-local-{shared}", n, shared)
                results.append({"shape": shape, **res})
                print(json.dumps(results[-1]), flush=True)
        if not args.no_ray:
            adir = work / "ann-ray"
            make_thumos(adir, ids[:args.ray_videos], segments=6)
            for shared in (False, True):
                res = run_ray(adir, vdir, work / f"out-ray-{shared}", args.ray_videos, shared,
                              work / f"ray-{shared}.log")
                results.append({"shape": "thumos-ray", **res})
                print(json.dumps(results[-1]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
