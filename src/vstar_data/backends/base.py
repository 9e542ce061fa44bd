"""The Backend interface: something that answers a batch of (video frames, question) requests.

A backend is constructed with keyword options only (so run configs can pass
``backend_options`` through unchanged), loads its model once in `load()`, and answers with
`generate(requests)`, one entry per request, in order.

Failure contract (what a caller may rely on):

- A problem with the whole run (model missing, offline, no chat template, bad option) raises
  `ConfigError` / `MissingDependencyError` from the constructor or `load()`, once.
- A problem with one request (no frames, prompt too long for the model, a label the template
  backend cannot phrase) does not stop the batch: that request's entry in the returned list is
  a `GenerationError` instance instead of a string. `GenerationError` is a `SkipRecord`, so the
  caller records it as a skip row with its `reason` slug, `detail` and `sample_id`.
- An unexpected exception raised by `generate()` (out of memory, a kernel error) means the whole
  batch failed; callers may retry its requests one by one to isolate the bad one.

Use `is_failure(entry)` / `split_results(...)` rather than checking types by hand.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Iterable

from ..errors import ConfigError, GenerationError, SkipRecord  # noqa: F401  (GenerationError: part of the protocol)

if TYPE_CHECKING:  # keep numpy out of import time for the CLI
    from ..video.frames import Frames


@dataclass(slots=True)
class Request:
    """One question about one clip.

    `prompt` is the user text only: the backend adds the video placeholder and the model's chat
    template. `labels` (label-spec dicts) and `task` are what the template backend answers
    from; model backends ignore them. `metadata` is free-form (e.g. ``{"origin": "generated"}``).
    """

    frames: "Frames | None"
    prompt: str
    sample_id: str = ""
    labels: list[dict[str, Any]] = field(default_factory=list)
    task: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


def is_failure(entry: Any) -> bool:
    """True when a `generate()` entry is a per-request failure rather than an answer."""
    return isinstance(entry, BaseException)


def split_results(requests: Iterable[Request], results: Iterable[Any]) -> tuple[list[tuple[Request, str]],
                                                                                  list[GenerationError]]:
    """Pair requests with answers; failures come back as GenerationError with sample_id set."""
    ok: list[tuple[Request, str]] = []
    failed: list[GenerationError] = []
    for req, res in zip(requests, results):
        if isinstance(res, GenerationError):
            res.sample_id = res.sample_id or req.sample_id
            failed.append(res)
        elif isinstance(res, BaseException):
            failed.append(GenerationError("generation_failed", f"{type(res).__name__}: {res}",
                                          sample_id=req.sample_id))
        else:
            ok.append((req, res))
    return ok, failed


class Backend(ABC):
    """Base class of answer generators (registered in `vstar_data.registry.BACKENDS`).

    Subclasses accept the common options below (unused ones are ignored) plus their own, and
    implement `load`, `generate`, `model_name` and `model_revision`. A backend that can also answer
    text-only prompts (the judge, question generation) adds the public
    `generate_text(prompts, sample_ids=None) -> list[str | GenerationError]` (openai, transformers).

    Common options: ``model`` (path or Hub id), ``batch_size``, ``max_new_tokens``,
    ``temperature`` (0 = greedy), ``top_p``, ``seed``, ``device``, ``dtype``.
    """

    name: ClassVar[str] = ""
    #: True when the backend looks at the frames (False for the template backend).
    uses_frames: ClassVar[bool] = True

    def __init__(self, *, model: str | None = None, batch_size: int = 8, max_new_tokens: int = 256,
                 temperature: float = 0.0, top_p: float = 1.0, seed: int = 0, device: str | None = None,
                 dtype: str | None = None, **options: Any) -> None:
        problems = []
        if int(batch_size) < 1:
            problems.append(f"batch_size must be >= 1, got {batch_size}")
        if int(max_new_tokens) < 1:
            problems.append(f"max_new_tokens must be >= 1, got {max_new_tokens}")
        if float(temperature) < 0:
            problems.append(f"temperature must be >= 0, got {temperature}")
        if not 0 < float(top_p) <= 1:
            problems.append(f"top_p must be in (0, 1], got {top_p}")
        if problems:
            raise ConfigError(f"invalid options for backend {self.name or type(self).__name__!r}",
                              problems=problems)
        self.model = model
        self.batch_size = int(batch_size)
        self.max_new_tokens = int(max_new_tokens)
        self.temperature = float(temperature)
        self.top_p = float(top_p)
        self.seed = int(seed)
        self.device = device
        self.dtype = dtype
        self.options = options
        self._loaded = False

    @abstractmethod
    def load(self) -> None:
        """Load weights / resources once; raise ConfigError with a fix if that is impossible.
        Calling it again is a no-op."""

    @abstractmethod
    def generate(self, requests: list[Request]) -> list[Any]:
        """One entry per request, in order: the answer text, or a GenerationError for a request
        that failed on its own (see the module docstring)."""

    @property
    @abstractmethod
    def model_name(self) -> str:
        """What produced the answers, recorded with every row (e.g. a Hub id or folder name)."""

    @property
    def model_revision(self) -> str | None:
        """A stable fingerprint of the exact weights (commit hash, content hash), or None."""
        return None

    @property
    def reads_frame_times(self) -> bool:
        """True when the model is given the frames' times with the frames (a timestamp-aware
        processor, a server sent their timing); otherwise generation states them in the prompt
        for questions answered in seconds (`frames.time_instruction`, video/time_instruction.py)."""
        return False

    def ensure_loaded(self) -> None:
        """`load()` unless already done (generate() calls this so a forgotten load() still works)."""
        if not self._loaded:
            self.load()
            self._loaded = True

    def describe(self) -> dict[str, Any]:
        """Provenance of this backend's settings, for run records."""
        return {"backend": self.name, "model": self.model_name, "model_revision": self.model_revision,
                "max_new_tokens": self.max_new_tokens, "temperature": self.temperature, "top_p": self.top_p,
                "seed": self.seed}
