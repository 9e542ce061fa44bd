"""`vstar-data train` on the LLaVA export: in process, and under `accelerate launch` with 2 CPU
processes (DDP over gloo) using the shipped configs/accelerate/ddp.yaml."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vstar_data.cli import app
from vstar_data.errors import ConfigError
from vstar_data.training.recipe import DONE_FILE

ROOT = Path(__file__).resolve().parents[2]


def test_cli_trains_with_config_file_and_overrides(tiny_model, llava_json, clip_root, tmp_path):
    config = tmp_path / "train.yaml"
    config.write_text("num_frames: 2\nframe_size: 32\nglobal_batch_size: 2\nlearning_rate: 1.0e-3\n"
                      "max_steps: 50\n")
    out = tmp_path / "ckpt"
    args = ["train", str(llava_json(4)), "--videos", str(clip_root), "--model", str(tiny_model("qwen2_vl")),
            "--out", str(out), "--config", str(config), "--max-steps", "3", "--workers", "2",
            "--set", "logging_steps=1", "--lora"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "optimizer steps" in result.output and "3" in result.output
    marker = json.loads((out / DONE_FILE).read_text())
    cfg = marker["config"]
    assert (cfg["num_frames"], cfg["learning_rate"], cfg["max_steps"], cfg["dataloader_workers"],
            cfg["logging_steps"], cfg["lora"]) == (2, 1e-3, 3, 2, 1, True)        # YAML < --set < options
    assert marker["steps"] == 3 and len(marker["loss_history"]) == 3 and marker["rows"] == 4
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0 and "already trained" in again.output


def test_cli_rejects_unknown_settings(tmp_path, llava_json):
    result = CliRunner().invoke(app, ["train", str(llava_json(1)), "--model", "m", "--out", str(tmp_path / "o"),
                                      "--set", "learning_rat=1e-3"])
    assert isinstance(result.exception, ConfigError) and "learning_rat" in str(result.exception)
    result = CliRunner().invoke(app, ["train", str(llava_json(1)), "--out", str(tmp_path / "o")])
    assert isinstance(result.exception, ConfigError) and "model" in str(result.exception)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(config: str, tmp_path: Path, model: Path, data: Path, videos: Path, *extra: str) -> Path:
    """`accelerate launch --num_processes 2 --config_file CONFIG vstar-data train ...` on CPU."""
    script = Path(sys.executable).parent / "vstar-data"   # the console script, as users launch it
    out = tmp_path / "ckpt"
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", "2",
           "--config_file", str(ROOT / "configs" / "accelerate" / config),
           "--main_process_port", str(_free_port()), str(script), "train", str(data),
           "--videos", str(videos), "--model", str(model), "--out", str(out),
           "--num-frames", "2", "--frame-size", "32", "--global-batch", "4", "--epochs", "2",
           "--workers", "1", "--set", "logging_steps=1", *extra]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    assert proc.stdout.count("optimizer steps") == 1          # only the main process reports
    marker = json.loads((out / DONE_FILE).read_text())
    # 4 rows, 2 processes x batch 1 x accumulation 2 = global batch 4: one step per epoch
    assert (marker["world_size"], marker["accumulation"], marker["global_batch"], marker["steps"]) == (2, 2, 4, 2)
    assert not list(tmp_path.glob(".ckpt.*"))
    return out


def _changed(base: Path, out: Path) -> set[str]:
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForImageTextToText, AutoProcessor

    AutoProcessor.from_pretrained(out)
    AutoModelForImageTextToText.from_pretrained(out)          # an ordinary checkpoint
    before, after = load_file(base / "model.safetensors"), load_file(out / "model.safetensors")
    assert set(before) == set(after)
    return {k for k in before if not torch.equal(before[k], after[k])}


@pytest.mark.slow
def test_accelerate_launch_two_cpu_processes_ddp(tiny_model, llava_json, clip_root, tmp_path):
    base = tiny_model("qwen2_vl")
    out = _launch("ddp.yaml", tmp_path, base, llava_json(4), clip_root, "--lr", "1e-3")
    assert any(k.startswith("model.layers.") for k in _changed(base, out))


@pytest.mark.slow
def test_accelerate_launch_deepspeed_zero3_lora(tiny_model, llava_json, clip_root, tmp_path):
    """ZeRO-3 runs on CPU too (DeepSpeed's CPU accelerator uses gloo); the LoRA merge then loads the
    base model in the main process only, outside ZeRO-3's partitioned init."""
    pytest.importorskip("deepspeed", reason="deepspeed is optional (pip install deepspeed)")
    base = tiny_model("qwen2_vl")
    out = _launch("deepspeed_zero3.yaml", tmp_path, base, llava_json(4), clip_root, "--lr", "1e-2", "--lora")
    changed = _changed(base, out)
    assert len(changed) == 8 and all(k.endswith("proj.weight") for k in changed)


def test_example_config_names_only_real_settings():
    import yaml

    from vstar_data.training.recipe import TrainConfig

    text = (ROOT / "configs" / "train_example.yaml").read_text()
    assert text.startswith("#") and "accelerate launch" in text and "--set" in text
    settings = yaml.safe_load(text)
    assert set(settings) <= set(TrainConfig.__dataclass_fields__)
    paper = {"epochs": 1, "learning_rate": 2e-5, "warmup_ratio": 0.03, "lr_scheduler": "cosine",
             "global_batch_size": 128}
    assert {k: settings[k] for k in paper} == paper
    for name in ("ddp.yaml", "fsdp.yaml", "deepspeed_zero3.yaml"):
        acc = yaml.safe_load((ROOT / "configs" / "accelerate" / name).read_text())
        assert acc["distributed_type"] in ("MULTI_GPU", "FSDP", "DEEPSPEED") and acc["mixed_precision"] == "no"
