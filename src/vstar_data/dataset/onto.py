"""Releases built on earlier ones (`push --onto BASE`): read the base release, carry its untouched
configs, eval files, extra files and history into a new build.

An untouched config keeps its shard files byte for byte (the same git blobs: nothing is rewritten
or re-hashed by git) as long as their arrow schema is today's `rows.features()`; a base written by
an earlier version of the library is migrated to today's schema instead, and rows that schema
refuses (non-finite numbers) stop the push, naming them, unless `drop_invalid`.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..errors import VstarError
from ..schemas import NONFINITE_HINT, find_nonfinite
from .gitstore import MARKER, Store
from .rows import features
from .writer import COUNT_COLUMNS, Manifest, SplitFiles

HISTORY = "history.json"
EVAL_CONFIG = "eval"
DEFAULT_CONFIG = "default"
_GENERATED = {"README.md", HISTORY, "assets/yield_per_cycle.png", MARKER}


@dataclass
class BaseRelease:
    """What a tagged release holds, read from its commit (README YAML, file list, history.json)."""

    tag: str
    commit: str
    configs: dict[str, dict[str, list[str]]]           # source config -> split -> shard paths
    infos: dict[str, dict[str, dict[str, int]]]        # config -> split -> {num_examples, num_bytes}
    blobs: dict[str, tuple[str, int]]                  # path -> (git blob id, size)
    eval_files: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)    # stats.json, run.yaml, ... (not data, not the card)
    history: dict[str, Any] | None = None              # history.json's "sources", None before it existed


@dataclass
class CarryReport:
    """What carrying the base's configs did (the push summary and the card count these)."""

    kept: list[str] = field(default_factory=list)       # configs carried byte for byte
    migrated: dict[str, int] = field(default_factory=dict)   # config -> rows rewritten to today's schema
    invalid: dict[str, int] = field(default_factory=dict)    # config -> rows dropped (drop_invalid)


def tree_blobs(st: Store, rev: str) -> dict[str, tuple[str, int]]:
    """path -> (blob id, size) for every file of `rev`."""
    out = {}
    for entry in filter(None, st.git("ls-tree", "-r", "-l", "-z", "--full-tree", rev).split("\0")):
        meta, rel = entry.split("\t", 1)
        _mode, kind, oid, size = meta.split()
        if kind == "blob":
            out[rel] = (oid, int(size) if size.isdigit() else 0)
    return out


def read_base(st: Store, tag: str, what: str = "--onto") -> BaseRelease:
    """The release tagged `tag`; an unknown tag is an error naming the tags the store has."""
    from huggingface_hub import DatasetCard

    commit = st.resolve(f"refs/tags/{tag}")
    if commit is None:
        raise VstarError(f"{what} {tag!r}: no release has that tag; known: {', '.join(st.tags()) or 'none'}",
                         file=st.path, key=what.lstrip("-"))
    data = DatasetCard(st.git("show", f"{commit}:README.md")).data.to_dict()
    configs: dict[str, dict[str, list[str]]] = {}
    eval_files: list[str] = []
    for entry in data.get("configs") or []:
        name = entry.get("config_name", DEFAULT_CONFIG)
        files = {d["split"]: [d["path"]] if isinstance(d["path"], str) else list(d["path"])
                 for d in entry.get("data_files") or []}
        if name == EVAL_CONFIG:
            eval_files = sorted(p for paths in files.values() for p in paths)
        elif name != DEFAULT_CONFIG:
            configs[name] = files
    infos_raw = data.get("dataset_info") or []
    infos = {i.get("config_name", DEFAULT_CONFIG): {s["name"]: {"num_examples": int(s.get("num_examples", 0)),
                                                                "num_bytes": int(s.get("num_bytes", 0))}
                                                    for s in i.get("splits") or []}
             for i in ([infos_raw] if isinstance(infos_raw, dict) else infos_raw)}
    blobs = tree_blobs(st, commit)
    data_files = {p for splits in configs.values() for paths in splits.values() for p in paths}
    extras = sorted(p for p in blobs if p not in _GENERATED and p not in data_files and p not in eval_files
                    and not p.startswith("data/"))
    history = None
    if HISTORY in blobs:
        history = json.loads(st.git("show", f"{commit}:{HISTORY}")).get("sources") or {}
    return BaseRelease(tag, commit, configs, infos, blobs, eval_files, extras, history)


class _Files:
    """Base files as local paths: the store's working tree when it holds the same blob, else a
    copy from git into the staging folder (which is where a release's new files go anyway)."""

    def __init__(self, st: Store, base: BaseRelease, staging: Path) -> None:
        self.st, self.base, self.staging = st, base, staging
        head = st.resolve("HEAD")
        self.head = tree_blobs(st, head) if head and st.is_clean() else {}

    def path(self, rel: str) -> Path:
        if self.head.get(rel, ("",))[0] == self.base.blobs[rel][0] and (self.st.path / rel).is_file():
            return self.st.path / rel
        out = self.staging / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("wb") as fh:
            self.st.git("cat-file", "blob", self.base.blobs[rel][0], stdout=fh)
        return out


def carry(st: Store, base: BaseRelease, configs: Iterable[str], staging: Path, man: Manifest, *,
          drop_invalid: bool = False) -> CarryReport:
    """Add the base's `configs` to `man` (and their files to `staging` where the store's working
    tree does not hold them): unchanged when their schema is today's, else migrated."""
    import pyarrow.parquet as pq

    files = _Files(st, base, staging)
    target = features().arrow_schema
    report = CarryReport()
    for config in sorted(configs):
        paths = {split: [files.path(p) for p in rels] for split, rels in base.configs[config].items()}
        current = all(pq.read_schema(p).equals(target, check_metadata=False)
                      for ps in paths.values() for p in ps)
        if current:
            for split, rels in base.configs[config].items():
                info = base.infos.get(config, {}).get(split, {})
                man.configs.setdefault(config, {})[split] = SplitFiles(
                    list(rels), info.get("num_examples", 0), info.get("num_bytes", 0),
                    sum(base.blobs[r][1] for r in rels))
            report.kept.append(config)
        else:
            for split, ps in paths.items():
                for rel, p in zip(base.configs[config][split], ps):
                    if p.is_relative_to(staging):
                        p.unlink()
                migrated, invalid = _migrate(config, split, base, ps, staging, man, drop_invalid)
                report.migrated[config] = report.migrated.get(config, 0) + migrated
                if invalid:
                    report.invalid[config] = report.invalid.get(config, 0) + invalid
        man.counts.update(_counts(config, base, [p for ps in paths.values() for p in ps]
                                  if config in report.kept else
                                  [staging / r for s in man.configs.get(config, {}).values() for r in s.files]))
    return report


def _counts(config: str, base: BaseRelease, shards: list[Path]) -> Counter:
    """Manifest.counts of a carried config: from the base's history when it has them (no read),
    else from the shards' count columns."""
    stored = (base.history or {}).get(config, {}).get("counts")
    if stored is not None:
        return Counter({tuple(k): n for *k, n in stored})
    import pyarrow.parquet as pq

    out: Counter = Counter()
    for path in shards:
        if not path.exists():
            continue
        table = pq.read_table(path, columns=[c for c in COUNT_COLUMNS if c in pq.read_schema(path).names])
        cols = {c: table.column(c).to_pylist() if c in table.column_names else [None] * table.num_rows
                for c in COUNT_COLUMNS}
        out.update(zip(*(cols[c] for c in COUNT_COLUMNS)))
    return out


def _migrate(config: str, split: str, base: BaseRelease, paths: list[Path], staging: Path, man: Manifest,
             drop_invalid: bool) -> tuple[int, int]:
    """Rewrite one split of an old-schema config under today's schema; (rows written, rows dropped)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = features().arrow_schema
    folder = staging / "data" / config
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{split}.migrate.tmp"
    writer = pq.ParquetWriter(tmp, schema, compression="zstd")
    written = dropped = nbytes = 0
    try:
        for rel, path in zip(base.configs[config][split], paths):
            for batch in pq.ParquetFile(path).iter_batches(batch_size=10_000):
                rows = []
                for i, row in enumerate(batch.to_pylist()):
                    row = {name: row.get(name) for name in schema.names}
                    if row.get("variant") is None:
                        row["variant"] = "original"
                    bad = find_nonfinite(row)
                    if bad is not None:
                        if not drop_invalid:
                            raise VstarError(f"row {row.get('id')!r} of the base release cannot be published "
                                             f"under today's schema: {bad[1]!r} {NONFINITE_HINT}; pass "
                                             "--drop-invalid to leave such rows out (counted in the summary "
                                             "and the card)", file=f"{base.tag}:{rel}", row=written + dropped + 1,
                                             key=bad[0])
                        dropped += 1
                        continue
                    rows.append(row)
                if rows:
                    table = pa.Table.from_pylist(rows, schema=schema)
                    writer.write_table(table)
                    written += table.num_rows
                    nbytes += table.nbytes
    finally:
        writer.close()
    if not written:
        tmp.unlink()
        return 0, dropped
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    rel = f"data/{config}/{split}-00000-of-00001-{digest[:16]}.parquet"
    os.replace(tmp, staging / rel)
    man.configs.setdefault(config, {})[split] = SplitFiles([rel], written, nbytes, (staging / rel).stat().st_size)
    return written, dropped


def carry_extras(st: Store, base: BaseRelease, staging: Path, given: Iterable[str], *, eval_given: bool) -> list[str]:
    """Copy the base's extra files (stats.json, run.yaml, ...) and, unless the push brings its own,
    its eval files into `staging`; returns the eval files carried."""
    files = _Files(st, base, staging)
    given = set(given)
    carried_eval = [] if eval_given else list(base.eval_files)
    for rel in [*(e for e in base.extras if e not in given), *carried_eval]:
        src = files.path(rel)
        if not src.is_relative_to(staging):
            dst = staging / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(src.read_bytes())
    return carried_eval


def history_entry(man: Manifest, config: str, tag: str) -> dict[str, Any]:
    """history.json's record of a source whose rows this release generated (or re-verified)."""
    keys = [(k, n) for k, n in man.counts.items() if k[0] == config]
    i_model, i_rev, i_prof = (COUNT_COLUMNS.index(c) for c in ("model", "model_revision", "verifier_profile"))
    return {"tag": tag,
            "rows": sum(s.num_examples for s in man.configs[config].values()),
            "models": sorted({f"{k[i_model]}@{k[i_rev]}" if k[i_rev] else str(k[i_model]) for k, _ in keys}),
            "verifier_profiles": sorted({str(k[i_prof]) for k, _ in keys}),
            "counts": [[*k, n] for k, n in sorted(keys, key=lambda kv: str(kv[0]))]}


def write_history(staging: Path, sources: dict[str, Any]) -> None:
    (staging / HISTORY).write_text(json.dumps({"format": 1, "sources": sources}, indent=1, sort_keys=True,
                                              default=str) + "\n", encoding="utf-8")
