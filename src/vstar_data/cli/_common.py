"""Small helpers shared by CLI commands: one console, summary tables, a class-list file."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping


@lru_cache(maxsize=1)
def console() -> Any:
    import sys

    from rich.console import Console

    # Logs and CI are not terminals: rich would wrap lines (splitting paths) at 80 columns and
    # truncate table headers. Off a terminal, lines are not wrapped and tables get 120 columns.
    tty = sys.stdout.isatty()
    return Console(stderr=False, width=None if tty else 120, soft_wrap=not tty)


def print_counts(title: str, counts: Mapping[str, Any]) -> None:
    """A two-column summary table (what happened, how many)."""
    from rich.table import Table

    table = Table(title=title, show_header=False, title_justify="left")
    for key, value in counts.items():
        table.add_row(str(key), str(value))
    console().print(table)


def read_vocabulary(path: Path | None) -> list[str] | None:
    """A `--vocabulary` file: one class name per line (blank lines ignored); None when not given.
    A file that cannot be read or lists nothing is a located ConfigError."""
    from ..errors import ConfigError, file_problem

    if path is None:
        return None
    problem = file_problem(path)
    if problem:
        raise ConfigError(f"vocabulary file {problem}", file=path)
    vocab = [line.strip() for line in path.read_text("utf-8").splitlines() if line.strip()]
    if not vocab:
        raise ConfigError("vocabulary file lists no classes", file=path)
    return vocab
