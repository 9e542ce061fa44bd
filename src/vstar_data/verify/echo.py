"""Hint echo: a rationalized answer (written with the label given as a hint) that leans on the hint.

Three tests, all only for `origin == "rationalized"`:

1. `is_hint_echo`: the stock phrases by which an answer defers to the hint ("as the answer states",
   "the given label", "we are told"). These reject outright.
2. `leans_on_hint`: the answer defers to *some* source of the answer, in words no phrase list
   foresees ("going by what we were handed", "the reference says", "trusting the key we received",
   "per the information supplied with the task"), and gives no visual evidence of its own. Deference
   is found structurally: a source noun (reference, premise, annotation, key, information, ...)
   with a telling verb or a receiving modifier ("the reference says", "the supplied information"),
   a receiving verb with the answerer as its object ("we were handed", "I was informed", "the
   label we were given"), or trust in a source ("trusting", "going along with", "per", "according
   to"). Visual evidence is counted as the distinct content words outside the label's own mentions,
   the deferring clause and generic words ("activity", "answer", "conclude"); an answer with at
   least `echo_min_evidence` of them (profile) describes what is seen and then concludes, and
   passes ("Judging from the lane, the pins and the ball he rolls, the activity is bowling.").
3. `restates_hint`: an answer that states the hinted value and describes too little else, with or
   without deferring ("The answer is segment: 24.3 s to 30.4 s.", "The shape is red."): fewer than
   `echo_min_evidence` words of visual description by the same count as test 2, for every label
   type. The hint, not the video, wrote such an answer; training on it teaches to echo hints.
"""
from __future__ import annotations

import re

from .labels.analysis import FUNCTION, PUNCT, SOFT, WORD, Doc, analyze

# 1. Stock phrases ---------------------------------------------------------------------------
_ECHO_RE = re.compile("|".join(rf"(?:{p})" for p in (
    r"\bas (?:the |your )?(?:given |provided |supplied )?(?:answer|hint|label|question|prompt)s? "
    r"(?:states?|says?|indicates?|suggests?|shows?|tells? us|mentions?|reads?)\b",
    r"\bas (?:stated|given|mentioned|indicated|provided|specified|noted|suggested|hinted|shown) "
    r"(?:in|by) the (?:answer|hint|label|question|prompt)\b",
    r"\bthe (?:given|provided|supplied|expected) (?:answer|label|hint|solution)\b",
    r"\b(?:since|because|as) we(?: are|['’]re| were) (?:told|given|informed)\b",
    r"\bwe(?: are|['’]re| were) told\b",
    r"\baccording to the (?:given |provided |supplied )?(?:answer|hint|label|question|prompt)\b",
    r"\bthe answer (?:is|was) (?:given|provided|stated|said) (?:as|to be)\b",
    r"\bthe answer (?:states|says|indicates|suggests|tells us|mentions)\b",
    r"\bthe (?:hint|label|prompt) (?:says|states|indicates|suggests|tells us|reads|mentions|gives)\b",
    r"\b(?:the|this|a) hint\b",
    r"\b(?:as )?stated in the question\b",
    r"\bthe question (?:states|says|tells us|mentions) (?:that )?the answer\b",
    r"\b(?:based on|given) the (?:provided|given|supplied) (?:answer|hint|label|information)\b",
    r"\banswer key\b",
    r"\bthe answer (?:provided|given|supplied)\b",
    r"\bgiven (?:that )?the answer\b",
    r"\bwe (?:already )?know (?:that )?the answer\b",
    r"\b(?:explain|justify) why the (?:answer|label) is\b",
)), re.IGNORECASE)


def is_hint_echo(answer: str) -> tuple[bool, str | None]:
    """(True, phrase) when the answer uses a stock phrase deferring to the given answer/hint."""
    if not isinstance(answer, str):
        return False, None
    m = _ECHO_RE.search(answer)
    return (True, m.group(0)) if m else (False, None)


# 2. Paraphrased deference -------------------------------------------------------------------
# where an answer could come from, other than the video
SOURCE = frozenset({"hint", "hints", "reference", "premise", "annotation", "annotations", "prompt", "instruction",
                    "instructions", "solution", "label", "labels", "key", "truth", "output", "answer", "answers",
                    "response", "information", "info", "breakdown", "timestamps", "question", "task", "class",
                    "value", "number", "score", "segment", "sequence", "data", "metadata", "caption", "text",
                    "outcome", "result"})
# sources that defer by themselves ("going along with the reference")
_SELF_SOURCE = frozenset({"hint", "hints", "reference", "premise", "annotation", "annotations", "prompt",
                          "instructions", "truth", "metadata", "label", "labels"})
# sources that defer when they speak ("the task information says four"); "the score reads 65.6" does not
_TELLING_SOURCE = _SELF_SOURCE | frozenset({"instruction", "solution", "label", "labels", "key", "output", "answer",
                                            "answers", "response", "information", "info", "breakdown", "task",
                                            "question"})
_DEFER_MOD = frozenset({"given", "provided", "supplied", "correct", "known", "expected", "target", "ground",
                        "handed", "stated", "received", "official", "assigned", "intended"})
_TELL = frozenset({"say", "says", "said", "state", "states", "stated", "read", "reads", "tell", "tells",
                   "told", "indicate", "indicates", "suggest", "suggests", "mention", "mentions", "contain",
                   "contains", "specify", "specifies", "list", "lists", "give", "gives", "claim", "claims",
                   "insist", "insists"})
_RECEIVE = frozenset({"told", "informed", "handed", "received", "receive", "shown", "asked", "given", "provided",
                      "supplied", "instructed", "assured", "promised"})
_ME = frozenset({"we", "i", "us", "me"})
_TRUST = frozenset({"trusting", "trust", "relying", "rely", "per", "according", "going", "taking", "echoing",
                    "line"})
# words that say nothing about what is seen
GENERIC = FUNCTION | SOURCE | _DEFER_MOD | _TELL | _RECEIVE | _TRUST | frozenset({
    "activity", "action", "actions", "person", "people", "man", "woman", "video", "clip", "conclude", "concluded",
    "agree", "answer", "correct", "must", "therefore", "hence", "thus", "what", "doing", "does", "did", "done",
    "indeed", "clearly", "certainly", "definitely", "right", "true", "thing", "case", "fact", "face", "already",
    "itself", "such", "same", "shows", "show", "see", "seen", "sees", "one", "will", "can", "take", "along",
    "sure", "fine", "okay", "accordingly", "accept", "confirm", "repeating", "repeat", "value", "sequence",
    "seems", "appears", "looks", "like", "clear", "obvious", "obviously", "conclusion", "know", "known"})


def _defers_at(lows: list[str], j: int) -> bool:
    low = lows[j]
    before, after = lows[max(0, j - 3):j], [w for w in lows[j + 1:j + 4] if w not in ("itself", "already", "also")]
    if low in SOURCE:
        return (low in _SELF_SOURCE or any(w in _DEFER_MOD for w in before)
                or (low in _TELLING_SOURCE and any(w in ("from", "per", "by") for w in before[-2:]))
                or (low in _TELLING_SOURCE and bool(after) and (after[0] in _TELL or (
                    after[0] in _ME and any(w in _TELL for w in after[1:3]))))     # "the information I have says"
                or any(w in _RECEIVE for w in after[:2]))
    if low in _RECEIVE or low in ("expected", "requested", "instructed"):
        if j and lows[j - 1] == "as":
            return True                                  # "as instructed", "taking it as given", "as expected"
        if low not in _RECEIVE:
            return False
        if low == "given" and after[:1] == ["that"]:
            return False
        return any(w in _ME for w in before) or lows[j + 1:j + 3] in (["us"], ["me"], ["to", "us"], ["to", "me"]) \
            or any(w in ("us", "me") for w in lows[j + 1:j + 2])
    if low in _TRUST:
        if low == "going" and after[:1] not in (["by"], ["along"]):
            return False
        if low == "line" and not (j and lows[j - 1] == "in"):
            return False
        if low in ("trust", "trusting") and after[:1] == ["that"]:
            return True                                  # "I'll trust that it is X"
        window = lows[j + 1:j + 7]
        return any(w in _RECEIVE or w in _SELF_SOURCE or w in _DEFER_MOD for w in window)
    return False


def deference(doc: Doc) -> tuple[int, int] | None:
    """Token range of the clause that defers to a source of the answer other than the video, or None."""
    lows, kinds = doc.lows, doc.kinds
    n = len(lows)
    for j in range(n):
        if kinds[j] == WORD and _defers_at(lows, j):
            s = doc.clause_start(j)
            e = j
            while e < n and not (kinds[e] == PUNCT and lows[e] in SOFT):
                e += 1
            return s, e
    return None


# words that phrase a value rather than describe what is seen: units, and the verbs and nouns an
# answer uses to state a number, a time span or a class ("the segment starts at ... and ends at ...")
VALUE_WORDS = frozenset({
    "second", "seconds", "sec", "secs", "minute", "minutes", "min", "mins", "point", "points", "pts", "percent",
    "segment", "interval", "span", "spans", "range", "window", "moment", "timestamp", "start", "starts", "started",
    "starting", "begin", "begins", "began", "beginning", "end", "ends", "ended", "ending", "finish", "finishes",
    "finished", "happen", "happens", "happened", "happening", "occur", "occurs", "occurred", "take", "takes",
    "took", "place", "last", "lasts", "lasted", "come", "comes", "came", "count", "counting", "counted",
    "total", "totals", "amount", "amounts", "final", "score", "scores", "scored", "difficulty", "degree",
    "type", "kind", "category", "name", "named", "call", "called", "label", "word", "words", "order", "dive",
    "there", "here", "clip", "frames", "footage", "scene", "perform", "performs", "performed", "performing",
    "complete", "completes", "completed", "completing", "make", "makes", "made", "execute", "executes",
    "executed"})
# a hinted count said in words ("Four push-ups are performed." for 4) is the value, not something seen;
# other numbers may be ("two needles")
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
# what does not count as description in an answer that does not defer: telling verbs do ("the
# results board lists the diver with 72.0")
_PHRASING = (GENERIC - _TELL) | VALUE_WORDS


def evidence(doc: Doc, skip: tuple[int, int], label_stems: frozenset[str]) -> int:
    """Distinct content words outside the deferring clause `skip` and the label's own words."""
    lows, kinds, stems = doc.lows, doc.kinds, doc.stems
    a, b = skip
    return len({stems[k] for k in range(len(lows))
                if kinds[k] == WORD and not a <= k < b and lows[k] not in GENERIC and len(lows[k]) > 2
                and stems[k] not in label_stems})


def restates_hint(answer: str, label_stems: frozenset[str], min_evidence: int) -> str | None:
    """A note ("restates the hint with N words of description") when the answer describes fewer
    than `min_evidence` things besides the labels' own words and words that phrase a value."""
    if not isinstance(answer, str) or not answer.strip() or min_evidence <= 0:
        return None
    doc = analyze(answer)
    lows, kinds, stems = doc.lows, doc.kinds, doc.stems
    seen = {stems[k] for k in range(len(lows))
            if kinds[k] == WORD and lows[k] not in _PHRASING and len(lows[k]) > 2
            and stems[k] not in label_stems and _NUMBER_WORDS.get(lows[k]) not in label_stems}
    if len(seen) >= min_evidence:
        return None
    return f"restates the hint with {len(seen)} word{'s' if len(seen) != 1 else ''} of visual description"


def leans_on_hint(answer: str, label_stems: frozenset[str], min_evidence: int) -> str | None:
    """The deferring clause's text when the answer defers to a source and shows too little of its own.

    `label_stems`: stems of the labels' values (their words are no evidence of anything seen).
    """
    if not isinstance(answer, str) or not answer.strip():
        return None
    doc = analyze(answer)
    found = deference(doc)
    if found is None or evidence(doc, found, label_stems) >= min_evidence:
        return None
    s, e = doc.span(found[0], max(found[1], found[0] + 1))
    return answer[s:e]
