"""CLI: model helpers (a tiny random-weight video VLM for tests, demos and CI)."""
from __future__ import annotations

from pathlib import Path

import typer

from . import app
from ._common import console

ARCH_HELP = "qwen2_vl, qwen2_5_vl, qwen3_vl, llava_next_video, llava_onevision or video_llava"


@app.command("tiny-model")
def tiny_model_cmd(
    arch: str = typer.Option(..., "--arch", help=f"Architecture: {ARCH_HELP}."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write (created; an earlier tiny model there "
                                                      "is replaced, any other non-empty folder refused)."),
    seed: int = typer.Option(0, help="Seed of the random weights."),
    pretrain: str = typer.Option("", "--pretrain", metavar="ADAPTER",
                                 help="Instead of random weights, train a warm-start model on the world of "
                                      "ADAPTER (one that provides warm_start, e.g. shapes), on the CPU."),
) -> None:
    """Write a tiny random-weight video VLM (config, weights, locally trained tokenizer, processor,
    chat template; under 2 MB) that loads like any checkpoint. Its answers are gibberish, but it
    runs the real transformers code path on CPU in seconds, without downloading anything. It keeps
    its family's real vision geometry (Qwen2/2.5-VL: patch 14 x merge 2, frames in multiples of 28
    px, as Qwen's own tooling sizes them); only widths, depths and vocabulary shrink. A --pretrain
    model keeps the geometry its adapter's world is tuned to (shapes: patch 8).

    Example: vstar-data tiny-model --arch qwen2_vl --out ./tiny-qwen2-vl, then
    vstar-data generate ... --backend transformers --model ./tiny-qwen2-vl
    """
    from ..backends.tiny import build_tiny_model

    if pretrain:
        from ..sources.adapter import load_adapter
        from ..errors import ConfigError

        cls = load_adapter(pretrain)
        if not hasattr(cls, "warm_start"):
            raise ConfigError(f"adapter {pretrain!r} has no warm-start model builder (a `warm_start` classmethod)")
        folder = cls.warm_start(out, arch=arch, seed=seed)
    else:
        folder = build_tiny_model(arch, out, seed=seed)
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    console().print(f"wrote {arch} tiny model to {folder} ({size / 1e6:.2f} MB)")
