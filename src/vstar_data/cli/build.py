"""CLI: the self-training cycle (`build`), held-out evaluation (`eval`) and the demo."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import app
from ._common import console, print_counts
from .report import write_report


def _echo(msg: str) -> None:
    console().print(msg, markup=False)


def _print_stats(stats: list[dict]) -> None:
    from rich.table import Table

    table = Table("cycle", "samples", "direct", "rational.", "rejected", "skipped", "loss",
                  "acc. before", "acc. after", "s", title="self-training cycles (acc. = held-out accuracy "
                  "of the generating model / of the model trained this cycle)", title_justify="left")

    def pct(ev: dict | None) -> str:
        return "-" if not ev or ev.get("accuracy") is None else f"{ev['accuracy']:.0%}"

    for s in stats:
        table.add_row(str(s["cycle"]), str(s["samples"]), str(s["generated"]), str(s["rationalized"]),
                      str(s["rejected"]), str(s["skipped"]),
                      "-" if s.get("train_loss") is None else f"{s['train_loss']:.3f}",
                      pct(s.get("eval_generator")), pct(s.get("eval")), f"{s.get('seconds', 0):.0f}")
    console().print(table)


@app.command("build")
def build_cmd(
    config: Path = typer.Option(..., "--config", "-c", help="Run config YAML (see docs/run-config.md)."),
    max_cycles: Optional[int] = typer.Option(None, "--cycles", min=1, help="Override cycles.max."),
) -> None:
    """Run the Video-STaR cycle: generate -> verify -> rationalize -> publish tag cycle-N -> train
    from the pre-trained checkpoint -> evaluate, until the yield plateaus. Re-running the same
    command after a crash continues where it stopped.
    """
    from ..config import load_run_config
    from ..cycle.runner import CycleRunner

    overrides = {"cycles": {"max": max_cycles}} if max_cycles else None
    rc = load_run_config(config, overrides)
    stats = CycleRunner(rc, echo=_echo).run()
    _print_stats(stats)
    report = write_report(rc.run_dir)
    _echo(f"run directory: {rc.run_dir} (stats.json, yield_per_cycle.png, cycle-*/checkpoint); "
          f"store: {rc.store['path']}; report: {report}")


@app.command("eval")
def eval_cmd(
    adapter: str = typer.Argument(..., help="Adapter name or .py path."),
    annotations: Path = typer.Option(..., "--annotations", "-a", help="Annotation file or folder."),
    videos: Path = typer.Option(..., "--videos", "-v", help="Video folder."),
    model: Optional[str] = typer.Option(None, help="Model directory (model backends)."),
    backend: str = typer.Option("transformers", help="Backend name."),
    split: Optional[str] = typer.Option("test", "--split", "-s", help="Held-out split."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1),
    out: Path = typer.Option(..., "--out", "-o", help="Directory for the evaluation's attempt rows + eval.json."),
    num_frames: int = typer.Option(8, "--num-frames", min=1),
    frame_size: int = typer.Option(336, "--frame-size", min=8),
    profile: str = typer.Option("default", help="Verifier profile."),
    batch_size: int = typer.Option(8, "--batch-size", "-b", min=1),
    max_new_tokens: int = typer.Option(256),
    option: list[str] = typer.Option([], "--option", help="Adapter option KEY=VALUE."),
) -> None:
    """Held-out accuracy: generation only (no hint), accuracy = verifier acceptance, per label
    type; number labels also get MAE and Spearman, intervals mean IoU."""
    import json

    from .data import _parse_options
    from ..generation.engines.local import LocalEngine
    from ..cycle.evaluation import evaluate_rows
    from ..generation.attempts import read_attempts
    from ..generation.pipeline import GenerationConfig

    cfg = GenerationConfig(adapter=adapter, annotations=str(annotations), videos=str(videos), split=split,
                           limit=limit, adapter_options=_parse_options(option), backend=backend, model=model,
                           num_frames=num_frames, frame_size=frame_size, profile=profile, rationalize=False,
                           chunk_size=batch_size, batch_size=batch_size, max_new_tokens=max_new_tokens)
    LocalEngine().run(cfg, out)
    rows, skipped = read_attempts(out)
    result = evaluate_rows(rows, skipped)
    (out / "eval.json").write_text(json.dumps(result, indent=2), "utf-8")
    counts: dict[str, object] = {"answers": result["n"], "skipped": skipped, "accuracy": f"{result['accuracy']:.1%}"}
    for t in ("category", "number", "interval", "sequence"):
        if t in result:
            counts[f"{t} accuracy"] = f"{result[t]['accuracy']:.1%} of {result[t]['n']}"
    if "number" in result:
        for name, d in result["number"]["by_label"].items():
            mae = "-" if d["mae"] is None else f"{d['mae']:.3f}"
            rho = "-" if d["spearman"] is None else f"{d['spearman']:.3f}"
            counts[f"{name}: MAE / Spearman"] = f"{mae} / {rho}"
    if "interval" in result:
        counts["interval mean IoU"] = f"{result['interval']['mean_iou']:.3f}"
    print_counts(f"eval -> {out / 'eval.json'}", counts)


@app.command("demo")
def demo_cmd(
    out: Path = typer.Option(Path("vstar-demo"), "--out", "-o", help="Folder for the world, models, run and store."),
    cycles: int = typer.Option(3, "--cycles", min=1, help="Self-training cycles."),
    clips: int = typer.Option(512, "--clips", min=8, help="Clips in the world (a quarter held out)."),
    seed: int = typer.Option(0, help="Seed of the world, the models and training."),
    ablation: bool = typer.Option(False, "--ablation", help="Also run without label rationalization (the paper's ablation) and compare."),
) -> None:
    """Run the whole Video-STaR loop on CPU in a few minutes: a procedural world of moving shapes,
    a tiny warm-start model that never names the motion direction unaided and explains a given
    direction only for some colours, and cycles of generate -> rationalize -> publish -> train ->
    evaluate that compound (more direct answers, more rows, higher held-out accuracy each cycle).
    Prints the per-cycle table; writes stats.json, yield_per_cycle.png, checkpoints, the store
    with its card and report.html. Same seed, same numbers (one torch thread, deterministic).
    """
    from ..cycle.demo import run_demo

    stats = run_demo(out, cycles=cycles, clips=clips, seed=seed, echo=_echo)
    _print_stats(stats)
    report = write_report(Path(out) / "run")
    if ablation:
        plain = run_demo(out, cycles=cycles, clips=clips, seed=seed, rationalize=False, echo=_echo)
        _echo("without label rationalization:")
        _print_stats(plain)
        first, last = (stats[0].get("eval_generator") or {}), (stats[-1].get("eval") or {})
        pfirst, plast = (plain[0].get("eval_generator") or {}), (plain[-1].get("eval") or {})
        _echo(f"held-out accuracy, cycle-0 model -> last model: with rationalization "
              f"{first.get('accuracy', 0):.0%} -> {last.get('accuracy', 0):.0%}; without "
              f"{pfirst.get('accuracy', 0):.0%} -> {plast.get('accuracy', 0):.0%}")
        write_report(Path(out) / "run-no-rationalization")
    _echo(f"stats: {Path(out) / 'run' / 'stats.json'}; plot: {Path(out) / 'run' / 'yield_per_cycle.png'}; "
          f"store: {Path(out) / 'run' / 'vstar-1m'} (load_dataset from its parent folder)")
    _echo(f"report: {report} (open it in a browser: plots, sample rows with their frames, the store's tags)")
