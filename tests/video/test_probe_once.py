"""A video's container check (the demux pass) runs once per run: counters, concurrent callers,
pins beyond the LRU bound, probes primed from another process, and both engines on
THUMOS-shaped data (a video's windows interleaved across chunks)."""
from __future__ import annotations

import pickle
import threading
from pathlib import Path

import pytest

from video_factory import make_clip
from vstar_data.generation.engines.base import RunPlan, shared_videos
from vstar_data.generation.engines.local import LocalEngine
from vstar_data.generation.pipeline import GenerationConfig
from vstar_data.video import probe as probe_mod


@pytest.fixture
def cold(monkeypatch):
    probe_mod.clear_cache()
    probe_mod.reset_probe_stats()
    yield monkeypatch
    probe_mod.clear_cache()


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("clips")
    return [make_clip(folder / f"video_{i}.mp4", n_frames=48, fps=24, width=64, height=48) for i in range(4)]


def test_concurrent_callers_share_one_demux_pass(cold, clips):
    barrier = threading.Barrier(6)

    def call() -> None:
        barrier.wait()
        probe_mod.probe(clips[0])

    threads = [threading.Thread(target=call) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    st = probe_mod.probe_stats()
    assert (st["misses"], st["hits"]) == (1, 5)


def test_pinned_videos_outlive_the_lru_bound(cold, clips):
    cold.setattr(probe_mod, "_CACHE_SIZE", 1)
    probe_mod.pin([clips[0]])
    for clip in clips:
        probe_mod.probe(clip)
    probe_mod.probe(clips[0])              # kept: pinned
    probe_mod.probe(clips[1])              # evicted by the LRU bound of 1
    assert probe_mod.probe_stats()["misses"] == len(clips) + 1
    probe_mod.unpin([clips[0]])
    assert probe_mod.probe_stats()["pinned"] == 0 and probe_mod.probe_stats()["cached"] == 1


def test_primed_entries_hit_only_the_same_file(cold, clips, tmp_path):
    entry = probe_mod.cached_entry(clips[1])
    probe_mod.clear_cache()
    probe_mod.reset_probe_stats()
    probe_mod.prime([pickle.loads(pickle.dumps(entry))])
    assert probe_mod.probe(clips[1]).pts == entry[1].pts
    assert probe_mod.probe_stats()["misses"] == 0
    key, info = entry
    probe_mod.clear_cache()
    probe_mod.prime([((key[0], key[1] + 1, key[2]), info)])   # another size: another file
    probe_mod.probe(clips[1])
    assert probe_mod.probe_stats()["misses"] == 1


def _interleaved_thumos(tmp_path: Path, clips: list[Path], segments: int = 3) -> Path:
    """One CSV per segment index listing every video: a video's windows land in different chunks."""
    adir = tmp_path / "ann"
    adir.mkdir()
    for j in range(segments):
        lines = "".join(f"{c.stem},CliffDiving,1,{0.5 * j:.1f},{0.5 * j + 0.4:.1f},0,1\n" for c in clips)
        (adir / f"val_part{j}.csv").write_text("video,type,type_idx,start,end,startFrame,endFrame\n" + lines)
    return adir


def _cfg(adir: Path, vdir: Path) -> GenerationConfig:
    return GenerationConfig(adapter="tal", annotations=str(adir), videos=str(vdir), backend="template",
                            adapter_options={"tasks": "classification"}, chunk_size=2, batch_size=2,
                            progress=False)


def test_local_engine_probes_each_interleaved_video_once(cold, clips, tmp_path):
    cold.setattr(probe_mod, "_CACHE_SIZE", 1)   # fewer entries than videos: the LRU alone re-probes
    adir = _interleaved_thumos(tmp_path, clips)
    summary = LocalEngine().run(_cfg(adir, clips[0].parent), tmp_path / "out")
    assert summary.generated == len(clips) * 3
    st = probe_mod.probe_stats()
    assert st["misses"] == len(clips) and st["pinned"] == 0


def test_ray_decode_tasks_use_the_drivers_probes(cold, clips, tmp_path):
    pytest.importorskip("ray")
    from vstar_data.generation.engines import ray as ray_mod

    cfg = _cfg(_interleaved_thumos(tmp_path, clips), clips[0].parent)
    plan = LocalEngine().plan(cfg, tmp_path / "out")
    assert set(shared_videos(plan)) == {str(clips[0].parent / c.name) for c in clips}
    probes = ray_mod.shared_probes(plan)
    assert probe_mod.probe_stats()["misses"] == len(clips)
    probe_mod.clear_cache()                      # a decode worker: a process of its own
    probe_mod.reset_probe_stats()
    for k, members in plan.todo:
        videos = dict.fromkeys(str(Path(cfg.videos) / plan.prepared.samples[i].sample.video) for i in members)
        row = {"chunk": k, "samples": pickle.dumps([plan.prepared.samples[i] for i in members]),
               "probes": pickle.dumps([probes[v] for v in videos])}
        items = pickle.loads(ray_mod._decode_chunk(row, cfg, False)["items"])
        assert all(not isinstance(r, Exception) for _, r in items)
        probe_mod.clear_cache()                  # every chunk in yet another worker
    assert probe_mod.probe_stats()["misses"] == 0
