"""The GPU benchmark (benchmarks/gpu/run.py) runs end to end on the CPU at tiny sizes (--tiny):
the same code path the lent GPU runs, so a broken benchmark shows up in CI, not on the device."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("peft")
pytest.importorskip("av")

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "gpu" / "run.py"


def _load():
    spec = importlib.util.spec_from_file_location("gpu_bench_run", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_tiny_dry_run_writes_every_figure(tmp_path):
    bench = _load()
    out = tmp_path / "gpu.json"
    bench.main(["--tiny", "--out", str(out), "--models", "qwen2_5_vl_3b", "--frames", "8,32"])
    report = json.loads(out.read_text())
    assert report["tiny"] is True and report["device"].startswith("cpu")
    entry = report["models"]["qwen2_5_vl_3b"]
    for frames in ("8", "32"):
        gen, train = entry["generate"][frames], entry["train"][frames]
        assert set(bench.FIGURES) <= gen.keys() and set(bench.TRAIN_FIGURES) <= train.keys()
        assert gen["failed"] == 0 and gen["clips"] == 2 and gen["clips_per_s"] > 0
        assert gen["generated_tokens_per_s"] > 0 and 0 < gen["model_busy_share"] <= 1
        assert gen["decode_frames_per_s"] > 0 and train["train_tokens_per_s"] > 0 and train["steps"] == 1
    # 32 frames give the model more video tokens than 8 (the frames really reach the processor)
    assert entry["generate"]["32"]["prompt_tokens"] > entry["generate"]["8"]["prompt_tokens"]


@pytest.mark.parametrize("name", ["qwen2_5_vl_3b", "qwen2_5_vl_7b"])
def test_vendored_configs_have_the_published_shapes(name, tmp_path):
    from transformers import AutoConfig

    cfg = AutoConfig.from_pretrained(_load().model_folder(name, tmp_path / name, tiny=False))
    text = cfg.get_text_config()
    expected = {"qwen2_5_vl_3b": (2048, 36, 16, 2, 11008, 151936),
                "qwen2_5_vl_7b": (3584, 28, 28, 4, 18944, 152064)}[name]
    assert (text.hidden_size, text.num_hidden_layers, text.num_attention_heads, text.num_key_value_heads,
            text.intermediate_size, text.vocab_size) == expected
    assert (cfg.vision_config.depth, cfg.vision_config.hidden_size, cfg.vision_config.patch_size) == (32, 1280, 14)
