"""The Backend protocol: Request, GenerationError, result helpers, registration."""
from __future__ import annotations

from typing import Any

import pytest

from vstar_data.backends.base import Backend, GenerationError, Request, is_failure, split_results
from vstar_data.errors import ConfigError, SkipRecord
from vstar_data.registry import BACKENDS
from vstar_data.testing.backends import BackendContract, make_frames


class EchoBackend(Backend):
    """A minimal backend: echoes the prompt, fails requests without frames."""

    name = "echo"

    def load(self) -> None:
        self._loaded = True

    @property
    def model_name(self) -> str:
        return "echo"

    def generate(self, requests: list[Request]) -> list[Any]:
        self.ensure_loaded()
        return [GenerationError("no_frames", "none", sample_id=r.sample_id) if r.frames is None
                else f"{r.prompt} ({len(r.frames.array)} frames)" for r in requests]


class TestEchoBackendContract(BackendContract):
    """The contract itself runs against a trivial backend (a contract that cannot pass is useless)."""

    backend = EchoBackend


def test_generation_error_is_a_skip_record_with_location() -> None:
    err = GenerationError("prompt_too_long", "300 tokens", sample_id="s1")
    assert isinstance(err, SkipRecord) and is_failure(err)
    assert err.to_dict() == {"reason": "prompt_too_long", "detail": "300 tokens", "file": None, "row": None,
                             "key": None, "id": "s1"}
    assert "prompt_too_long: 300 tokens" in str(err)
    assert not is_failure("an answer")


def test_split_results_pairs_answers_and_collects_failures() -> None:
    reqs = [Request(frames=None, prompt=p, sample_id=p) for p in "abc"]
    ok, failed = split_results(reqs, ["A", GenerationError("no_frames"), RuntimeError("boom")])
    assert [(r.sample_id, a) for r, a in ok] == [("a", "A")]
    assert [(f.reason, f.sample_id) for f in failed] == [("no_frames", "b"), ("generation_failed", "c")]
    assert "RuntimeError: boom" in failed[1].detail


def test_request_defaults_are_independent() -> None:
    a, b = Request(frames=None, prompt="x"), Request(frames=None, prompt="y")
    a.labels.append({"type": "category", "name": "n", "value": "v"})
    a.metadata["k"] = 1
    assert b.labels == [] and b.metadata == {}


def test_common_options_are_validated_together() -> None:
    with pytest.raises(ConfigError) as info:
        EchoBackend(batch_size=0, temperature=-1, top_p=2)
    assert len(info.value.problems) == 3


def test_generate_loads_lazily() -> None:
    backend = EchoBackend()
    assert backend.generate([Request(frames=make_frames(2), prompt="hi")]) == ["hi (2 frames)"]
    assert backend._loaded


def test_builtin_backends_are_registered() -> None:
    from vstar_data.backends.transformers import TransformersBackend
    from vstar_data.backends.template import TemplateBackend

    assert BACKENDS.get("template") is TemplateBackend
    assert BACKENDS.get("transformers") is TransformersBackend
    assert TemplateBackend.uses_frames is False and TransformersBackend.uses_frames is True


def test_plugin_backend_registers_and_resolves(clean_registries: None) -> None:
    BACKENDS.register("echo", EchoBackend)
    assert BACKENDS.get("echo") is EchoBackend
    BACKENDS.register("not-a-backend", "builtins:dict")
    with pytest.raises(ConfigError, match="not a subclass"):
        BACKENDS.get("not-a-backend")
