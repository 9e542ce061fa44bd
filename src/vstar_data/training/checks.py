"""What a training run needs, checked before any work: known settings with sensible values, and a
pre-trained checkpoint that can be read (its config loads; tokenizer and processor files are
there). `vstar-data build` trains only after generating and publishing a whole cycle, so a typo
in a `training:` key or a wrong `model.pretrained` must be found when the run starts, not then.
No weights are loaded.
"""
from __future__ import annotations

import difflib
import os
from dataclasses import fields
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .mix import MIX_KEY, mix_problems
from .recipe import TrainConfig

# TrainConfig fields the cycle runner fills itself: a `training:` key may not set them.
RUN_OWNED = {"model": "model.pretrained", "data": "the cycle's accepted rows",
             "output_dir": "run_dir/cycle-N/checkpoint", "videos": "each source's `videos`"}
# `training:` keys that choose the method rather than set TrainConfig fields (training/grpo.py).
METHOD_KEYS = ("method", "grpo")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json")
PROCESSOR_FILES = ("processor_config.json", "preprocessor_config.json", "video_preprocessor_config.json")


def settings_problems(settings: dict[str, Any], *, prefix: str = "training") -> list[str]:
    """Every unknown or run-owned key of `settings` (with a did-you-mean), the value checks
    of TrainConfig itself (learning_rate > 0, known scheduler, ...) on the known ones, those of
    `mix` (training/mix.py: the run mixes, the trainer only trains on the result), and `method`
    (sft | grpo) with the `grpo` mapping (training/grpo.py)."""
    from .grpo import METHODS, GrpoSettings, grpo_problems

    problems: list[str] = []
    method = settings.get("method", "sft")
    if method not in METHODS:
        problems.append(f"{prefix}/method: must be one of {', '.join(METHODS)}, got {method!r}")
    problems += grpo_problems(settings.get("grpo"), prefix=f"{prefix}/grpo")
    if method == "grpo" and not problems:
        group = GrpoSettings(**(settings.get("grpo") or {})).num_generations
        batch = settings.get("global_batch_size", 128)
        if isinstance(batch, int) and batch % group:
            problems.append(f"{prefix}/global_batch_size: {batch} completions is not a multiple of "
                            f"grpo.num_generations ({group}); a step takes whole groups")
    settings = {k: v for k, v in settings.items() if k not in METHOD_KEYS}
    known = [f.name for f in fields(TrainConfig) if f.name not in RUN_OWNED]
    for key in sorted(settings, key=str):
        if key == MIX_KEY:
            problems += mix_problems(settings[key], prefix=f"{prefix}/{key}")
        elif key in RUN_OWNED:
            problems.append(f"{prefix}/{key}: set by the run ({RUN_OWNED[key]}), not a training setting")
        elif key not in known:
            close = difflib.get_close_matches(str(key), [*known, *METHOD_KEYS], n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            problems.append(f"{prefix}/{key}: unknown training setting; {hint}known: "
                            f"{', '.join([*known, MIX_KEY, *METHOD_KEYS])}")
    given = {k: v for k, v in settings.items() if k in known}
    types = {f.name: str(f.type) for f in fields(TrainConfig)}
    mistyped = [f"{prefix}/{k}: expected {types[k]}, got {given[k]!r}" for k in sorted(given)
                if not _fits(given[k], types[k])]
    if mistyped:                        # the value checks would only trip over a wrong type
        return problems + mistyped
    try:       # the recipe's own value checks, with stand-ins for what the run fills in later
        TrainConfig(model="pretrained", data=os.sep, output_dir="checkpoint", videos=None, **given)
    except ConfigError as exc:
        problems += [f"{prefix}: {p}" for p in exc.problems] or [f"{prefix}: {exc.message}"]
    except (TypeError, ValueError) as exc:      # a value the type check let through
        problems.append(f"{prefix}: {exc}")
    return problems


def _fits(value: Any, annotation: str) -> bool:
    """Does `value` (from YAML) fit a TrainConfig field annotation such as "float", "int | None",
    "list[str]"? An int fits float; a bool fits only bool; a comma string fits list[str]."""
    for part in (p.strip() for p in annotation.split("|")):
        if part == "None" and value is None:
            return True
        if isinstance(value, bool):
            if part == "bool":
                return True
            continue
        if (part == "int" and isinstance(value, int)) or (part == "float" and isinstance(value, (int, float))) \
                or (part == "str" and isinstance(value, str)):
            return True
        if part.startswith("list") and (isinstance(value, str) or (isinstance(value, list)
                                                                     and all(isinstance(v, str) for v in value))):
            return True
    return False


def checkpoint_problems(model: str, *, key: str = "model/pretrained") -> list[str]:
    """Why `model` (a local folder or a Hub id) cannot be trained from; [] when it can. Offline
    (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE) a Hub id must already be in the local cache."""
    if not model:
        return [f"{key}: empty; training needs a pre-trained checkpoint (a local folder or a Hub id)"]
    path = Path(model).expanduser()
    if path.is_dir():
        return _local_problems(path, key)
    if path.exists():
        return [f"{key}: {model} is a file; a checkpoint is a folder holding config.json"]
    if not _hub_id(model):
        where = model if path.is_absolute() else f"{model} ({path.resolve()})"
        return [f"{key}: {where} does not exist"]
    return _hub_problems(model, key)


def _local_problems(path: Path, key: str) -> list[str]:
    from transformers import AutoConfig

    try:
        AutoConfig.from_pretrained(str(path), local_files_only=True)
    except Exception as exc:       # no or broken config.json, unknown model_type: all say why
        return [f"{key}: {path} has no loadable model config: {type(exc).__name__}: {exc}".strip()]
    problems = []
    for what, names in (("tokenizer", TOKENIZER_FILES), ("processor", PROCESSOR_FILES)):
        if not any((path / n).is_file() for n in names):
            problems.append(f"{key}: {path} has no {what} files (one of {', '.join(names)})")
    return problems


def _hub_problems(model: str, key: str) -> list[str]:
    from transformers import AutoConfig

    offline = _offline()
    try:
        AutoConfig.from_pretrained(model, local_files_only=offline)
    except Exception as exc:
        where = "not a local folder, and not in the Hugging Face cache (offline: HF_HUB_OFFLINE)" if offline \
            else f"not a local folder, and its config cannot be fetched from the Hub ({type(exc).__name__})"
        return [f"{key}: {model} is {where}"]
    if not offline:
        return []
    from huggingface_hub import try_to_load_from_cache

    problems = []
    for what, names in (("tokenizer", TOKENIZER_FILES), ("processor", PROCESSOR_FILES)):
        if not any(isinstance(try_to_load_from_cache(model, n), str) for n in names):
            problems.append(f"{key}: {model} has no {what} files in the Hugging Face cache (offline)")
    return problems


def _hub_id(value: str) -> bool:
    parts = value.split("/")
    return len(parts) == 2 and all(parts) and not value.startswith((".", "~"))


def _offline() -> bool:
    return any(os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
               for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))
