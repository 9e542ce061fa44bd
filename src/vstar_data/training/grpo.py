"""The GRPO recipe (`training.method: grpo`): RL with the verifier as the reward, on every prompt
of a cycle (not only its accepted rows: the reward does the selecting).

`setup` (prompt rows, batch plan, GRPOConfig, model, processor, VideoGRPOTrainer with
`vstar_data.rewards.trl_reward`) -> `Trainer.train` -> `recipe.save_checkpoint` (the SFT recipe's
writer: LoRA merged, processor saved, `train_done.json` with the reward tally, atomic rename) ->
`recipe.cleanup`. A finished checkpoint is found by its marker and signature exactly as SFT's.

The usual training fields (learning rate, LoRA, steps, batch sizes, frames) are TrainConfig's;
`training.grpo` adds exactly `num_generations`, `beta`, `max_completion_length`, `temperature`,
`format_weight` (GrpoSettings). Batch sizes count completions, as in TRL: a step of global batch
32 with num_generations 4 samples 8 prompts 4 times each.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import logging
import os
import shutil
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import ConfigError, SkipRecord, UnsafePathError
from ..sources.storage import clip_exists
from .recipe import (TrainConfig, TrainResult, _barrier, _is_main, _Run, cleanup, device_plan, finished,
                     load_base_model, lora_config, trainer_args, plan_batch, save_checkpoint)

log = logging.getLogger(__name__)
METHODS = ("sft", "grpo")


@dataclass
class GrpoSettings:
    """`training.grpo`: defaults that give a small batch several groups with a reward to compare."""

    num_generations: int = 4             # completions per prompt (the group)
    beta: float = 0.0                    # KL coefficient (0: no reference model, TRL's default)
    max_completion_length: int = 48      # tokens per completion
    temperature: float = 1.0             # sampling temperature of the completions
    format_weight: float = 0.0           # weight of the <think>/<answer> format part of the reward

    def __post_init__(self) -> None:
        p = []
        for name, least in (("num_generations", 2), ("max_completion_length", 1)):  # a group compares >= 2
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < least:
                p.append(f"{name} must be an integer >= {least}, got {v!r}")
        for name, ok, want in (("beta", lambda v: v >= 0, ">= 0"), ("temperature", lambda v: v > 0, "> 0"),
                               ("format_weight", lambda v: 0 <= v <= 1, "in [0, 1]")):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not ok(v):
                p.append(f"{name} must be a number {want}, got {v!r}")
        if p:
            raise ConfigError("invalid training.grpo settings", problems=p)


def grpo_problems(value: Any, *, prefix: str = "training/grpo") -> list[str]:
    """Every problem of a `training.grpo` mapping: unknown keys (with a did-you-mean) and values."""
    if value is None:
        return []
    if not isinstance(value, dict):
        return [f"{prefix}: must be a mapping of {', '.join(f.name for f in fields(GrpoSettings))}"]
    known = [f.name for f in fields(GrpoSettings)]
    problems = []
    for key in sorted(value, key=str):
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            problems.append(f"{prefix}/{key}: unknown GRPO setting; {hint}known: {', '.join(known)}")
    try:
        GrpoSettings(**{k: v for k, v in value.items() if k in known})
    except ConfigError as exc:
        problems += [f"{prefix}: {p}" for p in exc.problems]
    return problems


@dataclass
class GrpoResult(TrainResult):
    reward: dict[str, Any] = field(default_factory=dict)   # {"mean", "groups_with_reward", "groups"}


# -- prompts -------------------------------------------------------------------------------------
def load_prompts(data: str, *, videos: str | None = None,
                 limit: int | None = None) -> tuple[list[dict[str, Any]], Counter]:
    """Prompt rows of a JSON list (`{"id", "video", "clip_start", "clip_end", "conversations": [the
    user turn], "labels": [specs]}`) whose clip is on disk and that have labels; skipped by reason."""
    from .data import resolve_video

    path = Path(data)
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"GRPO prompts are not a readable JSON list: {exc}", file=path) from exc
    if not isinstance(raw, list):
        raise ConfigError("GRPO prompts must be a JSON list of rows", file=path)
    rows, skipped = [], Counter()
    for idx, item in enumerate(raw):
        if limit is not None and len(rows) >= limit:
            break
        try:
            if not isinstance(item, dict) or not isinstance(item.get("conversations"), list) or not item.get("video"):
                raise SkipRecord("malformed_row", "a prompt row needs `video` and `conversations`", row=idx)
            if not item.get("labels"):
                raise SkipRecord("no_labels", "a prompt without labels cannot be rewarded", row=idx)
            try:
                video = resolve_video(videos, str(item["video"]))
            except UnsafePathError as exc:
                raise SkipRecord("unsafe_path", exc.message, row=idx) from exc
            if not clip_exists(video):
                raise SkipRecord("video_missing", str(video), row=idx)
        except SkipRecord as skip:
            skipped[skip.reason] += 1
            continue
        turns = [{"from": t.get("from", t.get("role")), "value": t.get("value", t.get("content"))}
                 for t in item["conversations"] if isinstance(t, dict)]
        rows.append({"id": str(item.get("id", idx)), "path": str(video), "conversations": turns,
                     "clip_start": item.get("clip_start"), "clip_end": item.get("clip_end"),
                     "labels": item["labels"] if isinstance(item["labels"], str) else json.dumps(item["labels"])})
    return rows, skipped


def _question(turns: list[dict[str, Any]]) -> str:
    text = next((t["value"] for t in turns if t["from"] in ("human", "user")), "")
    return text.replace("<video>", "").strip()


# -- the reward ----------------------------------------------------------------------------------
class RewardTally:
    """`trl_reward` with the run's profile and format weight, counting what it hands out: the mean
    reward and how many groups (the completions of one prompt) had a completion with reward > 0
    (only groups whose rewards differ teach GRPO anything)."""

    def __init__(self, num_generations: int, *, profile: str, format_weight: float,
                 enforce_constraints: bool = True, vocabularies: list[Any] | None = None) -> None:
        self.__name__ = "vstar_verifier"         # TRL logs rewards/<__name__>/mean
        self.num_generations, self.profile, self.format_weight = num_generations, profile, format_weight
        self.enforce_constraints = enforce_constraints
        self.vocabularies = vocabularies         # per prompt row: its source's classes per label name
        self.total, self.count, self.groups, self.groups_with_reward = 0.0, 0, 0, 0

    def __call__(self, prompts: Any = None, completions: Any = None, labels: Any = None,
                 **columns: Any) -> list[float | None]:
        from ..rewards import trl_reward

        rows = columns.pop("row", None)
        options = {"profile": self.profile, "format_weight": self.format_weight,
                   "enforce_constraints": self.enforce_constraints}
        if self.vocabularies is not None and rows is not None:    # each completion with its source's classes
            completions, labels = list(completions or []), list(labels or [])
            scores = [trl_reward(None, [c], labels=[lab], vocabulary=self.vocabularies[int(r)], **options)[0]
                      for c, lab, r in zip(completions, labels, rows)]
        else:
            scores = trl_reward(prompts, completions, labels=labels, **options)
        for s in scores:
            if s is not None:
                self.total, self.count = self.total + s, self.count + 1
        n = self.num_generations     # TRL's sampler puts a prompt's completions side by side
        for start in range(0, len(scores), n):
            self.groups += 1
            self.groups_with_reward += any(s is not None and s > 0 for s in scores[start:start + n])
        return scores

    def summary(self) -> dict[str, Any]:
        """The tally over every process of the run: each rank scores only its own completions, so
        under DDP the counts are summed across ranks (a collective: every rank calls it)."""
        total, count, groups, with_reward = _sum_over_ranks(
            [self.total, float(self.count), float(self.groups), float(self.groups_with_reward)])
        return {"mean": round(total / count, 6) if count else None,
                "groups_with_reward": int(with_reward), "groups": int(groups)}


def _sum_over_ranks(values: list[float]) -> list[float]:
    """`values` summed over the processes of the default process group (as they are without one)."""
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return values
    backend = dist.get_backend()
    device = torch.device("cuda", torch.cuda.current_device()) if backend == "nccl" else torch.device("cpu")
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return [float(v) for v in t.cpu().tolist()]


# -- the recipe ----------------------------------------------------------------------------------
def signature(cfg: TrainConfig, grpo: GrpoSettings, profile: str, enforce_constraints: bool = True,
              vocabularies: dict[str, Any] | None = None) -> str:
    """The SFT recipe's signature of the same settings, plus the method, the GRPO settings and the
    reward's verifier (profile, whether constraints are enforced: a checkpoint trained before the
    reward stopped scoring constraints as targets has no such key, so it is trained again)."""
    blob = json.dumps({"sft": cfg.signature(), "method": "grpo", "grpo": asdict(grpo), "profile": profile,
                       "constraints": "enforce" if enforce_constraints else "measure",
                       **({"vocabularies": vocabularies} if vocabularies else {})}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def setup(cfg: TrainConfig, grpo: GrpoSettings, sig: str, profile: str, enforce_constraints: bool = True,
          vocabularies: dict[str, Any] | None = None) -> tuple[_Run, RewardTally]:
    """Prompt rows, batch plan, GRPOConfig, model (vision frozen, LoRA), processor, trainer."""
    from datasets import Dataset
    from transformers import AutoProcessor
    from trl import GRPOConfig

    from .grpo_video import make_trainer_class

    out = Path(cfg.output_dir).resolve()
    tmp = out.parent / f".{out.name}.tmp-{sig}"
    out.parent.mkdir(parents=True, exist_ok=True)
    rows, skipped = load_prompts(cfg.data, videos=cfg.videos, limit=cfg.limit)
    if not rows:
        raise ConfigError(f"no usable GRPO prompts (skipped: {dict(skipped) or 'none'})", file=cfg.data)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    accum, global_batch, note = plan_batch(cfg.global_batch_size, cfg.per_device_batch_size, world,
                                           len(rows) * grpo.num_generations)
    if global_batch % grpo.num_generations:
        raise ConfigError(f"the global batch ({global_batch} completions) must be a multiple of "
                          f"training.grpo.num_generations ({grpo.num_generations})", key="training/global_batch_size")
    cuda, bf16, ckpt = device_plan(cfg)
    model = load_base_model(cfg, bf16)
    peft_config = lora_config(cfg, model) if cfg.lora else None
    processor = AutoProcessor.from_pretrained(cfg.model, padding_side="left")
    gen = model.generation_config
    # The tokens generation never samples (the model's own suppressions) plus the image/video
    # placeholders, whose features a sampled one would lack.
    suppress = set(gen.suppress_tokens or [])
    suppress |= {t for t in (getattr(model.config, "image_token_id", None),
                             getattr(model.config, "video_token_id", None)) if t is not None}
    gen_kwargs: dict[str, Any] = {"suppress_tokens": sorted(suppress)}
    if gen.begin_suppress_tokens:
        gen_kwargs["begin_suppress_tokens"] = list(gen.begin_suppress_tokens)
    args = GRPOConfig(**trainer_args(
        cfg, tmp, accum, cuda=cuda, bf16=bf16, ckpt=ckpt, dataloader_num_workers=0,
        num_generations=grpo.num_generations, beta=grpo.beta, max_completion_length=grpo.max_completion_length,
        temperature=grpo.temperature, generation_kwargs=gen_kwargs))
    if _is_main():
        for stale in out.parent.glob(f".{out.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        log.info("GRPO %s on %d prompts (%s skipped) x %d completions -> %s; global batch %d completions",
                 cfg.model, len(rows), sum(skipped.values()), grpo.num_generations, out, global_batch)
        if note:
            log.warning(note)
    _barrier()
    dataset = Dataset.from_list([{"prompt": [{"role": "user", "content": _question(r["conversations"])}],
                                  "row": i, "labels": r["labels"]} for i, r in enumerate(rows)])
    tally = RewardTally(grpo.num_generations, profile=profile, format_weight=grpo.format_weight,
                        enforce_constraints=enforce_constraints,
                        vocabularies=[vocabularies.get(r["id"].split("/", 1)[0]) for r in rows] if vocabularies else None)
    trainer = make_trainer_class()(model=model, reward_funcs=[tally], args=args, train_dataset=dataset,
                                   processing_class=processor, peft_config=peft_config, rows=rows,
                                   num_frames=cfg.num_frames, frame_size=cfg.frame_size,
                                   cache_rows=cfg.cache_rows, videos_cache=cfg.videos_cache)
    return _Run(cfg, sig, out, tmp, trainer, processor, len(rows), dict(skipped), accum, global_batch), tally


def train_grpo(cfg: TrainConfig, grpo: GrpoSettings, *, profile: str = "default",
               enforce_constraints: bool = True, vocabularies: dict[str, Any] | None = None) -> GrpoResult:
    """Train with GRPO (or return the recorded result when `output_dir` already holds this run).
    `enforce_constraints`: an answer contradicting a constraint label earns 0, as the run's
    verifier rejects it (`verifier.constraints: enforce`); False only reports it (`measure`).
    `vocabularies`: source name (a prompt id's first part) -> its classes per label name, the
    list generation's verifier has: without it "up up down" would name "up" and earn the reward."""
    sig = signature(cfg, grpo, profile, enforce_constraints, vocabularies)
    done = finished(cfg, sig)
    if done is not None:
        log.info("%s is already trained (GRPO); not training again", done.output_dir)
        marker = json.loads((done.output_dir / "train_done.json").read_text("utf-8"))
        return GrpoResult(**vars(done), reward=marker.get("reward") or {})
    import torch

    run = None
    threads = torch.get_num_threads()
    try:
        run, tally = setup(cfg, grpo, sig, profile, enforce_constraints, vocabularies)
        metrics = run.trainer.train().metrics
        reward = tally.summary()
        result = save_checkpoint(run, metrics, extra={"method": "grpo", "grpo": asdict(grpo), "reward": reward,
                                                       "verifier_profile": profile,
                                                       "constraints": "enforce" if enforce_constraints else "measure"})
        return GrpoResult(**vars(result), reward=reward)
    finally:
        cleanup(run)
        torch.set_num_threads(threads)
