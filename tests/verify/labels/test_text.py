"""Shared text machinery: tokens and offsets, stems, clauses and negation, number reading."""
from __future__ import annotations

import pytest

from vstar_data.verify.labels.analysis import analyze, negated, stem, token_sim
from vstar_data.verify.labels._numbers import fmt_number, numbers


@pytest.mark.parametrize("forms", [
    ("hitting", "hits", "hit"), ("playing", "plays", "played", "play"), ("dancing", "dances", "danced", "dance"),
    ("juggling", "juggles", "juggle"), ("swimming", "swims", "swam", "swim"), ("throwing", "threw", "thrown"),
    ("riding", "rode", "rides", "ride"), ("passing", "passes", "pass"), ("somersaults", "somersault"),
    ("persons", "people", "person"), ("skiing", "skis", "ski"), ("tying", "ties", "tied", "tie"),
])
def test_inflections_share_a_stem(forms: tuple[str, ...]) -> None:
    assert len({stem(f) for f in forms}) == 1, {f: stem(f) for f in forms}


@pytest.mark.parametrize("a, b", [("pool", "poolside"), ("guitar", "guitarist"), ("sing", "sign"),
                                  ("baseball", "basketball"), ("speed", "sped")])
def test_different_words_keep_different_stems(a: str, b: str) -> None:
    assert stem(a) != stem(b)


@pytest.mark.parametrize("a, b, threshold, same", [
    ("somersault", "somersalt", 85, True),     # one deletion
    ("baseball", "basketball", 80, False),     # two edits: another word
    ("paint", "point", 80, False),             # short words must be exact
    ("guitar", "guitor", 80, True),            # one substitution in 6 letters scores 83.3 ...
    ("guitar", "guitor", 85, False),           # ... which the stricter threshold refuses
    ("hitting", "sitting", 80, False),         # first letter differs
])
def test_typo_similarity_is_strict(a: str, b: str, threshold: float, same: bool) -> None:
    assert (token_sim(a, b, threshold) > 0) is same


def test_offsets_and_kinds_survive_odd_text() -> None:
    text = "Él corrió 3.2. From -5 to 12.4-18.9 s; 1,000 or 1,2,3, person's Soms.Tuck BaseballPitch"
    doc = analyze(text)
    pieces = [text[slice(*doc.span(i, i + 1))] for i in range(len(doc))]
    assert pieces[:6] == ["Él", "corrió", "3.2", ".", "From", "-5"]
    assert ["12.4", "-", "18.9"] == pieces[7:10]            # a range dash is not a minus sign
    assert "1,000" in pieces and ["1", ",", "2", ",", "3"] == pieces[pieces.index("or") + 1:][:5]
    assert ["Soms", ".", "Tuck", "Baseball", "Pitch"] == pieces[-5:]
    assert doc.lows[pieces.index("person's")] == "persons" and doc.lows[-4] == "·"


@pytest.mark.parametrize("text, values", [
    ("eighty-eight point five", [88.5]), ("three and a half", [3.5]), ("twenty one", [21]),
    ("one hundred and five", [105]), ("a hundred", [100]), ("88.5/100", [88.5]), ("88.5 out of 100", [88.5]),
    ("3-and-a-half", [3.5]), ("minus 4", [-4]), ("-4 and 1,250.5", [-4, 1250.5]), ("1:02.5", [62.5]),
    ("no one of them", []), ("five six", [5, 6]), ("point five", [0.5]), ("3 and a half", [3.5]),
])
def test_numbers_are_read_from_digits_and_words(text: str, values: list[float]) -> None:
    assert [n.value for n in numbers(analyze(text))] == values


@pytest.mark.parametrize("text, phrase, is_negated", [
    ("He is not playing guitar.", "playing", True),
    ("Nobody is playing guitar.", "playing", True),
    ("He isn't playing guitar.", "playing", True),
    ("He is not sitting; he is playing guitar.", "playing", False),     # the clause of the match
    ("He is not sitting, but playing guitar.", "playing", False),
    ("He is not sitting and he is playing guitar.", "playing", False),
    ("He is not only playing guitar but singing.", "playing", False),
    ("There is no doubt he is playing guitar.", "playing", False),
    ("Instead of playing guitar he sings.", "playing", True),
    ("Playing guitar is not what he does.", "Playing", True),
    ("It does not start until 12 s.", "12", False),
])
def test_negation_scope_is_the_clause(text: str, phrase: str, is_negated: bool) -> None:
    doc = analyze(text)
    i = [text[slice(*doc.span(k, k + 1))] for k in range(len(doc))].index(phrase)
    assert (negated(doc, i, i + 2) >= 0) is is_negated


@pytest.mark.parametrize("value, text", [(65.6, "65.6"), (3.0, "3"), (88.50, "88.5"), (-0.0, "0"), (1e-7, "0.0000001"),
                                         (1234567.0, "1234567")])
def test_fmt_number_has_no_trailing_zeros(value: float, text: str) -> None:
    assert fmt_number(value) == text
