"""The local engine: runs the generation pipeline in this process, chunk by chunk.

Decoding runs in a thread pool one chunk ahead of the model, so the backend does not wait on
video decoding. Each finished chunk is written atomically: `skipped/`, its manifest `chunks/`,
then `attempts/chunk-NNNNNN.jsonl` (the completion marker). A re-run reuses a finished chunk only
when its samples' content and the model still match (generation/resume.py), retires stale ones
and generates the rest, so kill -9 costs at most the chunks in flight.
"""
from __future__ import annotations

import json
import logging
import signal
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from ...jsonl import atomic_writer, dumps
from ..attempts import read_chunk
from ..pipeline import ChunkProcessor, GenerationConfig, Prepared, decode_one, make_verifier, prepare, skip_row

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
                "judged": dict(self.judged)}


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
                          if new.get(k) != v and k not in ("batch_size", "decode_workers", "device",
                                                           "progress", "num_shards", "shard_index"))
            raise ConfigError(f"{out} holds a run with different settings ({', '.join(diff) or 'config'} "
                              "differ); use another --out, or delete it to start over")
    else:
        with atomic_writer(run_file) as fh:
            json.dump({"signature": cfg.signature(), "config": cfg.to_dict(),
                       "created": time.strftime("%Y-%m-%dT%H:%M:%S")}, fh, indent=2)


def tally(summary: RunSummary, rows: list[dict], skips: list[dict]) -> None:
    """Count one chunk's outcome per sample: generated / rationalized / rejected / skipped."""
    by_id: dict[str, list[dict]] = {}
    for row in rows:
        by_id.setdefault(row["id"], []).append(row)
    summary.attempts += len(rows)
    for row in rows:
        judge = row.get("verifier_judge")
        if judge is not None:
            summary.judged["failed" if judge.get("error") else (judge.get("verdict") or "unparsed")] += 1
            summary.judged["disagreed"] += judge.get("agrees") is False
    for attempts in by_id.values():
        accepted = [r for r in attempts if r["accepted"]]
        if any(r["origin"] == "generated" for r in accepted):
            summary.generated += 1
        elif accepted:
            summary.rationalized += 1
        else:
            summary.rejected += 1
    for skip in skips:
        if skip["id"] not in by_id:
            summary.skipped[skip["reason"]] += 1


class LocalEngine:
    """In-process engine with a decode thread pool and chunk-level resume."""

    name = "local"

    def run(self, cfg: GenerationConfig, out: str | Path, *, backend: Any = None,
            prepared: Prepared | None = None) -> RunSummary:
        t_start = time.perf_counter()
        out = Path(out)
        prepared, summary, todo = plan_run(cfg, out, prepared)
        if not todo:
            summary.seconds = time.perf_counter() - t_start
            return summary

        if backend is None:
            backend = make_backend(cfg, prepared)
        uses_frames = getattr(backend, "uses_frames", True)
        processor = ChunkProcessor(cfg, prepared.templates, backend, make_verifier(cfg))

        stop = {"flag": False}
        previous = signal.getsignal(signal.SIGINT)

        def on_sigint(signum: int, frame: Any) -> None:
            if stop["flag"]:
                signal.signal(signal.SIGINT, previous)
                raise KeyboardInterrupt
            stop["flag"] = True
            log.warning("interrupt: finishing the current batch, then stopping (Ctrl-C again to abort)")

        in_main = _in_main_thread()
        if in_main:
            signal.signal(signal.SIGINT, on_sigint)
        bar = _progress(cfg, sum(len(r) for _, r in todo))
        restore_threads = _share_cpu_with_decoders(cfg) if uses_frames else None
        try:
            with ThreadPoolExecutor(max_workers=max(cfg.decode_workers, 1),
                                    thread_name_prefix="vstar-decode") as pool:
                def submit(rng: range) -> list[Future]:
                    return [pool.submit(decode_one, prepared.samples[i], cfg, uses_frames) for i in rng]

                pending = [submit(todo[0][1])]
                for n, (k, rng) in enumerate(todo):
                    if n + 1 < len(todo):
                        pending.append(submit(todo[n + 1][1]))
                    futures = pending.pop(0)
                    items = [(prepared.samples[i], f.result()) for i, f in zip(rng, futures)]
                    t_model = time.perf_counter()
                    rows, skips = processor.process(items)
                    summary.model_busy_s += time.perf_counter() - t_model
                    finish_chunk(out, k, rng, prepared, rows, skips)
                    tally(summary, rows, skips)
                    count_generated(summary, prepared, rng)
                    if bar is not None:
                        done = summary.generated + summary.rationalized + summary.rejected
                        bar.update(len(rng))
                        bar.set_postfix(accept=f"{(summary.generated + summary.rationalized) / max(done, 1):.0%}")
                    if stop["flag"]:
                        summary.interrupted = True
                        for fs in pending:
                            for f in fs:
                                f.cancel()
                        break
        finally:
            if restore_threads is not None:
                restore_threads()
            if bar is not None:
                bar.close()
            if in_main:
                signal.signal(signal.SIGINT, previous)
        summary.seconds = time.perf_counter() - t_start
        with atomic_writer(out / f"summary-{cfg.shard_index:05d}.json") as fh:
            json.dump(summary.to_dict(), fh, indent=2)
        return summary


def plan_run(cfg: GenerationConfig, out: Path, prepared: Prepared | None
             ) -> tuple[Prepared, RunSummary, list[tuple[int, list[int]]]]:
    """Bookkeeping every engine shares: create the run dir (refusing other settings), read the
    samples unless given, record the adapter's skips, decide which chunks on disk still match the
    samples' content (resume.plan_chunks), retire the stale ones, and return the (chunk id,
    sample indices) pairs still to do for this shard."""
    from ..resume import complete_chunks, model_fingerprint, plan_chunks, read_manifest, retire, sample_digests

    prepared = prepared or prepare(cfg)   # first: inputs that are not found leave no run dir behind
    out.mkdir(parents=True, exist_ok=True)
    check_run_dir(out, cfg)
    st = prepared.adapter_stats
    summary = RunSummary(samples=len(prepared.samples), annotated=st.annotated, found=st.found,
                         missing=st.missing)
    if prepared.adapter_skips:
        with atomic_writer(out / "skipped" / f"annotations-{cfg.shard_index:05d}.jsonl") as fh:
            for skip in prepared.adapter_skips:
                fh.write(dumps(skip_row(None, skip, cfg)) + "\n")
    summary.skipped.update(prepared.adapter_stats.skipped)
    ids = [ps.sample.id for ps in prepared.samples]
    dup = sorted(i for i, n in Counter(ids).items() if n > 1) if len(set(ids)) != len(ids) else []
    if dup:
        raise ConfigError(f"{len(dup)} sample ids occur more than once (e.g. {dup[0]!r}); every sample "
                          "needs its own id so that resume and publishing can tell them apart")
    digests = sample_digests(prepared.samples, cfg.videos, prepared.templates)
    model = model_fingerprint(cfg.model, cfg.backend)
    plan = plan_chunks(out, ids, digests, model, cfg.chunk_size)
    summary.retired_chunks, summary.retired = retire(out, [k for k in plan.stale])
    prepared.digests = dict(zip(ids, digests))
    prepared.model_fingerprint = model
    prepared.redone = set(plan.redone)
    index = {sid: i for i, sid in enumerate(ids)}
    done = complete_chunks(out)
    todo: list[tuple[int, list[int]]] = []
    for k in sorted(plan.chunks):
        if k % cfg.num_shards != cfg.shard_index:
            continue
        summary.chunks_total += 1
        members = [index[sid] for sid in plan.chunks[k]]
        manifest = read_manifest(out, k) if k in done else None
        if manifest is not None and [s[0] for s in manifest["samples"]] == plan.chunks[k]:
            summary.chunks_done_before += 1
            summary.reused += len(members)
            tally(summary, *read_chunk(out, k))
        else:
            todo.append((k, members))
    return prepared, summary, todo


def finish_chunk(out: Path, k: int, members: list[int], prepared: Prepared, rows: list[dict],
                 skips: list[dict]) -> None:
    """Write a finished chunk (skip rows, manifest, attempts marker) atomically, as every engine does."""
    from ..resume import write_chunk

    ids = [prepared.samples[i].sample.id for i in members]
    write_chunk(out, k, ids, [prepared.digests[sid] for sid in ids], prepared.model_fingerprint,
                "".join(dumps(r) + "\n" for r in rows), "".join(dumps(s) + "\n" for s in skips))


def count_generated(summary: RunSummary, prepared: Prepared, members: list[int]) -> None:
    """Count a chunk generated in this run as redone (its old rows were stale) or new."""
    for i in members:
        if prepared.samples[i].sample.id in prepared.redone:
            summary.redone += 1
        else:
            summary.new += 1


def make_backend(cfg: GenerationConfig, prepared: Prepared) -> Any:
    """The configured backend, loaded once (a broken model setup fails here, not per sample)."""
    from ...registry import BACKENDS

    options = dict(cfg.backend_options)
    if cfg.backend == "template":
        options.setdefault("templates", prepared.templates)
    backend = BACKENDS.get(cfg.backend)(model=cfg.model, batch_size=cfg.batch_size,
                                        max_new_tokens=cfg.max_new_tokens, temperature=cfg.temperature,
                                        seed=cfg.seed, device=cfg.device, **options)
    backend.load()
    return backend


def _share_cpu_with_decoders(cfg: GenerationConfig) -> Any:
    """On a CPU, torch's threads and the decode threads share the cores; oversubscribing them
    nearly halved throughput here (2 cores). Give torch the cores decoding leaves, for this run,
    unless the config fixes the thread count (`torch_threads`: same answers on every machine)."""
    import os
    import sys

    torch = sys.modules.get("torch")
    if torch is None or torch.cuda.is_available():
        return None
    before = torch.get_num_threads()
    torch.set_num_threads(cfg.torch_threads or max(1, (os.cpu_count() or 1) - cfg.decode_workers))
    return lambda: torch.set_num_threads(before)


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _progress(cfg: GenerationConfig, total: int) -> Any:
    if not cfg.progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="clip", desc=f"cycle {cfg.cycle} generate", dynamic_ncols=True)
