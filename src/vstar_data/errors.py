"""Two error families: VstarError stops a run before work starts; SkipRecord skips one row.

Every error says *where* (file, row, key) so a user can fix the input without reading code.
"""
from __future__ import annotations

import stat
from pathlib import Path
from typing import Any


def _where(file: str | Path | None, row: Any = None, key: str | None = None) -> str:
    parts = []
    if file is not None:
        parts.append(str(file))
    if row is not None:
        parts.append(f"row {row}")
    if key is not None:
        parts.append(f"key {key!r}")
    return ", ".join(parts)


def file_problem(path: str | Path, *, folder_ok: bool = False) -> str | None:
    """Why `path` cannot be read as an input file, or None when it can (a regular file; a folder
    too with `folder_ok`). A FIFO or device exists but is no input: reading one blocks or never
    ends, so it is named for what it is rather than reported missing."""
    try:
        mode = Path(path).stat().st_mode
    except FileNotFoundError:
        return "does not exist"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if stat.S_ISREG(mode) or (folder_ok and stat.S_ISDIR(mode)):
        return None
    kind = ("a folder" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else
            "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else
            "a special file")
    return f"is not a regular file{' or folder' if folder_ok else ''} (it is {kind})"


def output_problem(path: str | Path) -> str | None:
    """Why `path` cannot be replaced by an output file, or None (absent, or a regular file). The
    atomic writers rename a new file over the path: over `/dev/full` or a FIFO that would replace
    the device node itself, so such a target is refused."""
    try:
        mode = Path(path).stat().st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return None
    return file_problem(path)


class VstarError(Exception):
    """A problem with the input or configuration that stops the run, located by file/row/key."""

    def __init__(self, message: str, *, file: str | Path | None = None, row: Any = None,
                 key: str | None = None) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.row = row
        self.key = key
        where = _where(file, row, key)
        super().__init__(f"{where}: {message}" if where else message)


class ConfigError(VstarError):
    """A run config, profile or option is invalid. `problems` lists every problem found."""

    def __init__(self, message: str, *, problems: list[str] | None = None, **kw: Any) -> None:
        self.problems = problems or []
        if self.problems:
            message = message + "\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(message, **kw)


class TemplateError(VstarError):
    """A question template file is missing, malformed or fails its JSON Schema."""


class AnnotationError(VstarError):
    """An annotation file is missing or unreadable as a whole (per-row problems are SkipRecord)."""


class LabelSpecError(VstarError):
    """A label spec fails the label-spec schema or names an unknown label type."""


class UnsafePathError(VstarError):
    """A path from an annotation file escapes the directory it must stay in."""


class MissingDependencyError(VstarError):
    """An optional package is needed; the message names the pip command."""


class SetupError(VstarError):
    """The backend's setup, not one clip, is wrong (a server that refuses the requests' timing,
    rejects the key, does not serve the model, or every server down after retries): generation
    stops at once with this one message instead of writing a skip row per clip."""


class SkipRecord(Exception):
    """One row cannot be used: recorded with its reason and location, and the run goes on.

    `reason` is a short stable slug used as a counter key (e.g. ``malformed_row``,
    ``video_missing``); `detail` is the human explanation.
    """

    def __init__(self, reason: str, detail: str = "", *, file: str | Path | None = None,
                 row: Any = None, key: str | None = None, sample_id: str | None = None) -> None:
        self.reason = reason
        self.detail = detail
        self.file = str(file) if file is not None else None
        self.row = row
        self.key = key
        self.sample_id = sample_id
        where = _where(file, row, key)
        text = f"{reason}: {detail}" if detail else reason
        super().__init__(f"{where}: {text}" if where else text)

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "detail": self.detail, "file": self.file,
                "row": self.row, "key": self.key, "id": self.sample_id}


class GenerationError(SkipRecord):
    """One request could not be answered; returned in place of its answer, never raised by
    `Backend.generate` for a single bad item. Reason slugs used by the built-in backends:
    ``no_frames``, ``prompt_too_long``, ``answer_template_missing``, ``label_unphrasable``,
    ``generation_failed``."""

    def __init__(self, reason: str, detail: str = "", *, sample_id: str | None = None, **kw: Any) -> None:
        super().__init__(reason, detail, sample_id=sample_id, **kw)
