"""`training.method: grpo`: two cycles on the fixture clips with a tiny Qwen2-VL generating
(transformers backend), each cycle trained by GRPO on all its prompts with the verifier's reward;
cycle 1 generates with cycle 0's GRPO checkpoint; the settings are checked before cycle 0."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from vstar_data.config import load_run_config
from vstar_data.cycle.runner import CycleRunner
from vstar_data.errors import ConfigError

pytest.importorskip("trl")


def _config(tmp: Path, kinetics_dir: Path, videos_dir: Path, model: Path, **training) -> Path:
    cfg = {"run_dir": str(tmp / "run"), "seed": 0,
           "sources": [{"adapter": "kinetics700", "annotations": str(kinetics_dir / "local_clips.csv"),
                        "videos": str(videos_dir), "limit": 3}],
           "model": {"pretrained": str(model)},
           "backend": {"name": "transformers", "batch_size": 4, "max_new_tokens": 6, "temperature": 0.0},
           "frames": {"num_frames": 2, "size": 32},
           "training": {"method": "grpo", "max_steps": 1, "global_batch_size": 4, "per_device_batch_size": 2,
                        "dataloader_workers": 0, "learning_rate": 5e-3, "warmup_ratio": 0.0, "cache_rows": 16,
                        "grpo": {"num_generations": 2, "max_completion_length": 6, "beta": 0.1}, **training},
           "cycles": {"max": 2, "plateau_metric": "yield", "min_delta": None}}
    path = tmp / "run.yaml"
    path.write_text(yaml.safe_dump(cfg), "utf-8")
    return path


def _watch_videos(monkeypatch) -> list[bool]:
    """Check every forward pass of the GRPO trainers (policy with grad, reference without): each
    sequence's video tensors are exactly those of its own prompt row (found by its pixels: the
    clips differ), whose prompt the sequence starts with, with one video token per merged patch.
    TRL shuffles a generation batch and splits it over accumulation steps; alignment must survive."""
    import torch

    from vstar_data.training import grpo

    seen: list[bool] = []
    real = grpo.setup

    def setup(*args, **kwargs):
        run, tally = real(*args, **kwargs)
        trainer = run.trainer
        encoded = [trainer.encode_row(i) for i in range(len(trainer.video_rows))]
        merge = trainer.processing_class.video_processor.merge_size ** 2
        pad = trainer.processing_class.tokenizer.pad_token_id

        def hook(module, args, kw):
            ids, grid, pix = kw["input_ids"], kw.get("video_grid_thw"), kw.get("pixel_values_videos")
            if grid is None or ids.shape[1] == 1:
                return
            offset = 0
            for b in range(ids.shape[0]):
                n = int(grid[b].prod())
                row = next(e for e in encoded if torch.equal(e["pixel_values_videos"], pix[offset:offset + n]))
                prompt = row["input_ids"][0].tolist()
                tokens = [t for t in ids[b].tolist()]
                start = next(k for k, t in enumerate(tokens) if t != pad)
                assert tokens[start:start + len(prompt)] == prompt
                assert int((ids[b] == trainer.video_token_id).sum()) == n // merge
                offset += n
            assert offset == pix.shape[0]
            seen.append(torch.is_grad_enabled())

        trainer.model.register_forward_pre_hook(hook, with_kwargs=True)
        if trainer.ref_model is not None:
            trainer.ref_model.register_forward_pre_hook(hook, with_kwargs=True)
        return run, tally

    monkeypatch.setattr(grpo, "setup", setup)
    return seen


@pytest.mark.slow
def test_grpo_build_two_cycles_on_the_fixture_clips(tmp_path, kinetics_dir, videos_dir, monkeypatch):
    import torch
    from safetensors.torch import load_file

    import vstar_data.rewards as rewards
    from vstar_data.backends.tiny import build_tiny_model

    model = build_tiny_model("qwen2_vl", tmp_path / "tiny")
    real = rewards.trl_reward
    calls, settings, vocabularies = [], [], []

    def reward(prompts=None, completions=None, *, labels=None, **kw):
        """The real reward, or a completion's length in characters / 100: a random model never
        names a Kinetics class, and an all-zero reward would teach nothing. (Length, not its
        parity: two completions of a group differ in parity only half the time, so whether the
        policy moved depended on the random model's draw.)"""
        scores = real(prompts, completions, labels=labels, **kw)
        shaped = [max(s or 0.0, len(rewards.completion_text(c)) / 100) for s, c in zip(scores, completions)]
        calls.append((list(completions), list(labels), shaped))
        settings.append(kw.get("enforce_constraints"))
        vocabularies.append(kw.get("vocabulary"))
        return shaped

    monkeypatch.setattr(rewards, "trl_reward", reward)
    seen = _watch_videos(monkeypatch)
    mix = tmp_path / "chat.json"          # general instruction rows: no labels, nothing to reward
    mix.write_text(json.dumps([{"id": "t0", "conversations": [{"from": "human", "value": "Hi"},
                                                              {"from": "gpt", "value": "Hello."}]}]))
    rc = load_run_config(_config(tmp_path, kinetics_dir, videos_dir, model, mix=[{"path": str(mix), "share": 2.0}]))
    said: list[str] = []
    stats = CycleRunner(rc, echo=said.append).run()

    assert [s["cycle"] for s in stats] == [0, 1]
    assert stats[0]["model"] == str(model) and stats[1]["model"] == stats[0]["checkpoint"]
    assert stats[1]["trained_from"] == stats[0]["checkpoint"]          # GRPO continues the policy
    for s in stats:
        assert s["method"] == "grpo" and s["prompts"] == 3 and s["steps"] == 1
        assert s["mix_left_out"] == {"chat": 6}      # share 2.0 x 3 prompts, left out and counted
        marker = json.loads(Path(s["checkpoint"], "train_done.json").read_text())
        assert marker["method"] == "grpo" and marker["reward"] == s["reward"]
        assert marker["constraints"] == "enforce"        # the run's verifier.constraints (the default)
    # the reward recorded is the one handed out: 2 prompts x 2 completions per cycle (one step)
    assert settings == [True] * 8                 # the reward follows verifier.constraints
    # ... and verifies with the source's class list, as generation does (one call per completion)
    assert all(v is not None and "arm wrestling" in v["action"] for v in vocabularies)
    calls = [(sum((c[0] for c in calls[k:k + 4]), []), sum((c[1] for c in calls[k:k + 4]), []),
              sum((c[2] for c in calls[k:k + 4]), [])) for k in (0, 4)]     # per step: 4 completions
    for s, (completions, labels, scores) in zip(stats, calls):
        assert len(completions) == 4 and all(json.loads(lab)[0]["type"] == "category" for lab in labels)
        assert s["reward"]["mean"] == pytest.approx(sum(scores) / 4)
        groups = [scores[i:i + 2] for i in (0, 2)]
        assert s["reward"]["groups"] == 2 and s["reward"]["groups_with_reward"] == sum(any(g) for g in groups)
    # cycle 1's rows were generated by cycle 0's checkpoint, on the fixture clips
    from vstar_data.backends.transformers import folder_fingerprint

    def rows(cycle):
        gen = rc.run_dir / f"cycle-{cycle}" / "generate" / "00-kinetics700" / "attempts"
        return [json.loads(x) for f in sorted(gen.glob("*.jsonl")) for x in f.read_text().splitlines() if x.strip()]

    assert {r["model_revision"] for r in rows(0)} == {folder_fingerprint(model)}
    assert {r["model_revision"] for r in rows(1)} == {folder_fingerprint(Path(stats[0]["checkpoint"]))}
    assert {Path(r["video"]).stem for r in rows(1)} == {"arm_wrestling", "eye_makeup", "pool_cleaning_1s"}
    # ... and that checkpoint is not the model it started from (a non-zero advantage moved it)
    before, after = load_file(str(model / "model.safetensors")), load_file(str(Path(stats[0]["checkpoint"],
                                                                                      "model.safetensors")))
    assert any(not torch.equal(before[k], after[k]) for k in before if k in after)
    assert True in seen and False in seen       # the policy's loss pass and the reference pass (beta > 0)
    prompts = json.loads((rc.run_dir / "cycle-0" / "grpo_prompts.json").read_text())
    assert len(prompts) == 3 and all(p["conversations"][0]["value"].startswith("<video>") for p in prompts)
    assert any("training.mix left out under grpo" in m and "chat 6 rows" in m for m in said)


@pytest.mark.parametrize("training, match", [
    ({"method": "ppo"}, "training/method: must be one of sft, grpo"),
    ({"grpo": {"num_generation": 4}}, "did you mean 'num_generations'"),
    ({"grpo": {"beta": -1}}, "beta must be a number >= 0"),
    ({"grpo": {"format_weight": 2}}, r"format_weight must be a number in \[0, 1\]"),
    ({"grpo": {"num_generations": 1}}, "num_generations must be an integer >= 2"),
    ({"grpo": {"num_generations": 3}}, "not a multiple of grpo.num_generations"),
    ({"metod": "grpo"}, "did you mean 'method'"),
])
def test_grpo_settings_are_checked_before_cycle_0(tmp_path, kinetics_dir, videos_dir, training, match):
    from vstar_data.training.checks import settings_problems

    base = {"method": "grpo", "global_batch_size": 4, "grpo": {"num_generations": 2}}
    problems = settings_problems({**base, **training})
    assert any(__import__("re").search(match, p) for p in problems), problems
    assert settings_problems(base) == []
    with pytest.raises(ConfigError, match="cannot train"):
        cfg = yaml.safe_load(_config(tmp_path, kinetics_dir, videos_dir, tmp_path / "nomodel").read_text())
        cfg["training"].update(training)
        (tmp_path / "bad.yaml").write_text(yaml.safe_dump(cfg))
        CycleRunner(load_run_config(tmp_path / "bad.yaml"), echo=lambda m: None).check()
