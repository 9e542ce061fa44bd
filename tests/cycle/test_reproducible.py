"""`reproducibility` in the run config: fixed torch threads (generation and training), deterministic
algorithms and seeded RNGs, validated like every other key and said in the run's output."""
from __future__ import annotations

import random

import pytest
import yaml

from vstar_data.config import load_run_config
from vstar_data.cycle import reproducible
from vstar_data.errors import ConfigError


@pytest.fixture
def torch_state():
    import torch

    threads, det = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    yield torch
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(det)


def _cfg(tmp_path, **extra):
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump({"sources": [{"adapter": "shapes", "annotations": "w"}],
                                    "model": {"pretrained": "m"}, **extra}))
    return path


def test_config_defaults_and_validation(tmp_path):
    assert load_run_config(_cfg(tmp_path)).reproducibility == {"torch_threads": None, "deterministic": False}
    rc = load_run_config(_cfg(tmp_path, reproducibility={"torch_threads": 1, "deterministic": True}))
    assert rc.reproducibility == {"torch_threads": 1, "deterministic": True}
    with pytest.raises(ConfigError) as err:
        load_run_config(_cfg(tmp_path, reproducibility={"torch_threads": 0, "deterministc": True}))
    assert "torch_threads" in str(err.value) and "deterministc" in str(err.value)


def test_apply_fixes_threads_determinism_and_seeds(torch_state):
    torch = torch_state
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(False)
    restore = reproducible.restore_point()
    info = reproducible.apply({"torch_threads": 1, "deterministic": True}, seed=7)
    assert info == {"torch_threads": 1, "deterministic_algorithms": True, "seed": 7}
    assert torch.get_num_threads() == 1 and torch.are_deterministic_algorithms_enabled()
    a = (random.random(), torch.rand(1).item())
    reproducible.apply({"torch_threads": 1, "deterministic": True}, seed=7)
    assert (random.random(), torch.rand(1).item()) == a
    assert "threads fixed at 1" in reproducible.describe(info)
    restore()  # the runner leaves the process as it found it
    assert torch.get_num_threads() == 2 and not torch.are_deterministic_algorithms_enabled()
    assert reproducible.apply({"torch_threads": None, "deterministic": False}, seed=7) == {}
    assert "not fixed" in reproducible.describe({})


def test_generation_keeps_the_fixed_thread_count(torch_state):
    from vstar_data.generation.engines.local import share_cpu_with_decoders
    from vstar_data.generation.pipeline import GenerationConfig

    torch = torch_state
    torch.set_num_threads(3)
    cfg = GenerationConfig(adapter="shapes", annotations="w", decode_workers=1, torch_threads=2)
    restore = share_cpu_with_decoders(cfg)
    assert torch.get_num_threads() == 2
    restore()
    assert torch.get_num_threads() == 3
    # a speed knob: the run signature (resume check) does not change with it
    assert cfg.signature() == GenerationConfig(adapter="shapes", annotations="w").signature()
