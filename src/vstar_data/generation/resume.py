"""Content-keyed resume: which chunks on disk still hold the rows the current inputs would produce.

A chunk is written as three files: `skipped/chunk-K.jsonl`, `chunks/chunk-K.json` (its manifest:
the ids of its samples, a digest of each sample's content, and the model fingerprint) and last
`attempts/chunk-K.jsonl`, the completion marker. A re-run reuses a chunk only when the model
fingerprint matches and every one of its samples is still in the run with the same digest; any
other chunk is *stale*: its files are moved to `retired/<stamp>/` (never read, never published,
counted in the summary) and its samples that are still current are generated again ("redone").
Samples not covered by a reused chunk form new chunks numbered after every chunk ever written.

The decision is written to `plan.json` before anything moves, so shards sharing an output folder,
and a run resumed after kill -9, follow the same plan as long as the inputs did not change.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..jsonl import atomic_writer
from ..sources.prompts import PromptedSample
from ..sources.storage import VideoStore
from .attempts import ATTEMPTS_DIR, RETIRED_DIR, SKIPPED_DIR, chunk_name

MANIFEST_DIR = "chunks"
PLAN_FILE = "plan.json"
_CHUNK_RE = re.compile(r"^chunk-(\d+)\.jsonl?$")
_WEIGHT_SUFFIXES = (".json", ".safetensors", ".bin", ".pt", ".pth", ".model", ".txt", ".gguf", ".msgpack",
                    ".h5", ".jinja", ".yaml", ".yml", ".tiktoken")


def _sha(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:20]


def _file_sha(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:20]


def model_fingerprint(model: str | None, backend: str) -> dict[str, Any]:
    """What identifies the model's answers: for a local folder its config and weight files (names,
    sizes, modification times); for anything else (a Hub id, no model) the name itself."""
    if model and Path(model).is_dir():
        root = Path(model)
        files = []
        for p in sorted(root.rglob("*")):
            rel = p.relative_to(root)
            if p.is_file() and not any(part.startswith(".") for part in rel.parts) \
                    and p.suffix.lower() in _WEIGHT_SUFFIXES:
                st = p.stat()
                files.append([rel.as_posix(), st.st_size, st.st_mtime_ns])
        return {"backend": backend, "model": str(root.resolve()), "files": files}
    return {"backend": backend, "model": model}


_ASK = object()   # sample_digest's fingerprint not given: ask the store


def sample_digest(ps: PromptedSample, videos: str | None, template_sha: str,
                  fingerprint: Any = _ASK) -> str:
    """Digest of everything about one sample that decides its rows: the video (relative path, size,
    modification time, or for a URL the object's size and ETag / modification time: `fingerprint`,
    from `VideoStore.fingerprints`), clip window, labels, question, template id@version and
    template file."""
    s = ps.sample
    if fingerprint is _ASK:
        fingerprint = VideoStore(videos).fingerprint(s.video) if videos is not None else None
    size, mtime = fingerprint if fingerprint is not None else (None, None)
    return _sha({"video": s.video, "size": size, "mtime": mtime, "clip": [s.clip_start, s.clip_end],
                 "labels": s.labels, "question": ps.question.text, "template_id": ps.question.template_id,
                 "template_file": template_sha})


def sample_digests(samples: list[PromptedSample], videos: str | None, templates: Any) -> list[str]:
    """`sample_digest` for every sample (template files hashed once per task)."""
    shas: dict[str, str] = {}
    out = []
    prints = VideoStore(videos).fingerprints(ps.sample.video for ps in samples) if videos is not None else {}
    for ps in samples:
        task = ps.sample.task
        if task not in shas:
            path = getattr(templates.get(task), "path", None)
            shas[task] = _file_sha(path) if path and Path(path).is_file() else ""
        out.append(sample_digest(ps, videos, shas[task], prints.get(ps.sample.video)))   # None: unreadable
    return out


@dataclass
class ChunkPlan:
    """The chunks of a run and what happens to each. `chunks`: id -> sample ids (reused and new)."""

    key: str
    model: dict[str, Any]
    chunks: dict[int, list[str]] = field(default_factory=dict)
    reused: list[int] = field(default_factory=list)     # chunks on disk whose content still matches
    new: list[int] = field(default_factory=list)        # chunks to generate
    stale: list[int] = field(default_factory=list)      # chunks to retire
    redone: list[str] = field(default_factory=list)     # current samples whose old rows were stale

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "model": self.model, "chunks": {str(k): v for k, v in self.chunks.items()},
                "reused": self.reused, "new": self.new, "stale": self.stale, "redone": self.redone,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S")}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ChunkPlan":
        return cls(key=d["key"], model=d["model"], chunks={int(k): v for k, v in d["chunks"].items()},
                   reused=list(d["reused"]), new=list(d["new"]), stale=list(d["stale"]),
                   redone=list(d["redone"]))


def _chunk_ids(folder: Path) -> set[int]:
    if not folder.is_dir():
        return set()
    return {int(m[1]) for p in folder.iterdir() if (m := _CHUNK_RE.match(p.name))}


def manifest_path(out: Path, k: int) -> Path:
    return out / MANIFEST_DIR / f"chunk-{k:06d}.json"


def complete_chunks(out: Path) -> set[int]:
    """Chunks whose completion marker (the attempts file) is on disk."""
    return _chunk_ids(out / ATTEMPTS_DIR)


def read_manifest(out: Path, k: int) -> dict[str, Any] | None:
    try:
        return json.loads(manifest_path(out, k).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def plan_key(model: dict[str, Any], chunk_size: int, ids: Iterable[str], digests: Iterable[str]) -> str:
    """`_sha` of {model, chunk_size, samples: [[id, digest], ...]}, hashed pair by pair: the same
    key as hashing the whole JSON text, without building a text of ~60 bytes per sample."""
    h = hashlib.sha256()
    h.update(('{"chunk_size": ' + json.dumps(chunk_size, default=str) + ', "model": '
              + json.dumps(model, sort_keys=True, default=str) + ', "samples": [').encode())
    sep = ""
    for pair in zip(ids, digests):
        h.update((sep + json.dumps(pair)).encode())
        sep = ", "
    h.update(b"]}")
    return h.hexdigest()[:20]


def plan_chunks(out: Path, ids: list[str], digests: list[str], model: dict[str, Any],
                chunk_size: int) -> ChunkPlan:
    """The plan for the current samples (`ids`, in run order, with their `digests`): reuse the
    plan on disk when it was made for the same inputs and nothing outside it was written since;
    else decide afresh from the chunk manifests and record the decision in plan.json."""
    key = plan_key(model, chunk_size, ids, digests)
    on_disk = complete_chunks(out)
    try:
        old = ChunkPlan.from_dict(json.loads((out / PLAN_FILE).read_text("utf-8")))
    except (OSError, ValueError, KeyError):
        old = None
    if old is not None and old.key == key and on_disk <= set(old.chunks) | set(old.stale):
        return old
    current = dict(zip(ids, digests))
    plan = ChunkPlan(key=key, model=model)
    covered: set[str] = set()
    stale_ids: set[str] = set()
    for k in sorted(on_disk):
        m = read_manifest(out, k)
        samples = [tuple(x) for x in (m or {}).get("samples", [])]
        chunk_ids = {sid for sid, _ in samples}
        ok = (m is not None and m.get("model") == model and samples
              and all(current.get(sid) == dg for sid, dg in samples) and not chunk_ids & covered)
        if ok:
            plan.reused.append(k)
            plan.chunks[k] = [sid for sid, _ in samples]
            covered |= chunk_ids
        else:
            plan.stale.append(k)
            stale_ids |= chunk_ids if m is not None else _ids_in_rows(out, k)
    todo = [sid for sid in ids if sid not in covered]
    plan.redone = [sid for sid in todo if sid in stale_ids]
    every = on_disk | _chunk_ids(out / SKIPPED_DIR) | {int(p.stem.split("-")[1]) for p in
                                                      (out / MANIFEST_DIR).glob("chunk-*.json")}
    base = max(every, default=-1) + 1
    for j in range(0, len(todo), chunk_size):
        k = base + j // chunk_size
        plan.chunks[k] = todo[j:j + chunk_size]
        plan.new.append(k)
    with atomic_writer(out / PLAN_FILE) as fh:
        json.dump(plan.to_dict(), fh, indent=1)
    return plan


def _ids_in_rows(out: Path, k: int) -> set[str]:
    """Sample ids in a chunk written without a manifest (an older version of this tool)."""
    from .attempts import read_chunk

    rows, skips = read_chunk(out, k)
    return {r["id"] for r in rows + skips if "id" in r}


def retire(out: Path, chunks: Iterable[int]) -> tuple[int, int]:
    """Move the files of stale chunks to retired/<stamp>/ (attempts file first, so a chunk is never
    half complete). Returns (chunks, attempt rows) retired."""
    from .attempts import read_file

    stamp = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"
    dest = out / RETIRED_DIR / stamp
    n_chunks = n_rows = 0
    for k in chunks:
        moved = False
        for sub, name in ((ATTEMPTS_DIR, chunk_name(k)), (SKIPPED_DIR, chunk_name(k)),
                          (MANIFEST_DIR, f"chunk-{k:06d}.json")):
            src = out / sub / name
            if not src.exists():
                continue
            try:
                rows = len(read_file(src)) if sub == ATTEMPTS_DIR else 0
                (dest / sub).mkdir(parents=True, exist_ok=True)
                os.replace(src, dest / sub / name)
            except FileNotFoundError:   # absent, or another shard of this run moved it first
                continue
            if sub == ATTEMPTS_DIR:
                n_rows += rows
                moved = True
        n_chunks += moved
    return n_chunks, n_rows


def write_chunk(out: Path, k: int, ids: list[str], digests: list[str], model: dict[str, Any],
                rows_text: str, skips_text: str) -> None:
    """Write one finished chunk: skip rows, manifest, then the attempts file (its completion marker)."""
    with atomic_writer(out / SKIPPED_DIR / chunk_name(k)) as fh:
        fh.write(skips_text)
    with atomic_writer(manifest_path(out, k)) as fh:
        json.dump({"chunk": k, "model": model, "samples": [list(x) for x in zip(ids, digests)]}, fh)
    with atomic_writer(out / ATTEMPTS_DIR / chunk_name(k)) as fh:
        fh.write(rows_text)
