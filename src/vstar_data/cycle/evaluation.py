"""Held-out evaluation with the metrics users of each label type recognise, from the direct answers
(no hint) a model gives on held-out samples. Per label type, overall and again per source:

- category: `top1`, the answer names the gold class (as the verifier decides) and no other class
  of the source's vocabulary (`Adapter.label_vocabulary`; a class inside the gold name's own
  match, "guitar" in "playing guitar", does not count); an answer listing many classes scores 0;
- number: `mae` and `spearman` over the answers the parser read a value from (`n_parsed`), and
  `within_tol`, the share within the label's tolerance (FineDiving AQA is judged by Spearman);
- interval: `miou` and `r1@0.3` / `r1@0.5` / `r1@0.7`, from ONE predicted interval per answer:
  the first the parser finds; an answer stating several differing intervals is a miss;
- sequence: `exact_order` (the items, all of them, in the gold order) and `edit_distance`
  (Levenshtein distance between predicted and gold order, divided by the longer length);
- every type: `n` (labels), `skipped` (clips no answer was produced for: they count as wrong,
  IoU 0, edit distance 1) and `acceptance`, the verifier's acceptance, its own column.

`accuracy` (overall and per source) is the share of samples whose every label is right by its
type's metric (category top-1, number within tolerance, interval IoU >= its min_iou, sequence
exact order), skipped samples included as wrong; it is what plateau_metric: accuracy watches.
"""
from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

import numpy as np

THRESHOLDS = (0.3, 0.5, 0.7)


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


def edit_distance(a: list[str], b: list[str]) -> int:
    """Levenshtein distance between two item lists."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


class Scorer:
    """Task metrics for one answer and one label, with the verifier's own parsers."""

    def __init__(self, profile: str = "default") -> None:
        from ..verify.verifier import Verifier

        self.verifier = Verifier(profile)
        self.profile = self.verifier.profile

    def top1(self, spec: dict[str, Any], answer: str, vocabulary: Iterable[str]) -> bool:
        """The gold class is named and no other class of the vocabulary is."""
        lt = self.verifier.label_type("category")
        gold = lt.verify(spec, answer, self.profile)
        if not gold.passed:
            return False
        own = {str(spec["value"]).lower(), *(str(s).lower() for s in spec.get("synonyms") or ())}
        for cls in vocabulary:
            if cls.lower() in own:
                continue
            other = lt.verify({"type": "category", "name": spec["name"], "value": cls, "synonyms": []},
                              answer, self.profile)
            if not other.passed:
                continue
            inside = gold.span and other.span and gold.span[0] <= other.span[0] and other.span[1] <= gold.span[1]
            if not inside:
                return False
        return True

    @staticmethod
    def first_interval(answer: str) -> tuple[float, float] | None:
        """The first interval the parser finds; None when none, or when several differ."""
        from ..verify.labels._text import analyze, negated
        from ..verify.labels.interval import stated_intervals

        doc = analyze(answer or "")
        found = sorted((i0, s, e) for s, e, i0, i1, _ in stated_intervals(doc) if negated(doc, i0, i1) < 0)
        if not found or len({(round(s, 3), round(e, 3)) for _, s, e in found}) > 1:
            return None
        return found[0][1], found[0][2]

    def predicted_order(self, spec: dict[str, Any], answer: str) -> list[str]:
        """The gold items in the order the answer first names them (items not named left out)."""
        from ..verify.labels._text import analyze
        from ..verify.labels.sequence import _canon_stream, _item_tokens, _occurrences

        stream = _canon_stream(analyze(answer or ""))
        thr = float(self.profile.fuzzy_threshold)
        firsts = []
        for k, item in enumerate(str(v) for v in spec["value"]):
            toks = _item_tokens(item)
            occ = _occurrences(stream, toks, thr) if toks else []
            if occ:
                firsts.append((min(o[0] for o in occ), k, item))
        return [item for _, _, item in sorted(firsts)]


class _Acc:
    """Running sums for one (label type) bucket."""

    def __init__(self) -> None:
        self.n = self.skipped = self.passed = self.right = 0
        self.pred: list[float] = []
        self.true: list[float] = []
        self.ious: list[float] = []
        self.edits: list[float] = []

    def result(self, kind: str) -> dict[str, Any]:
        n = self.n
        out: dict[str, Any] = {"n": n, "skipped": self.skipped, "acceptance": self.passed / n if n else None}
        if kind == "category":
            out["top1"] = self.right / n if n else None
        elif kind == "number":
            out.update(mae=float(np.mean(np.abs(np.subtract(self.pred, self.true)))) if self.pred else None,
                       spearman=spearman(self.pred, self.true), within_tol=self.right / n if n else None,
                       n_parsed=len(self.pred))
        elif kind == "interval":
            out["miou"] = float(np.mean(self.ious)) if self.ious else None
            for t in THRESHOLDS:
                out[f"r1@{t}"] = float(np.mean([i >= t - 1e-9 for i in self.ious])) if self.ious else None
        elif kind == "sequence":
            out.update(exact_order=self.right / n if n else None,
                       edit_distance=float(np.mean(self.edits)) if self.edits else None)
        else:
            out["correct"] = self.right / n if n else None   # a plugin label type: the verifier's verdict
        return out


def evaluate(samples: Iterable[dict[str, Any]], rows: Iterable[dict[str, Any]],
             vocabularies: dict[str, dict[str, list[str]]] | None = None, *, profile: str = "default",
             scorer: Scorer | None = None) -> dict[str, Any]:
    """Metrics for held-out `samples` ({id, source, labels}) answered by the generated attempt
    `rows`; a sample without a generated row was skipped and counts as wrong. `vocabularies`:
    source -> label name -> classes (default: the gold classes of these samples)."""
    scorer = scorer or Scorer(profile)
    samples = list(samples)
    answers: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        if r.get("origin", "generated") == "generated":
            answers.setdefault((r.get("source", ""), r["id"]), r)
    seen: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for s in samples:   # fallback vocabulary: the classes these samples hold
        for spec in s["labels"]:
            if spec["type"] == "category":
                seen[s["source"]][spec["name"]].add(str(spec["value"]))

    def classes(src: str, name: str) -> list[str]:
        given = (vocabularies or {}).get(src, {}).get(name)
        return list(given) if given else sorted(seen[src][name])

    overall: dict[str, _Acc] = defaultdict(_Acc)
    per_source: dict[str, dict[str, _Acc]] = defaultdict(lambda: defaultdict(_Acc))
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])   # source -> n, skipped, right, accepted
    for s in samples:
        src = s["source"]
        row = answers.get((src, s["id"]))
        answer = row["answer"] if row else ""
        scores = {sc["name"]: sc for sc in (row or {}).get("verifier_scores") or []}
        all_right = row is not None
        for spec in s["labels"]:
            kind, name = spec["type"], spec["name"]
            score = scores.get(name, {})
            passed = bool(score.get("passed"))
            right = False
            for acc in (overall[kind], per_source[src][kind]):
                acc.n += 1
                acc.skipped += row is None
                acc.passed += passed
            if kind == "category":
                right = row is not None and scorer.top1(spec, answer, classes(src, name))
            elif kind == "number":
                right = passed
                value = score.get("value")
                if row is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
                    for acc in (overall[kind], per_source[src][kind]):
                        acc.pred.append(float(value))
                        acc.true.append(float(spec["value"]))
            elif kind == "interval":
                pred = scorer.first_interval(answer) if row is not None else None
                from ..verify.labels.interval import iou

                v = iou(pred[0], pred[1], float(spec["start"]), float(spec["end"])) if pred else 0.0
                right = v >= float(spec.get("min_iou", scorer.profile.min_iou)) - 1e-9
                for acc in (overall[kind], per_source[src][kind]):
                    acc.ious.append(v)
            elif kind == "sequence":
                gold = [str(x) for x in spec["value"]]
                pred = scorer.predicted_order(spec, answer) if row is not None else []
                right = row is not None and pred == gold
                dist = edit_distance(pred, gold) / max(len(gold), len(pred), 1)
                for acc in (overall[kind], per_source[src][kind]):
                    acc.edits.append(dist)
            else:
                right = passed
            for acc in (overall[kind], per_source[src][kind]):
                acc.right += right
            all_right = all_right and right
        c = counts[src]
        c[0] += 1
        c[1] += row is None
        c[2] += all_right
        c[3] += bool(row and row.get("accepted"))

    def summary(c: list[int], buckets: dict[str, _Acc]) -> dict[str, Any]:
        out: dict[str, Any] = {"n": c[0], "skipped": c[1], "accuracy": c[2] / c[0] if c[0] else None,
                               "acceptance": c[3] / c[0] if c[0] else None}
        for kind in sorted(buckets):
            out[kind] = buckets[kind].result(kind)
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
