"""Graded scores in [0, 1] from the verifier's label types, so the same labels that filter
generated data can reward a policy:

- `category` (and `choice`, `boolean`): 1.0 when the verifier accepts the label (its commitment
  rules: named as the answer's own unnegated claim), else 0.0;
- `number`: ``max(0, 1 - rel_err / tol_scale)`` for the stated value the verifier attaches to the
  label (0 when none is stated), where ``tol_scale = number_scale x`` the label's relative
  tolerance (`rel_tol`, or `abs_tol` / |value|, else the profile's); with the default
  number_scale 2 an answer at the edge of the tolerance earns 0.5;
- `interval`: the temporal IoU of the best stated interval;
- `sequence`: order-aware match, the longest run of items stated in the label's order over the
  number of items;
- any other type (plugins; `text`, `bbox`, ...): its LabelResult score when it lies in [0, 1],
  else pass/fail. A label type may set ``reward = "pass_fail"`` or ``"graded"`` to choose.

A label whose type is not installed does not apply (None); a row's accuracy is the mean over the
target labels that apply, None when none does. Constraint labels (`"role": "constraint"`) are never
scored, as everywhere: an answer need not state them, and one that contradicts one is rejected by
the verifier, so its reward is 0 (with `enforce_constraints=False`, a run's `verifier.constraints:
measure`, the contradiction is only reported). A completion in ``<think>..</think><answer>..</answer>``
form is scored on its last `<answer>` block, and its score is ``(1 - format_weight) x accuracy +
format_weight x format`` (answer_format.py; format_weight 0 by default: the score is the accuracy).
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Iterable

from ..errors import ConfigError
from ..registry import LABEL_TYPES
from ..sources.sample import is_constraint
from ..verify.constraints import check_constraint, contradictions
from ..verify.labels.base import LabelResult
from ..verify.repetition import repeated_run
from ..verify.verifier import Verifier, is_hint_echo
from ._inputs import parse_labels
from .answer_format import check_format_weight, combine, split_answer

PASS_FAIL_TYPES = frozenset({"category", "choice", "boolean"})
DEFAULT_NUMBER_SCALE = 2.0


@lru_cache(maxsize=16)
def verifier(profile: str = "default") -> Verifier:
    return Verifier(profile)


def label_reward(spec: dict[str, Any], result: LabelResult, *, profile_rel_tol: float, profile_abs_tol: float | None,
                 number_scale: float = DEFAULT_NUMBER_SCALE, mode: str | None = None) -> float:
    """The graded score of one verified label (see the module docstring)."""
    kind = spec["type"]
    if mode == "pass_fail" or (mode is None and kind in PASS_FAIL_TYPES):
        return 1.0 if result.passed else 0.0
    if kind == "number" and mode is None:
        stated = result.extra.get("value")
        if stated is None:
            return 0.0
        target = float(spec["value"])
        rel, ab = spec.get("rel_tol"), spec.get("abs_tol")
        if rel is None and ab is None:
            rel, ab = profile_rel_tol, profile_abs_tol
        tol = max(float(rel) * abs(target) if rel is not None else 0.0, float(ab) if ab is not None else 0.0)
        err = abs(float(stated) - target)
        if tol <= 0:
            return 1.0 if err == 0 else 0.0
        return max(0.0, 1.0 - err / (number_scale * tol))
    score = float(result.score)
    if math.isfinite(score) and 0.0 <= score <= 1.0:
        return score
    return 1.0 if result.passed else 0.0


def score_answer(labels: Any, answer: Any, *, profile: str = "default",
                 number_scale: float = DEFAULT_NUMBER_SCALE, format_weight: float = 0.0,
                 enforce_constraints: bool = True, vocabulary: Any = None) -> dict[str, Any]:
    """Verify `answer` (its last `<answer>` block when it has one) against `labels` (any form
    `parse_labels` reads): ``{"score": the reward or None, "accuracy": mean graded target label
    score (0 when an enforced constraint is contradicted) or None, "format": 1.0 / 0.0, "accepted":
    every applicable target passed and no enforced constraint contradicted, "contradicts":
    [constraint names], "labels": [{name, type, role, score, passed, reason}], "not_applicable":
    [types]}``. `vocabulary`: the source's classes per label name (`Adapter.label_vocabulary`), as
    generation's verifier gets them: "up up down" then names two classes and is not a commitment."""
    from ._inputs import completion_text

    weight = check_format_weight(format_weight)
    specs = parse_labels(labels)
    parts = split_answer(completion_text(answer))
    text = parts.answer
    v = verifier(profile)
    per_label, skipped = [], []
    for spec in specs:
        kind = spec["type"]
        if kind not in LABEL_TYPES:
            skipped.append(kind)
            continue
        try:
            lt = v.label_type(kind)
        except ConfigError:
            skipped.append(kind)
            continue
        spec = v.with_vocabulary(spec, lt, vocabulary)
        if is_constraint(spec):
            result = check_constraint(lt, spec, text, v.profile)
            per_label.append({"name": spec.get("name"), "type": kind, "role": "constraint", "score": None,
                              "passed": bool(result.passed), "reason": result.reason})
            continue
        result = lt.verify(spec, text, v.profile)
        mode = getattr(lt, "reward", None)
        value = label_reward(spec, result, profile_rel_tol=v.profile.rel_tol, profile_abs_tol=v.profile.abs_tol,
                             number_scale=number_scale, mode=mode)
        per_label.append({"name": spec.get("name"), "type": kind, "role": "target", "score": value,
                          "passed": bool(result.passed), "reason": result.reason})
    targets = [p for p in per_label if p["role"] == "target"]
    contradicted = contradictions(p for p in per_label if p["role"] == "constraint")
    # a loop ("right right right right ...") is no answer, as the verifier rejects it (repetition.py)
    rejected = (enforce_constraints and bool(contradicted)) or \
        repeated_run(text, int(v.profile.max_repeats)) is not None
    accuracy = (0.0 if rejected else sum(p["score"] for p in targets) / len(targets)) if targets else None
    return {"score": combine(accuracy, parts.format, weight), "accuracy": accuracy, "format": parts.format,
            "accepted": bool(targets) and all(p["passed"] for p in targets) and not rejected,
            "contradicts": contradicted, "labels": per_label, "not_applicable": skipped,
            "hint_echo": is_hint_echo(text)[1]}


def score_many(labels: Iterable[Any], answers: Iterable[Any], **kwargs: Any) -> list[float | None]:
    return [score_answer(lab, ans, **kwargs)["score"] for lab, ans in zip(labels, answers)]
