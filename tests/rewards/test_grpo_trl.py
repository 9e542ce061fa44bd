"""TRL's GRPOTrainer trains two steps on CPU with our reward on a `grpo` export: frames as images,
a tiny random Qwen2-VL built from a config, the `labels` column handed to `trl_reward`."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dataset"))
from factory import make_attempts, write_rows_dir  # noqa: E402

pytest.importorskip("trl")


@pytest.mark.slow
def test_grpo_two_steps_with_the_verifier_reward(tmp_path, videos_dir):
    from datasets import Image, List, load_dataset
    from trl import GRPOConfig, GRPOTrainer

    from vstar_data.backends.tiny import build_tiny_model
    from vstar_data.dataset.export import export
    from vstar_data.dataset.store import publish
    from vstar_data.rewards import score_answer, trl_reward

    rows = make_attempts(3, cycle=1, sources=("kinetics700", "finediving"))   # 2 accepted each
    for row in rows:
        row["video"] = "yoga.mp4" if row["source"] == "kinetics700" else "playing_guitar.mp4"
    publish(write_rows_dir(tmp_path / "rows", rows), tmp_path / "store", "v1", "first")
    export(tmp_path / "store", tmp_path / "grpo", "grpo", video_root=videos_dir, num_frames=2, frame_size=32)
    ds = load_dataset("json", data_files=str(tmp_path / "grpo" / "data.jsonl"), split="train",
                      cache_dir=str(tmp_path / "cache"))
    ds = ds.cast_column("images", List(Image()))
    assert len(ds) == 4

    calls = []

    def reward(prompts, completions, labels, **kwargs):
        scores = trl_reward(prompts=prompts, completions=completions, labels=labels, **kwargs)
        calls.append((completions, labels, scores))
        return scores

    reward.__name__ = "vstar_verifier"
    model = build_tiny_model("qwen2_vl", tmp_path / "model")
    args = GRPOConfig(output_dir=str(tmp_path / "out"), max_steps=2, per_device_train_batch_size=2,
                      num_generations=2, max_completion_length=8, learning_rate=1e-3, logging_steps=1,
                      report_to=[], use_cpu=True, save_strategy="no", seed=0, bf16=False,
                      dataloader_num_workers=0)
    trainer = GRPOTrainer(model=str(model), reward_funcs=[reward], args=args, train_dataset=ds)
    trainer.train()
    assert trainer.state.global_step == 2
    assert calls, "the reward was never called"
    for completions, labels, scores in calls:
        assert len(completions) == len(labels) == len(scores)
        for comp, lab, score in zip(completions, labels, scores):
            specs = json.loads(lab)
            assert {s["type"] for s in specs} <= {"category", "number", "sequence"}
            assert score == score_answer(lab, comp)["score"] and 0.0 <= score <= 1.0
    logged = [h for h in trainer.state.log_history if "rewards/vstar_verifier/mean" in h]
    assert len(logged) == 2
