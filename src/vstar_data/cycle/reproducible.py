"""Same seed, same numbers: the run config's `reproducibility` settings applied to this process.

A tiny model's greedy answers and its training losses change in the last bits when torch splits
a matrix product over a different number of threads, and a cycle that trains on the answers of
the last one amplifies such bits into different rows. So the cycle runner fixes torch's intra-op
threads (the engine and the trainer keep to that number), turns on deterministic algorithms and
seeds every RNG before each stage.
"""
from __future__ import annotations

import logging
import os
import random
from typing import Any, Callable

log = logging.getLogger(__name__)


def restore_point() -> Callable[[], None]:
    """A function that puts torch's thread count and deterministic flag back as they are now
    (a run inside a longer process, e.g. a test session, leaves no trace)."""
    import torch

    threads, det = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    warn = torch.is_deterministic_algorithms_warn_only_enabled()

    def restore() -> None:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(det, warn_only=warn)
    return restore


def apply(settings: dict[str, Any], seed: int) -> dict[str, Any]:
    """Apply `reproducibility` settings; returns what was fixed (recorded in stats.json)."""
    threads = settings.get("torch_threads")
    deterministic = bool(settings.get("deterministic"))
    if not threads and not deterministic:
        return {}
    import torch

    info: dict[str, Any] = {}
    if threads:
        torch.set_num_threads(int(threads))
        info["torch_threads"] = int(threads)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # cuBLAS needs it for determinism
        torch.use_deterministic_algorithms(True, warn_only=True)
        if torch.backends.cudnn.is_available():
            torch.backends.cudnn.benchmark = False
            torch.backends.cudnn.deterministic = True
        info["deterministic_algorithms"] = True
    seed_everything(seed)
    info["seed"] = seed
    return info


def seed_everything(seed: int) -> None:
    """Python's, numpy's and torch's (CPU and CUDA) generators from one seed."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def describe(info: dict[str, Any]) -> str:
    """One line for the run's output."""
    if not info:
        return "reproducibility: not fixed (set `reproducibility` in the run config for identical numbers)"
    parts = [f"torch intra-op threads fixed at {info['torch_threads']}" if "torch_threads" in info
             else "torch threads not fixed"]
    if info.get("deterministic_algorithms"):
        parts.append("deterministic algorithms on")
    parts.append(f"RNGs seeded with {info['seed']}")
    return "reproducibility: " + ", ".join(parts)
