"""Is a published release what its card says it is? (`vstar-data validate`)

A release can be edited by hand, half-copied, or built by an older version; `load_dataset`
checks only the row counts, and only of the config it loads. This reads every shard and reports
every problem at once, each located (config, shard, row id): rows against the attempt-row schema
(rows.check_row, the check `push` runs), ids unique within (config, variant), `default` listing
exactly the source configs' shards, the card's counts against the data, videos present under a
root, and no held-out clip among the training rows (dataset/leakage.py).
"""
from __future__ import annotations

import tempfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..sources.storage import VideoStore, is_url
from ..errors import UnsafePathError, VstarError
from .card import DEFAULT_CONFIG, EVAL_CONFIG
from .gitstore import Store
from .leakage import release_leaks
from .rows import check_row, features, from_record


@dataclass
class Report:
    """What `validate_release` found: problems (empty = valid) and what it read."""

    problems: list[str] = field(default_factory=list)
    rows: Counter = field(default_factory=Counter)       # config -> rows read
    split_rows: Counter = field(default_factory=Counter)  # (config, split) -> rows read
    leaks: int = 0


def card_layout(readme: str) -> tuple[dict[str, dict[str, list[str]]], dict[str, dict[str, int]]]:
    """(config -> split -> files, config -> split -> num_examples) from a README's YAML header."""
    from huggingface_hub import DatasetCard

    data = DatasetCard(readme).data.to_dict()
    files: dict[str, dict[str, list[str]]] = {}
    for entry in data.get("configs") or []:
        splits = files.setdefault(entry.get("config_name", DEFAULT_CONFIG), {})
        for df in entry.get("data_files") or []:
            paths = df["path"] if isinstance(df["path"], list) else [df["path"]]
            splits.setdefault(df.get("split", "train"), []).extend(paths)
    counts: dict[str, dict[str, int]] = {}
    infos = data.get("dataset_info") or []
    for info in [infos] if isinstance(infos, dict) else infos:
        counts[info.get("config_name", DEFAULT_CONFIG)] = {
            s["name"]: int(s.get("num_examples", 0)) for s in info.get("splits") or []}
    return files, counts


@contextmanager
def release_folder(store: str | Path, tag: str | None) -> Iterator[Path]:
    """The release's files: a checkout of `tag`, else the folder itself (a store's working tree
    holds its latest release; a `checkout` folder holds one release)."""
    path = Path(store)
    if tag is None:
        if not (path / "README.md").is_file():
            raise VstarError("no README.md: not a published release (a store, or a `vstar-data checkout`)",
                             file=path)
        yield path
        return
    st = Store.open(path, create=False)
    with tempfile.TemporaryDirectory(prefix="vstar-validate-") as tmp:
        yield st.checkout(tag, Path(tmp) / "release")


def _as_attempt(rec: dict[str, Any], required: frozenset[str]) -> dict[str, Any]:
    """A published row as the attempt row it came from (answer from the conversation; optional
    columns left empty are absent, as generation writes them)."""
    row = from_record(rec)
    conv = row.pop("conversations", None) or []
    row.pop("variant", None)
    row["answer"] = conv[-1]["value"] if conv else None
    row["accepted"] = True
    return {k: v for k, v in row.items() if v is not None or k in required}


def validate_release(store: str | Path, tag: str | None = None, video_root: str | Path | None = None) -> Report:
    """Check one release (see the module docstring); never raises for a problem in the data."""
    import pyarrow.parquet as pq

    from ..schemas import load_schema

    report = Report()
    problems = report.problems
    required = frozenset(load_schema("row")["required"])
    expected_schema = features().arrow_schema
    root_videos = (None if video_root is None else VideoStore(video_root) if is_url(str(video_root))
                   else Path(video_root))
    with release_folder(store, tag) as root:
        files, card_counts = card_layout((root / "README.md").read_text("utf-8"))
        sources = {c: s for c, s in files.items() if c not in (DEFAULT_CONFIG, EVAL_CONFIG)}
        for config, splits in sorted(sources.items()):
            seen: set[tuple[str, str]] = set()
            for split, shards in splits.items():
                n = 0
                for shard in shards:
                    where = f"config {config!r}, {shard}"
                    if not (root / shard).is_file():
                        problems.append(f"{where}: listed in the card but missing")
                        continue
                    schema = pq.read_schema(root / shard).remove_metadata()
                    if not schema.equals(expected_schema):
                        problems.append(f"{where}: columns differ from the row schema (rows.features())")
                        continue
                    for batch in pq.ParquetFile(root / shard).iter_batches(batch_size=10_000):
                        for rec in batch.to_pylist():
                            n += 1
                            rid = rec.get("id")
                            try:
                                check_row(_as_attempt(rec, required))
                            except VstarError as exc:
                                key = f" (key {exc.key!r})" if exc.key else ""
                                problems.append(f"{where}, row {rid!r}: {exc.message}{key}")
                            if rec.get("source") != config:
                                problems.append(f"{where}, row {rid!r}: source {rec.get('source')!r} in config "
                                                f"{config!r}")
                            key_id = (rec.get("variant") or "original", rid)
                            if key_id in seen:
                                problems.append(f"{where}, row {rid!r}: id repeated in config {config!r} "
                                                f"(variant {key_id[0]!r})")
                            seen.add(key_id)
                            if root_videos is not None and not _has_video(root_videos, rec["video"]):
                                problems.append(f"{where}, row {rid!r}: video {rec['video']!r} not found "
                                                f"under {root_videos}")
                report.rows[config] += n
                report.split_rows[(config, split)] += n
                _check_count(problems, card_counts, config, split, n)
        _check_default(problems, files, sources, card_counts, report)
        eval_files = [f for shards in files.get(EVAL_CONFIG, {}).values() for f in shards]
        _check_eval(problems, root, eval_files, root_videos, report)
        leaks = release_leaks(root, [f for f in eval_files if (root / f).is_file()],
                              {c: [f for shards in s.values() for f in shards if (root / f).is_file()]
                               for c, s in sources.items()})
        report.leaks = len(leaks)
        problems += [f"held-out leakage: {leak}" for leak in leaks]
    return report


def _check_count(problems: list[str], card: dict[str, dict[str, int]], config: str, split: str, n: int) -> None:
    stated = card.get(config, {}).get(split)
    if stated is None:
        problems.append(f"config {config!r}, split {split!r}: the card's dataset_info gives no row count "
                        f"({n} rows in the data)")
    elif stated != n:
        problems.append(f"config {config!r}, split {split!r}: the card says {stated} rows, the data holds {n}")


def _check_default(problems: list[str], files: dict[str, dict[str, list[str]]], sources: dict[str, Any],
                   card: dict[str, dict[str, int]], report: Report) -> None:
    """`default` must list exactly the source configs' shards, split by split."""
    if DEFAULT_CONFIG not in files:
        problems.append(f"config {DEFAULT_CONFIG!r}: missing from the card")
        return
    union: dict[str, set[str]] = {}
    for splits in sources.values():
        for split, shards in splits.items():
            union.setdefault(split, set()).update(shards)
    listed = {split: set(shards) for split, shards in files[DEFAULT_CONFIG].items()}
    for split in sorted(set(union) | set(listed)):
        extra, missing = listed.get(split, set()) - union.get(split, set()), union.get(split, set()) - listed.get(split, set())
        for f in sorted(extra):
            problems.append(f"config {DEFAULT_CONFIG!r}, split {split!r}: lists {f}, which no source config lists")
        for f in sorted(missing):
            problems.append(f"config {DEFAULT_CONFIG!r}, split {split!r}: does not list {f}")
        total = sum(report.split_rows[(c, split)] for c in sources)
        _check_count(problems, card, DEFAULT_CONFIG, split, total)
    report.rows[DEFAULT_CONFIG] = sum(report.rows[c] for c in sources)


def _has_video(videos: Path | VideoStore, video: str) -> bool:
    """Whether a row's clip is under the video root (a folder, or a URL: asked of the server)."""
    if isinstance(videos, VideoStore):
        try:
            return videos.exists(video)
        except UnsafePathError:
            return False
    return (videos / video).is_file()


def _check_eval(problems: list[str], root: Path, eval_files: list[str], videos: Path | VideoStore | None,
                report: Report) -> None:
    import pyarrow.parquet as pq

    for f in eval_files:
        if not (root / f).is_file():
            problems.append(f"config {EVAL_CONFIG!r}, {f}: listed in the card but missing")
            continue
        table = pq.read_table(root / f)
        missing_cols = {"id", "video", "clip_start", "clip_end", "labels"} - set(table.column_names)
        if missing_cols:
            problems.append(f"config {EVAL_CONFIG!r}, {f}: missing columns {', '.join(sorted(missing_cols))}")
            continue
        report.rows[EVAL_CONFIG] += table.num_rows
        if videos is not None:
            for rid, video in zip(table.column("id").to_pylist(), table.column("video").to_pylist()):
                if not _has_video(videos, video):
                    problems.append(f"config {EVAL_CONFIG!r}, {f}, row {rid!r}: video {video!r} not found under {videos}")

