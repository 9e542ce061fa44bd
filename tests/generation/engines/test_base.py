"""The engine base: one dispatch (make_engine), the registry's base-class check, the declared
steps, a plugin that implements only `execute`, and one GenerationConfig builder for the run
config and the CLI."""
from __future__ import annotations

import json
from typing import Iterator

import pytest
from typer.testing import CliRunner

from vstar_data.config import run_config_from_dict
from vstar_data.errors import ConfigError
from vstar_data.generation.engines import ChunkResult, Engine, RunPlan, make_engine
from vstar_data.generation.engines.local import LocalEngine
from vstar_data.generation.pipeline import ChunkProcessor, GenerationConfig, decode_one, make_backend, make_verifier
from vstar_data.registry import ENGINES
from vstar_data.testing.engines import FIGURE_2, EngineContract


class SerialEngine(Engine):
    """The smallest engine: no decode pool, no signal handling; everything else is the base's."""

    name = "serial"

    def execute(self, plan: RunPlan) -> Iterator[ChunkResult]:
        backend = plan.backend or make_backend(plan.cfg, plan.prepared)
        processor = ChunkProcessor(plan.cfg, plan.prepared.templates, backend, make_verifier(plan.cfg))
        for k, members in plan.todo:
            items = [(plan.prepared.samples[i], decode_one(plan.prepared.samples[i], plan.cfg, backend.uses_frames))
                     for i in members]
            yield ChunkResult(k, *processor.process(items), 0.0)


class TestSerialPluginEngineContract(EngineContract):
    engine = SerialEngine


def test_steps_read_like_figure_2():
    assert tuple(s.name for s in Engine.steps) == FIGURE_2
    assert LocalEngine.steps is Engine.steps


def test_make_engine_passes_options_and_refuses_unknown_keys(clean_registries):
    assert type(make_engine(None)) is LocalEngine
    assert type(make_engine({"name": "local", "address": None})) is LocalEngine   # None: the default
    with pytest.raises(ConfigError, match="engine 'local' has no option 'address'") as info:
        make_engine({"name": "local", "address": "ray://x:10001"}, file="run.yaml")
    assert info.value.key == "engine/address" and info.value.file == "run.yaml"
    ENGINES.register("serial", SerialEngine)
    assert type(make_engine({"name": "serial"})) is SerialEngine
    with pytest.raises(ConfigError, match="unknown engine 'seral'. Did you mean 'serial'"):
        make_engine({"name": "seral"})


def test_registry_refuses_an_engine_that_is_not_an_engine(clean_registries):
    class NotAnEngine:
        def run(self, cfg, out, **kw):
            return None

    ENGINES.register("impostor", NotAnEngine)
    with pytest.raises(ConfigError, match="not a subclass of vstar_data.generation.engines.base.Engine"):
        make_engine({"name": "impostor"})


def test_cli_flags_and_the_equivalent_run_config_give_the_same_signature(tmp_path):
    from vstar_data.adapters.shapes import render_world
    from vstar_data.cli import app

    world = render_world(tmp_path / "world", n=3, seed=0)
    ann, videos = str(world / "annotations.csv"), str(world / "videos")
    res = CliRunner().invoke(app, ["generate", "shapes", "-a", ann, "-v", videos, "-o", str(tmp_path / "cli"),
                                   "--backend", "template", "--seed", "3", "--num-frames", "4"])
    assert res.exit_code == 0, res.output
    cli = json.loads((tmp_path / "cli" / "run.json").read_text())
    rc = run_config_from_dict({"model": {"pretrained": "unused"}, "seed": 3, "backend": {"name": "template"},
                               "frames": {"num_frames": 4},
                               "sources": [{"adapter": "shapes", "annotations": ann, "videos": videos}]},
                              base=tmp_path)
    cfg = GenerationConfig.from_run_config(rc, rc.sources[0], model=None, cycle=0, rationalize=True)
    assert cfg.signature() == cli["signature"]
    assert {k: v for k, v in cfg.to_dict().items() if k != "progress"} == \
        {k: v for k, v in cli["config"].items() if k != "progress"}


def test_run_config_checks_engine_options_before_any_work(tmp_path):
    data = {"model": {"pretrained": "m"}, "sources": [{"adapter": "shapes", "annotations": "a.csv"}]}
    with pytest.raises(ConfigError) as info:
        run_config_from_dict({**data, "engine": {"name": "local", "address": "auto", "workers": 2}}, base=tmp_path)
    assert "engine/address: engine 'local' has no option 'address'" in str(info.value)
    assert "engine/workers" in str(info.value)
    rc = run_config_from_dict({**data, "engine": {"name": "local", "address": None}}, base=tmp_path)
    assert type(make_engine(rc.engine)) is LocalEngine


def test_ray_options_reach_the_constructor(tmp_path):
    pytest.importorskip("ray")
    data = {"model": {"pretrained": "m"}, "sources": [{"adapter": "shapes", "annotations": "a.csv"}],
            "engine": {"name": "ray", "address": "ray://head:10001", "num_actors": 3, "decode_cpus": 0.5,
                       "max_chunk_tries": 2, "start_timeout": 30}}
    engine = make_engine(run_config_from_dict(data, base=tmp_path).engine)
    assert (engine.name, engine.address, engine.num_actors, engine.decode_cpus) == ("ray", "ray://head:10001", 3, 0.5)
    assert (engine.max_chunk_tries, engine.start_timeout) == (2, 30)
