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

    grpo = any(isinstance(s.get("reward"), dict) for s in stats)   # training.method grpo
    if grpo:
        table.add_column("reward (groups)")

    def reward(s: dict) -> list[str]:
        r = s.get("reward") if isinstance(s.get("reward"), dict) else None
        if not grpo:
            return []
        return ["-" if not r or r.get("mean") is None else
                f"{r['mean']:.3f} ({r.get('groups_with_reward')}/{r.get('groups')})"]

    for s in stats:
        table.add_row(str(s["cycle"]), str(s["samples"]), str(s["generated"]), str(s["rationalized"]),
                      str(s["rejected"]), str(s["skipped"]),
                      "-" if s.get("train_loss") is None else f"{s['train_loss']:.3f}",
                      pct(s.get("eval_generator")), pct(s.get("eval")), f"{s.get('seconds', 0):.0f}", *reward(s))
    console().print(table)


def _print_hallucination(stats: list[dict]) -> None:
    """Answers contradicting a constraint label per cycle (before filtering / published), when the
    run has constraint labels (cycle/hallucination.py)."""
    from rich.table import Table

    rows = [s for s in stats if (s.get("hallucination") or {}).get("constrained")]
    if not rows:
        return
    table = Table("cycle", "direct answers", "rationalized answers", "published rows",
                  title="answers contradicting a constraint label (before filtering / published)",
                  title_justify="left")
    for s in rows:
        h = s["hallucination"]
        table.add_row(str(s["cycle"]), *(f"{h['contradicting'][k]} of {h['answers'][k]}"
                                         for k in ("generated", "rationalized", "published")))
    console().print(table)


def _print_final(final: dict | None) -> None:
    """The final release (store.final_exclude_rationalized), when there is one."""
    if not final:
        return
    acc = (final.get("eval") or {}).get("accuracy")
    tag = (final.get("publish") or {}).get("tag") or "not published (no direct answers)"
    _echo(f"final release: tag {tag}, {final['rows']} direct answers of cycle {final['from_cycle']}; "
          f"model {final['checkpoint']}; held-out accuracy {'-' if acc is None else f'{acc:.0%}'}")


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
    runner = CycleRunner(rc, echo=_echo)
    stats = runner.run()
    _print_stats(stats)
    _print_final(runner.final)
    report = write_report(rc.run_dir)
    _echo(f"run directory: {rc.run_dir} (stats.json, yield_per_cycle.png, cycle-*/checkpoint"
          + (", final/checkpoint" if rc.store.get("final_exclude_rationalized") else "")
          + f"); store: {rc.store['path']}; report: {report}")


@app.command("eval")
def eval_cmd(
    adapter: str = typer.Argument(..., help="Adapter name or .py path."),
    annotations: Path = typer.Option(..., "--annotations", "-a", help="Annotation file or folder."),
    videos: str = typer.Option(..., "--videos", "-v", help="Video folder, or an fsspec URL of one (s3://, gs://, "
                               "https://host/clips/)."),
    videos_cache: Optional[Path] = typer.Option(None, "--videos-cache", help="Folder for local copies of clips "
                                                 "read from a video URL (default ~/.cache/vstar-data/videos)."),
    videos_cache_gb: Optional[float] = typer.Option(None, "--videos-cache-gb", min=0.001, help="Bound on that "
                                                    "folder in GB (default 20; least recently used clips go first)."),
    model: Optional[str] = typer.Option(None, help="Model directory (model backends)."),
    backend: str = typer.Option("transformers", help="Backend name."),
    split: Optional[str] = typer.Option("test", "--split", "-s", help="Held-out split."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1),
    out: Path = typer.Option(..., "--out", "-o", help="Directory for the evaluation's attempt rows + eval.json."),
    num_frames: int = typer.Option(8, "--num-frames", min=1),
    frame_size: int = typer.Option(336, "--frame-size", min=8),
    time_instruction: str = typer.Option("auto", "--time-instruction", help="State the frames' times before the "
                                         "question: auto, always or never (as `generate`)."),
    profile: str = typer.Option("default", help="Verifier profile."),
    batch_size: int = typer.Option(8, "--batch-size", "-b", min=1),
    max_new_tokens: int = typer.Option(256),
    option: list[str] = typer.Option([], "--option", help="Adapter option KEY=VALUE."),
) -> None:
    """Held-out evaluation: the model answers each held-out clip once (no hint) and every label is
    scored with its task's metric (category top-1 against the source's class list, number MAE /
    Spearman / within tolerance, interval mIoU and R@1 at IoU 0.3/0.5/0.7, sequence exact order and
    edit distance); skipped clips count as wrong; verifier acceptance is its own column. Writes
    OUT/eval.json (overall and per source)."""
    import json

    from .data import _parse_options
    from ..config import SourceConfig, cli_run_config
    from ..cycle.evaluation import evaluate_sources
    from ..generation.engines import make_engine
    from ..generation.pipeline import GenerationConfig, prepare

    source = SourceConfig(adapter=adapter, annotations=str(annotations), videos=str(videos), split=split,
                          limit=limit, options=_parse_options(option))
    rc = cli_run_config(source, backend={"name": backend, "batch_size": batch_size, "max_new_tokens": max_new_tokens,
                                         "temperature": 0.0, "decode_workers": 2, "options": {}},
                        frames={"num_frames": num_frames, "size": frame_size, "time_instruction": time_instruction},
                        profile=profile, model=model,
                        videos_cache={"dir": str(videos_cache) if videos_cache else None, "max_gb": videos_cache_gb})
    cfg = GenerationConfig.from_run_config(rc, source, model=model, cycle=0, rationalize=False, progress=True)
    prepared = prepare(cfg)
    summary = make_engine({"name": "local"}).run(cfg, out, prepared=prepared)
    result = evaluate_sources([(cfg, prepared, out)], profile=profile)
    (out / "eval.json").write_text(json.dumps(result, indent=2), "utf-8")
    print_counts(f"eval -> {out / 'eval.json'}", _eval_counts(result, summary.to_dict()))


def _pct(v: object) -> str:
    return "-" if v is None else f"{v:.1%}"


def _declared_metrics(type_name: str) -> type | None:
    """The registered label type of an eval.json entry when it declares metrics of its own, else None
    (types reporting only `correct`, the verifier's verdict, and types not installed here)."""
    from ..errors import VstarError
    from ..registry import LABEL_TYPES

    try:
        cls = LABEL_TYPES.get(type_name)
    except VstarError:
        return None
    return cls if cls.declares_metrics() else None


def _eval_counts(result: dict, run: dict) -> dict[str, object]:
    """The eval.json numbers as the summary table shows them; each label type that declares metrics
    gets a line in its own words (LabelType.metrics_text)."""
    counts: dict[str, object] = {"annotated": run["annotated"], "videos found": run["found"],
                                 "videos missing": run["missing"], "samples": result["n"],
                                 "skipped (counted wrong)": result["skipped"],
                                 "accuracy (every label right)": _pct(result["accuracy"]),
                                 "verifier acceptance": _pct(result["acceptance"])}
    for t, d in result.items():
        lt = _declared_metrics(t) if isinstance(d, dict) and t != "by_source" else None
        if lt is None:
            continue
        counts[f"{t} ({d['n']} labels, {d['skipped']} skipped)"] = \
            f"{lt.metrics_text(d)}; acceptance {_pct(d['acceptance'])}"
    if len(result.get("by_source", {})) > 1:
        for src, d in result["by_source"].items():
            counts[f"{src}: accuracy"] = f"{_pct(d['accuracy'])} of {d['n']}"
    return counts


@app.command("demo")
def demo_cmd(
    out: Path = typer.Option(Path("vstar-demo"), "--out", "-o", help="Folder for the world, models, run and store."),
    cycles: int = typer.Option(2, "--cycles", min=1, help="Self-training cycles (a third adds rows but, with this world's 384 training clips nearly all answered by cycle 2, no accuracy beyond one training's variance)."),
    clips: int = typer.Option(512, "--clips", min=8, help="Clips in the world (a quarter held out)."),
    seed: int = typer.Option(0, help="Seed of the world, the models and training."),
    ablation: bool = typer.Option(False, "--ablation", help="Also run without label rationalization (the paper's ablation) and compare."),
    method: str = typer.Option("sft", "--method", help="sft (the paper: each cycle fine-tunes on its accepted rows, into OUT/run) or grpo (each cycle's model trained by GRPO on all its prompts with the verifier as reward, into OUT/run-grpo; compare with `vstar-data report OUT/run OUT/run-grpo`)."),
    constraints: bool = typer.Option(True, "--constraints/--no-constraints", help="The world's colour, shape and count are constraint labels: enforced by default (an answer naming another colour or shape is rejected as contradicts); --no-constraints only measures them, into OUT/run-no-constraints (the hallucination ablation). stats.json and the report count the contradicting answers either way."),
) -> None:
    """Run the whole Video-STaR loop on CPU in a few minutes: a procedural world of moving shapes,
    a tiny warm-start model that never names the motion direction unaided and explains a given
    direction only for part of the clips, and cycles of generate -> rationalize -> publish -> train ->
    evaluate that compound (more direct answers, more rows, higher held-out accuracy each cycle,
    until nearly every training clip is answered).
    Prints the per-cycle table; writes stats.json, yield_per_cycle.png, checkpoints, the store
    with its card and report.html. Same seed, same numbers (one torch thread, deterministic).
    """
    from ..cycle.demo import demo_run_dir, run_demo

    from ..dataset.stats import read_stats

    from ..cycle.layout import RunLayout

    run = RunLayout(demo_run_dir(Path(out), method=method, constraints=constraints))
    stats = run_demo(out, cycles=cycles, clips=clips, seed=seed, method=method, constraints=constraints, echo=_echo)
    _print_stats(stats)
    _print_hallucination(stats)
    _print_final(read_stats(run.stats)[1])
    report = write_report(run.root)
    if ablation:
        plain = run_demo(out, cycles=cycles, clips=clips, seed=seed, rationalize=False, method=method,
                         constraints=constraints, echo=_echo)
        _echo("without label rationalization:")
        _print_stats(plain)
        first, last = (stats[0].get("eval_generator") or {}), (stats[-1].get("eval") or {})
        pfirst, plast = (plain[0].get("eval_generator") or {}), (plain[-1].get("eval") or {})
        _echo(f"held-out accuracy, cycle-0 model -> last model: with rationalization "
              f"{first.get('accuracy', 0):.0%} -> {last.get('accuracy', 0):.0%}; without "
              f"{pfirst.get('accuracy', 0):.0%} -> {plast.get('accuracy', 0):.0%}")
        write_report(demo_run_dir(Path(out), rationalize=False, method=method, constraints=constraints))
    _echo(f"stats: {run.stats}; plot: {run.plot}; store: {run.root / 'vstar-1m'} (load_dataset from its parent "
          "folder)")
    _echo(f"report: {report} (open it in a browser: plots, sample rows with their frames, the store's tags)")
