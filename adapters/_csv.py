"""Helpers shared by the built-in adapters: CSV headers, options, numbers, one-listing video lookup.

Annotation CSVs in the wild differ in column order, extra columns and quoting, so columns are
found by header name (with aliases) and a missing one is an AnnotationError naming the file.
Video folders can hold hundreds of thousands of clips: `VideoIndex` lists a folder once and
answers "does this candidate exist?" from a set, instead of stat-ing a dozen candidates per row.
"""
from __future__ import annotations

import csv
import difflib
import os
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from vstar_data.sources.adapter import Adapter, resolve_under, safe_relpath
from vstar_data.errors import AnnotationError, ConfigError, UnsafePathError
from vstar_data.sources.sample import Sample

VIDEO_EXTS: tuple[str, ...] = (".mp4", ".mkv", ".webm", ".avi")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def annotation_files(root: Path, suffixes: Sequence[str]) -> list[Path]:
    """`root` itself, or the files under folder `root` with one of `suffixes` (sorted, recursive).

    Sorted so the sample order (and so every id and question choice) is the same on every machine.
    """
    if root.is_file():
        return [root]
    found = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in suffixes
                   and not p.name.startswith("."))
    if not found:
        raise AnnotationError(f"folder holds no {'/'.join(suffixes)} annotation files", file=root)
    return found


def read_csv_rows(path: Path, columns: Mapping[str, Sequence[str]], *,
                  optional: Mapping[str, Sequence[str]] | None = None,
                  ) -> tuple[dict[str, int], int, Iterator[tuple[int, list[str]]]]:
    """Open a CSV, map logical column names to indices by header, and iterate its data rows.

    `columns` / `optional` map a logical name to accepted header spellings (case-insensitive).
    Returns (index by logical name, header width, iterator of (line number, fields)); blank lines
    are dropped. Line numbers are physical lines, so they match what an editor shows.
    """
    try:
        fh = path.open("r", encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise AnnotationError(f"cannot open: {exc.strerror or exc}", file=path) from exc
    reader = csv.reader(fh)
    try:
        header = next(reader)
    except StopIteration:
        fh.close()
        raise AnnotationError("file is empty (expected a header row)", file=path) from None
    except (csv.Error, UnicodeDecodeError) as exc:
        fh.close()
        raise AnnotationError(f"not a readable CSV: {exc}", file=path, row=1) from exc
    names = [h.strip().lower() for h in header]
    index: dict[str, int] = {}
    missing = []
    for logical, spellings in columns.items():
        pos = _find(names, spellings)
        if pos is None:
            missing.append(f"{logical} (one of: {', '.join(spellings)})" if len(spellings) > 1 else logical)
        else:
            index[logical] = pos
    if missing:
        fh.close()
        raise AnnotationError(f"missing required column(s) {'; '.join(missing)}; header is "
                              f"{','.join(header)}", file=path, row=1)
    for logical, spellings in (optional or {}).items():
        pos = _find(names, spellings)
        if pos is not None:
            index[logical] = pos

    def rows() -> Iterator[tuple[int, list[str]]]:
        with fh:
            line = 1
            try:
                for fields in reader:
                    start, line = line + 1, reader.line_num
                    if not fields or (len(fields) == 1 and not fields[0].strip()):
                        continue
                    yield start, fields
            except (csv.Error, UnicodeDecodeError) as exc:
                raise AnnotationError(f"not a readable CSV: {exc}", file=path, row=line + 1) from exc

    return index, len(header), rows()


def _find(names: list[str], spellings: Iterable[str]) -> int | None:
    for s in spellings:
        if s in names:
            return names.index(s)
    return None


def split_from_name(path: Path) -> str | None:
    """A split named by a file name token: ``val_Annotation.csv`` -> ``val``; None if none."""
    tokens = [t for t in "".join(c if c.isalnum() else " " for c in path.stem.lower()).split()]
    for token in tokens:
        if token in {"train", "training", "val", "validation", "validate", "test", "testing"}:
            return token
    return None


def finite_number(value: Any) -> float | None:
    """`value` (a CSV string or a JSON number) as a finite float, or None (bools are not numbers)."""
    if isinstance(value, bool):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if out == out and abs(out) != float("inf") else None


def is_plain_name(name: str) -> bool:
    """True for an id usable as one file name in the video folder: no separators, no dot names."""
    return bool(name.strip()) and "/" not in name and "\\" not in name and not name.startswith(".")


def check_options(adapter: str, options: Mapping[str, Any], known: Iterable[str]) -> None:
    """Refuse unknown option keys (a typo such as ``windw=30`` must not be silently ignored)."""
    known = sorted(known)
    for key in options:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"adapter {adapter!r} has no option {key!r}.{hint} "
                              f"Known: {', '.join(known) or '(none)'}", key=key)


def float_option(options: Mapping[str, Any], key: str, default: float | None, *,
                 positive: bool = True) -> float | None:
    """A number option given as a string on the command line (or a number from Python)."""
    raw = options.get(key, default)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"option {key} must be a number, got {raw!r}", key=key) from None
    if value != value or value in (float("inf"), float("-inf")) or (positive and value <= 0):
        raise ConfigError(f"option {key} must be a positive number, got {raw!r}", key=key)
    return value


def int_option(options: Mapping[str, Any], key: str, default: int) -> int:
    raw = options.get(key, default)
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ConfigError(f"option {key} must be a whole number, got {raw!r}", key=key) from None
    if value < 0:
        raise ConfigError(f"option {key} must be >= 0, got {raw!r}", key=key)
    return value


def bool_option(options: Mapping[str, Any], key: str, default: bool) -> bool:
    raw = options.get(key, default)
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"option {key} must be true or false, got {raw!r}", key=key)


class VideoIndex:
    """The relative paths of every file under a folder (to `max_depth`), listed once.

    Symlinked files are listed like files (and followed); `safe_relpath` still refuses annotation
    paths that are absolute or climb out with `..`.
    """

    def __init__(self, root: Path, max_depth: int = 3) -> None:
        self.root = root
        self.paths: set[str] = set()
        self._scan(root, "", max_depth)

    def _scan(self, folder: Path, prefix: str, depth: int) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            rel = prefix + entry.name
            try:
                is_dir = entry.is_dir()   # follows symlinks: a linked split folder is walked
            except OSError:
                continue
            if is_dir:
                self.paths.add(rel + "/")
                if depth > 1:
                    self._scan(Path(entry.path), rel + "/", depth - 1)
            else:
                self.paths.add(rel)

    def __contains__(self, rel: str) -> bool:
        return rel in self.paths


class IndexedLookupMixin:
    """Adapter mixin: find videos through one `VideoIndex` listing instead of a stat per candidate.

    Same contract as `Adapter._locate`: the first candidate (in `video_candidates` order) that
    exists and stays inside the video folder wins, and the result is a safe relative path.
    """

    video_index_depth: int = 3
    _video_index: VideoIndex | None = None

    def _locate(self, sample: Sample) -> str | None:
        assert isinstance(self, Adapter) and self.videos is not None
        if self._video_index is None:
            self._video_index = VideoIndex(self.videos, self.video_index_depth)
        index = self._video_index
        candidates = self.video_candidates(sample)
        refused: UnsafePathError | None = None
        for rel in candidates:
            try:
                rel = safe_relpath(rel)
                resolve_under(self.videos, rel)
            except UnsafePathError as exc:
                refused = exc
                continue
            if rel in index:
                return rel
        if refused is not None:
            raise refused   # a refused path is a skip with its reason, not a "missing" video
        return None
