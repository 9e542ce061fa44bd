"""Held-out evaluation with the metrics users of each label type recognise, from the direct answers
(no hint) a model gives on held-out samples, overall and again per source.

Each label type declares its metrics (`LabelType.metrics`, `score` and `right`;
verify/metrics.py): category `top1` against the source's vocabulary (`Adapter.label_vocabulary`),
number `mae` / `spearman` / `within_tol` / `n_parsed`, interval `miou` and `r1@0.3/0.5/0.7`,
sequence `exact_order` / `edit_distance`; any other type (plugins included) reports `correct`, the
verifier's verdict, unless it declares its own. Every type also gets `n` (labels), `skipped`
(clips no answer was produced for: they count as wrong) and `acceptance`, the verifier's
acceptance, its own column.

`accuracy` (overall and per source) is the share of samples whose every label is right by its
type's declared `right` value (category top-1, number within tolerance, interval IoU >= its
min_iou, sequence exact order), skipped samples included as wrong; it is what plateau_metric:
accuracy watches.
"""
from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from ..sources.sample import target_labels
from ..verify.labels.base import LabelType, ScoreContext
from ..verify.metrics import edit_distance, spearman  # noqa: F401  (re-exported: the metrics' old home)

if TYPE_CHECKING:
    from ..verify.verifier import Verifier


class _Bucket:
    """Per-answer values of one label type (overall or in one source), aggregated by its metrics."""

    def __init__(self, label_type: LabelType) -> None:
        self.label_type = label_type
        self.n = self.skipped = self.passed = 0
        self.values: dict[str, list[Any]] = defaultdict(list)

    def add(self, item: dict[str, Any], skipped: bool, passed: bool) -> None:
        self.n += 1
        self.skipped += skipped
        self.passed += passed
        for key, value in item.items():
            self.values[key].append(value)

    def result(self) -> dict[str, Any]:
        n = self.n
        out: dict[str, Any] = {"n": n, "skipped": self.skipped, "acceptance": self.passed / n if n else None}
        for metric in self.label_type.metrics:
            out[metric.name] = metric.aggregate(self.values.get(metric.key, []))
        return out


def evaluate(samples: Iterable[dict[str, Any]], rows: Iterable[dict[str, Any]],
             vocabularies: dict[str, dict[str, list[str]]] | None = None, *, profile: str = "default",
             verifier: Verifier | None = None) -> dict[str, Any]:
    """Metrics for held-out `samples` ({id, source, labels}) answered by the generated attempt
    `rows`; a sample without a generated row was skipped and counts as wrong. `vocabularies`:
    source -> label name -> classes (default: the gold classes of these samples), for label types
    that use a vocabulary."""
    if verifier is None:
        from ..verify.verifier import Verifier

        verifier = Verifier(profile)
    samples = list(samples)
    answers: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        if r.get("origin", "generated") == "generated":
            answers.setdefault((r.get("source", ""), r["id"]), r)
    seen: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for s in samples:   # fallback vocabulary: the classes these samples hold
        for spec in target_labels(s["labels"]):
            if verifier.label_type(spec["type"]).uses_vocabulary:
                seen[s["source"]][spec["name"]].add(str(spec["value"]))

    def context(src: str, lt: LabelType, name: str) -> ScoreContext:
        if not lt.uses_vocabulary:
            return ScoreContext(verifier.profile)
        given = (vocabularies or {}).get(src, {}).get(name)
        return ScoreContext(verifier.profile, tuple(given) if given else tuple(sorted(seen[src][name])))

    overall: dict[str, _Bucket] = {}
    per_source: dict[str, dict[str, _Bucket]] = defaultdict(dict)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])   # source -> n, skipped, right, accepted
    for s in samples:
        src = s["source"]
        row = answers.get((src, s["id"]))
        answer = (row.get("answer") or "") if row is not None else None   # None: skipped
        scores = {sc["name"]: sc for sc in (row or {}).get("verifier_scores") or []}
        all_right = row is not None
        for spec in target_labels(s["labels"]):        # constraints are checked, never scored
            kind, name = spec["type"], spec["name"]
            lt = verifier.label_type(kind)
            verdict = scores.get(name, {})
            item = lt.score(spec, answer, verdict, context(src, lt, name))
            for buckets in (overall, per_source[src]):
                buckets.setdefault(kind, _Bucket(lt)).add(item, row is None, bool(verdict.get("passed")))
            all_right = all_right and bool(item.get(lt.right))
        c = counts[src]
        c[0] += 1
        c[1] += row is None
        c[2] += all_right
        c[3] += bool(row and row.get("accepted"))

    def summary(c: list[int], buckets: dict[str, _Bucket]) -> dict[str, Any]:
        out: dict[str, Any] = {"n": c[0], "skipped": c[1], "accuracy": c[2] / c[0] if c[0] else None,
                               "acceptance": c[3] / c[0] if c[0] else None}
        for kind in sorted(buckets):
            out[kind] = buckets[kind].result()
        return out

    total = [sum(c[i] for c in counts.values()) for i in range(4)]
    result = summary(total, overall)
    result["by_source"] = {src: summary(counts[src], per_source[src]) for src in sorted(counts)}
    return _nan_to_none(result)


def source_vocabulary(cfg: Any) -> dict[str, list[str]]:
    """label name -> classes for a generation config's source (the adapter's `label_vocabulary`)."""
    from ..sources.adapter import load_adapter

    adapter = load_adapter(cfg.adapter)(cfg.annotations, None, options=cfg.adapter_options)
    return adapter.label_vocabulary() or {}


def source_vocabularies(sources: Iterable[Any]) -> dict[str, dict[str, list[str]]]:
    """Source name (what its samples carry as `source`) -> its classes per label name, for run
    config sources (`SourceConfig`): what the GRPO reward verifies with, as generation does."""
    from ..sources.adapter import load_adapter

    out: dict[str, dict[str, list[str]]] = {}
    for src in sources:
        adapter = load_adapter(src.adapter)(src.annotations, None, options=src.options)
        vocabulary = adapter.label_vocabulary() or {}
        if vocabulary:
            out.setdefault(adapter.name, {}).update(vocabulary)
    return out


def evaluate_sources(runs: Iterable[tuple[Any, Any, Path]], *, profile: str = "default") -> dict[str, Any]:
    """Evaluate generation runs of held-out sources: (GenerationConfig, Prepared, run dir) each."""
    from ..generation.attempts import read_attempts

    samples: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    vocabularies: dict[str, dict[str, list[str]]] = {}
    annotation_skips = 0
    for cfg, prepared, out in runs:
        samples += [{"id": ps.sample.id, "source": ps.sample.source, "labels": ps.sample.labels}
                    for ps in prepared.samples]
        rows += read_attempts(out)[0]
        annotation_skips += sum(prepared.adapter_stats.skipped.values())
        for ps in prepared.samples[:1]:
            vocabularies.setdefault(ps.sample.source, {}).update(source_vocabulary(cfg))
    result = evaluate(samples, rows, vocabularies, profile=profile)
    result["annotation_skipped"] = annotation_skips
    return result


def _nan_to_none(x: Any) -> Any:
    """JSON has no NaN: undefined metrics are null."""
    if isinstance(x, dict):
        return {k: _nan_to_none(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_nan_to_none(v) for v in x]
    return None if isinstance(x, float) and math.isnan(x) else x
