"""Exports of a published dataset folder (the store, a checkout, or a Hub snapshot).

`llava`: the JSON list Video-LLaVA / LLaVA-NeXT training scripts read, `[{"id", "video",
"conversations"}]`, plus `clip_start` / `clip_end` when the labels cover part of the video (the
bundled trainer samples frames from that window; other scripts ignore the keys). `jsonl`: every column, one row per line, labels and verifier scores turned back
into plain label-spec / score objects. Shards are streamed with pyarrow (batch by batch), so a
1M-row export needs neither the datasets cache nor the whole table in memory.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from ..errors import VstarError
from ..jsonl import atomic_writer, dumps

FORMATS = ("llava", "jsonl")
_LLAVA_COLUMNS = ["id", "video", "conversations", "origin", "clip_start", "clip_end"]


def config_files(dataset_dir: str | Path, config: str = "default") -> dict[str, list[Path]]:
    """split -> shard paths of `config`, read from the README's `configs:` YAML."""
    from huggingface_hub import DatasetCard

    root = Path(dataset_dir)
    readme = root / "README.md"
    if not readme.is_file():
        raise VstarError("no README.md: not a published dataset folder", file=root)
    configs = DatasetCard.load(readme).data.to_dict().get("configs") or []
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
    import pyarrow.parquet as pq

    files = config_files(dataset_dir, config)
    unknown = sorted(set(splits or ()) - set(files))
    if unknown:
        raise VstarError(f"no split {', '.join(unknown)} in config {config!r}; available: "
                         f"{', '.join(files)}", key="split")
    for split, paths in files.items():
        if splits and split not in splits:
            continue
        for path in paths:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_size, columns=columns):
                if exclude_rationalized:
                    batch = batch.filter(pc.equal(batch.column("origin"), "generated"))
                yield from batch.to_pylist()


def export(dataset_dir: str | Path, out: str | Path, fmt: str = "llava", *, config: str = "default",
           splits: list[str] | None = None, exclude_rationalized: bool = False) -> int:
    """Write the export to `out` (atomically); returns the number of rows written."""
    from .rows import from_record

    if fmt not in FORMATS:
        raise VstarError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}", key="format")
    n = 0
    with atomic_writer(out) as fh:
        if fmt == "llava":
            fh.write("[")
            for row in iter_rows(dataset_dir, config, splits, _LLAVA_COLUMNS, exclude_rationalized):
                item = {"id": row["id"], "video": row["video"], "conversations": row["conversations"]}
                item.update((k, row[k]) for k in ("clip_start", "clip_end") if row[k] is not None)
                fh.write(("\n" if n == 0 else ",\n") + json.dumps(item, ensure_ascii=False))
                n += 1
            fh.write("\n]\n")
        else:
            for row in iter_rows(dataset_dir, config, splits, None, exclude_rationalized):
                fh.write(dumps(from_record(row)) + "\n")
                n += 1
    return n
