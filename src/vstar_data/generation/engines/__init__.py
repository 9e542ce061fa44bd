"""Engines run the generation pipeline over chunks: takes a GenerationConfig, gives a run directory.

`base.Engine` owns what every engine shares (planning, resume, the run directory layout, tallies,
progress and the summary) over one declared list of steps (`Engine.steps`, the paper's Figure 2);
`local` (this process) and `ray` (Ray tasks and actors) implement only `Engine.execute`. Engines are
looked up in the ENGINES registry (entry-point group `vstar_data.engines`); `make_engine` builds
one from a run config's `engine:` section, and `vstar_data.testing.engines.EngineContract` checks
a plugin behaves like the built-ins.
"""
from .base import ChunkResult, Engine, RunPlan, RunSummary, Step, make_engine

__all__ = ["ChunkResult", "Engine", "RunPlan", "RunSummary", "Step", "make_engine"]
