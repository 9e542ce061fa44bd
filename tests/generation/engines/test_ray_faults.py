"""The Ray engine on a 2-node cluster (a head and a second node, `ray.cluster_utils.Cluster`, on
this machine): a killed worker process and a lost node mid-run still give exactly the local
engine's ids and answers (no sample lost, none twice), and a re-run on the surviving node finishes.

Slow (a cluster start, ~8 s, and three Ray runs): one cluster serves the whole module; the
worker-kill test runs first, the node-kill test last (it removes the second node)."""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from video_factory import kinetics_clip_set  # noqa: E402
from vstar_data.backends.template import TemplateBackend  # noqa: E402
from vstar_data.generation.engines import make_engine  # noqa: E402
from vstar_data.generation.engines.local import LocalEngine  # noqa: E402
from vstar_data.generation.engines.ray import RayEngine  # noqa: E402
from vstar_data.generation.pipeline import GenerationConfig  # noqa: E402

pytestmark = pytest.mark.slow

CLIPS = [("arm wrestling", "arm_wrestling"), ("putting on eyeliner", "eye_makeup"), ("yoga", "yoga"),
         ("flipping pancake", "flipping_pancake"), ("hitting baseball", "hitting_baseball"),
         ("playing guitar", "playing_guitar")]
SAMPLES, CHUNK = 32, 2          # 16 chunks; 2 actors take ~0.25 s a chunk: the kill lands with ~12 to go


class SlowBackend(TemplateBackend):
    """The template backend's answers (they depend on each sample's label and question), a little
    slower, and each actor process leaves its pid in `pid_dir` so that a test can kill it."""

    pid_dir: str = ""
    delay: float = 0.25

    def generate(self, requests):
        Path(self.pid_dir, str(os.getpid())).touch()
        time.sleep(self.delay)
        return super().generate(requests)


@pytest.fixture(scope="module")
def cluster():
    """Head (1 CPU: the driver's node) + a second node (3 CPUs), with a fast node-death detector,
    shut down at the end whatever happened."""
    from ray import cloudpickle
    from ray.cluster_utils import Cluster

    env = pytest.MonkeyPatch()
    env.setenv("RAY_AUTH_MODE", "disabled")
    cloudpickle.register_pickle_by_value(sys.modules[__name__])   # workers cannot import this test file
    c = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "include_dashboard": False,
        "_system_config": {"health_check_period_ms": 500, "health_check_timeout_ms": 500,
                           "health_check_failure_threshold": 3}})
    try:
        second = c.add_node(num_cpus=3)
        ray.init(address=c.address, configure_logging=False)
        yield c, second
    finally:
        ray.shutdown()
        c.shutdown()
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
        env.undo()


@pytest.fixture(scope="module")
def inputs(videos_dir, tmp_path_factory):
    """32 one-second windows over six fixture clips, and the local engine's rows for them."""
    base = tmp_path_factory.mktemp("faults")
    rows = [(label, stem, i // len(CLIPS), i // len(CLIPS) + 1) for i, (label, stem) in
            ((i, CLIPS[i % len(CLIPS)]) for i in range(SAMPLES))]
    csv, vdir = kinetics_clip_set(base, videos_dir, rows)
    cfg = lambda: GenerationConfig(adapter="kinetics700", annotations=str(csv), videos=str(vdir),  # noqa: E731
                                   progress=False, chunk_size=CHUNK, batch_size=CHUNK)
    LocalEngine().run(cfg(), base / "local", backend=_backend(base / "pids-local", delay=0.0))
    local = _answers(base / "local")
    assert len(local) == SAMPLES and len(set(a for _, a in local)) > len(CLIPS)   # answers differ per sample
    return base, cfg, local


def _backend(pid_dir: Path, delay: float = 0.25) -> SlowBackend:
    pid_dir.mkdir(parents=True, exist_ok=True)
    backend = SlowBackend(templates=None)
    backend.pid_dir, backend.delay = str(pid_dir), delay
    backend.load()
    return backend


def _answers(out: Path) -> list[tuple[str, str]]:
    """(id, answer) of every attempt row in chunk order: a lost or doubled sample shows."""
    return [(r["id"], r["answer"]) for p in sorted((out / "attempts").glob("chunk-*.jsonl"))
            for r in map(json.loads, p.read_text().splitlines())]


def _when_chunks_done(out: Path, n: int, action) -> threading.Thread:
    """Run `action` (once) as soon as `n` chunk files are written under `out`: mid-run."""
    def watch() -> None:
        deadline = time.monotonic() + 120
        while len(list((out / "attempts").glob("chunk-*.jsonl"))) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        action()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_a_worker_process_killed_mid_run_loses_and_doubles_nothing(cluster, inputs):
    base, cfg, local = inputs
    out, pids = base / "worker-kill", base / "pids-worker-kill"
    killed: list[int] = []

    def kill_an_actor() -> None:
        pid = int(sorted(pids.iterdir(), key=lambda p: p.stat().st_mtime)[-1].name)   # busy right now
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    watcher = _when_chunks_done(out, 2, kill_an_actor)
    summary = RayEngine(num_actors=2).run(cfg(), out, backend=_backend(pids))
    watcher.join(5)
    assert killed and len(list((out / "attempts").glob("chunk-*.jsonl"))) == SAMPLES // CHUNK
    assert _answers(out) == local
    assert summary.engine_events["actors_lost"] >= 1 and summary.engine_events["chunks_retried"] >= 1
    assert summary.generated + summary.rationalized + summary.rejected == SAMPLES
    assert json.loads((out / "summary-00000.json").read_text())["engine_events"] == dict(summary.engine_events)


class CrashingBackend(SlowBackend):
    """Kills its own process on one sample: that chunk is lost with every actor that tries it."""

    crash_on: str = ""

    def generate(self, requests):
        if any(r.sample_id == self.crash_on for r in requests):
            Path(self.pid_dir, str(os.getpid())).touch()
            os._exit(1)
        return super().generate(requests)


def test_a_chunk_lost_max_chunk_tries_times_stops_the_run_with_its_finished_chunks_on_disk(cluster, inputs):
    from vstar_data.errors import SetupError

    base, cfg, local = inputs
    out = base / "crash"
    backend = CrashingBackend(templates=None)
    # The crashing chunk is the first one, so it is always the oldest call on its actor: the
    # scheduler charges a dead actor's loss to its oldest call, and when Ray runs a later call
    # first (its decoded frames were ready sooner) a crash of that later chunk is charged to the
    # earlier one (a known flaw, in the closing note): with a later crashing chunk this test
    # failed 1 run in 4, stopping by "actors kept dying" instead.
    backend.pid_dir, backend.delay, backend.crash_on = str(base / "pids-crash"), 0.0, local[0][0]   # chunk 0
    Path(backend.pid_dir).mkdir()
    backend.load()
    with pytest.raises(SetupError, match=r"chunk 0 was lost 2 times .*re-run the same command") as info:
        RayEngine(num_actors=1, max_chunk_tries=2).run(cfg(), out, backend=backend)
    assert "ActorDiedError" in str(info.value)
    written = _answers(out)
    assert written == [row for row in local if row in written] and local[0] not in written
    assert len(list(Path(backend.pid_dir).iterdir())) == 2     # two actors tried chunk 0, no third


def test_no_room_for_a_model_actor_stops_after_start_timeout(cluster, inputs):
    from vstar_data.errors import SetupError

    base, cfg, _ = inputs
    t0 = time.monotonic()
    with pytest.raises(SetupError, match=r"no model actor could be placed on the Ray cluster in 2 s: each needs 64 CPU"):
        RayEngine(num_actors=1, actor_cpus=64, start_timeout=2).run(cfg(), base / "no-room",
                                                                   backend=_backend(base / "pids-no-room"))
    assert time.monotonic() - t0 < 30
    assert not list((base / "no-room").glob("attempts/*.jsonl"))


def test_a_node_lost_mid_run_then_a_rerun_on_the_surviving_node(cluster, inputs):
    c, second = cluster
    base, cfg, local = inputs
    out = base / "node-kill"
    watcher = _when_chunks_done(out, 2, lambda: c.remove_node(second, allow_graceful=False))
    summary = RayEngine(num_actors=2).run(cfg(), out, backend=_backend(base / "pids-node-kill"))
    watcher.join(5)
    alive = [n for n in ray.nodes() if n["Alive"]]
    assert len(alive) == 1 and alive[0]["NodeID"] == c.head_node.node_id
    assert _answers(out) == local
    # With 1 CPU on the head, at least one of the 2 actors was on the lost node, with chunks in flight.
    assert summary.engine_events["actors_lost"] >= 1 and summary.engine_events["chunks_retried"] >= 1

    # The same command again on the surviving node alone (1 CPU: the actor takes it, so decode tasks
    # run without a reservation), after losing 3 chunks' files, joining the cluster by its address.
    for k in (1, 7, 12):
        (out / "attempts" / f"chunk-{k:06d}.jsonl").unlink()
    ray.shutdown()
    again = make_engine({"name": "ray", "address": c.address, "num_actors": 2}).run(
        cfg(), out, backend=_backend(base / "pids-rerun"))
    assert not ray.is_initialized()          # the engine left the cluster it joined
    ray.init(address=c.address, configure_logging=False)
    assert again.chunks_done_before == SAMPLES // CHUNK - 3 and again.new + again.redone == 3 * CHUNK
    assert again.engine_events["decode_unreserved"] >= 3
    assert _answers(out) == local
