"""The Ray engine's driver-side scheduler: chunks onto model actors, surviving lost workers and nodes.

Ray Data's pipeline hung when a node was removed mid-run (and again on the surviving node), so
the driver schedules by itself with Ray core: each model actor has at most `DEPTH` chunks in
flight, each one an actor call whose argument is that chunk's decode task (no retries of its
own: the driver decides). A call that fails because Ray lost something puts its chunk back at
the head of the queue; a dead actor is replaced; a chunk is yielded once whatever was retried.
"""
from __future__ import annotations

import logging
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

import ray

from ...errors import SetupError
from ..pipeline import GenerationConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PoolPlan:
    """How the model stage is placed: `size` actors, each holding `num_gpus` GPUs and `num_cpus` CPUs."""

    size: int
    num_gpus: float
    num_cpus: float


def plan_pool(cluster_gpus: float, cfg: GenerationConfig, num_actors: int | None = None,
              actor_cpus: float = 1.0) -> PoolPlan:
    """One actor per GPU when the cluster has GPUs and the backend runs a model; otherwise
    `num_actors` CPU actors (default 1). The template backend never holds a GPU."""
    wants_gpu = cluster_gpus >= 1 and cfg.backend != "template" and (cfg.device or "cuda").startswith("cuda")
    if wants_gpu:
        return PoolPlan(size=num_actors or int(cluster_gpus), num_gpus=1.0, num_cpus=actor_cpus)
    return PoolPlan(size=max(num_actors or 1, 1), num_gpus=0.0, num_cpus=actor_cpus)


# What Ray raises when it lost the process, node or object a chunk's call needed (not a bug in
# the call itself, which comes back as RayTaskError): the chunk is done again elsewhere.
LOST = (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
        ray.exceptions.ObjectLostError, ray.exceptions.TaskCancelledError, ray.exceptions.OwnerDiedError,
        ray.exceptions.LocalRayletDiedError, ray.exceptions.ObjectFetchTimedOutError,
        ray.exceptions.TaskUnschedulableError, ray.exceptions.ActorUnschedulableError)
DEPTH = 2          # chunks in flight per actor: one in the model while the next one decodes
POLL_S = 1.0       # how often the driver looks at the cluster when nothing finishes


class ChunkScheduler:
    """The driver's scheduler: hands each chunk to a live model actor (its decode task as the
    call's argument), notices lost actors, workers and nodes through the failed calls, and
    requeues their chunks; yields each chunk's result once, whatever was retried.

    `rows`: chunk id -> the decode task's input. `actor`: the model actor class (`ready()`,
    `process(decoded)`), built with `actor_args`; `decode(row, **decode_args)`: the decode task.

    `faults` counts what was survived: `chunks_retried`, `actors_lost`, `actors_replaced`,
    `duplicates_dropped`, `decode_unreserved` (decode tasks sent without a CPU reservation)."""

    def __init__(self, rows: Mapping[int, dict[str, Any]], pool: PoolPlan, *, actor: type, actor_args: tuple,
                 decode: Callable[..., dict[str, Any]], decode_args: dict[str, Any], decode_cpus: float,
                 decode_memory: int,
                 max_chunk_tries: int = 4, start_timeout: float = 600.0) -> None:
        self.rows = rows
        self.pool = pool
        self.actor_cls = ray.remote(actor).options(num_cpus=pool.num_cpus, num_gpus=pool.num_gpus or None,
                                                        max_restarts=0, max_task_retries=0)
        self.actor_args = [ray.put(a) for a in actor_args]   # on the driver's node: outlives worker nodes
        self.decode = ray.remote(decode)
        self.decode_memory = decode_memory
        self.decode_args = decode_args
        self.decode_cpus = decode_cpus
        self.max_chunk_tries = max_chunk_tries
        self.start_timeout = start_timeout
        self.faults: Counter = Counter(chunks_retried=0, actors_lost=0, actors_replaced=0, duplicates_dropped=0,
                                       decode_unreserved=0)
        self.last_loss: BaseException | None = None

    def decode_reservation(self) -> float:
        """CPUs a decode task reserves now: `decode_cpus` while the live cluster has that many
        beside the model actors, else none (decoding then shares the actors' CPUs; waiting for a
        CPU that a lost node took along would hang the run)."""
        spare = ray.cluster_resources().get("CPU", 0.0) - self.pool.size * self.pool.num_cpus
        return self.decode_cpus if spare >= self.decode_cpus else 0.0

    def run(self) -> Iterator[dict[str, Any]]:
        queue = deque(sorted(self.rows))
        tries = dict.fromkeys(self.rows, 0)
        done: set[int] = set()
        ready: dict[Any, int] = {}              # live actor -> chunks in flight on it
        starting: dict[Any, Any] = {}           # ready() ref -> actor not yet placed
        inflight: dict[Any, tuple[int, Any, Any, float]] = {}   # call ref -> (chunk, actor, decode ref, cpus)
        sent: dict[Any, list[int]] = {}         # actor -> its unfinished chunks, in the order it runs them
        died_on: dict[Any, int] = {}            # dead actor -> the chunk it was running
        recalled: set[Any] = set()              # decode refs this scheduler cancelled itself
        reserve = self.decode_reservation()
        waited_since = time.monotonic()
        started = 0
        try:
            while len(done) < len(self.rows):
                while len(ready) + len(starting) < self.pool.size:
                    if self.faults["actors_replaced"] >= self.pool.size * self.max_chunk_tries:
                        raise SetupError(f"the Ray engine's model actors kept dying ({self.faults['actors_lost']} "
                                         f"lost; last: {_first_line(self.last_loss)}); finished "
                                         "chunks are on disk, re-run the same command to resume")
                    actor = self.actor_cls.remote(*self.actor_args)
                    starting[actor.ready.remote()] = actor
                    started += 1
                    self.faults["actors_replaced"] = max(started - self.pool.size, 0)
                for actor in sorted(ready, key=ready.get):   # least loaded first
                    while queue and ready[actor] < DEPTH:
                        k = queue.popleft()
                        tries[k] += 1
                        dref = self.decode.options(num_cpus=reserve, memory=self.decode_memory,
                                                   max_retries=0).remote(self.rows[k], **self.decode_args)
                        self.faults["decode_unreserved"] += reserve == 0 and self.decode_cpus > 0
                        inflight[actor.process.remote(dref)] = (k, actor, dref, reserve)
                        sent.setdefault(actor, []).append(k)
                        ready[actor] += 1
                finished, _ = ray.wait(list(inflight) + list(starting), num_returns=1, timeout=POLL_S)
                if not finished:
                    if not ready and time.monotonic() - waited_since > self.start_timeout:
                        raise SetupError(f"no model actor could be placed on the Ray cluster in "
                                         f"{self.start_timeout:g} s: each needs {self.pool.num_cpus:g} CPU and "
                                         f"{self.pool.num_gpus:g} GPU, the live cluster has "
                                         f"{ray.cluster_resources()}")
                    # The cluster shrank (a node lost): decode tasks still waiting for a CPU it no longer
                    # has are cancelled; their calls fail as cancelled, and the chunks go again.
                    reserve = self.decode_reservation()
                    for k, actor, dref, cpus in inflight.values():
                        if cpus > reserve and not ray.wait([dref], timeout=0)[0]:
                            recalled.add(dref)
                            _quietly(ray.cancel, dref)
                    continue
                ref = finished[0]
                if ref in starting:
                    actor = starting.pop(ref)
                    try:
                        ray.get(ref)
                        ready[actor] = 0
                        waited_since = time.monotonic()
                    except LOST as exc:
                        self.faults["actors_lost"] += 1
                        self.last_loss = exc
                    continue
                k, actor, dref, _ = inflight.pop(ref)
                if actor in ready:
                    ready[actor] -= 1
                try:
                    result = ray.get(ref)
                except LOST as exc:
                    self.last_loss = exc
                    if isinstance(exc, ray.exceptions.RayActorError):
                        # Only the chunk the actor was running counts as a try: the ones queued behind
                        # it were lost with it, not because of themselves.
                        queued = sent.get(actor, [])
                        running = died_on.setdefault(actor, queued[0] if queued else k)
                        tries[k] -= k != running
                    elif dref in recalled:   # cancelled here to go again unreserved: not a loss
                        tries[k] -= 1
                    if k in sent.get(actor, []):
                        sent[actor].remove(k)
                    if isinstance(exc, ray.exceptions.RayActorError) and actor in ready:
                        del ready[actor]
                        _quietly(ray.kill, actor)   # gone, or unreachable: either way its GPU is freed
                        self.faults["actors_lost"] += 1
                        if not ready:
                            waited_since = time.monotonic()
                    if k in done:
                        continue
                    if tries[k] >= self.max_chunk_tries:
                        raise SetupError(f"chunk {k} was lost {tries[k]} times with the Ray workers or nodes "
                                         f"running it (last: {_first_line(exc)}); finished chunks are "
                                         "on disk, re-run the same command to resume") from None
                    log.warning("ray: chunk %d lost (%s); running it again", k, type(exc).__name__)
                    self.faults["chunks_retried"] += 1
                    queue.appendleft(k)
                    reserve = self.decode_reservation()
                    continue
                sent[actor].remove(k)
                if k in done:
                    self.faults["duplicates_dropped"] += 1
                    continue
                done.add(k)
                yield result
        finally:   # a stop (error, Ctrl-C, the caller closing us) leaves nothing running on the cluster
            for ref in inflight:
                _quietly(ray.cancel, ref)
            for actor in list(ready) + list(starting.values()):
                _quietly(ray.kill, actor)


def _first_line(exc: BaseException | None) -> str:
    """`ActorDiedError: The actor died unexpectedly ...`: Ray's messages run to a dozen lines."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _quietly(call: Any, arg: Any) -> None:
    """Clean-up of a stopping run: an actor or task that is already gone is not an error."""
    try:
        call(arg)
    except Exception as exc:   # the cluster itself may be gone
        log.debug("ray clean-up: %s", exc)
