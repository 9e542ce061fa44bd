"""CLI: `vstar-data templates suggest`, the paper's question generation with a language model."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import app
from ._common import console, print_counts

templates_app = typer.Typer(name="templates", no_args_is_help=True,
                            help="Question templates: suggest phrasings for a new task with a language model.")
app.add_typer(templates_app, name="templates")


@templates_app.command("suggest")
def suggest_cmd(
    task: str = typer.Argument(..., help="Task id of the template (lowercase, digits, underscores), e.g. "
                                         "action_recognition."),
    out: Path = typer.Option(..., "--out", "-o", help="Template YAML to write."),
    backend: str = typer.Option("openai", help="openai (any OpenAI-compatible server) or transformers."),
    model: Optional[str] = typer.Option(None, help="Served model name (openai) or model folder / Hub id "
                                                   "(transformers)."),
    base_url: Optional[str] = typer.Option(None, help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1 "
                                                      "(default $OPENAI_BASE_URL)."),
    api_key_env: str = typer.Option("OPENAI_API_KEY", help="Environment variable holding the API key."),
    num: int = typer.Option(50, "-n", "--num", min=10, help="Questions to collect (at least 10)."),
    adapter: Optional[str] = typer.Option(None, help="Adapter whose annotations give the label values."),
    annotations: Optional[Path] = typer.Option(None, "--annotations", "-a", help="Annotation file or folder "
                                                                                 "(with --adapter)."),
    split: Optional[str] = typer.Option(None, "--split", "-s", help="Read label values from one split."),
    option: list[str] = typer.Option([], "--option", help="Adapter option KEY=VALUE (repeatable)."),
    label: list[str] = typer.Option([], "--label", "-l", help="A label value (repeatable; adds to the "
                                                              "adapter's)."),
    label_type: str = typer.Option("category", help="Label type of --label values (the adapter's own types "
                                                    "are used when given)."),
    task_text: Optional[str] = typer.Option(None, help="How the prompt names the task (default: TASK with "
                                                       "spaces)."),
    example: Optional[str] = typer.Option(None, help="Example question in the prompt (default: the first of "
                                                     "the installed template for TASK, if any)."),
    allow_word: list[str] = typer.Option([], "--allow-word", help="A task word questions may use after all "
                                                                   "(repeatable), e.g. action."),
    similarity: float = typer.Option(90.0, min=50, max=100, help="rapidfuzz ratio at which two questions "
                                                                  "are near-duplicates."),
    temperature: float = typer.Option(0.7, min=0.0, help="Sampling temperature (0 = greedy)."),
    max_new_tokens: int = typer.Option(512, min=16, help="Answer length limit per prompt."),
    max_prompts: Optional[int] = typer.Option(None, min=1, help="Give up after this many prompts (default "
                                                                "3 per 10 questions, at least 5)."),
    seed: int = typer.Option(0, help="Seed for label sampling and generation."),
    device: Optional[str] = typer.Option(None, help="Device for --backend transformers."),
    force: bool = typer.Option(False, "--force", help="Overwrite OUT if it exists."),
) -> None:
    """Ask a language model for ways to phrase TASK's question (the Video-STaR prompt: "I am
    performing {task} with labels like {labels}. How would you ask someone to perform {task} on a
    video without mentioning the actual task? ..."), drop candidates that name a label value or
    a task word or repeat another, and write a template YAML for a person to review.

    Example: vstar-data templates suggest action_recognition --adapter kinetics700 -a validate.csv
    --model Qwen/Qwen2.5-7B-Instruct --base-url http://127.0.0.1:8000/v1 -o templates/action_recognition.yaml
    """
    import re

    from ..errors import ConfigError
    from ..sources.question_gen import (DEFAULT_EXAMPLE, LabelPool, labels_from_adapter, suggest_questions,
                                template_yaml, text_asker)
    from ..registry import BACKENDS, LABEL_TYPES
    from .data import _parse_options

    if not re.fullmatch(r"[a-z0-9_]+", task):
        raise ConfigError(f"task id {task!r} must be lowercase letters, digits and underscores")
    if out.exists() and not force:
        raise ConfigError("refusing to overwrite an existing file (pass --force)", file=out)
    if backend == "template":
        raise ConfigError("question suggestion needs a language model: --backend openai or transformers")
    if (adapter is None) != (annotations is None):
        raise ConfigError("--adapter and --annotations go together")
    pool = LabelPool([], [], [])
    if adapter is not None:
        pool = labels_from_adapter(adapter, str(annotations), task, split=split, options=_parse_options(option))
    if label:
        if label_type not in LABEL_TYPES:
            raise ConfigError(f"unknown label type {label_type!r}; known: {', '.join(LABEL_TYPES.names())}")
        pool.shown += [v for v in label if v not in pool.shown]
        pool.mentions += [v for v in label if v not in pool.mentions]
        pool.label_types = pool.label_types or [label_type]
    if not pool.shown:
        raise ConfigError("give label values to show the model: --adapter ... --annotations ..., or --label")
    task_text = task_text or task.replace("_", " ")
    example = example or _installed_example(task) or DEFAULT_EXAMPLE

    options: dict = {"model": model, "max_new_tokens": max_new_tokens, "temperature": temperature, "seed": seed,
                     "device": device, "batch_size": 1}
    if backend == "openai":
        options.update(base_url=base_url, api_key_env=api_key_env)
    engine = BACKENDS.get(backend)(**options)
    engine.load()
    result = suggest_questions(text_asker(engine), task_text, pool, example=example, n=num, seed=seed,
                               max_prompts=max_prompts, similarity=similarity, allow_words=allow_word)
    counts = {"prompts sent": len(result.prompts), "failed prompts": len(result.failures),
              "candidates parsed": result.candidates, "kept": len(result.questions),
              **{f"dropped ({k})": v for k, v in sorted(result.dropped.items())}}
    print_counts(f"templates suggest {task} ({backend}: {engine.model_name})", counts)
    for reason, examples in sorted(result.dropped_examples.items()):
        console().print(f"  [yellow]{reason}[/yellow]: {examples[0]!r}", markup=True, highlight=False)
    if len(result.questions) < 10:
        why = f"; first failure: {result.failures[0]}" if result.failures else ""
        raise ConfigError(f"only {len(result.questions)} usable questions after {len(result.prompts)} prompts "
                          f"(a template needs 10){why}. Try another model, a higher --temperature, more "
                          "--max-prompts, or --allow-word for task words the questions may use")
    text = template_yaml(task, result.questions, pool.label_types,
                         description=f"{task_text} (questions suggested by {engine.model_name}; review before use)",
                         suggested_by={"backend": backend, "model": engine.model_name, "temperature": temperature,
                                       "seed": seed, "example": example, "prompts": len(result.prompts)},
                         dropped=dict(result.dropped))
    from ..jsonl import atomic_writer

    with atomic_writer(out) as fh:
        fh.write(text)
    console().print(f"wrote {len(result.questions)} questions to {out}: [bold]review them before use[/bold] "
                    "(see the notice at the top of the file)", soft_wrap=True)


def _installed_example(task: str) -> str | None:
    """The first placeholder-free question of the installed template for `task`, if there is one."""
    from ..sources.templates import TemplateIndex

    try:
        tpl = TemplateIndex().templates.get(task)
    except Exception:
        return None
    for q in (tpl.questions if tpl else []):
        if "{" not in q["text"]:
            return q["text"]
    return None
