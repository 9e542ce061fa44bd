"""Tiny random-weight video VLMs, built locally, that load like any checkpoint.

`build_tiny_model(arch, out_dir)` writes a complete model folder (config, safetensors weights,
tokenizer, image/video processor, processor with a chat template) for one of the supported
families, under 2 MB and in about a second, with no download. Tests and benchmarks use them to
run the real transformers code path (AutoProcessor + AutoModelForImageTextToText + chat template
+ batched generate) on CPU. The weights are random: the text they produce is gibberish, but it
is deterministic for a given seed and depends on the input (prompt and frames).

Sizes are chosen so that 2-8 frames of 32x32 to 64x64 give a few dozen vision tokens.
"""
from __future__ import annotations

import json
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import ConfigError
from . import _tiny_text as tt

TEXT = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=4096)
INIT_RANGE = 0.1   # larger than the usual 0.02 so random outputs depend visibly on the input
FRAME_PX = 32      # llava-style towers see square 32x32 frames
MARKER = "tiny_model.json"


@dataclass(frozen=True)
class TinyOptions:
    """Optional changes to a tiny model: extra tokenizer text (so a world's words are whole
    tokens), the BPE vocabulary size, and text-model config overrides (hidden size, layers...)."""

    corpus: str = ""
    vocab_size: int = 384
    text: dict[str, Any] = field(default_factory=dict)


def _ids(tok: Any, *names: str) -> list[int]:
    return [tok.convert_tokens_to_ids(n) for n in names]


def _qwen(arch: str, opts: "TinyOptions") -> tuple[Any, Any]:
    """Qwen2-VL / Qwen2.5-VL / Qwen3-VL: patch 8, merge 2, temporal patch 2; 32x32 -> 4 tokens
    per pair of frames."""
    from transformers.models.qwen2_vl import Qwen2VLImageProcessor, Qwen2VLVideoProcessor

    tok = tt.train_tokenizer(tt.QWEN_SPECIALS, eos="<|im_end|>", pad="<|endoftext|>",
                             corpus_extra=opts.corpus, vocab_size=opts.vocab_size)
    pad, eos, img, vid, vs, ve = _ids(tok, "<|endoftext|>", "<|im_end|>", "<|image_pad|>", "<|video_pad|>",
                                      "<|vision_start|>", "<|vision_end|>")
    text = dict(TEXT, **opts.text, vocab_size=len(tok), eos_token_id=eos, pad_token_id=pad,
                bos_token_id=None, initializer_range=INIT_RANGE)
    ids = dict(image_token_id=img, video_token_id=vid, vision_start_token_id=vs, vision_end_token_id=ve,
               tie_word_embeddings=True)
    size = {"shortest_edge": 16 * 16, "longest_edge": 64 * 64}
    proc_kw = dict(patch_size=8, merge_size=2, temporal_patch_size=2, size=size)
    if arch == "qwen2_vl":
        from transformers import Qwen2VLConfig as Cfg, Qwen2VLProcessor as Proc
        text["rope_parameters"] = {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]}
        vision = dict(depth=2, embed_dim=32, hidden_size=64, num_heads=2, mlp_ratio=2, patch_size=8,
                      spatial_merge_size=2, temporal_patch_size=2, initializer_range=INIT_RANGE)
        video_proc = Qwen2VLVideoProcessor(**proc_kw, cap_pixels_per_frame=True, do_sample_frames=False)
    elif arch == "qwen2_5_vl":
        from transformers import Qwen2_5_VLConfig as Cfg, Qwen2_5_VLProcessor as Proc
        text["rope_parameters"] = {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]}
        vision = dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64,
                      patch_size=8, spatial_merge_size=2, temporal_patch_size=2, window_size=32,
                      fullatt_block_indexes=[1], tokens_per_second=2, initializer_range=INIT_RANGE)
        video_proc = Qwen2VLVideoProcessor(**proc_kw, cap_pixels_per_frame=True, do_sample_frames=False)
    else:
        from transformers import Qwen3VLConfig as Cfg, Qwen3VLProcessor as Proc
        from transformers.models.qwen3_vl import Qwen3VLVideoProcessor
        text.update(head_dim=16, rope_parameters={"rope_type": "default", "rope_theta": 10000.0,
                                                  "mrope_section": [2, 3, 3], "mrope_interleaved": True})
        vision = dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64,
                      patch_size=8, spatial_merge_size=2, temporal_patch_size=2, num_position_embeddings=64,
                      deepstack_visual_indexes=[1], initializer_range=INIT_RANGE)
        video_proc = Qwen3VLVideoProcessor(**proc_kw, cap_pixels_per_frame=True, do_sample_frames=False)
    if "rope_parameters" in opts.text:      # e.g. a wider head (head_dim 32) needs its own mrope_section
        text["rope_parameters"] = opts.text["rope_parameters"]
    # the vision merger projects into the language model's width
    vision["hidden_size" if arch == "qwen2_vl" else "out_hidden_size"] = text["hidden_size"]
    config = Cfg(text_config=text, vision_config=vision, **ids)
    image_proc = Qwen2VLImageProcessor(**proc_kw)
    processor = Proc(image_processor=image_proc, tokenizer=tok, video_processor=video_proc,
                     chat_template=tt.qwen_template(default_system=arch != "qwen3_vl"))
    return config, processor


def _clip_vision(model_type: str = "clip_vision_model") -> dict[str, Any]:
    return dict(model_type=model_type, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=2, image_size=FRAME_PX, patch_size=8, projection_dim=32,
                initializer_range=INIT_RANGE)


def _llama_text(tok: Any, opts: TinyOptions, model_type: str = "llama") -> dict[str, Any]:
    bos, eos, pad = _ids(tok, tok.bos_token or tok.eos_token, tok.eos_token, tok.pad_token)
    return dict(TEXT, **opts.text, model_type=model_type, vocab_size=len(tok), bos_token_id=bos,
                eos_token_id=eos, pad_token_id=pad, initializer_range=INIT_RANGE, tie_word_embeddings=True)


def _crop_kw() -> dict[str, Any]:
    return dict(size={"shortest_edge": FRAME_PX}, crop_size={"height": FRAME_PX, "width": FRAME_PX},
                do_center_crop=True)


def _llava_next_video(arch: str, opts: "TinyOptions") -> tuple[Any, Any]:
    """LLaVA-NeXT-Video: CLIP tower 32x32/8 -> 16 patches, pooled by 2 -> 4 tokens per frame."""
    from transformers import LlavaNextImageProcessor, LlavaNextVideoConfig, LlavaNextVideoProcessor
    from transformers.models.llava_next_video import LlavaNextVideoVideoProcessor

    tok = tt.train_tokenizer(tt.LLAVA_SPECIALS, eos="</s>", pad="<pad>", bos="<s>", unk="<unk>",
                             corpus_extra=opts.corpus, vocab_size=opts.vocab_size)
    img, vid = _ids(tok, "<image>", "<video>")
    pinpoints = [[FRAME_PX, FRAME_PX], [FRAME_PX, 2 * FRAME_PX], [2 * FRAME_PX, FRAME_PX]]
    config = LlavaNextVideoConfig(vision_config=_clip_vision(), text_config=_llama_text(tok, opts),
                                  image_token_index=img, video_token_index=vid, image_grid_pinpoints=pinpoints,
                                  vision_feature_select_strategy="default", vision_feature_layer=-1,
                                  spatial_pool_stride=2, image_seq_length=16, video_seq_length=4 * 8,
                                  tie_word_embeddings=True)
    image_proc = LlavaNextImageProcessor(image_grid_pinpoints=pinpoints, **_crop_kw())
    video_proc = LlavaNextVideoVideoProcessor(**_crop_kw())
    processor = LlavaNextVideoProcessor(video_processor=video_proc, image_processor=image_proc, tokenizer=tok,
                                        chat_template=tt.VICUNA_TEMPLATE, patch_size=8,
                                        vision_feature_select_strategy="default", num_additional_image_tokens=1)
    return config, processor


def _llava_onevision(arch: str, opts: "TinyOptions") -> tuple[Any, Any]:
    """LLaVA-OneVision: SigLIP tower 32x32/8 -> 16 patches, pooled to 2x2 per frame, + 1 newline."""
    from transformers import LlavaOnevisionConfig, LlavaOnevisionImageProcessor, LlavaOnevisionProcessor
    from transformers.models.llava_onevision import LlavaOnevisionVideoProcessor

    tok = tt.train_tokenizer(tt.ONEVISION_SPECIALS, eos="<|im_end|>", pad="<|endoftext|>",
                             corpus_extra=opts.corpus, vocab_size=opts.vocab_size)
    img, vid = _ids(tok, "<image>", "<video>")
    vision = _clip_vision("siglip_vision_model")
    vision.pop("projection_dim")
    text = _llama_text(tok, opts, "qwen2")
    text["bos_token_id"] = None
    pinpoints = [[FRAME_PX, FRAME_PX], [FRAME_PX, 2 * FRAME_PX], [2 * FRAME_PX, FRAME_PX]]
    config = LlavaOnevisionConfig(vision_config=vision, text_config=text, image_token_index=img,
                                  video_token_index=vid, image_grid_pinpoints=pinpoints,
                                  vision_feature_select_strategy="full", vision_feature_layer=-1,
                                  vision_aspect_ratio="anyres_max_1", tie_word_embeddings=True)
    size = {"height": FRAME_PX, "width": FRAME_PX}
    image_proc = LlavaOnevisionImageProcessor(size=size, image_grid_pinpoints=pinpoints)
    video_proc = LlavaOnevisionVideoProcessor(size=size)
    processor = LlavaOnevisionProcessor(image_processor=image_proc, tokenizer=tok, video_processor=video_proc,
                                        num_image_tokens=(FRAME_PX // 8) ** 2,
                                        vision_feature_select_strategy="full", vision_aspect_ratio="anyres_max_1",
                                        chat_template=tt.ONEVISION_TEMPLATE)
    return config, processor


def _video_llava(arch: str, opts: "TinyOptions") -> tuple[Any, Any]:
    """Video-LLaVA: CLIP tower 32x32/8 -> 16 patches + CLS = 17 tokens per frame."""
    from transformers import VideoLlavaConfig, VideoLlavaImageProcessor, VideoLlavaProcessor
    from transformers.models.video_llava import VideoLlavaVideoProcessor

    tok = tt.train_tokenizer(tt.LLAVA_SPECIALS, eos="</s>", pad="<pad>", bos="<s>", unk="<unk>",
                             corpus_extra=opts.corpus, vocab_size=opts.vocab_size)
    img, vid = _ids(tok, "<image>", "<video>")
    config = VideoLlavaConfig(vision_config=_clip_vision(), text_config=_llama_text(tok, opts), image_token_index=img,
                              video_token_index=vid, vision_feature_select_strategy="default",
                              vision_feature_layer=-1, image_seq_length=16, video_seq_length=17 * 8,
                              tie_word_embeddings=True)
    image_proc = VideoLlavaImageProcessor(**_crop_kw())
    video_proc = VideoLlavaVideoProcessor(**_crop_kw())
    processor = VideoLlavaProcessor(image_processor=image_proc, video_processor=video_proc, tokenizer=tok,
                                    patch_size=8, vision_feature_select_strategy="default",
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
    import torch
    from transformers import AutoModelForImageTextToText

    config, processor = ARCHS[arch](arch, options or TinyOptions())
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = AutoModelForImageTextToText.from_config(config)
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
