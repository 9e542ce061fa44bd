"""Tiny-model factory: every architecture builds offline, is small, deterministic, loads like a
checkpoint and runs end to end through the transformers backend on CPU."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from vstar_data.backends.base import Request
from vstar_data.backends.transformers import TransformersBackend
from vstar_data.backends.tiny import TINY_ARCHS, build_tiny_model
from vstar_data.errors import ConfigError
from vstar_data.testing.backends import make_frames

EXPECTED = {"config.json", "model.safetensors", "generation_config.json", "processor_config.json",
            "tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "tiny_model.json"}


def test_all_required_families_are_offered() -> None:
    assert set(TINY_ARCHS) == {"qwen2_vl", "qwen2_5_vl", "qwen3_vl", "llava_next_video", "llava_onevision",
                               "video_llava"}


@pytest.mark.slow
@pytest.mark.parametrize("arch", TINY_ARCHS)
def test_arch_builds_small_and_runs_end_to_end(tiny_model: Callable[[str], Path], arch: str) -> None:
    from transformers import AutoConfig, AutoProcessor

    path = tiny_model(arch)
    files = {p.name for p in path.iterdir()}
    assert EXPECTED <= files
    size = sum(p.stat().st_size for p in path.iterdir())
    assert size < 2 * 2**20, f"{arch}: {size} bytes"
    assert AutoConfig.from_pretrained(path).model_type == arch
    processor = AutoProcessor.from_pretrained(path)
    assert processor.video_processor is not None and processor.chat_template
    assert json.loads((path / "tiny_model.json").read_text())["arch"] == arch

    backend = TransformersBackend(model=str(path), max_new_tokens=6, batch_size=4)
    backend.load()
    reqs = [Request(frames=make_frames(n, h, w, seed=n), prompt="What is happening in this video?",
                    sample_id=f"{arch}-{n}-{h}")
            for n, h, w in [(2, 32, 32), (8, 64, 64), (4, 48, 64), (8, 32, 32)]]
    answers = backend.generate(reqs)
    assert all(isinstance(a, str) and a.strip() for a in answers), answers
    assert backend.model_name == arch and backend.model_revision


def test_same_seed_same_bytes_other_seed_other_weights(tmp_path: Path) -> None:
    a = build_tiny_model("qwen2_vl", tmp_path / "a", seed=0)
    b = build_tiny_model("qwen2_vl", tmp_path / "b", seed=0)
    c = build_tiny_model("qwen2_vl", tmp_path / "c", seed=1)
    for name in ("model.safetensors", "tokenizer.json", "config.json", "processor_config.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "model.safetensors").read_bytes() != (c / "model.safetensors").read_bytes()


def test_building_does_not_touch_the_global_rng(tmp_path: Path) -> None:
    import torch

    state = torch.random.get_rng_state()
    build_tiny_model("video_llava", tmp_path / "m", seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_tokenizer_is_trained_locally_and_keeps_control_tokens_whole(tiny_model: Callable[[str], Path]) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model("qwen2_vl"))
    text = "What is happening in this video? playing guitar, 12.4 s"
    assert tok.decode(tok(text).input_ids) == text
    ids = tok("<|vision_start|><|video_pad|><|vision_end|>").input_ids
    assert tok.convert_ids_to_tokens(ids) == ["<|vision_start|>", "<|video_pad|>", "<|vision_end|>"]
    assert len(tok) < 1000


def test_unknown_arch_and_foreign_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="qwen2_vl"):
        build_tiny_model("qwen9_vl", tmp_path / "x")
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="not empty"):
        build_tiny_model("qwen2_vl", foreign)
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_rebuilding_replaces_an_earlier_tiny_model(tmp_path: Path) -> None:
    out = build_tiny_model("qwen2_vl", tmp_path / "m")
    (out / "stale.bin").write_bytes(b"left over")
    build_tiny_model("llava_onevision", out)
    fresh = build_tiny_model("llava_onevision", tmp_path / "fresh")
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in fresh.iterdir())
    assert json.loads((out / "config.json").read_text())["model_type"] == "llava_onevision"


def test_cli_tiny_model(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    import vstar_data.cli.models  # noqa: F401  (registers the command until cli/__init__ imports it)
    from vstar_data.cli import app

    result = CliRunner().invoke(app, ["tiny-model", "--arch", "qwen2_5_vl", "--out", str(tmp_path / "t"),
                                      "--seed", "2"])
    assert result.exit_code == 0, result.output
    assert "qwen2_5_vl" in result.output and "MB" in result.output
    assert json.loads((tmp_path / "t" / "tiny_model.json").read_text()) == {
        "arch": "qwen2_5_vl", "seed": 2, "made_by": "vstar_data.backends.tiny"}
    bad = CliRunner().invoke(app, ["tiny-model", "--arch", "nope", "--out", str(tmp_path / "u")])
    assert bad.exit_code != 0
