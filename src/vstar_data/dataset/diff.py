"""What changed between two releases of a store: rows added, removed and changed per config and split.

A row is keyed by (id, variant); it changed when its answer, labels or origin differ. A config whose
shard blobs are the same in both releases is unchanged without reading a row. Otherwise only the
needed columns are read with pyarrow, and each row is reduced in arrow (labels and answer joined
into one string per row by compute kernels, no Python dict per label) to a 64-bit hash: memory is
one dict of key -> hash per release and split, not the rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from .gitstore import Store
from .onto import DEFAULT_CONFIG, EVAL_CONFIG, BaseRelease, read_base

_COLUMNS = ("id", "variant", "conversations", "labels", "origin")


@dataclass
class SplitDiff:
    added: int = 0
    removed: int = 0
    changed: int = 0
    examples: dict[str, list[str]] = field(default_factory=lambda: {"added": [], "removed": [], "changed": []})

    def to_dict(self) -> dict[str, Any]:
        return {"added": self.added, "removed": self.removed, "changed": self.changed, "examples": self.examples}


def _splits(rel: BaseRelease, config: str) -> dict[str, list[str]]:
    return {EVAL_CONFIG: rel.eval_files} if config == EVAL_CONFIG and rel.eval_files else rel.configs.get(config, {})


def diff_releases(store: str | Path | Store, a: str, b: str, *, config: str | None = None,
                  show: int = 3) -> dict[str, Any]:
    """`{"from": a, "to": b, "configs": {config: {split: {added, removed, changed, examples}}}}` for the
    source configs and `eval` (not `default`: it is their union)."""
    st = store if isinstance(store, Store) else Store.open(store, create=False)
    ra, rb = read_base(st, a, what="diff"), read_base(st, b, what="diff")
    names = sorted(set(ra.configs) | set(rb.configs) | ({EVAL_CONFIG} if ra.eval_files or rb.eval_files else set()))
    if config is not None:
        if config not in names:
            from ..errors import VstarError

            raise VstarError(f"no config {config!r} in {a} or {b}; configs: {', '.join(names)}", key="config")
        names = [config]
    out: dict[str, Any] = {}
    for name in names:
        sa, sb = _splits(ra, name), _splits(rb, name)
        result = {}
        for split in sorted(set(sa) | set(sb)):
            fa, fb = sa.get(split, []), sb.get(split, [])
            if sorted(ra.blobs[p][0] for p in fa) == sorted(rb.blobs[p][0] for p in fb):
                result[split] = SplitDiff().to_dict()   # same blobs: unchanged, nothing read
                continue
            result[split] = _compare(_hashes(st, ra, fa), _hashes(st, rb, fb), show).to_dict()
        out[name] = result
    return {"from": a, "to": b, "configs": out}


def _compare(ha: dict[str, int], hb: dict[str, int], show: int) -> SplitDiff:
    d = SplitDiff()
    for key, h in hb.items():
        old = ha.get(key)
        if old is None:
            d.added += 1
            if len(d.examples["added"]) < show:
                d.examples["added"].append(key)
        elif old != h:
            d.changed += 1
            if len(d.examples["changed"]) < show:
                d.examples["changed"].append(key)
    for key in ha:
        if key not in hb:
            d.removed += 1
            if len(d.examples["removed"]) < show:
                d.examples["removed"].append(key)
    return d


def changes_against(st: Store, base: BaseRelease, man: Any, staging: Path, show: int = 3) -> dict[str, Any]:
    """The diff of a release being built (`man`, its new files under `staging`, carried ones in the
    store) against its base, in `diff_releases` form: what the card's "Changes" section shows."""
    out: dict[str, Any] = {}
    for name in sorted(set(base.configs) | set(man.configs)):
        sa = base.configs.get(name, {})
        sb = {split: sf.files for split, sf in man.configs.get(name, {}).items()}
        result = {}
        for split in sorted(set(sa) | set(sb)):
            fa, fb = sa.get(split, []), sb.get(split, [])
            if sorted(fa) == sorted(fb):   # carried byte for byte (names hold the content hash)
                result[split] = SplitDiff().to_dict()
                continue
            new = [staging / f if (staging / f).exists() else st.path / f for f in fb]
            result[split] = _compare(_hashes(st, base, fa), _hashes(st, None, new), show).to_dict()
        out[name] = result
    return {"from": base.tag, "to": None, "configs": out}


def _hashes(st: Store, rel: BaseRelease | None, files: list[Any]) -> dict[str, int]:
    """(id, or id + ' [variant]' for a non-original row) -> hash of answer, labels and origin.
    `files` are paths of `rel` (read from git), or local paths when `rel` is None."""
    out: dict[str, int] = {}
    for path in files:
        for keys, texts in _batches(st, rel.blobs[path][0] if rel is not None else Path(path)):
            for k, t in zip(keys, texts):
                out[k] = hash(t)
    return out


def _batches(st: Store, source: str | Path) -> Iterator[tuple[list[str], list[str]]]:
    import subprocess

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if isinstance(source, Path):
        pf = pq.ParquetFile(source)
    else:
        proc = subprocess.run(["git", f"--git-dir={st.git_dir}", "cat-file", "blob", source],
                              capture_output=True, check=True)
        pf = pq.ParquetFile(pa.BufferReader(proc.stdout))
    cols = [c for c in _COLUMNS if c in pf.schema_arrow.names]
    for batch in pf.iter_batches(batch_size=20_000, columns=cols):
        n = batch.num_rows
        ids = batch.column("id")
        variant = batch.column("variant") if "variant" in cols else pa.nulls(n, pa.string())
        tagged = pc.binary_join_element_wise(ids, pc.fill_null(variant, "original"), " [")
        keys = pc.if_else(pc.equal(pc.fill_null(variant, "original"), "original"), ids,
                          pc.binary_join_element_wise(tagged, "]", ""))
        parts = []
        if "conversations" in cols:
            conv = batch.column("conversations")
            parts.append(pc.struct_field(pc.list_element(conv, 1), "value"))
        if "origin" in cols:
            parts.append(batch.column("origin"))
        if "labels" in cols:
            parts.append(_text(batch.column("labels")))
        text = pc.binary_join_element_wise(*[pc.cast(p, pa.string()) for p in parts], "\x1c",
                                           null_handling="replace", null_replacement="\x00")
        yield keys.to_pylist(), text.to_pylist()


def _text(arr: Any) -> Any:
    """One string per element of any arrow array (structs and lists joined by control characters)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = arr.type
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        inner = _text(arr.values)
        joined = pc.binary_join(pa.ListArray.from_arrays(arr.offsets, inner), "\x1d")
        return pc.if_else(arr.is_null(), pa.scalar(None, pa.string()), joined)
    if pa.types.is_struct(t):
        fields = [_text(arr.field(i)) for i in range(t.num_fields)]
        joined = pc.binary_join_element_wise(*fields, "\x1e", null_handling="replace", null_replacement="\x00")
        return pc.if_else(arr.is_null(), pa.scalar(None, pa.string()), joined)
    return pc.cast(arr, pa.string())


def render(doc: dict[str, Any]) -> str:
    """The diff as text, one line per config and split, then the examples."""
    lines = [f"{doc['from']} -> {doc['to']}"]
    for config, splits in doc["configs"].items():
        for split, d in splits.items():
            lines.append(f"  {config} / {split}: +{d['added']:,} added, -{d['removed']:,} removed, "
                         f"~{d['changed']:,} changed")
            for kind in ("added", "removed", "changed"):
                for key in d["examples"][kind]:
                    lines.append(f"      {'+-~'[('added', 'removed', 'changed').index(kind)]} {key}")
    return "\n".join(lines)


__all__ = ["DEFAULT_CONFIG", "SplitDiff", "changes_against", "diff_releases", "render"]
