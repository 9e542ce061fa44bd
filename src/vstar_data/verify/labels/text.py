"""Free-text labels: a reference sentence the answer must say in its own words, e.g.
``{"type": "text", "name": "answer", "value": "The person put the cup on the shelf.",
"min_similarity": 0.6}``, or a list of sentences, ``{"value": [...], "ordered": true}`` (the
released Video-STaR code's `sentence` and `sentence_sequence` verifiers).

Similarity is the cosine of all-MiniLM-L6-v2 sentence embeddings (see `_embed`; needs
``pip install 'vstar-data[text]'``). Each sentence of the answer (and the whole answer) is
compared with the reference and the best one counts, so a step-by-step answer is judged by the
sentence that gives the answer, not diluted by the steps before it. Embeddings barely see "not",
so a best sentence whose negation differs from the reference's fails as `negated`, and one with a
hedge ("maybe", "possibly") as `hedged`. A list passes when every item reaches the threshold in
some sentence and, with ``ordered``, those sentences come in the list's order.
"""
from __future__ import annotations

from typing import Any, Iterable

from . import _embed
from ._claims import hedged, sentences
from .analysis import WORD, analyze
from .base import LabelResult, LabelType, Profile, has_letters, unusable

DEFAULT_MIN_SIMILARITY = 0.6
_NEGATORS = frozenset({"not", "nt", "never", "nobody", "nothing", "none", "cannot", "cant", "isnt", "arent",
                       "wasnt", "werent", "dont", "doesnt", "didnt", "neither", "nor", "without"})


def _units(answer: str) -> list[tuple[int, int]]:
    spans = sentences(answer)
    whole = (0, len(answer))
    return spans + [whole] if len(spans) != 1 else spans or [whole]


def _values(spec: dict[str, Any]) -> list[str]:
    v = spec["value"]
    return [str(x) for x in v] if isinstance(v, list) else [str(v)]


def _negative(text: str) -> bool:
    doc = analyze(text)
    return any(k == WORD and low in _NEGATORS for k, low in zip(doc.kinds, doc.lows))


class TextLabel(LabelType):
    """Reference sentence(s) matched by embedding similarity >= min_similarity."""

    type_name = "text"

    def prepare(self, specs: Iterable[dict[str, Any]], answers: Iterable[str]) -> None:
        """Embed every reference and answer sentence in batches ahead of `verify` (one model call)."""
        texts: list[str] = []
        for spec in specs:
            texts.extend(_values(spec))
        for answer in answers:
            if isinstance(answer, str) and answer.strip():
                texts.extend(answer[s:e] for s, e in _units(answer))
        if texts:
            _embed.embed(texts)

    def check(self, spec: dict[str, Any], answer: str, profile: Profile) -> LabelResult:
        name = spec.get("name", "")
        refs = _values(spec)
        wordless = [r for r in refs if not has_letters(r)]
        if wordless:                      # "?!" has no meaning to say in other words
            return unusable(self.type_name, spec, f"reference {wordless[0]!r}")
        thr = float(spec.get("min_similarity", DEFAULT_MIN_SIMILARITY))
        units = _units(answer)
        if not any(answer[s:e].strip() for s, e in units):
            return LabelResult(name, self.type_name, False, 0.0, reason="not_found")
        vecs = _embed.embed([answer[s:e] for s, e in units])
        ref_vecs = _embed.embed(refs)
        sims = ref_vecs @ vecs.T                     # refs x units, cosine (unit vectors)
        picks: list[tuple[float, int]] = []          # per ref: (similarity, unit)
        for r in range(len(refs)):
            row = sims[r]
            order = sorted(range(len(units)), key=lambda u: -float(row[u]))
            picks.append((float(row[order[0]]), order[0]))
        score = max(0.0, min(1.0, min(p[0] for p in picks)))
        worst = min(range(len(refs)), key=lambda r: picks[r][0])
        s, e = units[picks[worst][1]]
        extra = {"similarity": round(score, 4)}
        if score < thr:
            return LabelResult(name, self.type_name, False, score, (s, e), answer[s:e], reason="low_similarity",
                               extra=extra)
        if isinstance(spec["value"], list) and spec.get("ordered"):
            # each item's best sentence among those reaching the threshold, left to right
            last = -1
            for r in range(len(refs)):
                ok = [u for u in range(len(units)) if float(sims[r][u]) >= thr and units[u] != (0, len(answer))
                      and units[u][0] > last] if len(units) > 1 else [0]
                if not ok:
                    return LabelResult(name, self.type_name, False, score, (s, e), answer[s:e], reason="out_of_order",
                                       extra=extra)
                last = units[min(ok)][0] if len(units) > 1 else last
        for r, (sim, u) in enumerate(picks):
            us, ue = units[u]
            text = answer[us:ue]
            if _negative(text) != _negative(refs[r]):
                return LabelResult(name, self.type_name, False, score, (us, ue), text, reason="negated", extra=extra)
            doc = analyze(text)
            if len(doc) and hedged(doc, 0, len(doc)) >= 0 and hedged(analyze(refs[r]), 0, len(analyze(refs[r]))) < 0:
                return LabelResult(name, self.type_name, False, score, (us, ue), text, reason="hedged", extra=extra)
        return LabelResult(name, self.type_name, True, score, (s, e), answer[s:e], extra=extra)

    def hint_text(self, spec: dict[str, Any]) -> str:
        return " ".join(v.strip() for v in _values(spec))
