"""Sequence labels: every item stated, in order (e.g. FineDiving sub-actions).

Items and the answer are folded into canonical tokens: stems, numbers as digits ("three and a
half" -> 3.5, "0.5"/"half" -> half) and diving abbreviations ("Soms." -> somersault, "Str" ->
straight, "Arm." -> armstand, "piked" -> pike). An item occurs where all its canonical tokens
appear close together within one sentence, in any order ("3.5 Soms.Tuck" = "3.5 somersaults in
the tuck position" = "a tucked three-and-a-half somersault"); numbers must be equal, words may
differ by a typo (rapidfuzz, profile threshold). The score is the largest number of items found
in the label's order (non-overlapping) over the number of items; all must be found to pass.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

from ._commitment import assertion
from .analysis import HARD, NEG, NUM, PUNCT, SKIP, WORD, Doc, analyze, stem, token_sim
from ..metrics import Metric, edit_distance
from .base import LabelResult, LabelType, Profile, ScoreContext, unusable
from .contradiction import sequence_contradiction
from ._numbers import fmt_number, numbers

_ABBREV = {stem(k): stem(v) for k, v in {
    "som": "somersault", "soms": "somersault", "sault": "somersault", "salto": "somersault",
    "somersaulting": "somersault", "str": "straight", "fwd": "forward", "forwards": "forward",
    "bwd": "back", "backward": "back", "backwards": "back", "inw": "inward", "inwards": "inward",
    "rev": "reverse", "reversed": "reverse", "arm": "armstand", "armstanding": "armstand",
    "handstand": "armstand", "enter": "entry", "entering": "entry", "enters": "entry", "entrance": "entry",
    "piked": "pike", "tucked": "tuck", "twisting": "twist", "halves": "half",
}.items()}
_FILLER = SKIP | frozenset({"in", "with", "of", "position", "and", "a", "into", "then", "followed", "by"})
_SLACK = 4          # extra content tokens allowed inside one item's window
# a word that makes a compound of the item right after it: "armstand back" is not "back"
_COMPOUND_HEADS = frozenset({stem("armstand")})
_ALT = frozenset({"or", "/"})


def _canon_stream(doc: Doc) -> list[tuple[str, int, int]]:
    """(canonical token, first token, last token + 1); "" marks a sentence break."""
    cached = doc.cache.get("seq_stream")
    if cached is not None:
        return cached
    by_start = {n.i0: n for n in numbers(doc)}
    out: list[tuple[str, int, int]] = []
    i, size = 0, len(doc.kinds)
    while i < size:
        n = by_start.get(i)
        if n is not None:
            out.append(("half" if n.value == 0.5 else fmt_number(n.value), n.i0, n.i1))
            i = n.i1
            continue
        kind, low, st = doc.kinds[i], doc.lows[i], doc.stems[i]
        if kind == PUNCT:
            if low in HARD:
                out.append(("", i, i + 1))
        elif kind == NUM or low not in _FILLER:
            out.append((_ABBREV.get(st, st), i, i + 1))
        i += 1
    doc.cache["seq_stream"] = out
    return out


@lru_cache(maxsize=4096)
def _item_tokens(item: str) -> tuple[str, ...]:
    return tuple(t for t, _, _ in _canon_stream(Doc(item)) if t)


def _same(a: str, b: str, thr: float) -> bool:
    return a == b or (a.isalpha() and b.isalpha() and token_sim(a, b, thr) > 0)


def _occurrences(stream: list[tuple[str, int, int]], item: tuple[str, ...], thr: float) -> list[tuple[int, int]]:
    """(first, last+1) stream positions of each compact window containing all item tokens."""
    out = []
    width = len(item) + _SLACK
    for p, (tok, t0, _) in enumerate(stream):
        if not tok or not any(_same(t, tok, thr) for t in item):
            continue
        if p and stream[p - 1][0] in _COMPOUND_HEADS and stream[p - 1][0] not in item and stream[p - 1][2] == t0:
            continue                        # a compound that contains the item: "armstand back" for "back"
        need = list(item)
        q = p
        while q < len(stream) and q - p < width and need:
            tok_q = stream[q][0]
            if not tok_q:
                break
            for m, t in enumerate(need):
                if _same(t, tok_q, thr):
                    del need[m]
                    break
            q += 1
        if not need:
            out.append((p, q))
    return out


def _uncommitted(doc: Doc, stream: list[tuple[str, int, int]], occ: tuple[int, int], strict: bool) -> str | None:
    """Why one item occurrence is not asserted (negated inside its window, hedged, ...), or None."""
    t0, t1 = stream[occ[0]][1], stream[occ[1] - 1][2]
    lows, kinds = doc.lows, doc.kinds
    if any(kinds[k] == WORD and lows[k] in NEG for k in range(t0, t1)):
        return "negated"                                   # "3.5 somersaults but not in tuck"
    reason, _ = assertion(doc, t0, t1)
    if not strict and reason != "negated":
        return None
    return reason


def _alternatives(doc: Doc, t0: int, t1: int) -> bool:
    """An "or" inside the stated sequence or right after it: the answer offers alternatives."""
    lows, kinds = doc.lows, doc.kinds
    if any(lows[k] in _ALT for k in range(t0, t1)):
        return True
    k = t1
    while k < len(lows) and kinds[k] == PUNCT and lows[k] not in HARD:
        k += 1
    return k < len(lows) and lows[k] in _ALT


class SequenceLabel(LabelType):
    """An ordered list of items that must all appear, in order."""

    type_name = "sequence"
    metrics = (Metric("exact_order", label="exact order"),
               Metric("edit_distance", label="edit distance", format="number"))
    right = "exact_order"

    def check(self, spec: dict[str, Any], answer: str, profile: Profile) -> LabelResult:
        name = spec.get("name", "")
        items = [str(v) for v in spec["value"]]
        wordless = [item for item in items if not _item_tokens(item)]
        if wordless:                      # an item no answer can name ("🙂", "?!")
            return unusable(self.type_name, spec, f"item {wordless[0]!r}")
        doc = analyze(answer)
        stream = _canon_stream(doc)
        thr = float(profile.fuzzy_threshold)
        # chains[c] = (end position, spans) of the best in-order chain of c items (earliest end)
        chains: list[tuple[int, list[tuple[int, int]]]] = [(0, [])]
        found_any = 0
        strict = profile.require_commitment
        failed: str | None = None
        for item in items:
            toks = _item_tokens(item)
            occ = _occurrences(stream, toks, thr) if toks else []
            found_any += bool(occ)
            committed = [o for o in occ if not (why := _uncommitted(doc, stream, o, strict))]
            if occ and not committed and failed is None:
                failed = _uncommitted(doc, stream, occ[0], strict)
            occ = committed
            for c in range(len(chains) - 1, -1, -1):
                end, spans = chains[c]
                nxt = min((o for o in occ if o[0] >= end), key=lambda o: o[1], default=None)
                if nxt is None:
                    continue
                if c + 1 == len(chains):
                    chains.append((nxt[1], spans + [nxt]))
                elif nxt[1] < chains[c + 1][0]:
                    chains[c + 1] = (nxt[1], spans + [nxt])
        count = len(chains) - 1
        score = count / len(items)
        extra = {"items_matched": count, "items": len(items)}
        if not count:
            return LabelResult(name, self.type_name, False, 0.0, reason=failed or "not_found", extra=extra)
        spans = chains[count][1]
        t0, t1 = stream[spans[0][0]][1], stream[spans[-1][1] - 1][2]
        s, e = doc.span(t0, t1)
        passed = count == len(items)
        reason = None if passed else (failed or ("out_of_order" if found_any == len(items) else "incomplete"))
        if passed and strict and _alternatives(doc, t0, t1):
            passed, reason = False, "competing_value"     # "tuck or pike", "..., entry - or back 1.5 ..."
        return LabelResult(name, self.type_name, passed, score, (s, e), answer[s:e], reason=reason, extra=extra)

    def contradiction(self, spec: dict[str, Any], answer: str, profile: Profile) -> LabelResult:
        """The items stated in another order within one sentence (labels/contradiction.py)."""
        doc = analyze(answer)
        stream = _canon_stream(doc)
        thr = float(profile.fuzzy_threshold)
        mentions = []
        for k, item in enumerate(str(v) for v in spec["value"]):
            toks = _item_tokens(item)
            for occ in _occurrences(stream, toks, thr) if toks else []:
                if not _uncommitted(doc, stream, occ, True):
                    mentions.append((k, stream[occ[0]][1], stream[occ[1] - 1][2]))
        return sequence_contradiction(spec, answer, doc, mentions)

    def predicted_order(self, spec: dict[str, Any], answer: str, profile: Profile) -> list[str]:
        """The gold items in the order the answer first names them (items not named left out)."""
        stream = _canon_stream(analyze(answer or ""))
        thr = float(profile.fuzzy_threshold)
        firsts = []
        for k, item in enumerate(str(v) for v in spec["value"]):
            toks = _item_tokens(item)
            occ = _occurrences(stream, toks, thr) if toks else []
            if occ:
                firsts.append((min(o[0] for o in occ), k, item))
        return [item for _, _, item in sorted(firsts)]

    def score(self, spec: dict[str, Any], answer: str | None, verdict: Mapping[str, Any],
              context: ScoreContext) -> dict[str, Any]:
        """`exact_order` (every item, in the gold order) and `edit_distance` (Levenshtein between
        predicted and gold order over the longer length; 1 for a skipped clip)."""
        gold = [str(x) for x in spec["value"]]
        pred = self.predicted_order(spec, answer, context.profile) if answer is not None else []
        return {"exact_order": answer is not None and pred == gold,
                "edit_distance": edit_distance(pred, gold) / max(len(gold), len(pred), 1)}

    def hint_text(self, spec: dict[str, Any]) -> str:
        return ", ".join(str(v) for v in spec["value"])
