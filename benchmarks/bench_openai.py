"""Throughput and per-request overhead of the openai backend against the loopback server.

Starts tests/backends/openai_server.py on 127.0.0.1 in echo mode with a fixed artificial latency
(default 50 ms: a stand-in for a model server's answer time), sends the same requests at
concurrency 1, 8 and 32, and prints requests/s next to the ideal (concurrency / latency) and the
library's own cost per request: the time each concurrency slot spends per request minus the
server's handler time (frame encoding, JSON, HTTP client, loopback TCP, event-loop scheduling,
cache keys). Payloads: text only, and 8 frames of 336x448 as JPEG (and PNG) image parts. Also
timed: a re-run answered from the request cache, and optionally (`--tiny`) the tiny qwen2_vl
model behind the server (real generation, one at a time on the server).

    .venv/bin/python benchmarks/bench_openai.py [--requests 64] [--latency 0.05] [--tiny]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
SERVER = Path(__file__).resolve().parents[1] / "tests" / "backends" / "openai_server.py"


def real_clips(num_frames: int, size: int) -> list:
    """Frames of the real fixture clips (realistic JPEG/PNG sizes), or smooth synthetic ones."""
    import numpy as np

    from vstar_data.video.frames import Frames, sample_frames

    folder = Path(os.environ.get("VSTAR_FIXTURES", Path(__file__).resolve().parents[2] / "shared" / "fixtures"))
    videos = sorted((folder / "videos").glob("*.mp4"))
    if videos:
        return [sample_frames(v, num_frames, size=size) for v in videos]
    y, x = np.mgrid[0:size, 0:size * 4 // 3]
    return [Frames(array=np.stack([((x + 7 * k + 31 * i) % 256 + 0 * y).astype(np.uint8)[..., None].repeat(3, -1)
                                   for k in range(num_frames)]), indices=list(range(num_frames)),
                   timestamps=[k / 25 for k in range(num_frames)], fps=25.0, duration=num_frames / 25,
                   total_frames=num_frames) for i in range(4)]


class ServerProcess:
    """tests/backends/openai_server.py in its own process (its CPU is not the client's), with
    the request count and handler times read over HTTP."""

    def __init__(self, latency: float, model: str | None = None) -> None:
        import subprocess

        cmd = [sys.executable, str(SERVER), "--latency", str(latency)] + (["--model", model] if model else [])
        env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}  # tiny model: 1 thread
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline()
        if "serving on" not in line:
            self.proc.kill()
            raise RuntimeError(f"the loopback server did not start: {line!r}")
        self.url = line.split()[2]
        self.model_name = "tiny-vlm"

    def _call(self, method: str, path: str) -> dict:
        import urllib.request

        req = urllib.request.Request(self.url + path, method=method, data=b"{}" if method == "POST" else None)
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def reset(self) -> None:
        self._call("POST", "/_reset")

    def stats(self) -> dict:
        return self._call("GET", "/_stats")

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def run_case(server: ServerProcess, requests, *, concurrency: int, image_format: str = "jpeg",
             cache_dir: str | None = None, warm: bool = True, repeats: int = 1) -> dict:
    """Best of `repeats` runs (least disturbed by other load on a shared machine)."""
    from vstar_data.backends.openai import OpenAIBackend

    backend = OpenAIBackend(model=server.model_name, base_url=server.url, concurrency=concurrency,
                            image_format=image_format, max_new_tokens=16, cache_dir=cache_dir,
                            frames_as="images")   # the figures below are for image parts
    backend.load()

    def ask(reqs):   # requests without frames go through the text-only path
        if reqs[0].frames is None:
            return backend.generate_text([r.prompt for r in reqs], [r.sample_id for r in reqs])
        return backend.generate(reqs)

    if warm:   # open the connections once (different prompts, so a cache would not answer the run)
        ask([type(r)(frames=r.frames, prompt=r.prompt + " (warm-up)", sample_id=r.sample_id)
             for r in requests[:concurrency]])
    best = None
    for _ in range(repeats):
        server.reset()
        backend.stats.clear()
        cpu0, t0 = time.process_time(), time.perf_counter()
        out = ask(requests)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        assert all(isinstance(a, str) for a in out), [a for a in out if not isinstance(a, str)][:1]
        stats = server.stats()
        if best is None or wall < best[0]:
            best = (wall, cpu, stats, backend.stats["encode_s"])
    backend.close()
    wall, cpu, stats, encode_s = best
    n, sent = len(requests), stats["requests"]
    server_ms = 1000 * statistics.fmean(stats["server_s"]) if sent else 0.0
    slot_ms = 1000 * wall * min(concurrency, n) / n
    return {"concurrency": concurrency, "requests": n, "sent": sent, "wall_s": round(wall, 3),
            "req_per_s": round(n / wall, 1), "server_ms": round(server_ms, 2),
            "overhead_ms": round(slot_ms - server_ms, 2), "client_cpu_ms": round(1000 * cpu / n, 2),
            "encode_ms": round(1000 * encode_s / max(sent, 1), 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=64, help="requests per run (x4 at concurrency 32)")
    ap.add_argument("--latency", type=float, default=0.05, help="server answer time in seconds")
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--size", type=int, default=336, help="short side of the decoded frames")
    ap.add_argument("--repeats", type=int, default=3, help="best of R runs per row")
    ap.add_argument("--tiny", action="store_true", help="also time the tiny qwen2_vl model behind the server")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()

    from vstar_data.backends.base import Request
    from vstar_data.testing.backends import make_frames

    clips = real_clips(args.frames, args.size)

    def requests(n: int, frames: bool, small: bool = False) -> list[Request]:
        pick = (lambda i: make_frames(4, 64, 64, seed=i)) if small else (lambda i: clips[i % len(clips)])
        return [Request(frames=pick(i) if frames else None,
                        prompt=f"Question: what happens in clip {i}?\nCan you explain step-by-step?",
                        sample_id=f"clip-{i}") for i in range(n)]

    shape = "x".join(map(str, clips[0].array.shape[1:3]))
    rows = []
    with ServerProcess(args.latency) as server:
        for label, make, fmt in (("text only", lambda n: requests(n, False), "jpeg"),
                                 (f"{args.frames} frames {shape} jpeg",
                                  lambda n: requests(n, True), "jpeg")):
            for c in (1, 8, 32):
                n = args.requests * (4 if c == 32 else 1)
                rows.append({"payload": label, **run_case(server, make(n), concurrency=c, image_format=fmt,
                                                               repeats=args.repeats),
                             "ideal_req_per_s": round(c / args.latency, 1)})
        png = run_case(server, requests(args.requests, True), concurrency=8, image_format="png", repeats=args.repeats)
        rows.append({"payload": f"{args.frames} frames {shape} png", **png,
                     "ideal_req_per_s": round(8 / args.latency, 1)})
        with tempfile.TemporaryDirectory() as tmp:
            reqs = requests(args.requests, True)
            run_case(server, reqs, concurrency=8, cache_dir=tmp)
            rows.append({"payload": f"{args.frames} frames jpeg, re-run from cache",
                         **run_case(server, reqs, concurrency=8, cache_dir=tmp, warm=False), "ideal_req_per_s": None})
    if args.tiny:
        from vstar_data.backends.tiny import build_tiny_model

        with tempfile.TemporaryDirectory() as tmp:
            model = build_tiny_model("qwen2_vl", Path(tmp) / "m")
            with ServerProcess(0.0, str(model)) as server:
                for c in (1, 8):
                    rows.append({"payload": "tiny qwen2_vl, 4 frames 64x64 png",
                                 **run_case(server, requests(16, True, small=True), concurrency=c, image_format="png",
                                           repeats=args.repeats),
                                 "ideal_req_per_s": None})

    head = ["payload", "concurrency", "requests", "sent", "wall_s", "req_per_s", "ideal_req_per_s", "server_ms",
            "overhead_ms", "client_cpu_ms", "encode_ms"]
    widths = [max(len(h), *(len(str(r[h])) for r in rows)) for h in head]
    print(f"openai backend vs loopback server (server latency {args.latency * 1000:.0f} ms, "
          f"{os.cpu_count()} CPUs); overhead_ms = wall x concurrency / requests - server_ms; "
          "client_cpu_ms = this process's CPU time per request")
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    for r in rows:
        print("  ".join(str(r[h]).ljust(w) for h, w in zip(head, widths)))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
