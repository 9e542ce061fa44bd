"""Batched vs one-by-one generation through the transformers backend on a tiny model.

Builds a tiny random-weight model (no download), answers the same clips with batch_size=1 and
batch_size=B under greedy decoding, checks that both give identical answers (left padding is
right), and reports clips/s and the speed-up. Each setting is timed `--repeats` times after a
warm-up; the best run is reported (least disturbed by other load).

    .venv/bin/python benchmarks/bench_generate.py --arch qwen2_vl --clips 32 --batch 8
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="qwen2_vl")
    ap.add_argument("--clips", type=int, default=32)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--size", type=int, default=64, help="frame height and width (pixels)")
    ap.add_argument("--max-new-tokens", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default=None)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from vstar_data.backends.base import Request
    from vstar_data.backends.transformers import TransformersBackend
    from vstar_data.backends.tiny import build_tiny_model
    from vstar_data.testing.backends import PROMPTS, make_frames

    with tempfile.TemporaryDirectory() as tmp:
        path = build_tiny_model(args.arch, Path(tmp) / args.arch)
        requests = [Request(frames=make_frames(args.frames, args.size, args.size, seed=i),
                            prompt=PROMPTS[i % len(PROMPTS)], sample_id=f"clip-{i}") for i in range(args.clips)]
        results: dict[int, dict] = {}
        answers: dict[int, list] = {}
        for bs in (1, args.batch):
            backend = TransformersBackend(model=str(path), batch_size=bs, max_new_tokens=args.max_new_tokens,
                                          device=args.device)
            backend.load()
            backend.generate(requests[:bs])                    # warm-up
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                answers[bs] = backend.generate(requests)
                times.append(time.perf_counter() - t0)
            best = min(times)
            results[bs] = {"seconds": round(best, 3), "clips_per_s": round(args.clips / best, 2)}
        same = answers[1] == answers[args.batch]
        report = {"arch": args.arch, "device": str(backend.hf_model.device), "torch_threads": torch.get_num_threads(),
                  "clips": args.clips, "frames": args.frames, "size": args.size,
                  "max_new_tokens": args.max_new_tokens, "batch_1": results[1],
                  f"batch_{args.batch}": results[args.batch],
                  "speedup": round(results[args.batch]["clips_per_s"] / results[1]["clips_per_s"], 2),
                  "identical_answers": same}
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    if not same:
        raise SystemExit("batched answers differ from one-by-one answers (padding bug?)")


if __name__ == "__main__":
    main()
