"""The verifier: profiles, all-labels acceptance, hint echo, several profiles at once."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from vstar_data.errors import ConfigError
from vstar_data.verify.labels.base import Profile
from vstar_data.registry import LABEL_TYPES
from vstar_data.sources.templates import render_hint
from vstar_data.verify.verifier import Verdict, Verifier, builtin_profiles, is_hint_echo, load_profile, verify_profiles

ACTION = {"type": "category", "name": "action", "value": "hitting baseball"}
DD = {"type": "number", "name": "difficulty", "value": 3.2}
SCORE = {"type": "number", "name": "final_score", "value": 65.6}
SUBS = {"type": "sequence", "name": "sub_actions", "value": ["Inward", "3.5 Soms.Tuck", "Entry"]}
SEG = {"type": "interval", "name": "segment", "start": 12.4, "end": 18.9}


@pytest.mark.parametrize("name, fuzzy, rel, iou", [("paper", 80, 0.05, 0.5), ("code", 85, 0.10, 0.5),
                                                   ("default", 85, 0.05, 0.5)])
def test_shipped_profiles(name: str, fuzzy: float, rel: float, iou: float) -> None:
    p = load_profile(name)
    assert (p.name, p.fuzzy_threshold, p.rel_tol, p.abs_tol, p.min_iou, p.reject_hint_echo) == \
        (name, fuzzy, rel, None, iou, True)
    assert builtin_profiles()[name]["description"]


def test_unknown_profile_lists_available() -> None:
    with pytest.raises(ConfigError, match=r"unknown verifier profile 'strict'; available: code, default, paper"):
        Verifier("strict")


def test_profile_from_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "tight.yaml"
    path.write_text("extends: code\nrel_tol: 0.01\nmin_iou: 0.7\n", "utf-8")
    p = load_profile(str(path))
    assert (p.name, p.fuzzy_threshold, p.rel_tol, p.min_iou) == ("tight", 85, 0.01, 0.7)
    assert Verifier(path).profile == p


@pytest.mark.parametrize("text, problem", [
    ("fuzzy_threshold: 120\n", "within 0-100"), ("rel_tol: -1\n", ">= 0"), ("min_iou: 0\n", "(0, 1]"),
    ("fuzzy: 80\n", "unknown key 'fuzzy'"), ("rel_tol: lots\n", "must be a number"),
    ("reject_hint_echo: 1\n", "true or false"), ("- 1\n", "mapping"), ("extends: nope\n", "unknown profile"),
])
def test_bad_profile_files_say_what_is_wrong(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as info:
        load_profile(path)
    assert problem in str(info.value) and str(path) in str(info.value)


def test_missing_profile_file() -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_profile("no/such/profile.yaml")


def test_all_labels_must_pass() -> None:
    v = Verifier("default")
    answer = "A dive with a difficulty of 3.2 scored 65.6 points."
    ok = v.verify([DD, SCORE], answer)
    assert ok.accepted and ok.reason is None and [r.passed for r in ok.results] == [True, True]
    bad = v.verify([DD, {**SCORE, "value": 80.0}], answer)
    assert not bad.accepted and bad.reason == "out_of_tolerance"
    assert [r.name for r in bad.results] == ["difficulty", "final_score"]


@pytest.mark.parametrize("answer", [
    "As the answer states, the person is hitting a baseball.",
    "The given label is hitting baseball, so the batter must be swinging.",
    "Since we are told the action is hitting baseball, the bat must connect.",
    "According to the provided answer, he is hitting a baseball.",
    "The answer is given as hitting baseball; the bat swings at the ball.",
    "As stated in the question, he is hitting a baseball.",
    "The hint says he is hitting a baseball.",
    "We're told it is hitting baseball, which fits the swing.",
    "Based on the provided label, he is hitting a baseball.",
    "Given the answer of hitting baseball, the swing makes sense.",
    "The answer provided is hitting baseball, which matches the bat.",
])
def test_hint_echo_is_detected(answer: str) -> None:
    echo, phrase = is_hint_echo(answer)
    assert echo and phrase and phrase.lower() in answer.lower()


@pytest.mark.parametrize("answer", [
    "Therefore the person is hitting a baseball.",
    "The batter swings and connects, so the answer is hitting baseball.",
    "Given that the bat meets the ball, he is hitting a baseball.",
    "The question asks what he does: he is hitting a baseball.",
])
def test_own_conclusions_are_not_echo(answer: str) -> None:
    assert is_hint_echo(answer) == (False, None)


def test_hint_echo_rejects_only_rationalized_answers() -> None:
    v = Verifier()
    answer = "As the answer states, the person is hitting a baseball."
    assert v.verify([ACTION], answer, origin="generated").accepted
    verdict = v.verify([ACTION], answer, origin="rationalized")
    assert not verdict.accepted and verdict.reason == "hint_echo" and verdict.results[0].passed
    # a rationalized answer that only restates the value is an echo too (issue 23) ...
    bare = v.verify([ACTION], "Therefore the person is hitting a baseball.", origin="rationalized")
    assert bare.reason == "hint_echo" and bare.results[0].passed and "0 words" in bare.echo
    assert v.verify([ACTION], "Therefore the person is hitting a baseball.", origin="generated").accepted
    # ... and one that describes what is seen passes
    assert v.verify([ACTION], "The batter swings a wooden bat and sends the pitch over the fence: "
                              "the person is hitting a baseball.", origin="rationalized").accepted
    lenient = Verifier(Profile("lenient", reject_hint_echo=False))
    assert lenient.verify([ACTION], answer, origin="rationalized").accepted


def test_bad_origin() -> None:
    with pytest.raises(ConfigError, match="origin"):
        Verifier().verify([ACTION], "He hits a baseball.", origin="guessed")


def test_verdict_to_dict_is_the_row_shape() -> None:
    answer = "He is hitting a baseball from 12.4 to 18.9 seconds: inward, 3.5 soms tuck, entry."
    verdict = Verifier("paper").verify([ACTION, SEG, SUBS], answer)
    d = verdict.to_dict()
    assert d["accepted"] is True and d["profile"] == "paper" and d["reason"] is None
    assert [s["name"] for s in d["scores"]] == ["action", "segment", "sub_actions"]
    for s in d["scores"]:
        assert {"name", "type", "passed", "score", "span", "matched", "reason"} <= set(s)
        assert answer[s["span"][0]:s["span"][1]] == s["matched"]
    json.dumps(d)


def test_several_profiles_at_once() -> None:
    answer = "The difficulty is 3.2 and the final score is 60."          # 8.5% off 65.6
    verdicts = verify_profiles([DD, SCORE], answer)
    assert set(verdicts) == {"paper", "code", "default"} and all(isinstance(v, Verdict) for v in verdicts.values())
    assert {k: v.accepted for k, v in verdicts.items()} == {"paper": False, "code": True, "default": False}
    mixed = verify_profiles([DD], "The difficulty is 3.2.", profiles=[Profile("mine"), Verifier("code")])
    assert set(mixed) == {"mine", "code"}


def test_label_types_are_resolved_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_get = LABEL_TYPES.get
    monkeypatch.setattr(LABEL_TYPES, "get", lambda name: calls.append(name) or real_get(name))
    v = Verifier()
    for _ in range(20):
        v.verify([ACTION, DD], "He is hitting a baseball; the difficulty is 3.2.")
    assert sorted(calls) == ["category", "number"]


def test_hint_rendered_by_templates_verifies() -> None:
    labels = [ACTION, DD, SCORE, SEG, SUBS]
    answer = render_hint(labels) + "."
    assert Verifier("default").verify(labels, answer).accepted, answer


def test_empty_or_missing_answer_is_rejected_not_raised() -> None:
    for answer in ("", "   ", None):
        verdict = Verifier().verify([ACTION, DD], answer)  # type: ignore[arg-type]
        assert not verdict.accepted and verdict.reason == "empty_answer"
