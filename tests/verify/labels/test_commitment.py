"""The shared commitment check (labels/_commitment.py): its API on token mentions, one case per
reason, and the label types and verifier wiring (vocabulary, profiles)."""
from __future__ import annotations

from pathlib import Path

import pytest

from vstar_data.errors import ConfigError
from vstar_data.verify.labels._commitment import REASONS, assertion, check, coordinated
from vstar_data.verify.labels.analysis import analyze
from vstar_data.verify.labels.base import Profile
from vstar_data.verify.verifier import Verifier, load_profile


def spans(doc, *words: str) -> list[tuple[int, int]]:
    """Token ranges of each occurrence of the given one-word values."""
    return [(i, i + 1) for i, low in enumerate(doc.lows) if low in words]


@pytest.mark.parametrize("text, reason", [
    ("He is surfing.", None),
    ("He is not surfing.", "negated"),
    ("Is he surfing?", "questioned"),
    ("He might be surfing.", "hedged"),
    ("Surfing, perhaps.", "hedged"),
    ("I'm not sure, but he is surfing.", "hedged"),
    ("If there were waves, he would be surfing.", "counterfactual"),
    ("He wants to go surfing tomorrow.", "not_carried_out"),
    ("He pretends to be surfing.", "not_carried_out"),
    ("His friend was surfing earlier.", "attributed_elsewhere"),
    ("He is surfing - sorry, swimming.", "retracted"),
])
def test_assertion_reasons(text: str, reason: str | None) -> None:
    doc = analyze(text)
    (g,) = spans(doc, "surfing")
    got, clause = assertion(doc, g[0], g[1], spans(doc, "swimming"))
    assert got == reason and (reason is None or reason in REASONS)
    assert clause[0] <= g[0] < g[1] <= clause[1]


@pytest.mark.parametrize("text, alternatives", [
    ("Surfing or swimming.", True), ("Surfing, swimming.", True), ("Surfing? Swimming?", True),
    ("Surfing / swimming", True), ("He is surfing and then swimming.", False),
    ("He is surfing. Later the crowd is swimming.", False),
])
def test_coordinated(text: str, alternatives: bool) -> None:
    doc = analyze(text)
    assert coordinated(doc, spans(doc, "surfing")[0], spans(doc, "swimming")[0]) is alternatives


@pytest.mark.parametrize("text, ok, reason", [
    ("He is surfing.", True, None),
    ("Surfing or swimming.", False, "competing_value"),
    ("He is surfing. He is swimming.", False, "competing_value"),
    ("It looks like swimming at first, but he is surfing.", True, None),     # rival retracted
    ("Not swimming but surfing.", True, None),                               # rival negated
    ("Options: surfing or swimming; the board settles it, so surfing.", True, None),
    ("He is surfing while his friend is swimming.", True, None),             # subordinate, other actor
    ("Maybe surfing.", False, "hedged"),
])
def test_check_gold_against_rivals(text: str, ok: bool, reason: str | None) -> None:
    doc = analyze(text)
    got = check(doc, spans(doc, "surfing"), spans(doc, "swimming"))
    assert (got.ok, got.reason) == (ok, reason)


def test_check_without_mentions_and_lenient_mode() -> None:
    doc = analyze("Maybe surfing.")
    assert check(doc, []).reason == "not_found"
    assert check(doc, spans(doc, "surfing"), strict=False).ok          # negation only
    assert not check(analyze("Not surfing."), [(1, 2)], strict=False).ok


K = ["abseiling", "rock climbing", "ice climbing", "playing guitar"]


def test_vocabulary_from_spec_or_verifier() -> None:
    spec = {"type": "category", "name": "action", "value": "abseiling"}
    # without a vocabulary, a bare list or a disjunction is still caught from its shape ...
    assert Verifier().verify([spec], "Abseiling, rock climbing, ice climbing.").reason == "competing_value"
    assert Verifier().verify([spec], "It is abseiling or rock climbing.").reason == "competing_value"
    # ... but another class claimed in its own sentence is known as a class only from the vocabulary
    answer = "He is abseiling. He is rock climbing."
    assert Verifier().verify([spec], answer).accepted
    assert Verifier().verify([{**spec, "vocabulary": K}], answer).reason == "competing_value"
    assert Verifier(vocabulary=K).verify([spec], answer).reason == "competing_value"
    assert Verifier(vocabulary={"action": K}).verify([spec], answer).reason == "competing_value"
    assert Verifier(vocabulary={"other": K}).verify([spec], answer).accepted
    assert Verifier().verify([spec], answer, vocabulary=K).reason == "competing_value"
    result = Verifier(vocabulary=K).verify([spec], answer).results[0]
    assert result.extra["rival"] == "rock climbing" and result.extra["clause"] == "He is rock climbing"


def test_profiles_record_commitment_settings(tmp_path: Path) -> None:
    for name in ("paper", "code", "default"):
        p = load_profile(name)
        assert p.require_commitment is True and p.echo_min_evidence == 4
    lax = tmp_path / "lax.yaml"
    lax.write_text("extends: default\nrequire_commitment: false\n", "utf-8")
    spec = {"type": "number", "name": "difficulty", "value": 3.2}
    assert not Verifier("default").verify([spec], "The difficulty might be 3.2.").accepted
    assert Verifier(lax).verify([spec], "The difficulty might be 3.2.").accepted
    bad = tmp_path / "bad.yaml"
    bad.write_text("echo_min_evidence: 2.5\nrequire_commitment: 1\n", "utf-8")
    with pytest.raises(ConfigError) as info:
        load_profile(bad)
    assert "echo_min_evidence" in str(info.value) and "require_commitment" in str(info.value)


@pytest.mark.parametrize("answer, min_evidence, echo", [
    ("Going by what we were handed, the activity is abseiling.", 4, True),
    ("The reference says abseiling, so that is what it is.", 4, True),
    ("The climber descends a rock face on a rope, feet braced on the wall: abseiling.", 4, False),
    ("Given that she descends the cliff on a rope in a harness, she is abseiling.", 4, False),
    # no deference, but three words of description: it only restates the hint (issue 23)
    ("Given that she descends the cliff on a rope, she is abseiling.", 4, True),
    ("Given that she descends the cliff on a rope, she is abseiling.", 3, False),
    ("Going by what we were handed, and the rope, harness, cliff and descent, it is abseiling.", 4, False),
    ("Going by what we were handed, and the rope, harness, cliff and descent, it is abseiling.", 9, True),
])
def test_paraphrased_hint_echo_needs_visual_evidence(answer: str, min_evidence: int, echo: bool) -> None:
    v = Verifier(Profile("p", echo_min_evidence=min_evidence))
    spec = {"type": "category", "name": "action", "value": "abseiling"}
    verdict = v.verify([spec], answer, "rationalized")
    assert (verdict.reason == "hint_echo") is echo
    assert v.verify([spec], answer, "generated").accepted                # only rationalized answers
