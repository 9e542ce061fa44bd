"""Benchmark the trainer: samples/s, step time and the data-loading share of step time.

CPU (default): trains a tiny random Qwen2-VL (`build_tiny_model`) on rows over the real fixture
clips (../shared/fixtures/videos, 6-10 s of 240-320p h264/mpeg4), 8 frames per clip, per-device
batch 1, accumulation 4, with frames decoded in the main process (--workers 0) and in DataLoader
workers (2 by default). The data-loading share is the time the training loop waits for batches
after the first step (the first step's wait, worker start-up, is reported apart). Components are
timed alone as well: decode only, decode + processor encode, and the model's forward + backward.

GPU (--gpu, on a machine with CUDA): tokens/s of a 2B-class random-weight Qwen2-VL config
(Qwen2-VL-2B's shapes, no download) in bf16 with and without gradient checkpointing, and peak GPU
memory; synthetic video inputs of --gpu-frames frames at 448x448 plus a 128-token answer.

    .venv/bin/python benchmarks/bench_train.py [--steps 16] [--workers 2] [--rows 32] [--json out.json]
    .venv/bin/python benchmarks/bench_train.py --gpu [--gpu-steps 10] [--gpu-batch 2]
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("VSTAR_FIXTURES", ROOT.parent / "shared" / "fixtures"))
ANSWERS = ["Someone is arm wrestling at a table.", "A player shoots a basketball in a gym.",
           "A person is putting on eyeliner.", "Someone flips a pancake in a pan.",
           "A batter hits a baseball.", "A person plays an acoustic guitar.",
           "Someone cleans a swimming pool.", "A person holds a yoga pose."]


def _rows(n: int, videos: Path) -> list[dict]:
    clips = sorted(p.name for p in videos.iterdir() if p.suffix in (".mp4", ".avi", ".mkv"))
    return [{"id": f"r{i}", "video": clips[i % len(clips)],
             "conversations": [{"from": "human", "value": "<video>\nWhat is happening in this video?"},
                               {"from": "gpt", "value": ANSWERS[i % len(ANSWERS)]}]} for i in range(n)]


def components(model_dir: Path, rows: list[dict], videos: Path, n: int = 8) -> dict[str, float]:
    """Per-sample seconds of decode, decode + encode, and one forward + backward (batch 1)."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from vstar_data.video.frames import sample_frames
    from vstar_data.training.data import PadCollator, VideoChatDataset, load_rows

    proc = AutoProcessor.from_pretrained(model_dir)
    model = AutoModelForImageTextToText.from_pretrained(model_dir)
    data = Path(tempfile.mkdtemp()) / "rows.json"
    data.write_text(json.dumps(rows[:n]))
    loaded, _ = load_rows(str(data), videos=str(videos))
    ds = VideoChatDataset(loaded, proc, num_frames=8, frame_size=64)
    t0 = time.perf_counter()
    for r in loaded:
        sample_frames(r["path"], 8, size=64)
    decode = (time.perf_counter() - t0) / len(loaded)
    t0 = time.perf_counter()
    items = [ds[i] for i in range(len(loaded))]
    encode = (time.perf_counter() - t0) / len(loaded)
    collate = PadCollator(proc.tokenizer.pad_token_id)
    model(**collate(items[:1])).loss.backward()   # warm-up
    t0 = time.perf_counter()
    for it in items:
        model(**collate([it])).loss.backward()
    step = (time.perf_counter() - t0) / len(items)
    tokens = sum(int(it["input_ids"].shape[1]) for it in items) / len(items)
    return {"decode_s": decode, "decode_encode_s": encode, "fwd_bwd_s": step, "tokens_per_sample": tokens}


def cpu(args: argparse.Namespace) -> dict:
    from vstar_data.backends.tiny import build_tiny_model
    from vstar_data.training.recipe import TrainConfig, train

    videos = FIXTURES / "videos"
    if not videos.is_dir():
        sys.exit(f"fixture clips not found at {videos} (set VSTAR_FIXTURES)")
    work = Path(tempfile.mkdtemp(prefix="bench-train-"))
    model = build_tiny_model("qwen2_vl", work / "model")
    rows = _rows(args.rows, videos)
    data = work / "train.json"
    data.write_text(json.dumps(rows))
    report = {"machine": f"{os.cpu_count()} CPU cores", "model": "tiny qwen2_vl (build_tiny_model)",
              "frames": "8 x short side 64", "steps": args.steps, "global_batch": 4,
              "components": components(model, rows, videos), "runs": []}
    for workers in (0, args.workers):
        cfg = TrainConfig(model=str(model), data=str(data), videos=str(videos), output_dir=str(work / f"w{workers}"),
                          num_frames=8, frame_size=64, global_batch_size=4, per_device_batch_size=1,
                          max_steps=args.steps, learning_rate=1e-4, dataloader_workers=workers,
                          logging_steps=args.steps)
        result = train(cfg)
        marker = json.loads((result.output_dir / "train_done.json").read_text())
        report["runs"].append({"workers": workers, "samples_per_s": marker["samples_per_s"],
                               "step_s": marker["step_s"], "data_wait_share": marker["data_wait_share"],
                               "startup_wait_s": marker["startup_wait_s"], "train_s": marker["seconds"]})
    return report


def gpu(args: argparse.Namespace) -> dict:
    """Tokens/s and peak memory for a 2B-class random Qwen2-VL in bf16, +/- gradient checkpointing."""
    import torch
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration

    dev = "cuda" if torch.cuda.is_available() else "cpu"
    if dev == "cpu" and not args.gpu_smoke:
        sys.exit("--gpu needs CUDA (use --gpu-smoke to check the code path on CPU)")
    if args.gpu_smoke:   # same code, toy shapes
        text = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, vocab_size=1000)
        vision = dict(depth=1, embed_dim=32, hidden_size=64, num_heads=2)
        frames, side = 2, 56
    else:                # Qwen2-VL-2B-Instruct's shapes (about 2.2B parameters)
        text = dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
                    num_key_value_heads=2, vocab_size=151936)
        vision = dict(depth=32, embed_dim=1280, hidden_size=1536, num_heads=16)
        frames, side = args.gpu_frames, 448
    text.update(rope_parameters={"rope_type": "default", "rope_theta": 1e6, "mrope_section": [16, 24, 24]
                                 if not args.gpu_smoke else [2, 3, 3]}, max_position_embeddings=32768)
    cfg = Qwen2VLConfig(text_config=text, vision_config=dict(vision, patch_size=14, spatial_merge_size=2,
                                                             temporal_patch_size=2, in_channels=3),
                        image_token_id=151655 % text["vocab_size"], video_token_id=151656 % text["vocab_size"],
                        vision_start_token_id=151652 % text["vocab_size"], tie_word_embeddings=True)
    torch.manual_seed(0)
    out = {"device": torch.cuda.get_device_name() if dev == "cuda" else "cpu (smoke)", "runs": []}
    grid_t, grid_hw = frames // 2, side // 14
    n_video = grid_t * grid_hw * grid_hw // 4
    seq = 32 + n_video + 128
    for ckpt in (False, True):
        model = Qwen2VLForConditionalGeneration(cfg).to(dev, torch.bfloat16)
        model.train()
        if ckpt:
            model.gradient_checkpointing_enable({"use_reentrant": False})
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
        b = args.gpu_batch
        ids = torch.randint(10, 500, (b, seq), device=dev)
        ids[:, 32:32 + n_video] = cfg.video_token_id
        labels = ids.clone()
        labels[:, :32 + n_video] = -100
        pix = torch.randn(b * grid_t * grid_hw * grid_hw, 3 * 2 * 14 * 14, device=dev, dtype=torch.bfloat16)
        thw = torch.tensor([[grid_t, grid_hw, grid_hw]] * b, device=dev)
        mm = torch.zeros_like(ids)
        mm[:, 32:32 + n_video] = 2                     # video tokens (for M-RoPE positions)
        batch = dict(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels,
                     pixel_values_videos=pix, video_grid_thw=thw, mm_token_type_ids=mm)
        if dev == "cuda":
            torch.cuda.reset_peak_memory_stats()
        times = []
        for i in range(args.gpu_steps + 2):
            if dev == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            model(**batch).loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            if dev == "cuda":
                torch.cuda.synchronize()
            if i >= 2:
                times.append(time.perf_counter() - t0)
        step = sum(times) / len(times)
        out["runs"].append({"gradient_checkpointing": ckpt, "params_b": round(sum(p.numel() for p in model.parameters()) / 1e9, 3),
                            "batch": b, "seq_len": seq, "step_s": round(step, 4),
                            "tokens_per_s": round(b * seq / step, 1),
                            "peak_mem_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if dev == "cuda" else None})
        del model, opt
        if dev == "cuda":
            torch.cuda.empty_cache()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--rows", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--gpu", action="store_true")
    ap.add_argument("--gpu-smoke", action="store_true", help="run the --gpu code path with toy shapes on CPU")
    ap.add_argument("--gpu-steps", type=int, default=10)
    ap.add_argument("--gpu-batch", type=int, default=2)
    ap.add_argument("--gpu-frames", type=int, default=16)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.WARNING)
    report = gpu(args) if (args.gpu or args.gpu_smoke) else cpu(args)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)
    if "components" in report:
        c = report["components"]
        print(f"\nper sample: decode {c['decode_s'] * 1e3:.1f} ms, decode+encode {c['decode_encode_s'] * 1e3:.1f} ms, "
              f"forward+backward {c['fwd_bwd_s'] * 1e3:.1f} ms ({c['tokens_per_sample']:.0f} tokens)")
        for r in report["runs"]:
            print(f"workers={r['workers']}: {r['samples_per_s']:.2f} samples/s, {r['step_s']:.3f} s/step "
                  f"(4 samples), waiting for data {100 * r['data_wait_share']:.0f}% of the loop "
                  f"(+{r['startup_wait_s']:.2f} s start-up)")


if __name__ == "__main__":
    main()
