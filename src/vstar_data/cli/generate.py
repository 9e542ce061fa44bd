"""CLI: one cycle's answer generation + label rationalization for any adapter."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import app
from ._common import console, print_counts


@app.command("generate")
def generate_cmd(
    adapter: str = typer.Argument(..., help="Adapter name or path to an adapter .py file."),
    annotations: Path = typer.Option(..., "--annotations", "-a", help="Annotation file or folder."),
    videos: Optional[str] = typer.Option(None, "--videos", "-v", help="Video folder, or an fsspec URL of one "
                                         "(s3://bucket/clips, gs://..., https://host/clips/; read through "
                                         "--videos-cache). Required unless --dry-run."),
    videos_cache: Optional[Path] = typer.Option(None, "--videos-cache", help="Folder for local copies of clips "
                                                 "read from a video URL (default ~/.cache/vstar-data/videos)."),
    videos_cache_gb: Optional[float] = typer.Option(None, "--videos-cache-gb", min=0.001, help="Bound on that "
                                                    "folder in GB (default 20; least recently used clips go first)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory: attempts/, skipped/, run.json, summary."),
    backend: Optional[str] = typer.Option(None, help="Backend: transformers, template (no model: the "
                                          "label-echo baseline; its clips are probed, not decoded: each must "
                                          "open, hold a video stream and decode one frame, and no frames are "
                                          "sampled, so --num-frames and --frame-size do not apply), or a "
                                          "plugin. Default: transformers when --model is given, else template."),
    model: Optional[str] = typer.Option(None, help="Model directory or Hub id (model backends only)."),
    batch_size: int = typer.Option(8, "--batch-size", "-b", min=1, help="Requests per model call."),
    num_frames: int = typer.Option(8, "--num-frames", min=1, help="Frames sampled per clip (model backends)."),
    frame_size: int = typer.Option(336, "--frame-size", min=16, help="Short side of decoded frames (pixels; "
                                   "model backends)."),
    time_instruction: str = typer.Option("auto", "--time-instruction", help="State the frames' times before the "
                                         "question: auto (interval/timestamp labels, when the model is not "
                                         "given them otherwise), always or never."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1, help="Use the first N samples."),
    split: Optional[str] = typer.Option(None, "--split", "-s", help="Keep one split."),
    cycle: int = typer.Option(0, help="Self-training cycle number recorded with every row."),
    profile: str = typer.Option("default", help="Verifier profile (paper, code, default) or a YAML file."),
    max_new_tokens: int = typer.Option(256, help="Generation length limit."),
    temperature: float = typer.Option(0.0, help="0 = greedy; the paper samples at 0.2."),
    seed: int = typer.Option(0, help="Seed for question choice and sampling."),
    no_rationalize: bool = typer.Option(False, "--no-rationalize", help="Skip label rationalization (ablation)."),
    decode_workers: int = typer.Option(2, help="Threads decoding the next batch while the model runs."),
    num_shards: int = typer.Option(1, min=1, help="Split the run into K deterministic shards ..."),
    shard_index: int = typer.Option(0, min=0, help="... and run shard I (shards may share --out)."),
    option: list[str] = typer.Option([], "--option", help="Adapter option KEY=VALUE (repeatable)."),
    backend_option: list[str] = typer.Option([], "--backend-option", help="Backend option KEY=VALUE (repeatable; values are YAML: 8, true, png)."),
    templates: list[Path] = typer.Option([], "--templates", help="Extra template folder(s)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the first rendered prompts and exit."),
    engine: str = typer.Option("local", "--engine", help="local (this process) or ray (a Ray cluster: --ray-address)."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="Ray cluster for --engine ray (default: "
                                              "RAY_ADDRESS, a `ray start` cluster here, else a new local one)."),
) -> None:
    """Answer every sample's question with a video model, verify the answer against the labels,
    and rationalize failures (label given as a hint, verified again). Every attempt is written to
    OUT/attempts/*.jsonl with its provenance; re-running the same command resumes.

    Example: vstar-data generate kinetics700 -a local_clips.csv -v videos/ --model ./tiny-qwen2-vl
    --out runs/c0
    """
    import yaml

    from .data import _parse_options
    from ..config import SourceConfig, cli_run_config
    from ..generation.engines import make_engine
    from ..generation.pipeline import GenerationConfig, prepare, render_dry_run

    backend = backend or ("transformers" if model else "template")   # a user who names a model means it
    backend_options = {}
    for key, value in _parse_options(backend_option).items():
        try:
            backend_options[key] = yaml.safe_load(value)
        except yaml.YAMLError as exc:   # e.g. a tag: `!!python/object` is refused by safe_load
            from ..errors import ConfigError

            raise ConfigError(f"value {value!r} is not plain YAML (a number, true/false, text, a list): "
                              f"{' '.join(str(exc).split())}", key=f"--backend-option {key}") from None
    source = SourceConfig(adapter=adapter, annotations=str(annotations), videos=str(videos) if videos else None,
                          split=split, limit=limit, options=_parse_options(option))
    rc = cli_run_config(source, backend={
        "name": backend, "batch_size": batch_size, "max_new_tokens": max_new_tokens, "temperature": temperature,
        "decode_workers": decode_workers,
        "options": backend_options},
        frames={"num_frames": num_frames, "size": frame_size, "time_instruction": time_instruction},
        templates=[str(t) for t in templates],
        seed=seed, profile=profile, model=model,
        videos_cache={"dir": str(videos_cache) if videos_cache else None, "max_gb": videos_cache_gb})
    cfg = GenerationConfig.from_run_config(rc, source, model=model, cycle=cycle, rationalize=not no_rationalize,
                                           progress=True, num_shards=num_shards, shard_index=shard_index)
    prepared = prepare(cfg)
    if dry_run:
        for text in render_dry_run(prepared):
            console().print(text, markup=False)
        return
    if videos is None:
        from ..errors import ConfigError

        raise ConfigError("generate needs --videos (or use --dry-run)")
    summary = make_engine({"name": engine, "address": ray_address}).run(cfg, out, prepared=prepared)
    d = summary.to_dict()
    counts = {"annotated": d["annotated"], "videos found": d["found"], "videos missing": d["missing"],
              "samples": d["samples"], "generated (accepted directly)": d["generated"],
              "rationalized (accepted with hint)": d["rationalized"], "rejected": d["rejected"],
              **{f"skipped ({k})": v for k, v in sorted(d["skipped_by_reason"].items())},
              **{f"judge: {k}": v for k, v in sorted(d["judged"].items())},
              **{f"backend: {k.replace('_', ' ')}": v for k, v in sorted(d["backend_events"].items())},
              **{f"engine: {k.replace('_', ' ')}": v for k, v in sorted(d["engine_events"].items())},
              **{f"adapter fixed ({k})": v for k, v in sorted(d["adapter_notes"].items())},
              **({"attempts rejected only by the source's classes": d["vocabulary"]["rejected_attempts"]}
                 if d["vocabulary"]["classes"] else {}),
              "reused (unchanged, from disk)": d["reused"], "redone (changed since)": d["redone"],
              "new": d["new"], "retired stale rows (OUT/retired/, never published)": d["retired"],
              "chunks resumed from disk": d["chunks_done_before"], "seconds": d["seconds"]}
    print_counts(f"generate -> {out}" + (" (interrupted)" if d["interrupted"] else ""), counts)
