"""Labels without letters (an emoji, punctuation, blanks), judged by hand before the code.

A blank string value never reaches a verifier: the label-spec schema refuses it, so the adapter
skips the row at the source (`invalid_labels`, naming file, row and key). A value with visible
characters but no letter or digit ("🙂🙂", "?!...") is a valid spec that no answer can state:
the verifier rejects it with `unusable_label` (counted, written to the rejected stream), never
raises. A choice option without letters is still selectable by its letter, so only a choice that
must be selected by text (`select_by: text`) is unusable when its correct option has no letters.
"""
from __future__ import annotations

import pytest

from vstar_data.errors import LabelSpecError
from vstar_data.registry import LABEL_TYPES
from vstar_data.sources.sample import validate_label_spec
from vstar_data.testing.labels import check_result
from vstar_data.verify.labels.base import Profile, ScoreContext

PROFILE = Profile("default")
ANSWERS = ["The person is doing something 🙂?!", "🙂🙂", "?!...", "The answer is A.", "Yes."]

# (spec, answer, passes, reason when it fails)
CASES = [
    ({"type": "category", "name": "action", "value": "🙂🙂"}, "🙂🙂", False, "unusable_label"),
    ({"type": "category", "name": "action", "value": "🙂🙂"}, "He is playing guitar 🙂🙂.", False, "unusable_label"),
    ({"type": "category", "name": "action", "value": "?!..."}, "?!...", False, "unusable_label"),
    ({"type": "category", "name": "action", "value": "- / -"}, "The action is - / -.", False, "unusable_label"),
    ({"type": "category", "name": "action", "value": "🙂", "synonyms": ["smiling"]}, "She is smiling.", True, None),
    ({"type": "category", "name": "action", "value": "playing guitar", "vocabulary": ["playing guitar", "🙂"]},
     "He is playing guitar.", True, None),
    ({"type": "sequence", "name": "steps", "value": ["pike", "🙂"]}, "pike, then 🙂", False, "unusable_label"),
    ({"type": "sequence", "name": "steps", "value": ["?!", "entry"]}, "?! and then entry", False, "unusable_label"),
    ({"type": "choice", "name": "answer", "options": ["🙂", "The book."], "correct": 0}, "The answer is A.", True, None),
    ({"type": "choice", "name": "answer", "options": ["🙂", "The book."], "correct": 0}, "The answer is B.", False,
     "wrong_option"),
    ({"type": "choice", "name": "answer", "options": ["🙂", "The book."], "correct": 0, "select_by": "text"},
     "A smiling face 🙂.", False, "unusable_label"),
    ({"type": "choice", "name": "answer", "options": ["The cup.", "?!"], "correct": 0, "select_by": "text"},
     "He holds the cup.", True, None),
    ({"type": "text", "name": "answer", "value": "?!"}, "?!", False, "unusable_label"),
    ({"type": "text", "name": "answer", "value": ["He sits.", "🙂"]}, "He sits. 🙂", False, "unusable_label"),
]


@pytest.mark.parametrize("spec,answer,passes,reason", CASES,
                         ids=[f"{c[0]['type']}-{k}" for k, c in enumerate(CASES)])
def test_letterless_labels_are_judged(spec: dict, answer: str, passes: bool, reason: str | None) -> None:
    validate_label_spec(dict(spec))                   # valid specs: the verifier decides
    label = LABEL_TYPES.get(spec["type"])()
    result = label.verify(spec, answer, PROFILE)
    assert (result.passed, result.reason) == (passes, reason), result
    check_result(result, spec, answer, label.type_name)


@pytest.mark.parametrize("spec", [
    {"type": "category", "name": "action", "value": "   "},
    {"type": "category", "name": "action", "value": "x", "synonyms": ["\t"]},
    {"type": "sequence", "name": "steps", "value": ["pike", " "]},
    {"type": "choice", "name": "answer", "options": ["The cup.", "  "], "correct": 0},
    {"type": "text", "name": "answer", "value": "\n"},
    {"type": "text", "name": "answer", "value": ["He sits.", " "]},
], ids=lambda s: s["type"])
def test_blank_values_are_refused_at_the_source(spec: dict) -> None:
    with pytest.raises(LabelSpecError, match="is blank") as info:
        validate_label_spec(spec, file="ann.csv", row=7)
    assert "ann.csv, row 7" in str(info.value)


def test_unusable_label_never_passes_any_answer() -> None:
    spec = {"type": "category", "name": "action", "value": "🙂🙂", "vocabulary": ["🙂🙂", "yoga"]}
    label = LABEL_TYPES.get("category")()
    for answer in ANSWERS:
        result = label.verify(spec, answer, PROFILE)
        assert not result.passed and result.reason == "unusable_label"
        context = ScoreContext(PROFILE, ("🙂🙂", "yoga"))
        assert label.score(spec, answer, result.to_dict(), context) == {"top1": False}
