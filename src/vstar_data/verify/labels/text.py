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

Embeddings cannot see a wrong direction, count, order of events or a swapped object when the rest
of the sentence matches ("from left to right" / "from right to left" score 0.998), so the best
sentence is also compared word by word (`_contrast`): a contradiction fails as `wrong_direction`,
`wrong_colour`, `wrong_number`, `wrong_order` or `contradicted`. A short reference (an open-ended
QA answer such as "playing guitar", "red", "2", "yes") is not a sentence to embed: its content
words must all be stated (`missing_content` otherwise), a count must be the answer's count, and
"yes" / "no" are judged by the answer's polarity (`wrong_polarity`).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Any, Iterable

from . import _contrast, _embed
from ._claims import hedged, sentences
from .analysis import PUNCT, WORD, analyze
from .base import LabelResult, LabelType, Profile, has_letters, unusable

DEFAULT_MIN_SIMILARITY = 0.6
RELATED_SIM = 0.45        # isolated-word cosine at which an answer word relates to a reference word
GATE = 0.5                # share of a reference's content words a sentence must relate to to be embedded
EMBED_GROUP = 8            # sentences prepare hands the encoder at least (it decides the next ones meanwhile)
SHORT_WORDS = 3            # a reference with at most this many content words is a short answer, not a sentence
_YES = frozenset({"yes", "yeah", "yep", "correct", "true"})
_NO = frozenset({"no", "nope", "false"})
_DECIDED_SIZE = 4096      # word decisions remembered from prepare for check (answers, not a vocabulary)
_decided: "OrderedDict[tuple[tuple[str, ...], str], tuple[list[int], Any]]" = OrderedDict()
_decided_lock = threading.Lock()
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
    """A negation cue; "no" counts except as a leading answer word ("No, the man ...")."""
    doc = analyze(text)
    words = [low for k, low in zip(doc.kinds, doc.lows) if k == WORD]
    return any(low in _NEGATORS for low in words) or "no" in words[1:]


def _polarity(answer: str) -> bool | None:
    """The yes/no an answer gives: its first word when that is yes/no, else whether its first
    sentence is negative."""
    doc = analyze(answer)
    first = next((low for k, low in zip(doc.kinds, doc.lows) if k == WORD), "")
    if first in _YES:
        return True
    if first in _NO:
        return False
    spans = sentences(answer)
    s, e = spans[0] if spans else (0, len(answer))
    return not _negative(answer[s:e])


def _aligned(rws: list[tuple[str, str]], aws: list[tuple[str, str]], sims: Any) -> int:
    """How many reference words relate to an answer word, each answer word standing for one
    reference word at most (greedy, strongest pairs first; same stem, typo or synonym before any
    cosine): "the shelf" relates to both "book" and "table" as isolated words, but says only one."""
    import numpy as np

    score = sims.copy()
    by_stem: dict[str, list[int]] = {}
    by_set: dict[int, list[int]] = {}
    for j, (st, _) in enumerate(aws):
        by_stem.setdefault(st, []).append(j)
        for sid in _contrast.synsets(st):
            by_set.setdefault(sid, []).append(j)
    for k, (rs, _) in enumerate(rws):       # same stem or synonym: the strongest relation
        for j in by_stem.get(rs, ()):
            score[k, j] = 2.0
        for sid in _contrast.synsets(rs):
            for j in by_set.get(sid, ()):
                score[k, j] = 2.0
    flat = np.flatnonzero(score >= RELATED_SIM)
    # pairs strongest first, ties in row-major order (what repeated argmax would take)
    order = flat[np.lexsort((flat, -score.ravel()[flat]))]
    width, rows_used, cols_used = score.shape[1], set(), set()
    for f in order.tolist():
        k, j = divmod(f, width)
        if k not in rows_used and j not in cols_used:
            rows_used.add(k)
            cols_used.add(j)
    return len(rows_used)


@lru_cache(maxsize=4096)
def _content_words(text: str) -> list[tuple[str, str]]:
    """(stem, lowercase) of each content word of `text`, sorted (cached: a reference is asked
    once per answer; callers must not change the list)."""
    d = analyze(text)
    return sorted({(d.stems[i], d.lows[i]) for i in _contrast.content_tokens(d)})


def _candidates(refs: list[str], answer: str, units: list[tuple[int, int]]) -> list[int]:
    """The units worth embedding: a sentence relates (same stem, typo, synonym, or isolated-word
    cosine >= RELATED_SIM) to at least GATE of some reference's content words. A sentence that
    shares so little cannot paraphrase the reference, and encoding it is most of the cost; the whole
    answer is embedded only when two sentences qualify (the reference may be spread over them)."""
    import numpy as np

    ref_words = [_content_words(r) for r in refs]
    if any(not ws for ws in ref_words):
        return list(range(len(units)))
    unit_words = [_content_words(answer[s:e]) for s, e in units]
    vocab = sorted({w for ws in ref_words + unit_words for _, w in ws})
    vecs = dict(zip(vocab, _embed.embed(vocab))) if vocab else {}
    ref_vecs = [np.stack([vecs[w] for _, w in rws]) for rws in ref_words]
    out = []
    whole = (0, len(answer))
    for u, ws in enumerate(unit_words):
        if units[u] == whole and len(units) > 1:
            continue
        if not ws:
            continue
        a_vec = np.stack([vecs[w] for _, w in ws])
        for rws, r_vec in zip(ref_words, ref_vecs):
            if _aligned(rws, ws, r_vec @ a_vec.T) >= GATE * len(rws):
                out.append(u)
                break
    if len(out) >= 2 and whole in units:
        out.append(units.index(whole))
    return out


def _clash(ref: str, text: str, answer: str) -> tuple[str, str | None] | None:
    """(reason, detail) why `text` cannot say `ref`, however similar its embedding: a negation
    only one of them has, a hedge the reference lacks, or a contradiction (`_contrast`)."""
    if _negative(text) != _negative(ref):
        return "negated", None
    doc, ref_doc = analyze(text), analyze(ref)
    if len(doc) and hedged(doc, 0, len(doc)) >= 0 and hedged(ref_doc, 0, len(ref_doc)) < 0:
        return "hedged", None
    return _contrast.contrast(ref, text, answer, _embed.word_sim)


def _settle(refs: list[str], answer: str, units: list[tuple[int, int]],
            live: list[int]) -> tuple[bool, int, tuple[str, str | None] | None] | None:
    """(accepted, unit, clash) where words decide whatever the similarity, so the encoder is not
    needed: a unit worth embedding clashes with the reference (the answer contradicts itself or the
    reference: rejected whichever unit embeds closest), or none clashes and one sentence states
    every content word and count of the reference (`_contrast.stated`: what a sentence embedding
    would only confirm). None: the similarity decides. Only for a single reference (a list needs similarities for its order)."""
    if len(refs) != 1 or not live:
        return None
    ref = refs[0]
    clashes = [_clash(ref, answer[units[u][0]:units[u][1]], answer) for u in live]
    for u, clash in zip(live, clashes):
        if clash:               # an answer that also contradicts the reference is not kept (precision first)
            return False, u, clash
    ref_doc, whole = analyze(ref), (0, len(answer))
    for u in live:
        if (units[u] != whole or len(units) == 1) and \
                _contrast.stated(ref_doc, analyze(answer[units[u][0]:units[u][1]]), _embed.word_sim):
            return True, u, None
    return None


def _decide(refs: list[str], answer: str, units: list[tuple[int, int]]
            ) -> tuple[list[int], tuple[bool, int, tuple[str, str | None] | None] | None]:
    """(`_candidates`, `_settle`) of one answer, computed once: prepare decides every answer to
    know what to embed, and check reads the same decision instead of deciding again (bounded LRU,
    keyed by the exact references and answer, so check's result is the same with or without it)."""
    key = (tuple(refs), answer)
    with _decided_lock:
        hit = _decided.get(key)
        if hit is not None:
            _decided.move_to_end(key)
            return hit
    live = _candidates(refs, answer, units)
    out = (live, _settle(refs, answer, units, live) if live else None)
    with _decided_lock:
        _decided[key] = out
        while len(_decided) > _DECIDED_SIZE:
            _decided.popitem(last=False)
    return out


def clear_cache() -> None:
    """Forget remembered word decisions and cached embeddings (benchmarks time cold work)."""
    with _decided_lock:
        _decided.clear()
    _content_words.cache_clear()
    _embed.clear_cache()


def _short(ref: str) -> bool:
    """An open-ended QA answer ("playing guitar", "in the kitchen", "2"), not a sentence."""
    doc = analyze(ref)
    words = sum(k != PUNCT for k in doc.kinds)
    return words <= 2 or (words <= 4 and not ref.rstrip().endswith((".", "!", "?")))


class TextLabel(LabelType):
    """Reference sentence(s) matched by embedding similarity >= min_similarity."""

    type_name = "text"

    def prepare(self, specs: Iterable[dict[str, Any]], answers: Iterable[str]) -> None:
        """Embed, ahead of `verify`, the sentences that words do not decide: every EMBED_GROUP of
        them go to the encoder (in the background with ONNX Runtime on several threads, see
        `_embed.embed_soon`) while the next answers are decided, so both share the cores."""
        texts: list[str] = []
        specs, answers = list(specs), list(answers)
        if len(specs) != len(answers):          # not parallel: embed every sentence of both
            texts = [t for spec in specs for t in _values(spec)]
            texts += [a[s:e] for a in answers if isinstance(a, str) for s, e in _units(a)]
            specs = answers = []
        pairs = [(refs, answer) for refs, answer in ((_values(spec), answer) for spec, answer in zip(specs, answers))
                 if not (len(refs) == 1 and _short(refs[0]))]       # short references are judged word by word
        words: list[str] = []                    # isolated-word vectors first, in one batch
        for refs, answer in pairs:
            for text in refs + ([answer] if isinstance(answer, str) else []):
                doc = analyze(text)
                words += [w for i in _contrast.content_tokens(doc) for w in (doc.lows[i], doc.stems[i])]
        if words:
            _embed.embed(list(dict.fromkeys(words)))
        pending = []                             # sentences encode while the next answers are decided
        for refs, answer in pairs:
            if isinstance(answer, str) and answer.strip():
                units = _units(answer)
                live, settled = _decide(refs, answer, units)
                if not live or settled is not None:
                    continue                     # decided by words: nothing to embed
                texts.extend(refs)
                texts.extend(answer[units[u][0]:units[u][1]] for u in live)
                if len(texts) >= EMBED_GROUP:
                    pending.append(_embed.embed_soon(texts))
                    texts = []
        if texts:
            pending.append(_embed.embed_soon(texts))
        for done in pending:
            done.result()

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
        if len(refs) == 1 and _short(refs[0]):
            return self._short_answer(name, refs[0], answer)
        import numpy as np

        live, settled = _decide(refs, answer, units)
        if not live:
            return LabelResult(name, self.type_name, False, 0.0, reason="low_similarity",
                               extra={"detail": "no sentence shares enough of the reference's words"})
        if settled is not None:
            ok, u, clash = settled
            us, ue = units[u]
            extra: dict[str, Any] = {"decided_by": "words"}
            if clash and clash[1]:
                extra["detail"] = clash[1]
            return LabelResult(name, self.type_name, ok, float(ok), (us, ue), answer[us:ue],
                               reason=None if ok else clash[0], extra=extra)
        vecs = _embed.embed([answer[units[u][0]:units[u][1]] for u in live])
        ref_vecs = _embed.embed(refs)
        sims = np.full((len(refs), len(units)), -1.0, dtype="float32")
        sims[:, live] = ref_vecs @ vecs.T            # refs x units, cosine (unit vectors); -1: not embedded
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
            clash = _clash(refs[r], text, answer)
            if clash:
                more = {"detail": clash[1]} if clash[1] else {}
                return LabelResult(name, self.type_name, False, score, (us, ue), text, reason=clash[0],
                                   extra={**extra, **more})
        return LabelResult(name, self.type_name, True, score, (s, e), answer[s:e], extra=extra)

    def _short_answer(self, name: str, ref: str, answer: str) -> LabelResult:
        """A short reference: stated word for word (stems, typos, synonyms), never contradicted."""
        low = ref.strip().rstrip(".!").strip().lower()
        whole = (0, len(answer))
        if low in _YES or low in _NO:
            said = _polarity(answer)
            ok = said == (low in _YES)
            return LabelResult(name, self.type_name, ok, float(ok), whole, answer,
                               reason=None if ok else "wrong_polarity")
        ref_doc, ans_doc = analyze(ref), analyze(answer)
        if _contrast.number_only(ref) and not _contrast.counts(ans_doc):
            return LabelResult(name, self.type_name, False, 0.0, reason="not_found")
        missing = _contrast.missing_words(ref_doc, ans_doc)
        clash = _contrast.contrast(ref, answer, None, _embed.word_sim)
        if clash and clash[0] != "contradicted":
            return LabelResult(name, self.type_name, False, 0.0, whole, answer, reason=clash[0],
                               extra={"detail": clash[1]})
        if missing:
            return LabelResult(name, self.type_name, False, 0.0, reason="missing_content",
                               extra={"detail": ", ".join(ref_doc.lows[i] for i in missing)})
        spans = [(s, e) for s, e in sentences(answer) if not _contrast.missing_words(ref_doc, analyze(answer[s:e]))]
        s, e = spans[0] if spans else whole
        if _negative(answer[s:e]) != _negative(ref):
            return LabelResult(name, self.type_name, False, 0.0, (s, e), answer[s:e], reason="negated")
        doc = analyze(answer[s:e])
        if len(doc) and hedged(doc, 0, len(doc)) >= 0:
            return LabelResult(name, self.type_name, False, 0.5, (s, e), answer[s:e], reason="hedged")
        return LabelResult(name, self.type_name, True, 1.0, (s, e), answer[s:e])

    def hint_text(self, spec: dict[str, Any]) -> str:
        return " ".join(v.strip() for v in _values(spec))
