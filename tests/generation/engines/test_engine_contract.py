"""Both built-in engines pass the engine conformance suite (vstar_data.testing.engines)."""
from __future__ import annotations

import os

import pytest

from vstar_data.testing.engines import EngineContract


class TestLocalEngineContract(EngineContract):
    engine = "local"


@pytest.fixture(scope="class")
def local_ray():
    """A fresh local Ray with 2 CPUs for the Ray contract (never someone else's `ray start` cluster)."""
    ray = pytest.importorskip("ray")
    old = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    ray.init(address="local", num_cpus=2, include_dashboard=False, configure_logging=False)
    yield
    ray.shutdown()
    if old is None:
        os.environ.pop("RAY_AUTH_MODE", None)
    else:
        os.environ["RAY_AUTH_MODE"] = old


@pytest.mark.slow
@pytest.mark.usefixtures("local_ray")
class TestRayEngineContract(EngineContract):
    engine = "ray"

    @pytest.fixture
    def options(self):
        return {"num_actors": 1}
