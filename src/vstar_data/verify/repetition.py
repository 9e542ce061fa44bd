"""Degenerate repetition: the same word or short phrase said over and over ("video shows a right
right right right ...", "the man is the man is the man is ..."). Greedy decoding falls into such
loops and an RL policy learns them when they happen to name the label; either way the text is
no answer. A run of more than `max_repeats` (a profile field; 0 turns the check off) copies of
the same 1-4 words in a row, punctuation aside, is one; "right, right, right" (three) and a list
of different items are not.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .labels.analysis import NUM, WORD, analyze

MAX_PHRASE = 4          # words in the longest repeated phrase looked for


@dataclass(frozen=True)
class Run:
    """`phrase` said `times` times in a row, over characters start:end of the answer."""

    phrase: str
    times: int
    start: int
    end: int


def repeated_run(text: str, max_repeats: int) -> Run | None:
    """The first run of more than `max_repeats` copies of one phrase, or None (also when
    `max_repeats` is 0: the check is off)."""
    if max_repeats <= 0 or not isinstance(text, str) or not text.strip():
        return None
    doc = analyze(text)
    lows = doc.lows
    idx = [i for i, k in enumerate(doc.kinds) if k in (WORD, NUM)]
    words = [lows[i] for i in idx]
    n = len(words)
    # every copy holds the phrase's first word: without a word said more than max_repeats times
    # there is no run (most answers; the verifier asks this of every answer)
    if not words or max(Counter(words).values()) <= max_repeats:
        return None
    for start in range(n):
        for size in range(1, MAX_PHRASE + 1):
            if start + size * (max_repeats + 1) > n:
                break
            if words[start] != words[start + size]:
                continue                 # the next copy would start with the same word: no slicing
            phrase = words[start:start + size]
            times = 1
            while words[start + times * size:start + (times + 1) * size] == phrase:
                times += 1
            if times > max_repeats:
                s, _ = doc.span(idx[start], idx[start] + 1)
                _, e = doc.span(idx[start + times * size - 1], idx[start + times * size - 1] + 1)
                return Run(" ".join(phrase), times, s, e)
    return None
