"""Tiny models are built once per session (about a second each) and shared read-only."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """`tiny_model(arch)` -> folder of a seed-0 tiny model of that architecture (built on first use)."""
    from vstar_data.backends.tiny import build_tiny_model

    built: dict[str, Path] = {}
    root = tmp_path_factory.mktemp("tiny-models")

    def get(arch: str) -> Path:
        if arch not in built:
            built[arch] = build_tiny_model(arch, root / arch, seed=0)
        return built[arch]

    return get
