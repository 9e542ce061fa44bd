"""Named filters for template placeholders: ``{query|event}`` turns a sentence query into words a
question can hold.

Grounding datasets describe a moment with a whole sentence ("person turn a light on.",
" A man is seen speaking to the camera."). Dropped into "When does {query} happen?" it reads
"When does person turn a light on. happen?". Rewriting the sentence into a question ("When does
the person turn a light on?") needs verb morphology (turn / turns / turned / is turning / irregular
verbs) that a rule gets wrong, so the filters do only what is safe: normalise the sentence
(whitespace, the closing full stop, the capital of a common first word, double quotes) and quote
it as a named event, which fits any noun slot of a question. Every word of the sentence is kept.

Filters (chain them left to right: ``{query|sentence}``):
- ``sentence``: the normalised sentence: ``person turn a light on``;
- ``quoted``: the normalised sentence in double quotes: ``"person turn a light on"``;
- ``event``: ``the event "person turn a light on"`` (for "When does {query|event} happen?").
"""
from __future__ import annotations

import re
from typing import Any, Callable, Mapping

# Words that start a sentence with a capital only because they start it: lowercased wherever they
# stand Title-case or in capitals ("The Person opens ..." -> "the person opens ..."). Names and
# other words are left as written: nothing tells "Bob" from "Opens" without a tagger.
_COMMON = frozenset("""
a an the this that these those there here then next after afterwards finally later while as when
and but so now first another other some several many two three four one each both all
person people someone somebody man men woman women boy boys girl girls child children kid kids
guy guys lady player players he she they we you it his her their its our
""".split())
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"(?<![\w'])[A-Za-z]+(?![\w'])")
_CLOSING = " \t.!;,:"
_ABBREVIATION = re.compile(r"(?:^|\s)(?:[A-Za-z]\.){2,}$")   # "the T.V." keeps its last full stop
_QUOTES = str.maketrans({"\u201c": "'", "\u201d": "'", '"': "'", "\u2018": "'", "\u2019": "'"})


class FilterError(ValueError):
    """A filter cannot render this value (not text, or nothing left after normalising)."""


def normalise_sentence(text: Any) -> str:
    """A sentence query as question text: single spaces, no closing full stop (nor ! ; , :) unless
    it ends an abbreviation, the capital of a common word dropped (a sentence all in capitals is
    lowercased), double and curly quotes made single quotes."""
    if not isinstance(text, str):
        raise FilterError(f"expected a sentence, got {type(text).__name__} {text!r}")
    text = _SPACE.sub(" ", text.translate(_QUOTES)).strip()
    text = text if _ABBREVIATION.search(text) else text.rstrip(_CLOSING).strip()
    if not text:
        raise FilterError("the sentence is empty")
    if text.isupper():                      # "PERSON SITS DOWN." is shouting, not names
        text = " ".join(w if w == "I" else w.lower() for w in text.split(" "))
    return _WORD.sub(_lower_common, text)


def _lower_common(match: re.Match[str]) -> str:
    word = match.group(0)
    low = word.lower()
    return low if low in _COMMON and (word.istitle() or word.isupper()) else word


def quoted(text: Any) -> str:
    """The normalised sentence in double quotes (its own double quotes became single ones)."""
    return f'"{normalise_sentence(text)}"'


def event(text: Any) -> str:
    """``the event "<sentence>"``: a noun phrase for any sentence, so a question such as "When does
    {query|event} happen?" stays grammatical whatever the sentence's verb form."""
    return f"the event {quoted(text)}"


FILTERS: dict[str, Callable[[Any], str]] = {"sentence": normalise_sentence, "quoted": quoted, "event": event}


def split_field(field: str) -> tuple[str, list[str]]:
    """``"query|event"`` -> ("query", ["event"])."""
    name, *filters = [part.strip() for part in field.split("|")]
    return name, filters


def filtered_values(fields: list[str], context: Mapping[str, Any]) -> dict[str, Any]:
    """`context` plus, for each filtered field (``query|event``), its rendered value under that
    field's own text, so ``str.format_map`` fills it in. Raises KeyError for a missing name and
    FilterError for a value a filter cannot render."""
    out = dict(context)
    for field in fields:
        if "|" not in field:
            continue
        name, filters = split_field(field)
        value = context[name]
        for f in filters:
            value = FILTERS[f](value)
        out[field] = value
    return out
