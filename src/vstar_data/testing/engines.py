"""EngineContract: the behaviour every engine must have, as a pytest base class.

Subclass it in a test module and name the engine (and its constructor options)::

    from vstar_data.testing.engines import EngineContract

    class TestMyEngineContract(EngineContract):
        engine = "my_engine"            # registry name or the Engine subclass itself

        @pytest.fixture
        def options(self):              # constructor options, as a run config's `engine:` keys
            return {"workers": 1}

Fixtures a subclass may override: ``options`` (default {}), ``engine_factory`` (a zero-argument
callable returning a fresh engine; default: the class built with ``options``), ``world`` (the
inputs: a small procedural shapes world, rendered once per class, with one annotated clip whose
video is missing and one whose video is garbage), ``config`` (a callable returning the run's
GenerationConfig; template backend, two samples per chunk). Any cluster the engine needs (e.g.
a local Ray) is the subclass's to start, in a fixture of its own.

What is checked: the engine subclasses `Engine` (and is registered when named); it writes the
local engine's attempt and skip rows, chunk by chunk, and the same run.json; a second run reuses
every chunk and writes nothing; the summary's counts add up and match the file on disk; a missing
video is counted as missing and an unreadable one as a skip row with its reason.
"""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any, Callable, ClassVar

import pytest

from ..generation.engines.base import Engine, RunSummary
from ..generation.engines.local import LocalEngine
from ..generation.pipeline import GenerationConfig
from ..registry import ENGINES

FIGURE_2 = ("read", "prompt", "frames", "generate", "verify", "rationalize", "write")
CLIPS = 5                  # rendered clips that decode; plus one missing and one garbage video
SUMMARY_KEYS = set(RunSummary().to_dict())


def read_rows(out: Path, kind: str = "attempts") -> list[dict[str, Any]]:
    """Every row of `out/<kind>/chunk-*.jsonl`, in chunk order, without the timing field."""
    rows = []
    for p in sorted((Path(out) / kind).glob("chunk-*.jsonl")):
        rows += [{k: v for k, v in json.loads(line).items() if k != "timing"}
                 for line in p.read_text("utf-8").splitlines() if line.strip()]
    return rows


def _files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(Path(out).rglob("*")) if p.is_file()}


class EngineContract:
    """Conformance tests for one engine (not collected itself: the name lacks ``Test``)."""

    engine: ClassVar[str | type[Engine] | None] = None

    # -- fixtures a subclass provides or overrides ----------------------------------------------

    @pytest.fixture
    def engine_cls(self) -> type[Engine]:
        if self.engine is None:
            pytest.fail(f"{type(self).__name__}: set `engine = <registry name | Engine subclass>`")
        return self.engine if isinstance(self.engine, type) else ENGINES.get(self.engine)

    @pytest.fixture
    def options(self) -> dict[str, Any]:
        return {}

    @pytest.fixture
    def engine_factory(self, engine_cls: type[Engine], options: dict[str, Any]) -> Callable[[], Engine]:
        return lambda: engine_cls(**options)

    @pytest.fixture(scope="class")
    def world(self, tmp_path_factory: pytest.TempPathFactory) -> Path:
        from vstar_data.adapters.shapes import render_world

        root = render_world(tmp_path_factory.mktemp("engine-contract-world"), n=CLIPS, seed=0)
        path = root / "annotations.csv"
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        rows += [dict(rows[0], clip="missing_clip"), dict(rows[1], clip="garbage_clip")]
        (root / "videos" / "garbage_clip.mp4").write_bytes(os.urandom(2048))
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return root

    @pytest.fixture
    def config(self, world: Path) -> Callable[[], GenerationConfig]:
        return lambda: GenerationConfig(adapter="shapes", annotations=str(world / "annotations.csv"),
                                        videos=str(world / "videos"), num_frames=4, frame_size=None,
                                        chunk_size=2, batch_size=2, progress=False)

    # -- the contract -------------------------------------------------------------------------------

    def test_is_an_engine(self, engine_cls: type[Engine]) -> None:
        assert isinstance(engine_cls, type) and issubclass(engine_cls, Engine)
        assert [s.name for s in engine_cls.steps] == list(FIGURE_2)
        if isinstance(self.engine, str):
            assert self.engine in ENGINES.names()

    def test_writes_the_local_engines_rows(self, engine_factory: Callable[[], Engine],
                                           config: Callable[[], GenerationConfig], tmp_path: Path) -> None:
        LocalEngine().run(config(), tmp_path / "local")
        engine_factory().run(config(), tmp_path / "engine")
        rows = read_rows(tmp_path / "engine")
        assert len(rows) == CLIPS and rows == read_rows(tmp_path / "local")   # same rows, same chunks
        assert read_rows(tmp_path / "engine", "skipped") == read_rows(tmp_path / "local", "skipped")
        names = lambda d: sorted(p.name for p in (tmp_path / d / "attempts").iterdir())  # noqa: E731
        assert names("engine") == names("local")
        run = lambda d: json.loads((tmp_path / d / "run.json").read_text("utf-8"))  # noqa: E731
        assert (run("engine")["signature"], run("engine")["config"]) == (run("local")["signature"],
                                                                       run("local")["config"])

    def test_second_run_reuses_every_chunk(self, engine_factory: Callable[[], Engine],
                                           config: Callable[[], GenerationConfig], tmp_path: Path) -> None:
        out = tmp_path / "run"
        first = engine_factory().run(config(), out)
        before = _files(out)
        again = engine_factory().run(config(), out)
        assert again.chunks_done_before == again.chunks_total == first.chunks_total > 1
        assert (again.reused, again.new, again.redone, again.retired) == (first.samples, 0, 0, 0)
        assert (again.generated, again.attempts, again.skipped) == (first.generated, first.attempts, first.skipped)
        assert _files(out) == before, "a run with nothing to do must write nothing"

    def test_summary_counts_add_up(self, engine_factory: Callable[[], Engine],
                                   config: Callable[[], GenerationConfig], tmp_path: Path) -> None:
        out = tmp_path / "run"
        summary = engine_factory().run(config(), out)
        d = summary.to_dict()
        assert set(d) == SUMMARY_KEYS
        assert (d["annotated"], d["found"], d["samples"]) == (CLIPS + 2, CLIPS + 1, CLIPS + 1)
        assert d["generated"] + d["rationalized"] + d["rejected"] + d["skipped"] == d["samples"]
        assert d["attempts"] == len(read_rows(out)) and d["new"] == d["samples"] and not d["interrupted"]
        assert d["chunks_total"] == 3 and d["chunks_done_before"] == 0
        on_disk = json.loads((out / "summary-00000.json").read_text("utf-8"))
        assert {k: v for k, v in on_disk.items() if k not in ("seconds", "model_busy_share")} == \
            {k: v for k, v in d.items() if k not in ("seconds", "model_busy_share")}

    def test_missing_and_unreadable_videos_are_counted(self, engine_factory: Callable[[], Engine],
                                                       config: Callable[[], GenerationConfig],
                                                       tmp_path: Path) -> None:
        out = tmp_path / "run"
        summary = engine_factory().run(config(), out)
        assert summary.missing == 1                      # annotated, no video file: never a sample
        assert sum(summary.skipped.values()) == 1        # a file that does not decode: a skip row
        skips = read_rows(out, "skipped")
        assert [s["id"] for s in skips] == ["garbage_clip"]
        assert skips[0]["reason"] in summary.skipped
        assert "garbage_clip" not in {r["id"] for r in read_rows(out)}
