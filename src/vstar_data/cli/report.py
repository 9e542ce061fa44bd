"""CLI: `report`, the static HTML page of a run directory (what `build` and `demo` write at the end),
or of two runs side by side (`report RUN_A RUN_B`)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import app
from ._common import console, print_counts


def write_report(run_dir: Path, out: Optional[Path] = None, *, per_kind: int = 4) -> Path:
    """Write the report and print its summary (shared by `report`, `build` and `demo`)."""
    from ..cycle.report import build_report

    s = build_report(run_dir, out, per_kind=per_kind)
    counts: dict[str, object] = {"cycles": s.cycles, "rows shown with their frames": s.rows_shown - len(s.frames_missing),
                                 "hint-echo rejections": s.hint_echo, "size": f"{s.size_bytes / 1e6:.2f} MB"}
    if s.frames_missing:
        counts["rows shown without frames"] = f"{len(s.frames_missing)} (e.g. {s.frames_missing[0]})"
    print_counts(f"report -> {s.path}", counts)
    return s.path


@app.command("report")
def report_cmd(
    run_dir: Path = typer.Argument(..., help="Run directory of `vstar-data build` or `demo` (holds stats.json)."),
    other: Optional[Path] = typer.Argument(None, help="A second run directory: write one page comparing the two runs' curves side by side instead (e.g. vstar-demo/run vstar-demo/run-grpo)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="HTML file to write (default RUN_DIR/report.html; with two runs compare-A-B.html beside RUN_DIR)."),
    per_kind: int = typer.Option(4, "--rows", min=0, help="Rows shown per cycle for each of accepted, rationalized, rejected."),
) -> None:
    """Write one self-contained HTML page about a run: yield and held-out accuracy per cycle
    (plots), per-label-type tables, sample rows per cycle with the frames the model saw and the
    verifier's matches marked in the answer, hint-echo rejections, the run config and the store's
    tags. Images are embedded; the file needs no server and no network.

    With two run directories: one page with both runs' held-out accuracy and direct-answer yield per
    cycle on shared axes, and a per-cycle table (accuracy before / after, yield, GRPO reward, seconds)
    with each run's final release; the table is also printed.

    Example: vstar-data report vstar-demo/run --out report.html
    Example: vstar-data report vstar-demo/run vstar-demo/run-grpo
    """
    if other is not None:
        _compare(run_dir, other, out)
        return
    path = write_report(run_dir, out, per_kind=per_kind)
    console().print(f"open {path} in a browser (self-contained, works offline)", markup=False, highlight=False)


def _compare(run_a: Path, run_b: Path, out: Optional[Path]) -> None:
    from rich.table import Table

    from ..cycle.compare import compare_runs

    cmp = compare_runs(run_a, run_b, out)
    letters = "AB"
    for letter, r in zip(letters, cmp.runs):
        console().print(f"{letter}: {r['path']} ({r['method']}, {r['seconds']} s in cycles)", markup=False,
                        highlight=False)
    table = Table("cycle", *[f"{x} {h}" for x in letters for h in ("acc.", "yield", "reward", "s")],
                  title="two runs side by side (acc. = held-out accuracy of the model trained in the cycle; "
                  "reward = GRPO mean reward / groups rewarded)", title_justify="left")
    for row in cmp.rows:
        table.add_row(str(row["cycle"]), *[c[k] for c in row["cells"] for k in ("after", "yield", "reward", "seconds")])
    table.add_row("final", *[x for r in cmp.runs for x in (r["final"], "", "", "")])
    console().print(table)
    console().print(f"comparison -> {cmp.path}", markup=False, highlight=False)
