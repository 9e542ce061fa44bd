"""Hallucination per cycle: how many answers contradicted a constraint label, before and after filtering.

The Parser-Verifier's constraint labels (`"role": "constraint"`, verify/constraints.py) mark what
an answer said against what the source knows. Counting them per cycle shows whether
self-training amplifies unchecked claims (issue 26): `generated` and `rationalized` count every
answer of that origin that contradicted a constraint, accepted or not (before filtering);
`published` counts the rows the cycle's tag holds (the same winner rule as the publisher), which
is zero for every constraint when they are enforced and what slips through when only measured.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..generation.attempts import pick_winners
from ..verify.constraints import contradictions

STAGES = ("generated", "rationalized", "published")


def _zero() -> dict[str, int]:
    return {k: 0 for k in STAGES}


def count_source(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """One source's counts: answers per stage, answers contradicting any constraint, and per
    constraint name; `examples` keeps up to 5 published or rejected contradicting answers with
    the span (for the report)."""
    rows = list(rows)
    answers, contradicting = _zero(), _zero()
    per: dict[str, dict[str, int]] = {}
    examples: list[dict[str, Any]] = []
    constrained = False
    published = {id(r) for r in pick_winners(rows).values()}
    for row in rows:
        scores = row.get("verifier_scores") or []
        constrained = constrained or any(s.get("role") == "constraint" for s in scores)
        names = contradictions(scores)
        stages = [row.get("origin", "generated")] + (["published"] if id(row) in published else [])
        for stage in stages:
            if stage not in answers:
                continue
            answers[stage] += 1
            contradicting[stage] += bool(names)
            for name in dict.fromkeys(names):
                per.setdefault(name, _zero())[stage] += 1
        if names and len(examples) < 5 and isinstance(row.get("answer"), str):
            score = next(s for s in scores if s.get("reason") == "contradicts")
            examples.append({"id": row.get("id"), "origin": row.get("origin"), "accepted": bool(row.get("accepted")),
                             "published": id(row) in published, "answer": row["answer"],
                             "constraint": score.get("name"), "span": score.get("span"),
                             "stated": score.get("stated"), "labels": row.get("labels")})
    return {"constrained": constrained, "answers": answers, "contradicting": contradicting, "by_constraint": per,
            "examples": examples}


def count_cycle(rows_by_source: Mapping[str, Iterable[Mapping[str, Any]]]) -> dict[str, Any]:
    """stats.json's `hallucination` entry of one cycle: totals over sources plus `by_source`."""
    by_source = {src: count_source(rows) for src, rows in rows_by_source.items()}
    total = {"answers": _zero(), "contradicting": _zero()}
    for counts in by_source.values():
        for part in total:
            for stage in STAGES:
                total[part][stage] += counts[part][stage]
    return {**total, "constrained": any(c["constrained"] for c in by_source.values()), "by_source": by_source}
