"""The report's hallucination section: per cycle and constraint, how many answers contradicted a
constraint label before filtering and how many published rows do, with examples whose
contradicting span is marked (from stats.json's `hallucination` entries, cycle/hallucination.py)."""
from __future__ import annotations

from typing import Any, Callable


def hallucination_view(stats: list[dict[str, Any]],
                       highlight: Callable[[str, list[dict[str, Any]]], list[dict[str, Any]]]) -> dict[str, Any] | None:
    """Rows of the per-cycle table and examples; None when no cycle has constraint labels."""
    if not any((s.get("hallucination") or {}).get("constrained") for s in stats):
        return None
    rows, examples = [], []
    for s in stats:
        h = s.get("hallucination") or {}
        for source, counts in sorted((h.get("by_source") or {}).items()):
            answers = counts.get("answers") or {}

            def cell(c: dict[str, int], stage: str) -> str:
                return f"{c.get(stage, 0)} of {answers.get(stage, 0)}"
            rows.append({"cycle": s["cycle"], "source": source, "constraint": "any",
                         **{st: cell(counts.get("contradicting") or {}, st)
                            for st in ("generated", "rationalized", "published")}})
            for name, c in sorted((counts.get("by_constraint") or {}).items()):
                rows.append({"cycle": s["cycle"], "source": source, "constraint": name,
                             **{st: cell(c, st) for st in ("generated", "rationalized", "published")}})
            for ex in counts.get("examples") or []:
                score = {"name": ex.get("constraint"), "type": "constraint", "passed": False,
                         "reason": "contradicts", "span": ex.get("span")}
                examples.append({"cycle": s["cycle"], "source": source, "id": ex.get("id"),
                                 "origin": ex.get("origin"), "published": ex.get("published"),
                                 "constraint": ex.get("constraint"), "stated": ex.get("stated"),
                                 "segments": highlight(str(ex.get("answer") or ""), [score])})
    return {"rows": rows, "examples": examples[:12]}
