"""The one engine backbone: every engine runs the same declared steps over the same chunks.

`Engine.run` owns everything that must not differ between engines: planning (read and prompt the
samples, refuse a run dir of other settings, decide which chunks on disk still match their
content and retire the stale ones), the progress bar, writing each finished chunk, the tallies
and the per-run summary file. A concrete engine implements only `execute`: HOW the planned
chunks go through frames -> generate -> verify -> rationalize (a thread pool in this process,
Ray tasks and actors, ...), yielding each chunk's rows as it finishes. So `local`, `ray` and any
plugin write the same files, resume the same way and report the same summary.
"""
from __future__ import annotations

import json
import logging
import time
from abc import ABC, abstractmethod
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterator, NamedTuple

from ...errors import ConfigError
from ...jsonl import atomic_writer, dumps
from ..attempts import read_chunk
from ...sources.storage import is_url
from ..pipeline import PERFORMANCE_KNOBS, ChunkProcessor, GenerationConfig, Prepared, decode_one, prepare, skip_row

log = logging.getLogger(__name__)
RUN_FILE = "run.json"


@dataclass
class RunSummary:
    """What a generation run did, for the end-of-run table and stats.json."""

    samples: int = 0
    annotated: int = 0          # samples the annotations hold (split chosen); found + missing + refused
    found: int = 0              # ... whose video is in the video folder
    missing: int = 0            # ... whose video is not
    chunks_total: int = 0
    chunks_done_before: int = 0
    reused: int = 0             # samples whose rows on disk still match their content (resume)
    redone: int = 0             # samples generated again because their old rows were stale
    new: int = 0                # samples generated for the first time
    retired: int = 0            # stale attempt rows moved to retired/ (never published)
    retired_chunks: int = 0
    generated: int = 0          # accepted direct answers
    rationalized: int = 0       # accepted after the hint
    rejected: int = 0           # samples with no accepted attempt
    skipped: Counter = field(default_factory=Counter)
    attempts: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    model_busy_s: float = 0.0
    judged: Counter = field(default_factory=Counter)   # judge replies: yes / no / unparsed / failed
    backend_events: Counter = field(default_factory=Counter)   # failovers, servers taken out, ...
    engine_events: Counter = field(default_factory=Counter)    # what the engine survived (Ray: chunks retried, ...)
    adapter_notes: Counter = field(default_factory=Counter)    # the adapter's fixes (clipped ends, ...)
    vocabulary_classes: int = 0      # classes the verifier knew from the source (all category labels)
    vocabulary_rejects: int = 0      # attempts rejected only because of those classes

    def tally(self, rows: list[dict], skips: list[dict]) -> None:
        """Count one chunk's outcome per sample: generated / rationalized / rejected / skipped."""
        by_id: dict[str, list[dict]] = {}
        for row in rows:
            by_id.setdefault(row["id"], []).append(row)
        self.attempts += len(rows)
        for row in rows:
            judge = row.get("verifier_judge")
            if judge is not None:
                self.judged["failed" if judge.get("error") else (judge.get("verdict") or "unparsed")] += 1
                self.judged["disagreed"] += judge.get("agrees") is False
            self.vocabulary_rejects += bool(row.get("verifier_vocabulary_reject"))
        for attempts in by_id.values():
            accepted = [r for r in attempts if r["accepted"]]
            if any(r["origin"] == "generated" for r in accepted):
                self.generated += 1
            elif accepted:
                self.rationalized += 1
            else:
                self.rejected += 1
        for skip in skips:
            if skip["id"] not in by_id:
                self.skipped[skip["reason"]] += 1

    def count_generated(self, prepared: Prepared, members: list[int]) -> None:
        """Count a chunk generated in this run as redone (its old rows were stale) or new."""
        for i in members:
            if prepared.samples[i].sample.id in prepared.redone:
                self.redone += 1
            else:
                self.new += 1

    def to_dict(self) -> dict[str, Any]:
        return {"samples": self.samples, "annotated": self.annotated, "found": self.found,
                "missing": self.missing, "generated": self.generated, "rationalized": self.rationalized,
                "rejected": self.rejected, "skipped": sum(self.skipped.values()),
                "skipped_by_reason": dict(self.skipped), "attempts": self.attempts,
                "chunks_total": self.chunks_total, "chunks_done_before": self.chunks_done_before,
                "reused": self.reused, "redone": self.redone, "new": self.new, "retired": self.retired,
                "retired_chunks": self.retired_chunks,
                "seconds": round(self.seconds, 3), "interrupted": self.interrupted,
                "model_busy_share": round(self.model_busy_s / self.seconds, 4) if self.seconds else None,
                "judged": dict(self.judged), "backend_events": dict(self.backend_events),
                "engine_events": dict(self.engine_events),
                "adapter_notes": dict(self.adapter_notes),
                "vocabulary": {"classes": self.vocabulary_classes, "rejected_attempts": self.vocabulary_rejects}}


@dataclass
class RunPlan:
    """What `Engine.execute` is handed: the run's inputs, its summary so far (reused chunks
    already counted), the (chunk id, sample indices) still to do, and a caller's backend."""

    cfg: GenerationConfig
    out: Path
    prepared: Prepared
    summary: RunSummary
    todo: list[tuple[int, list[int]]]
    backend: Any = None      # an already loaded backend object, or None: the engine builds it from cfg


class ChunkResult(NamedTuple):
    """One finished chunk, as `execute` yields it: attempt rows, skip rows, seconds in the model,
    and what the backend went through meanwhile (`Backend.take_events`: failovers, ...)."""

    chunk: int
    rows: list[dict]
    skips: list[dict]
    model_s: float
    events: dict[str, int] = {}


class Step(NamedTuple):
    """One stage of Figure 2: its name, where an engine runs it, and the callable that does it."""

    name: str
    runs: str
    call: Callable[..., Any]


def check_run_dir(out: Path, cfg: GenerationConfig) -> None:
    """Refuse to mix rows of different settings in one output directory."""
    run_file = out / RUN_FILE
    if run_file.exists():
        old = json.loads(run_file.read_text("utf-8"))
        # The chunk size fixes the on-disk layout: a resumed run keeps it even if --batch-size changed.
        cfg.chunk_size = int(old.get("config", {}).get("chunk_size", cfg.chunk_size))
        if old.get("signature") != cfg.signature():
            new = cfg.to_dict()
            diff = sorted(k for k, v in old.get("config", {}).items()
                          if new.get(k) != v and k not in PERFORMANCE_KNOBS)
            raise ConfigError(f"{out} holds a run with different settings ({', '.join(diff) or 'config'} "
                              "differ); use another --out, or delete it to start over")
    else:
        with atomic_writer(run_file) as fh:
            json.dump({"signature": cfg.signature(), "config": cfg.to_dict(),
                       "created": time.strftime("%Y-%m-%dT%H:%M:%S")}, fh, indent=2)


def shared_videos(plan: RunPlan) -> dict[str, list[int]]:
    """Video path -> the chunks to do that use it, for videos used by more than one chunk (a
    THUMOS video's ~15 windows, a Charades video's sentences, windows listed interleaved). A
    video used by one chunk is probed once by that chunk's decoding anyway; these are the ones
    an engine must keep (local: `probe.pin`) or share (Ray: probed once on the driver)."""
    if plan.cfg.videos is None or is_url(plan.cfg.videos):
        return {}   # a URL's clips are probed from their cache copies: the disk cache keeps them
    first: dict[str, int] = {}         # video -> its first chunk (no list, no full path: 1M videos used once)
    more: dict[str, list[int]] = {}    # video -> its chunks, for videos in more than one
    for k, members in plan.todo:
        for video in dict.fromkeys(plan.prepared.samples[i].sample.video for i in members):
            at = first.setdefault(video, k)
            if at != k:
                more.setdefault(video, [at]).append(k)
    root = Path(plan.cfg.videos)
    return {str(root / v): more[v] for v in first if v in more}


def finish_chunk(out: Path, k: int, members: list[int], prepared: Prepared, rows: list[dict],
                 skips: list[dict]) -> None:
    """Write a finished chunk (skip rows, manifest, attempts marker) atomically: the "write" step."""
    from ..resume import write_chunk

    ids = [prepared.samples[i].sample.id for i in members]
    write_chunk(out, k, ids, [prepared.digests[sid] for sid in ids], prepared.model_fingerprint,
                "".join(dumps(r) + "\n" for r in rows), "".join(dumps(s) + "\n" for s in skips))


class Engine(ABC):
    """Base of every engine: `run` plans, resumes, writes, tallies and summarises; a subclass
    implements only `execute` (how the planned chunks are run). Engine-specific settings
    (a cluster address, actor counts) are constructor arguments, so `run` has one signature."""

    name: ClassVar[str] = ""

    # The per-chunk pipeline every engine runs, as the paper's Figure 2 reads. "read" and "prompt"
    # happen once, in planning; "write" on the driver; the rest is where `execute` places it.
    steps: ClassVar[tuple[Step, ...]] = (
        Step("read", "plan", prepare),                       # annotations -> samples (adapter)
        Step("prompt", "plan", prepare),                     # a templated question per sample
        Step("frames", "execute", decode_one),               # decode (or probe) each clip
        Step("generate", "execute", ChunkProcessor.process),  # the backend answers
        Step("verify", "execute", ChunkProcessor.process),    # label types score each answer
        Step("rationalize", "execute", ChunkProcessor.process),   # failures: label as hint, verified again
        Step("write", "driver", finish_chunk),               # skipped/, chunks/, attempts/ (the marker)
    )

    def __init__(self) -> None:
        self.stats: dict[str, Any] = {}   # the last run, beyond the summary: chunks to do, timings
        self.events: Counter = Counter()  # set by `execute`: what it survived; copied into the summary

    @abstractmethod
    def execute(self, plan: RunPlan) -> Iterator[ChunkResult]:
        """Run frames -> generate -> verify -> rationalize over `plan.todo`, yielding each chunk
        as it finishes (any order). Stop early by setting `plan.summary.interrupted` and returning."""

    def run(self, cfg: GenerationConfig, out: str | Path, *, prepared: Prepared | None = None,
            backend: Any = None) -> RunSummary:
        """Generate every chunk of `cfg` not already on disk under `out`; returns the run's summary
        (also written to out/summary-<shard>.json when there was work to do)."""
        t_start = time.perf_counter()
        plan = self.plan(cfg, Path(out), prepared, backend)
        summary = plan.summary
        self.stats = {"chunks_todo": len(plan.todo)}
        self.events = Counter()
        if not plan.todo:
            summary.seconds = time.perf_counter() - t_start
            return summary
        members = dict(plan.todo)
        bar = self.progress(cfg, sum(len(m) for m in members.values()))
        try:
            with closing(self.execute(plan)) as results:
                for k, rows, skips, model_s, events in results:
                    finish_chunk(plan.out, k, members[k], plan.prepared, rows, skips)
                    summary.model_busy_s += model_s
                    summary.backend_events.update(events)
                    summary.tally(rows, skips)
                    summary.count_generated(plan.prepared, members[k])
                    if bar is not None:
                        done = summary.generated + summary.rationalized + summary.rejected
                        bar.update(len(members[k]))
                        bar.set_postfix(accept=f"{(summary.generated + summary.rationalized) / max(done, 1):.0%}")
        except KeyboardInterrupt:
            summary.interrupted = True
            log.warning("interrupt: finished chunks are on disk; re-run the same command to resume")
        finally:
            if bar is not None:
                bar.close()
        summary.engine_events.update({k: v for k, v in self.events.items() if v})
        summary.seconds = time.perf_counter() - t_start
        self.stats["model_busy_s"] = round(summary.model_busy_s, 3)
        with atomic_writer(plan.out / f"summary-{cfg.shard_index:05d}.json") as fh:
            json.dump(summary.to_dict(), fh, indent=2)
        return summary

    def plan(self, cfg: GenerationConfig, out: Path, prepared: Prepared | None = None,
             backend: Any = None) -> RunPlan:
        """Create the run dir (refusing other settings), read the samples unless given, record the
        adapter's skips, decide which chunks on disk still match the samples' content
        (resume.plan_chunks), retire the stale ones, and list this shard's chunks still to do."""
        from ..resume import complete_chunks, model_fingerprint, plan_chunks, read_manifest, retire, sample_digests

        prepared = prepared or prepare(cfg)   # first: inputs that are not found leave no run dir behind
        out.mkdir(parents=True, exist_ok=True)
        check_run_dir(out, cfg)
        st = prepared.adapter_stats
        summary = RunSummary(samples=len(prepared.samples), annotated=st.annotated, found=st.found,
                             missing=st.missing,
                             vocabulary_classes=sum(len(v) for v in prepared.vocabulary.values()))
        if prepared.adapter_skips:
            with atomic_writer(out / "skipped" / f"annotations-{cfg.shard_index:05d}.jsonl") as fh:
                for skip in prepared.adapter_skips:
                    fh.write(dumps(skip_row(None, skip, cfg)) + "\n")
        summary.skipped.update(prepared.adapter_stats.skipped)
        summary.adapter_notes.update(prepared.adapter_stats.notes)
        ids = [ps.sample.id for ps in prepared.samples]
        dup = sorted(i for i, n in Counter(ids).items() if n > 1) if len(set(ids)) != len(ids) else []
        if dup:
            raise ConfigError(f"{len(dup)} sample ids occur more than once (e.g. {dup[0]!r}); every sample "
                              "needs its own id so that resume and publishing can tell them apart")
        digests = sample_digests(prepared.samples, cfg.videos, prepared.templates)
        model = model_fingerprint(cfg.model, cfg.backend)
        chunks = plan_chunks(out, ids, digests, model, cfg.chunk_size)
        summary.retired_chunks, summary.retired = retire(out, [k for k in chunks.stale])
        prepared.digests = dict(zip(ids, digests))
        prepared.model_fingerprint = model
        prepared.redone = set(chunks.redone)
        index = {sid: i for i, sid in enumerate(ids)}
        done = complete_chunks(out)
        todo: list[tuple[int, list[int]]] = []
        for k in sorted(chunks.chunks):
            if k % cfg.num_shards != cfg.shard_index:
                continue
            summary.chunks_total += 1
            members = [index[sid] for sid in chunks.chunks[k]]
            manifest = read_manifest(out, k) if k in done else None
            if manifest is not None and [s[0] for s in manifest["samples"]] == chunks.chunks[k]:
                summary.chunks_done_before += 1
                summary.reused += len(members)
                summary.tally(*read_chunk(out, k))
            else:
                todo.append((k, members))
        return RunPlan(cfg, out, prepared, summary, todo, backend)

    @staticmethod
    def progress(cfg: GenerationConfig, total: int) -> Any:
        """The run's bar (clips, accept rate), or None when `cfg.progress` is off."""
        if not cfg.progress:
            return None
        from tqdm.auto import tqdm

        return tqdm(total=total, unit="clip", desc=f"cycle {cfg.cycle} generate", dynamic_ncols=True)


def make_engine(section: dict[str, Any] | None = None, *, file: str | Path | None = None) -> Engine:
    """The engine a run config's `engine:` section (or the CLI's --engine flags) names, built with
    the section's other keys as constructor options. A key set to None means "the engine's default";
    a key the engine's constructor does not take is a ConfigError located at engine/<key>."""
    from ...registry import ENGINES

    section = dict(section or {})
    name = section.pop("name", None) or "local"
    cls = ENGINES.get(name)
    options = {k: v for k, v in section.items() if v is not None}
    known = ENGINES.options_of(name)
    for key in options:
        if known is not None and key not in known:
            raise ConfigError(f"engine {name!r} has no option {key!r}; it takes "
                              f"{', '.join(known) if known else 'no options'}", file=file, key=f"engine/{key}")
    return cls(**options)
