"""How much of `generate`'s wall time the model is busy, and the library's own time per clip.

A tiny model generates faster than a clip decodes, which would measure only the decoder, so this
builds a random-weight Qwen2-VL whose text model is big enough (hidden 512, 6 layers) that
generating one answer takes at least as long as decoding one clip. It then runs the local engine
on the real fixture clips (repeated to `--clips` samples, decoded at 336 px, 8 frames) and reports:

- model-busy share: time inside backend.generate / wall time of the run;
- library time per clip: (wall - model time) / clips, i.e. what decoding, prompting, verifying
  and writing add on top of the model when they do not overlap with it;
- baseline in the same run: the same clips decoded one after another with no model, so the
  share of decoding that the prefetch hides behind the model can be read off.

    .venv/bin/python benchmarks/bench_pipeline.py --clips 32
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=32)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    from vstar_data.backends.base import Backend
    from vstar_data.backends.tiny import TinyOptions, build_tiny_model
    from vstar_data.generation.engines.local import LocalEngine
    from vstar_data.generation.pipeline import GenerationConfig, decode_one, make_backend, prepare

    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    try:
        videos = work / "videos"
        videos.mkdir()
        src = sorted((FIXTURES / "videos").iterdir())
        lines = ["label,youtube_id,time_start,time_end,split"]
        for i in range(args.clips):
            clip = src[i % len(src)]
            shutil.copy(clip, videos / f"c{i:04d}{clip.suffix}")  # symlinks out of the folder are refused
            lines.append(f"yoga,c{i:04d},0,10,validate")
        csv = work / "clips.csv"
        csv.write_text("\n".join(lines) + "\n")
        model = build_tiny_model("qwen2_vl", work / "model", options=TinyOptions(
            text={"hidden_size": 512, "intermediate_size": 1024, "num_hidden_layers": 6,
                  "num_attention_heads": 32, "num_key_value_heads": 8}))  # head_dim 16 fits the tiny rope sections
        cfg = GenerationConfig(adapter="kinetics700", annotations=str(csv), videos=str(videos),
                               backend="transformers", model=str(model), max_new_tokens=args.max_new_tokens,
                               num_frames=8, frame_size=336, chunk_size=args.batch, batch_size=args.batch,
                               decode_workers=args.workers, rationalize=False, progress=False)
        prepared = prepare(cfg)
        backend = make_backend(cfg, prepared)
        busy = [0.0]
        inner = backend.generate

        def timed(requests):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            try:
                return inner(requests)
            finally:
                busy[0] += time.perf_counter() - t

        backend.generate = timed  # type: ignore[method-assign]
        t0 = time.perf_counter()
        for ps in prepared.samples:
            decode_one(ps, cfg)
        decode_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        summary = LocalEngine().run(cfg, work / "out", backend=backend, prepared=prepared)
        wall = time.perf_counter() - t0
        n = summary.samples
        print(f"clips {n}, batch {args.batch}, decode workers {args.workers}")
        print(f"decode alone (serial, same clips):  {decode_s:7.2f} s  ({1000 * decode_s / n:6.1f} ms/clip)")
        print(f"model busy (backend.generate):      {busy[0]:7.2f} s  ({1000 * busy[0] / n:6.1f} ms/clip)")
        print(f"generate wall time:                 {wall:7.2f} s")
        print(f"model-busy share of wall time:      {busy[0] / wall:7.1%}")
        print(f"library time per clip (wall-model): {1000 * (wall - busy[0]) / n:7.1f} ms")
        print(f"decode hidden by prefetch:          {1 - (wall - busy[0]) / decode_s:7.1%} of serial decode time")
        assert isinstance(backend, Backend)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
