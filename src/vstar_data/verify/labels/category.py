"""Category labels: does the answer name the class (e.g. a Kinetics-700 action) as its own claim?

A class name and its synonyms are compiled once (cached) into token sequences of stems. An answer
matches when the stems appear contiguously in one clause, allowing inflection ("hits a baseball"
for "hitting baseball"), small stopwords between words ("plays the guitar"), compounds ("back
flip" / "backflip"), typo-level fuzziness for long words (rapidfuzz, profile threshold) and, for
two-word names, the reversed order ("guitar playing", THUMOS "BaseballPitch" as "pitching a
baseball"). Extra content words block a match, so "playing bass guitar" is not "playing guitar"
and "pool" alone is not "cleaning pool". A match negated in its clause ("nobody is playing
guitar") does not count, and a Kinetics disambiguator such as "(not cat)" rejects an answer that
names the excluded thing next to the match.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Mapping

from rapidfuzz import fuzz

from .analysis import (
    FUNCTION,
    GLUE,
    HARD,
    IRREGULAR,
    NEG,
    NUM,
    PUNCT,
    SKIP,
    WORD,
    Doc,
    analyze,
    negated,
    stem,
    token_sim,
)
from ..metrics import Metric
from .base import LabelResult, LabelType, Profile, ScoreContext, unusable
from .contradiction import category_contradiction
from ._numbers import NUMBER_WORDS
from ._commitment import Commitment, check, commitment_extra
from ._vocabulary import (corrected_claims, disjunction_forms, enumerated_items, listed_alternatives,
                          vocabulary_index)

# Words allowed between the two words of a reversed two-word name ("diving off a cliff").
_REVERSE_FILL = SKIP | frozenset({"off", "from", "of", "in", "on", "into", "at", "with", "for"})
# Words allowed between the words of a name: "plays the guitar", "juggles three balls".
_BETWEEN = SKIP | (NUMBER_WORDS - {"point"}) | frozenset({"several", "many", "few", "both", "all", "multiple"})
# A class word that stands for a kind: the answer may name a member ("massaging a woman's head",
# "petting a dog"); "(not cat)"-style exclusions still apply to what is named.
_KINDS = {stem(k): frozenset(stem(w) for w in v.split()) for k, v in {
    "person": "someone somebody man woman boy girl child kid guy lady individual men women people friend",
    "animal": "dog cat cow sheep goat pig rabbit bird puppy kitten donkey hamster",
}.items()}
# Verbs that take a gerund: they may stand right before a one-word class ("we see abseiling").
_GERUND_VERBS = frozenset("""see watch show start begin keep stop enjoy love like hate practice practise try
continue finish go do involve feature depict capture demonstrate include mind quit resume avoid consider
imagine prefer learn teach perform hear notice observe spot witness film record indicate suggest mean
reveal confirm imply signal""".split())
# Who may stand right before a one-word class name as its subject ("a man whistling").
_SUBJECTS = frozenset("""
man woman person boy girl kid child children baby guy lady gentleman adult teen teenager player athlete
performer dancer student worker individual someone somebody everyone anyone crowd group team couple
family friend audience dog cat animal horse user subject figure participant actor actress musician
singer artist rider driver climber swimmer skier surfer diver gymnast boxer fighter wrestler chef cook
father mother dad mom son daughter brother sister parent toddler infant mechanic officer men women
people""".split())
_PAREN_RE = re.compile(r"\(([^()]*)\)")
_TERM_SPLIT_RE = re.compile(r"\s*(?:,|\bor\b|\band\b)\s*")
_MAX_SKIPS = 2


@dataclass(frozen=True, slots=True)
class _Tok:
    stem: str
    optional: bool                              # a stopword inside the name: may be absent
    join: str | None                            # stem of this word + the next ("back flip" -> backflip)
    splits: frozenset[tuple[str, str]]          # stems of this word said as two ("backflip")


@dataclass(frozen=True, slots=True)
class _Variant:
    text: str                                   # normalised name, for the near-miss score
    toks: tuple[_Tok, ...]
    reversible: bool
    exclusions: tuple[tuple[str, ...], ...]     # from "(not cat)": stems that must not accompany it
    synonym: str | None
    words: tuple[str, ...]                      # lowercase words of the name
    single: bool                                # one word: stricter boundaries (see _single_word_ok)


def _words(text: str) -> list[str]:
    doc = Doc(text)
    return [low for low, kind in zip(doc.lows, doc.kinds) if kind != PUNCT]


def _splits(low: str) -> frozenset[tuple[str, str]]:
    if len(low) < 7 or not low.isalpha():
        return frozenset()
    return frozenset((stem(low[:k]), stem(low[k:])) for k in range(3, len(low) - 2))


def _variant(words: list[str], exclusions: tuple[tuple[str, ...], ...], synonym: str | None) -> _Variant | None:
    while words and words[0] in SKIP:
        words = words[1:]
    while words and words[-1] in SKIP:
        words = words[:-1]
    if not words:
        return None
    toks = tuple(_Tok(stem(w), w in SKIP, stem(w + words[k + 1]) if k + 1 < len(words) else None, _splits(w))
                 for k, w in enumerate(words))
    content = sum(1 for t in toks if not t.optional)
    return _Variant(" ".join(words), toks, content == 2 and len(toks) == 2, exclusions, synonym,
                    tuple(words), len(words) == 1)


@lru_cache(maxsize=8192)
def compile_name(value: str, synonyms: tuple[str, ...] = ()) -> tuple[_Variant, ...]:
    """All accepted phrasings of a class name: full, without its parenthetical, and synonyms."""
    out: list[_Variant] = []
    seen: set[tuple[str, ...]] = set()
    for k, text in enumerate((value, *synonyms)):
        synonym = text if k else None
        exclusions: list[tuple[str, ...]] = []
        for inner in _PAREN_RE.findall(text):
            inner_words = inner.strip().lower().split(None, 1)
            if len(inner_words) == 2 and inner_words[0] == "not":
                for term in _TERM_SPLIT_RE.split(inner_words[1]):
                    stems = tuple(stem(w) for w in _words(term) if w not in FUNCTION)
                    if stems:
                        exclusions.append(stems)
        forms: list[tuple[list[str], tuple[tuple[str, ...], ...]]] = [(_words(text), ())]
        core = _PAREN_RE.sub(" ", text)
        if core != text:
            forms.append((_words(core), tuple(exclusions)))
        forms += [(alt, tuple(exclusions)) for alt in disjunction_forms(_words(core))]
        for words, excl in forms:
            v = _variant(words, excl, synonym)
            if v is not None and tuple(t.stem for t in v.toks) not in seen:
                seen.add(tuple(t.stem for t in v.toks))
                out.append(v)
    return tuple(out)


def _fuzzy_stems(doc: Doc, anchor: str, thr: float) -> list[str]:
    """Distinct stems of the answer within a typo of `anchor` (6+ letters only)."""
    if len(anchor) < 6:
        return []
    vocab = doc.cache.get("vocab")
    if vocab is None:
        vocab = doc.cache["vocab"] = [s for s in set(doc.stems) if len(s) >= 5]
    first = anchor[0]
    return [s for s in vocab if s[0] == first and s != anchor and token_sim(anchor, s, thr)]


def _starts(doc: Doc, tok: _Tok, thr: float, fuzzy: bool) -> list[int]:
    """Token positions where `tok` (or its compound forms) can begin: exact, or only typo-level."""
    if fuzzy:
        found = [i for s in _fuzzy_stems(doc, tok.stem, thr) for i in doc.where(s)]
    else:
        found = doc.where(tok.stem)
        if tok.join:
            found += doc.where(tok.join)
        for a, _ in tok.splits:
            found += doc.where(a)
    return sorted(set(found))


def _forward(doc: Doc, toks: tuple[_Tok, ...], j: int, thr: float) -> tuple[int, float] | None:
    """Match `toks` starting at token j; (end token, mean similarity) or None."""
    stems, lows, kinds = doc.stems, doc.lows, doc.kinds
    n, size = len(stems), len(toks)
    i, k, total, count, skips = 0, j, 0.0, 0, 0
    while i < size:
        if i and k < n and kinds[k] == PUNCT and lows[k] in GLUE:
            k += 1
            continue
        tok = toks[i]
        if k < n and kinds[k] != PUNCT:
            sim = token_sim(tok.stem, stems[k], thr) or (stems[k] in _KINDS.get(tok.stem, ()))
            if sim:
                total, count, i, k, skips = total + sim, count + 1, i + 1, k + 1, 0
                continue
            if tok.join and i + 1 < size and stems[k] == tok.join:
                total, count, i, k, skips = total + 2, count + 2, i + 2, k + 1, 0
                continue
            if tok.splits and k + 1 < n and (stems[k], stems[k + 1]) in tok.splits:
                total, count, i, k, skips = total + 1, count + 1, i + 1, k + 2, 0
                continue
            if i and (lows[k] in _BETWEEN or kinds[k] == NUM) and skips < _MAX_SKIPS:
                k, skips = k + 1, skips + 1
                continue
        if tok.optional:
            i += 1
            continue
        return None
    return k, total / max(count, 1)


def _reverse(doc: Doc, toks: tuple[_Tok, ...], j: int, thr: float) -> tuple[int, float] | None:
    """Two-word name in reversed order starting at j: 'guitar playing', 'pitching a baseball'."""
    stems, lows, kinds = doc.stems, doc.lows, doc.kinds
    first, second = toks
    s1 = token_sim(second.stem, stems[j], thr)
    if not s1:
        return None
    k, n = j + 1, len(stems)
    fill = 0
    while k < n and fill <= 3:
        if kinds[k] == PUNCT:
            if lows[k] not in GLUE:
                return None
        else:
            s0 = token_sim(first.stem, stems[k], thr)
            if s0:
                left = lows[j - 1] if j and kinds[j - 1] == WORD else ""
                if not fill and (left and left not in FUNCTION and not _verb_like(left)
                                 or k + 1 < n and kinds[k + 1] == WORD and lows[k + 1] not in FUNCTION):
                    return None  # a compound inside another name: "bass guitar playing", "hand washing clothes"
                return k + 1, (s0 + s1) / 2
            if lows[k] not in _REVERSE_FILL:
                return None
            fill += 1
        k += 1
    return None


def _verb_like(low: str) -> bool:
    """An inflected verb form ("shows", "started", "went"), which may precede a name."""
    return (low.endswith(("ing", "ed")) or low in IRREGULAR
            or (low.endswith("s") and not low.endswith(("ss", "us", "is"))))


def _single_word_ok(doc: Doc, j: int, word: str) -> bool:
    """A one-word class ("wrestling", "bottling") said as such, not inside another name.

    The answer's word must be a verb form when the class is a gerund ("bottle" is not
    "bottling"), and no noun may modify it from the left ("arm wrestling", "clam digging"),
    though its subject may stand there ("a man whistling").
    """
    lows, kinds = doc.lows, doc.kinds
    if word.endswith("ing") and not _verb_like(lows[j]):
        return False
    if j and kinds[j - 1] == WORD:
        left = lows[j - 1]
        if left not in FUNCTION and left not in _SUBJECTS and left not in _GERUND_VERBS \
                and not left.endswith("ly") and not _verb_like(left):
            return False
    return True


def _part_of_longer_name(doc: Doc, var: _Variant, j: int, end: int) -> bool:
    """Is the match only part of a longer word or name: "guitar-like", "pool-side", or for a
    one-word class "arm wrestling" (see _single_word_ok)?

    A plain noun after a name is allowed ("a soccer penalty kick", "playing guitar music"): it
    far more often continues the same activity than names another one.
    """
    lows, kinds = doc.lows, doc.kinds
    if var.single and not _single_word_ok(doc, j, var.words[0]):
        return True
    if end + 1 < len(lows) and lows[end] == "-" and kinds[end + 1] == WORD:
        s, e = doc.span(end - 1, end + 2)
        return not any(c.isspace() for c in doc.text[s:e])      # glued by a hyphen
    return False


def _excluded(doc: Doc, i0: int, i1: int, var: _Variant) -> bool:
    """Does the answer name a thing the class excludes ("petting a cat" for "(not cat)") beside the match?"""
    stems, lows, kinds = doc.stems, doc.lows, doc.kinds
    own = {t.stem for t in var.toks} | SKIP | _BETWEEN
    # what the match itself names in place of a kind ("petting a cat" for "petting animal")
    window = [stems[k] for k in range(i0, i1) if kinds[k] == WORD and stems[k] not in own]
    k = i1
    while k < len(stems) and len(window) < 5 + i1 - i0:
        if kinds[k] == PUNCT and (lows[k] in HARD or lows[k] == ","):
            break
        if kinds[k] == WORD:
            if lows[k] in NEG:
                break        # "(not a cat)": the answer itself excludes it
            if lows[k] not in FUNCTION:
                window.append(stems[k])
        k += 1
    for k in range(i0 - 1, max(i0 - 3, -1), -1):    # "slalom skiing": a modifier just before it
        if kinds[k] != WORD:
            break
        if lows[k] not in FUNCTION:
            window.insert(0, stems[k])
    joined = {stem(window[m] + window[m + 1]) for m in range(len(window) - 1)}
    for term in var.exclusions:
        size = len(term)
        if size == 1 and term[0] in joined:
            return True
        if any(tuple(window[m:m + size]) == term for m in range(len(window) - size + 1)):
            return True
    return False


@lru_cache(maxsize=8192)
def _runs(variants: tuple[_Variant, ...]) -> tuple[tuple[_Variant, Any, _Tok], ...]:
    """(variant, matcher, anchor token) for every way a name can be said."""
    out: list[tuple[_Variant, Any, _Tok]] = []
    for var in variants:
        out.append((var, _forward, var.toks[0]))
        if var.reversible:
            out.append((var, _reverse, var.toks[1]))
    return tuple(out)


def _matches(doc: Doc, variants: tuple[_Variant, ...], thr: float, fuzzy_ok: bool = True,
             ) -> tuple[list[tuple[int, int, float, _Variant]], tuple[str, int, int, float] | None]:
    """Every place the answer says the class (exact anchors; typo-level ones only if none), and the
    first exclusion-rejected match ("petting a cat" for "(not cat)")."""
    found: list[tuple[int, int, float, _Variant]] = []
    excluded: tuple[str, int, int, float] | None = None
    seen: set[int] = set()
    for fuzzy in ((False, True) if fuzzy_ok else (False,)):
        if fuzzy and found:
            break
        for var, matcher, anchor in _runs(variants):
            if fuzzy and len(anchor.stem) < 6:
                continue
            for j in _starts(doc, anchor, thr, fuzzy):
                if j in seen:
                    continue
                got = matcher(doc, var.toks, j, thr)
                if got is None:
                    continue
                end, sim = got
                if _part_of_longer_name(doc, var, j, end):
                    continue
                if var.exclusions and _excluded(doc, j, end, var):
                    excluded = excluded or ("excluded", j, end, sim)
                    continue
                seen.add(j)
                found.append((j, end, sim, var))
    return found, excluded


def _rivals(doc: Doc, spec: dict[str, Any], thr: float, gold: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Mentions of other classes of the label's vocabulary (`spec["vocabulary"]`), if it has one;
    without one, activity phrases listed next to the class as alternatives."""
    names = spec.get("vocabulary")
    if not names:
        return listed_alternatives(doc, gold)
    own = {str(spec["value"]).lower(), *(str(s).lower() for s in spec.get("synonyms") or ())}
    out: list[tuple[int, int]] = []
    for name in vocabulary_index(names, compile_name).named(doc):
        if name.lower() in own:
            continue
        found, _ = _matches(doc, compile_name(name), thr, fuzzy_ok=False)
        out.extend((j, end) for j, end, _, _ in found)
    return out


def class_mentions(doc: Doc, name: str, thr: float) -> list[tuple[int, int]]:
    """Token ranges where the answer names class `name` (exact words, no typo matching), as an
    attribute may be named: a modifier before a one-word noun class is allowed ("a blue square"),
    only a gerund keeps the compound rule ("arm wrestling" is not "wrestling"). A hyphenated
    compound names its parts ("blue-green" states green)."""
    variants = compile_name(name)
    found: list[tuple[int, int]] = []
    for var, matcher, anchor in _runs(variants):
        for j in _starts(doc, anchor, thr, False):
            got = matcher(doc, var.toks, j, thr)
            if got is None:
                continue
            end = got[0]
            if not (var.single and not var.words[0].endswith("ing")) and _part_of_longer_name(doc, var, j, end):
                continue
            if (j, end) not in found:
                found.append((j, end))
    return sorted(found)


class CategoryLabel(LabelType):
    """A class name (plus synonyms) that the answer must state and commit to as its own claim.

    A spec may carry `vocabulary` (the source's class list): other classes named with equal force
    ("abseiling or rock climbing", "abseiling, rock climbing, ice climbing") then reject it.
    """

    type_name = "category"
    uses_vocabulary = True
    metrics = (Metric("top1", label="top-1"),)
    right = "top1"

    def check(self, spec: dict[str, Any], answer: str, profile: Profile) -> LabelResult:
        name = spec.get("name", "")
        variants = compile_name(str(spec["value"]), tuple(spec.get("synonyms") or ()))
        if not variants:                  # no words in the name or its synonyms: "🙂🙂", "?!..."
            return unusable(self.type_name, spec, f"class name {spec['value']!r}")
        doc = analyze(answer)
        thr = float(profile.fuzzy_threshold)
        found, excluded = _matches(doc, variants, thr)
        if found:
            gold = [(j, end) for j, end, _, _ in found]
            corrections = [] if spec.get("vocabulary") else corrected_claims(doc, gold)
            listed = [] if spec.get("vocabulary") or not profile.require_commitment else enumerated_items(doc, gold)
            verdict = Commitment(False, "competing_value", listed[0],     # the whole list as its clause
                                 (min(gold[0][0], listed[0][0]), max(gold[0][1], listed[-1][1]))) if listed \
                else check(doc, gold, _rivals(doc, spec, thr, gold), profile.require_commitment, corrections,
                           events=False)
            j, end = verdict.mention if verdict.mention in gold else gold[0]
            sim, var = next((m[2], m[3]) for m in found if m[0] == j)
            s, e = doc.span(j, end)
            extra: dict[str, Any] = {"synonym": var.synonym} if var.synonym else {}
            if verdict.ok:
                return LabelResult(name, self.type_name, True, sim, (s, e), answer[s:e], extra=extra)
            extra.update(commitment_extra(doc, verdict, gold))
            return LabelResult(name, self.type_name, False, sim, (s, e), answer[s:e], reason=verdict.reason,
                               extra=extra)
        if excluded is not None:
            reason, j, end, sim = excluded
            s, e = doc.span(j, end)
            return LabelResult(name, self.type_name, False, sim, (s, e), answer[s:e], reason=reason)
        lower = doc.cache.get("lower")
        if lower is None:
            lower = doc.cache["lower"] = answer.lower()
        near = max(fuzz.partial_ratio(v.text, lower) for v in variants) / 100.0
        return LabelResult(name, self.type_name, False, near, reason="not_found")

    def hint_text(self, spec: dict[str, Any]) -> str:
        return str(spec["value"])

    def contradiction(self, spec: dict[str, Any], answer: str, profile: Profile) -> LabelResult:
        """Another class of the spec's `vocabulary` asserted (labels/contradiction.py)."""
        return category_contradiction(spec, answer, lambda doc: vocabulary_index(spec["vocabulary"],
                                                                                 compile_name).named(doc),
                                      lambda doc, name: class_mentions(doc, name, float(profile.fuzzy_threshold)))

    def top1(self, spec: dict[str, Any], answer: str, vocabulary: Iterable[str], profile: Profile) -> bool:
        """The gold class is named and no other class of `vocabulary` is (a class inside the gold
        name's own match, "guitar" in "playing guitar", does not count)."""
        gold = self.verify(spec, answer, profile)
        if not gold.passed:
            return False
        own = {str(spec["value"]).lower(), *(str(s).lower() for s in spec.get("synonyms") or ())}
        for cls in vocabulary:
            if cls.lower() in own:
                continue
            other = self.verify({"type": "category", "name": spec["name"], "value": cls, "synonyms": []},
                                answer, profile)
            inside = gold.span and other.span and gold.span[0] <= other.span[0] and other.span[1] <= gold.span[1]
            if other.passed and not inside:
                return False
        return True

    def score(self, spec: dict[str, Any], answer: str | None, verdict: Mapping[str, Any],
              context: ScoreContext) -> dict[str, Any]:
        """`top1` against the source's classes (`context.vocabulary`)."""
        return {"top1": answer is not None and self.top1(spec, answer, context.vocabulary, context.profile)}
