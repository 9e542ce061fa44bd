"""The Ray driver builds a chunk's payload (its pickled samples) when the chunk is submitted, not
all of them up front: at a million samples the pickles alone would hold about 1.7 GB."""
from __future__ import annotations

import pickle
from types import SimpleNamespace

import pytest

pytest.importorskip("ray")

from vstar_data.generation.engines.ray import ChunkPayloads  # noqa: E402


class CountingSamples:
    """A samples sequence that records which indices were read."""

    def __init__(self, n: int) -> None:
        self.n, self.read = n, []

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        self.read.append(i)
        return SimpleNamespace(sample=SimpleNamespace(id=f"s{i}", video=f"v{i % 3}.mp4"))


def test_payloads_are_built_per_chunk_when_asked():
    samples = CountingSamples(10)
    prepared = SimpleNamespace(samples=samples)
    todo = [(0, [0, 1, 2, 3]), (1, [4, 5, 6, 7]), (2, [8, 9])]
    probes = {"videos/v1.mp4": ("key", "info")}
    payloads = ChunkPayloads(prepared, todo, SimpleNamespace(videos="videos"), probes)
    assert samples.read == [] and sorted(payloads) == [0, 1, 2] and len(payloads) == 3
    one = payloads[1]
    assert set(samples.read) == {4, 5, 6, 7}
    assert one["chunk"] == 1 and [s.sample.id for s in pickle.loads(one["samples"])] == ["s4", "s5", "s6", "s7"]
    assert pickle.loads(one["probes"]) == [("key", "info")]      # v1.mp4 (sample 4 and 7) is shared
    assert payloads[2]["probes"] == b""                           # v2.mp4, v0.mp4: no shared probe
