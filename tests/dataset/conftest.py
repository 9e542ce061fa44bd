"""Fixtures for the store tests: attempt-row folders, a shared datasets cache, the CLI app."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # factory.py, hub_server.py

from factory import make_attempts, write_rows_dir  # noqa: E402


@pytest.fixture
def rows_v1(tmp_path: Path) -> Path:
    """Cycle 1: 12 samples per source, some rejected then rationalized, some never accepted."""
    return write_rows_dir(tmp_path / "rows-v1", make_attempts(12, cycle=1, tag="v1 "))


@pytest.fixture
def rows_v2(tmp_path: Path) -> Path:
    """Cycle 2: more samples, different answers (same ids as v1 for the first 12)."""
    return write_rows_dir(tmp_path / "rows-v2", make_attempts(18, cycle=2, tag="v2 "))


@pytest.fixture
def datasets_cache(tmp_path: Path) -> Path:
    """One datasets cache for the whole test, never cleared between loads."""
    return tmp_path / "hf-datasets-cache"


@pytest.fixture(scope="session")
def cli_app():
    """The typer app with the store commands registered (cli/__init__ may not import them yet)."""
    from vstar_data.cli import app
    from vstar_data.cli import store as _store  # noqa: F401

    return app
