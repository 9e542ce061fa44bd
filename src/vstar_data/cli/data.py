"""CLI: list adapters, turn annotations into prompted samples, scaffold a new adapter."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import app
from ._common import console, print_counts

SKELETON_ADAPTER = "skeleton_adapter.py.txt"
SKELETON_TEMPLATE = "skeleton_template.yaml.txt"


@app.command("adapters")
def adapters_cmd() -> None:
    """List the installed adapters (built-in and plugins), their tasks and label types."""
    from rich.table import Table

    from ..registry import ADAPTERS

    table = Table("adapter", "tasks", "label types", "description")
    for name in ADAPTERS.names():
        try:
            cls = ADAPTERS.get(name)
            table.add_row(name, ", ".join(cls.tasks), ", ".join(cls.label_types), cls.description)
        except Exception as exc:  # a broken plugin is shown, never fatal
            table.add_row(name, "-", "-", f"[red]cannot load: {exc}[/red]")
    console().print(table)


@app.command("samples")
def samples_cmd(
    adapter: str = typer.Argument(..., help="Adapter name (see `vstar-data adapters`) or path to an adapter .py file."),
    annotations: Path = typer.Option(..., "--annotations", "-a", help="Annotation file or folder, as the source ships it."),
    videos: Optional[str] = typer.Option(None, "--videos", "-v", help="Video folder or fsspec URL (s3://, gs://, https://host/clips/); when given, only samples whose video is found are written."),
    split: Optional[str] = typer.Option(None, "--split", "-s", help="Keep one split (e.g. train, validate, test)."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1, help="Stop after N samples."),
    out: Path = typer.Option(..., "--out", "-o", help="Output JSONL file (one sample per line)."),
    seed: int = typer.Option(0, help="Seed for the per-sample choice of question phrasing."),
    templates: list[Path] = typer.Option([], "--templates", help="Extra template folder(s); override shipped ones by task."),
    option: list[str] = typer.Option([], "--option", help="Adapter option KEY=VALUE (repeatable), e.g. window=30."),
) -> None:
    """Read ANNOTATIONS with ADAPTER and write one JSON object per sample: id, source, task, split,
    video, labels, question, template_id (+ clip_start/clip_end when set).

    Example: vstar-data samples kinetics700 --annotations validate.csv --out samples.jsonl
    """
    import time

    from ..sources.adapter import load_adapter
    from ..jsonl import atomic_writer, dumps
    from ..sources.prompts import prompted_samples
    from ..sources.templates import TemplateIndex

    t0 = time.perf_counter()
    cls = load_adapter(adapter)
    ad = cls(annotations, videos, split=split, limit=limit, options=_parse_options(option))
    index = TemplateIndex(templates)
    n = 0
    with atomic_writer(out) as fh:
        for ps in prompted_samples(ad, index, seed):
            fh.write(dumps(ps.to_dict()) + "\n")
            n += 1
    s = ad.stats
    counts = {"written": n, "read": s.read, **{f"skipped ({k})": v for k, v in sorted(s.skipped.items())},
              **{k: v for k, v in sorted(s.notes.items())}}
    if videos is not None:
        counts.update({"videos found": s.found, "videos missing": s.missing})
    print_counts(f"{cls.name or adapter}: {out} in {time.perf_counter() - t0:.1f} s", counts)
    for example in s.skip_examples[:5]:
        console().print(f"  [yellow]skipped[/yellow] {example}")


def _parse_options(items: list[str]) -> dict[str, str]:
    from ..errors import ConfigError

    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--option expects KEY=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out


@app.command("new-adapter")
def new_adapter_cmd(
    name: str = typer.Argument(..., help="Adapter name, lowercase with underscores (e.g. ucf101)."),
    task: Optional[str] = typer.Option(None, help="Task name for the template (default: NAME)."),
    out: Path = typer.Option(Path("."), "--out", "-o", help="Folder to write adapters/NAME.py and templates/TASK.yaml into."),
    label_type: str = typer.Option("category", "--label-type", help="Label type the skeleton emits, one of "
                                   "category, number, interval, sequence, choice, boolean, text, bbox, timestamp "
                                   "(its CSV columns, label spec, questions and answers follow)."),
) -> None:
    """Write a commented adapter skeleton and a template skeleton to start a new labeled dataset from."""
    import json
    import re
    from importlib.resources import files

    from ..errors import ConfigError
    from ..sources.scaffold import KINDS

    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ConfigError(f"adapter name {name!r} must be lowercase letters, digits and underscores")
    task = task or name
    kind = KINDS.get(label_type)
    if kind is None:
        raise ConfigError(f"--label-type {label_type!r}: the skeleton knows {', '.join(KINDS)}", key="--label-type")
    pkg = files("vstar_data.sources.scaffold")
    targets = {out / "adapters" / f"{name}.py": pkg.joinpath(SKELETON_ADAPTER).read_text("utf-8"),
               out / "templates" / f"{task}.yaml": pkg.joinpath(SKELETON_TEMPLATE).read_text("utf-8")}
    for path in targets:
        if path.exists():
            raise ConfigError("refusing to overwrite an existing file", file=path)
    cls_name = "".join(p.capitalize() for p in name.split("_")) + "Adapter"
    for path, text in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        fills = {"name": name, "task": task, "class_name": cls_name, "label_type": label_type,
                 "columns": ",".join(kind.columns), "column_tuple": repr(kind.columns), "example": kind.example,
                 "label_body": "\n".join("    " + line for line in kind.body.splitlines()),
                 "questions": "\n".join(f"  - {{id: q{i:02d}, text: {json.dumps(q)}}}"
                                        for i, q in enumerate(kind.questions, 1)),
                 "answers": "\n".join(f"  - {json.dumps(a)}" for a in kind.answers)}
        for key, value in fills.items():
            text = text.replace("{{" + key + "}}", value)
        path.write_text(text, "utf-8")
        console().print(f"wrote {path}")
    console().print(f"Next: fill in read(), then `vstar-data samples {out / 'adapters' / (name + '.py')} "
                    f"--annotations ... --templates {out / 'templates'} --out s.jsonl`")
