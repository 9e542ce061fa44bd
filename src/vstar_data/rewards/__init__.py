"""Stage 4b, rewards: the verifier as a graded reward for RL with verifiable rewards (GRPO and
friends), callable the way TRL, verl and EasyR1 call reward functions.

``from vstar_data.rewards import trl_reward`` then ``GRPOTrainer(..., reward_funcs=[trl_reward])``
with a dataset from ``vstar-data export --format grpo``. See docs/rewards.md.
"""
from __future__ import annotations

from ._inputs import completion_text, parse_labels
from .answer_format import ANSWER_FORMATS, THINK_INSTRUCTION, prompt_with_format, split_answer
from .frameworks import easyr1_compute_score, trl_reward, verl_compute_score
from .scoring import label_reward, score_answer, score_many

__all__ = ["trl_reward", "verl_compute_score", "easyr1_compute_score", "score_answer", "score_many",
           "label_reward", "parse_labels", "completion_text", "split_answer", "prompt_with_format",
           "ANSWER_FORMATS", "THINK_INSTRUCTION"]
