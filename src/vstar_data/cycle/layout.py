"""Where everything of one self-training run lives: the one description of a run directory.

    RUN_DIR/
      run.yaml  sources.json  stats.json  yield_per_cycle.png  report.html  .vstar-build.lock
      cycle-N/                        one per cycle; `final/` has the same shape
        generate/NN-<adapter>/        generation runs (attempts/, skipped/, retired/, chunks/, run.json)
        eval-initial/ eval/           held-out generation runs, eval-initial.json / eval.json markers
        published.json  train.json  mix.json  checkpoint/  stats.json (the cycle's finished marker)
        grpo_prompts.json             training.method grpo: every sample's prompt + labels

The runner, the final release and the report all ask this object for paths, and it asks
generation/attempts.py (the one rule) which files of a generation run hold attempt rows.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..generation.attempts import read_attempts

FINAL = "final"


class RunLayout:
    """Paths of a run directory (`root`); creating the object touches nothing on disk."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.run_yaml = self.root / "run.yaml"         # the merged run config
        self.sources_json = self.root / "sources.json"  # resolved video folders (for `vstar-data report`)
        self.stats = self.root / "stats.json"
        self.plot = self.root / "yield_per_cycle.png"
        self.report = self.root / "report.html"
        self.lock = self.root / ".vstar-build.lock"    # held by the `build` running here (procs.exclusive_lock)

    def __repr__(self) -> str:
        return f"RunLayout({str(self.root)!r})"

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
    def mix_record(stage: Path) -> Path:
        """What `training.mix` added to train.json (rows per source, short, skipped)."""
        return stage / "mix.json"

    @staticmethod
    def grpo_prompts(stage: Path) -> Path:
        return stage / "grpo_prompts.json"

    @staticmethod
    def checkpoint(stage: Path) -> Path:
        return stage / "checkpoint"

    # -- rows ------------------------------------------------------------------------------------
    @staticmethod
    def read_rows(gen_dir: Path) -> tuple[list[dict[str, Any]], int]:
        """(attempt rows, skipped samples) of a generation folder; empty when it does not exist."""
        return read_attempts(gen_dir)
