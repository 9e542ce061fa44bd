"""Where everything of one self-training run lives: the one description of a run directory.

    RUN_DIR/
      run.yaml  sources.json  stats.json  yield_per_cycle.png  report.html
      cycle-N/                        one per cycle; `final/` has the same shape
        generate/NN-<adapter>/        generation runs (attempts/, skipped/, retired/, chunks/, run.json)
        eval-initial/ eval/           held-out generation runs, eval-initial.json / eval.json markers
        published.json  train.json  checkpoint/  stats.json (the cycle's finished marker)

The runner, the final release and the report all ask this object for paths, and it asks
generation/attempts.py (the one rule) which files of a generation run hold attempt rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..generation.attempts import attempt_files, read_attempts

FINAL = "final"


@dataclass(frozen=True)
class RunLayout:
    """Paths of a run directory (`root`); creating the object touches nothing on disk."""

    root: Path

    # -- run-level files -------------------------------------------------------------------------
    @property
    def run_yaml(self) -> Path:
        return self.root / "run.yaml"

    @property
    def sources_json(self) -> Path:
        """Resolved video folders per stage and source folder (for `vstar-data report`)."""
        return self.root / "sources.json"

    @property
    def stats(self) -> Path:
        return self.root / "stats.json"

    @property
    def plot(self) -> Path:
        return self.root / "yield_per_cycle.png"

    @property
    def report(self) -> Path:
        return self.root / "report.html"

    # -- stages: cycle-N/ and final/ ------------------------------------------------------------
    def cycle(self, n: int) -> Path:
        return self.root / f"cycle-{n}"

    @property
    def final(self) -> Path:
        return self.root / FINAL

    @staticmethod
    def generate_dir(stage: Path) -> Path:
        """The generation runs of a stage folder (a cycle or final)."""
        return stage / "generate"

    @staticmethod
    def source_dir(parent: Path, index: int, adapter: str) -> Path:
        """One source's generation run under `parent`: `NN-<adapter file stem>`."""
        return parent / f"{index:02d}-{Path(adapter).stem}"

    @staticmethod
    def marker(stage: Path, name: str) -> Path:
        """A stage's JSON marker (`stats`, `published`, `eval`, `eval-initial`): written when that
        step finished, read instead of redoing it."""
        return stage / f"{name}.json"

    @staticmethod
    def train_rows(stage: Path) -> Path:
        return stage / "train.json"

    @staticmethod
    def checkpoint(stage: Path) -> Path:
        return stage / "checkpoint"

    # -- rows ------------------------------------------------------------------------------------
    @staticmethod
    def attempt_files(gen_dir: Path) -> list[Path]:
        """The files holding attempt rows under a generation folder (generation/attempts.py's rule)."""
        return attempt_files(gen_dir, missing_ok=True)

    @staticmethod
    def read_rows(gen_dir: Path) -> tuple[list[dict[str, Any]], int]:
        """(attempt rows, skipped samples) of a generation folder; empty when it does not exist."""
        return read_attempts(gen_dir)
