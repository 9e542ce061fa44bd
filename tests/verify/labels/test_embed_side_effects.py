"""Loading the sentence-embedding model for `text` labels must not change torch's global state:
a build verifies text answers and then trains in the same process."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")


def test_text_verification_leaves_autograd_enabled() -> None:
    from vstar_data.verify.labels import _embed

    try:
        _embed.model_dir()
    except Exception as exc:  # the optional extra is absent
        pytest.skip(f"MiniLM weights not installed: {exc}")
    assert torch.is_grad_enabled()
    vecs = _embed._encode(["A person pours water into a glass.", "Someone fills a cup."])
    assert vecs.shape[0] == 2
    assert torch.is_grad_enabled(), "loading/encoding disabled autograd for the whole thread"
    w = torch.ones(2, requires_grad=True)
    (w * 3).sum().backward()
    assert w.grad is not None
