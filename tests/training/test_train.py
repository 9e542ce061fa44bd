"""End-to-end training on CPU with tiny models: full fine-tuning, LoRA (merged), the done marker."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import torch

from vstar_data.errors import ConfigError
from vstar_data.training.recipe import DONE_FILE, TrainConfig, plan_batch, train

from .conftest import ANSWERS, QUESTION

FAST = dict(num_frames=2, frame_size=32, global_batch_size=2, dataloader_workers=0, logging_steps=1)


def _cfg(model: Path, data: Path, videos: Path, out: Path, **kw) -> TrainConfig:
    return TrainConfig(model=str(model), data=str(data), videos=str(videos), output_dir=str(out),
                       **{**FAST, **kw})


def _example(model_dir: Path, clip: Path, answer: str):
    """One encoded training example (batch of 1) for `model_dir`'s processor."""
    from transformers import AutoProcessor

    from vstar_data.video.frames import sample_frames
    from vstar_data.training.data import PadCollator, encode, to_messages

    proc = AutoProcessor.from_pretrained(model_dir)
    frames = sample_frames(clip, 2, size=32)
    turns = [{"from": "user", "value": f"<video>\n{QUESTION}"}, {"from": "assistant", "value": answer}]
    item = encode(proc, to_messages(turns, frames.array), frames.metadata())
    return proc, frames, PadCollator(proc.tokenizer.pad_token_id)([item])


def _loss(model_dir: Path, batch) -> float:
    from transformers import AutoModelForImageTextToText

    model = AutoModelForImageTextToText.from_pretrained(model_dir).eval()
    with torch.no_grad():
        return float(model(**batch).loss)


@pytest.fixture(scope="module")
def overfit(tiny_model, clip_root, tmp_path_factory):
    """Full fine-tuning on 2 examples for 20 steps at lr 5e-3 (module-scoped: several tests read it)."""
    base = tmp_path_factory.mktemp("overfit")
    data = base / "train.json"
    from .conftest import llava_rows

    data.write_text(json.dumps(llava_rows(2)), "utf-8")
    cfg = _cfg(tiny_model("qwen2_vl"), data, clip_root, base / "ckpt", max_steps=20, learning_rate=5e-3)
    return cfg, train(cfg)


def test_full_finetune_overfits_and_checkpoint_loads(overfit, tiny_model, clip_root):
    cfg, result = overfit
    marker = json.loads((result.output_dir / DONE_FILE).read_text())
    losses = marker["loss_history"]
    assert result.steps == 20 and len(losses) == 20 and not result.from_marker
    assert losses[-1] < losses[0] / 3, losses               # it learns the two answers
    assert result.final_loss == losses[-1] and result.samples_per_s > 0 and result.seconds > 0
    assert marker["accumulation"] == 2 and marker["global_batch"] == 2 and marker["world_size"] == 1
    # the saved weights are the trained ones: same low loss after a reload, far below the base model's
    proc, frames, batch = _example(result.output_dir, clip_root / "clips" / "c0.mp4", ANSWERS[0])
    trained, before = _loss(result.output_dir, batch), _loss(tiny_model("qwen2_vl"), batch)
    assert trained < before / 3, (trained, before)
    # ... and the folder is an ordinary checkpoint: AutoProcessor + AutoModel load it and generate
    from transformers import AutoModelForImageTextToText

    model = AutoModelForImageTextToText.from_pretrained(result.output_dir).eval()
    conv = [{"role": "user", "content": [{"type": "video", "video": frames.array}, {"type": "text", "text": QUESTION}]}]
    inputs = proc.apply_chat_template(conv, add_generation_prompt=True, tokenize=True, return_dict=True,
                                      return_tensors="pt", processor_kwargs={"videos_kwargs": {
                                          "video_metadata": [frames.metadata()], "do_sample_frames": False}})
    out = model.generate(**inputs, max_new_tokens=8, do_sample=False)
    assert out.shape[1] > inputs["input_ids"].shape[1]
    from safetensors.torch import load_file

    before, after = load_file(tiny_model("qwen2_vl") / "model.safetensors"), load_file(result.output_dir / "model.safetensors")
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    vision = {k for k in before if k.startswith("visual.")}
    assert not (changed & {k for k in vision if ".merger." not in k})          # vision encoder frozen
    assert changed & {k for k in vision if ".merger." in k}                    # projector trained
    assert any(k.startswith("model.layers.") for k in changed)                  # language model trained
    conf = json.loads((result.output_dir / "config.json").read_text())
    assert False not in (conf.get("use_cache"), conf["text_config"].get("use_cache"))  # KV cache back on
    assert not list(result.output_dir.parent.glob(".ckpt.tmp-*"))


def test_finished_training_is_not_repeated(overfit):
    cfg, first = overfit
    mtime = (first.output_dir / "model.safetensors").stat().st_mtime_ns
    t0 = time.perf_counter()
    again = train(TrainConfig(**{**cfg.__dict__, "dataloader_workers": 2, "logging_steps": 5}))  # speed knobs only
    assert again.from_marker and time.perf_counter() - t0 < 3
    assert (again.train_loss, again.steps) == (first.train_loss, first.steps)
    assert (first.output_dir / "model.safetensors").stat().st_mtime_ns == mtime
    with pytest.raises(ConfigError, match="other settings"):
        train(TrainConfig(**{**cfg.__dict__, "learning_rate": 1e-3}))


def test_changed_data_or_overwrite_retrains(overfit, tmp_path):
    cfg, first = overfit
    data = tmp_path / "changed.json"
    rows = json.loads(Path(cfg.data).read_text())
    rows[0]["conversations"][1]["value"] = "Something else entirely."
    data.write_text(json.dumps(rows))
    with pytest.raises(ConfigError, match="other settings or data"):
        train(TrainConfig(**{**cfg.__dict__, "data": str(data)}))
    out = tmp_path / "copy"
    import shutil

    shutil.copytree(first.output_dir, out)
    redone = train(TrainConfig(**{**cfg.__dict__, "data": str(data), "output_dir": str(out),
                                  "max_steps": 2, "overwrite": True}))
    assert not redone.from_marker and redone.steps == 2
    assert json.loads((out / DONE_FILE).read_text())["config"]["data"] == str(data)
    assert not list(tmp_path.glob(".copy.*"))


def test_lora_is_merged_into_an_ordinary_checkpoint(tiny_model, llava_json, clip_root, tmp_path):
    from safetensors.torch import load_file

    base = tiny_model("qwen2_vl")
    result = train(_cfg(base, llava_json(2), clip_root, tmp_path / "lora", lora=True, lora_r=8,
                        max_steps=20, learning_rate=1e-2))
    losses = json.loads((result.output_dir / DONE_FILE).read_text())["loss_history"]
    assert losses[-1] < losses[0] * 0.8, losses
    assert not (result.output_dir / "adapter_config.json").exists()      # merged, not an adapter
    assert (result.output_dir / "adapter" / "adapter_config.json").exists()  # kept beside it
    before, after = load_file(base / "model.safetensors"), load_file(result.output_dir / "model.safetensors")
    assert set(before) == set(after)                                    # same names: no lora_A/lora_B
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.endswith(("q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.weight"))
                           and "visual" not in k for k in changed)      # language attention only
    assert len(changed) == 2 * 4                                      # 2 layers x 4 projections
    _, _, batch = _example(result.output_dir, clip_root / "clips" / "c0.mp4", ANSWERS[0])
    assert _loss(result.output_dir, batch) < _loss(base, batch)


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["llava_onevision", "llava_next_video"])
def test_llava_family_trains_and_loads(arch, tiny_model, llava_json, clip_root, tmp_path):
    lora = arch == "llava_next_video"
    result = train(_cfg(tiny_model(arch), llava_json(2), clip_root, tmp_path / arch, max_steps=12,
                        learning_rate=1e-2 if lora else 5e-3, lora=lora))
    losses = json.loads((result.output_dir / DONE_FILE).read_text())["loss_history"]
    factor = 0.8 if lora else 0.5
    assert losses[-1] < losses[0] * factor, losses
    _, _, batch = _example(result.output_dir, clip_root / "clips" / "c1.mp4", ANSWERS[1])
    assert _loss(result.output_dir, batch) < _loss(tiny_model(arch), batch) * factor


def test_stale_temp_folder_of_a_killed_run_is_discarded(tiny_model, llava_json, clip_root, tmp_path):
    stale = tmp_path / ".ckpt.tmp-0123456789abcdef"
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"half a file")
    result = train(_cfg(tiny_model("qwen2_vl"), llava_json(2), clip_root, tmp_path / "ckpt", max_steps=1))
    assert result.steps == 1 and (tmp_path / "ckpt" / DONE_FILE).exists()
    assert not stale.exists() and not list(tmp_path.glob(".ckpt.*"))


def test_skipped_rows_are_counted_and_no_rows_is_an_error(tiny_model, clip_root, tmp_path):
    from .conftest import llava_rows

    rows = llava_rows(2) + [{"id": "gone", "video": "clips/missing.mp4", "conversations": llava_rows(1)[0]["conversations"]},
                            {"id": "esc", "video": "../x.mp4", "conversations": llava_rows(1)[0]["conversations"]},
                            {"id": "noans", "video": "clips/c0.mp4", "conversations": [{"from": "human", "value": "q"}]}]
    data = tmp_path / "rows.json"
    data.write_text(json.dumps(rows))
    result = train(_cfg(tiny_model("qwen2_vl"), data, clip_root, tmp_path / "ckpt", max_steps=1))
    assert result.rows == 2 and result.skipped == {"video_missing": 1, "unsafe_path": 1, "no_answer": 1}
    data.write_text(json.dumps(rows[2:]))
    with pytest.raises(ConfigError, match="no usable training rows"):
        train(_cfg(tiny_model("qwen2_vl"), data, clip_root, tmp_path / "none", max_steps=1))


def test_config_reports_every_problem_at_once(tmp_path):
    with pytest.raises(ConfigError) as err:
        TrainConfig(model="m", data=str(tmp_path / "nope.json"), output_dir=str(tmp_path / "o"),
                    learning_rate=0, warmup_ratio=1.5, global_batch_size=0, precision="fp8",
                    lora=True, lora_target_modules=[])
    problems = "\n".join(err.value.problems)
    for needle in ("does not exist", "learning_rate", "warmup_ratio", "global_batch_size", "precision",
                   "lora_target_modules"):
        assert needle in problems
    assert len(err.value.problems) == 6


@pytest.mark.parametrize("global_batch,per_device,world,rows,expect", [
    (128, 1, 1, 10_000, (128, 128)),      # paper: all accumulation on one device
    (128, 2, 8, 10_000, (8, 128)),        # 2 x 8 x 8
    (128, 4, 3, 10_000, (11, 132)),       # not divisible: rounded, effective batch reported
    (128, 1, 2, 6, (3, 6)),               # tiny data: one step per epoch instead of none
    (4, 8, 1, 100, (1, 8)),               # micro-batch already larger than the global batch
])
def test_batch_plan(global_batch, per_device, world, rows, expect):
    accum, effective, note = plan_batch(global_batch, per_device, world, rows)
    assert (accum, effective) == expect
    assert (note is None) == (effective == global_batch)


@pytest.mark.slow
def test_training_killed_midway_is_redone(tiny_model, llava_json, clip_root, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    cfg = _cfg(tiny_model("qwen2_vl"), llava_json(2), clip_root, tmp_path / "ckpt", max_steps=30,
               learning_rate=1e-3)
    code = ("import json, sys; from vstar_data.training.recipe import TrainConfig, train; "
            "train(TrainConfig(**json.loads(sys.argv[1])))")
    proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(cfg.__dict__)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    seen = []
    for line in proc.stdout:                     # wait until it is really training, then kill -9
        seen.append(line)
        if "'loss'" in line:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "".join(seen[-20:])
    assert not (tmp_path / "ckpt").exists()      # nothing half-trained where a checkpoint belongs
    result = train(cfg)
    assert not result.from_marker and result.steps == 30
    assert train(cfg).from_marker
    assert not list(tmp_path.glob(".ckpt.*"))
