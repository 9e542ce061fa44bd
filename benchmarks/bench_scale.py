"""A 1M-sample dry run: samples -> generate (template backend) -> push -> export -> load_dataset.

For each N (default 10,000, 100,000 and 1,000,000 samples) a synthetic Kinetics-700 source is
built in a temporary folder: a CSV of N rows whose clips are symlinks to a handful of the real
fixture clips (../shared/fixtures/videos; never copied into the project). Every stage then runs
through the CLI in a fresh subprocess, so each figure belongs to one stage:

1. `samples`   `vstar-data samples kinetics700 ...` (adapter + prompts -> samples.jsonl)
2. `generate`  `vstar-data generate kinetics700 ... --backend template` (plan, probe/check each
               clip, answer, verify, write chunks + manifests)
3. `push`      `vstar-data push` of the run's attempts into a fresh store (validation, dedup,
               parquet shards, card, git commit + tag)
4. `export`    `vstar-data export STORE --format llamafactory --video-root VIDEOS`
5. `load`      `datasets.load_dataset("json", data_files=<export>/vstar.jsonl)` with an empty cache

Per stage: wall seconds, CPU seconds (user + system of the stage's process and the children it
waited for, from `os.wait4`), CPU microseconds per sample, peak RSS (ru_maxrss of the stage's
process tree) and the on-disk sizes it produced (plan.json, chunk manifests, attempts, store,
export). Then the N -> 10N ratios of wall and CPU time per stage (1.0x per sample = linear).
Goal (issue 25): 100k -> 1M CPU within 1.1x of 10x, and peak RSS <= 2 GB at 1M.

    nice .venv/bin/python benchmarks/bench_scale.py [--sizes 10000,100000,1000000] [--json out.json]
    nice .venv/bin/python benchmarks/bench_scale.py --quick      # N=200: a smoke test (seconds)
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

FIXTURES = Path(os.environ.get("VSTAR_FIXTURES", Path(__file__).resolve().parents[2] / "shared" / "fixtures"))
# (fixture file, its Kinetics-700 class): the 10 s clips, so every 0-10 s window lies in its clip
CLIPS = (("arm_wrestling.mp4", "arm wrestling"), ("hitting_baseball.mp4", "hitting baseball"),
         ("yoga.mp4", "yoga"), ("playing_guitar.mp4", "playing guitar"),
         ("basketball.mp4", "dribbling basketball"), ("flipping_pancake.mkv", "flipping pancake"))
STAGES = ("samples", "generate", "push", "export", "load")
LOAD_SCRIPT = """
import sys
from datasets import load_dataset
ds = load_dataset("json", data_files=sys.argv[1], cache_dir=sys.argv[2], split="train")
assert len(ds) == int(sys.argv[3]), (len(ds), sys.argv[3])
"""


def build_source(work: Path, n: int) -> tuple[Path, Path]:
    """A kinetics700 CSV of `n` rows and a flat video folder of `n` symlinks to the fixture clips."""
    videos = work / "videos"
    videos.mkdir(parents=True)
    csv_path = work / "clips.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["label", "youtube_id", "time_start", "time_end", "split"])
        for i in range(n):
            name, label = CLIPS[i % len(CLIPS)]
            yid = f"y{i:09d}"
            w.writerow([label, yid, 0, 10, "train" if i % 10 else "validate"])
            os.symlink(FIXTURES / "videos" / name, videos / f"{yid}_000000_000010{Path(name).suffix}")
    return csv_path, videos


def run_stage(cmd: list[str], log: Path) -> dict[str, float]:
    """Run one stage in its own process (niced like the caller); wall, CPU and peak RSS of its tree."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", HF_HUB_DISABLE_PROGRESS_BARS="1",
               USE_TORCH="0", NO_COLOR="1", COLUMNS="200")
    t0 = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env)
        _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"stage failed ({proc.returncode}): {' '.join(cmd)}\n{log.read_text()[-3000:]}")
    return {"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "peak_rss_mb": ru.ru_maxrss / 1024}


def du(path: Path) -> int:
    """Bytes on disk under `path` (files' apparent sizes; symlinks not followed)."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def run_size(n: int, work: Path, chunk: int) -> dict[str, Any]:
    """Every stage for one N; returns {stage: figures} and the sizes on disk."""
    t0 = time.perf_counter()
    csv_path, videos = build_source(work, n)
    setup_s = time.perf_counter() - t0
    print(f"  N={n:,} source: {setup_s:.1f} s (CSV + symlinks, not counted)", flush=True)
    cli = [sys.executable, "-m", "vstar_data.cli"]
    gen, store, lf = work / "gen", work / "store", work / "lf"
    cmds = {
        "samples": cli + ["samples", "kinetics700", "-a", str(csv_path), "-v", str(videos),
                          "--out", str(work / "samples.jsonl")],
        "generate": cli + ["generate", "kinetics700", "-a", str(csv_path), "-v", str(videos), "--out", str(gen),
                           "--backend", "template", "--batch-size", str(chunk)],
        "push": cli + ["push", str(gen / "attempts"), "--store", str(store), "--tag", "v0", "-m", "scale"],
        "export": cli + ["export", str(store), "--format", "llamafactory", "--video-root", str(videos),
                         "--out", str(lf)],
        "load": [sys.executable, "-c", LOAD_SCRIPT, str(lf / "vstar.jsonl"), str(work / "hf-cache"), str(n)],
    }
    stages = {}
    for name in STAGES:
        stages[name] = s = run_stage(cmds[name], work / f"{name}.log")
        s["us_per_sample"] = 1e6 * s["cpu_s"] / n
        print(f"  N={n:,} {name}: wall {s['wall_s']:.1f} s, CPU {s['cpu_s']:.1f} s, peak {s['peak_rss_mb']:.0f} MB",
              flush=True)   # a long run's finished stages are on record before the last one ends
    sizes = {"samples.jsonl": du(work / "samples.jsonl"), "plan.json": du(gen / "plan.json"),
             "manifests": du(gen / "chunks"), "attempts": du(gen / "attempts"), "skipped": du(gen / "skipped"),
             "store": du(store), "store .git": du(store / ".git"), "export": du(lf)}
    return {"n": n, "setup_s": round(setup_s, 2), "stages": stages, "sizes": sizes}


def table(results: list[dict[str, Any]]) -> str:
    """The per-stage table, then the N -> next-N ratios."""
    lines = [f"{'N':>9} {'stage':<9} {'wall s':>8} {'CPU s':>8} {'µs/sample':>10} {'peak MB':>8}"]
    for r in results:
        for name in STAGES:
            s = r["stages"][name]
            lines.append(f"{r['n']:>9,} {name:<9} {s['wall_s']:>8.2f} {s['cpu_s']:>8.2f} "
                         f"{s['us_per_sample']:>10.1f} {s['peak_rss_mb']:>8.0f}")
        tot = {k: sum(r["stages"][s][k] for s in STAGES) for k in ("wall_s", "cpu_s")}
        lines.append(f"{r['n']:>9,} {'total':<9} {tot['wall_s']:>8.2f} {tot['cpu_s']:>8.2f} "
                     f"{1e6 * tot['cpu_s'] / r['n']:>10.1f} "
                     f"{max(r['stages'][s]['peak_rss_mb'] for s in STAGES):>8.0f}")
        lines.append("          sizes: " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in r["sizes"].items()))
    for a, b in zip(results, results[1:]):
        f = b["n"] / a["n"]
        parts = []
        for name in (*STAGES, "total"):
            ca = sum(a["stages"][s]["cpu_s"] for s in STAGES) if name == "total" else a["stages"][name]["cpu_s"]
            cb = sum(b["stages"][s]["cpu_s"] for s in STAGES) if name == "total" else b["stages"][name]["cpu_s"]
            parts.append(f"{name} {cb / ca:.1f}x ({cb / ca / f:.2f} per sample)")
        lines.append(f"CPU {a['n']:,} -> {b['n']:,} ({f:.0f}x N): " + ", ".join(parts))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated sample counts")
    ap.add_argument("--quick", action="store_true", help="one tiny size (200 samples): a smoke test")
    ap.add_argument("--chunk", type=int, default=64, help="generate --batch-size (the chunk size)")
    ap.add_argument("--work", type=Path, default=None, help="work folder (default: a new temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args(argv)
    if not (FIXTURES / "videos").is_dir():
        raise SystemExit(f"fixture clips not found under {FIXTURES} (set VSTAR_FIXTURES)")
    sizes = [200] if args.quick else [int(s) for s in args.sizes.split(",")]
    root = args.work or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    results = []
    try:
        for n in sizes:
            work = root / f"n{n}"
            shutil.rmtree(work, ignore_errors=True)
            results.append(run_size(n, work, args.chunk))
            print(table(results[-1:]), flush=True)
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(root, ignore_errors=True)
    print("\n" + table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    return results


if __name__ == "__main__":
    main()
