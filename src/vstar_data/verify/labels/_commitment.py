"""Commitment: does the clause that states a label *assert* it, and is no rival value asserted as strongly?

Finding a label's value in an answer is not enough: "maybe swimming, maybe surfing", "it looks like
rock climbing at first, but it is abseiling", "the previous diver scored 65.6" all contain a value
that the answer does not commit to. Every label type finds its mentions (token ranges in the
answer's `Doc`) and the mentions of rival values of the same label (another class of the
vocabulary, another number for the same key, another interval, another sequence), then asks here:

    check(doc, gold, rivals) -> Commitment(ok, reason, mention, clause)

`gold` and `rivals` are lists of `(i0, i1)` token ranges (`i1` exclusive). The label passes when
at least one gold mention is asserted (`assertion(doc, i0, i1, others)` returns None) and no
rival is asserted with equal force: offered as an alternative to the gold value ("X or Y", a bare
list "X, Y, Z"), or stated as a separate main claim. Reasons, in the order they are checked:

- `negated`        "he is not X", "rather than X", "X? No, ..."
- `questioned`     the sentence stating X ends in "?" (and is not answered "yes")
- `hedged`         maybe, perhaps, possibly, probably, might, could, "not sure", "X, perhaps", "or was it"
- `counterfactual` "if ...", "would have been X", "X would be typical", "had there been ...", and
                   "would be X" in a sentence with a condition; "would" alone predicts and commits
                   ("that would be X")
- `not_carried_out` intentions and pretence: wants to, plans, about to, tries, pretends, "as if"
- `attributed_elsewhere` the value belongs to another event or actor: "the previous diver scored X",
                   "on his first attempt", "the replay", "her partner did X", "a poster shows X"
- `retracted`      X followed by a correction that states another value ("X - sorry, Y",
                   "looks like X at first, but it is Y", "X. Scratch that: ...")
- `competing_value` a rival offered as an alternative to X, or asserted as strongly as X

API (nothing here knows a label type; new types plug in with their own mentions):

    check(doc, gold, rivals=(), strict=True, corrections=(), events=True) -> Commitment(...)
        strict=False (profile `require_commitment: false`) checks negation only; `corrections` are
        claims that only count as what a correction goes on to say (rivals the type cannot name).
    assertion(doc, i0, i1, others=()) -> (reason or None, clause token range)   one mention
    coordinated(doc, a, b) -> bool        two mentions offered as alternatives / a bare list
    commitment_extra(doc, verdict, gold) -> {"clause": text, "rival": text}   for LabelResult.extra
    REASONS                               the reason slugs above

A label type finds `gold` (mentions of the label's value) and `rivals` (mentions of other values)
as token ranges of `analyze(answer)`, calls `check`, and reports `verdict.reason` as its
LabelResult reason (see number.py / interval.py for the pattern). Everything is rule-based on the
`_text` tokens: a few set lookups per mention, no parser. The cue word lists the rules look up
(hedges, doubt, counterfactuals, intentions, attribution, corrections, what joins alternatives)
sit right below, next to the rules that read them: lowercase tokens as `_text` gives them
(apostrophes dropped: "can't" -> "cant").
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import Sequence

from .analysis import CLAUSE_WORDS, HARD, NUM, PUNCT, SOFT, WORD, Doc, negated

REASONS = ("negated", "questioned", "hedged", "counterfactual", "not_carried_out", "attributed_elsewhere",
           "retracted", "competing_value")
Span = tuple[int, int]

# Cues (lowercase tokens as the tokenizer gives them: apostrophes dropped) -----------------------
HEDGE = frozenset({"maybe", "perhaps", "possibly", "possible", "probably", "probable", "likely", "unlikely",
                   "presumably", "supposedly", "might", "may", "could", "guess", "guesses", "guessing",
                   "suppose", "unsure", "uncertain", "either", "whether", "somewhere", "candidate",
                   "candidates", "option", "options", "perchance", "mightve", "couldve", "arguably", "chance",
                   "unclear", "estimate", "estimated", "estimating", "guessed", "assume", "assuming",
                   "assumed"})
_COULD_OK = frozenset({"see", "tell", "hear", "notice", "observe", "clearly", "easily", "count"})
# doubt stated in words: these hedge the claim anywhere earlier in its sentence ("I'm not sure, but ...")
_DOUBT_PAIRS = {("not", "sure"), ("not", "certain"), ("not", "entirely"), ("hard", "to"), ("difficult", "to"),
                ("cant", "tell"), ("cannot", "tell"), ("cant", "be"), ("cannot", "be"), ("cant", "say"),
                ("cannot", "say"), ("no", "idea"), ("not", "clear"), ("not", "100"), ("hard", "tell"),
                ("not", "confident"), ("be", "wrong"), ("not", "positive")}
# "I would think", "it would seem", "I'd imagine": "would" with a verb of opinion or appearance hedges
_WOULD_OPINION = frozenset({"seem", "appear", "think", "imagine", "guess", "say", "suppose", "assume", "expect",
                            "bet", "venture", "reckon", "believe", "estimate", "speculate", "wager"})
_DOUBT_PAIRS |= {(w, v) for w in ("would", "id", "wouldve") for v in _WOULD_OPINION}
# "X is one possibility", "X is a plausible guess", "X is likely"
_HEDGE_PREDICATE = frozenset({"possibility", "possible", "plausible", "guess", "likely", "probable", "candidate",
                              "option", "assumption", "hypothesis", "speculation", "conjecture"})
_HEDGE_PAIRS = _DOUBT_PAIRS | {("i", "guess"), ("i", "think"), ("or", "so"), ("best", "guess"),
                               ("i", "believe"), ("i", "suppose"), ("my", "guess"), ("a", "chance"), ("give", "or"),
                               ("some", "chance")}
_TRAIL_ADVERBS = frozenset({"perhaps", "maybe", "possibly", "probably", "presumably", "unless", "arguably"})
COUNTERFACTUAL = frozenset({"would", "wouldve", "if", "wish", "unless"})
# "would have been X" (did not happen), "would normally be X" (what usually happens, not this clip)
_WOULD_HYPOTHETICAL = frozenset({"have", "normally", "usually", "typically", "ordinarily", "generally", "ideally"})
# what makes "would" counterfactual when it is in the same sentence (otherwise "would" predicts)
_CONDITION = frozenset({"if", "unless", "otherwise", "wish", "wished", "else"})
_INVERTED_SUBJECT = frozenset({"there", "it", "he", "she", "they", "i", "we", "you", "the", "this", "that", "his",
                               "her", "their"})
# "is going to be / receive / score ...": a predicted outcome, not an intention
_PREDICTED = frozenset({"be", "receive", "get", "earn", "score", "land", "finish", "end", "last", "take", "reach",
                        "total", "come", "happen", "occur"})
INTEND = frozenset({"want", "wants", "wanted", "wanting", "plan", "plans", "planned", "planning", "hope",
                    "hopes", "hoped", "hoping", "intend", "intends", "intended", "intending", "prepare",
                    "prepares", "prepared", "preparing", "needed", "needs", "try", "tries", "tried", "trying",
                    "pretend", "pretends", "pretended", "pretending", "mimic", "mimics", "mimicking",
                    "imitate", "imitates", "imitating", "fake", "fakes", "faking", "scared", "afraid",
                    "refuses", "refused", "balks", "balked"})
_TRY = frozenset({"try", "tries", "tried", "trying"})
_FAILURE = frozenset({"but", "fails", "failed", "aborts", "aborted", "balks", "balked", "never", "unsuccessfully",
                      "gives", "gave", "stops", "stopped", "cannot", "cant", "couldnt", "unable"})
_INTEND_PAIRS = {("about", "to"), ("going", "to"), ("ready", "to"), ("as", "if"), ("as", "though"),
                 ("gonna", "")}
# another event or actor owns the value stated in this clause
ATTRIBUTE = frozenset({"previous", "prior", "earlier", "other", "another", "partner", "partners", "leader",
                       "leaders", "replay", "coach", "coachs", "instructor", "commentator", "opponent",
                       "opponents", "rival", "teammate", "friend", "friends", "sister", "sisters", "brother",
                       "brothers", "crowd", "audience", "spectators", "poster", "picture", "photo", "painting",
                       "drawing", "failed", "false", "record", "target", "others", "elsewhere"})
_EVENT_AFTER = frozenset({"previous", "prior", "earlier", "replay", "failed", "false", "elsewhere", "record",
                          "poster", "picture", "photo", "painting", "drawing"})
_JUDGED = frozenset({"score", "scores", "mark", "marks", "rating", "ratings", "points"})
_FIRST_EVENT = frozenset({"attempt", "attempts", "try", "round", "dive", "jump", "run", "lift", "throw", "one",
                          "swing", "serve", "shot", "kick", "rally", "heat", "trial", "effort", "routine",
                          "performance"})
# events in time (another attempt, a replay): they own numbers and intervals, not a clip's class
_TEMPORAL = frozenset({"previous", "prior", "earlier", "replay", "failed", "false", "record", "target"})
_NEXT_EVENT = _FIRST_EVENT | frozenset({"diver", "athlete", "competitor", "player", "jumper", "lifter", "person"})
# a correction follows: "X - sorry, Y", "X, actually Y", "X... no, wait, Y", "X. Scratch that: Y"
CORRECT = frozenset({"sorry", "actually", "wait", "correction", "scratch", "instead", "misspoke", "rather",
                     "closer", "mean", "wrong", "mistake", "oops"})
_EXPLICIT = frozenset({"correction", "scratch", "wrong", "misspoke", "mistake", "sorry"})
CONTRAST = frozenset({"but", "yet", "however", "though", "although"})
APPEAR = frozenset({"look", "looks", "looked", "looking", "resemble", "resembles", "resembled", "resembling",
                    "seem", "seems", "seemed", "appear", "appears", "appeared", "pass", "initially", "first",
                    "afar", "thought", "said", "glance", "mistaken", "mistook", "like"})
# what may stand between two values offered as alternatives or a bare list
_LINK = frozenset({",", "/", "?", "-", "–", "—", "or", "either", "maybe", "perhaps", "possibly", "probably",
                   "a", "an", "the", "it", "its", "is", "s", "he", "she", "they", "are", "was", "doing", "and",
                   "this", "that", "could", "be", "might", "even"})
_ALT = frozenset({"or", "/", "?", ","})
_SUBORDINATE = frozenset({"while", "whilst", "as", "whereas", "when", "after", "before", "than", "like",
                          "unlike", "until", "since"})
_YES = frozenset({"yes", "yeah", "yep", "indeed", "correct", "right", "exactly"})


# Which families of cues an answer holds at all: a check whose cue words are absent is skipped.
_HEDGE_ANY = HEDGE | _TRAIL_ADVERBS | _HEDGE_PREDICATE | {a for a, _ in _HEDGE_PAIRS} | {"though", "although", "or", "one"}
_COUNTER_ANY = COUNTERFACTUAL | {"had", "might", "could", "may"}
_INTEND_ANY = INTEND | {a for a, _ in _INTEND_PAIRS} | {"gonna"}
_ATTRIBUTE_ANY = ATTRIBUTE | {"judge", "judges", "first", "last", "next", "earlier", "second"}
_RETRACT_ANY = CORRECT | CONTRAST | {"no"}
_ALL_CUES = _HEDGE_ANY | _COUNTER_ANY | _INTEND_ANY | _ATTRIBUTE_ANY | _RETRACT_ANY | {"?"}


def cues_in(doc: Doc) -> frozenset[str]:
    """The cue words this answer contains at all (cached on the Doc)."""
    hit = doc.cache.get("cues")
    if hit is None:
        hit = doc.cache["cues"] = _ALL_CUES.intersection(doc.lows)
    return hit


@dataclass(frozen=True, slots=True)
class Commitment:
    """The verdict on one label's mentions: ok, else a reason from REASONS and the failing clause."""

    ok: bool
    reason: str | None = None
    mention: Span | None = None       # token range of the mention the decision rests on
    clause: Span | None = None        # token range of the clause that failed (or asserted)


def sentence(doc: Doc, i0: int, i1: int) -> Span:
    """Token range of the sentence holding tokens i0..i1-1 (hard breaks bound it)."""
    breaks = doc.cache.get("hard_breaks")
    if breaks is None:
        lows, kinds = doc.lows, doc.kinds
        breaks = doc.cache["hard_breaks"] = [k for k in range(len(lows)) if kinds[k] == PUNCT and lows[k] in HARD]
    at = bisect_left(breaks, i0)
    s = breaks[at - 1] + 1 if at else 0
    at = bisect_left(breaks, i1)
    e = breaks[at] if at < len(breaks) else len(doc.lows)
    return s, e


def clause(doc: Doc, i0: int, i1: int) -> Span:
    """Token range of the clause holding i0..i1-1: from its start (soft breaks, clause words) to the
    next soft break after the mention."""
    s = doc.clause_start(i0)
    e, n = i1, len(doc.lows)
    lows, kinds = doc.lows, doc.kinds
    while e < n and not (kinds[e] == PUNCT and lows[e] in SOFT) and not (kinds[e] == WORD and lows[e] in CLAUSE_WORDS):
        e += 1
    return s, e


def _pair(lows: list[str], j: int, pairs: set[tuple[str, str]]) -> bool:
    return j + 1 < len(lows) and (lows[j], lows[j + 1]) in pairs


def _hedged_before(doc: Doc, start: int, i0: int) -> int:
    lows, kinds = doc.lows, doc.kinds
    for j in range(start, i0):
        if kinds[j] != WORD:
            continue
        low = lows[j]
        if low in HEDGE:
            if low == "could" and j + 1 < len(lows) and lows[j + 1] in _COULD_OK:
                continue
            if low == "may" and j + 1 < len(lows) and kinds[j + 1] == NUM:
                continue
            return j
        if _pair(lows, j, _HEDGE_PAIRS) and not _sees(lows, j):
            return j
    return -1


def _sees(lows: list[str], j: int) -> bool:
    """"hard to see the scoreboard" is about seeing, not about the claim."""
    return lows[j] in ("hard", "difficult") and j + 2 < len(lows) and lows[j + 2] in ("see", "read", "make", "spot")


def _doubted_earlier(doc: Doc, ss: int, cs: int) -> bool:
    """Doubt stated earlier in the sentence, before this clause: "I'm not sure, but it is X", or a
    short hedging lead-in: "Most likely, ...", "If I had to guess, ..."."""
    lows, kinds = doc.lows, doc.kinds
    if any(_pair(lows, j, _DOUBT_PAIRS) and not _sees(lows, j) for j in range(ss, cs)):
        return True
    lead = [lows[j] for j in range(ss, cs) if kinds[j] == WORD]
    return 0 < len(lead) <= 6 and any(w in HEDGE and w not in ("could", "may") for w in lead)


def _hedged_after(doc: Doc, i1: int, end: int) -> int:
    """A trailing hedge in the same sentence: "X, perhaps.", "X, I think, but I'm not sure", "X - though
    it might ...", "X, unless ...", "hard to tell which"."""
    lows, kinds = doc.lows, doc.kinds
    for j in range(i1, min(i1 + 4, end)):
        if kinds[j] == PUNCT:
            break
        if lows[j] in _HEDGE_PREDICATE:
            return j
    for j in range(i1, end):
        if kinds[j] != WORD:
            continue
        low = lows[j]
        if low in _TRAIL_ADVERBS:
            nxt = j + 1
            if low == "unless" or nxt >= len(lows) or kinds[nxt] == PUNCT or j - i1 <= 1:
                return j
        elif _pair(lows, j, _HEDGE_PAIRS) and low != "one":
            return j
        elif low == "one" and _pair(lows, j, {("one", "of")}) and j + 2 < len(lows) and lows[j + 2] in ("those", "these", "them"):
            return j
        elif low in ("though", "although") and j + 1 < end and lows[j + 1] in ("it", "this", "that", "i"):
            for m in range(j + 2, min(j + 5, end)):       # "- though it might have been inward"
                if lows[m] in HEDGE or lows[m] == "would":
                    return m
        elif low == "or" and j + 1 < end and lows[j + 1] in ("maybe", "perhaps", "possibly", "was", "is", "possibly"):
            return j
    return -1


def _questioned(doc: Doc, i1: int, end: int) -> bool:
    lows = doc.lows
    if end < len(lows) and lows[end] == "?":
        nxt = doc.next_word(end + 1) if end + 1 < len(lows) else -1
        return not (nxt >= 0 and lows[nxt] in _YES)
    return False


def _followed_by_doubt(doc: Doc, end: int) -> bool:
    """The next sentence casts doubt on this one: "Or was it forward?", "Hard to say."."""
    lows, kinds = doc.lows, doc.kinds
    k = end + 1
    if k >= len(lows):
        return False
    k = doc.next_word(k)
    if k < 0:
        return False
    s, e = sentence(doc, k, k + 1)
    if lows[k] == "or" and e < len(lows) and lows[e] == "?":
        return True
    words = sum(1 for m in range(k, e) if kinds[m] == WORD)
    return words <= 4 and (lows[k] in _TRAIL_ADVERBS or _pair(lows, k, _HEDGE_PAIRS))   # "Hard to say."


def _conditioned(doc: Doc, ss: int, se: int) -> bool:
    """The sentence states a condition: "if", "unless", "otherwise", "I wish", or an inversion
    ("Had he not stopped, ...", "Were there a rope, ...")."""
    lows = doc.lows
    if any(lows[k] in _CONDITION for k in range(ss, se)) or (ss < se and lows[ss] == "without"):
        return True                              # "Without the splash, the score would be ..."
    if ss + 1 < se and lows[ss] == "were" and lows[ss + 1] in _INVERTED_SUBJECT:
        return True
    # "Had he not stopped, ...", "... would be 65.6, had the entry been cleaner", "... had there been snow"
    return any(lows[k] == "had" and lows[k + 1] in _INVERTED_SUBJECT
               and (k == ss or doc.kinds[k - 1] != WORD or "been" in lows[k + 2:min(k + 5, se)])
               for k in range(ss, se - 1))


def _counterfactual(doc: Doc, start: int, i0: int, i1: int, end: int, ss: int, se: int) -> bool:
    """A condition before the value in its clause ("if ..."), or "would" that is conditioned:
    "would have" (a past that did not happen) or a condition anywhere in the sentence. "would"
    alone commits: "that would be 65.6", "he would complete 4 push-ups before resting"."""
    lows, kinds = doc.lows, doc.kinds
    for j in range(start, i0):
        low = lows[j]
        if low in COUNTERFACTUAL and low != "would":
            return True
        if low == "would" and ((j + 1 < len(lows) and lows[j + 1] in _WOULD_HYPOTHETICAL)
                               or _conditioned(doc, ss, se)):
            return True                          # "would have been", "would normally be"
    if start < len(lows) and lows[start] == "had" and start + 1 < len(lows) and lows[start + 1] in ("there", "it", "he", "she", "they"):
        return True
    for j in range(i1, min(i1 + 2, end)):          # "2.8 would be typical", "3.2 might be right"
        if kinds[j] == WORD and (lows[j] == "would" or lows[j] in ("might", "could", "may")
                                 and j + 1 < len(lows) and lows[j + 1] in ("be", "have")):
            return True
    return False


def _intended(doc: Doc, start: int, i0: int, end: int) -> bool:
    lows = doc.lows
    for j in range(start, i0):
        low = lows[j]
        if low in INTEND:
            if low == "needs" and j + 1 < i0 and lows[j + 1] != "to":
                continue
            if low in _TRY and not any(lows[m] in _FAILURE for m in range(i0, end)):
                continue                                # "tries juggling and manages": carried out
            return True
        if j + 1 < len(lows) and (low, lows[j + 1]) in _INTEND_PAIRS:
            if low == "going" and j + 2 < len(lows) and lows[j + 2] in ("the", "a", "an", "his", "her"):
                continue
            if low == "going" and j + 2 < len(lows) and lows[j + 2] in _PREDICTED:
                continue                                # "is going to receive 65.6": a prediction
            return True
        if low == "gonna":
            return True
    return False


def _attributed(doc: Doc, start: int, i0: int, i1: int, end: int, events: bool = True) -> int:
    """Index of a cue giving the clause's value to another event or actor, or -1. With
    `events=False` (a class: what happens earlier in the clip is still the clip's action) only
    other actors and pictures count."""
    lows, kinds = doc.lows, doc.kinds
    n = len(lows)
    for j in list(range(start, i0)) + list(range(i1, end)):
        if kinds[j] != WORD:
            continue
        low = lows[j]
        if not events and (low in _TEMPORAL or low in ("first", "last", "next", "second")):
            continue
        if j >= i1 and low not in _EVENT_AFTER and low not in ("first", "last", "next", "earlier", "second"):
            continue                                    # after the value only events count, not people
        if low in ("judge", "judges") and j + 1 < n and lows[j + 1] in _JUDGED:
            return j                                    # "judges' scores: 7.0, 7.5" are not the final score
        if low in ATTRIBUTE:
            if low == "other" and j and lows[j - 1] in ("each", "the") and j + 1 < n and lows[j + 1] in ("hand", "side", "end", "way"):
                continue
            if low == "record" and not (j and lows[j - 1] in ("a", "the", "world", "personal")):
                continue
            if low == "target" and j + 1 < n and lows[j + 1] not in ("score", "of", "was", "is"):
                continue
            return j
        if low in ("first", "last", "next", "earlier", "second") and j + 1 < n:
            k = doc.next_word(j + 1)
            if k >= 0 and lows[k] in _NEXT_EVENT and not (low == "last" and j and lows[j - 1] not in ("the", "his", "her", "their")):
                return j
    return -1


def _retracted(doc: Doc, start: int, i1: int, end: int, others: Sequence[Span]) -> bool:
    """X followed by a correction that states another value (or that says X was wrong)."""
    lows, kinds = doc.lows, doc.kinds
    n = len(lows)
    appear = any(lows[j] in APPEAR for j in range(start, end))
    hard = 0
    for j in range(i1, min(i1 + 30, n)):
        low = lows[j]
        if kinds[j] == PUNCT:
            if low in HARD and low != "?" and not (j and lows[j - 1] in HARD):   # "..." is one break
                hard += 1
                if hard > 1:
                    return False
            continue
        marker = low in CORRECT or (low == "no" and j + 1 < n and (kinds[j + 1] == PUNCT or lows[j + 1] == "wait")) \
            or (appear and low in CONTRAST)
        if low == "rather" and not (j and lows[j - 1] in ("or", ",")):
            marker = False
        if low == "mean" and not (j and lows[j - 1] == "i"):
            marker = False
        if not marker:
            continue
        if low in _EXPLICIT and j - i1 <= 5:
            return True                                 # right after this mention: "X - sorry, ..."
        if any(o0 > j and o0 - j <= 14 for o0, _ in others):
            return True
    return False


def assertion(doc: Doc, i0: int, i1: int, others: Sequence[Span] = (), events: bool = True,
              ) -> tuple[str | None, Span]:
    """(reason the clause holding tokens i0..i1-1 does not assert them, or None; the clause).

    `others` are mentions of other values of the same label: a correction counts as retracting this
    mention only when it goes on to state one of them (or says outright that this was wrong).
    """
    cs, ce = clause(doc, i0, i1)
    ss, se = sentence(doc, i0, i1)
    if negated(doc, i0, i1) >= 0:
        return "negated", (cs, ce)
    present = cues_in(doc)                 # skip each family of checks whose cue words are absent
    if present:                            # ... from this sentence and the next (all the checks look at)
        k, n = se, len(doc.lows)
        while k < n and doc.lows[k] in HARD:   # "..." is one break
            k += 1
        ne = sentence(doc, k, k)[1] if k < n else n
        present = present.intersection(doc.lows[ss:ne + 1])
    if "?" in present and _questioned(doc, i1, se):
        return "questioned", (ss, se)
    if present & _HEDGE_ANY and (_hedged_before(doc, cs, i0) >= 0 or _hedged_after(doc, i1, se) >= 0
                                 or _followed_by_doubt(doc, se) or _doubted_earlier(doc, ss, cs)):
        return "hedged", (cs, se)
    if present & _COUNTER_ANY and _counterfactual(doc, cs, i0, i1, ce, ss, se):
        return "counterfactual", (cs, ce)
    if present & _INTEND_ANY and _intended(doc, max(ss, cs - 8), i0, se):
        return "not_carried_out", (cs, ce)
    if present & _ATTRIBUTE_ANY:
        hs = doc.clause_start(i0, HARD)
        lead = cs - 1 - hs                              # "earlier, from 2 to 6 s": a short lead-in counts
        if _attributed(doc, hs if 0 < lead <= 3 else cs, i0, i1, ce, events) >= 0:
            return "attributed_elsewhere", (hs, ce)
    if present & _RETRACT_ANY and _retracted(doc, cs, i1, ce, others):
        return "retracted", (cs, ce)
    return None, (cs, ce)


def coordinated(doc: Doc, a: Span, b: Span) -> bool:
    """Are two mentions offered as alternatives or a bare list ("X or Y", "X, Y, Z", "X? Y?", "X / Y")?"""
    (x0, x1), (y0, y1) = sorted((a, b))
    if y0 < x1 or y0 - x1 > 6:
        return False
    lows = doc.lows
    gap = lows[x1:y0]
    if not gap:
        return False
    if not all(w in _LINK for w in gap) or not (_ALT & set(gap)):
        return False
    if "and" in gap and "," not in gap and "or" not in gap:
        return False
    if "?" in gap and any(w not in ("?", "or", "maybe", "perhaps", "either") for w in gap):
        return False                                    # "X? He is Y." answers a question, "X? Y?" lists
    # "X. Y." are two sentences, not a list; "X? Y?" is a list of guesses
    return not any(w in HARD and w != "?" for w in gap)


def _equal_force(doc: Doc, gold: Span, rival: Span) -> bool:
    """A clean rival asserted as a main claim: not in a subordinate clause, not co-activity ("X and Y")."""
    lows = doc.lows
    start = doc.clause_start(rival[0])
    if start < len(lows) and lows[start] in _SUBORDINATE:
        return False
    g0, g1 = gold
    r0, r1 = rival
    if doc.same_sentence(min(g0, r0), max(g1, r1)):
        lo, hi = (g1, r0) if g0 < r0 else (r1, g0)
        between = lows[lo:hi]
        if "," not in between and any(w in ("and", "while", "as", "with", "then", "before", "after") for w in between):
            return False
    return True


def check(doc: Doc, gold: Sequence[Span], rivals: Sequence[Span] = (), strict: bool = True,
          corrections: Sequence[Span] = (), events: bool = True) -> Commitment:
    """Is some gold mention asserted, with no rival asserted as strongly? See the module docstring.

    `strict=False` (a profile with `require_commitment: false`) checks negation only.
    `corrections`: other claims that count only as what a correction goes on to say (a label type
    that cannot name rival values lists them so that "X at first, but it is Y" still retracts X).
    `events=False`: values given to an earlier/failed/replayed event still count (classes).
    """
    if not gold:
        return Commitment(False, "not_found")
    gold = sorted(set(gold))
    if not strict:
        for g in gold:
            if negated(doc, g[0], g[1]) < 0:
                return Commitment(True, None, g, clause(doc, *g))
        return Commitment(False, "negated", gold[0], clause(doc, *gold[0]))
    rivals = sorted({r for r in rivals if not any(r[0] < g1 and g0 < r[1] for g0, g1 in gold)})
    first_fail: Commitment | None = None
    chosen: tuple[Span, Span] | None = None
    alt_rivals: set[Span] = set()
    for g in gold:
        reason, cl = assertion(doc, g[0], g[1], [*rivals, *corrections], events)
        if reason is None:
            alts = [r for r in rivals if coordinated(doc, g, r) and negated(doc, r[0], r[1]) < 0]
            if alts:
                alt_rivals.update(alts)
                if first_fail is None:
                    first_fail = Commitment(False, "competing_value", alts[0], sentence(doc, *g))
                continue
        if reason is None:
            chosen = chosen or (g, cl)
        elif first_fail is None:
            first_fail = Commitment(False, reason, g, cl)
    if chosen is None:
        return first_fail or Commitment(False, "not_found")
    g, cl = chosen
    status = {r: assertion(doc, r[0], r[1], list(gold), events) for r in rivals if r not in alt_rivals}
    for a, b in zip(rivals, rivals[1:]):        # a list shares its head: "judges' scores: 7.0, 7.5, 7.0"
        if a in status and b in status and coordinated(doc, a, b):
            if status[a][0] and not status[b][0]:
                status[b] = (status[a][0], status[b][1])
    for a, b in zip(reversed(rivals), list(reversed(rivals))[1:]):
        if a in status and b in status and coordinated(doc, a, b) and status[a][0] and not status[b][0]:
            status[b] = (status[a][0], status[b][1])
    for r in rivals:
        if r in alt_rivals:
            # offered as an alternative earlier; a later clean gold mention is the answer's conclusion
            if r[0] > g[0]:
                return Commitment(False, "competing_value", r, sentence(doc, *r))
            continue
        reason, rcl = status[r]
        if reason is None and any(coordinated(doc, r, r2) for r2 in rivals if r2 != r) and r[0] > g[0]:
            return Commitment(False, "competing_value", r, rcl)
        in_list = any(coordinated(doc, r, r2) for r2 in rivals if r2 != r)
        if reason is None and in_list and r[0] < g[0]:
            continue                     # a breakdown before the claim: "judges award 7.0, 7.5 and 7.0, for 65.6"
        if reason is None and _equal_force(doc, g, r):
            return Commitment(False, "competing_value", r, rcl)
    return Commitment(True, None, g, cl)


def commitment_extra(doc: Doc, verdict: Commitment, gold: Sequence[Span] = ()) -> dict[str, str]:
    """What a failed check adds to a label result: the clause that failed and, for a rival, its text."""
    out: dict[str, str] = {}
    if verdict.clause is not None:
        c0, c1 = verdict.clause
        if c1 > c0:
            s, e = doc.span(c0, c1)
            out["clause"] = doc.text[s:e]
    if verdict.reason == "competing_value" and verdict.mention is not None and verdict.mention not in gold:
        s, e = doc.span(*verdict.mention)
        out["rival"] = doc.text[s:e]
    return out
