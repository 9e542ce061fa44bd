"""The demo tests' runs start as soon as collection ends and run beside the rest of the suite
(their tests are moved to the end and only collect the results): the README demo takes about
7 minutes on one core, and the suite leaves the other core mostly idle. Each run is a fresh
process, as a user runs it; the repeat test checks the numbers stay the same under that load."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

DEMO_FILE = "test_demo.py"
FULL_TEST = "test_demo_cycles_compound_and_leave_a_report"
REPEAT_TEST = "test_two_demos_give_the_same_numbers_to_the_last_cycle_and_the_final"

# A smaller world for the repeat (same code path: render, warm start, every cycle, the final
# release); the compounding claims are checked on the full README run.
QUICK = "clips=96, warm_start_steps=120, train_steps=80"


def _start(args: list[str], log: Path) -> subprocess.Popen:
    """A fresh interpreter whose output goes to LOG (a pipe nobody reads for minutes would fill
    and stall it)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as sink:
        return subprocess.Popen([sys.executable, *args], stdout=sink, stderr=subprocess.STDOUT,
                                env={**os.environ, "COLUMNS": "200"})


class DemoRuns:
    """The README demo (`vstar-data demo --out OUT`) and two quick demos under a short and a
    longer --out, each started only when the test that reads it was selected."""

    def __init__(self, root: Path, full: bool, repeat: bool) -> None:
        self.root = root
        self.full_out = root / "full" / "demo"
        self.short = root / "quick" / "a"
        self.long = root / "quick" / "a-much-longer-output-folder" / "for-the-second-demo"
        self.full: subprocess.Popen | None = None
        self.quick: list[subprocess.Popen] = []
        if full:
            self.full = _start(["-m", "vstar_data.cli", "demo", "--out", str(self.full_out)],
                               Path(f"{self.full_out}.log"))
        if repeat:
            code = (f"import sys; from vstar_data.cycle.demo import run_demo; "
                    f"run_demo(sys.argv[1], {QUICK}, echo=lambda m: None)")
            self.quick = [_start(["-c", code, str(out)], Path(f"{out}.log")) for out in (self.short, self.long)]

    def full_output(self, timeout: float = 1500) -> str:
        """The README demo's output once it has exited 0."""
        if self.full is None:
            self.full = _start(["-m", "vstar_data.cli", "demo", "--out", str(self.full_out)],
                               Path(f"{self.full_out}.log"))
        self.full.wait(timeout=timeout)
        text = Path(f"{self.full_out}.log").read_text(errors="replace")
        assert self.full.returncode == 0, text[-8000:]
        return text

    def quick_outputs(self, timeout: float = 1500) -> tuple[Path, Path]:
        """The two quick demos' output folders once both have exited 0."""
        if not self.quick:
            self.__init__(self.root, full=False, repeat=True)
        for proc, out in zip(self.quick, (self.short, self.long)):
            proc.wait(timeout=timeout)
            assert proc.returncode == 0, Path(f"{out}.log").read_text(errors="replace")[-4000:]
        return self.short, self.long

    def close(self) -> None:
        for proc in [p for p in [self.full, *self.quick] if p is not None]:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


RUNS = pytest.StashKey[DemoRuns]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    demo = [i for i in items if i.path.name == DEMO_FILE]
    if demo:
        items[:] = [i for i in items if i.path.name != DEMO_FILE] + demo


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.config.option.collectonly:
        return
    names = {i.originalname for i in session.items if i.path.name == DEMO_FILE}
    if names & {FULL_TEST, REPEAT_TEST}:
        root = Path(tempfile.mkdtemp(prefix="vstar-demo-tests-"))
        session.config.stash[RUNS] = DemoRuns(root, full=FULL_TEST in names, repeat=REPEAT_TEST in names)


def pytest_sessionfinish(session: pytest.Session) -> None:
    runs = session.config.stash.get(RUNS, None)
    if runs is not None:
        runs.close()


@pytest.fixture(scope="session")
def demo_runs(request: pytest.FixtureRequest) -> DemoRuns:
    runs = request.config.stash.get(RUNS, None)
    if runs is None:   # selected in a way collection did not see: start them now
        runs = DemoRuns(Path(tempfile.mkdtemp(prefix="vstar-demo-tests-")), full=False, repeat=False)
        request.config.stash[RUNS] = runs
    return runs
