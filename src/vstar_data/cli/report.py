"""CLI: `report`, the static HTML page of a run directory (what `build` and `demo` write at the end)."""
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
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="HTML file to write (default RUN_DIR/report.html)."),
    per_kind: int = typer.Option(4, "--rows", min=0, help="Rows shown per cycle for each of accepted, rationalized, rejected."),
) -> None:
    """Write one self-contained HTML page about a run: yield and held-out accuracy per cycle
    (plots), per-label-type tables, sample rows per cycle with the frames the model saw and the
    verifier's matches marked in the answer, hint-echo rejections, the run config and the store's
    tags. Images are embedded; the file needs no server and no network.

    Example: vstar-data report vstar-demo/run --out report.html
    """
    path = write_report(run_dir, out, per_kind=per_kind)
    console().print(f"open {path} in a browser (self-contained, works offline)", markup=False, highlight=False)
