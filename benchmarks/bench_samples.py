"""Benchmark `vstar-data samples`: wall time and rows/s on the full Kinetics-700 validation list.

Stages are timed cumulatively in-process (read the CSV -> + split/label validation -> + question
choice -> + JSON Lines written = the whole pipeline), then the command itself in-process
(typer CliRunner) and as a subprocess (interpreter start and imports included). Best of
--repeat runs. The budget is 10 s for the subprocess on a 2-core machine.

    .venv/bin/python benchmarks/bench_samples.py [--annotations validate.csv] [--repeat 3] [--tal]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("VSTAR_FIXTURES", ROOT.parent / "shared" / "fixtures"))
DEFAULT_CSV = FIXTURES / "annotations" / "kinetics700" / "validate.csv"


def best_of(repeat: int, fn: Callable[[], int]) -> tuple[float, int]:
    """(fastest wall seconds, rows) over `repeat` runs of `fn` (which returns its row count)."""
    best, rows = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        rows = fn()
        best = min(best, time.perf_counter() - t0)
    return best, rows


def stages(adapter: str, annotations: Path, out: Path, options: dict[str, str]) -> dict[str, Callable[[], int]]:
    from vstar_data.sources.adapter import load_adapter
    from vstar_data.jsonl import atomic_writer, dumps
    from vstar_data.sources.prompts import prompted_samples
    from vstar_data.sources.templates import TemplateIndex

    cls = load_adapter(adapter)

    def read_only() -> int:
        ad = cls(annotations, options=options)
        return sum(1 for _ in ad.read(ad.annotations))

    def validated() -> int:
        return sum(1 for _ in cls(annotations, options=options).samples())

    def prompted() -> int:
        return sum(1 for _ in prompted_samples(cls(annotations, options=options), TemplateIndex()))

    def written() -> int:
        n = 0
        with atomic_writer(out) as fh:
            for ps in prompted_samples(cls(annotations, options=options), TemplateIndex()):
                fh.write(dumps(ps.to_dict()) + "\n")
                n += 1
        return n

    return {"read (adapter.read)": read_only, "+ split/labels (samples)": validated,
            "+ questions (prompted)": prompted, "+ JSONL written (pipeline)": written}


def cli_args(adapter: str, annotations: Path, out: Path, options: dict[str, str]) -> list[str]:
    args = ["samples", adapter, "--annotations", str(annotations), "--out", str(out)]
    for key, value in options.items():
        args += ["--option", f"{key}={value}"]
    return args


def count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for _ in fh)


def bench(adapter: str, annotations: Path, repeat: int, options: dict[str, str]) -> list[tuple[str, float, int]]:
    from typer.testing import CliRunner

    from vstar_data.cli import app

    tmp = Path(tempfile.mkdtemp(prefix="bench_samples_"))
    out = tmp / "s.jsonl"
    results = [(name, *best_of(repeat, fn)) for name, fn in stages(adapter, annotations, out, options).items()]

    runner = CliRunner()

    def in_process() -> int:
        result = runner.invoke(app, cli_args(adapter, annotations, out, options))
        if result.exit_code:
            raise SystemExit(f"samples failed: {result.output}{result.exception or ''}")
        return count_lines(out)

    results.append(("CLI in-process (CliRunner)", *best_of(repeat, in_process)))
    exe = Path(sys.executable).with_name("vstar-data")
    command = [str(exe)] if exe.exists() else [sys.executable, "-c", "from vstar_data.cli import main; main()"]

    def subprocess_run() -> int:
        subprocess.run(command + cli_args(adapter, annotations, out, options), check=True,
                       stdout=subprocess.DEVNULL)
        return count_lines(out)

    results.append(("CLI subprocess (vstar-data)", *best_of(repeat, subprocess_run)))
    shutil.rmtree(tmp, ignore_errors=True)
    return results


def print_table(title: str, results: list[tuple[str, float, int]]) -> None:
    print(f"\n{title}")
    print(f"{'stage':<30} {'rows':>8} {'wall s':>8} {'rows/s':>10}")
    print("-" * 59)
    for name, secs, rows in results:
        print(f"{name:<30} {rows:>8,} {secs:>8.3f} {rows / secs:>10,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotations", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tal", action="store_true", help="also time the tal adapter on THUMOS14 (both CSVs, window=30)")
    args = parser.parse_args()
    if not args.annotations.exists():
        raise SystemExit(f"{args.annotations} not found (set VSTAR_FIXTURES to the shared fixtures folder)")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, best of {args.repeat}")
    results = bench("kinetics700", args.annotations, args.repeat, {})
    print_table(f"kinetics700: {args.annotations}", results)
    if results[-1][1] >= 10:
        print(f"WARNING: the command took {results[-1][1]:.1f} s, over the 10 s budget")
    thumos = FIXTURES / "annotations" / "thumos14"
    if args.tal and thumos.exists():
        print_table(f"tal (window=30): {thumos}", bench("tal", thumos, args.repeat, {"window": "30"}))


if __name__ == "__main__":
    main()
