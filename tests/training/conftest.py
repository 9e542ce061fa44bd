"""Fixtures for the trainer tests: tiny clips written with PyAV, LLaVA-export rows, tiny models."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

ANSWERS = ["The person is playing guitar.", "Someone is doing yoga on a mat."]
QUESTION = "What is happening in this video?"


def write_clip(path: Path, *, seed: int, n_frames: int = 12, size: tuple[int, int] = (64, 48),
               fps: int = 12) -> Path:
    """A small h264 clip of random-coloured frames (content differs per seed)."""
    import av

    rng = np.random.default_rng(seed)
    w, h = size
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.codec_context.options = {"preset": "ultrafast"}
        base = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
        for i in range(n_frames):
            img = np.roll(base, 3 * i, axis=1)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def llava_rows(n: int, answers: list[str] = ANSWERS) -> list[dict]:
    return [{"id": f"s{i}", "video": f"clips/c{i % len(answers)}.mp4",
             "conversations": [{"from": "human", "value": f"<video>\n{QUESTION}"},
                               {"from": "gpt", "value": answers[i % len(answers)]}]}
            for i in range(n)]


@pytest.fixture(scope="session")
def clip_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("videos")
    (root / "clips").mkdir()
    for i in range(len(ANSWERS)):
        write_clip(root / "clips" / f"c{i}.mp4", seed=i)
    return root


@pytest.fixture
def llava_json(tmp_path: Path, clip_root: Path):
    def make(n: int = 4, answers: list[str] = ANSWERS) -> Path:
        path = tmp_path / f"train-{n}.json"
        path.write_text(json.dumps(llava_rows(n, answers)), "utf-8")
        return path
    return make


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory):
    """build_tiny_model(arch) cached per session: a folder with weights, tokenizer and processor."""
    from vstar_data.backends.tiny import build_tiny_model

    cache: dict[str, Path] = {}

    def get(arch: str = "qwen2_vl") -> Path:
        if arch not in cache:
            cache[arch] = build_tiny_model(arch, tmp_path_factory.mktemp(f"tiny-{arch}"), seed=0)
        return cache[arch]
    return get
