"""Metrics a label type declares for held-out evaluation, and the aggregations they use.

A label type scores each held-out answer into per-answer values (`LabelType.score` -> a dict such
as ``{"iou": 0.8, "r1@0.5": True}``) and declares, as data, which aggregation turns those values
into each reported metric (`LabelType.metrics`, a tuple of `Metric`), the way lm-evaluation-harness
tasks declare a `metric_list`. The evaluation (cycle/evaluation.py) only collects and aggregates.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

FORMATS = ("percent", "number", "count")


def ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (ties share their mean rank), as Spearman's rho needs."""
    order = np.argsort(x, kind="mergesort")
    out = np.empty(len(x), dtype=float)
    sorted_x = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and sorted_x[j + 1] == sorted_x[i]:
            j += 1
        out[order[i:j + 1]] = (i + j) / 2.0
        i = j + 1
    return out


def spearman(pred: Sequence[float], true: Sequence[float]) -> float | None:
    """Spearman's rank correlation; None when undefined (fewer than 2 pairs or a constant side)."""
    if len(pred) < 2:
        return None
    a, b = ranks(np.asarray(pred, float)), ranks(np.asarray(true, float))
    if a.std() == 0 or b.std() == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def edit_distance(a: Sequence[str], b: Sequence[str]) -> int:
    """Levenshtein distance between two item lists."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def _mean(values: list[Any]) -> float | None:
    return float(np.mean(values)) if values else None


def _spearman_of_pairs(values: list[Any]) -> float | None:
    return spearman([float(p) for p, _ in values], [float(t) for _, t in values])


# aggregation name -> function of the per-answer values present (answers that gave no value are left out)
AGGREGATIONS: dict[str, Callable[[list[Any]], Any]] = {
    "mean": _mean,                        # mean of numbers or booleans (a share); None when no values
    "spearman": _spearman_of_pairs,       # Spearman's rho of (predicted, true) pairs
    "count": len,                         # how many answers gave a value
}


@dataclass(frozen=True, slots=True)
class Metric:
    """One reported metric: `aggregation` (a key of AGGREGATIONS) over the per-answer values stored
    under `item` (default: the metric's own name); `label` and `format` say how tables show it
    (`format`: percent, number or count; `shown=False` keeps it out of the `eval` command's table)."""

    name: str
    aggregation: str = "mean"
    item: str | None = None
    label: str | None = None
    format: str = "percent"
    shown: bool = True

    @property
    def key(self) -> str:
        """The per-answer value this metric aggregates."""
        return self.item or self.name

    @property
    def display(self) -> str:
        return self.label or self.name

    def aggregate(self, values: list[Any]) -> Any:
        """The metric over the values the answers gave."""
        return AGGREGATIONS[self.aggregation](values)

    def format_value(self, value: Any) -> str:
        """The value as tables show it: "-" when undefined, "12.5%", "0.553" or "7"."""
        if value is None:
            return "-"
        if self.format == "percent":
            return f"{value:.1%}"
        if self.format == "number":
            return f"{value:.3f}"
        return str(value)


def metric_problems(metrics: Sequence[Metric], right: str) -> list[str]:
    """What is wrong with a declared metric list (empty when it is well formed)."""
    out: list[str] = []
    names = [m.name for m in metrics]
    if not metrics:
        out.append("no metrics declared")
    for name in sorted({n for n in names if names.count(n) > 1}):
        out.append(f"metric {name!r} declared twice")
    for m in metrics:
        if not isinstance(m, Metric):
            out.append(f"{m!r} is not a Metric")
            continue
        if m.name in ("n", "skipped", "acceptance", "accuracy", "by_source"):
            out.append(f"metric name {m.name!r} is reserved for the evaluation's own columns")
        if m.aggregation not in AGGREGATIONS:
            out.append(f"metric {m.name!r}: unknown aggregation {m.aggregation!r}; known: {', '.join(AGGREGATIONS)}")
        if m.format not in FORMATS:
            out.append(f"metric {m.name!r}: unknown format {m.format!r}; known: {', '.join(FORMATS)}")
    if not isinstance(right, str) or not right:
        out.append("`right` must name the per-answer value that decides whether a label is right")
    return out
