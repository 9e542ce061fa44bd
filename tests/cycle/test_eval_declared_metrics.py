"""A label type declares its held-out metrics as data (LabelType.metrics / score / right): a plugin
type that declares some gets them in evaluate(), in `eval`'s table and in the report, without any
change to the evaluation."""
from __future__ import annotations

from typing import Any, Mapping

import pytest

from vstar_data.cli.build import _eval_counts
from vstar_data.cycle.evaluation import evaluate
from vstar_data.cycle.report import label_type_tables
from vstar_data.verify.labels.base import LabelResult, LabelType, Profile, ScoreContext
from vstar_data.verify.metrics import Metric, metric_problems


class Distance(LabelType):
    """A plugin-like type: an integer answer, with its absolute error and exact share as metrics."""

    type_name = "zz_distance"
    metrics = (Metric("exact", label="exact"), Metric("mean_error", item="error", label="mean error", format="number"),
               Metric("n_read", "count", item="error", format="count", shown=False))
    right = "exact"

    def check(self, spec: dict[str, Any], answer: str, profile: Profile) -> LabelResult:
        digits = [int(w) for w in answer.replace(".", " ").split() if w.isdigit()]
        ok = digits[:1] == [int(spec["value"])]
        return LabelResult(spec["name"], self.type_name, ok, float(ok), reason=None if ok else "wrong_value",
                           extra={"read": digits[0]} if digits else {})

    def hint_text(self, spec: dict[str, Any]) -> str:
        return str(spec["value"])

    def score(self, spec: dict[str, Any], answer: str | None, verdict: Mapping[str, Any],
              context: ScoreContext) -> dict[str, Any]:
        out: dict[str, Any] = {"exact": bool(verdict.get("passed"))}
        if answer is not None and "read" in verdict:
            out["error"] = abs(verdict["read"] - int(spec["value"]))
        return out


@pytest.fixture
def registered(clean_registries):
    from vstar_data.registry import LABEL_TYPES

    LABEL_TYPES.register("zz_distance", Distance)


def _case() -> tuple[list[dict], list[dict]]:
    spec = {"type": "zz_distance", "name": "metres"}
    samples = [{"id": i, "source": "s", "labels": [dict(spec, value=v)]} for i, v in (("a", 4), ("b", 6), ("c", 9))]
    rows = [{"id": "a", "source": "s", "answer": "4 metres", "accepted": True,
             "verifier_scores": [{"name": "metres", "type": "zz_distance", "passed": True, "read": 4}]},
            {"id": "b", "source": "s", "answer": "9 metres",
             "verifier_scores": [{"name": "metres", "type": "zz_distance", "passed": False, "read": 9}]}]
    return samples, rows                                    # c is skipped


def test_a_plugin_type_gets_its_declared_metrics(registered) -> None:
    out = evaluate(*_case())
    assert out["zz_distance"] == {"n": 3, "skipped": 1, "acceptance": 1 / 3, "exact": 1 / 3,
                                  "mean_error": 1.5, "n_read": 2}
    assert out["accuracy"] == 1 / 3                         # `right` = exact: a only
    assert "correct" not in out["zz_distance"]


def test_eval_table_and_report_show_declared_metrics(registered) -> None:
    out = evaluate(*_case())
    counts = _eval_counts(out, {"annotated": 3, "found": 3, "missing": 0})
    assert counts["zz_distance (3 labels, 1 skipped)"] == "exact 33.3%, mean error 1.500; acceptance 33.3%"
    table = label_type_tables([{"cycle": 0, "eval": out}], {})
    dist = next(t for t in table if t["type"] == "zz_distance")
    row = dict(zip(dist["columns"], dist["rows"][0]))
    assert row["held-out: exact"] == "33.3%" and row["held-out: mean_error"] == "1.500"
    assert row["held-out: n_read"] == "2"


def test_builtin_lines_keep_their_wording() -> None:
    from vstar_data.registry import LABEL_TYPES

    d = {"top1": 0.5, "mae": 1.0, "spearman": None, "within_tol": 0.25, "n_parsed": 3, "miou": 0.55,
         "r1@0.3": 1.0, "r1@0.5": 0.5, "r1@0.7": 0.5, "exact_order": 0.5, "edit_distance": 1 / 3}
    text = {t: LABEL_TYPES.get(t).metrics_text(d) for t in ("category", "number", "interval", "sequence")}
    assert text == {"category": "top-1 50.0%", "number": "MAE 1.000, Spearman -, within tol. 25.0%",
                    "interval": "mIoU 0.550, R@1 IoU 0.3/0.5/0.7 100.0% / 50.0% / 50.0%",
                    "sequence": "exact order 50.0%, edit distance 0.333"}
    assert not any(LABEL_TYPES.get(t).declares_metrics() for t in ("choice", "boolean", "text", "bbox", "timestamp"))


def test_metric_problems_are_reported() -> None:
    bad = (Metric("x"), Metric("x", "median"), Metric("n"), Metric("y", format="pct"))
    problems = metric_problems(bad, "")
    assert any("declared twice" in p for p in problems) and any("unknown aggregation 'median'" in p for p in problems)
    assert any("reserved" in p for p in problems) and any("unknown format" in p for p in problems)
    assert any("`right`" in p for p in problems)
    assert metric_problems(Distance.metrics, Distance.right) == []
