"""Constraint labels: does an answer *state* a value that conflicts with what the source knows?

A label spec with `"role": "constraint"` (sources/sample.py: `is_constraint`) need not appear in
the answer; it fails only when the answer asserts a conflicting value (reason `contradicts`, the
result's span on the conflicting words). What "conflicting" means is the label type's call, made
by its `contradiction` method with the helpers here:

- category: another class of the spec's `vocabulary` (minus `value`, `synonyms` and `allowed`:
  other values the clip also shows) that the answer commits to, as the category check decides
  for a target (negated, hedged, questioned, counterfactual or listed-as-alternative mentions do
  not count);
- number: a value the answer gives for that quantity (the number check's attachment) outside
  the spec's tolerance, asserted in its clause;
- sequence: one sentence that names two or more of the items with an order cue ("first",
  "then", "before", ...) in an order other than the listed one.

Why: the paper's Parser-Verifier checks only that an answer contains the target label, so
everything else it says enters the dataset unchecked and self-training amplifies it (issue 26).
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from ._commitment import Span, assertion, coordinated, sentence
from .analysis import Doc, analyze
from .base import LabelResult, Profile

CONTRADICTS = "contradicts"
ORDER_CUES = frozenset({"first", "firstly", "then", "before", "after", "afterwards", "next", "later", "followed",
                        "finally", "last", "second", "earlier", "order", "begins", "starts", "precedes"})


def consistent(spec: dict[str, Any], type_name: str) -> LabelResult:
    """The result of a constraint the answer does not contradict."""
    return LabelResult(spec.get("name", ""), type_name, True, 1.0, extra={"role": "constraint"})


def contradicted(spec: dict[str, Any], type_name: str, answer: str, span: tuple[int, int], stated: Any,
                 ) -> LabelResult:
    """The failed result of a constraint: the contradicting span and the value it states."""
    s, e = span
    return LabelResult(spec.get("name", ""), type_name, False, 0.0, (s, e), answer[s:e], reason=CONTRADICTS,
                       extra={"role": "constraint", "stated": stated, "expected": spec.get("value")})


def tokens_of(doc: Doc, span: tuple[int, int]) -> tuple[int, int]:
    """The token range covering character `span` of the analysed answer."""
    s, e = span
    inside = [k for k in range(len(doc)) if doc.span(k, k + 1)[0] >= s and doc.span(k, k + 1)[1] <= e]
    return (inside[0], inside[-1] + 1) if inside else (0, 0)


def category_contradiction(spec: dict[str, Any], answer: str, named: Callable[[Doc], Iterable[str]],
                           mentions: Callable[[Doc, str], list[Span]]) -> LabelResult:
    """First mention of a class of the vocabulary (other than the value, its synonyms and
    `allowed`) that the answer asserts: not negated, hedged, questioned, counterfactual or
    attributed elsewhere in its clause, and not offered as an alternative to another class
    ("red or blue"). `named` pre-filters the classes whose words occur in the answer (a large
    vocabulary costs one pass); `mentions(doc, name)` gives a class's token ranges."""
    if not spec.get("vocabulary"):
        return consistent(spec, "category")
    own = {str(v).lower() for v in (spec["value"], *(spec.get("synonyms") or ()), *(spec.get("allowed") or ()))}
    doc = analyze(answer)
    found = {name: mentions(doc, name) for name in named(doc)}
    every = [m for ms in found.values() for m in ms]
    hits: list[tuple[Span, str]] = []
    for name, spans in found.items():
        if name.lower() in own:
            continue
        for m in spans:
            if any(o != m and o[0] < m[1] and m[0] < o[1] and o[1] - o[0] > m[1] - m[0] for o in every):
                continue                                    # inside a longer class's name
            if assertion(doc, m[0], m[1])[0] is None and not any(coordinated(doc, m, o) for o in every if o != m):
                hits.append((m, name))
    if not hits:
        return consistent(spec, "category")
    (i0, i1), name = min(hits)
    return contradicted(spec, "category", answer, doc.span(i0, i1), name)


def number_contradiction(spec: dict[str, Any], answer: str, profile: Profile, got: LabelResult) -> LabelResult:
    """`got` is the number check of the spec's own value: out of tolerance means the answer gave
    this quantity another value; it contradicts when that value is asserted in its clause."""
    if got.reason != "out_of_tolerance" or not got.span:
        return consistent(spec, "number")
    doc = analyze(answer)
    i0, i1 = tokens_of(doc, got.span)
    reason, _ = assertion(doc, i0, i1)
    if reason is not None:
        return consistent(spec, "number")
    return contradicted(spec, "number", answer, got.span, got.extra.get("value"))


def sequence_contradiction(spec: dict[str, Any], answer: str, doc: Doc,
                           mentions: list[tuple[int, int, int]]) -> LabelResult:
    """`mentions`: (item index, first token, last token + 1) of every asserted item mention. One
    sentence with an order cue naming two or more items in another order contradicts."""
    by_sentence: dict[int, list[tuple[int, int, int]]] = {}
    for item, t0, t1 in sorted(mentions, key=lambda m: m[1]):
        head = next((k for k in by_sentence if doc.same_sentence(k, t0)), t0)
        by_sentence.setdefault(head, []).append((item, t0, t1))
    for group in by_sentence.values():
        firsts: dict[int, tuple[int, int]] = {}
        for item, t0, t1 in group:
            firsts.setdefault(item, (t0, t1))
        if len(firsts) < 2:
            continue
        order = sorted(firsts, key=lambda i: firsts[i][0])
        if order == sorted(order):
            continue
        lo, hi = min(t0 for t0, _ in firsts.values()), max(t1 for _, t1 in firsts.values())
        start, end = sentence(doc, lo, hi)
        if not any(doc.lows[k] in ORDER_CUES for k in range(start, end)):
            continue
        items = [str(v) for v in spec["value"]]
        return contradicted(spec, "sequence", answer, doc.span(lo, hi), [items[i] for i in order])
    return consistent(spec, "sequence")
