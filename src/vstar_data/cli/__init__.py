"""The `vstar-data` command line. Each command group lives in its own module; heavy imports
(torch, transformers, datasets) happen inside commands so `--help` stays fast."""
from __future__ import annotations

import errno
import json
import os
import sys
from typing import Any

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
from . import release as _release  # noqa: E402,F401  validate, reverify
from . import train as _train  # noqa: E402,F401  train
from . import build as _build  # noqa: E402,F401  build, eval, demo
from . import report as _report  # noqa: E402,F401  report
from . import templates_cmd as _templates_cmd  # noqa: E402,F401  templates suggest


_HINTS = {errno.ENOSPC: "no space left on the device: free some space or write elsewhere, then run again",
          errno.EROFS: "the file system is read-only: write elsewhere",
          errno.EACCES: "permission denied: write elsewhere or fix the permissions",
          errno.EDQUOT: "disk quota exceeded: free some space or write elsewhere, then run again"}


def _input_error_types() -> tuple[type[BaseException], ...]:
    """The exception classes that mean "the input, the disk or the environment is wrong", not a
    bug. pyarrow's are included only when something already imported it (no import cost here)."""
    import yaml

    types: list[type[BaseException]] = [OSError, json.JSONDecodeError, UnicodeError, yaml.YAMLError]
    lib = sys.modules.get("pyarrow.lib")
    for name in ("ArrowInvalid", "ArrowIOError"):
        cls = getattr(lib, name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            types.append(cls)
    return tuple(types)


def _command(argv: list[str] | None) -> str:
    """`vstar-data COMMAND` of this invocation: where an error without a file of its own happened."""
    words = [a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")]
    return "vstar-data" + (f" {words[0]}" if words else "")


def input_error_message(exc: BaseException, command: str) -> str | None:
    """One located line for an input, disk or environment error (the file from the exception
    where it names one, else `command`); None for anything else, which is a bug and keeps its
    traceback."""
    if not isinstance(exc, _input_error_types()):
        return None
    where: Any = getattr(exc, "filename", None)
    if isinstance(exc, OSError):
        text = _HINTS.get(exc.errno or 0) or exc.strerror or str(exc)
        if getattr(exc, "filename2", None):
            text += f" (moving to {exc.filename2})"
    elif isinstance(exc, json.JSONDecodeError):
        text = f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
    elif isinstance(exc, UnicodeError):
        text = f"text that is not valid UTF-8 (a lone surrogate or a wrong encoding): {exc}"
    elif type(exc).__module__.startswith("yaml"):
        mark = getattr(exc, "problem_mark", None)
        name = getattr(mark, "name", None)
        if name and not str(name).startswith("<"):
            where = name
        text = f"not valid YAML: {' '.join(str(exc).split())}"
    else:
        text = f"unreadable Arrow / Parquet data: {exc}"
    return f"{where or command}: {text}"


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    sys.exit(2)


def main(argv: list[str] | None = None) -> None:
    """Console entry point. VstarError, and the input / disk / environment errors of
    `input_error_message` (a full disk, a corrupt shard, bad JSON or YAML, undecodable text),
    become one located line and exit status 2; what was written before stays. Anything else is
    a bug and keeps its traceback."""
    # transformers' and the Hub's own bars ("Loading weights", "Writing model shards") are noise
    # next to ours; set HF_HUB_DISABLE_PROGRESS_BARS=0 to see them.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        app(args=argv)
    except VstarError as exc:
        _fail(str(exc))
    except Exception as exc:
        message = input_error_message(exc, _command(argv))
        if message is None:
            raise
        _fail(message)
