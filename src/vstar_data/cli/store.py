"""CLI: publish accepted rows as a versioned dataset (`push`), list and materialise releases
(`revisions`, `checkout`), and write training files (`export`)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import app
from ._common import console


def _extra_files(specs: list[str]) -> dict[str, Path]:
    """--extra-file values: PATH (shipped under its file name) or NAME=PATH (under NAME, which may
    hold folders, e.g. eval/...); the store checks each name (nothing outside the release, nothing
    that shadows its data)."""
    from ..errors import ConfigError

    out: dict[str, Path] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep:
            name, path = Path(spec).name, spec
        if not name or not path:
            raise ConfigError(f"--extra-file {spec!r}: give PATH or NAME=PATH", key="--extra-file")
        if name in out:
            raise ConfigError(f"--extra-file: two files would be shipped as {name!r}", key="--extra-file")
        out[name] = Path(path)
    return out


@app.command("push")
def push_cmd(
    rows_dir: Optional[Path] = typer.Argument(None, help="Folder of attempt-row JSONL shards (*.jsonl, subfolders included), as `generate` writes them. May be omitted with --onto (drop sources, or roll back)."),
    store: Path = typer.Option(Path("vstar-1m"), "--store", help="Local store folder (a git repository; created if new or empty)."),
    tag: str = typer.Option(..., "--tag", "-t", help="Release tag, e.g. v0.1.0 or cycle-2."),
    message: str = typer.Option(..., "--message", "-m", help="Release message (commit message and tag annotation)."),
    hub_repo: Optional[str] = typer.Option(None, "--hub-repo", help="Also push this release to the Hub dataset repo ORG/NAME (HF_ENDPOINT and HF_TOKEN are honoured)."),
    force: bool = typer.Option(False, "--force", help="Move TAG to this release if it already exists (locally and on the Hub)."),
    extra_file: list[str] = typer.Option([], "--extra-file", help="Ship a file next to the data under its own name, e.g. stats.json or run.yaml, or under NAME with NAME=PATH, e.g. eval/00-kinetics700.parquet=heldout.parquet (the release's `eval` config: held-out questions and labels) (repeatable)."),
    private: Optional[bool] = typer.Option(None, "--private/--public", help="Visibility of a Hub repo this push creates."),
    variants: Optional[str] = typer.Option(None, "--variants", help="Publish each accepted answer as the released code's row variants instead of one row: `all`, or a comma list of cot (question + a step-by-step request, the answer), direct (the label stated plainly), mc (lettered options with three distractors from the same source; the answer is the letter). Marked in the `variant` column."),
    variant_seed: int = typer.Option(0, "--variant-seed", help="Seed of the variants' choices (suffix, distractors, order, option style)."),
    onto: Optional[str] = typer.Option(None, "--onto", help="Build on release BASE_TAG: its configs stay (shards byte for byte), ROWS_DIR's sources are added or replace the config of the same name; its eval files, stats.json, run.yaml and history carry over unless this push brings its own. Without ROWS_DIR and --drop-source: republish BASE_TAG as the newest release (roll back)."),
    drop_source: list[str] = typer.Option([], "--drop-source", help="With --onto: leave this source's config out of the new release (repeatable)."),
    drop_invalid: bool = typer.Option(False, "--drop-invalid", help="With --onto: leave out (and count) base rows that today's schema refuses, e.g. non-finite numbers, instead of stopping."),
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

    extras = _extra_files(extra_file)
    problems = [f"{p}: {why}" for p in extras.values() for why in [file_problem(p)] if why]
    if problems:
        raise ConfigError("--extra-file must name existing regular files", problems=problems, key="--extra-file")
    result = publish(rows_dir, store, tag, message, hub_repo=hub_repo, force=force, hub_private=private,
                     extra_files=extras,
                     variants=VariantOptions.parse(variants, variant_seed), onto=onto,
                     drop_sources=drop_source, drop_invalid=drop_invalid, allow_leakage=allow_leakage)
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
    if result.onto:
        out.print(f"built on {result.onto}: kept byte for byte {', '.join(result.kept) or 'none'}")
        for config, n in sorted(result.migrated.items()):
            out.print(f"{n:,} rows of {config} migrated to today's row schema")
        for config, n in sorted(result.dropped_invalid.items()):
            out.print(f"{n:,} rows of {config} that today's schema refuses left out (--drop-invalid)")
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
    video_root: Optional[str] = typer.Option(None, "--video-root", help="Folder (or fsspec URL: s3://, https://...; then the clips' URLs are written) the rows' video paths are relative to; written paths become VIDEO_ROOT/path (absolute when VIDEO_ROOT is), and every clip is checked (missing ones skipped and counted). Needed by every format except llava and jsonl."),
    exclude_rationalized: bool = typer.Option(False, "--exclude-rationalized", help="Keep direct answers only (the paper trains its final model on those)."),
    config: str = typer.Option("default", "--config", "-c", help="Config (a source name, or `default` for all)."),
    split: list[str] = typer.Option([], "--split", "-s", help="Only these splits (repeatable; default: all). lmms-eval: the one held-out split (default: the first of eval, test, validation, validate, val)."),
    num_frames: int = typer.Option(8, "--num-frames", help="trl / grpo: frames sampled per clip (written once per clip)."),
    frame_size: Optional[int] = typer.Option(None, "--frame-size", help="trl / grpo: short side of the written frames in pixels (default: as decoded)."),
    task_name: Optional[str] = typer.Option(None, "--task-name", help="lmms-eval: the task name (default vstar_<split>)."),
    answer_format: str = typer.Option("plain", "--answer-format", help="grpo: plain (the question as asked) or think (the prompt asks for <think>...</think> <answer>...</answer>; the rewards score the <answer> part)."),
) -> None:
    """Write training or evaluation files from a published dataset folder, in a consumer's own format.

    Example: vstar-data export vstar-1m --format llamafactory --video-root /data/videos --out lf/
    """
    from ..dataset.export import export

    report = export(dataset_dir, out, fmt, config=config, splits=split or None,
                    exclude_rationalized=exclude_rationalized, video_root=video_root, num_frames=num_frames,
                    frame_size=frame_size, task_name=task_name, answer_format=answer_format)
    console().print(report.summary(), markup=False, highlight=False)


@app.command("diff")
def diff_cmd(
    a: str = typer.Argument(..., help="Older release tag."),
    b: str = typer.Argument(..., help="Newer release tag."),
    store: Path = typer.Option(Path("vstar-1m"), "--store", help="Local store folder."),
    config: Optional[str] = typer.Option(None, "--config", "-c", help="Only this config (a source, or eval)."),
    show: int = typer.Option(3, "--show", help="Examples (ids) of each kind of change per config and split."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document on stdout."),
) -> None:
    """Rows added, removed and changed (same id and variant; answer, labels or origin differ) from
    release A to release B, per config and split. Configs whose shards are the same files are not read.

    Example: vstar-data diff cycle-1 cycle-2 --store vstar-1m --show 5
    """
    import json
    import sys

    from ..dataset.diff import diff_releases, render

    doc = diff_releases(store, a, b, config=config, show=show)
    if as_json:
        sys.stdout.write(json.dumps(doc, indent=1) + "\n")
    else:
        console().print(render(doc), markup=False, highlight=False)
