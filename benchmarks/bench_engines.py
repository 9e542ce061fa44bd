"""Ray engine vs local engine on the same samples, plus an estimate of VSTaR-1M generation time.

Builds N samples (default 200) cycling over the 8 fixture clips (each sample its own copy of a
clip, so nothing is cached between samples) and a tiny random-weight qwen2_vl model, then runs,
each in a fresh subprocess:

1. `local`   LocalEngine().run(...) (model load included, as in a real run);
2. `ray`     ray.init(num_cpus=C) timed on its own, then RayEngine().run(...) (actor start-up and
             model load included); both with the transformers backend, greedy, so their rows
             must be identical (checked, `timing` aside);
3. `local-template` / `ray-template`: the same with the template backend (no decoding, no
             model): what is left is each engine's own overhead;
4. `decode`  pipeline.decode_one over every sample in one thread: decode seconds per clip at the
             run's frame settings and at the paper's (8 frames, 336 px short side);
5. `local-1thread`: the local engine with OMP_NUM_THREADS=1, as Ray runs its 1-CPU actor (torch
             threads fight the decode threads on a small machine).

Reports wall time per engine and the ratio, where the time goes (Ray start-up, first chunk,
decode, model), and an ESTIMATE of VSTaR-1M generation time on N GPUs: measured per-clip CPU
costs (decode, verify, Ray per-chunk overhead) plus an ASSUMED GPU seconds per generation (no
GPU here), stated with the result.

    .venv/bin/python benchmarks/bench_engines.py [--samples 200] [--json out.json]
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("VSTAR_FIXTURES", ROOT.parent / "shared" / "fixtures"))
CLIPS = {"arm_wrestling.mp4": "arm wrestling", "basketball.mp4": "shooting basketball",
         "eye_makeup.avi": "putting on eyeliner", "flipping_pancake.mkv": "flipping pancake",
         "hitting_baseball.mp4": "hitting baseball", "playing_guitar.mp4": "playing guitar",
         "pool_cleaning_1s.mp4": "cleaning pool", "yoga.mp4": "yoga"}
# VSTaR-1M (paper): ~650K Kinetics-700 clips, 40 GPUs x 64 hours for generation.
PAPER_CLIPS, PAPER_GPUS, PAPER_HOURS = 650_000, 40, 64


def make_inputs(work: Path, n: int) -> tuple[Path, Path]:
    """N samples over the fixture clips, each with a video file of its own."""
    vdir = work / "videos"
    vdir.mkdir(parents=True, exist_ok=True)
    names = sorted(CLIPS)
    rows = []
    for i in range(n):
        name = names[i % len(names)]
        stem, ext = name.rsplit(".", 1)
        target = vdir / f"{stem}_{i:04d}.{ext}"
        if not target.exists():
            shutil.copy(FIXTURES / "videos" / name, target)
        rows.append({"label": CLIPS[name], "youtube_id": target.stem, "time_start": 0, "time_end": 10,
                     "split": "validate"})
    csv_path = work / "clips.csv"
    with csv_path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return csv_path, vdir


def _cfg(a: dict[str, Any], backend: str) -> Any:
    from vstar_data.generation.pipeline import GenerationConfig

    return GenerationConfig(adapter="kinetics700", annotations=a["csv"], videos=a["videos"], backend=backend,
                            model=a["model"] if backend != "template" else None, num_frames=a["frames"],
                            frame_size=a["size"], max_new_tokens=a["max_new_tokens"], chunk_size=a["batch"],
                            batch_size=a["batch"], progress=False)


def _row_stats(out: Path) -> dict[str, Any]:
    rows = [json.loads(line) for p in sorted((out / "attempts").glob("chunk-*.jsonl"))
            for line in p.read_text().splitlines() if line.strip()]
    t = [r["timing"] for r in rows]
    return {"rows": len(rows), "decode_s_sum": round(sum(x.get("decode_s", 0) for x in t), 3),
            "generate_s_sum": round(sum(x.get("generate_s", 0) for x in t), 3),
            "verify_s_sum": round(sum(x.get("verify_s", 0) for x in t), 4)}


def child(job: str, a: dict[str, Any]) -> dict[str, Any]:
    """One measurement in this (fresh) process."""
    out = Path(a["work"]) / job
    shutil.rmtree(out, ignore_errors=True)
    backend = "template" if "template" in job else "transformers"
    if job.startswith("local"):
        from vstar_data.generation.engines.local import LocalEngine

        t0 = time.perf_counter()
        s = LocalEngine().run(_cfg(a, backend), out)
        return {"wall_s": time.perf_counter() - t0, "model_busy_s": s.model_busy_s, "summary": s.to_dict(),
                **_row_stats(out)}
    if job.startswith("ray"):
        import ray

        from vstar_data.generation.engines.ray import RayEngine

        t0 = time.perf_counter()
        ray.init(address="local", num_cpus=a["cpus"], include_dashboard=False, configure_logging=False,
                 log_to_driver=False)
        init_s = time.perf_counter() - t0
        engine = RayEngine()
        t1 = time.perf_counter()
        s = engine.run(_cfg(a, backend), out)
        run_s = time.perf_counter() - t1
        ray.shutdown()
        return {"wall_s": init_s + run_s, "ray_init_s": init_s, "run_s": run_s, "engine": engine.stats,
                "model_busy_s": s.model_busy_s, "summary": s.to_dict(), **_row_stats(out)}
    if job == "decode":
        from vstar_data.generation.pipeline import GenerationConfig, decode_one, prepare

        res = {}
        for label, frames, size in (("run", a["frames"], a["size"]), ("paper", 8, 336)):
            cfg = GenerationConfig(adapter="kinetics700", annotations=a["csv"], videos=a["videos"],
                                   num_frames=frames, frame_size=size, progress=False)
            samples = prepare(cfg).samples
            t0 = time.perf_counter()
            for ps in samples:
                decode_one(ps, cfg, True)
            res[label] = {"frames": frames, "size": size, "s_per_clip": (time.perf_counter() - t0) / len(samples)}
        return res
    raise SystemExit(f"unknown job {job}")


def run(job: str, a: dict[str, Any], **env: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--child", job, json.dumps(a)], capture_output=True,
                          text=True, timeout=3600, env={**os.environ, **env})
    if proc.returncode != 0:
        raise SystemExit(f"{job} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def same_rows(work: Path, a: str, b: str) -> bool:
    def load(d: str) -> list[dict]:
        rows = [json.loads(line) for p in sorted((work / d / "attempts").glob("chunk-*.jsonl"))
                for line in p.read_text().splitlines() if line.strip()]
        return [{k: v for k, v in r.items() if k != "timing"} for r in rows]
    return load(a) == load(b)


def estimate(m: dict[str, Any], gpu_gen_s: float, attempts: float, gpus: int, cpus_per_gpu: int,
             clips: int = PAPER_CLIPS) -> dict[str, Any]:
    """Hours for `clips` clips on `gpus` GPUs: the model stage (assumed GPU seconds per generation
    x generations per clip) against decoding (measured, on the GPU nodes' CPUs) and the Ray
    engine's per-chunk overhead (measured), whichever bounds the pipeline, plus start-up."""
    model_h = clips * attempts * gpu_gen_s / gpus / 3600
    decode_h = clips * m["decode_paper_s"] / (gpus * cpus_per_gpu) / 3600
    overhead_h = clips * (m["ray_overhead_per_clip_s"] + m["verify_per_clip_s"]) / gpus / 3600   # not hidden
    return {"gpus": gpus, "hours": round(max(model_h, decode_h) + overhead_h + m["startup_s"] / 3600, 2),
            "model_h": round(model_h, 2), "decode_h_if_alone": round(decode_h, 3),
            "overhead_h": round(overhead_h, 3), "bound": "model" if model_h >= decode_h else "decode"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--size", type=int, default=112, help="short side of decoded frames (pixels)")
    ap.add_argument("--batch", type=int, default=8, help="chunk size = batch size")
    ap.add_argument("--max-new-tokens", type=int, default=16)
    ap.add_argument("--cpus", type=int, default=2, help="CPUs given to the local Ray instance")
    ap.add_argument("--gpu-gen-s", type=float, default=1.5,
                    help="ASSUMED GPU seconds per generation (7B video LLM, 8 frames, ~256 new tokens, batch 8)")
    ap.add_argument("--attempts", type=float, default=1.5,
                    help="ASSUMED generations per clip (1 + share rationalized)")
    ap.add_argument("--cpus-per-gpu", type=int, default=8, help="ASSUMED CPU cores per GPU for decoding")
    ap.add_argument("--work", type=Path, default=Path("/tmp/vstar-bench-engines"))
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], json.loads(args.child[1]))))
        return

    from vstar_data.backends.tiny import build_tiny_model

    args.work.mkdir(parents=True, exist_ok=True)
    csv_path, vdir = make_inputs(args.work, args.samples)
    model = build_tiny_model("qwen2_vl", args.work / "tiny-qwen2-vl")
    a = {"work": str(args.work), "csv": str(csv_path), "videos": str(vdir), "model": str(model),
         "frames": args.frames, "size": args.size, "max_new_tokens": args.max_new_tokens, "batch": args.batch,
         "cpus": args.cpus}
    load0 = os.getloadavg()[0]
    res = {job: run(job, a) for job in ("local", "ray", "local-template", "ray-template", "decode")}
    # Ray gives each actor OMP_NUM_THREADS = its CPUs (1); the local engine's torch takes every core
    res["local-1thread"] = run("local-1thread", a, OMP_NUM_THREADS="1")
    n, chunks = args.samples, -(-args.samples // args.batch)
    lt, rt = res["local-template"], res["ray-template"]
    ray_eng = res["ray"]["engine"]
    measured = {
        "decode_run_s": res["decode"]["run"]["s_per_clip"], "decode_paper_s": res["decode"]["paper"]["s_per_clip"],
        "verify_per_clip_s": res["local"]["verify_s_sum"] / n,
        # the Ray engine's own cost per chunk once running (template: no decode, no model), per clip
        "ray_overhead_per_clip_s": (rt["run_s"] - rt["engine"]["first_result_s"]) / max(chunks - 1, 1) / args.batch,
        "startup_s": res["ray"]["ray_init_s"] + ray_eng.get("first_result_s", 0),
    }
    paper_s = PAPER_GPUS * PAPER_HOURS * 3600 / PAPER_CLIPS
    report = {
        "samples": n, "chunks": chunks, "frames": args.frames, "size": args.size, "batch": args.batch,
        "max_new_tokens": args.max_new_tokens, "ray_cpus": args.cpus, "loadavg_before": round(load0, 2),
        "identical_rows": same_rows(args.work, "local", "ray"),
        "identical_rows_template": same_rows(args.work, "local-template", "ray-template"),
        "identical_rows_local_1thread": same_rows(args.work, "local", "local-1thread"),
        "local": {"wall_s": round(res["local"]["wall_s"], 2), "model_busy_s": round(res["local"]["model_busy_s"], 2),
                  "decode_s_sum": res["local"]["decode_s_sum"], "rows": res["local"]["rows"]},
        "local_1thread": {"wall_s": round(res["local-1thread"]["wall_s"], 2),
                          "model_busy_s": round(res["local-1thread"]["model_busy_s"], 2)},
        "ray": {"wall_s": round(res["ray"]["wall_s"], 2), "ray_init_s": round(res["ray"]["ray_init_s"], 2),
                "run_s": round(res["ray"]["run_s"], 2), "first_result_s": ray_eng.get("first_result_s"),
                "model_busy_s": round(res["ray"]["model_busy_s"], 2), "decode_s_sum": res["ray"]["decode_s_sum"],
                "pool": ray_eng.get("pool"), "rows": res["ray"]["rows"]},
        "ratio_ray_over_local": round(res["ray"]["wall_s"] / res["local"]["wall_s"], 2),
        "ratio_excluding_ray_init": round(res["ray"]["run_s"] / res["local"]["wall_s"], 2),
        "ratio_vs_local_1thread": round(res["ray"]["wall_s"] / res["local-1thread"]["wall_s"], 2),
        "template": {"local_wall_s": round(lt["wall_s"], 3), "ray_wall_s": round(rt["wall_s"], 2),
                     "ray_init_s": round(rt["ray_init_s"], 2), "ray_run_s": round(rt["run_s"], 2),
                     "ray_first_result_s": rt["engine"].get("first_result_s")},
        "decode_s_per_clip": {k: round(v["s_per_clip"], 4) for k, v in res["decode"].items()},
        "measured_per_clip": {k: round(v, 5) for k, v in measured.items()},
        "estimate_vstar_1m": {
            "label": "ESTIMATE, not a measurement: GPU cost per generation is assumed (no GPU here)",
            "assumptions": {"clips": PAPER_CLIPS, "gpu_s_per_generation": args.gpu_gen_s,
                            "generations_per_clip": args.attempts, "cpu_cores_per_gpu": args.cpus_per_gpu,
                            "decode": "measured here on 340x256-568x320 fixture clips, 8 frames at 336 px"},
            "by_gpus": [estimate(measured, args.gpu_gen_s, args.attempts, g, args.cpus_per_gpu)
                        for g in (8, 40, 128)],
            # the paper's own figure as a GPU cost: 40 GPUs x 64 h over 650K clips
            "paper": {"gpus": PAPER_GPUS, "hours": PAPER_HOURS, "implied_gpu_s_per_clip": round(paper_s, 1),
                      "by_gpus_at_paper_cost": [estimate(measured, paper_s, 1.0, g, args.cpus_per_gpu)
                                                for g in (8, 40, 128)]},
        },
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    if not args.keep:
        shutil.rmtree(args.work, ignore_errors=True)
    if not (report["identical_rows"] and report["identical_rows_template"]):
        raise SystemExit("the Ray engine's rows differ from the local engine's")


if __name__ == "__main__":
    main()
