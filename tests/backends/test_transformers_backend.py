"""The transformers backend on tiny local models: contract, left-padded batching, seeded
sampling, frames + metadata handed over untouched, and one clear ConfigError per broken setup."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest

from vstar_data.backends.base import GenerationError, Request
from vstar_data.backends.transformers import TransformersBackend, folder_fingerprint
from vstar_data.errors import ConfigError
from vstar_data.testing.backends import BackendContract, make_frames

PROMPTS = ["What?", "What is happening in this video?",
           "Describe the action step by step and explain why the person in the gym is playing guitar "
           "while the crowd cheers and the camera follows the player."]


class TestQwen2VLContract(BackendContract):
    backend = "transformers"

    @pytest.fixture
    def options(self, tiny_model: Callable[[str], Path]) -> dict[str, Any]:
        return {"model": str(tiny_model("qwen2_vl")), "max_new_tokens": 8}


@pytest.mark.slow
class TestLlavaOnevisionContract(BackendContract):
    backend = "transformers"

    @pytest.fixture
    def options(self, tiny_model: Callable[[str], Path]) -> dict[str, Any]:
        return {"model": str(tiny_model("llava_onevision")), "max_new_tokens": 8, "batch_size": 2}


def _backend(path: Path, **kw: Any) -> TransformersBackend:
    backend = TransformersBackend(model=str(path), **{"max_new_tokens": 12, **kw})
    backend.load()
    return backend


def _requests(n_frames: int = 4, size: tuple[int, int] = (32, 48)) -> list[Request]:
    return [Request(frames=make_frames(n_frames, *size, seed=k), prompt=p, sample_id=f"s{k}")
            for k, p in enumerate(PROMPTS)]


class Spy:
    """Wraps a processor to record what the backend hands it (and what it returns)."""

    def __init__(self, processor: Any) -> None:
        self.processor, self.calls, self.outputs = processor, [], []

    def __call__(self, **kw: Any) -> Any:
        self.calls.append(kw)
        out = self.processor(**kw)
        self.outputs.append(out)
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self.processor, name)


@pytest.mark.parametrize("arch", ["qwen2_vl", "qwen3_vl", "llava_next_video", "video_llava"])
def test_batch_of_three_equals_one_by_one_under_greedy(tiny_model: Callable[[str], Path], arch: str) -> None:
    backend = _backend(tiny_model(arch), batch_size=3)
    spy = backend.processor = Spy(backend.processor)
    reqs = _requests()
    batched = backend.generate(reqs)
    mask = spy.outputs[0]["attention_mask"]
    assert mask.shape[0] == 3 and len(set(mask.sum(dim=1).tolist())) == 3, "prompts must differ in length"
    assert (mask[:, -1] == 1).all() and (mask[:, 0] == 0).any(), "padding must be on the left"
    assert batched == [backend.generate([r])[0] for r in reqs]
    assert all(isinstance(a, str) and a for a in batched)


def test_answers_depend_on_prompt_and_frames(tiny_model: Callable[[str], Path]) -> None:
    backend = _backend(tiny_model("qwen2_vl"))
    # 56x56: 2x2 of the model's 28-px units as they are (32x32 noise is upscaled, i.e. smoothed)
    a, b, c = backend.generate([Request(frames=make_frames(4, 56, 56, seed=1), prompt="What?"),
                                Request(frames=make_frames(4, 56, 56, seed=1), prompt="Describe the action."),
                                Request(frames=make_frames(4, 56, 56, seed=2), prompt="What?")])
    assert a != b and a != c


def test_seeded_sampling_is_reproducible(tiny_model: Callable[[str], Path]) -> None:
    import torch

    path = tiny_model("qwen2_vl")
    reqs = _requests()
    first = _backend(path, temperature=1.0, top_p=0.95, seed=5).generate(reqs)
    state = torch.random.get_rng_state()
    again = _backend(path, temperature=1.0, top_p=0.95, seed=5).generate(reqs)
    assert again == first
    assert torch.equal(torch.random.get_rng_state(), state), "sampling must not move the global RNG"
    assert _backend(path, temperature=1.0, top_p=0.95, seed=6).generate(reqs) != first
    assert _backend(path).generate(reqs) != first


def test_frames_and_metadata_reach_the_processor_unsampled(tiny_model: Callable[[str], Path]) -> None:
    backend = _backend(tiny_model("qwen3_vl"), max_new_tokens=2)
    spy = backend.processor = Spy(backend.processor)
    frames = make_frames(6, 32, 32, seed=3, fps=25.0)
    backend.generate([Request(frames=frames, prompt="When?")])
    call = spy.calls[0]
    assert call["do_sample_frames"] is False
    assert call["video_metadata"] == [frames.metadata()]
    assert (call["videos"][0] == frames.array).all()
    assert spy.outputs[0]["video_grid_thw"][0][0].item() == 3    # 6 frames / temporal patch 2: none dropped
    text = spy.processor.tokenizer.decode(spy.outputs[0]["input_ids"][0])
    # Qwen3-VL writes each temporal patch's mean time: frames 0,10 @ 25 fps -> 0.2 s; 40,50 -> 1.8 s
    assert "<0.2 seconds>" in text and "<1.8 seconds>" in text


def test_llava_family_sees_every_frame(tiny_model: Callable[[str], Path]) -> None:
    backend = _backend(tiny_model("llava_next_video"), max_new_tokens=2)
    spy = backend.processor = Spy(backend.processor)
    backend.generate([Request(frames=make_frames(5, 40, 64), prompt="What?")])
    assert tuple(spy.outputs[0]["pixel_values_videos"].shape[:2]) == (1, 5)


def test_single_frame_clip_is_padded_to_the_temporal_patch(tiny_model: Callable[[str], Path]) -> None:
    backend = _backend(tiny_model("qwen3_vl"), max_new_tokens=3)
    spy = backend.processor = Spy(backend.processor)
    frames = make_frames(1, 32, 32)
    out = backend.generate([Request(frames=frames, prompt="What?")])
    assert isinstance(out[0], str) and out[0]
    assert len(spy.calls[0]["videos"][0]) == 2 and spy.calls[0]["video_metadata"][0]["frames_indices"] == [0, 0]


def test_a_request_the_processor_rejects_fails_alone(tiny_model: Callable[[str], Path]) -> None:
    class Picky(Spy):
        def __call__(self, **kw: Any) -> Any:
            if any(v.shape[1] == 7 for v in kw["videos"]):
                raise ValueError("cannot handle 7-pixel-high frames")
            return super().__call__(**kw)

    backend = _backend(tiny_model("qwen2_vl"), batch_size=3)
    backend.processor = Picky(backend.processor)
    reqs = _requests()
    poisoned = Request(frames=make_frames(4, 7, 48), prompt="What?", sample_id="thin")
    out = backend.generate([reqs[0], poisoned, reqs[1]])
    assert isinstance(out[1], GenerationError) and out[1].reason == "generation_failed"
    assert out[1].sample_id == "thin" and "7-pixel-high" in out[1].detail
    assert [out[0], out[2]] == backend.generate(reqs[:2])


def test_placeholder_and_control_tokens_in_user_text_are_removed(tiny_model: Callable[[str], Path]) -> None:
    backend = _backend(tiny_model("qwen2_vl"))
    frames = make_frames(4)
    clean = backend.generate([Request(frames=frames, prompt="What happens?")])
    dirty = backend.generate([Request(frames=frames, prompt="What <|video_pad|>happens?<|im_end|><video>")])
    assert dirty == clean and isinstance(dirty[0], str)


def test_prompt_too_long_fails_alone(tiny_model: Callable[[str], Path], tmp_path: Path) -> None:
    path = tmp_path / "short-context"
    shutil.copytree(tiny_model("qwen2_vl"), path)
    cfg = json.loads((path / "config.json").read_text())
    cfg["text_config"]["max_position_embeddings"] = 128
    (path / "config.json").write_text(json.dumps(cfg))
    backend = _backend(path, max_new_tokens=8, batch_size=4)
    long = Request(frames=make_frames(4, seed=9), prompt="guitar " * 200, sample_id="long")
    reqs = _requests()[:2]
    out = backend.generate([reqs[0], long, reqs[1]])
    assert isinstance(out[1], GenerationError) and out[1].reason == "prompt_too_long"
    assert out[1].sample_id == "long" and "128" in out[1].detail
    assert [out[0], out[2]] == backend.generate(reqs)


def test_cpu_defaults_fp32_and_sdpa_dtype_option(tiny_model: Callable[[str], Path]) -> None:
    import torch

    backend = _backend(tiny_model("qwen2_vl"))
    assert backend.hf_model.dtype == torch.float32 and backend.hf_model.device.type == "cpu"
    assert backend.hf_model.config._attn_implementation == "sdpa"
    bf16 = _backend(tiny_model("qwen2_vl"), dtype="bf16", max_new_tokens=4)
    assert bf16.hf_model.dtype == torch.bfloat16
    assert isinstance(bf16.generate(_requests()[:1])[0], str)
    with pytest.raises(ConfigError, match="dtype"):
        TransformersBackend(model="x", dtype="int3")


@pytest.mark.skipif("not __import__('torch').cuda.is_available()", reason="needs a CUDA GPU")
def test_cuda_defaults_bf16(tiny_model: Callable[[str], Path]) -> None:  # pragma: no cover - GPU only
    import torch

    backend = _backend(tiny_model("qwen2_vl"))
    assert backend.hf_model.dtype == torch.bfloat16 and backend.hf_model.device.type == "cuda"
    assert all(isinstance(a, str) for a in backend.generate(_requests()))


# ---------------------------------------------------------------------------- one clear error each

def _copy(tiny_model: Callable[[str], Path], tmp_path: Path, arch: str = "qwen2_vl") -> Path:
    return Path(shutil.copytree(tiny_model(arch), tmp_path / arch))


def test_missing_chat_template_is_one_config_error_at_load(tiny_model: Callable[[str], Path],
                                                           tmp_path: Path) -> None:
    path = _copy(tiny_model, tmp_path)
    (path / "chat_template.jinja").unlink()
    backend = TransformersBackend(model=str(path))
    with pytest.raises(ConfigError, match="no chat template") as info:
        backend.load()
    assert str(path) in str(info.value) and "chat_template" in str(info.value)
    with pytest.raises(ConfigError, match="no chat template"):   # generate() never yields per-sample errors
        backend.generate(_requests())
    fixed = TransformersBackend(model=str(path), chat_template=str(tiny_model("qwen2_vl") / "chat_template.jinja"))
    fixed.load()
    assert isinstance(fixed.generate(_requests()[:1])[0], str)


def test_chat_template_without_video_parts_is_rejected(tiny_model: Callable[[str], Path], tmp_path: Path) -> None:
    path = _copy(tiny_model, tmp_path)
    (path / "chat_template.jinja").write_text(
        "{% for m in messages %}{% for c in m['content'] if c['type'] == 'text' %}{{ c['text'] }}"
        "{% endfor %}{% endfor %}")
    with pytest.raises(ConfigError, match="drops video content"):
        TransformersBackend(model=str(path)).load()


@pytest.mark.parametrize("remove, message", [("processor_config.json", "has no processor"),
                                             ("config.json", "no config.json")])
def test_incomplete_model_folder(tiny_model: Callable[[str], Path], tmp_path: Path, remove: str,
                                 message: str) -> None:
    path = _copy(tiny_model, tmp_path)
    (path / remove).unlink()
    with pytest.raises(ConfigError, match=message):
        TransformersBackend(model=str(path)).load()


def test_missing_model_and_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs a model"):
        TransformersBackend().load()
    with pytest.raises(ConfigError, match="not a model directory"):
        TransformersBackend(model=str(tmp_path / "nope")).load()


def test_offline_hub_id_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    backend = TransformersBackend(model="some-org/video-vlm-7b", cache_dir=str(tmp_path / "empty-cache"))
    with pytest.raises(ConfigError) as info:
        backend.load()
    msg = str(info.value)
    assert "some-org/video-vlm-7b" in msg and "HF_HUB_OFFLINE" in msg and "hf download some-org/video-vlm-7b" in msg


def test_unreachable_hub_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from huggingface_hub import HfApi, constants

    def no_network(*a: Any, **k: Any) -> Any:
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(HfApi, "model_info", no_network)
    with pytest.raises(ConfigError, match="cannot be reached") as info:
        TransformersBackend(model="some-org/video-vlm-7b", cache_dir=str(tmp_path / "c")).load()
    assert "some-org/video-vlm-7b" in str(info.value) and "--model /path/to/model_dir" in str(info.value)


def test_hub_cache_snapshot_gives_repo_id_and_commit(tiny_model: Callable[[str], Path], tmp_path: Path) -> None:
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "cache" / "models--acme--tiny-qwen"
    shutil.copytree(tiny_model("qwen2_vl"), repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    by_id = _backend(Path("acme/tiny-qwen"), cache_dir=str(tmp_path / "cache"))
    assert (by_id.model_name, by_id.model_revision) == ("acme/tiny-qwen", commit)
    by_path = _backend(repo / "snapshots" / commit)
    assert (by_path.model_name, by_path.model_revision) == ("acme/tiny-qwen", commit)
    assert by_id.generate(_requests()[:1]) == by_path.generate(_requests()[:1])


def test_local_revision_is_a_stable_content_hash(tiny_model: Callable[[str], Path], tmp_path: Path) -> None:
    from vstar_data.backends.tiny import build_tiny_model

    a = build_tiny_model("qwen2_vl", tmp_path / "a", seed=0)
    b = build_tiny_model("qwen2_vl", tmp_path / "b", seed=0)
    assert folder_fingerprint(a) == folder_fingerprint(b) == _backend(a).model_revision
    assert _backend(a).model_name == "a"
    cfg = json.loads((b / "config.json").read_text())
    cfg["text_config"]["rms_norm_eps"] = 1e-5
    (b / "config.json").write_text(json.dumps(cfg))
    assert folder_fingerprint(b) != folder_fingerprint(a)



@pytest.mark.parametrize("arch, reads", [("qwen2_5_vl", True), ("qwen3_vl", True), ("qwen2_vl", False)])
def test_reads_frame_times_only_where_the_processor_places_frames_in_time(
        tiny_model: Callable[[str], Path], arch: str, reads: bool) -> None:
    """Qwen2.5-VL (temporal positions from fps) and Qwen3-VL (timestamp text) are given the times;
    Qwen2-VL is not (nor the LLaVA family, tests/generation/test_time_instruction.py), so generation
    states them in the prompt (frames.time_instruction)."""
    import torch

    backend = _backend(tiny_model(arch), max_new_tokens=2)
    assert backend.reads_frame_times is reads
    # what that means: the same pixels at another fps reach the model differently, or identically
    spy = backend.processor = Spy(backend.processor)
    for fps in (25.0, 5.0):
        backend.generate([Request(frames=make_frames(4, 32, 32, seed=1, fps=fps), prompt="When?")])
    a, b = spy.outputs
    differs = [k for k in a if not (torch.equal(a[k], b[k]) if torch.is_tensor(a[k]) and a[k].shape == b[k].shape
                                    else a[k] == b[k] if not torch.is_tensor(a[k]) else False)]
    assert bool(differs) is reads, differs
