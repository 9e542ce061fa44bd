"""CLI: check a published release (`validate`) and re-check its answers with today's verifier
(`reverify`), publishing the rows that still pass as a new tag."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import app
from ._common import console


@app.command("validate", epilog="Checks: every shard against the row schema; ids unique within (config, "
             "variant); `default` = the union of the source configs; the card's row counts = the data; "
             "every video under --video-root (when given); no clip of the `eval` config (same video, "
             "overlapping window; no window = the whole video) in any training row.")
def validate_cmd(
    store: Path = typer.Option(Path("vstar-1m"), "--store", help="Store folder (or a `checkout` folder, without --tag)."),
    tag: Optional[str] = typer.Option(None, "--tag", "-t", help="Release to check (default: the one checked out in the folder)."),
    video_root: Optional[Path] = typer.Option(None, "--video-root", help="Folder the rows' video paths are relative to: every video must be there."),
) -> None:
    """Check a published release and print every problem, located (config, shard, row id); exit 0
    when valid, 2 when not.

    Example: vstar-data validate --store vstar-1m --tag cycle-2 --video-root /data/videos
    """
    from ..dataset.validate import validate_release
    from ..errors import ConfigError

    report = validate_release(store, tag, video_root)
    what = f"{store}" + (f" @ {tag}" if tag else "")
    if report.problems:
        raise ConfigError(f"release {what} is not valid ({len(report.problems)} problem(s))",
                          problems=report.problems, file=store)
    rows = ", ".join(f"{c}={n:,}" for c, n in sorted(report.rows.items()))
    console().print(f"{what}: valid ({rows}); no held-out leakage", markup=False, highlight=False)
