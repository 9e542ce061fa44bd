"""What sentence embeddings cannot see: contradictions between a reference and an answer.

"The car moves from right to left" embeds at 0.998 cosine of "... from left to right"; so do a
wrong count, a reversed order of events, a negation and a swapped object when the rest of the
sentence matches. Before similarity decides, `contrast` compares these explicitly and names the
first contradiction (precision first: a dataset builder would rather lose a paraphrase than keep
a wrong row):

- closed value classes (direction and change poles, colours, counts): the answer states values of
  a class the reference uses, but none of the reference's, or states the reference's in reverse
  order ("from full to empty");
- event order: the reference orders events ("then", "before", "after"), the answer orders the
  same events the other way;
- content words: a reference word the answer replaces by an unrelated word in the same place
  ("puts the *book* on the shelf"); words are related when equal in stem, a typo apart, in one
  small synonym set, or close as isolated word embeddings (`WORD_SIM`).

Every check is lexical (a `Doc`, no parse), so it costs microseconds next to an encoder call.
"""
from __future__ import annotations

from typing import Callable

from ._numbers import numbers
from .analysis import FUNCTION, HARD, NUM, PUNCT, WORD, Doc, analyze, negated, stem, token_sim

WORD_SIM = 0.6            # isolated-word cosine at which a replaced word still counts as the same

# Polar classes: stem -> (class, pole). Bigrams ("zoom in", "speed up") are read from lowercase forms.
_POLES: dict[str, tuple[str, int]] = {}
for _cls, _a, _b in (
        ("horizontal", "left leftward leftwards", "right rightward rightwards"),
        ("vertical", "upward upwards upstairs rise rising rose risen ascend ascending",
         "downward downwards downstairs fall falling fell descend descending"),
        ("depth", "toward towards approach approaching approaches closer nearer", "away farther further"),
        ("rotation", "clockwise", "counterclockwise anticlockwise"),
        ("speed", "faster fast quick quickly quicker accelerate accelerates accelerating rapidly",
         "slower slow slowly decelerate decelerates decelerating"),
        ("entry", "enter enters entering entered", "exit exits exiting exited leave leaves leaving"),
        ("open", "open opens opening opened", "close closes closing closed shut shuts shutting"),
        ("fill", "full fill fills filling filled", "empty empties emptying emptied"),
        ("size", "increase increases increasing increased grow grows growing grew bigger larger expand expands "
                 "expanding", "decrease decreases decreasing decreased shrink shrinks shrinking shrank smaller"),
        ("push", "push pushes pushing pushed", "pull pulls pulling pulled"),
        ("forward", "forward forwards", "backward backwards"),
        ("appear", "appear appears appearing appeared", "disappear disappears disappearing disappeared vanish "
                                                          "vanishes vanishing vanished"),
        ("posture", "sit sits sitting sat", "stand stands standing stood"),
        ("sex", "man men boy boys guy gentleman male", "woman women girl girls lady female"),
        ("brightness", "brighter brighten brightens brightening brightened lighten lightens lightening",
         "darker darken darkens darkening darkened dimmer"),
):
    for _pole, _words in enumerate((_a, _b)):
        for _w in _words.split():
            _POLES[stem(_w)] = (_cls, _pole)
# two words, a hyphen allowed between them ("counter-clockwise"); the second word is not read again
_BIGRAMS = {("zoom", "in"): ("zoom", 0), ("zoom", "into"): ("zoom", 0), ("zoom", "out"): ("zoom", 1), ("speed", "up"): ("speed", 0),
            ("zoom", "forward"): ("zoom", 0), ("zoom", "forwards"): ("zoom", 0),
            ("zoom", "backward"): ("zoom", 1), ("zoom", "backwards"): ("zoom", 1),
            ("slow", "down"): ("speed", 1), ("counter", "clockwise"): ("rotation", 1),
            ("anti", "clockwise"): ("rotation", 1)}
_HYPHEN_GLUE = frozenset({"to", "and", "or", "from"})      # "left-to-right": the hyphen joins two values
_RATE = frozenset({"speed", "pace", "rate", "tempo"})      # "the same speed": the speed class's third value
_MOVE = frozenset(stem(w) for w in "move go pan tilt scroll look point fly float swim slide roll travel head "
                                   "come climb jump walk run".split())
_COLOURS = {w: w for w in "red blue green yellow orange purple pink black white brown gray silver gold".split()}
_COLOURS.update(grey="gray", golden="gold")
_TIME_UNITS = frozenset("second seconds sec secs s minute minutes min mins hour hours percent %".split())
_THEM = frozenset({"them", "these", "those", "us"})
_NOT_COUNT_NEXT = frozenset({"of", "another", "hand", "side", "by", "point"})
# Order of events: connectors that move to a later event; "after" mid-sentence to an earlier one.
_LATER = frozenset({"then", "afterwards", "afterward", "later", "next", "finally", "subsequently", "subsequent",
                    "eventually"})
_EARLIER_MID = frozenset({"after"})
_BEFORE = frozenset({"before"})
# "X transitions to Y", "cuts to", "gives way to", "turns / morphs into": Y comes later; so does what follows
# "ends with" or "continues with"; "from X to Y" orders X before Y when "to" starts a noun or -ing phrase (not "to get")
_SHIFT = frozenset(stem(w) for w in "transition transitions cut cuts switch switches shift shifts lead leads "
                                    "change changes turn turns way transform transforms transforming morph morphs "
                                    "morphing evolve evolves evolving blossom blossoms blossoming flatten flattens "
                                    "flattening fold folds folding unfold unfolds unfolding crumple crumples form "
                                    "forms forming grow grows growing develop develops developing".split())
_TO = frozenset({"to", "into"})
_GOING = frozenset({"go", "goes", "going", "went", "gone"})
_END = frozenset(stem(w) for w in "end ends ended ending conclude concludes concluded concluding continue "
                                  "continues continued continuing".split())
_PHRASE_START = frozenset({"the", "a", "an", "his", "her", "their", "its", "some", "another", "other"})
_GENERIC = frozenset(stem(w) for w in ("video clip scene footage show shows showing shown see seen appear "
                                       "visible frame image picture depict depicts depicting capture captures "
                                       "feature features featuring display displays first also then thing "
                                       "something way side part seem seems move go do perform").split())
# Small synonym sets where isolated-word embeddings are unreliable (light verbs, people).
_SYNSETS = [frozenset(stem(w) for w in ws.split()) for ws in (
    "put place set lay puts places",
    "take grab pick get fetch",
    "man guy gentleman male",
    "woman lady female",
    "child kid",
    "person someone somebody individual people human man woman guy lady boy girl child kid he she they",
    "cut slice chop",
    "throw toss",
    "rotate turn spin",
    "talk speak chat",
    "look watch",
    "big large huge",
    "small little tiny",
    "cup mug glass",
    "bike bicycle",
    "dad father",
    "mom mother mum",
    "car vehicle automobile",
    "road street",
)]


_SYNSET_OF: dict[str, frozenset[int]] = {}   # stem -> the synonym sets holding it
for _k, _set in enumerate(_SYNSETS):
    for _w in _set:
        _SYNSET_OF[_w] = _SYNSET_OF.get(_w, frozenset()) | {_k}


def synsets(stem_: str) -> frozenset[int]:
    """Ids of the small synonym sets holding a stem (two stems are synonyms when theirs meet)."""
    return _SYNSET_OF.get(stem_, frozenset())


def synonym(a: str, b: str) -> bool:
    """Two stems in one of the small synonym sets."""
    sa = _SYNSET_OF.get(a)
    return bool(sa and sa & _SYNSET_OF.get(b, frozenset()))


# Playback of the clip itself (not the speed of what it shows): time-lapse 0, slow motion 1, normal 2.
_PLAYBACK = (((("time", "lapse"),), 0), ((("time", "lapses"),), 0), ((("timelapse",), ("timelapses",)), 0),
             ((("sped", "up"), ("speeded", "up"), ("fast", "forward"), ("fast", "forwarded")), 0),
             ((("slow", "motion"), ("slow", "mo"), ("slowmo",), ("slowed", "down")), 1),
             ((("normal", "speed"), ("regular", "speed"), ("real", "time"), ("normal", "pace"),
               ("natural", "speed"), ("realtime",)), 2))


# first word -> (form, pole) in _PLAYBACK's order: poles() asks at every word of every answer, and
# scanning every form there was half of a text check's CPU time
_PLAYBACK_BY_FIRST: dict[str, list[tuple[tuple[str, ...], int]]] = {}
for _forms, _pole in _PLAYBACK:
    for _form in _forms:
        _PLAYBACK_BY_FIRST.setdefault(_form[0], []).append((_form, _pole))


def _playback(lows: list[str], i: int) -> tuple[int, int] | None:
    """(pole, last token index) of a playback phrase starting at token i ("slow - motion" too)."""
    candidates = _PLAYBACK_BY_FIRST.get(lows[i])
    if not candidates:
        return None
    words = [(k, w) for k, w in enumerate(lows[i:i + 4], i) if w != "-"]
    for form, pole in candidates:
        if len(words) >= len(form) and tuple(w for _, w in words[:len(form)]) == form:
            return pole, words[len(form) - 1][0]
    return None


def poles(doc: Doc) -> list[tuple[str, int, int]]:
    """(class, pole, token index) for every polar word, in text order."""
    return [(cls, pole, i) for cls, pole, i, _ in _pole_spans(doc)]


def shared_value_tokens(ref: Doc, ans: Doc) -> set[int]:
    """Indices of the reference's tokens that state a polar value the answer states too, in any
    words ("counterclockwise" for "counter-clockwise"): that value is said, so a word check must
    not miss the word."""
    said = {(cls, pole) for cls, pole, _, _ in _pole_spans(ans)}
    return {k for cls, pole, i, last in _pole_spans(ref) if (cls, pole) in said for k in range(i, last + 1)}


def _pole_spans(doc: Doc) -> list[tuple[str, int, int, int]]:
    """(class, pole, first token, last token) for every polar word or phrase, in text order."""
    lows, stems, kinds = doc.lows, doc.stems, doc.kinds
    out: list[tuple[str, int, int, int]] = []
    n = len(lows)
    skip = -1
    for i in range(n):
        if kinds[i] != WORD or i <= skip:
            continue
        nxt = lows[i + 1] if i + 1 < n else ""
        play = _playback(lows, i)
        if play:                                         # "time-lapse", "slow motion", "in real time"
            out.append(("playback", play[0], i, play[1]))
            skip = play[1]
            continue
        second = i + 2 if nxt == "-" and i + 2 < n else i + 1
        pair = lows[second] if second < n else ""
        hit = _BIGRAMS.get((stem(lows[i]), pair)) or _BIGRAMS.get((lows[i], pair))
        if hit:
            out.append((hit[0], hit[1], i, second))
            skip = second
            continue
        if lows[i] == "same" and nxt in _RATE:                                  # "at the same speed"
            out.append(("speed", 2, i, i + 1))
            continue
        if i >= 2 and lows[i - 1] == "-" and kinds[i - 2] == WORD and lows[i - 2] not in _HYPHEN_GLUE:
            continue                                     # "high-rise"... "right" in "left-to-right" stays
        if nxt == "-" and i + 2 < n and kinds[i + 2] == WORD and lows[i + 2] not in _HYPHEN_GLUE:
            continue                                     # "close-up", "left-hand": a compound's first part
        if lows[i] in ("up", "down") and i and (stems[i - 1] in _MOVE or
                                                 i >= 2 and lows[i - 1] in ("and", "or") and lows[i - 2] in ("up", "down")):
            out.append(("vertical", 0 if lows[i] == "up" else 1, i, i))
            continue
        p = _POLES.get(stems[i])
        if p is None:
            continue
        if p[0] == "open" and p[1] == 1 and lows[i] == "close" and nxt in ("to", "by", "up"):   # near, not shut
            continue
        if p[0] == "posture" and i and lows[i - 1] in ("the", "a"):             # "the stand"
            continue
        if p[0] == "horizontal" and p[1] == 0 and lows[i] == "left" and nxt in ("the", "a", "his", "her"):
            continue                                                              # "left the room": exit
        out.append((p[0], p[1], i, i))
    return out


def colours(doc: Doc) -> list[tuple[str, int]]:
    return [(_COLOURS[w], i) for i, w in enumerate(doc.lows) if w in _COLOURS and doc.kinds[i] == WORD]


def counts(doc: Doc) -> list[tuple[float, int]]:
    """Numbers that count things (not durations, percentages, "one of", "one hand")."""
    out = []
    lows = doc.lows
    for num in numbers(doc):
        nxt = lows[num.i1] if num.i1 < len(lows) else ""
        after = lows[num.i1 + 1] if num.i1 + 1 < len(lows) else ""
        if nxt in _TIME_UNITS or (nxt in _NOT_COUNT_NEXT and not (nxt == "of" and after in _THEM)):
            continue                                         # "one of the men" is no count; "2 of them" is
        out.append((float(num.value), num.i0))
    for i, w in enumerate(lows):
        if w in ("once", "twice", "thrice"):
            out.append(({"once": 1.0, "twice": 2.0, "thrice": 3.0}[w], i))
    return out


def _values(doc: Doc) -> dict[str, list[tuple[object, int]]]:
    out: dict[str, list[tuple[object, int]]] = {}
    for cls, pole, i in poles(doc):
        out.setdefault(cls, []).append((pole, i))
    for c, i in colours(doc):
        out.setdefault("colour", []).append((c, i))
    for v, i in counts(doc):
        out.setdefault("count", []).append((v, i))
    return out


def value_sets(doc: Doc, affirmed: bool = False) -> dict[str, frozenset[object]]:
    """Per closed class (a direction or change class, colour, count), the values the text states;
    with `affirmed`, only values no negation governs ("not sped up or slowed down" states none)."""
    out = {}
    for cls, seq in _values(doc).items():
        values = frozenset(v for v, i in seq if not affirmed or negated(doc, i, i + 1) < 0)
        if values:
            out[cls] = values
    return out


def shared_value(ref: Doc, ans: Doc) -> bool:
    """The answer states a value the reference states, in one of the closed classes (a direction
    or change pole, a colour, a count): "faster" in both, "away" in both, "2" for "two"."""
    rv, av = _values(ref), _values(ans)
    return any({v for v, _ in seq} & {v for v, _ in av.get(cls, ())} for cls, seq in rv.items())


def _firsts(seq: list[tuple[object, int]]) -> list[object]:
    return list(dict.fromkeys(v for v, _ in sorted(seq, key=lambda x: x[1])))


def ordered_values(doc: Doc, cls: str) -> list[object]:
    """The values of one class in the order the text first states them ("from closed to open":
    closed, open)."""
    return _firsts(_values(doc).get(cls, []))


def value_conflict(ref: Doc, ans: Doc, whole: Doc | None = None) -> str | None:
    """`wrong_direction` / `wrong_colour` / `wrong_number` when the answer states values of a
    reference's class but none of the reference's, or the reference's in reverse order."""
    rv, av = _values(ref), _values(ans)
    wv = _values(whole) if whole is not None else {}
    for cls, rseq in rv.items():
        aseq = av.get(cls) or wv.get(cls)
        if not aseq:
            continue
        reason = {"colour": "wrong_colour", "count": "wrong_number", "sex": "contradicted"}.get(cls, "wrong_direction")
        rset, aset = {v for v, _ in rseq}, {v for v, _ in aseq}
        if not rset & aset:
            return reason
        rf = [v for v in _firsts(rseq) if v in aset]
        af = [v for v in _firsts(aseq) if v in rset]
        if len(rf) >= 2 and len(rf) == len(af) and rf == af[::-1]:
            return reason                                    # "from full to empty"
    return None


def _later_phrase(doc: Doc, i: int, from_at: int) -> bool:
    """Token i opens a later event: "to"/"into" after a shift verb ("transitions to", "gives way
    to"), "with" after "ends", or the "to" of a "from X to Y" opened at `from_at` (same clause)."""
    lows, stems = doc.lows, doc.stems
    prev = stems[i - 1] if i else ""
    if lows[i] in _TO and prev in _SHIFT:
        return True
    if lows[i] == "with" and prev in _END:
        return True
    if lows[i] in _TO and 0 <= from_at and i - from_at <= 10 and i + 1 < len(lows):
        nxt = lows[i + 1]
        if from_at and (stems[from_at - 1] in _SHIFT or lows[from_at - 1] in _GOING):
            return True                          # "transitioning from full bloom to withered"
        return nxt in _PHRASE_START or (nxt.endswith("ing") and len(nxt) > 4)
    return False


def event_ranks(doc: Doc) -> list[int]:
    """A temporal rank per token: later events higher ("then", "before Y": Y later; "X after Y":
    Y earlier; "After Y, X" at a sentence start: Y earlier, as written; "X transitions to Y",
    "from X to Y", "... ends with Y": Y later)."""
    lows, kinds = doc.lows, doc.kinds
    ranks, rank, top, low_mark = [], 0, 0, 0
    sentence_start = True
    pending_after_start = False
    from_at = -1
    for i, w in enumerate(lows):
        if kinds[i] == PUNCT:
            if w in HARD or w == ",":
                from_at = -1
            if w in HARD:
                sentence_start = True
            elif w == "," and pending_after_start:         # "After Y, X": X comes next, later
                top += 1
                rank = top
                pending_after_start = False
            ranks.append(rank)
            continue
        if w in _LATER or (w == "that" and i and lows[i - 1] == "after") or _later_phrase(doc, i, from_at):
            top += 1
            rank = top
            from_at = -1
        elif w in _EARLIER_MID and not sentence_start and not (i + 1 < len(lows) and lows[i + 1] == "that"):
            low_mark -= 1
            rank = low_mark
        elif w in _BEFORE and not sentence_start:
            top += 1
            rank = top
        elif w in _EARLIER_MID and sentence_start:
            pending_after_start = True
        elif w == "followed" and i + 1 < len(lows) and lows[i + 1] == "by":
            top += 1
            rank = top
        if w == "from":
            from_at = i
        sentence_start = False
        ranks.append(rank)
    return ranks


def content_tokens(doc: Doc) -> list[int]:
    """Indices of the words that carry meaning (no function or generic words)."""
    return [i for i, (k, w, s) in enumerate(zip(doc.kinds, doc.lows, doc.stems))
            if k == WORD and w not in FUNCTION and s not in _GENERIC and len(w) > 1]


def order_conflict(ref: Doc, ans: Doc) -> bool:
    """The reference orders events and the answer orders the same words the other way."""
    rr, ar = event_ranks(ref), event_ranks(ans)
    if len(set(rr)) < 2 or len(set(ar)) < 2:
        return False
    rpos: dict[str, set[int]] = {}
    apos: dict[str, set[int]] = {}
    for i in content_tokens(ref):
        rpos.setdefault(ref.stems[i], set()).add(rr[i])
    for i in content_tokens(ans):
        apos.setdefault(ans.stems[i], set()).add(ar[i])
    shared = [s for s in rpos if len(rpos[s]) == 1 and len(apos.get(s, ())) == 1]
    agree = disagree = 0
    for x in range(len(shared)):
        for y in range(x + 1, len(shared)):
            a, b = shared[x], shared[y]
            (ra,), (rb,), (aa,), (ab,) = rpos[a], rpos[b], apos[a], apos[b]
            if ra == rb or aa == ab:
                continue
            if (ra < rb) == (aa < ab):
                agree += 1
            else:
                disagree += 1
    return disagree > agree


def _related(r: str, a: str, word_sim: Callable[[str, str], float] | None) -> bool:
    if r == a or token_sim(r, a, 85.0) or synonym(r, a):
        return True
    return word_sim is not None and word_sim(r, a) >= WORD_SIM


def missing_words(ref: Doc, ans: Doc) -> list[int]:
    """Reference content tokens whose stem (or a typo of it, or a synonym) is not in the answer."""
    astems = {ans.stems[i] for i in content_tokens(ans)} | set(ans.stems)
    out = []
    for i in content_tokens(ref):
        s = ref.stems[i]
        if ref.lows[i] in _COLOURS or s in astems:
            continue
        if any(token_sim(s, a, 85.0) or synonym(s, a) for a in astems):
            continue
        out.append(i)
    return out


def stated(ref: Doc, ans: Doc, word_sim: Callable[[str, str], float] | None) -> bool:
    """Every content word of the reference has a counterpart in the answer (the same stem, a typo
    of it, a synonym, or an isolated word within WORD_SIM), and every count of the reference is
    counted there too: the answer says at least what the reference says, word for word."""
    aw = [(ans.stems[i], ans.lows[i]) for i in content_tokens(ans)]
    astems = set(ans.stems)
    for i in content_tokens(ref):
        s, low = ref.stems[i], ref.lows[i]
        if s in astems or any(token_sim(s, a, 85.0) or synonym(s, a) for a in astems):
            continue
        if word_sim is None or not any(word_sim(low, al) >= WORD_SIM for _, al in aw):
            return False
    have = {v for v, _ in counts(ans)}
    return all(v in have for v, _ in counts(ref))


def replaced_word(ref: Doc, ans: Doc, word_sim: Callable[[str, str], float] | None) -> tuple[str, str] | None:
    """(reference word, answer word) where the answer puts an unrelated word in place of one of the
    reference's: the slot lies between the answer positions of the reference's neighbouring words
    that the answer shares (or within two words of one such neighbour at an edge)."""
    rc = content_tokens(ref)
    ac = content_tokens(ans)
    if not rc or not ac:
        return None
    where = {}
    for i in ac:
        where.setdefault(ans.stems[i], i)
    missing = set(missing_words(ref, ans))
    if missing:                 # a value stated in other words is no missing word (read only when needed)
        missing -= shared_value_tokens(ref, ans)
    for k, i in enumerate(rc):
        if i not in missing:
            continue
        prev = next((where[ref.stems[j]] for j in reversed(rc[:k]) if ref.stems[j] in where), None)
        nxt = next((where[ref.stems[j]] for j in rc[k + 1:] if ref.stems[j] in where), None)
        if prev is None and nxt is None:
            continue
        if prev is not None and nxt is not None:
            if nxt <= prev:
                continue
            slot = [j for j in ac if prev < j < nxt]
        elif prev is not None:
            slot = [j for j in ac if j > prev][:1]
        else:
            slot = [j for j in ac if j < nxt][-1:]
        slot = [j for j in slot if ans.stems[j] not in {ref.stems[m] for m in rc}]
        if not slot:
            continue
        if not any(_related(ref.stems[i], ans.stems[j], word_sim) or _related(ref.lows[i], ans.lows[j], word_sim)
                   for j in slot):
            return ref.lows[i], ans.lows[slot[0]]
    return None


def contrast(reference: str, unit: str, whole: str | None = None,
             word_sim: Callable[[str, str], float] | None = None) -> tuple[str, str] | None:
    """(reason, detail) for the first contradiction between `reference` and the answer sentence
    `unit` (`whole`: the whole answer, consulted when the sentence states no value of a class)."""
    ref, ans = analyze(reference), analyze(unit)
    reason = value_conflict(ref, ans, analyze(whole) if whole and whole != unit else None)
    if reason:
        return reason, reason.replace("_", " ")
    if order_conflict(ref, ans):
        return "wrong_order", "the events come in the other order"
    swap = replaced_word(ref, ans, word_sim)
    if swap:
        return "contradicted", f"{swap[1]!r} in place of {swap[0]!r}"
    return None


def _number_only(doc: Doc) -> bool:
    return bool(len(doc)) and all(k == NUM or w in ("a", "an") or k == PUNCT for k, w in zip(doc.kinds, doc.lows)) \
        or (len([k for k in doc.kinds if k != PUNCT]) == 1 and bool(counts(doc)))


def number_only(text: str) -> bool:
    """A reference that is only a count ("2", "two")."""
    return _number_only(analyze(text))
