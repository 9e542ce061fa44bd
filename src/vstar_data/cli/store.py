"""CLI: publish accepted rows as a versioned dataset (`push`), list and materialise releases
(`revisions`, `checkout`), and write training files (`export`)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import app
from ._common import console


@app.command("push")
def push_cmd(
    rows_dir: Path = typer.Argument(..., help="Folder of attempt-row JSONL shards (*.jsonl, subfolders included), as `generate` writes them."),
    store: Path = typer.Option(Path("vstar-1m"), "--store", help="Local store folder (a git repository; created if new or empty)."),
    tag: str = typer.Option(..., "--tag", "-t", help="Release tag, e.g. v0.1.0 or cycle-2."),
    message: str = typer.Option(..., "--message", "-m", help="Release message (commit message and tag annotation)."),
    hub_repo: Optional[str] = typer.Option(None, "--hub-repo", help="Also push this release to the Hub dataset repo ORG/NAME (HF_ENDPOINT and HF_TOKEN are honoured)."),
    force: bool = typer.Option(False, "--force", help="Move TAG to this release if it already exists (locally and on the Hub)."),
    extra_file: list[Path] = typer.Option([], "--extra-file", help="Ship a file next to the data under its own name, e.g. stats.json or run.yaml (repeatable)."),
    private: Optional[bool] = typer.Option(None, "--private/--public", help="Visibility of a Hub repo this push creates."),
    variants: Optional[str] = typer.Option(None, "--variants", help="Publish each accepted answer as the released code's row variants instead of one row: `all`, or a comma list of cot (question + a step-by-step request, the answer), direct (the label stated plainly), mc (lettered options with three distractors from the same source; the answer is the letter). Marked in the `variant` column."),
    variant_seed: int = typer.Option(0, "--variant-seed", help="Seed of the variants' choices (suffix, distractors, order, option style)."),
    allow_leakage: bool = typer.Option(False, "--allow-leakage", help="Publish even when a training row shares a clip (same video, overlapping window) with the release's held-out `eval` config; the card says so. Without it such a release is refused, naming the clips."),
) -> None:
    """Publish the ACCEPTED rows of ROWS_DIR as release TAG of the store: one commit, one tag.

    Every row is checked against the attempt-row schema first (the first bad row and field are
    named, nothing is written). Re-running after an interruption or a failed Hub push completes it.

    Example: vstar-data push runs/cycle-0/generate --store vstar-1m --tag cycle-0 -m "cycle 0"
    """
    from rich.table import Table

    from ..dataset.store import publish
    from ..dataset.variants import VariantOptions
    from ..errors import ConfigError, file_problem

    problems = [f"{p}: {why}" for p in extra_file for why in [file_problem(p)] if why]
    if problems:
        raise ConfigError("--extra-file must name existing regular files", problems=problems, key="--extra-file")
    result = publish(rows_dir, store, tag, message, hub_repo=hub_repo, force=force, hub_private=private,
                     extra_files={p.name: p for p in extra_file},
                     variants=VariantOptions.parse(variants, variant_seed), allow_leakage=allow_leakage)
    out = console()
    if result.resumed:
        out.print(f"finished the interrupted publish of [bold]{result.resumed}[/bold] first")
    if result.already_published:
        out.print(f"{tag} already holds exactly this release; nothing new to commit")
    splits = sorted({s for c in result.counts.values() for s in c})
    table = Table("config", *splits, "total", title=f"{result.store.name} @ {tag}", title_justify="left")
    for config in ["default", *sorted(c for c in result.counts if c != "default")]:
        counts = result.counts.get(config, {})
        table.add_row(config, *(f"{counts.get(s, 0):,}" for s in splits), f"{sum(counts.values()):,}")
    out.print(table)
    if result.variants:
        out.print("row variants: " + ", ".join(f"{k} {v:,}" for k, v in sorted(result.variants.items())))
    for reason, n in sorted(result.variant_skips.items()):
        out.print(f"{n:,} accepted answers without an mc row ({reason})")
    if result.duplicates_dropped:
        out.print(f"{result.duplicates_dropped:,} extra accepted attempts of already-published samples dropped")
    out.print(f"commit {result.commit}\ntag    {tag}")
    if result.hub is not None:
        out.print(f"hub    {result.hub.repo_id} @ {tag} (commit {result.hub.commit}) {result.hub.url}")


@app.command("revisions")
def revisions_cmd(
    store: Path = typer.Option(Path("vstar-1m"), "--store", help="Local store folder."),
) -> None:
    """List the releases of a store: tag, date, commit, message and rows per config."""
    from rich.table import Table

    from ..dataset.store import revisions

    table = Table("tag", "date", "commit", "rows per config", "message")
    for rev in revisions(store):
        rows = ", ".join(f"{c}={sum(s.values()):,}" for c, s in rev.counts.items())
        table.add_row(rev.tag, rev.date, rev.commit[:12], rows, rev.message)
    console().print(table)


@app.command("checkout")
def checkout_cmd(
    tag: str = typer.Argument(..., help="Release tag (see `vstar-data revisions`)."),
    out: Path = typer.Option(..., "--out", "-o", help="New (or empty) folder to write the release to."),
    store: Path = typer.Option(Path("vstar-1m"), "--store", help="Local store folder."),
) -> None:
    """Materialise release TAG as a plain dataset folder that `load_dataset(OUT)` loads."""
    from ..dataset.store import checkout

    path = checkout(store, tag, out)
    console().print(f"{tag} -> {path}  (load with datasets.load_dataset({str(path)!r}))")


@app.command("export")
def export_cmd(
    dataset_dir: Path = typer.Argument(..., help="Published dataset folder: the store, or a `checkout` of a release."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file or folder (see --format): train.json, rows.jsonl, lf/, trl/ ..."),
    fmt: str = typer.Option("llava", "--format", "-f", help="llava | jsonl | llamafactory (folder) | swift (.jsonl) | llava-video (.json) | trl (folder) | grpo (folder) | lmms-eval (folder), or a plugin's format; see docs/exports.md."),
    video_root: Optional[str] = typer.Option(None, "--video-root", help="Folder the rows' video paths are relative to; written paths become VIDEO_ROOT/path (absolute when VIDEO_ROOT is), and every clip is checked (missing ones skipped and counted). Needed by every format except llava and jsonl."),
    exclude_rationalized: bool = typer.Option(False, "--exclude-rationalized", help="Keep direct answers only (the paper trains its final model on those)."),
    config: str = typer.Option("default", "--config", "-c", help="Config (a source name, or `default` for all)."),
    split: list[str] = typer.Option([], "--split", "-s", help="Only these splits (repeatable; default: all). lmms-eval: the one held-out split (default: the first of eval, test, validation, validate, val)."),
    num_frames: int = typer.Option(8, "--num-frames", help="trl / grpo: frames sampled per clip (written once per clip)."),
    frame_size: Optional[int] = typer.Option(None, "--frame-size", help="trl / grpo: short side of the written frames in pixels (default: as decoded)."),
    task_name: Optional[str] = typer.Option(None, "--task-name", help="lmms-eval: the task name (default vstar_<split>)."),
) -> None:
    """Write training or evaluation files from a published dataset folder, in a consumer's own format.

    Example: vstar-data export vstar-1m --format llamafactory --video-root /data/videos --out lf/
    """
    from ..dataset.export import export

    report = export(dataset_dir, out, fmt, config=config, splits=split or None,
                    exclude_rationalized=exclude_rationalized, video_root=video_root, num_frames=num_frames,
                    frame_size=frame_size, task_name=task_name)
    console().print(report.summary(), markup=False, highlight=False)
