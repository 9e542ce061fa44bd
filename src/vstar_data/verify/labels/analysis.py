"""Shared text machinery for the label types: tokens, light stemming, clauses, negation.

An answer is tokenised once into a `Doc` (cached, since one answer is checked against several
labels and profiles) holding parallel lists: kind, lowercase form and stem; char offsets are
computed only when a result needs a span. Stems come from a deliberately small English inflection
folder (plays/played/playing -> play, hits/hitting -> hit) so that "hits a baseball" meets
"hitting baseball" without a dictionary. Clause boundaries and negation cues let a label type ask
"is this match negated in its own clause?".
"""
from __future__ import annotations

import re
from functools import lru_cache
from itertools import accumulate
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA


WORD, NUM, PUNCT = 0, 1, 2

# Tokens: words (person's, Soms.Tuck: split later), numbers (1,000  12.4  1:02.5; a glued sign
# "-3" but not the dash of "12-18"), and punctuation, which is kept because it bounds clauses.
# ASCII answers (nearly all) take a pattern without Unicode classes: it is three times faster.
_ASCII_TOKEN_RE = re.compile(
    r"[a-zA-Z]+(?:['.][a-zA-Z]+)*|\d+(?:[.,:]\d+)*|[.,;:!?()\[\]\"/%=&+\n]|(?<![\w.-])-\d+(?:[.,:]\d+)*|-")
_TOKEN_RE = re.compile(
    r"[^\W\d_]+(?:['’.][^\W\d_]+)*|\d+(?:[.,:]\d+)*|[.,;:!?()\[\]\"“”/%=&+\n–—]|(?<![\w.-])-\d+(?:[.,:]\d+)*|-")
_ASCII_SPLIT_RE = re.compile(f"({_ASCII_TOKEN_RE.pattern})")
_SPLIT_RE = re.compile(f"({_TOKEN_RE.pattern})")
_NUMBER_RE = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?::\d{2}){1,2}(?:\.\d+)?|\d+(?:\.\d+)?)")
_NUMBER_PART_RE = re.compile(r"-?\d+|[.,:]")
_CAMEL_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")

# Clause structure -----------------------------------------------------------------------------
HARD = frozenset(".;!?\n")                                  # sentence-like breaks
SOFT = HARD | frozenset(",:()[]—")                          # clause breaks for negation scope
GLUE = frozenset({"-", '"', "“", "”", "·", "(", ")"})       # transparent inside a phrase
CLAUSE_WORDS = frozenset({"but", "while", "whilst", "whereas", "although", "though", "however",
                          "yet", "because", "since", "so", "then"})
AND_SUBJECT = frozenset({"he", "she", "they", "it", "we", "i", "you", "the", "a", "an", "someone",
                         "somebody", "there", "this", "that", "his", "her", "their", "is", "was",
                         "are", "were", "seems", "appears"})

# Negation -------------------------------------------------------------------------------------
NEG = frozenset({"not", "no", "never", "nobody", "none", "nothing", "neither", "nor", "without",
                 "cannot", "cant", "isnt", "arent", "wasnt", "werent", "dont", "doesnt", "didnt",
                 "couldnt", "wouldnt", "shouldnt", "wont", "hasnt", "havent", "hadnt", "aint", "nt",
                 "unlike", "nowhere", "noone", "unclear", "uncertain", "unsure", "doubtful"})
NEG_PAIRS = {"of": frozenset({"instead"}), "than": frozenset({"rather"}),
             "to": frozenset({"opposed", "fail", "fails", "failed"})}
NOT_NEGATING_NEXT = frozenset({"only", "just", "merely", "simply", "doubt", "wonder", "question",
                               "but", "problem", "trouble", "difficulty"})
UNTIL = frozenset({"until", "till", "before"})
AUX = frozenset({"is", "was", "are", "were", "does", "did", "do", "can", "could", "would", "will",
                 "seems", "appears", "has", "have"})
POST_NEG = frozenset({"not", "nt", "never"})
CONTRACTED_NEG = frozenset({"isnt", "arent", "wasnt", "werent", "doesnt", "didnt", "dont", "cant"})

# Words that never carry a label by themselves: articles, pronouns, prepositions, auxiliaries.
SKIP = frozenset({"a", "an", "the", "his", "her", "their", "its", "some", "my", "your", "our",
                  "this", "that", "these", "those"})
FUNCTION = SKIP | AUX | frozenset({
    "he", "she", "it", "they", "we", "i", "you", "him", "them", "us", "who", "which", "what", "whom",
    "there", "here", "be", "been", "being", "am", "had", "having", "shall", "should", "may", "might",
    "must", "of", "in", "on", "at", "to", "from", "by", "with", "for", "about", "into", "onto",
    "over", "under", "after", "before", "during", "between", "through", "than", "as", "and", "or",
    "but", "so", "if", "then", "while", "when", "where", "also", "just", "only", "very", "really",
    "around", "approximately", "roughly", "nearly", "almost", "exactly", "overall", "total", "each",
    "every", "all", "both", "any", "no", "not", "per", "out", "up", "down", "off", "now", "today", "again",
    "too", "well", "whose", "since", "because", "until", "till", "nor", "yet", "however", "therefore",
    "thus", "hence", "ok", "okay", "yes"})

# Stemming -------------------------------------------------------------------------------------
_IRREGULAR_SRC = """
ran running:run swam swum:swim threw thrown:throw caught:catch rode ridden:ride wrote written:write
drove driven:drive ate eaten:eat sat:sit dove:dive drew drawn:draw flew flown:fly blew blown:blow
sang sung:sing spun:spin swung:swing made:make took taken:take gave given:give brought:bring
built:build shot:shoot held:hold fed:feed dug:dig bit bitten:bite fell fallen:fall stood:stand
won:win shook shaken:shake slid:slide struck:strike hung:hang laid:lay wore worn:wear tore torn:tear
broke broken:break chose chosen:choose froze frozen:freeze woke woken:wake wove woven:weave
sewn:sew fought:fight bought:buy taught:teach thought:think kept:keep slept:sleep swept:sweep
knelt:kneel leapt:leap dealt:deal felt:feel met:meet led:lead sold:sell told:tell found:find
bent:bend sent:send spent:spend went gone goes:go did done does doing:do has had having:have
is are was were been being am:be men:man women:woman children:child people:person feet:foot
teeth:tooth mice:mouse geese:goose knives:knife leaves:leaf wolves:wolf shelves:shelf
halves:half dying died dies:die lying:lie tying tied ties:tie dyed dyeing:dye using used:use
bobsled bobsleds bobsledding:bobsled skiing skis skied:ski ups:up
"""
IRREGULAR: dict[str, str] = {
    form: base
    for forms, base in re.findall(r"((?:[a-z]+\s+)*[a-z]+):([a-z]+)", _IRREGULAR_SRC)
    for form in forms.split()
}
_VOWELS = frozenset("aeiouy")


def _has_vowel(s: str) -> bool:
    return any(c in _VOWELS for c in s)


def _undouble(s: str) -> str:
    if len(s) >= 3 and s[-1] == s[-2] and s[-1] not in "lsz" and s[-1] not in _VOWELS:
        return s[:-1]
    return s


_STEMS: dict[str, str] = {}


def stem(word: str) -> str:
    """Fold inflections: lowercase word without apostrophes -> a stem shared by its forms."""
    hit = _STEMS.get(word)
    if hit is not None:
        return hit
    base = IRREGULAR.get(word)
    out = _fold(word) if base is None else _fold_base(base)
    if len(_STEMS) > 200_000:
        _STEMS.clear()
    _STEMS[word] = out
    return out


def _fold_base(b: str) -> str:
    return b[:-1] if len(b) > 3 and b.endswith("e") else b


def _fold(w: str) -> str:
    if len(w) <= 3 or not w.isalpha():
        return w
    b = w
    if w.endswith("ing") and len(w) >= 5 and _has_vowel(w[:-3]):
        b = _undouble(w[:-3])
    elif w.endswith("ied") and len(w) > 4:
        b = w[:-3] + "y"
    elif w.endswith("ed") and len(w) >= 5 and not w.endswith("eed") and _has_vowel(w[:-2]):
        b = _undouble(w[:-2])
    elif w.endswith("ies") and len(w) > 4:
        b = w[:-3] + "y"
    elif w.endswith(("sses", "shes", "ches", "xes", "zzes")):
        b = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        b = w[:-1]
    return _fold_base(b)


# Token similarity -----------------------------------------------------------------------------
_SIM: dict[tuple[str, str, float], float] = {}


def token_sim(a: str, b: str, threshold: float) -> float:
    """1.0 for equal stems; a typo-level score (one edit, same first letter, rapidfuzz ratio at
    or above `threshold`) for stems of 6+ letters; else 0. Strict on purpose: 'baseball' must not
    meet 'basketball', 'paint' must not meet 'point'."""
    if a == b:
        return 1.0
    if len(a) < 6 or len(b) < 5 or a[0] != b[0] or not (a.isalpha() and b.isalpha()):
        return 0.0
    key = (a, b, threshold)
    hit = _SIM.get(key)
    if hit is None:
        max_edits = 2 if len(a) >= 12 else 1
        hit = 0.0
        if abs(len(a) - len(b)) <= max_edits and OSA.distance(a, b, score_cutoff=max_edits) <= max_edits:
            r = fuzz.ratio(a, b)
            hit = r / 100.0 if r >= threshold else 0.0
        if len(_SIM) > 500_000:
            _SIM.clear()
        _SIM[key] = hit
    return hit


# Documents ------------------------------------------------------------------------------------
_Info = tuple  # (kind, low, stem) for one token, or (-1, pieces, offsets) for a split one
_INFO: dict[str, _Info] = {}
_SPLIT_RAWS: set[str] = set()      # tokens whose info is a split (-1, ...)


def _classify(raw: str) -> _Info:
    """What one regex token is (cached per distinct token string: most tokens repeat)."""
    c = raw[0]
    if c.isdigit() or (c == "-" and len(raw) > 1):
        if _NUMBER_RE.fullmatch(raw):
            low = raw.replace(",", "")
            info: _Info = (NUM, low, low)
        else:                           # "1,2,3", "3.2.1", "3:4": numbers and punctuation
            parts = [(m.group(), m.start(), m.end()) for m in _NUMBER_PART_RE.finditer(raw)]
            info = (-1, tuple((PUNCT, t, t) if t in ".,:" else (NUM, t, t) for t, _, _ in parts),
                    tuple((a, b) for _, a, b in parts))
    elif c.isalpha():
        pieces: list[tuple[str, int, int]] = []     # (text, start, end) within raw
        pos = 0
        for part in raw.split("."):
            if pieces:
                pieces.append(("·", pos - 1, pos))   # "Soms.Tuck": a dot inside a name, not a full stop
            if not part.islower() and _is_camel(part):
                pieces.extend((m.group(), pos + m.start(), pos + m.end()) for m in _CAMEL_RE.finditer(part))
            else:
                pieces.append((part, pos, pos + len(part)))
            pos += len(part) + 1
        infos = []
        for text, _, _ in pieces:
            if text == "·":
                infos.append((PUNCT, "·", "·"))
            else:
                low = text.lower().replace("'", "").replace("’", "")
                infos.append((WORD, low, stem(low)))
        info = infos[0] if len(infos) == 1 else (-1, tuple(infos), tuple((a, b) for _, a, b in pieces))
    elif raw == "&":
        info = (WORD, "and", "and")
    else:
        info = (PUNCT, raw, raw)
    if len(_INFO) > 300_000:
        _INFO.clear()
        _SPLIT_RAWS.clear()
    _INFO[raw] = info
    if info[0] == -1:
        _SPLIT_RAWS.add(raw)
    return info


def positions(seq: list[Any], value: Any) -> list[int]:
    """Every index of `value` in `seq` (list.index runs in C)."""
    out: list[int] = []
    i = -1
    try:
        while True:
            i = seq.index(value, i + 1)
            out.append(i)
    except ValueError:
        return out


class Doc:
    """A tokenised text: parallel lists kind/lowercase/stem; char offsets computed only when asked."""

    __slots__ = ("text", "kinds", "lows", "stems", "_parts", "_split", "_starts", "_ends", "_stemset", "cache")

    def __init__(self, text: str) -> None:
        self.text = text
        # split() with a capturing group gives [gap, token, gap, token, ...]: tokens and, later,
        # their offsets (running sums of part lengths) without a Python-level loop over matches.
        parts = (_ASCII_SPLIT_RE if text.isascii() else _SPLIT_RE).split(text)
        raws = parts[1::2]
        get = _INFO.get
        infos = [get(r) or _classify(r) for r in raws]
        split = not _SPLIT_RAWS.isdisjoint(raws)
        if split:
            infos = [sub for i in infos for sub in (i[1] if i[0] == -1 else (i,))]
        if infos:
            kinds, lows, stems = zip(*infos)
            self.kinds, self.lows, self.stems = list(kinds), list(lows), list(stems)
        else:
            self.kinds, self.lows, self.stems = [], [], []
        self._parts, self._split = parts, split
        self._starts: list[int] | None = None
        self._ends: list[int] = []
        self._stemset: set[str] | None = None
        self.cache: dict[str, Any] = {}

    def __len__(self) -> int:
        return len(self.kinds)

    def _offsets(self) -> None:
        cum = list(accumulate(map(len, self._parts)))
        starts, ends = cum[0::2], cum[1::2]
        if self._split:                  # expand tokens that were split into pieces
            xs: list[int] = []
            xe: list[int] = []
            for raw, s, e in zip(self._parts[1::2], starts, ends):
                info = _INFO.get(raw) or _classify(raw)
                if info[0] == -1:
                    xs.extend(s + a for a, _ in info[2])
                    xe.extend(s + b for _, b in info[2])
                else:
                    xs.append(s)
                    xe.append(e)
            starts, ends = xs, xe
        self._starts, self._ends = starts, ends

    def span(self, i0: int, i1: int) -> tuple[int, int]:
        """Char span of tokens i0..i1-1."""
        if self._starts is None:
            self._offsets()
        return self._starts[i0], self._ends[i1 - 1]  # type: ignore[index]

    def where(self, stem_: str) -> list[int]:
        """Token positions whose stem is `stem_`."""
        if self._stemset is None:
            self._stemset = set(self.stems)
        return positions(self.stems, stem_) if stem_ in self._stemset else []

    def next_word(self, i: int) -> int:
        """Index of the first WORD/NUM token at or after i, crossing only glue; -1 if none."""
        n = len(self.kinds)
        while i < n:
            if self.kinds[i] != PUNCT:
                return i
            if self.lows[i] not in GLUE:
                return -1
            i += 1
        return -1

    def clause_start(self, i: int, scope: frozenset[str] = SOFT, limit: int = 40) -> int:
        """First token of the clause containing token i (breaks: `scope` punctuation, clause words)."""
        j = i - 1
        lows, kinds = self.lows, self.kinds
        while j >= 0 and i - j <= limit:
            low = lows[j]
            if kinds[j] == PUNCT:
                if low in scope or (low == "-" and scope is SOFT and self.spaced(j)):
                    return j + 1
            elif low in CLAUSE_WORDS:
                return j
            elif low == "and" and j + 1 < i and lows[j + 1] in AND_SUBJECT:
                return j + 1
            j -= 1
        return j + 1

    def spaced(self, k: int) -> bool:
        """Is token k set off by spaces ("pike - not tuck - 2 twists"), a dash between clauses rather
        than a hyphen ("clean-and-jerk") or a range ("12-18")?"""
        s, e = self.span(k, k + 1)
        text = self.text
        return 0 < s and e < len(text) and text[s - 1].isspace() and text[e].isspace()

    def same_sentence(self, a: int, b: int) -> bool:
        """No hard break between tokens a < b."""
        kinds, lows = self.kinds, self.lows
        return not any(kinds[k] == PUNCT and lows[k] in HARD for k in range(a, b))


def _is_camel(word: str) -> bool:
    return any(word[k].islower() and word[k + 1].isupper() for k in range(len(word) - 1))


@lru_cache(maxsize=64)
def analyze(text: str) -> Doc:
    """The cached Doc of `text` (one answer is checked against many labels and profiles)."""
    return Doc(text)


def negated(doc: Doc, i0: int, i1: int, scope: frozenset[str] = SOFT) -> int:
    """Index of a negation cue governing tokens i0..i1-1 in their clause, or -1.

    The scope is the clause: cues before the match back to the clause start ("he is not playing
    guitar", "nobody is ..."), and a short "X is not ..." after it. "not only", "no doubt",
    "whether or not" and "not ... until" do not negate.
    """
    lows, kinds = doc.lows, doc.kinds
    start = doc.clause_start(i0, scope)
    for j in range(i0 - 1, start - 1, -1):
        if kinds[j] != WORD:
            continue
        low = lows[j]
        if low in NEG:
            nxt = lows[j + 1] if j + 1 < len(lows) else ""
            nxt2 = lows[j + 2] if j + 2 < len(lows) else ""
            if nxt in NOT_NEGATING_NEXT or (low == "without" and nxt2 in ("doubt", "question")):
                continue
            if low == "not" and j >= 1 and lows[j - 1] == "or":
                continue
            if any(lows[k] in UNTIL for k in range(j + 1, i0)):
                continue
            return j
        firsts = NEG_PAIRS.get(low)
        if firsts and j >= 1 and lows[j - 1] in firsts:
            return j - 1
    # "Playing guitar? No, ..."
    if i1 + 1 < len(lows) and lows[i1] == "?" and lows[i1 + 1] in ("no", "nope", "not"):
        return i1 + 1
    # "playing guitar is not ...", "hitting a baseball isn't shown"
    k = doc.next_word(i1)
    if k >= 0 and kinds[k] == WORD:
        if lows[k] in CONTRACTED_NEG:
            return k
        if lows[k] in AUX:
            for m in range(k + 1, min(k + 3, len(lows))):
                if kinds[m] != WORD:
                    break
                if lows[m] in POST_NEG:
                    return m
    return -1
