"""Publishing cost: `store.publish` of N synthetic attempt rows vs a bare pyarrow streaming write.

For each size (default 100,000 and 1,000,000 published rows), in fresh subprocesses so each
peak-memory figure (ru_maxrss) belongs to one job:

1. `gen`      writes N accepted attempt rows plus 10% rejected ones (answers 200-1,500 characters,
              realistic label specs and verifier scores) as JSONL shards (not timed against anything).
2. `baseline` the same rows, bare: read the JSONL, keep accepted rows, convert to the published
              columns, stream 10k-row record batches through pyarrow `ParquetWriter` (zstd), one
              file per (source, split). No validation, dedup, card, git. (Both jobs run with the
              cyclic GC off, as write_shards does.)
3. `publish`  `vstar_data.dataset.store.publish(...)` into a fresh store: validation, dedup, shards, card,
              plot, git add + commit + tag.
4. `load`     `datasets.load_dataset(store)` with an empty cache.

Reports wall time, rows/s, peak RSS of the Python process (git runs as separate processes), store size on disk, and
publish/baseline ratios. Targets: publish within 1.5x of baseline, peak < 400 MB and flat.

    .venv/bin/python benchmarks/bench_publish.py [--sizes 100000 1000000] [--work DIR] [--keep]
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SOURCES = [("kinetics700", "action_recognition", ("train", "validate")),
           ("finediving", "action_quality", ("train", "test")),
           ("tal", "temporal_localization", ("validation", "test"))]
WORDS = ("the person moves arm leg jumps water board pool diver rotates twists enters clip frame camera "
         "slowly quickly then after before while background crowd judges score points seconds start end "
         "action shows clearly visible towards left right forward backward somersault pike tuck entry "
         "splash small large because therefore first second finally overall scene outdoor indoor").split()


def _labels(source: str, i: int) -> list[dict[str, Any]]:
    if source == "kinetics700":
        return [{"type": "category", "name": "action", "value": f"class {i % 700}", "synonyms": []}]
    if source == "finediving":
        return [{"type": "number", "name": "dive_score", "value": round(40 + (i % 600) / 10, 1), "abs_tol": 2.0},
                {"type": "sequence", "name": "sub_actions", "value": ["Forward", "2.5 Soms.Pike", "Entry"]}]
    return [{"type": "interval", "name": "segment", "start": float(i % 50), "end": float(i % 50) + 4.0},
            {"type": "category", "name": "action", "value": "CliffDiving"}]


def gen(out: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    blob = " ".join(rng.choice(WORDS) for _ in range(2_000_000))
    out.mkdir(parents=True, exist_ok=True)
    shards = [(out / f"worker-{k}" / "attempts-00000.jsonl") for k in range(4)]
    for p in shards:
        p.parent.mkdir(parents=True, exist_ok=True)
    files = [p.open("w", encoding="utf-8") for p in shards]
    for i in range(n):
        source, task, splits = SOURCES[i % 3]
        labels = _labels(source, i)
        rejected = i % 10 == 0
        for origin, accepted in ((("generated", False), ("rationalized", True)) if rejected else (("generated", True),)):
            k = rng.randint(200, 1500)
            off = rng.randint(0, len(blob) - k - 1)
            row = {"id": f"{source}/{i:08d}", "source": source, "task": task, "split": splits[i % 2],
                   "video": f"{source}/videos/{i:08d}.mp4", "clip_start": None, "clip_end": None,
                   "labels": labels, "question": f"Question {i % 97}: what does the person do in this clip?",
                   "template_id": f"{task}@1", "prompt": "USER: <video>\nQuestion ASSISTANT:",
                   "answer": blob[off:off + k], "origin": origin, "accepted": accepted,
                   "verifier_profile": "default",
                   "verifier_scores": [{"name": s["name"], "type": s["type"], "passed": accepted, "score": 0.93,
                                        "span": [3, 17], "matched": "class", "reason": None} for s in labels],
                   "model": "LanguageBind/Video-LLaVA-7B-hf", "model_revision": "main", "cycle": 0,
                   "frame_indices": [0, 35, 70, 105, 140, 175, 210, 245], "timing": {"generate_s": 0.8},
                   "attempt": 1 if origin == "rationalized" else 0}
            files[i % 4].write(json.dumps(row) + "\n")
    for f in files:
        f.close()


def baseline(rows: Path, out: Path) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from vstar_data.generation.attempts import attempt_files
    from vstar_data.dataset.rows import features, to_record

    schema = features().arrow_schema
    writers: dict[tuple[str, str], Any] = {}
    buffers: dict[tuple[str, str], list] = {}
    out.mkdir(parents=True, exist_ok=True)

    def flush(key: tuple[str, str]) -> None:
        batch = pa.RecordBatch.from_arrays([pa.array(c, type=f.type) for c, f in zip(zip(*buffers[key]), schema)],
                                           schema=schema)
        if key not in writers:
            writers[key] = pq.ParquetWriter(out / f"{key[0]}-{key[1]}.parquet", schema, compression="zstd")
        writers[key].write_batch(batch)
        buffers[key] = []

    n = 0
    gc.disable()  # as write_shards does: the loop makes no cycles, collections only rescan buffers
    for path in attempt_files(rows):
        with path.open("rb") as fh:
            for line in fh:
                row = json.loads(line)
                if not row["accepted"]:
                    continue
                key = (row["source"], row["split"])
                buf = buffers.setdefault(key, [])
                buf.append(to_record(row))
                n += 1
                if len(buf) >= 10_000:
                    flush(key)
    for key in list(buffers):
        if buffers[key]:
            flush(key)
        writers[key].close()
    return {"rows": n, "bytes": sum(p.stat().st_size for p in out.glob("*.parquet"))}


def publish(rows: Path, store: Path, one_core: bool = False) -> dict[str, Any]:
    from vstar_data.dataset import writer as dataset_writer
    from vstar_data.dataset.store import publish as do_publish

    # `publish` checks rows in a helper process only when a core looks idle (load average);
    # the benchmark pins the choice so that each figure means one thing.
    dataset_writer._spare_core = lambda: not one_core

    result = do_publish(rows, store, "v0.1.0", "benchmark release")
    return {"rows": result.counts["default"] and sum(result.counts["default"].values()), "commit": result.commit}


def load(store: Path, cache: Path) -> dict[str, Any]:
    import datasets

    datasets.disable_progress_bars()
    ds = datasets.load_dataset(str(store), cache_dir=str(cache))
    return {"rows": sum(d.num_rows for d in ds.values())}


def child(job: str, args: list[str]) -> None:
    t0 = time.perf_counter()
    if job == "gen":
        info: dict[str, Any] = {}
        gen(Path(args[0]), int(args[1]))
    elif job == "check":
        from vstar_data.dataset.writer import check_rows

        info = check_rows(args[0])
    elif job == "baseline":
        info = baseline(Path(args[0]), Path(args[1]))
    elif job in ("publish", "publish-1core"):
        info = publish(Path(args[0]), Path(args[1]), one_core=job == "publish-1core")
    else:
        info = load(Path(args[0]), Path(args[1]))
    info["wall_s"] = time.perf_counter() - t0
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    info["peak_rss_mb"] = me.ru_maxrss / 1024
    info["cpu_s"] = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    print("RESULT " + json.dumps(info), flush=True)


def run(job: str, *args: Any) -> dict[str, Any]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "USE_TORCH": "0"}
    proc = subprocess.run([sys.executable, __file__, "--child", job, *map(str, args)], env=env,
                          capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{job} failed:\n{proc.stderr[-4000:]}")
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--work", type=Path, default=Path("/tmp/vstar-bench-publish"))
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--one-core", action="store_true",
                    help="also time publish with the row check in-process (what publish does on a busy machine)")
    a = ap.parse_args()
    results = []
    for n in a.sizes:
        work = a.work / f"n{n}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        g = run("gen", work / "rows", n)
        base = run("baseline", work / "rows", work / "baseline")
        load0 = os.getloadavg()[0]
        pub = run("publish", work / "rows", work / "vstar-1m")
        chk = run("check", work / "rows")
        one = run("publish-1core", work / "rows", work / "vstar-1m-1core") if a.one_core else None
        ld = run("load", work / "vstar-1m", work / "cache")
        store_bytes, git_bytes = du(work / "vstar-1m"), du(work / "vstar-1m" / ".git")
        r = {"rows": n, "input_mb": du(work / "rows") / 2**20, "gen_s": g["wall_s"],
             "baseline_s": base["wall_s"], "baseline_rows_s": n / base["wall_s"], "baseline_peak_mb": base["peak_rss_mb"],
             "baseline_parquet_mb": base["bytes"] / 2**20,
             "baseline_cpu_s": base["cpu_s"],
             "publish_s": pub["wall_s"], "publish_rows_s": n / pub["wall_s"], "publish_peak_mb": pub["peak_rss_mb"],
             "publish_cpu_s": pub["cpu_s"], "checker_peak_mb": chk["peak_rss_mb"], "checker_s": chk["wall_s"],
             "ratio": pub["wall_s"] / base["wall_s"], "loadavg_before_publish": load0,
             "publish_1core_s": one and one["wall_s"], "ratio_1core": one and one["wall_s"] / base["wall_s"],
             "publish_1core_peak_mb": one and one["peak_rss_mb"], "publish_1core_cpu_s": one and one["cpu_s"],
             "store_mb": store_bytes / 2**20, "store_git_mb": git_bytes / 2**20,
             "load_s": ld["wall_s"], "load_peak_mb": ld["peak_rss_mb"], "published_rows": pub["rows"]}
        results.append(r)
        print(json.dumps(r), flush=True)
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\n{'rows':>9} {'baseline s':>10} {'publish s':>9} {'ratio':>5} {'cpu s':>11} {'rows/s':>8} "
          f"{'peak MB':>7} {'check MB':>8} {'store MB':>8} {'load s':>6}")
    for r in results:
        print(f"{r['rows']:>9,} {r['baseline_s']:>10.1f} {r['publish_s']:>9.1f} {r['ratio']:>5.2f} "
              f"{r['baseline_cpu_s']:>5.0f}/{r['publish_cpu_s']:<5.0f} {r['publish_rows_s']:>8,.0f} "
              f"{r['publish_peak_mb']:>7.0f} {r['checker_peak_mb']:>8.0f} {r['store_mb']:>8.0f} {r['load_s']:>6.1f}")
    for r in results:
        if r["publish_1core_s"]:
            print(f"{r['rows']:>9,} row check in-process: publish {r['publish_1core_s']:.1f} s, "
                  f"ratio {r['ratio_1core']:.2f}, cpu {r['publish_1core_cpu_s']:.0f} s, "
                  f"peak {r['publish_1core_peak_mb']:.0f} MB")
    if a.json:
        a.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3:])
    else:
        main()
