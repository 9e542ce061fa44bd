"""CLI: `vstar-data train`, the bundled trainer (runs the same under accelerate launch / torchrun)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

import typer

from . import app
from ._common import print_counts


def _settings(config: Optional[Path], sets: list[str], given: dict[str, Any]) -> dict[str, Any]:
    """YAML config, then --set KEY=VALUE, then the explicit options (later wins)."""
    import yaml

    from ..errors import ConfigError

    settings: dict[str, Any] = {}
    if config is not None:
        try:
            loaded = yaml.safe_load(config.read_text("utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read training config: {exc}", file=config) from exc
        if not isinstance(loaded, dict):
            raise ConfigError("a training config is a YAML mapping of TrainConfig fields", file=config)
        base = config.parent
        for key in ("model", "data", "videos", "output_dir"):  # relative paths: from the YAML's folder
            if isinstance(loaded.get(key), str) and not Path(loaded[key]).is_absolute() \
                    and (base / loaded[key]).exists():
                loaded[key] = str(base / loaded[key])
        settings.update(loaded)
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set expects KEY=VALUE, got {item!r}")
        settings[key.strip()] = yaml.safe_load(value)
    settings.update({k: v for k, v in given.items() if v is not None})
    return settings


@app.command("train")
def train_cmd(
    data: Optional[str] = typer.Argument(None, help="LLaVA JSON export (.json/.jsonl), a dataset folder (parquet) or a store."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Pre-trained checkpoint (folder or Hub id)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Checkpoint folder to write."),
    videos: Optional[str] = typer.Option(None, "--videos", "-v", help="Root of the rows' relative video paths: a "
                                         "folder or an fsspec URL (read through --videos-cache)."),
    videos_cache: Optional[Path] = typer.Option(None, "--videos-cache", help="Folder for local copies of clips "
                                                 "named by URL (default ~/.cache/vstar-data/videos)."),
    videos_cache_gb: Optional[float] = typer.Option(None, "--videos-cache-gb", min=0.001, help="Bound on that "
                                                    "folder in GB (default 20; least recently used clips go first)."),
    revision: Optional[str] = typer.Option(None, help="Release tag, when DATA is a vstar-data store."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="YAML of training settings (see configs/train_example.yaml)."),
    lora: Optional[bool] = typer.Option(None, "--lora/--full", help="LoRA (merged on save) or full fine-tuning."),
    epochs: Optional[float] = typer.Option(None, help="Epochs (paper: 1)."),
    max_steps: Optional[int] = typer.Option(None, help="Stop after N optimizer steps (overrides epochs)."),
    lr: Optional[float] = typer.Option(None, "--lr", help="Peak learning rate (paper: 2e-5)."),
    global_batch: Optional[int] = typer.Option(None, help="Global batch (paper: 128), reached by accumulation."),
    per_device_batch: Optional[int] = typer.Option(None, help="Micro-batch per process."),
    num_frames: Optional[int] = typer.Option(None, help="Frames sampled per clip."),
    frame_size: Optional[int] = typer.Option(None, help="Short side of decoded frames (pixels)."),
    workers: Optional[int] = typer.Option(None, help="DataLoader worker processes decoding frames."),
    split: Optional[str] = typer.Option(None, help="Split of a dataset folder (default train)."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", help="Train on the first N usable rows."),
    seed: Optional[int] = typer.Option(None, help="Seed (data order, init of LoRA weights)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a checkpoint trained with other settings."),
    set_: list[str] = typer.Option([], "--set", help="Any TrainConfig field: KEY=VALUE (YAML value; repeatable)."),
) -> None:
    """Instruction-tune a video VLM on accepted rows: loss on the assistant's tokens only, full
    fine-tuning or LoRA, paper defaults (1 epoch, lr 2e-5, warm-up 3%, cosine, global batch 128).
    Re-running a finished training returns at once; a killed one is redone. Multi-GPU:
    `accelerate launch --config_file configs/accelerate/ddp.yaml $(which vstar-data) train ...`.

    Example: vstar-data train train.json --videos clips/ --model ./tiny-qwen2-vl --out ckpt
    """
    import logging

    from ..training.recipe import TrainConfig, train

    given = {"data": data, "model": model, "output_dir": str(out) if out else None,
             "videos": str(videos) if videos else None, "revision": revision, "lora": lora, "epochs": epochs,
             "max_steps": max_steps, "learning_rate": lr, "global_batch_size": global_batch,
             "per_device_batch_size": per_device_batch, "num_frames": num_frames,
             "frame_size": frame_size, "dataloader_workers": workers, "split": split, "limit": limit,
             "seed": seed, "overwrite": overwrite or None,
             "videos_cache": {k: v for k, v in (("dir", str(videos_cache) if videos_cache else None),
                                                ("max_gb", videos_cache_gb)) if v is not None} or None}
    settings = _settings(config, set_, given)
    main = os.environ.get("RANK", "0") == "0"
    logging.basicConfig(level=logging.INFO if main else logging.WARNING, format="%(message)s")
    from ..errors import ConfigError

    unknown = sorted(set(settings) - set(TrainConfig.__dataclass_fields__))
    if unknown:
        raise ConfigError(f"unknown training setting(s): {', '.join(unknown)}")
    missing = [k for k in ("data", "model", "output_dir") if not settings.get(k)]
    if missing:
        raise ConfigError(f"train needs {', '.join(missing)} (argument, option or --config)")
    try:
        result = train(TrainConfig(**settings))
    finally:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
    if main:
        print_counts(f"train -> {result.output_dir}" + (" (already trained)" if result.from_marker else ""), {
            "rows": result.rows, **{f"skipped ({k})": v for k, v in sorted(result.skipped.items())},
            "optimizer steps": result.steps, "train loss (mean)": round(result.train_loss, 4),
            "final logged loss": None if result.final_loss is None else round(result.final_loss, 4),
            "samples/s": round(result.samples_per_s, 3), "seconds": round(result.seconds, 1)})
