"""BackendContract: the behaviour every backend must have, as a pytest base class.

Subclass it in a test module, name the backend, and give its options::

    from vstar_data.testing.backends import BackendContract

    class TestMyBackendContract(BackendContract):
        backend = "my_backend"          # registry name or the class itself

        @pytest.fixture
        def options(self, tmp_path):    # constructor options (model path, device, ...)
            return {"model": str(make_small_model(tmp_path)), "max_new_tokens": 8}

Fixtures a subclass may override: ``options`` (default {}), ``requests`` (3 good requests:
8x32x32 frames, an ``action_recognition`` category label, different prompt lengths),
``bad_request`` (one request the backend must answer with a GenerationError: by default no
frames for backends that use frames, an unknown task otherwise), ``backend_cls``. Class
attribute ``batch_invariant`` (default True): greedy output of a batch equals one-by-one output.

What is checked: registration and subclassing; invalid common options are ConfigError at
construction; load() is idempotent; one entry per request, in order, each a string or a
GenerationError; an empty batch; greedy determinism across calls and instances; batch
invariance; a bad request fails alone (with its sample id) without changing its neighbours;
model_name / model_revision are stable strings; describe() is JSON-friendly.
"""
from __future__ import annotations

import json
from typing import Any, ClassVar

import numpy as np
import pytest

from ..backends.base import Backend, GenerationError, Request, is_failure
from ..errors import ConfigError
from ..video.frames import Frames
from ..registry import BACKENDS


def make_frames(n: int = 8, height: int = 32, width: int = 32, seed: int = 0, fps: float = 25.0) -> Frames:
    """Deterministic random frames with consistent provenance (indices every 10 frames)."""
    array = np.random.default_rng(seed).integers(0, 256, size=(n, height, width, 3), dtype=np.uint8)
    indices = [10 * i for i in range(n)]
    total = 10 * n + 5
    return Frames(array=array, indices=indices, timestamps=[i / fps for i in indices], fps=fps,
                  duration=total / fps, total_frames=total, source=f"synthetic-{seed}")


PROMPTS = ("What is happening?",
           "What is the person in the video doing? Explain step by step.",
           "Question: Which action does this video show, and how can one arrive at this conclusion "
           "from what is visible in the frames? Describe the motion of the hands and the objects.")
ACTIONS = ("playing guitar", "arm wrestling", "yoga")


class BackendContract:
    """Conformance tests for one backend (not collected itself: the name lacks ``Test``)."""

    backend: ClassVar[str | type[Backend] | None] = None
    batch_invariant: ClassVar[bool] = True

    # -- fixtures a subclass provides or overrides ----------------------------------------------

    @pytest.fixture
    def backend_cls(self) -> type[Backend]:
        if self.backend is None:
            pytest.fail(f"{type(self).__name__}: set `backend = <registry name | class>`")
        return self.backend if isinstance(self.backend, type) else BACKENDS.get(self.backend)

    @pytest.fixture
    def options(self) -> dict[str, Any]:
        return {}

    @pytest.fixture
    def requests(self) -> list[Request]:
        return [Request(frames=make_frames(seed=k), prompt=p, sample_id=f"contract-{k}",
                        labels=[{"type": "category", "name": "action", "value": a}],
                        task="action_recognition", metadata={"origin": "generated"})
                for k, (p, a) in enumerate(zip(PROMPTS, ACTIONS))]

    @pytest.fixture
    def bad_request(self, backend_cls: type[Backend], requests: list[Request]) -> Request:
        good = requests[0]
        if backend_cls.uses_frames:
            return Request(frames=None, prompt=good.prompt, sample_id="contract-bad", labels=good.labels,
                           task=good.task)
        return Request(frames=good.frames, prompt=good.prompt, sample_id="contract-bad", labels=good.labels,
                       task="__no_such_task__")

    @pytest.fixture
    def loaded(self, backend_cls: type[Backend], options: dict[str, Any]) -> Backend:
        backend = backend_cls(**options)
        backend.load()
        return backend

    # -- the contract -------------------------------------------------------------------------------

    def test_is_a_backend(self, backend_cls: type[Backend]) -> None:
        assert isinstance(backend_cls, type) and issubclass(backend_cls, Backend)
        if isinstance(self.backend, str):
            assert self.backend in BACKENDS.names()

    @pytest.mark.parametrize("bad", [{"batch_size": 0}, {"max_new_tokens": 0}, {"temperature": -1.0},
                                     {"top_p": 0.0}])
    def test_invalid_common_option_is_config_error(self, backend_cls: type[Backend], options: dict[str, Any],
                                                   bad: dict[str, Any]) -> None:
        with pytest.raises(ConfigError):
            backend_cls(**{**options, **bad})

    def test_load_is_idempotent(self, loaded: Backend) -> None:
        loaded.load()
        loaded.ensure_loaded()

    def test_one_entry_per_request_in_order(self, loaded: Backend, requests: list[Request]) -> None:
        out = loaded.generate(requests)
        assert isinstance(out, list) and len(out) == len(requests)
        for entry in out:
            assert isinstance(entry, str) and entry.strip(), f"expected a non-empty answer, got {entry!r}"
        assert loaded.generate(list(reversed(requests))) == list(reversed(out))

    def test_empty_batch(self, loaded: Backend) -> None:
        assert loaded.generate([]) == []

    def test_greedy_is_deterministic(self, backend_cls: type[Backend], options: dict[str, Any],
                                     loaded: Backend, requests: list[Request]) -> None:
        first = loaded.generate(requests)
        assert loaded.generate(requests) == first
        other = backend_cls(**options)
        other.load()
        assert other.generate(requests) == first

    def test_batch_equals_one_by_one(self, loaded: Backend, requests: list[Request]) -> None:
        if not self.batch_invariant:
            pytest.skip(f"{type(self).__name__} declares batch_invariant = False")
        assert loaded.generate(requests) == [loaded.generate([r])[0] for r in requests]

    def test_bad_request_fails_alone(self, loaded: Backend, requests: list[Request], bad_request: Request) -> None:
        mixed = [requests[0], bad_request, *requests[1:]]
        out = loaded.generate(mixed)
        assert len(out) == len(mixed)
        err = out[1]
        assert is_failure(err) and isinstance(err, GenerationError), f"expected GenerationError, got {err!r}"
        assert err.reason and err.sample_id == bad_request.sample_id
        assert err.to_dict()["id"] == bad_request.sample_id
        good = [o for i, o in enumerate(out) if i != 1]
        assert all(isinstance(o, str) for o in good)
        if self.batch_invariant:
            assert good == loaded.generate(requests)

    def test_provenance_is_stable(self, backend_cls: type[Backend], options: dict[str, Any],
                                  loaded: Backend) -> None:
        assert isinstance(loaded.model_name, str) and loaded.model_name
        rev = loaded.model_revision
        assert rev is None or (isinstance(rev, str) and rev)
        other = backend_cls(**options)
        other.load()
        assert (other.model_name, other.model_revision) == (loaded.model_name, rev)
        json.dumps(loaded.describe())
