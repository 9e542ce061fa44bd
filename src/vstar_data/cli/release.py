"""CLI: check a published release (`validate`) and re-check its answers with today's verifier
(`reverify`), publishing the rows that still pass as a new tag."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import app
from ._common import console, read_vocabulary


@app.command("validate", epilog="Checks: every shard against the row schema; ids unique within (config, "
             "variant); `default` = the union of the source configs; the card's row counts = the data; "
             "every video under --video-root (when given); no clip of the `eval` config (same video, "
             "overlapping window; no window = the whole video) in any training row.")
def validate_cmd(
    store: Path = typer.Option(Path("vstar-1m"), "--store", help="Store folder (or a `checkout` folder, without --tag)."),
    tag: Optional[str] = typer.Option(None, "--tag", "-t", help="Release to check (default: the one checked out in the folder)."),
    video_root: Optional[str] = typer.Option(None, "--video-root", help="Folder (or fsspec URL: s3://, https://...) the rows' video paths are relative to: every video must be there."),
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


@app.command("reverify")
def reverify_cmd(
    store: Path = typer.Option(Path("vstar-1m"), "--store", help="Local store folder."),
    from_tag: str = typer.Option(..., "--from", help="Release to re-verify (see `vstar-data revisions`)."),
    tag: str = typer.Option(..., "--tag", "-t", help="Tag of the new release."),
    message: str = typer.Option(..., "--message", "-m", help="Release message."),
    profile: str = typer.Option("default", "--profile", "-p", help="Verifier profile: paper, code, default, or a YAML profile file."),
    vocabulary: Optional[Path] = typer.Option(None, "--vocabulary", metavar="CLASSES.txt", help="The class list (one per line) of the source named by --config."),
    config: Optional[str] = typer.Option(None, "--config", "-c", help="Re-verify only this config (source); the others keep their files."),
    force: bool = typer.Option(False, "--force", help="Move TAG if it already exists."),
) -> None:
    """Re-check every published answer of release FROM against its labels with today's verifier
    (no model needed) and publish the rows it still accepts as release TAG. Rejected samples leave
    with all their row variants; `reverify/TAG.jsonl` in the release names each with its reason
    and the clause that failed.

    Example: vstar-data reverify --store vstar-1m --from cycle-2 --tag cycle-2-rv -m "verifier v3"
    """
    from ..dataset.reverify import reverify

    vocab = read_vocabulary(vocabulary)
    r = reverify(store, from_tag, tag, message, profile=profile, vocabulary=vocab, config=config, force=force)
    out = console()
    if r.already_published:
        out.print(f"{tag} already holds this re-verification; nothing new to commit", markup=False)
    out.print(f"re-verified {r.checked:,} answers of {from_tag} under profile {r.profile}: "
              f"{sum(r.rejected.values()):,} rejected ({r.rows_removed:,} rows removed)", markup=False)
    for reason, n in sorted(r.rejected.items()):
        out.print(f"  rejected ({reason}): {n:,}", markup=False)
    if r.unchecked:
        out.print(f"{r.unchecked:,} samples published only as direct/mc rows: kept unchecked", markup=False)
    out.print(f"removed rows and reasons: {r.sidecar}\ncommit {r.commit}\ntag    {tag}", markup=False)
