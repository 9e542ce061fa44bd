"""The `vstar-data` command line. Each command group lives in its own module; heavy imports
(torch, transformers, datasets) happen inside commands so `--help` stays fast."""
from __future__ import annotations

import os
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

# Command modules, in the order of the data flow; each registers its commands on `app`.
from . import data as _data  # noqa: E402,F401  adapters, samples, new-adapter
from . import verify as _verify  # noqa: E402,F401  verify
from . import frames as _frames  # noqa: E402,F401  frames
from . import models as _models  # noqa: E402,F401  tiny-model
from . import generate as _generate  # noqa: E402,F401  generate
from . import store as _store  # noqa: E402,F401  push, revisions, checkout, export
from . import train as _train  # noqa: E402,F401  train
from . import build as _build  # noqa: E402,F401  build, eval, demo
from . import report as _report  # noqa: E402,F401  report
from . import templates_cmd as _templates_cmd  # noqa: E402,F401  templates suggest


def main() -> None:
    """Console entry point: VstarError becomes one clear line and exit status 2."""
    # transformers' and the Hub's own bars ("Loading weights", "Writing model shards") are noise
    # next to ours; set HF_HUB_DISABLE_PROGRESS_BARS=0 to see them.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        app()
    except VstarError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
