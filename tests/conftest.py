"""Shared fixtures: the real clips and annotation files in ../shared/fixtures, registry isolation."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("VSTAR_FIXTURES", ROOT.parent / "shared" / "fixtures"))


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"fixture {path} is absent (set VSTAR_FIXTURES to the shared/fixtures folder)")
    return path


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return _need(FIXTURES)


@pytest.fixture(scope="session")
def videos_dir(fixtures_dir: Path) -> Path:
    return _need(fixtures_dir / "videos")


@pytest.fixture(scope="session")
def kinetics_dir(fixtures_dir: Path) -> Path:
    return _need(fixtures_dir / "annotations" / "kinetics700")


@pytest.fixture(scope="session")
def thumos_dir(fixtures_dir: Path) -> Path:
    return _need(fixtures_dir / "annotations" / "thumos14")


@pytest.fixture
def clean_registries():
    """Snapshot the registries and restore them after the test."""
    from vstar_data.registry import ADAPTERS, BACKENDS, ENGINES, EXPORTERS, LABEL_TYPES

    regs = (ADAPTERS, BACKENDS, ENGINES, LABEL_TYPES, EXPORTERS)
    states = [r.snapshot() for r in regs]
    yield
    for r, s in zip(regs, states):
        r.restore(s)


# The example plugin's own tests run only once it is installed (tests/plugins/test_example_plugin.py).
collect_ignore = ["plugins/example_plugin"]
