"""The verifier as a reward function, in the calling conventions of three RL trainers. Each
scores a `<think>..</think><answer>..</answer>` completion on its last `<answer>` block and takes
`format_weight` (0 by default) the way that framework hands over options:

- TRL: ``GRPOTrainer(reward_funcs=[trl_reward])``; TRL calls it with ``prompts``,
  ``completions`` (strings, or message lists for conversational data) and every other dataset
  column as a keyword list; the ground truth is the row's ``labels`` column (the `grpo` export's
  JSON string, the published label structs, or spec dicts). None for a row with no label that
  applies: TRL leaves it out of that reward's mean. ``format_weight`` is a keyword
  (``functools.partial``).
- verl: ``compute_score(data_source, solution_str, ground_truth, extra_info=None)`` returns a dict
  with ``score`` (a float, 0.0 where no label applies) and ``acc`` / ``format`` / ``applicable``
  (floats, the same keys for every sample as verl's reward manager requires);
  ``extra_info["format_weight"]`` sets the weight per sample.
- EasyR1: a batch ``compute_score(reward_inputs, format_weight=0.0)`` (EasyR1 passes
  ``worker.reward.reward_function_kwargs``): each input has ``response`` and ``ground_truth`` (the
  label specs as a JSON string); each output ``{"overall", "format", "accuracy", "accepted"}``.
"""
from __future__ import annotations

from typing import Any

from .scoring import DEFAULT_NUMBER_SCALE, score_answer

REWARD_NAME = "vstar_verifier"
REWARD_TYPE = "batch"   # EasyR1 reads these two module attributes from a reward file


def trl_reward(prompts: list[Any] | None = None, completions: list[Any] | None = None, *,
               labels: list[Any] | None = None, profile: str = "default",
               number_scale: float = DEFAULT_NUMBER_SCALE, format_weight: float = 0.0,
               enforce_constraints: bool = True, vocabulary: Any = None, **columns: Any) -> list[float | None]:
    """TRL reward function: one graded score in [0, 1] (or None) per completion. `vocabulary`:
    the source's classes per label name, as generation's verifier has them (bind it with
    functools.partial)."""
    completions = list(completions or [])
    if labels is None:
        raise TypeError("trl_reward needs the dataset's `labels` column (export with --format grpo); "
                        f"columns given: {', '.join(sorted(columns)) or 'none'}")
    labels = list(labels)
    if len(labels) != len(completions):
        raise ValueError(f"{len(completions)} completions but {len(labels)} labels")
    return [score_answer(lab, comp, profile=profile, number_scale=number_scale, format_weight=format_weight,
                         enforce_constraints=enforce_constraints, vocabulary=vocabulary)["score"]
            for lab, comp in zip(labels, completions)]


trl_reward.__name__ = "vstar_verifier"


def verl_compute_score(data_source: Any, solution_str: str, ground_truth: Any, extra_info: Any = None, *,
                       profile: str = "default", number_scale: float = DEFAULT_NUMBER_SCALE,
                       format_weight: float = 0.0, enforce_constraints: bool = True,
                       **kwargs: Any) -> dict[str, float]:
    """verl custom reward: ``{"score", "acc", "format", "applicable"}`` (all floats);
    ``extra_info["format_weight"]`` and ``extra_info["enforce_constraints"]``, when given,
    override the keywords."""
    if isinstance(extra_info, dict) and extra_info.get("format_weight") is not None:
        format_weight = extra_info["format_weight"]
    if isinstance(extra_info, dict) and extra_info.get("enforce_constraints") is not None:
        enforce_constraints = bool(extra_info["enforce_constraints"])
    scored = score_answer(ground_truth, solution_str, profile=profile, number_scale=number_scale,
                          format_weight=format_weight, enforce_constraints=enforce_constraints)
    applicable = scored["score"] is not None
    return {"score": float(scored["score"]) if applicable else 0.0, "acc": float(scored["accepted"]),
            "format": float(scored["format"]), "applicable": float(applicable)}


def easyr1_compute_score(reward_inputs: list[dict[str, Any]], format_weight: float = 0.0, *,
                         profile: str = "default", number_scale: float = DEFAULT_NUMBER_SCALE,
                         enforce_constraints: bool = True) -> list[dict[str, float]]:
    """EasyR1 batch reward: ``[{"overall", "format", "accuracy", "accepted"}]`` (accuracy: the
    verifier's graded score of the answer part; "accepted": every label passed the verifier)."""
    if not isinstance(reward_inputs, list):
        raise TypeError("EasyR1's batch reward gets a list of reward inputs (set REWARD_TYPE = 'batch')")
    out = []
    for item in reward_inputs:
        scored = score_answer(item.get("ground_truth"), item.get("response", ""), profile=profile,
                              number_scale=number_scale, format_weight=format_weight,
                              enforce_constraints=enforce_constraints)
        out.append({"overall": float(scored["score"]) if scored["score"] is not None else 0.0,
                    "format": float(scored["format"]),
                    "accuracy": float(scored["accuracy"]) if scored["accuracy"] is not None else 0.0,
                    "accepted": float(scored["accepted"])})
    return out
