"""JSON Lines reading and atomic writing (temp file + rename), shared by every stage."""
from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, TextIO

from .errors import AnnotationError, VstarError, file_problem, output_problem


@contextmanager
def atomic_writer(path: str | Path, mode: str = "w") -> Iterator[TextIO]:
    """Write to a temp file beside `path`, fsync, then rename: readers never see half a file."""
    path = Path(path)
    problem = output_problem(path)
    if problem:
        raise VstarError(f"output {problem}: name a new or regular file", file=path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding="utf-8") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; a bad line is an error naming it."""
    path = Path(path)
    problem = file_problem(path)
    if problem:
        raise AnnotationError(f"file {problem}", file=path)
    with path.open("r", encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise AnnotationError(f"not valid JSON: {exc.msg}", file=path, row=lineno) from exc
            if not isinstance(obj, dict):
                raise AnnotationError("each line must be a JSON object", file=path, row=lineno)
            yield lineno, obj


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
