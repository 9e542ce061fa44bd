"""The plugin's own tests: vstar-data's conformance suites, run against the installed plugin."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vstar_data import BACKENDS, LABEL_TYPES, Frames, Request
from vstar_data.testing.adapters import AdapterContract
from vstar_data.testing.backends import BackendContract
from vstar_data.testing.labels import LabelTypeContract
from vstar_example_plugin import TEMPLATES, HexColourLabel

SPEC = {"type": "hex_colour", "name": "colour", "value": "#ff8000"}


class TestColourClipsContract(AdapterContract):
    adapter = "colour_clips"

    @pytest.fixture
    def annotations(self, tmp_path: Path) -> Path:
        path = tmp_path / "clips.jsonl"
        path.write_text('{"video": "a.mp4", "colour": "#FF0000", "split": "train"}\n'
                        '{"video": "b.mp4", "colour": "#00ff00", "split": "val"}\n'
                        '{"video": "c.mp4", "colour": "red"}\n'
                        '{"video": "d.mp4", "colour": "#0000ff", "split": "train"}\n', "utf-8")
        return path

    @pytest.fixture
    def templates(self) -> list[Path]:
        return [TEMPLATES]


class TestHexColourContract(LabelTypeContract):
    label_type_cls = HexColourLabel
    spec = SPEC
    passing = [(SPEC, "The clip is mostly #ff8000."), (SPEC, "Dominant colour: #FA7B05.")]
    failing = [(SPEC, "The clip is orange."), (SPEC, "It is #0000ff."), (SPEC, "Either #ff8000 or #00ff00.")]


class TestMeanColourContract(BackendContract):
    backend = "mean_colour"


def test_registered_through_entry_points() -> None:
    assert LABEL_TYPES.get("hex_colour") is HexColourLabel
    assert BACKENDS.get("mean_colour").__name__ == "MeanColourBackend"


def test_backend_answer_depends_on_the_frames() -> None:
    backend = BACKENDS.get("mean_colour")()
    backend.load()
    red = np.zeros((4, 8, 8, 3), np.uint8)
    red[..., 0] = 255
    blue = np.zeros((4, 8, 8, 3), np.uint8)
    blue[..., 2] = 200

    def req(arr: np.ndarray) -> Request:
        frames = Frames(array=arr, indices=list(range(4)), timestamps=[0.0, 0.1, 0.2, 0.3], fps=10.0,
                        duration=0.4, total_frames=4, source="synthetic")
        return Request(frames=frames, prompt="Which colour?", sample_id="s", labels=[SPEC], task="dominant_colour")

    answers = backend.generate([req(red), req(blue)])
    assert answers == ["The dominant colour is #ff0000.", "The dominant colour is #0000c8."]
