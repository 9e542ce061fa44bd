"""Reading annotation files: CSV columns by header name, sorted file listings, split names.

Annotation CSVs in the wild differ in column order, extra columns and quoting, so columns are
found by header name (with aliases) and a missing one is an AnnotationError naming the file.
Public API for adapter authors (importable from `vstar_data`).
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from ..errors import AnnotationError

VIDEO_EXTS: tuple[str, ...] = (".mp4", ".mkv", ".webm", ".avi")


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
