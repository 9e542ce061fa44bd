"""The Ray engine: the engine base's `execute` step on a Ray cluster, surviving lost workers and nodes.

    chunks (from the driver) -> decode frames (CPU tasks) -> backend + verify + rationalize
    (model actors: one per GPU, else N CPU actors) -> chunk files (written by the driver)

The driver schedules by itself (`ray_scheduler.ChunkScheduler`: Ray core tasks and actors): each model actor
has at most `DEPTH` chunks in flight, each one an actor call whose argument is that chunk's
decode task. A call that fails because Ray lost something (the actor's process or node died, the
decode task's worker or node died, its output was lost) puts the chunk back at the head of the
queue, and a dead actor is replaced; results are keyed by chunk and a chunk is yielded once, so a
chunk done twice never gives duplicate rows. When the live cluster has no CPU left beside the
actors (a node lost, or a small cluster), decode tasks reserve none rather than wait forever.

A chunk (`chunks_of`) is the unit of resume (one `attempts/chunk-NNNNNN.jsonl` marker) and of the
model's batch, and `ChunkProcessor` must see a whole chunk to give the local engine's rows byte for
byte (rationalization batches and the sampling seed both depend on the batch). Decode tasks call
`pipeline.decode_one` per sample; the actors build the backend once each with
`pipeline.make_backend` and run `ChunkProcessor`.

Only the driver writes: rows come back as JSON text, and the engine base writes each chunk's
skipped/ then attempts/ file atomically, exactly as for the local engine, so the output
directory need only be visible to the driver. Finished chunks are skipped before anything is
sent to Ray, so a re-run (with either engine) adds nothing, and a killed run loses at most the
chunks in flight. Samples and decoded frames (`Frames` with its numpy array, or the SkipRecord
saying why not) travel as pickle bytes and never touch the disk.

A video used by more than one chunk (a THUMOS video's windows, a Charades video's sentences) is
probed once on the driver (`shared_probes`) and its probe travels with each of those chunks, so
decode tasks in other worker processes do not run the container check again.
"""
from __future__ import annotations

import json
import logging
import os
import pickle
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator, Mapping

import ray  # at import time, so a missing install is reported with its fix by the registry

from ...errors import ConfigError, VstarError
from ...jsonl import dumps
from ..pipeline import ChunkProcessor, GenerationConfig, Prepared, decode_one, make_backend, make_verifier
from .base import ChunkResult, Engine, RunPlan, shared_videos
from .ray_scheduler import ChunkScheduler, PoolPlan, plan_pool  # noqa: F401  (PoolPlan: public here too)

log = logging.getLogger(__name__)
ACTORS_ENV = "VSTAR_RAY_ACTORS"   # CPU actors when the cluster has no GPUs (CLI users set this)


def decode_memory(cfg: GenerationConfig, uses_frames: bool = True) -> int:
    """Bytes a decode task holds for one chunk: frames (16:9 at the short side, 1080p if
    unscaled) decoded and pickled, plus a fixed allowance for the decoder."""
    pixels = (cfg.frame_size ** 2 * 16 // 9) if cfg.frame_size else 1920 * 1080
    frames = cfg.chunk_size * cfg.num_frames * pixels * 3 if uses_frames else 0
    return 2 * frames + (256 << 20)   # a worker with numpy, PyAV and vstar_data loaded: ~110 MiB


def _decode_chunk(row: dict[str, Any], cfg: GenerationConfig, uses_frames: bool) -> dict[str, Any]:
    """CPU task: frames (or the SkipRecord saying why not) for every sample of one chunk."""
    from ...video.probe import prime

    samples = pickle.loads(row["samples"])
    if row.get("probes"):
        prime(pickle.loads(row["probes"]))   # the driver's probes of videos other chunks use too
    items = [(ps, decode_one(ps, cfg, uses_frames)) for ps in samples]
    return {"chunk": int(row["chunk"]), "items": pickle.dumps(items, protocol=5)}


class ChunkActor:
    """Actor: builds the backend once (as the local engine does), then runs ChunkProcessor on
    whole chunks and returns their rows as the JSON text the chunk files hold."""

    def __init__(self, cfg: GenerationConfig, templates: Any, verifier: Any, backend_blob: bytes | None) -> None:
        # A broken model setup is not raised here: Ray keeps only the text of an error raised in an
        # actor (constructor or call), so it goes back as data and the driver raises it as itself.
        self.error: VstarError | None = None
        try:
            if backend_blob is not None:
                backend = pickle.loads(backend_blob)
            else:
                backend = make_backend(cfg, SimpleNamespace(templates=templates))   # type: ignore[arg-type]
        except VstarError as exc:
            self.error = exc
            return
        self.processor = ChunkProcessor(cfg, templates, backend, verifier)

    def ready(self) -> bool:
        """Answered once the actor is placed and its backend built: only then does it get chunks."""
        return True

    def process(self, decoded: dict[str, Any]) -> dict[str, Any]:
        """One decoded chunk -> its rows and skips as JSON text, seconds in the model, backend events."""
        rows: list[dict] = []
        skips: list[dict] = []
        t0 = time.perf_counter()
        if self.error is None:
            try:   # a setup error (a refused request, every server down) goes back as data too
                rows, skips = self.processor.process(pickle.loads(decoded["items"]))
            except VstarError as exc:
                self.error = exc
        return {"chunk": int(decoded["chunk"]), "error": b"" if self.error is None else pickle.dumps(self.error),
                "model_s": time.perf_counter() - t0, "rows": "".join(dumps(r) + "\n" for r in rows),
                "skips": "".join(dumps(s) + "\n" for s in skips),
                "events": json.dumps(self.processor.take_events()) if self.error is None else "{}"}


class RayEngine(Engine):
    """Ray engine with the local engine's output, resume and provenance (the engine base's).

    `address`: the Ray cluster to join (default: an initialised Ray, RAY_ADDRESS, a `ray start`
    cluster on this machine, else a new local one). `num_actors`: model actors (default: one per
    GPU, or 1 CPU actor; the environment variable VSTAR_RAY_ACTORS sets it for the CLI).
    `actor_cpus` / `decode_cpus`: CPUs reserved per model actor / per decode task.
    `max_chunk_tries`: times one chunk may be lost with a worker or node before the run stops.
    `start_timeout`: seconds the run waits with no model actor placed before it stops.
    """

    name = "ray"

    def __init__(self, num_actors: int | None = None, actor_cpus: float = 1.0, decode_cpus: float = 1.0,
                 address: str | None = None, max_chunk_tries: int = 4, start_timeout: float = 600.0) -> None:
        super().__init__()
        env = os.environ.get(ACTORS_ENV)
        self.address = address
        self.num_actors = num_actors if num_actors is not None else (int(env) if env else None)
        self.actor_cpus = actor_cpus
        self.decode_cpus = decode_cpus
        self.max_chunk_tries = max_chunk_tries
        self.start_timeout = start_timeout

    def execute(self, plan: RunPlan) -> Iterator[ChunkResult]:
        cfg = plan.cfg
        verifier = make_verifier(cfg, plan.prepared.vocabulary)  # a bad profile fails here, before Ray starts
        uses_frames = _uses_frames(cfg, plan.backend)
        blob = _backend_blob(plan.backend)
        t_ray = time.perf_counter()
        started = _connect(self.address)
        self.stats["ray_connect_s"] = round(time.perf_counter() - t_ray, 3)
        try:
            pool = plan_pool(ray.cluster_resources().get("GPU", 0), cfg, self.num_actors, self.actor_cpus)
            self.stats["pool"] = vars(pool)
            t_probe = time.perf_counter()
            probes = shared_probes(plan)
            self.stats["shared_probes"] = {"videos": len(probes), "s": round(time.perf_counter() - t_probe, 3)}
            scheduler = ChunkScheduler(
                ChunkPayloads(plan.prepared, plan.todo, cfg, probes), pool,
                actor=ChunkActor, actor_args=(cfg, plan.prepared.templates, verifier, blob),
                decode=_decode_chunk, decode_args={"cfg": cfg, "uses_frames": uses_frames}, decode_cpus=self.decode_cpus,
                decode_memory=decode_memory(cfg, uses_frames), max_chunk_tries=self.max_chunk_tries,
                start_timeout=self.start_timeout)
            self.events = scheduler.faults   # the engine base copies them into the run's summary
            t_pipe = time.perf_counter()
            for result in scheduler.run():
                if result["error"]:
                    raise pickle.loads(result["error"])
                # actors started, model loaded, first chunk decoded and answered
                self.stats.setdefault("first_result_s", round(time.perf_counter() - t_pipe, 3))
                yield ChunkResult(int(result["chunk"]), [json.loads(line) for line in result["rows"].splitlines()],
                                  [json.loads(line) for line in result["skips"].splitlines()],
                                  float(result["model_s"]), json.loads(result["events"] or "{}"))
            if any(scheduler.faults.values()):
                log.warning("ray: %s", ", ".join(f"{k}={v}" for k, v in scheduler.faults.items() if v))
        finally:
            if started:
                ray.shutdown()


class ChunkPayloads(Mapping[int, dict[str, Any]]):
    """Chunk id -> what its decode task gets (the chunk's samples, and the driver's probes of the
    shared videos it uses, as pickle bytes), built when the scheduler submits the chunk and again
    if it retries it: the driver never holds every chunk's pickled samples at once (about 1.7 KB
    per sample, 1.7 GB at a million)."""

    def __init__(self, prepared: Prepared, todo: list[tuple[int, list[int]]], cfg: GenerationConfig,
                 probes: dict[str, tuple]) -> None:
        self.prepared, self.probes = prepared, probes
        self.members = dict(todo)
        self.root = Path(cfg.videos) if cfg.videos is not None else None

    def __getitem__(self, k: int) -> dict[str, Any]:
        rng = self.members[k]
        return {"chunk": k, "samples": pickle.dumps([self.prepared.samples[i] for i in rng], protocol=5),
                "probes": self._probes(rng)}

    def __iter__(self) -> Iterator[int]:
        return iter(self.members)

    def __len__(self) -> int:
        return len(self.members)

    def _probes(self, rng: list[int]) -> bytes:
        if self.root is None or not self.probes:
            return b""
        videos = dict.fromkeys(str(self.root / self.prepared.samples[i].sample.video) for i in rng)
        entries = [self.probes[v] for v in videos if v in self.probes]
        return pickle.dumps(entries, protocol=5) if entries else b""


def shared_probes(plan: RunPlan) -> dict[str, tuple]:
    """Video path -> (cache key, VideoInfo) for every video that more than one chunk uses, probed
    once here on the driver (threads: the demux pass reads packets, no decoding). Decode tasks
    run in several worker processes, each with its own probe cache, so without this a THUMOS
    video's windows, spread over chunks, were probed once per worker that got one of them. A
    video the driver cannot probe is left out: its decode task meets the same error itself."""
    from concurrent.futures import ThreadPoolExecutor

    from ...video.probe import cached_entry

    paths = [p for p in shared_videos(plan) if not os.path.isdir(p)]

    def one(path: str) -> tuple | None:
        try:
            return cached_entry(path)
        except Exception:   # SkipRecord, OSError, an odd file: its decode task reports it
            return None

    with ThreadPoolExecutor(max_workers=max(plan.cfg.decode_workers, 1)) as pool:
        found = dict(zip(paths, pool.map(one, paths)))
    return {p: e for p, e in found.items() if e is not None}


def _uses_frames(cfg: GenerationConfig, backend: Any) -> bool:
    """Whether decode tasks must decode (known from the backend class: no model load here)."""
    if backend is not None:
        return bool(getattr(backend, "uses_frames", True))
    from ...registry import BACKENDS

    return bool(getattr(BACKENDS.get(cfg.backend), "uses_frames", True))


def _backend_blob(backend: Any) -> bytes | None:
    """A backend object given by the caller is shipped to the actors; it must pickle."""
    if backend is None:
        return None
    try:
        return ray.cloudpickle.dumps(backend)
    except Exception as exc:
        raise ConfigError(f"the Ray engine ships the backend object to its actors, but it does not pickle "
                          f"({type(exc).__name__}: {exc}); pass backend=None to build it from the config") from exc


def _connect(address: str | None) -> bool:
    """Join a running Ray (already initialised, `address`, RAY_ADDRESS, or a `ray start` cluster
    on this machine), else start a local one. True when this call started it."""
    if ray.is_initialized():
        return False
    if address is None and not os.environ.get("RAY_ADDRESS"):
        ray.init(include_dashboard=False, configure_logging=False)
    else:
        ray.init(address=address, configure_logging=False)
    return True
