"""GPU benchmark of the transformers path at real model sizes, with random weights (no download).

For each model (Qwen2.5-VL-3B and -7B, configs vendored in benchmarks/gpu/configs/ from the
published model cards) and each frame count (8 and 32):

- generation through `vstar_data.backends.transformers.TransformersBackend` (its processor,
  chat template, batching and `generate` call), frames sampled by `vstar_data.video.frames`
  in a decode thread pool one batch ahead of the model, as the local engine does: clips/s,
  generated tokens/s, model-busy share (model seconds / wall seconds), frame decode rate and
  peak GPU memory. Random weights stop anywhere, so the model's generation config gets
  `min_new_tokens = max_new_tokens`: every answer is exactly max_new_tokens tokens. The backend
  copies the model's generation config, so no backend option was needed for this;
- LoRA SFT through `vstar_data.training.recipe.setup` (rows, batch plan, LoRA on q/k/v/o, frozen
  vision, bf16, gradient checkpointing, DataLoader workers decoding frames) and the Trainer's
  `train()`: training tokens/s and peak GPU memory. The checkpoint is not saved (the merge would
  write the whole model to disk: not what is measured here).

Models are built with `from_config` on the device (bf16 on GPU); only the checkpoint loading
is replaced (`from_pretrained` -> `from_config`). The processor reuses the tiny-model builder's
tokenizer and chat template (`vstar_data.backends.tiny`, no Hub) with the published image/video
geometry (patch 14, merge 2, temporal patch 2) from the vendored preprocessor_config.json; the
special-token ids of the config are mapped onto that tokenizer (vocabulary size kept, so the
embedding and LM head have their real sizes). Clips are synthesised with PyAV (h264, 640x360,
30 fps, 10 s) in a temporary folder.

    python benchmarks/gpu/run.py --out gpu.json              # on the lent GPU (see README.md)
    python benchmarks/gpu/run.py --tiny --out tiny.json      # the same code, tiny widths, CPU, seconds
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

HERE = Path(__file__).resolve().parent
CONFIGS = HERE / "configs"
MODELS = ("qwen2_5_vl_3b", "qwen2_5_vl_7b")
PROMPT = "Describe what happens in this video, step by step."
ANSWER = "A person picks up a ball, throws it across the field, and another person catches it."
# --tiny: the same families at toy widths/depths (CPU, seconds)
TINY_TEXT = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, max_window_layers=2)
TINY_VISION = dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, fullatt_block_indexes=[1])
FIGURES = ("clips_per_s", "generated_tokens_per_s", "model_busy_share", "decode_frames_per_s",
           "peak_gpu_mem_gib")
TRAIN_FIGURES = ("train_tokens_per_s", "peak_gpu_mem_gib")


# ------------------------------------------------------------------ inputs

def make_clips(folder: Path, n: int, width: int, height: int, fps: int, seconds: float) -> list[Path]:
    """n h264 clips of moving texture (so the decoder has real work), written with PyAV."""
    import av
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (height * 2, width * 2, 3), dtype=np.uint8)
    paths = []
    for c in range(n):
        path = folder / f"clip_{c:03d}.mp4"
        with av.open(str(path), "w") as out:
            stream = out.add_stream("libx264", rate=fps)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.codec_context.options = {"preset": "ultrafast", "x264-params": f"keyint={fps}:scenecut=0"}
            for i in range(int(fps * seconds)):
                dy, dx = (i * 3 + c * 7) % height, (i * 5 + c * 11) % width
                img = np.ascontiguousarray(base[dy:dy + height, dx:dx + width])
                for pkt in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                    out.mux(pkt)
            for pkt in stream.encode(None):
                out.mux(pkt)
        paths.append(path)
    return paths


def model_folder(name: str, out: Path, tiny: bool) -> Path:
    """config.json (vendored; token ids mapped onto the tiny builder's tokenizer; toy sizes with
    --tiny) + a processor with the published geometry, saved without weights."""
    from transformers import Qwen2_5_VLProcessor
    from transformers.models.qwen2_vl import Qwen2VLImageProcessor, Qwen2VLVideoProcessor

    from vstar_data.backends.tiny import ARCHS, TinyOptions

    config = json.loads((CONFIGS / name / "config.json").read_text())
    pre = json.loads((CONFIGS / name / "preprocessor_config.json").read_text())
    _, tiny_proc = ARCHS["qwen2_5_vl"]("qwen2_5_vl", TinyOptions())
    tok = tiny_proc.tokenizer
    ids = {k: tok.convert_tokens_to_ids(t) for k, t in (
        ("image_token_id", "<|image_pad|>"), ("video_token_id", "<|video_pad|>"),
        ("vision_start_token_id", "<|vision_start|>"), ("vision_end_token_id", "<|vision_end|>"),
        ("eos_token_id", "<|im_end|>"), ("bos_token_id", "<|endoftext|>"))}
    ids["vision_token_id"] = ids["video_token_id"]
    config.update(ids, pad_token_id=tok.pad_token_id)
    if tiny:
        config.update(TINY_TEXT)
        config["rope_scaling"] = {"type": "mrope", "mrope_section": [2, 3, 3]}   # head_dim 16
        config["vision_config"].update(TINY_VISION, out_hidden_size=TINY_TEXT["hidden_size"])
    geometry = dict(patch_size=pre["patch_size"], merge_size=pre["merge_size"],
                    temporal_patch_size=pre["temporal_patch_size"], image_mean=pre["image_mean"],
                    image_std=pre["image_std"],
                    size={"shortest_edge": pre["min_pixels"], "longest_edge": pre["max_pixels"]})
    processor = Qwen2_5_VLProcessor(image_processor=Qwen2VLImageProcessor(**geometry), tokenizer=tok,
                                    video_processor=Qwen2VLVideoProcessor(**geometry, do_sample_frames=False,
                                                                          cap_pixels_per_frame=True),
                                    chat_template=tiny_proc.chat_template)
    out.mkdir(parents=True, exist_ok=True)
    processor.save_pretrained(out)
    (out / "config.json").write_text(json.dumps(config, indent=2))
    return out


# ------------------------------------------------------------------ models

def build_model(folder: Path, device: str, dtype: Any) -> Any:
    """Random weights of the folder's config, created on `device` (no host copy of a 7B model)."""
    import torch
    from transformers import AutoConfig, AutoModelForImageTextToText

    config = AutoConfig.from_pretrained(folder)
    with torch.device(device):
        model = AutoModelForImageTextToText.from_config(config, dtype=dtype)
    return model


@contextmanager
def random_weights(device: str) -> Iterator[None]:
    """`from_pretrained` of the image-text-to-text auto class builds from the config instead (the
    trainer's one model load); everything else in the training recipe runs unchanged."""
    import torch
    from transformers import AutoModelForImageTextToText

    own = AutoModelForImageTextToText.__dict__.get("from_pretrained")   # else inherited

    def fake(cls: Any, source: Any, *args: Any, dtype: Any = None, **kw: Any) -> Any:
        return build_model(Path(source), device, dtype if dtype not in (None, "auto") else torch.float32)

    AutoModelForImageTextToText.from_pretrained = classmethod(fake)
    try:
        yield
    finally:
        if own is not None:
            AutoModelForImageTextToText.from_pretrained = own
        else:
            del AutoModelForImageTextToText.from_pretrained


def make_backend(folder: Path, device: str, batch_size: int, max_new_tokens: int) -> Any:
    """The library's TransformersBackend; only its weight loading builds from the config."""
    import torch

    from vstar_data.backends.transformers import TransformersBackend

    class RandomWeightsBackend(TransformersBackend):
        def _load_model(self, source: str, torch_mod: Any) -> Any:
            dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
            model = build_model(Path(source), device, dtype)
            model.eval()
            gen, tok = model.generation_config, self.processor.tokenizer
            gen.pad_token_id, gen.eos_token_id = tok.pad_token_id, tok.eos_token_id
            gen.min_new_tokens = max_new_tokens      # random weights: every answer full length
            return model

    backend = RandomWeightsBackend(model=str(folder), device=device, batch_size=batch_size,
                                   max_new_tokens=max_new_tokens)
    backend.load()
    return backend


# ------------------------------------------------------------------ measurements

def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _peak_reset() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def _peak_gib() -> float | None:
    import torch

    return round(torch.cuda.max_memory_allocated() / 2**30, 2) if torch.cuda.is_available() else None


def measure_generation(backend: Any, clips: list[Path], frames: int, size: int, n_clips: int,
                       decode_workers: int) -> dict[str, Any]:
    """Clips through decode (thread pool, one batch ahead) -> backend.generate, timed."""
    from vstar_data.backends.base import Request, is_failure
    from vstar_data.video.frames import sample_frames

    decode_s = [0.0]
    lock = threading.Lock()

    def decode(path: Path) -> Any:
        t0 = time.perf_counter()
        out = sample_frames(path, frames, size=size)
        with lock:
            decode_s[0] += time.perf_counter() - t0
        return out

    order = [clips[i % len(clips)] for i in range(n_clips)]
    batches = [order[i:i + backend.batch_size] for i in range(0, len(order), backend.batch_size)]
    warm = [Request(frames=decode(clips[0]), prompt=PROMPT, sample_id="warm")] * min(2, backend.batch_size)
    backend.generate(warm)                                    # kernels, allocator, caches
    decode_s[0] = 0.0
    _sync()
    _peak_reset()
    model_s, failures, done = 0.0, 0, 0
    t_start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=decode_workers) as pool:
        pending = [pool.map(decode, batches[0])]
        for n, _ in enumerate(batches):
            if n + 1 < len(batches):
                pending.append(pool.map(decode, batches[n + 1]))
            reqs = [Request(frames=f, prompt=PROMPT, sample_id=f"c{done + i}")
                    for i, f in enumerate(pending.pop(0))]
            t0 = time.perf_counter()
            answers = backend.generate(reqs)
            _sync()
            model_s += time.perf_counter() - t0
            failures += sum(1 for a in answers if is_failure(a))
            done += len(reqs)
    wall = time.perf_counter() - t_start
    ok = done - failures
    tokens = ok * backend.max_new_tokens
    enc = backend.processor(text=[backend._render(PROMPT)], videos=[decode(clips[0]).array],
                            do_sample_frames=False, return_tensors="pt")
    return {"frames": frames, "clips": done, "failed": failures, "batch_size": backend.batch_size,
            "max_new_tokens": backend.max_new_tokens, "prompt_tokens": int(enc["input_ids"].shape[1]),
            "wall_s": round(wall, 3), "model_s": round(model_s, 3),
            "clips_per_s": round(done / wall, 3),
            "generated_tokens_per_s": round(tokens / model_s, 1) if model_s else None,
            "generated_tokens_per_wall_s": round(tokens / wall, 1),
            "model_busy_share": round(model_s / wall, 4),
            "decode_s_per_clip": round(decode_s[0] / done, 4),
            "decode_frames_per_s": round(done * frames / decode_s[0], 1) if decode_s[0] else None,
            "peak_gpu_mem_gib": _peak_gib()}


def measure_training(folder: Path, clips: list[Path], work: Path, frames: int, size: int, steps: int,
                     batch: int, workers: int, device: str) -> dict[str, Any]:
    """LoRA SFT through the library's recipe (setup + Trainer.train), no checkpoint written."""
    import torch

    from vstar_data.training.recipe import TrainConfig, cleanup, setup

    rows = [{"id": f"r{i}", "video": clips[i % len(clips)].name,
             "conversations": [{"from": "human", "value": f"<video>\n{PROMPT}"},
                               {"from": "gpt", "value": ANSWER}]} for i in range(steps * batch)]
    data = work / f"train-{frames}.json"
    data.write_text(json.dumps(rows))
    cfg = TrainConfig(model=str(folder), data=str(data), videos=str(clips[0].parent),
                      output_dir=str(work / f"train-out-{frames}"), num_frames=frames, frame_size=size,
                      global_batch_size=batch, per_device_batch_size=batch, max_steps=steps,
                      learning_rate=1e-4, lora=True, dataloader_workers=workers, logging_steps=steps)
    run = None
    try:
        with random_weights(device):
            run = setup(cfg, cfg.signature())
        tokens_per_row = int(run.trainer.train_dataset[0]["input_ids"].shape[-1])
        _sync()
        _peak_reset()
        metrics = run.trainer.train().metrics
        _sync()
        seconds = float(metrics["train_runtime"])
        trained = run.trainer.state.global_step * batch
        startup = run.trainer.startup_wait_s or 0.0
        return {"frames": frames, "steps": run.trainer.state.global_step, "batch": batch,
                "tokens_per_row": tokens_per_row, "train_s": round(seconds, 3),
                "train_tokens_per_s": round(trained * tokens_per_row / seconds, 1),
                "train_samples_per_s": round(trained / seconds, 3),
                "data_wait_share": round(run.trainer.data_wait_s / (seconds - startup), 4)
                if seconds > startup else None,
                "gradient_checkpointing": bool(run.trainer.args.gradient_checkpointing),
                "bf16": bool(run.trainer.args.bf16), "peak_gpu_mem_gib": _peak_gib(),
                "loss": metrics.get("train_loss")}
    finally:
        cleanup(run)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


# ------------------------------------------------------------------ main

def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="results JSON")
    ap.add_argument("--tiny", "--dry-run", dest="tiny", action="store_true",
                    help="toy widths/depths on the CPU: every measurement in a few seconds")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--frames", default="8,32")
    ap.add_argument("--clips", type=int, help="clips generated per setting (default 32; tiny 2)")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, help="default 128; tiny 3")
    ap.add_argument("--frame-size", type=int, default=336, help="short side of sampled frames")
    ap.add_argument("--train-steps", type=int, help="default 8; tiny 1")
    ap.add_argument("--train-batch", type=int, help="default 4; tiny 1")
    ap.add_argument("--decode-workers", type=int, default=4)
    ap.add_argument("--no-train", action="store_true")
    args = ap.parse_args(argv)
    import torch
    import transformers

    logging.basicConfig(level=logging.WARNING)
    cuda = torch.cuda.is_available()
    if not cuda and not args.tiny:
        sys.exit("no CUDA device: run on the lent GPU, or add --tiny for the CPU dry run")
    device = "cpu" if args.tiny else "cuda"
    t = args.tiny
    n_clips = args.clips or (2 if t else 32)
    max_new = args.max_new_tokens or (3 if t else 128)
    steps, tbatch = args.train_steps or (1 if t else 8), args.train_batch or (1 if t else 4)
    size = 56 if t else args.frame_size
    frame_counts = [int(x) for x in args.frames.split(",")]
    batch = min(args.batch_size, n_clips)
    report: dict[str, Any] = {
        "device": torch.cuda.get_device_name() if cuda and not t else "cpu (tiny dry run)" if t else "cpu",
        "tiny": t, "torch": torch.__version__, "transformers": transformers.__version__,
        "python": platform.python_version(), "frame_size": size, "models": {}}
    with tempfile.TemporaryDirectory(prefix="vstar-gpu-bench-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        clips = make_clips(work / "clips", 4 if t else 8, 64 if t else 640, 48 if t else 360,
                           10 if t else 30, 1.0 if t else 10.0)
        report["clips"] = {"count": len(clips), "size": "64x48" if t else "640x360",
                           "fps": 10 if t else 30, "seconds": 1.0 if t else 10.0, "codec": "h264",
                           "made_s": round(time.perf_counter() - t0, 2)}
        for name in args.models.split(","):
            folder = model_folder(name, work / name, t)
            entry: dict[str, Any] = {"generate": {}, "train": {}}
            report["models"][name] = entry
            t0 = time.perf_counter()
            backend = make_backend(folder, device, batch, max_new)
            _sync()
            entry["build_s"] = round(time.perf_counter() - t0, 2)
            entry["params_b"] = round(sum(p.numel() for p in backend.hf_model.parameters()) / 1e9, 4)
            entry["dtype"] = str(backend.hf_model.dtype)
            for n in frame_counts:
                entry["generate"][str(n)] = measure_generation(backend, clips, n, size, n_clips, args.decode_workers)
                print(json.dumps({name: {"generate": entry["generate"][str(n)]}}), flush=True)
            backend.hf_model = None
            del backend
            if cuda:
                torch.cuda.empty_cache()
            if not args.no_train:
                for n in frame_counts:
                    entry["train"][str(n)] = measure_training(folder, clips, work, n, size, steps, tbatch,
                                                              0 if t else 4, device)
                    print(json.dumps({name: {"train": entry["train"][str(n)]}}), flush=True)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(report, indent=2) + "\n")   # partial results survive a timeout
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
