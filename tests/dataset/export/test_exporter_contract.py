"""Every built-in export format passes the exporter conformance suite."""
from __future__ import annotations

import pytest

from vstar_data.testing.exporters import ExporterContract


@pytest.mark.parametrize("name", ["llava", "jsonl", "llamafactory", "swift", "llava-video", "trl", "grpo", "lmms-eval"])
def test_builtins_are_registered(name):
    from vstar_data.registry import EXPORTERS

    assert name in EXPORTERS.names()


class TestLlamaFactory(ExporterContract):
    exporter = "llamafactory"


class TestSwift(ExporterContract):
    exporter = "swift"


class TestLlavaVideo(ExporterContract):
    exporter = "llava-video"


class TestTrl(ExporterContract):
    exporter = "trl"


class TestGrpo(ExporterContract):
    exporter = "grpo"


class TestLmmsEval(ExporterContract):
    exporter = "lmms-eval"


class TestLlava(ExporterContract):
    exporter = "llava"


class TestJsonl(ExporterContract):
    exporter = "jsonl"
