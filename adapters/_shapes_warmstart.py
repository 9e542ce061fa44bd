"""The shapes world's warm-start model (`vstar-data tiny-model --pretrain shapes`).

Trains a tiny video VLM from scratch, on the CPU, on a *different* task over the same world:
naming the shape and its colour, and restating a given hint word inside an explanation. So it
starts with partial skill, like Video-LLaVA on FineDiving in the paper: it never produces the
motion direction unaided (cycle-0 generation yield near zero), and it rationalizes a given label
in its own words ("...that moves left") only on part of the clips; on the others it defers to the
hint ("As the hint says, ..."), which the verifier rejects as a hint echo. So cycle 0 yields rows
for about half of the clips, and the cycles that follow have room to grow: each cycle's model
answers more clips unaided, the next cycle trains on more rows and held-out accuracy rises. Only
the shapes adapter knows this file exists.

Which clips it explains is trained on the clip's speed (EXPLAINS), a property no answer names.
It learns that split only loosely (measured: it explains 68% of slow and 61% of fast held-out
clips), which is all the demo needs: cycle 0's rows come from every colour and shape. An earlier
split on colour (explain red and green only) made each cycle's model, trained on red and green
rows, call blue and yellow shapes red or green: with the colour a constraint label those answers
are rejected, and held-out accuracy stopped rising after cycle 1.
"""
from __future__ import annotations

import csv
import json
import random
import shutil
from pathlib import Path
from typing import Any, Callable

from vstar_data.dataset.rows import conversations

# It explains a hint in its own words only on clips whose field has one of these values (the slow
# ones, half of the clips); on the others it defers to the hint, so cycle-0 rationalization yields
# about half. The field is one no answer names, so no colour or shape is favoured (see above).
EXPLAINS = ("speed", ("2",))
HINT_POOL = ("left", "right", "up", "down", "fast", "slow", "away", "around", "back", "across")
WORDS = ("The video shows a that moves red green blue yellow square circle triangle left right up "
         "down fast slow away around back across direction colour shape count speed Question Answer "
         "What is happening in this video Describe the motion you see clip does over course of "
         "Explain object doing Can describe movement How behave Tell me about and how it moves can "
         "observe short main its As hint says")
TEXT = {"hidden_size": 96, "intermediate_size": 192, "num_hidden_layers": 3, "num_attention_heads": 6,
        "num_key_value_heads": 2}  # head_dim 16 fits the tiny rope sections
# The world (32x32 clips, objects 8 px, 2-3 px per frame) is tuned to patch 8: one object fills
# one vision patch and a frame is 4x4 patches. The real geometry (patch 14, frames resized to
# 56 px) would change every number of the demo, so its model keeps the compact geometry.
GEOMETRY = "compact"


def _rows(world: Path, template: Any, rng: random.Random, per_clip: int,
          explains: tuple[str, tuple[str, ...]] = EXPLAINS) -> list[dict[str, Any]]:
    """Two kinds of rows per clip: describe (colour + shape, never the direction) and restate a
    random hint word (so the hint, not the video, decides the word). On clips whose `explains`
    field has one of its values it states the word as its own conclusion; on the others it defers
    to the hint ("As the hint says, ..."), which the verifier rejects as a hint echo."""
    rows = []
    with (world / "annotations.csv").open(newline="", encoding="utf-8") as fh:
        for truth in csv.DictReader(fh):
            video = str((world / "videos" / f"{truth['clip']}.mp4").resolve())
            thing = f"a {truth['colour']} {truth['shape']}"
            for k in range(per_clip):
                q = rng.choice(template.questions)["text"]
                rows.append({"id": f"{truth['clip']}-d{k}", "video": video, "conversations": conversations(
                    template.generation_form.format(question=q), f"The video shows {thing}.")})
                hint = rng.choice(HINT_POOL)
                prompt = template.rationalization_form.format(question=q, label=f"direction: {hint}")
                rows.append({"id": f"{truth['clip']}-h{k}", "video": video, "conversations": conversations(
                    prompt, f"The video shows {thing} that moves {hint}." if truth[explains[0]] in explains[1]
                    else f"As the hint says, the video shows {thing} that moves {hint}.")})
    return rows


def build_warm_start(out: str | Path, render_world: Callable[..., Any], *, arch: str = "qwen2_vl", seed: int = 0, clips: int = 288,
                     steps: int = 300, batch: int = 32, learning_rate: float = 2e-3,
                     work_dir: str | Path | None = None, explains: tuple[str, tuple[str, ...]] = EXPLAINS,
                     torch_threads: int | None = 1) -> Path:
    """Render a pre-training world (with `render_world`, the shapes adapter's renderer, passed in so
    this module does not import the adapter back), build a tiny model with the world's words as whole
    tokens, and train it; the checkpoint at `out` loads like any other."""
    from vstar_data.backends.tiny import TinyOptions, build_tiny_model
    from vstar_data.sources.templates import TemplateIndex
    from vstar_data.training.recipe import TrainConfig, train

    out = Path(out)
    work = Path(work_dir) if work_dir else out.parent / f".{out.name}-work"
    world = render_world(work / "world", n=clips, seed=10_000 + seed, test_share=0.0)
    init = build_tiny_model(arch, work / "init", seed=seed,
                            options=TinyOptions(corpus=(WORDS + "\n") * 4, vocab_size=320, text=TEXT,
                                                geometry=GEOMETRY))
    _zero_background(init)
    template = TemplateIndex().get("shapes")
    rows = _rows(world, template, random.Random(seed), per_clip=2, explains=explains)
    data = work / "pretrain.json"
    data.write_text(json.dumps(rows), "utf-8")
    train(TrainConfig(model=str(init), data=str(data), videos=str(world / "videos"), output_dir=str(out),
                      max_steps=steps, learning_rate=learning_rate, warmup_ratio=0.05,
                      global_batch_size=batch, per_device_batch_size=batch, num_frames=8, frame_size=None,
                      freeze_vision=False, seed=seed, dataloader_workers=0, cache_rows=len(rows),
                      logging_steps=50, torch_threads=torch_threads))
    shutil.rmtree(work, ignore_errors=True)
    return out


def _zero_background(model_dir: Path) -> None:
    """Pixels scaled to [0, 1] (no mean/std shift): a black background must be 0, or vision
    tokens swamp the text embeddings of a tiny model."""
    for name in ("preprocessor_config.json", "video_preprocessor_config.json", "processor_config.json"):
        path = model_dir / name
        if not path.exists():
            continue
        data = json.loads(path.read_text("utf-8"))
        for holder in [data, *[v for v in data.values() if isinstance(v, dict)]]:
            if "image_mean" in holder:
                holder["image_mean"] = [0.0, 0.0, 0.0]
                holder["image_std"] = [1.0, 1.0, 1.0]
        path.write_text(json.dumps(data, indent=2), "utf-8")
