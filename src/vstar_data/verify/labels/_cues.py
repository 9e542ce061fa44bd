"""The word lists of the commitment check (labels/_commitment.py): hedges, doubt, counterfactuals,
intentions and pretence, attribution to another event or actor, corrections, and what may join
two values offered as alternatives. Lowercase tokens as `_text` gives them (apostrophes dropped:
"can't" -> "cant"). Kept apart so the rules read as rules and the lists can grow on their own.
"""
from __future__ import annotations

from ._text import Doc

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
# "X is one possibility", "X is a plausible guess", "X is likely"
_HEDGE_PREDICATE = frozenset({"possibility", "possible", "plausible", "guess", "likely", "probable", "candidate",
                              "option", "assumption", "hypothesis", "speculation", "conjecture"})
_HEDGE_PAIRS = _DOUBT_PAIRS | {("i", "guess"), ("i", "think"), ("or", "so"), ("best", "guess"),
                               ("i", "believe"), ("i", "suppose"), ("my", "guess"), ("a", "chance"), ("give", "or"),
                               ("some", "chance")}
_TRAIL_ADVERBS = frozenset({"perhaps", "maybe", "possibly", "probably", "presumably", "unless", "arguably"})
COUNTERFACTUAL = frozenset({"would", "wouldve", "if", "wish", "unless"})
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
