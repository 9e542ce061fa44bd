"""Held-out evaluation: accuracy = verifier acceptance of direct answers (no hint), per label
type; for number labels also mean absolute error and Spearman correlation (FineDiving AQA is
judged by Spearman); for intervals mean IoU. Works on the attempt rows any engine writes."""
from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from typing import Any, Iterable

import numpy as np

_NUM_RE = re.compile(r"-?\d+(?:\.\d+)?")


def _ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (ties share their mean rank), as Spearman's rho needs."""
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=float)
    sorted_x = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and sorted_x[j + 1] == sorted_x[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0
        i = j + 1
    return ranks


def spearman(pred: list[float], true: list[float]) -> float | None:
    """Spearman's rank correlation; None when undefined (fewer than 2 pairs or a constant side)."""
    if len(pred) < 2:
        return None
    a, b = _ranks(np.asarray(pred, float)), _ranks(np.asarray(true, float))
    if a.std() == 0 or b.std() == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def _predicted_number(score: dict[str, Any]) -> float | None:
    for key in ("predicted", "value", "parsed"):
        v = score.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
    m = _NUM_RE.search(score.get("matched") or "")
    return float(m.group()) if m else None


def evaluate_rows(rows: Iterable[dict[str, Any]], skipped: int = 0) -> dict[str, Any]:
    """Metrics over generated (not rationalized) attempt rows."""
    rows = [r for r in rows if r.get("origin", "generated") == "generated"]
    per_type: dict[str, dict[str, Any]] = defaultdict(lambda: {"n": 0, "passed": 0})
    numbers: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    ious: list[float] = []
    specs_by_row = [{s["name"]: s for s in r["labels"]} for r in rows]
    for row, specs in zip(rows, specs_by_row):
        for score in row.get("verifier_scores") or []:
            t = score["type"]
            per_type[t]["n"] += 1
            per_type[t]["passed"] += bool(score["passed"])
            spec = specs.get(score["name"], {})
            if t == "number":
                pred = _predicted_number(score)
                if pred is not None and "value" in spec:
                    numbers[score["name"]][0].append(pred)
                    numbers[score["name"]][1].append(float(spec["value"]))
            elif t == "interval":
                iou = score.get("iou", score.get("score"))
                ious.append(float(iou or 0.0))
    out: dict[str, Any] = {
        "n": len(rows), "skipped": skipped,
        "accuracy": (sum(bool(r["accepted"]) for r in rows) / len(rows)) if rows else 0.0,
    }
    for t, d in sorted(per_type.items()):
        out[t] = {"n": d["n"], "accuracy": d["passed"] / d["n"] if d["n"] else 0.0}
    if "number" in out:
        by_name = {}
        for name, (pred, true) in sorted(numbers.items()):
            mae = float(np.mean(np.abs(np.subtract(pred, true)))) if pred else None
            by_name[name] = {"n_parsed": len(pred), "mae": mae, "spearman": spearman(pred, true)}
        out["number"]["by_label"] = by_name
        all_pred = [p for name in numbers for p in numbers[name][0]]
        all_true = [t for name in numbers for t in numbers[name][1]]
        out["number"]["mae"] = float(np.mean(np.abs(np.subtract(all_pred, all_true)))) if all_pred else None
        out["number"]["spearman"] = (by_name[next(iter(by_name))]["spearman"]
                                     if len(by_name) == 1 else None)
    if "interval" in out:
        out["interval"]["mean_iou"] = float(np.mean(ious)) if ious else 0.0
    return json.loads(json.dumps(out, default=_nan_to_none))


def _nan_to_none(x: Any) -> Any:
    return None if isinstance(x, float) and math.isnan(x) else x
