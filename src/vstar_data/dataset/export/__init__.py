"""Exports of a published dataset folder (the store, a checkout, or a Hub snapshot) into the
files other tools train and evaluate with, one module per format (registry EXPORTERS, entry-point
group ``vstar_data.exporters``; a plugin adds a format with one Exporter subclass):

- `llava`: the JSON list Video-LLaVA / the bundled trainer read (`clip_start` / `clip_end` kept);
- `jsonl`: every column, labels and verifier scores as plain label-spec / score objects;
- `llamafactory`: a folder with `vstar.jsonl` (ShareGPT messages + videos) and `dataset_info.json`;
- `swift`: ms-swift's messages + videos JSONL;
- `llava-video`: LLaVA-NeXT / LLaVA-Video's `{"id", "video", "conversations"}` JSON with `<image>`;
- `trl`: a folder with `data.jsonl` (conversational messages, typed parts) and `frames/` (images);
- `grpo`: prompt-only rows with `labels` (ground truth for `vstar_data.rewards`), frames + video;
- `lmms-eval`: a task folder (task YAML, utils.py scoring with our verifier, the split's docs).

Shards are streamed with pyarrow batch by batch, so a 1M-row export needs neither the datasets
cache nor the whole table in memory. See docs/exports.md for each layout and its consumer.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

from ...errors import ConfigError, SkipRecord, VstarError, file_problem, output_problem
from ...procs import owner_token, remove_dead_owners
from ...registry import EXPORTERS
from .base import Exporter, ExportOptions, ExportReport

__all__ = ["export", "iter_rows", "config_files", "formats", "Exporter", "ExportOptions", "ExportReport"]


def formats() -> list[str]:
    """Names of every export format (built-ins and plugins)."""
    return EXPORTERS.names()


def config_files(dataset_dir: str | Path, config: str = "default") -> dict[str, list[Path]]:
    """split -> shard paths of `config`, read from the README's `configs:` YAML."""
    from huggingface_hub import DatasetCard

    root = Path(dataset_dir)
    readme = root / "README.md"
    if not readme.is_file():
        raise VstarError("no README.md: not a published dataset folder", file=root)
    import yaml

    try:
        configs = DatasetCard.load(readme).data.to_dict().get("configs") or []
    except yaml.YAMLError as exc:
        raise VstarError(f"the YAML header is not valid YAML: {' '.join(str(exc).split())}", file=readme) from None
    if not isinstance(configs, list) or not all(isinstance(c, dict) for c in configs):
        raise VstarError("`configs:` in the YAML header must be a list of {config_name, data_files}", file=readme)
    by_name = {c.get("config_name"): c for c in configs}
    if config not in by_name:
        raise VstarError(f"no config {config!r}; available: {', '.join(sorted(map(str, by_name)))}",
                         file=readme, key="config")
    out: dict[str, list[Path]] = {}
    for entry in by_name[config].get("data_files") or []:
        paths = entry["path"] if isinstance(entry["path"], list) else [entry["path"]]
        out.setdefault(entry["split"], []).extend(root / p for p in paths)
    return out


def iter_rows(dataset_dir: str | Path, config: str = "default", splits: list[str] | None = None,
              columns: list[str] | None = None, exclude_rationalized: bool = False,
              batch_size: int = 10_000) -> Iterator[dict[str, Any]]:
    """Published rows of `config` (optionally some splits / columns), streamed shard by shard."""
    import pyarrow.compute as pc

    files = config_files(dataset_dir, config)
    unknown = sorted(set(splits or ()) - set(files))
    if unknown:
        raise VstarError(f"no split {', '.join(unknown)} in config {config!r}; available: "
                         f"{', '.join(files)}", key="split")
    for split, paths in files.items():
        if splits and split not in splits:
            continue
        for path in paths:
            for batch in _batches(path, batch_size, columns):
                if exclude_rationalized:
                    batch = batch.filter(pc.equal(batch.column("origin"), "generated"))
                yield from batch.to_pylist()


def _batches(path: Path, batch_size: int, columns: list[str] | None) -> Iterator[Any]:
    """Record batches of one shard; a missing, truncated or corrupt shard is a VstarError naming
    it (pyarrow's own messages do not say which file)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    problem = file_problem(path)
    if problem:
        raise VstarError(f"shard {problem} (listed in README.md `configs:`): the dataset folder is incomplete; "
                         "check it out again", file=path)
    try:
        yield from pq.ParquetFile(path).iter_batches(batch_size=batch_size, columns=columns)
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
        raise VstarError(f"shard cannot be read (truncated or corrupt?): {exc}", file=path) from None


def export(dataset_dir: str | Path, out: str | Path, fmt: str = "llava", *, config: str = "default",
           splits: list[str] | None = None, exclude_rationalized: bool = False,
           video_root: str | Path | None = None, num_frames: int = 8, frame_size: int | None = None,
           task_name: str | None = None, answer_format: str = "plain") -> ExportReport:
    """Write `fmt` to `out` (atomically: staged beside it, renamed at the end); the report says
    how many rows were written and which were skipped, and why."""
    if fmt not in EXPORTERS:
        raise VstarError(f"unknown export format {fmt!r}; choose one of {', '.join(formats())}", key="format")
    cls = EXPORTERS.get(fmt)
    out = Path(out)
    splits = cls.select_splits(list(config_files(dataset_dir, config)), splits)
    options = ExportOptions(video_root=None if video_root is None else str(video_root),
                            exclude_rationalized=exclude_rationalized, num_frames=int(num_frames),
                            frame_size=frame_size, task_name=task_name, config=config, splits=splits,
                            answer_format=answer_format)
    if answer_format not in cls.answer_formats:
        raise ConfigError(f"--answer-format {answer_format!r}: format {fmt!r} takes "
                          f"{', '.join(cls.answer_formats)}", key="answer_format")
    if options.num_frames < 1:
        raise ConfigError(f"--num-frames must be >= 1, got {num_frames}")
    if cls.needs_video and options.video_root is None:
        raise ConfigError(f"format {fmt!r} needs --video-root: the folder the rows' `video` paths are relative "
                          "to (every clip is checked before it is written)", key="video_root")
    if cls.kind == "folder" and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise VstarError(f"--out for format {fmt!r} must be a new or empty folder", file=out)
    if cls.kind == "file" and not out.is_dir() and output_problem(out):
        raise VstarError(f"--out {output_problem(out)}: name a new or regular file", file=out)
    if cls.kind == "file" and out.is_dir():
        raise VstarError(f"--out for format {fmt!r} is a file ({', '.join(cls.suffixes) or 'any name'}), not a folder",
                         file=out)
    rows = iter_rows(dataset_dir, config, splits, None, False)   # rationalized rows are counted below
    report = ExportReport(fmt, out)
    prefix = staging_prefix(out)
    staging = out.parent / f"{prefix}{owner_token()}"
    remove_dead_owners(out.parent, prefix)     # left by killed exports to the same place
    _remove(staging)
    out.parent.mkdir(parents=True, exist_ok=True)
    if cls.kind == "folder":
        staging.mkdir()
    exporter = cls(out, staging, options, report)
    try:
        exporter.begin()
        for row in rows:
            report.read += 1
            if exclude_rationalized and row.get("origin") != "generated":
                report.excluded_rationalized += 1
                continue
            try:
                video, video_file = _video(row, options, cls, out)
                exporter.add(row, video, video_file)
            except SkipRecord as skip:
                report.skip(skip.reason, f"{row.get('id')}: {skip.detail}")
                continue
            report.rows += 1
        exporter.finish()
        if report.read == 0:
            raise VstarError(f"no rows in config {config!r}" + (f", split {', '.join(splits)}" if splits else ""),
                             file=dataset_dir)
        if report.rows == 0:
            raise VstarError("nothing to export: every row was left out\n" + report.summary(), file=dataset_dir)
        if cls.kind == "folder":
            report.files = sorted(p.name for p in staging.iterdir())
            if out.exists():
                out.rmdir()         # checked empty above
        os.replace(staging, out)
    except BaseException:
        _remove(staging)
        raise
    return report


def staging_prefix(out: Path) -> str:
    """Name prefix of `out`'s staging entries: `.OUT.export-` then the owner's token
    (procs.owner_token: pid and start time), so the next export can tell a dead owner's leftover
    from a running export's folder."""
    return f".{out.name}.export-"


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _video(row: dict[str, Any], options: ExportOptions, cls: type[Exporter], out: Path) -> tuple[str | None, Path | None]:
    """(path as written for the consumer, clip on disk) of a row; SkipRecord when the clip is
    not there or its path would leave the video root."""
    from ...sources.adapter import safe_relpath
    from ...sources.storage import VideoStore
    from ...errors import UnsafePathError

    stored = row.get("video")
    if not stored:
        raise SkipRecord("no_video", "the row has no video")
    if options.video_root is None:
        return str(stored), None
    try:
        rel = safe_relpath(str(stored))
    except UnsafePathError as exc:
        raise SkipRecord("unsafe_path", exc.message) from None
    root = options.video_root
    store = VideoStore(root)
    if store.remote:   # the URL is what the consumer reads; frame formats decode a cached copy
        if not store.exists(rel):
            raise SkipRecord("video_missing", store.location(rel))
        return store.location(rel), (store.local_path(rel) if getattr(cls, "with_frames", False) else None)
    written = str(Path(root) / rel) if Path(root).is_absolute() else str(PurePosixPath(root.replace("\\", "/")) / rel)
    base = out if cls.paths_relative_to == "out" else Path.cwd()
    # lexically: an out folder is only created at the end ("lf/../clips" must work before that)
    on_disk = Path(written) if Path(written).is_absolute() else Path(os.path.normpath(os.path.abspath(base / written)))
    if not on_disk.is_file():
        raise SkipRecord("video_missing", str(on_disk))
    on_disk = on_disk.resolve()
    return (str(on_disk) if cls.absolute_paths else written), on_disk
