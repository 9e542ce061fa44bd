"""Tiny models keep their family's real vision geometry, so Qwen's own tooling (qwen_vl_utils, which
ms-swift and lmms-eval use: frames resized to multiples of patch x merge px before the processor
sees them) works on their rows; the shapes demo keeps the compact patch-8 geometry its world is
tuned to."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from vstar_data.backends.tiny import TINY_ARCHS, TinyOptions, build_tiny_model
from vstar_data.errors import ConfigError
from vstar_data.video.frames import sample_frames

# Qwen's tooling sizes frames in multiples of these (qwen_vl_utils: IMAGE_FACTOR 28 for
# Qwen2/2.5-VL, patch 16 x merge 2 for Qwen3-VL); a budget like ms-swift's MAX_PIXELS=12544.
TOOLING_FACTOR = {"qwen2_vl": 28, "qwen2_5_vl": 28, "qwen3_vl": 32}
TOOLING_PIXELS = (56 * 56, 12544)


@pytest.mark.parametrize("arch", TINY_ARCHS)
def test_vision_geometry_is_the_familys_default_and_the_processor_follows_it(
        tiny_model: Callable[[str], Path], arch: str) -> None:
    from transformers import AutoConfig, AutoProcessor

    path = tiny_model(arch)
    cfg = AutoConfig.from_pretrained(path)
    real = type(cfg)().vision_config          # transformers' defaults mirror the released models
    vision, proc = cfg.vision_config, AutoProcessor.from_pretrained(path)
    assert vision.patch_size == real.patch_size
    assert vision.hidden_size < real.hidden_size          # only the widths shrink
    if arch.startswith("qwen"):
        geometry = ("patch_size", "spatial_merge_size", "temporal_patch_size")
        assert [getattr(vision, k) for k in geometry] == [getattr(real, k) for k in geometry]
        for p in (proc.image_processor, proc.video_processor):
            assert (p.patch_size, p.merge_size, p.temporal_patch_size) == (
                vision.patch_size, vision.spatial_merge_size, vision.temporal_patch_size)
        if arch == "qwen2_5_vl":
            assert vision.window_size == real.window_size
    else:
        assert vision.image_size % vision.patch_size == 0
        if hasattr(proc, "patch_size"):
            assert proc.patch_size == vision.patch_size


@pytest.mark.parametrize("arch", ["qwen2_vl", "qwen2_5_vl", "qwen3_vl"])
@pytest.mark.parametrize("frame_size", [None, 32])
def test_frames_resized_by_qwen_tooling_keep_their_size_and_reach_the_model(
        tiny_model: Callable[[str], Path], videos_dir: Path, arch: str, frame_size: int | None) -> None:
    """Our sampler's frames, resized as qwen_vl_utils does, pass the tiny model's processor
    unchanged (its grid x patch is the tooling's size) and the model's answer depends on them."""
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize

    path = tiny_model(arch)
    frames = sample_frames(videos_dir / "yoga.mp4", 4, size=frame_size).array
    h, w = smart_resize(frames.shape[1], frames.shape[2], factor=TOOLING_FACTOR[arch],
                        min_pixels=TOOLING_PIXELS[0], max_pixels=TOOLING_PIXELS[1])
    video = torch.nn.functional.interpolate(torch.from_numpy(frames).permute(0, 3, 1, 2).float(),
                                            size=(h, w), mode="bilinear").round().clamp(0, 255).to(torch.uint8)
    proc = AutoProcessor.from_pretrained(path)
    patch = proc.video_processor.patch_size
    text = "<|vision_start|><|video_pad|><|vision_end|>What is happening?"
    inputs = proc(text=[text], videos=[video], return_tensors="pt")
    t, gh, gw = inputs["video_grid_thw"][0].tolist()
    assert (gh * patch, gw * patch) == (h, w), f"the processor resized {h}x{w} frames"
    assert t == 4 // proc.video_processor.temporal_patch_size
    model = AutoModelForImageTextToText.from_pretrained(path).eval()
    dark = proc(text=[text], videos=[torch.zeros_like(video)], return_tensors="pt")
    with torch.no_grad():
        seen = model(**inputs).logits[0, -1]
        other = model(**dark).logits[0, -1]
    assert not torch.allclose(seen, other), "the answer does not depend on the frames"


def test_compact_geometry_is_patch_8_and_would_resize_the_toolings_frames(tmp_path: Path) -> None:
    """The compact geometry (the shapes warm start's) is the patch-8 one, and it is what breaks Qwen's
    tooling: a 56x84 frame (multiples of 28) is not a multiple of its 16-px unit."""
    from transformers import AutoConfig, AutoProcessor

    path = build_tiny_model("qwen2_vl", tmp_path / "compact", options=TinyOptions(geometry="compact"))
    assert AutoConfig.from_pretrained(path).vision_config.patch_size == 8
    proc = AutoProcessor.from_pretrained(path)
    video = np.zeros((2, 56, 84, 3), np.uint8)
    t, gh, gw = proc.video_processor(videos=[video], return_tensors="pt")["video_grid_thw"][0].tolist()
    assert (gh * 8, gw * 8) != (56, 84)
    llava = build_tiny_model("video_llava", tmp_path / "llava", options=TinyOptions(geometry="compact"))
    assert AutoConfig.from_pretrained(llava).vision_config.patch_size == 8


def test_unknown_geometry_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="real, compact"):
        build_tiny_model("qwen2_vl", tmp_path / "x", options=TinyOptions(geometry="square"))
    assert not (tmp_path / "x").exists()
