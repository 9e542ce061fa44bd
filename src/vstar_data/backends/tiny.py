"""Tiny random-weight video VLMs, built locally, that load like any checkpoint.

`build_tiny_model(arch, out_dir)` writes a complete model folder (config, safetensors weights,
tokenizer, image/video processor, processor with a chat template) for one of the supported
families, under 2 MB and in about a second, with no download. Tests and benchmarks use them to
run the real transformers code path (AutoProcessor + AutoModelForImageTextToText + chat template
+ batched generate) on CPU. The weights are random: the text they produce is gibberish, but it
is deterministic for a given seed and depends on the input (prompt and frames).

Geometry: each family keeps its real vision geometry, read from transformers' default config
for the family (Qwen2/2.5-VL patch 14 x merge 2, so frames are sized in multiples of 28 as
Qwen's own tooling does; Qwen3-VL patch 16 x merge 2; the LLaVA towers patch 14), so the real
processors' resize rules run and checkpoints work in other tools (ms-swift, lmms-eval). Only
widths, depths, heads, vocabulary and the frame budget shrink: a Qwen frame is resized to between
2x2 and 4x4 merged units (56-112 px for Qwen2/2.5-VL), a LLaVA frame to 4x4 patches (56 px), so
2-8 frames give a few dozen vision tokens. `TinyOptions(geometry="compact")` keeps the earlier
patch-8 geometry (32-px LLaVA frames, 16-px Qwen units) for worlds tuned to it (the shapes demo).
"""
from __future__ import annotations

import json
from pathlib import Path
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from ..errors import ConfigError
from . import _tiny_text as tt

TEXT = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=4096)
INIT_RANGE = 0.1   # larger than the usual 0.02 so random outputs depend visibly on the input
COMPACT_PATCH = 8  # the compact geometry's patch, every family (a LLaVA frame: 4 x 8 = 32 px)
LLAVA_PATCHES = 4  # a LLaVA-style frame is this many patches a side in either geometry
GEOMETRIES = ("real", "compact")
QWEN3_VIDEO_FRAMES = 8  # frames at full size a tiny Qwen3-VL video budget holds (more share it)
MARKER = "tiny_model.json"


@dataclass(frozen=True)
class TinyOptions:
    """Optional changes to a tiny model: extra tokenizer text (so a world's words are whole
    tokens), the BPE vocabulary size, text-model config overrides (hidden size, layers...) and the
    vision geometry: "real" (the family's own patch / merge) or "compact" (patch 8 everywhere, the
    geometry the shapes demo world's 32x32 clips are tuned to)."""

    corpus: str = ""
    vocab_size: int = 384
    text: dict[str, Any] = field(default_factory=dict)
    geometry: str = "real"


def _ids(tok: Any, *names: str) -> list[int]:
    return [tok.convert_tokens_to_ids(n) for n in names]


def _real_vision(config_cls: Any) -> Any:
    """The family's real vision config: transformers' defaults, which mirror the released models."""
    return config_cls().vision_config


def _qwen_geometry(config_cls: Any, opts: "TinyOptions") -> tuple[dict[str, int], dict[str, int]]:
    """(vision geometry, processor size bounds). Real: the family's patch / merge / temporal patch,
    frames resized to 2x2 .. 4x4 merged units (a unit = patch x merge px; the lower bound is the
    real processor's 56x56 for Qwen2/2.5-VL). Compact: patch 8, 16x16 .. 64x64 px."""
    if opts.geometry == "compact":
        geo = dict(patch_size=COMPACT_PATCH, spatial_merge_size=2, temporal_patch_size=2)
        return geo, {"shortest_edge": 16 * 16, "longest_edge": 64 * 64}
    real = _real_vision(config_cls)
    geo = dict(patch_size=real.patch_size, spatial_merge_size=real.spatial_merge_size,
               temporal_patch_size=real.temporal_patch_size)
    unit = real.patch_size * real.spatial_merge_size
    return geo, {"shortest_edge": (2 * unit) ** 2, "longest_edge": (4 * unit) ** 2}


def _qwen(arch: str, opts: "TinyOptions") -> tuple[Any, Any]:
    """Qwen2-VL / Qwen2.5-VL / Qwen3-VL with their real patch, merge 2 and temporal patch 2: a
    frame pair gives 4-16 vision tokens (2x2 to 4x4 merged units)."""
    from transformers.models.qwen2_vl import Qwen2VLImageProcessor, Qwen2VLVideoProcessor

    tok = tt.train_tokenizer(tt.QWEN_SPECIALS, eos="<|im_end|>", pad="<|endoftext|>",
                             corpus_extra=opts.corpus, vocab_size=opts.vocab_size)
    pad, eos, img, vid, vs, ve = _ids(tok, "<|endoftext|>", "<|im_end|>", "<|image_pad|>", "<|video_pad|>",
                                      "<|vision_start|>", "<|vision_end|>")
    text = dict(TEXT, **opts.text, vocab_size=len(tok), eos_token_id=eos, pad_token_id=pad,
                bos_token_id=None, initializer_range=INIT_RANGE)
    ids = dict(image_token_id=img, video_token_id=vid, vision_start_token_id=vs, vision_end_token_id=ve,
               tie_word_embeddings=True)
    if arch == "qwen2_vl":
        from transformers import Qwen2VLConfig as Cfg, Qwen2VLProcessor as Proc
        geo, size = _qwen_geometry(Cfg, opts)
        text["rope_parameters"] = {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]}
        vision = dict(depth=2, embed_dim=32, hidden_size=64, num_heads=2, mlp_ratio=2, **geo,
                      initializer_range=INIT_RANGE)
        video_cls = Qwen2VLVideoProcessor
    elif arch == "qwen2_5_vl":
        from transformers import Qwen2_5_VLConfig as Cfg, Qwen2_5_VLProcessor as Proc
        geo, size = _qwen_geometry(Cfg, opts)
        # the attention window, in px: the real one (112 = 4 merged units) or the compact 32 (2 units)
        window = 32 if opts.geometry == "compact" else _real_vision(Cfg).window_size
        text["rope_parameters"] = {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]}
        vision = dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64,
                      **geo, window_size=window, fullatt_block_indexes=[1], tokens_per_second=2,
                      initializer_range=INIT_RANGE)
        video_cls = Qwen2VLVideoProcessor
    else:
        from transformers import Qwen3VLConfig as Cfg, Qwen3VLProcessor as Proc
        from transformers.models.qwen3_vl import Qwen3VLVideoProcessor as video_cls
        geo, size = _qwen_geometry(Cfg, opts)
        text.update(head_dim=16, rope_parameters={"rope_type": "default", "rope_theta": 10000.0,
                                                  "mrope_section": [2, 3, 3], "mrope_interleaved": True})
        vision = dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64,
                      **geo, num_position_embeddings=64, deepstack_visual_indexes=[1],
                      initializer_range=INIT_RANGE)
    proc_kw = dict(patch_size=geo["patch_size"], merge_size=geo["spatial_merge_size"],
                   temporal_patch_size=geo["temporal_patch_size"])
    video_size = size
    if arch == "qwen3_vl" and opts.geometry == "real":
        # Qwen3-VL's video processor reads longest_edge as the whole video's budget: 8 frames' worth
        video_size = dict(size, longest_edge=size["longest_edge"] * QWEN3_VIDEO_FRAMES)
    video_proc = video_cls(**proc_kw, size=video_size, cap_pixels_per_frame=True, do_sample_frames=False)
    if "rope_parameters" in opts.text:      # e.g. a wider head (head_dim 32) needs its own mrope_section
        text["rope_parameters"] = opts.text["rope_parameters"]
    # the vision merger projects into the language model's width
    vision["hidden_size" if arch == "qwen2_vl" else "out_hidden_size"] = text["hidden_size"]
    config = Cfg(text_config=text, vision_config=vision, **ids)
    image_proc = Qwen2VLImageProcessor(**proc_kw, size=size)
    processor = Proc(image_processor=image_proc, tokenizer=tok, video_processor=video_proc,
                     chat_template=tt.qwen_template(default_system=arch != "qwen3_vl"))
    return config, processor


def _llava_geometry(config_cls: Any, opts: "TinyOptions") -> tuple[int, int]:
    """(patch, frame side px) of a LLaVA-style tower: the family's real patch (14), or the compact
    8; either way a square frame of LLAVA_PATCHES x LLAVA_PATCHES patches (the real towers see
    224-384 px: the frame side is the budget that shrinks)."""
    patch = COMPACT_PATCH if opts.geometry == "compact" else _real_vision(config_cls).patch_size
    return patch, patch * LLAVA_PATCHES


def _clip_vision(patch: int, frame_px: int, model_type: str = "clip_vision_model") -> dict[str, Any]:
    return dict(model_type=model_type, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=2, image_size=frame_px, patch_size=patch, projection_dim=32,
                initializer_range=INIT_RANGE)


def _llama_text(tok: Any, opts: TinyOptions, model_type: str = "llama") -> dict[str, Any]:
    bos, eos, pad = _ids(tok, tok.bos_token or tok.eos_token, tok.eos_token, tok.pad_token)
    return dict(TEXT, **opts.text, model_type=model_type, vocab_size=len(tok), bos_token_id=bos,
                eos_token_id=eos, pad_token_id=pad, initializer_range=INIT_RANGE, tie_word_embeddings=True)


def _crop_kw(frame_px: int) -> dict[str, Any]:
    return dict(size={"shortest_edge": frame_px}, crop_size={"height": frame_px, "width": frame_px},
                do_center_crop=True)


def _llava_next_video(arch: str, opts: "TinyOptions") -> tuple[Any, Any]:
    """LLaVA-NeXT-Video: CLIP tower, 4x4 patches (56 px / 14) pooled by 2 -> 4 tokens per frame."""
    from transformers import LlavaNextImageProcessor, LlavaNextVideoConfig, LlavaNextVideoProcessor
    from transformers.models.llava_next_video import LlavaNextVideoVideoProcessor

    tok = tt.train_tokenizer(tt.LLAVA_SPECIALS, eos="</s>", pad="<pad>", bos="<s>", unk="<unk>",
                             corpus_extra=opts.corpus, vocab_size=opts.vocab_size)
    img, vid = _ids(tok, "<image>", "<video>")
    patch, px = _llava_geometry(LlavaNextVideoConfig, opts)
    pinpoints = [[px, px], [px, 2 * px], [2 * px, px]]
    config = LlavaNextVideoConfig(vision_config=_clip_vision(patch, px), text_config=_llama_text(tok, opts),
                                  image_token_index=img, video_token_index=vid, image_grid_pinpoints=pinpoints,
                                  vision_feature_select_strategy="default", vision_feature_layer=-1,
                                  spatial_pool_stride=2, image_seq_length=LLAVA_PATCHES ** 2,
                                  video_seq_length=(LLAVA_PATCHES // 2) ** 2 * 8,
                                  tie_word_embeddings=True)
    image_proc = LlavaNextImageProcessor(image_grid_pinpoints=pinpoints, **_crop_kw(px))
    video_proc = LlavaNextVideoVideoProcessor(**_crop_kw(px))
    processor = LlavaNextVideoProcessor(video_processor=video_proc, image_processor=image_proc, tokenizer=tok,
                                        chat_template=tt.VICUNA_TEMPLATE, patch_size=patch,
                                        vision_feature_select_strategy="default", num_additional_image_tokens=1)
    return config, processor


def _llava_onevision(arch: str, opts: "TinyOptions") -> tuple[Any, Any]:
    """LLaVA-OneVision: SigLIP tower, 4x4 patches (56 px / 14), pooled to 2x2 per frame, + 1 newline."""
    from transformers import LlavaOnevisionConfig, LlavaOnevisionImageProcessor, LlavaOnevisionProcessor
    from transformers.models.llava_onevision import LlavaOnevisionVideoProcessor

    tok = tt.train_tokenizer(tt.ONEVISION_SPECIALS, eos="<|im_end|>", pad="<|endoftext|>",
                             corpus_extra=opts.corpus, vocab_size=opts.vocab_size)
    img, vid = _ids(tok, "<image>", "<video>")
    patch, px = _llava_geometry(LlavaOnevisionConfig, opts)
    vision = _clip_vision(patch, px, "siglip_vision_model")
    vision.pop("projection_dim")
    text = _llama_text(tok, opts, "qwen2")
    text["bos_token_id"] = None
    pinpoints = [[px, px], [px, 2 * px], [2 * px, px]]
    config = LlavaOnevisionConfig(vision_config=vision, text_config=text, image_token_index=img,
                                  video_token_index=vid, image_grid_pinpoints=pinpoints,
                                  vision_feature_select_strategy="full", vision_feature_layer=-1,
                                  vision_aspect_ratio="anyres_max_1", tie_word_embeddings=True)
    size = {"height": px, "width": px}
    image_proc = LlavaOnevisionImageProcessor(size=size, image_grid_pinpoints=pinpoints)
    video_proc = LlavaOnevisionVideoProcessor(size=size)
    processor = LlavaOnevisionProcessor(image_processor=image_proc, tokenizer=tok, video_processor=video_proc,
                                        num_image_tokens=LLAVA_PATCHES ** 2,
                                        vision_feature_select_strategy="full", vision_aspect_ratio="anyres_max_1",
                                        chat_template=tt.ONEVISION_TEMPLATE)
    return config, processor


def _video_llava(arch: str, opts: "TinyOptions") -> tuple[Any, Any]:
    """Video-LLaVA: CLIP tower, 4x4 patches (56 px / 14) + CLS = 17 tokens per frame."""
    from transformers import VideoLlavaConfig, VideoLlavaImageProcessor, VideoLlavaProcessor
    from transformers.models.video_llava import VideoLlavaVideoProcessor

    tok = tt.train_tokenizer(tt.LLAVA_SPECIALS, eos="</s>", pad="<pad>", bos="<s>", unk="<unk>",
                             corpus_extra=opts.corpus, vocab_size=opts.vocab_size)
    img, vid = _ids(tok, "<image>", "<video>")
    patch, px = _llava_geometry(VideoLlavaConfig, opts)
    config = VideoLlavaConfig(vision_config=_clip_vision(patch, px), text_config=_llama_text(tok, opts),
                              image_token_index=img, video_token_index=vid, vision_feature_select_strategy="default",
                              vision_feature_layer=-1, image_seq_length=LLAVA_PATCHES ** 2,
                              video_seq_length=(LLAVA_PATCHES ** 2 + 1) * 8,
                              tie_word_embeddings=True)
    image_proc = VideoLlavaImageProcessor(**_crop_kw(px))
    video_proc = VideoLlavaVideoProcessor(**_crop_kw(px))
    processor = VideoLlavaProcessor(image_processor=image_proc, video_processor=video_proc, tokenizer=tok,
                                    patch_size=patch, vision_feature_select_strategy="default",
                                    num_additional_image_tokens=1, chat_template=tt.VICUNA_TEMPLATE)
    return config, processor


ARCHS: dict[str, Callable[[str, TinyOptions], tuple[Any, Any]]] = {
    "qwen2_vl": _qwen, "qwen2_5_vl": _qwen, "qwen3_vl": _qwen,
    "llava_next_video": _llava_next_video, "llava_onevision": _llava_onevision, "video_llava": _video_llava,
}
TINY_ARCHS: tuple[str, ...] = tuple(ARCHS)


def build_tiny_model(arch: str, out_dir: str | Path, seed: int = 0,
                     options: TinyOptions | None = None) -> Path:
    """Write a random-weight `arch` model + processor to `out_dir` (created); return the folder.

    The folder loads with AutoProcessor / AutoModelForImageTextToText like a Hub checkpoint.
    """
    if arch not in ARCHS:
        raise ConfigError(f"unknown tiny-model architecture {arch!r}; choose one of: {', '.join(TINY_ARCHS)}")
    if options is not None and options.geometry not in GEOMETRIES:
        raise ConfigError(f"unknown tiny-model geometry {options.geometry!r}; choose one of: {', '.join(GEOMETRIES)}")
    opts = options or TinyOptions()
    config, processor = ARCHS[arch](arch, opts)
    model = _random_model(config, seed)
    if opts.geometry != "compact":
        # A seed draws the same weights in either geometry except the patch embedding (its shape
        # follows the patch): the geometry does not redraw the language model, whose random
        # answers the tests (e.g. GRPO's rewards) and the benchmarks were tuned against.
        compact = _random_model(ARCHS[arch](arch, replace(opts, geometry="compact"))[0], seed).state_dict()
        state = model.state_dict()
        model.load_state_dict({k: compact[k] if k in compact and compact[k].shape == v.shape else v
                               for k, v in state.items()})
    model.eval()
    gen = model.generation_config
    tok = processor.tokenizer
    gen.pad_token_id = tok.pad_token_id
    gen.eos_token_id = tok.eos_token_id
    gen.bos_token_id = tok.bos_token_id
    gen.do_sample = False
    # Random weights: keep the answer from starting with end-of-text or being all control tokens.
    special = set(tok.all_special_ids)
    gen.begin_suppress_tokens = sorted(special)
    gen.suppress_tokens = sorted(special - {tok.eos_token_id})
    out = Path(out_dir)
    _prepare_out(out)
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        model.save_pretrained(out)
        processor.save_pretrained(out)
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    (out / MARKER).write_text(json.dumps({"arch": arch, "seed": seed, "made_by": "vstar_data.backends.tiny"},
                                         indent=2) + "\n", "utf-8")
    return out


def _random_model(config: Any, seed: int) -> Any:
    """The model of `config` with weights drawn from `seed`, leaving the global RNG as it was."""
    import torch
    from transformers import AutoModelForImageTextToText

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return AutoModelForImageTextToText.from_config(config)


def _prepare_out(out: Path) -> None:
    """Create `out`; an earlier tiny model there is replaced, any other non-empty folder refused."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise ConfigError(f"{out} is not empty and does not hold a tiny model; choose an empty or new folder")
        for path in out.iterdir():
            if path.is_file():
                path.unlink()
    out.mkdir(parents=True, exist_ok=True)
