"""GRPO's reward tally (stats.json's `reward`) counts every process's completions: under DDP each
rank scores only its own share, so rank 0 alone would under-count groups and skew the mean."""
from __future__ import annotations

import os
import socket

import pytest
import torch.multiprocessing as mp

from vstar_data.training.grpo import RewardTally

LABELS = [{"type": "category", "name": "direction", "value": "left", "synonyms": []}]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank(rank: int, port: int, queue) -> None:
    import torch.distributed as dist

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        tally = RewardTally(2, profile="default", format_weight=0.0)
        # rank 0: one group, both completions right; rank 1: two groups, all wrong
        answers = (["It moves left.", "The shape moves to the left."] if rank == 0 else
                   ["It moves right.", "It moves up.", "It moves down.", "It moves right."])
        tally(prompts=["q"] * len(answers), completions=answers, labels=[LABELS] * len(answers))
        queue.put((rank, tally.summary()))
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_the_tally_sums_every_rank():
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    port = _free_port()
    procs = [ctx.Process(target=_rank, args=(r, port, queue)) for r in range(2)]
    for p in procs:
        p.start()
    got = dict(queue.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    # 3 groups in all, 1 with a reward; mean over the 6 completions: 2 right of 6
    assert got[0] == got[1]
    assert got[0]["groups"] == 3 and got[0]["groups_with_reward"] == 1
    assert got[0]["mean"] == pytest.approx(2 / 6, abs=1e-6)


def test_one_process_keeps_its_own_counts():
    tally = RewardTally(2, profile="default", format_weight=0.0)
    tally(prompts=["q", "q"], completions=["It moves left.", "It moves up."], labels=[LABELS, LABELS])
    assert tally.summary() == {"mean": 0.5, "groups_with_reward": 1, "groups": 1}


WORLD = LABELS + [{"type": "category", "name": "colour", "value": "blue", "role": "constraint",
                   "vocabulary": ["red", "green", "blue", "yellow"]},
                  {"type": "number", "name": "count", "value": 1.0, "abs_tol": 0.0, "role": "constraint"}]


@pytest.mark.parametrize("enforce, want", [(True, [1.0, 0.0, 0.0, 1.0]), (False, [1.0, 1.0, 0.0, 1.0])])
def test_the_reward_follows_the_runs_constraint_setting(enforce: bool, want: list[float]) -> None:
    """A wrong colour earns 0 when the run enforces constraints (its verifier rejects the answer),
    the direction's reward when it only measures them; stating a constraint ("1 blue shape")
    earns nothing by itself."""
    tally = RewardTally(2, profile="default", format_weight=0.0, enforce_constraints=enforce)
    answers = ["A blue shape moves left.", "A red shape moves left.", "1 blue shape, 1 blue shape.", "It moves left."]
    assert tally(prompts=["q"] * 4, completions=answers, labels=[WORLD] * 4) == want


def test_the_constraint_setting_is_part_of_the_checkpoint_signature(tmp_path) -> None:
    from vstar_data.training.grpo import GrpoSettings, signature
    from vstar_data.training.recipe import TrainConfig

    (tmp_path / "d.json").write_text("[]")
    (tmp_path / "m").mkdir()
    cfg = TrainConfig(model=str(tmp_path / "m"), data=str(tmp_path / "d.json"), videos="/",
                      output_dir=str(tmp_path / "out"))
    assert signature(cfg, GrpoSettings(), "default", True) != signature(cfg, GrpoSettings(), "default", False)
    assert signature(cfg, GrpoSettings(), "default") == signature(cfg, GrpoSettings(), "default", True)


def test_each_completion_is_verified_with_its_sources_vocabulary() -> None:
    """`vocabularies[row]` is the prompt row's source's class list: a list of directions is no
    answer for the row whose source knows "down", and is for a row without a class list."""
    vocab = {"direction": ["left", "right", "up", "down"]}
    up = [{"type": "category", "name": "direction", "value": "up"}]
    tally = RewardTally(2, profile="default", format_weight=0.0, vocabularies=[vocab, None])
    listed = "The video up up up down up"
    assert tally(prompts=["q"] * 4, completions=[listed, "It moves up.", listed, "It moves up."],
                 labels=[up] * 4, row=[0, 0, 1, 1]) == [0.0, 1.0, 1.0, 1.0]


def test_the_vocabulary_is_part_of_the_signature(tmp_path) -> None:
    from vstar_data.training.grpo import GrpoSettings, signature
    from vstar_data.training.recipe import TrainConfig

    (tmp_path / "d.json").write_text("[]")
    (tmp_path / "m").mkdir()
    cfg = TrainConfig(model=str(tmp_path / "m"), data=str(tmp_path / "d.json"), videos="/",
                      output_dir=str(tmp_path / "out"))
    plain = signature(cfg, GrpoSettings(), "default")
    assert signature(cfg, GrpoSettings(), "default", True, {"shapes": {"direction": ["up", "down"]}}) != plain
