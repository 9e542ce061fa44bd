"""The bundled trainer: instruction-tune a transformers video VLM on accepted rows.

One recipe, read top to bottom: `setup` (rows, batch plan, model, processor, Trainer) -> `Trainer.train`
-> `save_checkpoint` (LoRA merged, processor saved, `train_done.json`, atomic rename) -> `cleanup`.
Built on transformers' `Trainer`, so `accelerate launch` / `torchrun` run it on several GPUs or
nodes (DDP, FSDP, DeepSpeed) with no code change; `configs/accelerate/` has the launch configs.

Paper defaults: 1 epoch, lr 2e-5, warm-up ratio 0.03, cosine, global batch 128 reached by
gradient accumulation (global = per-device batch x accumulation x processes).

The checkpoint is trained into `.NAME.tmp-SIG/` beside the output and renamed when finished, with
`train_done.json` inside; a killed training leaves only the temp folder (redone on the next run)
and a finished one is returned from its marker without training again.
"""
from __future__ import annotations

import gc
import hashlib
import json
import logging
import math
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..sources.storage import is_url
from ..errors import ConfigError

log = logging.getLogger(__name__)
DONE_FILE = "train_done.json"
# Settings that change speed or bookkeeping, not the trained weights' recipe: a finished checkpoint
# trained with other values of these is still "the same training".
PERFORMANCE_KNOBS = frozenset({"output_dir", "per_device_batch_size", "dataloader_workers",
                               "gradient_checkpointing", "logging_steps", "overwrite", "cache_rows",
                               "torch_threads", "videos_cache"})
DEFAULT_LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj")
# Module-name parts of vision encoders (frozen by default; LoRA never targets them).
VISION_PARTS = ("visual", "vision_tower", "vision_model", "image_tower", "video_tower", "vision_encoder")
# ... except the vision->language projector, which is trained (Video-LLaVA / Qwen-VL recipes).
PROJECTOR_PARTS = ("merger", "multi_modal_projector", "mm_projector")
PRECISIONS = ("auto", "bf16", "fp32")
SCHEDULERS = ("cosine", "linear", "constant", "constant_with_warmup", "cosine_with_restarts")


@dataclass
class TrainConfig:
    """One training run. Field names are the `training:` keys of a run config and the YAML keys
    of `vstar-data train --config`."""

    model: str                           # pre-trained checkpoint: local folder or Hub id
    data: str                            # LLaVA .json/.jsonl export, HF dataset folder, or a store
    output_dir: str
    revision: str | None = None          # a release tag of the vstar-data store at `data`
    videos: str | None = None            # root for relative video paths
    split: str = "train"                 # dataset folders only
    limit: int | None = None             # train on the first N valid rows
    num_frames: int = 8
    frame_size: int | None = 336         # short side of decoded frames
    max_length: int | None = None        # rows encoding to more tokens are skipped (never truncated)
    epochs: float = 1.0
    max_steps: int = -1                  # > 0 overrides epochs
    learning_rate: float = 2e-5
    warmup_ratio: float = 0.03
    lr_scheduler: str = "cosine"
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    global_batch_size: int = 128
    per_device_batch_size: int = 1
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: list[str] = field(default_factory=lambda: list(DEFAULT_LORA_TARGETS))
    freeze_vision: bool = True           # vision encoder frozen; projector + language model train
    precision: str = "auto"              # auto: bf16 on CUDA (if supported), fp32 on CPU
    gradient_checkpointing: bool | None = None  # None: on when training on CUDA
    dataloader_workers: int = 2          # processes decoding frames for the next batches
    cache_rows: int = 0                  # keep this many encoded rows in memory (many-epoch small sets)
    seed: int = 0
    logging_steps: int = 10
    overwrite: bool = False              # replace a finished checkpoint trained with other settings
    torch_threads: int | None = None     # CPU: fixed intra-op threads (same weights on any machine)
    videos_cache: dict[str, Any] | None = None   # clips named by URL: the local cache {dir, max_gb}

    def __post_init__(self) -> None:
        if isinstance(self.lora_target_modules, str):
            self.lora_target_modules = [m.strip() for m in self.lora_target_modules.split(",") if m.strip()]
        p = [f"{k} is required" for k in ("model", "data", "output_dir") if not getattr(self, k)]
        p += [f"{k} must be an integer >= 1, got {getattr(self, k)!r}" for k in
              ("num_frames", "global_batch_size", "per_device_batch_size", "lora_r", "lora_alpha")
              if not isinstance(getattr(self, k), int) or getattr(self, k) < 1]
        p += [f"{k} must be >= 1 or null, got {getattr(self, k)!r}" for k in ("limit", "frame_size", "max_length")
              if getattr(self, k) is not None and getattr(self, k) < 1]
        checks = [
            (not self.data or Path(self.data).exists(), f"data {self.data!r} does not exist"),
            (not (self.revision and self.data) or (Path(self.data) / ".vstar-data-store").is_file(),
             f"revision {self.revision!r} needs data to be a vstar-data store folder"),
            (self.videos is None or is_url(self.videos) or Path(self.videos).is_dir(),
             f"videos {self.videos!r} is not a directory (nor a URL)"),
            (self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate!r}"),
            (0 <= self.warmup_ratio < 1, f"warmup_ratio must be in [0, 1), got {self.warmup_ratio!r}"),
            (self.epochs > 0 or self.max_steps > 0, "epochs must be > 0 (or set max_steps > 0)"),
            (0 <= self.lora_dropout < 1, f"lora_dropout must be in [0, 1), got {self.lora_dropout!r}"),
            (self.precision in PRECISIONS, f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}"),
            (not self.lora or bool(self.lora_target_modules), "lora_target_modules must name a module (e.g. q_proj)"),
            (self.dataloader_workers >= 0, "dataloader_workers must be >= 0"),
            (self.lr_scheduler in SCHEDULERS, f"lr_scheduler must be one of {', '.join(SCHEDULERS)}"),
            (_valid_cache(self.videos_cache), f"videos_cache must be {{dir, max_gb > 0}}, got {self.videos_cache!r}"),
        ]
        p += [msg for ok, msg in checks if not ok]
        if p:
            raise ConfigError("invalid training settings", problems=p)

    def signature(self) -> str:
        """Hash of the recipe (settings + data content); performance knobs excluded."""
        from .data import data_fingerprint, store_commit

        recipe = {k: v for k, v in asdict(self).items() if k not in PERFORMANCE_KNOBS}
        recipe["data"] = store_commit(self.data, self.revision) if self.revision else data_fingerprint(self.data)
        return hashlib.sha256(json.dumps(recipe, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class TrainResult:
    output_dir: Path
    train_loss: float            # mean training loss over the run (the Trainer's train_loss)
    steps: int                   # optimizer steps
    samples_per_s: float
    seconds: float
    final_loss: float | None = None      # last logged loss
    rows: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    from_marker: bool = False            # True: an earlier run had finished it; nothing trained


def plan_batch(global_batch: int, per_device: int, world: int, rows: int) -> tuple[int, int, str | None]:
    """Gradient accumulation for the requested global batch: (accumulation, effective global, note).

    Clamped so that one optimizer step never needs more micro-batches than an epoch has (a tiny
    dataset then still gets updates), and rounded when the global batch does not divide.
    """
    per_step = per_device * world
    accum = max(1, round(global_batch / per_step))
    note = None
    if accum * per_step != global_batch:
        note = f"global batch {global_batch} is not a multiple of {per_device} x {world} processes"
    micro_per_epoch = max(1, math.ceil(rows / per_step))
    if accum > micro_per_epoch:
        accum = micro_per_epoch
        note = f"only {rows} rows: global batch {global_batch} clamped"
    if note:
        note += f"; using accumulation {accum} (global batch {accum * per_step})"
    return accum, accum * per_step, note


def _is_main() -> bool:
    from accelerate import PartialState
    return PartialState().is_main_process


def _barrier() -> None:
    from accelerate import PartialState
    PartialState().wait_for_everyone()


def _read_marker(out: Path) -> dict[str, Any] | None:
    try:
        return json.loads((out / DONE_FILE).read_text("utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _result(out: Path, m: dict[str, Any], from_marker: bool) -> TrainResult:
    return TrainResult(output_dir=out, train_loss=m["train_loss"], steps=m["steps"],
                       samples_per_s=m["samples_per_s"], seconds=m["seconds"], final_loss=m.get("final_loss"),
                       rows=m.get("rows", 0), skipped=m.get("skipped", {}), from_marker=from_marker)


def finished(cfg: TrainConfig, sig: str) -> TrainResult | None:
    """The recorded result when `output_dir` holds this training; None when it must (re)train."""
    out = Path(cfg.output_dir)
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        return None
    marker = _read_marker(out)
    if marker is not None and marker.get("signature") == sig:
        return _result(out, marker, from_marker=True)
    if cfg.overwrite:
        return None
    what = "a checkpoint trained with other settings or data" if marker else "files that are not a finished training"
    raise ConfigError(f"output_dir holds {what}; choose another output_dir or set overwrite", file=out)


@dataclass
class _Run:
    cfg: TrainConfig
    sig: str
    out: Path
    tmp: Path
    trainer: Any
    processor: Any
    rows: int
    skipped: dict[str, int]
    accumulation: int
    global_batch: int


def _select_lora_targets(model: Any, suffixes: list[str]) -> list[str]:
    """Full names of the language model's modules ending in one of `suffixes` (vision excluded)."""
    names = [n for n, _ in model.named_modules()
             if n.rsplit(".", 1)[-1] in suffixes and not any(v in n.split(".") for v in VISION_PARTS)]
    if not names:
        raise ConfigError(f"no language-model module is named {', '.join(suffixes)} in {type(model).__name__}; "
                          "set lora_target_modules")
    return names


def _make_trainer_class() -> type:
    from transformers import Trainer, TrainerCallback

    class LogLastStep(TrainerCallback):
        """Log the loss of the last step too, so short runs record a final loss."""

        def on_step_end(self, args, state, control, **kwargs):  # type: ignore[override]
            if state.global_step >= state.max_steps:
                control.should_log = True

    class TimedTrainer(Trainer):
        """Trainer that records how long the training loop waits for batches (data-loading share)."""

        data_wait_s = 0.0      # waiting for batches after the first step
        startup_wait_s = None  # the first step's wait: worker start-up + first decode

        def get_batch_samples(self, epoch_iterator, num_batches, device):  # type: ignore[override]
            t0 = time.perf_counter()
            batches = []
            for _ in range(num_batches):
                try:
                    batches.append(next(epoch_iterator))
                except StopIteration:
                    break
            if self.startup_wait_s is None:
                self.startup_wait_s = time.perf_counter() - t0
            else:
                self.data_wait_s += time.perf_counter() - t0
            return batches, self._get_num_items_in_batch(batches, device)

    TimedTrainer.callback = LogLastStep
    return TimedTrainer


def device_plan(cfg: "TrainConfig") -> tuple[bool, bool, bool]:
    """(cuda, bf16, gradient checkpointing) for this process, as SFT and GRPO both decide them."""
    import torch

    cuda = torch.cuda.is_available() and os.environ.get("ACCELERATE_USE_CPU", "").lower() not in ("1", "true")
    bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and cuda and torch.cuda.is_bf16_supported())
    ckpt = cfg.gradient_checkpointing if cfg.gradient_checkpointing is not None else cuda
    return cuda, bf16, ckpt


def _valid_cache(cache: Any) -> bool:
    """`videos_cache` by the run config's own schema (null, or {dir, max_gb > 0}): one rule for
    `build`, `train --videos-cache` and a training YAML."""
    if cache is None:
        return True
    from ..schemas import load_schema, validator_class

    schema = load_schema("run_config")["properties"]["videos_cache"]
    return bool(validator_class(schema)(schema).is_valid(cache))


def worker_start_method(workers: int) -> str | None:
    """How DataLoader workers start: from a fork server, never a fork of this process.

    A fork copies only the forking thread, so a worker forked while another thread (a tokenizer
    pool, an HTTP or Ray client, tqdm's monitor) holds a lock can wait on it forever: CI saw a
    training run hang for 15 minutes that way. A fork server is a clean single-threaded process
    that forks the workers instead; the dataset travels to them pickled.
    """
    import multiprocessing

    if workers <= 0:
        return None
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return "spawn"
    # the server imports these once; each worker forked from it then starts in milliseconds
    multiprocessing.set_forkserver_preload(["torch", "transformers", "vstar_data.training.data"])
    return "forkserver"


def trainer_args(cfg: "TrainConfig", tmp: Path, accum: int, *, cuda: bool, bf16: bool, ckpt: bool,
                 **extra: Any) -> dict[str, Any]:
    """The TrainingArguments both trainers share (GRPOConfig is one), plus `extra`."""
    return dict(
        output_dir=str(tmp), per_device_train_batch_size=cfg.per_device_batch_size,
        gradient_accumulation_steps=accum, num_train_epochs=cfg.epochs, max_steps=cfg.max_steps,
        learning_rate=cfg.learning_rate, lr_scheduler_type=cfg.lr_scheduler, warmup_steps=cfg.warmup_ratio,
        weight_decay=cfg.weight_decay, max_grad_norm=cfg.max_grad_norm, bf16=bf16, use_cpu=not cuda,
        activation_checkpointing=ckpt, activation_checkpointing_kwargs={"use_reentrant": False} if ckpt else None,
        logging_steps=cfg.logging_steps, save_strategy="no", report_to="none", seed=cfg.seed,
        data_seed=cfg.seed, remove_unused_columns=False, disable_tqdm=not os.isatty(2), **extra)


def load_base_model(cfg: "TrainConfig", bf16: bool) -> Any:
    """The model to train, as SFT and GRPO both start: torch threads and seed set first (same
    numbers run to run), fp32 master weights for full fine-tuning (bf16 autocast) or a bf16 frozen
    base under LoRA, the vision tower frozen when asked (its projector stays trainable)."""
    import torch
    from transformers import AutoModelForImageTextToText

    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    torch.manual_seed(cfg.seed)
    dtype = torch.bfloat16 if (bf16 and cfg.lora) else torch.float32
    model = AutoModelForImageTextToText.from_pretrained(cfg.model, dtype=dtype)
    if cfg.freeze_vision:
        for name, param in model.named_parameters():
            parts = name.split(".")
            if any(v in parts for v in VISION_PARTS) and not any(p in parts for p in PROJECTOR_PARTS):
                param.requires_grad_(False)
    return model


def lora_config(cfg: "TrainConfig", model: Any) -> Any:
    """peft's LoraConfig for `cfg` on `model` (targets chosen from its linear layers)."""
    from peft import LoraConfig

    return LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=_select_lora_targets(model, cfg.lora_target_modules))


def setup(cfg: TrainConfig, sig: str) -> _Run:
    """Rows, batch plan, TrainingArguments (joins the process group), model, processor, Trainer."""
    from transformers import AutoProcessor, TrainingArguments

    from .data import PadCollator, VideoChatDataset, load_rows, store_checkout

    out = Path(cfg.output_dir).resolve()
    tmp = out.parent / f".{out.name}.tmp-{sig}"
    out.parent.mkdir(parents=True, exist_ok=True)
    data = str(store_checkout(cfg.data, cfg.revision, out.parent, out.name)) if cfg.revision else cfg.data
    rows, skipped = load_rows(data, split=cfg.split, videos=cfg.videos, limit=cfg.limit)
    if not rows:
        raise ConfigError(f"no usable training rows (skipped: {dict(skipped) or 'none'})", file=cfg.data)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    accum, global_batch, note = plan_batch(cfg.global_batch_size, cfg.per_device_batch_size, world, len(rows))
    cuda, bf16, ckpt = device_plan(cfg)

    args = TrainingArguments(**trainer_args(
        cfg, tmp, accum, cuda=cuda, bf16=bf16, ckpt=ckpt, dataloader_num_workers=cfg.dataloader_workers,
        dataloader_multiprocessing_context=worker_start_method(cfg.dataloader_workers),
        ddp_find_unused_parameters=True))  # e.g. LLaVA-NeXT's image_newline is unused by video batches
    if _is_main():  # a temp folder left by a killed run (any settings) is discarded
        for stale in out.parent.glob(f".{out.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
    _barrier()
    if _is_main():
        log.info("training %s on %d rows (%s skipped) -> %s; %d process(es) x batch %d x accumulation %d "
                 "= global batch %d; %s%s", cfg.model, len(rows), sum(skipped.values()), out, world,
                 cfg.per_device_batch_size, accum, global_batch, "bf16" if bf16 else "fp32",
                 ", gradient checkpointing" if ckpt else "")
        if note:
            log.warning(note)

    model = load_base_model(cfg, bf16)
    if cfg.lora:
        from peft import get_peft_model

        model = get_peft_model(model, lora_config(cfg, model))
    processor = AutoProcessor.from_pretrained(cfg.model)
    tok = processor.tokenizer
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else (tok.eos_token_id or 0)
    dataset = VideoChatDataset(rows, processor, num_frames=cfg.num_frames, frame_size=cfg.frame_size,
                               max_length=cfg.max_length, cache_rows=cfg.cache_rows, videos_cache=cfg.videos_cache)
    cls = _make_trainer_class()
    trainer = cls(model=model, args=args, data_collator=PadCollator(pad_id), train_dataset=dataset,
                  processing_class=processor, callbacks=[cls.callback()])
    return _Run(cfg, sig, out, tmp, trainer, processor, len(rows), dict(skipped), accum, global_batch)


@contextmanager
def _no_zero3_init() -> Iterator[None]:
    """Load a whole model in one process even under ZeRO-3, whose partitioned init would wait for
    the other processes (transformers keeps the switch in a module global)."""
    from transformers.integrations import deepspeed as hf_ds

    saved = getattr(hf_ds, "_hf_deepspeed_config_weak_ref", None)
    hf_ds.unset_hf_deepspeed_config()
    try:
        yield
    finally:
        hf_ds._hf_deepspeed_config_weak_ref = saved


def save_checkpoint(run: _Run, metrics: dict[str, Any], extra: dict[str, Any] | None = None) -> TrainResult:
    """Write the loadable checkpoint (LoRA merged) + processor + marker into the temp folder,
    then rename it to `output_dir`. Every process calls this (FSDP gathers weights collectively).
    `extra`: more marker keys (the GRPO recipe's method, settings and reward tally)."""
    trainer, tmp, out = run.trainer, run.tmp, run.out
    if getattr(trainer, "is_fsdp_enabled", False):
        trainer.accelerator.state.fsdp_plugin.set_state_dict_type("FULL_STATE_DICT")
    trainer.save_model(str(tmp / "adapter") if run.cfg.lora else str(tmp))
    _barrier()
    if _is_main():
        if run.cfg.lora:  # merge into a fresh copy of the base: works the same after DDP/FSDP/ZeRO
            from peft import PeftModel
            from transformers import AutoModelForImageTextToText

            with _no_zero3_init():
                base = AutoModelForImageTextToText.from_pretrained(run.cfg.model, dtype="auto")
                merged = PeftModel.from_pretrained(base, str(tmp / "adapter")).merge_and_unload()
            merged.save_pretrained(str(tmp))
            del base, merged
        else:
            cfg_path = tmp / "config.json"  # the Trainer switched the KV cache off; generation wants it
            conf = json.loads(cfg_path.read_text("utf-8"))
            for part in (conf, conf.get("text_config") or {}):
                if part.get("use_cache") is False:
                    part["use_cache"] = True
            cfg_path.write_text(json.dumps(conf, indent=2), "utf-8")
        run.processor.save_pretrained(str(tmp))
        (tmp / "training_args.bin").unlink(missing_ok=True)  # a pickle nobody needs to load
        steps = trainer.state.global_step
        losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
        runtime = float(metrics.get("train_runtime", 0.0))
        startup = trainer.startup_wait_s or 0.0
        marker = {
            "signature": run.sig, "train_loss": float(metrics.get("train_loss", float("nan"))),
            "final_loss": losses[-1] if losses else None, "steps": steps,
            "samples_per_s": float(metrics.get("train_samples_per_second", 0.0)), "seconds": runtime,
            "step_s": runtime / steps if steps else None,
            # share of the training loop spent waiting for batches, first step (start-up) excluded
            "data_wait_share": round(trainer.data_wait_s / (runtime - startup), 4) if runtime > startup else None,
            "startup_wait_s": round(startup, 4),
            "rows": run.rows, "skipped": run.skipped, "accumulation": run.accumulation,
            "global_batch": run.global_batch, "world_size": trainer.args.world_size,
            "loss_history": losses, "config": asdict(run.cfg),
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **(extra or {}),
        }
        (tmp / DONE_FILE).write_text(json.dumps(marker, indent=2, default=str), "utf-8")
        if out.exists():  # only reached with overwrite=True (or an empty folder)
            old = out.parent / f".{out.name}.old-{run.sig}"
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(tmp, out)
        for checkout in out.parent.glob(f".{out.name}.data-*"):  # store releases checked out for this run
            shutil.rmtree(checkout, ignore_errors=True)
    _barrier()
    marker = _read_marker(out)
    if marker is None:
        raise RuntimeError(f"{out / DONE_FILE} is missing after training (is the output folder shared "
                           "between nodes?)")
    return _result(out, marker, from_marker=False)


def cleanup(run: _Run | None) -> None:
    """Free the model and optimizer so a cycle runner can train again in the same process."""
    import torch

    if run is not None:
        run.trainer.model = run.trainer.model_wrapped = run.trainer.optimizer = run.trainer = None
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def train(cfg: TrainConfig) -> TrainResult:
    """Train (or return the recorded result when `output_dir` already holds this training)."""
    sig = cfg.signature()
    done = finished(cfg, sig)
    if done is not None:
        log.info("%s is already trained (%s); not training again", done.output_dir, DONE_FILE)
        return done
    import torch

    run = None
    threads = torch.get_num_threads()  # torch_threads holds for this training only
    try:
        run = setup(cfg, sig)
        metrics = run.trainer.train().metrics
        return save_checkpoint(run, metrics)
    finally:
        cleanup(run)
        torch.set_num_threads(threads)
