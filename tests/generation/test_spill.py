"""Planning streams the samples: `prepare` spills them to disk in blocks as the adapter yields them,
so a run's memory is O(block), not O(N) (issue 25: 1M samples held ~2 GB before the first clip)."""
from __future__ import annotations

import gc
import hashlib
import json
import pickle
from pathlib import Path

import pytest

from vstar_data.generation import pipeline, spill
from vstar_data.generation.engines.local import LocalEngine
from vstar_data.generation.pipeline import GenerationConfig, prepare
from vstar_data.generation.resume import plan_key
from vstar_data.generation.spill import SpilledSamples
from vstar_data.sources.prompts import PromptedSample


class Item:
    """A sample stand-in that counts how many of its kind are alive."""

    alive = 0

    def __init__(self, i: int) -> None:
        self.i = i
        Item.alive += 1

    def __del__(self) -> None:
        Item.alive -= 1

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Item, (self.i,))


def test_extend_consumes_lazily_and_keeps_a_block_in_memory() -> None:
    Item.alive = 0
    seen = []

    def items():  # records how far the consumer had got when each item was made
        for i in range(1000):
            seen.append(Item.alive)
            yield Item(i)

    s = SpilledSamples(items(), block=50, cached=2)
    assert len(s) == 1000
    assert max(seen) <= 50          # never more than the block being filled was alive
    assert Item.alive <= 50         # after filling: only the unwritten tail (here none)
    # indexing, slicing and iterating give the items back in order, loading blocks on demand
    assert [s[i].i for i in (0, 49, 50, 999, -1)] == [0, 49, 50, 999, 999]
    assert [x.i for x in s[95:105]] == list(range(95, 105))
    assert [x.i for x in s] == list(range(1000))
    assert Item.alive <= 2 * 50 + 50   # cached blocks (+ the one being iterated)
    with pytest.raises(IndexError):
        s[1000]
    with pytest.raises(TypeError):
        pickle.dumps(s)


def test_sequential_chunks_read_each_block_once() -> None:
    s = SpilledSamples(range(1000), block=100, cached=2)
    for start in range(0, 1000, 8):           # an engine: chunk n+1 submitted while chunk n runs
        nxt = range(start + 8, min(start + 16, 1000))
        [s[i] for i in nxt]
        assert [s[i] for i in range(start, min(start + 8, 1000))] == list(range(start, min(start + 8, 1000)))
    assert s.blocks_read == 10


def _csv(tmp_path: Path, n: int) -> Path:
    lines = ["label,youtube_id,time_start,time_end,split"]
    lines += [f"yoga,v{i:05d},0,10,train" for i in range(n)]
    path = tmp_path / "clips.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_prepare_holds_one_block_of_prompted_samples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spill, "BLOCK", 64)
    monkeypatch.setattr(spill, "CACHED", 2)
    cfg = GenerationConfig(adapter="kinetics700", annotations=str(_csv(tmp_path, 2000)), progress=False)
    prepared = prepare(cfg)
    gc.collect()
    alive = sum(type(o) is PromptedSample for o in gc.get_objects())
    assert len(prepared.samples) == 2000
    assert alive <= 64 * 3, alive                      # O(block): not the 2,000 samples
    ids = [ps.sample.id for ps in prepared.samples]
    assert ids == [f"v{i:05d}_000000_000010" for i in range(2000)]


def test_plan_key_is_the_key_of_the_whole_text() -> None:
    model = {"backend": "template", "model": None, "files": [["w.bin", 3, 7]]}
    for ids, digests in (([], []), (["a", 'b"é'], ["d1", "d2"])):
        whole = json.dumps({"model": model, "chunk_size": 8, "samples": list(zip(ids, digests))}, sort_keys=True)
        assert plan_key(model, 8, ids, digests) == hashlib.sha256(whole.encode()).hexdigest()[:20]
    assert plan_key(model, 8, ["a"], ["d1"]) != plan_key(model, 8, ["a"], ["d2"])


def test_spilled_run_writes_the_rows_of_an_in_memory_run(tmp_path: Path, videos_dir: Path,
                                                        kinetics_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same ids, rows and plan whether the samples are a list or spilled in blocks smaller than a chunk."""
    cfg = dict(adapter="kinetics700", annotations=str(kinetics_dir / "local_clips.csv"), videos=str(videos_dir),
               backend="template", progress=False, chunk_size=3, batch_size=3)
    real = pipeline.prepare

    def in_memory(c: GenerationConfig):  # type: ignore[no-untyped-def]
        p = real(c)
        p.samples = list(p.samples)
        return p

    monkeypatch.setattr(spill, "BLOCK", 2)
    monkeypatch.setattr(spill, "CACHED", 1)
    LocalEngine().run(GenerationConfig(**cfg), tmp_path / "blocks-of-2")
    monkeypatch.setattr("vstar_data.generation.engines.base.prepare", in_memory)
    LocalEngine().run(GenerationConfig(**cfg), tmp_path / "list")

    def rows(out: Path) -> list[dict]:
        got = []
        for p in sorted((out / "attempts").glob("*.jsonl")):
            for line in p.read_text().splitlines():
                r = json.loads(line)
                r.pop("timing")
                got.append(r)
        return got

    want = rows(tmp_path / "list")
    assert len(want) >= 6 and want == rows(tmp_path / "blocks-of-2")
    plans = [json.loads((tmp_path / d / "plan.json").read_text()) for d in ("list", "blocks-of-2")]
    assert plans[0]["key"] == plans[1]["key"] and plans[0]["chunks"] == plans[1]["chunks"]
