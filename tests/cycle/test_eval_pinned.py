"""Pins `evaluate(...)`'s whole output (keys, key order, values) on a varied hand-made input, so the
move of the per-type metrics into the label types (issue 20) cannot change stats.json's `eval`."""
from __future__ import annotations

import json
from typing import Any

from vstar_data.cycle.evaluation import evaluate
from vstar_data.verify.labels.base import LabelResult, LabelType, Profile


class _PluginLike(LabelType):
    """A plugin label type with no declared metrics: it gets `correct`, the verifier's verdict."""

    type_name = "zz_plugin_colour"

    def verify(self, spec: dict[str, Any], answer: str, profile: Profile) -> LabelResult:
        ok = str(spec["value"]) in (answer or "")
        return LabelResult(spec.get("name", ""), self.type_name, ok, float(ok), reason=None if ok else "not_found")

    def hint_text(self, spec: dict[str, Any]) -> str:
        return str(spec["value"])


CAT = {"type": "category", "name": "action", "value": "playing guitar", "synonyms": []}
CAT_YOGA = {"type": "category", "name": "action", "value": "yoga", "synonyms": []}
NUM = {"type": "number", "name": "score", "value": 80.0}
IV = {"type": "interval", "name": "segment", "start": 0.0, "end": 10.0}
SEQ = {"type": "sequence", "name": "steps", "value": ["jump", "spin", "land"]}
BOOL = {"type": "boolean", "name": "answer", "value": True}
PLUG = {"type": "zz_plugin_colour", "name": "colour", "value": "teal"}
VOCAB = {"one": {"action": ["playing guitar", "yoga", "skiing"]}}


def _score(name: str, typ: str, passed: bool, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": typ, "passed": passed, **extra}


def _inputs() -> tuple[list[dict], list[dict]]:
    samples = [
        {"id": "a", "source": "one", "labels": [CAT, NUM]},
        {"id": "b", "source": "one", "labels": [CAT_YOGA, dict(NUM, value=60.0)]},
        {"id": "c", "source": "one", "labels": [CAT, dict(NUM, value=40.0)]},          # skipped
        {"id": "d", "source": "two", "labels": [IV, SEQ]},
        {"id": "e", "source": "two", "labels": [dict(IV, start=20.0, end=30.0), SEQ]},
        {"id": "f", "source": "two", "labels": [BOOL, PLUG]},
        {"id": "g", "source": "two", "labels": [dict(BOOL, value=False), PLUG]},
        {"id": "h", "source": "two", "labels": [BOOL]},                                  # skipped
    ]
    rows = [
        {"id": "a", "source": "one", "origin": "generated", "accepted": True,
         "answer": "He is playing guitar. The score is 78.",
         "verifier_scores": [_score("action", "category", True), _score("score", "number", True, value=78.0)]},
        {"id": "b", "source": "one", "origin": "generated", "accepted": False,
         "answer": "It is yoga or skiing. The score is 70.",
         "verifier_scores": [_score("action", "category", False), _score("score", "number", False, value=70.0)]},
        {"id": "c", "source": "one", "origin": "rationalized", "accepted": True, "answer": "playing guitar, 40",
         "verifier_scores": []},                                                       # not an answer
        {"id": "d", "source": "two", "origin": "generated", "accepted": True,
         "answer": "It happens from 0 to 8 seconds. First jump, then spin, then land.",
         "verifier_scores": [_score("segment", "interval", True), _score("steps", "sequence", True)]},
        {"id": "e", "source": "two", "accepted": False,
         "answer": "It happens from 21 to 24 seconds. First spin, then jump.",
         "verifier_scores": [_score("segment", "interval", False), _score("steps", "sequence", False)]},
        {"id": "f", "source": "two", "origin": "generated", "accepted": True, "answer": "Yes, it is teal.",
         "verifier_scores": [_score("answer", "boolean", True), _score("colour", "zz_plugin_colour", True)]},
        {"id": "g", "source": "two", "origin": "generated", "accepted": False, "answer": "Yes. It is red.",
         "verifier_scores": [_score("answer", "boolean", False), _score("colour", "zz_plugin_colour", False)]},
    ]
    return samples, rows


# Derived by hand (and checked against the pre-issue-20 code):
# - category: a (gold named, no other class) right, b ("yoga or skiing" names another class) wrong,
#   c skipped: top1 1/3; acceptance 1/3 (only a's score passed).
# - number: parsed a=78 (gold 80), b=70 (gold 60): mae (2+10)/2 = 6, spearman of 2 distinct pairs = 1,
#   within_tol = passed 1/3, n_parsed 2.
# - interval: d [0,8] vs [0,10] IoU 0.8, e [21,24] vs [20,30] IoU 0.3: miou 0.55, r1@0.3 1.0,
#   r1@0.5 0.5, r1@0.7 0.5.
# - sequence: d exact (distance 0); e names "spin, jump": Levenshtein(["spin", "jump"],
#   ["jump", "spin", "land"]) = 2, over the longer length 3 = 2/3; edit_distance (0 + 2/3) / 2 = 1/3.
# - boolean and the plugin type: `correct` = the verifier's verdict: 1/3 (h skipped) and 1/2.
# - accuracy: a right (both labels), d right, f right; b, c, e, g, h wrong: 3/8; one 1/3, two 2/5.
RHO_1 = 0.9999999999999999    # Spearman 1 as np.corrcoef computes it for these ranks (stats.json holds this)
EXPECTED: dict[str, Any] = {
    "n": 8, "skipped": 2, "accuracy": 0.375, "acceptance": 0.375,
    "boolean": {"n": 3, "skipped": 1, "acceptance": 1 / 3, "correct": 1 / 3},
    "category": {"n": 3, "skipped": 1, "acceptance": 1 / 3, "top1": 1 / 3},
    "interval": {"n": 2, "skipped": 0, "acceptance": 0.5, "miou": 0.55, "r1@0.3": 1.0, "r1@0.5": 0.5,
                 "r1@0.7": 0.5},
    "number": {"n": 3, "skipped": 1, "acceptance": 1 / 3, "mae": 6.0, "spearman": RHO_1, "within_tol": 1 / 3,
               "n_parsed": 2},
    "sequence": {"n": 2, "skipped": 0, "acceptance": 0.5, "exact_order": 0.5, "edit_distance": 1 / 3},
    "zz_plugin_colour": {"n": 2, "skipped": 0, "acceptance": 0.5, "correct": 0.5},
    "by_source": {
        "one": {"n": 3, "skipped": 1, "accuracy": 1 / 3, "acceptance": 1 / 3,
                "category": {"n": 3, "skipped": 1, "acceptance": 1 / 3, "top1": 1 / 3},
                "number": {"n": 3, "skipped": 1, "acceptance": 1 / 3, "mae": 6.0, "spearman": RHO_1,
                           "within_tol": 1 / 3, "n_parsed": 2}},
        "two": {"n": 5, "skipped": 1, "accuracy": 0.4, "acceptance": 0.4,
                "boolean": {"n": 3, "skipped": 1, "acceptance": 1 / 3, "correct": 1 / 3},
                "interval": {"n": 2, "skipped": 0, "acceptance": 0.5, "miou": 0.55, "r1@0.3": 1.0,
                             "r1@0.5": 0.5, "r1@0.7": 0.5},
                "sequence": {"n": 2, "skipped": 0, "acceptance": 0.5, "exact_order": 0.5, "edit_distance": 1 / 3},
                "zz_plugin_colour": {"n": 2, "skipped": 0, "acceptance": 0.5, "correct": 0.5}},
    },
}


def test_evaluate_output_is_pinned(clean_registries) -> None:
    """Same keys, same key order, same values: stats.json's `eval` stays byte-identical."""
    from vstar_data.registry import LABEL_TYPES

    LABEL_TYPES.register("zz_plugin_colour", _PluginLike)
    samples, rows = _inputs()
    assert json.dumps(evaluate(samples, rows, VOCAB)) == json.dumps(EXPECTED)
