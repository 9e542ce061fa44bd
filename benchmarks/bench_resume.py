"""Content-keyed resume and the clip check for non-decoding backends: what they cost.

Builds N Kinetics-style samples over copies of the fixture clips (each sample its own file) and
runs the template backend (no model: what is left is the engine's own work) with the local engine:

1. `fresh`    a first run into an empty folder (probe every clip, generate, verify, write chunks);
2. `resume`   the same command again: digests + plan + reading the chunk manifests, nothing redone;
3. `edit`     one annotation label changed: one chunk retired and redone, the rest reused;
4. `check`    the clip check alone (video/check.py: open, stream, window, one 16 px frame) per
              clip, against the bare existence test it replaced (`exists`).

Reports seconds and ratios against `fresh` measured in the same run.

    .venv/bin/python benchmarks/bench_resume.py [--samples 200] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "videos"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    from vstar_data.generation.engines.local import LocalEngine
    from vstar_data.generation.pipeline import GenerationConfig
    from vstar_data.video.check import check_clip

    clips = sorted(p for p in FIXTURES.iterdir() if p.suffix in (".mp4", ".mkv", ".avi"))
    tmp = Path(tempfile.mkdtemp(prefix="bench-resume-"))
    try:
        vdir = tmp / "videos"
        vdir.mkdir()
        lines = ["label,youtube_id,time_start,time_end,split"]
        for i in range(args.samples):
            src = clips[i % len(clips)]
            shutil.copy(src, vdir / f"c{i:05d}_000000_000010{src.suffix}")
            lines.append(f"yoga,c{i:05d},0,10,validate")
        csv = tmp / "clips.csv"
        csv.write_text("\n".join(lines) + "\n")

        def run(out: Path) -> tuple[float, dict]:
            cfg = GenerationConfig(adapter="kinetics700", annotations=str(csv), videos=str(vdir),
                                   backend="template", progress=False, chunk_size=8, batch_size=8)
            t0 = time.perf_counter()
            s = LocalEngine().run(cfg, out)
            return time.perf_counter() - t0, s.to_dict()

        out = tmp / "run"
        res: dict[str, dict] = {}
        for name in ("fresh", "resume"):
            secs, d = run(out)
            res[name] = {"s": round(secs, 3), "reused": d["reused"], "new": d["new"], "redone": d["redone"]}
        csv.write_text(csv.read_text().replace("yoga,c00003,", "skiing,c00003,"))
        secs, d = run(out)
        res["edit"] = {"s": round(secs, 3), "reused": d["reused"], "redone": d["redone"], "retired": d["retired"]}
        files = sorted(vdir.iterdir())
        t0 = time.perf_counter()
        for p in files:
            check_clip(p)
        check = (time.perf_counter() - t0) / len(files)
        t0 = time.perf_counter()
        for p in files:
            p.exists()
        exists = (time.perf_counter() - t0) / len(files)
        res["check"] = {"s_per_clip": round(check, 5), "exists_s_per_clip": round(exists, 7)}
        base = res["fresh"]["s"]
        for name in ("resume", "edit"):
            res[name]["ratio_vs_fresh"] = round(res[name]["s"] / base, 3)
        res["check"]["share_of_fresh_run"] = round(check * len(files) / base, 3)
        print(json.dumps({"samples": args.samples, **res}, indent=2))
        if args.json:
            args.json.write_text(json.dumps(res, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
