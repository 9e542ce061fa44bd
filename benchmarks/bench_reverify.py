"""Re-verification speed: publish N category-labelled rows, then `reverify` them into a new tag.

Reports rows/s in CPU seconds of this process (git runs in child processes, counted separately)
and extrapolates to 1M rows. Run: .venv/bin/python benchmarks/bench_reverify.py --rows 20000
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ANSWERS = ["The person is juggling three balls in a park.", "It is probably juggling.",
           "Juggling or dancing.", "A man juggles clubs on a stage while the crowd watches."]


def rows(n: int):
    for i in range(n):
        yield {"id": f"kinetics700/{i:07d}", "source": "kinetics700", "task": "action_recognition", "split": "train",
               "video": f"v/{i}.mp4", "clip_start": None, "clip_end": None,
               "labels": [{"type": "category", "name": "action", "value": "juggling"}],
               "question": "What is the person doing?", "template_id": "action@1", "prompt": "p",
               "answer": ANSWERS[i % 4] + " " + "The scene is bright. " * (i % 5), "origin": "generated",
               "accepted": True, "verifier_profile": "code",
               "verifier_scores": [{"name": "action", "type": "category", "passed": True, "score": 1.0}],
               "model": "m", "cycle": 0}


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20_000)
    args = ap.parse_args()
    from vstar_data.dataset.reverify import reverify
    from vstar_data.dataset.store import publish

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "rows"
        src.mkdir()
        with (src / "a.jsonl").open("w") as fh:
            for r in rows(args.rows):
                fh.write(json.dumps(r) + "\n")
        publish(src, Path(tmp) / "store", "v1", "bench")
        c0, k0, t0 = cpu(), children(), time.perf_counter()
        result = reverify(Path(tmp) / "store", "v1", "v2", "bench re-verify")
        cpu_s, child_s, wall = cpu() - c0, children() - k0, time.perf_counter() - t0
    rate = args.rows / cpu_s
    print(json.dumps({"rows": args.rows, "rejected": sum(result.rejected.values()), "cpu_s": round(cpu_s, 2),
                      "git_child_cpu_s": round(child_s, 2), "wall_s": round(wall, 2),
                      "rows_per_cpu_s": round(rate), "extrapolated_1M_cpu_min": round(1e6 / rate / 60, 1),
                      "python": sys.version.split()[0]}))


if __name__ == "__main__":
    main()
