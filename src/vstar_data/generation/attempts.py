"""Reading generation output back: the one reader of attempt and skip files.

A run directory holds `attempts/chunk-NNNNNN.jsonl` (one row per generated or rationalized attempt)
and `skipped/chunk-NNNNNN.jsonl` (one row per skipped sample). The engines (resume summaries), the
evaluation and the dataset writer all read them here, so a bad line is reported the same way
everywhere: file and line number.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..errors import VstarError

ATTEMPTS_DIR = "attempts"
SKIPPED_DIR = "skipped"
RETIRED_DIR = "retired"    # stale rows a re-run moved aside (generation/resume.py): never read as rows


# THE winner rule (one function, used by training rows and by publishing): among a sample's
# accepted attempts, direct answers first (the paper trains on them), then the latest cycle, then
# the lowest attempt number; remaining ties go to input order (files by path, lines in order).
ORIGIN_RANK = {"generated": 0, "rationalized": 1}


def winner_rank(origin: str, cycle: Any, attempt: Any) -> tuple[int, int, int]:
    """Sort key of an accepted attempt: the smallest wins (ties: the earlier row)."""
    return ORIGIN_RANK[origin], -int(cycle or 0), int(attempt or 0)


def pick_winners(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """sample id -> its winning accepted attempt (rows in input order), by `winner_rank`."""
    best: dict[str, tuple[tuple[int, int, int], dict[str, Any]]] = {}
    for row in rows:
        if not row.get("accepted"):
            continue
        key = winner_rank(row["origin"], row.get("cycle"), row.get("attempt"))
        old = best.get(row["id"])
        if old is None or key < old[0]:
            best[row["id"]] = (key, row)
    return {sid: row for sid, (_, row) in best.items()}


def chunk_name(k: int) -> str:
    return f"chunk-{k:06d}.jsonl"


def iter_file(path: str | Path, *, display: str | Path | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) for each non-blank line of one JSONL file; a line that is not a JSON
    object raises VstarError naming the file (`display` if given) and the line."""
    path = Path(path)
    where = display if display is not None else path
    with path.open("rb") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise VstarError(f"not valid JSON: {exc}", file=where, row=lineno) from exc
            if not isinstance(row, dict):
                raise VstarError("each line must be a JSON object", file=where, row=lineno)
            yield lineno, row


def read_file(path: str | Path) -> list[dict[str, Any]]:
    """All rows of one JSONL file ([] when it does not exist)."""
    path = Path(path)
    return [row for _, row in iter_file(path)] if path.exists() else []


def read_chunk(out: str | Path, k: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The attempt rows and skip rows of chunk `k` of a run directory."""
    out = Path(out)
    return read_file(out / ATTEMPTS_DIR / chunk_name(k)), read_file(out / SKIPPED_DIR / chunk_name(k))


def is_attempt_file(rel: Path) -> bool:
    """THE rule for which files of a rows folder hold attempt rows (engines, evaluation, the
    final release, the writer and the report all ask here): `*.jsonl` files, except skip records
    (`skipped/` folders), retired stale rows (`retired/`) and hidden files or folders. `rel` is the
    path relative to the rows folder."""
    return rel.suffix == ".jsonl" and not any(part in (SKIPPED_DIR, RETIRED_DIR) or part.startswith(".")
                                              for part in rel.parts)


def is_skip_file(rel: Path) -> bool:
    """Skip records: `*.jsonl` inside a `skipped/` folder that was not retired."""
    return rel.suffix == ".jsonl" and SKIPPED_DIR in rel.parts[:-1] and RETIRED_DIR not in rel.parts \
        and not any(part.startswith(".") for part in rel.parts)


def _files(root: Path, rule: Any) -> list[Path]:
    return sorted((p for p in root.rglob("*.jsonl") if p.is_file() and rule(p.relative_to(root))),
                  key=lambda p: p.relative_to(root).as_posix())


def attempt_files(rows_dir: str | Path, *, missing_ok: bool = False) -> list[Path]:
    """The attempt files of a rows folder (subfolders included, by `is_attempt_file`), in a
    stable order. An absent folder, or one with no attempt file, is an error unless `missing_ok`."""
    root = Path(rows_dir)
    if not root.is_dir():
        if missing_ok:
            return []
        raise VstarError("rows folder does not exist or is not a folder", file=root)
    files = _files(root, is_attempt_file)
    if not files and not missing_ok:
        raise VstarError("no *.jsonl attempt rows found", file=root)
    return files


def skip_files(rows_dir: str | Path) -> list[Path]:
    """The skip-record files of a rows folder (by `is_skip_file`), in a stable order."""
    root = Path(rows_dir)
    return _files(root, is_skip_file) if root.is_dir() else []


def iter_attempt_rows(rows_dir: str | Path) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """(file relative to `rows_dir`, line, row) for every attempt row of a rows folder."""
    root = Path(rows_dir)
    for path in attempt_files(root):
        rel = path.relative_to(root).as_posix()
        for lineno, row in iter_file(path, display=rel):
            yield rel, lineno, row


def read_attempts(run_dir: str | Path) -> tuple[list[dict[str, Any]], int]:
    """All attempt rows and the number of skipped samples under a generation run directory
    (([], 0) when it does not exist)."""
    rows = [row for p in attempt_files(run_dir, missing_ok=True) for _, row in iter_file(p)]
    skipped = sum(1 for p in skip_files(run_dir) for _ in iter_file(p))
    return rows, skipped


def copy_attempts(src: str | Path, dst: str | Path, keep: Callable[[dict[str, Any]], bool]) -> int:
    """Copy the attempt files of `src` into `dst` (same relative layout, so every reader sees the
    same rows) keeping only the rows `keep` accepts; built in a `.partial` sibling, renamed when
    complete, and idempotent (a `.done` marker holds the count). Returns the accepted rows kept."""
    import shutil

    from ..jsonl import atomic_writer, dumps

    src, dst = Path(src), Path(dst)
    if (dst / ".done").exists():
        return int((dst / ".done").read_text())
    tmp = dst.with_name(dst.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    kept = 0
    for path in attempt_files(src, missing_ok=True):
        rows = [row for _, row in iter_file(path) if keep(row)]
        kept += sum(bool(r.get("accepted")) for r in rows)
        with atomic_writer(tmp / path.relative_to(src)) as fh:
            fh.writelines(dumps(r) + "\n" for r in rows)
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / ".done").write_text(str(kept))
    shutil.rmtree(dst, ignore_errors=True)
    tmp.rename(dst)
    return kept
