"""`vstar-data demo`: the whole Video-STaR loop on a world where it visibly works on a CPU.

Renders the procedural shapes world (adapters/shapes.py), trains its warm-start model (it names
colour and shape but never says which way the shape moves, and explains a given direction in its
own words only for part of the clips: see adapters/_shapes_warmstart.py), writes a run config and
runs `build` on it: cycle 0 answers almost never contain the direction, label rationalization
supplies rows for part of the clips, and each cycle's model answers more clips unaided, so the
next cycle trains on more rows. The world's colour, shape and count are constraint labels,
enforced by default: an answer naming another colour or shape (the warm-start model gets about one
shape in seven wrong) is rejected as `contradicts`, so no published row carries it;
`constraints=False` only measures them (the ablation, OUT/run-no-constraints). Nothing in the
pipeline knows the world: it is one more adapter.

`method="grpo"` runs the same world, warm-start model and cycles with `training.method: grpo`
(each cycle's model trained by GRPO on all the cycle's prompts with the verifier as the reward,
same steps, learning rate and batch of sequences as SFT) into OUT/run-grpo, beside OUT/run, so
`vstar-data report OUT/run OUT/run-grpo` compares the two.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import yaml

from ..config import load_run_config
from ..errors import ConfigError
from .runner import CycleRunner


DEMO_TORCH_THREADS = 1
METHODS = ("sft", "grpo")
# GRPO's group: 4 sampled answers per prompt at temperature 1, as long as generation's answers.
DEMO_GRPO = {"num_generations": 4, "max_completion_length": 24, "temperature": 1.0}


def demo_run_dir(out: Path, *, rationalize: bool = True, method: str = "sft", constraints: bool = True) -> Path:
    """OUT/run (SFT), OUT/run-grpo, named further for what a variant changes: `-no-rationalization`
    (the paper's ablation), `-no-constraints` (constraint labels measured, not enforced: the
    hallucination ablation)."""
    return out / ("run" + ("-grpo" if method == "grpo" else "") + ("" if rationalize else "-no-rationalization")
                  + ("" if constraints else "-no-constraints"))


# The demo's verifier: the default profile, but 3 words of visual description (not 4) are enough
# for a rationalized answer to count as more than the hint restated: the warm-start model's whole
# vocabulary is 320 tokens, and "The video shows a red circle that moves left." (video, red,
# circle) is all it can say of a clip. "As the hint says, ..." is still a hint echo.
DEMO_PROFILE = {"extends": "default", "description": "default, with echo_min_evidence 3 for the demo's "
                "320-token model", "echo_min_evidence": 3}


def demo_config(world: Path, model: Path, out: Path, *, cycles: int, seed: int, rationalize: bool,
                train_steps: int, method: str = "sft", constraints: bool = True,
                profile: str | Path = "default") -> dict[str, Any]:
    """The demo's run config (written to the run dir, so `build --config` can re-run it)."""
    shapes = {"adapter": "shapes", "annotations": str(world), "videos": str(world / "videos")}
    training = {"max_steps": train_steps, "learning_rate": 1e-3, "warmup_ratio": 0.05,
                "global_batch_size": 32, "per_device_batch_size": 32, "freeze_vision": False,
                "dataloader_workers": 0, "cache_rows": 100_000, "logging_steps": 50}
    if method == "grpo":
        training.update(method="grpo", grpo=dict(DEMO_GRPO))
    return {
        "run_dir": str(out), "seed": seed,
        # one torch thread everywhere: the same numbers on any machine, and on a busy 2-core machine
        # several times faster than 2 threads (OpenMP threads wait on each other when cores are taken)
        "reproducibility": {"torch_threads": DEMO_TORCH_THREADS, "deterministic": True},
        "sources": [{**shapes, "split": "train"}], "eval": [{**shapes, "split": "test"}],
        "model": {"pretrained": str(model)},
        "backend": {"name": "transformers", "batch_size": 32, "max_new_tokens": 24, "temperature": 0.0,
                    "decode_workers": 1},
        "frames": {"num_frames": 8, "size": None},
        # the world's colour, shape and count are constraint labels (adapters/shapes.py): enforced
        # (an answer naming another colour or shape is rejected, `contradicts`), or only measured
        # with --no-constraints; stats.json `hallucination` counts them either way
        "verifier": {"profile": str(profile), "constraints": "enforce" if constraints else "measure"},
        "rationalize": rationalize,
        "training": training,
        "store": {"path": str(out / "vstar-1m"), "final_exclude_rationalized": True},  # the paper's final step
        "cycles": {"max": cycles, "plateau_metric": "accuracy", "min_delta": None},  # show every cycle
    }


def run_demo(out: str | Path, *, cycles: int = 2, clips: int = 512, seed: int = 0, rationalize: bool = True,
             train_steps: int = 450, warm_start_steps: int = 300, method: str = "sft", constraints: bool = True,
             echo: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Render the world, build the warm-start model, run the cycles; returns stats.json's list.
    (`cycles`: 2 by default: cycle 1's model answers about 70% of the 384 training clips unaided,
    so a third cycle trains on only a few more rows (334 -> 356 on one CPU, 318 -> 349 on another)
    and its held-out accuracy moved -4.7 and +7.0 points: one training's variance, not a gain.
    `train_steps`: a cycle's model learns the direction in one sudden drop of its loss, which
    came between steps 200 and 300 for most cycles and after step 300 for one of four, whose
    held-out accuracy then fell from 65% to 48%; 450 leaves room. `train_steps` /
    `warm_start_steps`: fewer make a quick, smaller demo, as the tests run;
    `constraints=False`: constraint labels only measured, in run-no-constraints: the ablation.)"""
    from ..adapters.shapes import ShapesAdapter, render_world

    if method not in METHODS:
        raise ConfigError(f"--method must be one of {', '.join(METHODS)}, got {method!r}", key="method")
    out = Path(out).resolve()
    world = out / "world"
    if not (world / "annotations.csv").exists():
        echo(f"rendering {clips} shapes clips -> {world}")
        render_world(world, n=clips, seed=seed, test_share=0.25)
    model = out / "models" / "warm-start"
    if not (model / "train_done.json").exists():
        echo(f"training the warm-start model (colour, shape, restating a hint) -> {model}")
        ShapesAdapter.warm_start(model, seed=seed, steps=warm_start_steps)
    run_dir = demo_run_dir(out, rationalize=rationalize, method=method, constraints=constraints)
    config = run_dir.parent / f"{run_dir.name}.yaml"
    profile = out / "demo-verifier.yaml"
    profile.write_text(yaml.safe_dump(DEMO_PROFILE, sort_keys=False), "utf-8")
    config.write_text(yaml.safe_dump(demo_config(world, model, run_dir, cycles=cycles, seed=seed,
                                                 rationalize=rationalize, train_steps=train_steps, method=method,
                                                 constraints=constraints, profile=profile),
                                     sort_keys=False), "utf-8")
    return CycleRunner(load_run_config(config), echo=echo).run()
