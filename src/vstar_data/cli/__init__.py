"""The `vstar-data` command line. Each command group lives in its own module; heavy imports
(torch, transformers, datasets) happen inside commands so `--help` stays fast."""
from __future__ import annotations

import sys

import typer

from ..errors import VstarError

app = typer.Typer(
    name="vstar-data",
    help="Build Video-STaR (VSTaR-1M-style) video instruction data from labeled video datasets.\n\n"
         "Typical flow: `samples` (annotations -> questions + labels), `generate` (a video model "
         "answers, failures are rationalized), `verify`, `push` (versioned dataset), `train`, `build` "
         "(the whole self-training cycle).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)

from . import data as _data  # noqa: E402,F401  (registers commands)
from . import verify as _verify  # noqa: E402,F401
from . import generate as _generate  # noqa: E402,F401
from . import build as _build  # noqa: E402,F401


def main() -> None:
    """Console entry point: VstarError becomes one clear line and exit status 2."""
    try:
        app()
    except VstarError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
