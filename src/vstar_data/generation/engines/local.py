"""The local engine: runs the planned chunks in this process, one after another.

Decoding runs in a thread pool one chunk ahead of the model, so the backend does not wait on
video decoding. Videos that later chunks use again stay pinned in the probe cache until their
last chunk is done, so each video's container check runs once per run. Planning, resume, writing each finished chunk and the summary are the engine
base's (engines/base.py): kill -9 costs at most the chunk in flight. The first Ctrl-C finishes
the current chunk and stops; a second one stops at once.
"""
from __future__ import annotations

import logging
import signal
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Iterator

from ...video import probe as probe_mod
from ..pipeline import ChunkProcessor, GenerationConfig, decode_one, make_backend, make_verifier
from .base import ChunkResult, Engine, RunPlan, shared_videos

log = logging.getLogger(__name__)


class LocalEngine(Engine):
    """In-process engine: a decode thread pool one chunk ahead of the in-process model."""

    name = "local"

    def execute(self, plan: RunPlan) -> Iterator[ChunkResult]:
        cfg, prepared, todo = plan.cfg, plan.prepared, plan.todo
        backend = plan.backend if plan.backend is not None else make_backend(cfg, prepared)
        uses_frames = getattr(backend, "uses_frames", True)
        processor = ChunkProcessor(cfg, prepared.templates, backend, make_verifier(cfg, prepared.vocabulary))

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
        restore_threads = share_cpu_with_decoders(cfg) if uses_frames else None
        # A video that later chunks use again keeps its probe until its last chunk is done, however
        # many other videos come between (the probe cache alone holds the last 64).
        pins: dict[int, list[str]] = {}
        for video, chunks in shared_videos(plan).items():
            for k in chunks:
                pins.setdefault(k, []).append(video)
        probe_mod.pin(v for vs in pins.values() for v in vs)
        try:
            with ThreadPoolExecutor(max_workers=max(cfg.decode_workers, 1),
                                    thread_name_prefix="vstar-decode") as pool:
                def submit(rng: list[int]) -> list[Future]:
                    return [pool.submit(decode_one, prepared.samples[i], cfg, uses_frames) for i in rng]

                pending = [submit(todo[0][1])]
                for n, (k, rng) in enumerate(todo):
                    if n + 1 < len(todo):
                        pending.append(submit(todo[n + 1][1]))
                    futures = pending.pop(0)
                    items = [(prepared.samples[i], f.result()) for i, f in zip(rng, futures)]
                    t_model = time.perf_counter()
                    rows, skips = processor.process(items)
                    probe_mod.unpin(pins.pop(k, []))
                    yield ChunkResult(k, rows, skips, time.perf_counter() - t_model, processor.take_events())
                    if stop["flag"]:
                        plan.summary.interrupted = True
                        for fs in pending:
                            for f in fs:
                                f.cancel()
                        return
        finally:
            probe_mod.unpin(v for vs in pins.values() for v in vs)
            if restore_threads is not None:
                restore_threads()
            if in_main:
                signal.signal(signal.SIGINT, previous)


def share_cpu_with_decoders(cfg: GenerationConfig) -> Callable[[], None] | None:
    """On a CPU, torch's threads and the decode threads share the cores; oversubscribing them
    nearly halved throughput here (2 cores). Give torch the cores decoding leaves, for this run,
    unless the config fixes the thread count (`torch_threads`: same answers on every machine).
    Returns the undo, or None when there is nothing to share (no torch loaded, or a GPU)."""
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
