"""Question templates: declarative YAML per task, validated by JSON Schema, chosen by seed.

The shipped templates live in the package (`vstar_data._templates`, i.e. the repository's
`templates/` folder); user folders given later override a task with a warning. Prompt shapes
follow the paper: generation asks the question and for a step-by-step explanation; the
rationalization form adds the label as "Answer: key: value. key: value." before that request.
"""
from __future__ import annotations

import hashlib
import logging
import re
import string
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any, Iterable

import yaml

from ..errors import SkipRecord, TemplateError, file_problem
from ..registry import LABEL_TYPES
from .sample import Sample, target_labels
from .template_filters import FILTERS, FilterError, filtered_values, split_field
from ..schemas import first_error

log = logging.getLogger(__name__)
VIDEO_TOKEN = "<video>"


@dataclass(frozen=True, slots=True)
class Question:
    """One rendered question and the provenance that goes with it."""

    template_id: str    # "{task}/{question id}@v{version}"
    text: str           # the question with context filled in (no <video> token)


@dataclass(slots=True)
class Template:
    """One task's template file, validated."""

    task: str
    version: int
    label_types: list[str]
    questions: list[dict[str, str]]
    generation_form: str        # the file's generation_prompt (the method of that name fills it in)
    rationalization_form: str   # the file's rationalization_prompt
    answers: list[str]
    description: str
    path: str

    @classmethod
    def from_dict(cls, data: Any, path: str) -> "Template":
        problem = first_error("template", data)
        if problem:
            raise TemplateError(f"invalid template {problem}", file=path)
        ids = [q["id"] for q in data["questions"]]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise TemplateError(f"duplicate question ids {dup}", file=path, key="questions")
        for lt in data["label_types"]:
            if lt not in LABEL_TYPES:
                raise TemplateError(f"unknown label type {lt!r}; known: {', '.join(LABEL_TYPES.names())}",
                                    file=path, key="label_types")
        for key in ("generation_prompt", "rationalization_prompt"):
            _check_format(data[key], path, key)
        for q in data["questions"]:
            _check_format(q["text"], path, f"questions/{q['id']}", filters=True)
        return cls(task=data["task"], version=int(data["metadata"]["version"]),
                   label_types=list(data["label_types"]), questions=list(data["questions"]),
                   generation_form=data["generation_prompt"],
                   rationalization_form=data["rationalization_prompt"],
                   answers=list(data.get("answers") or ["{label}."]),
                   description=data.get("description", ""), path=path)

    @classmethod
    def load(cls, path: str | Path) -> "Template":
        path = Path(path)
        problem = file_problem(path)   # a FIFO would block the read: name it instead
        if problem is not None:
            raise TemplateError(f"template file {problem}", file=path)
        try:
            data = yaml.safe_load(path.read_text("utf-8"))
        except FileNotFoundError as exc:
            raise TemplateError("template file does not exist", file=path) from exc
        except yaml.YAMLError as exc:
            raise TemplateError(f"not valid YAML: {exc}", file=path) from exc
        return cls.from_dict(data, str(path))

    def choose(self, sample: Sample, seed: int = 0) -> Question:
        """A question for `sample`, the same for the same (seed, sample id) on every machine."""
        digest = hashlib.blake2b(f"{seed}\x00{self.task}\x00{sample.id}".encode(), digest_size=8).digest()
        q = self.questions[int.from_bytes(digest, "big") % len(self.questions)]
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(q["text"]) if f]
            text = q["text"].format_map(filtered_values(fields, sample.context))
        except KeyError as exc:
            raise SkipRecord("template_context_missing",
                             f"question {q['id']} needs {exc.args[0]!r}, which the sample's context lacks",
                             file=self.path, sample_id=sample.id) from None
        except FilterError as exc:
            raise SkipRecord("template_filter_failed", f"question {q['id']}: {exc}",
                             file=self.path, sample_id=sample.id) from None
        return Question(template_id=f"{self.task}/{q['id']}@v{self.version}", text=text)

    def generation_prompt(self, question: Question) -> str:
        """Step I of the paper: the question plus a request for a step-by-step explanation."""
        return self.generation_form.format(question=question.text)

    def rationalization_prompt(self, question: Question, labels: list[dict[str, Any]]) -> str:
        """Step II: the same question with the label given as the answer to explain."""
        return self.rationalization_form.format(question=question.text, label=render_hint(labels))


_FIELD_RE = re.compile(r"[^A-Za-z0-9_]")


def _check_format(text: str, path: str, key: str, *, filters: bool = False) -> None:
    """Placeholders are plain names; a question's may add named filters: ``{query|event}``."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f]
    except ValueError as exc:
        raise TemplateError(f"bad placeholder: {exc}", file=path, key=key) from exc
    for f in fields:
        name, names = split_field(f) if filters else (f, [])
        if _FIELD_RE.search(name) or not name:
            raise TemplateError(f"placeholder {{{f}}} must be a plain name"
                                + (" with optional |filters" if filters else ""), file=path, key=key)
        unknown = [n for n in names if n not in FILTERS]
        if unknown:
            raise TemplateError(f"placeholder {{{f}}}: unknown filter {unknown[0]!r}; known: "
                                f"{', '.join(sorted(FILTERS))}", file=path, key=key)


def label_key(spec: dict[str, Any]) -> str:
    """A label's name as the paper writes it in hints: underscores as spaces."""
    return spec["name"].replace("_", " ")


def render_hint(labels: Iterable[dict[str, Any]]) -> str:
    """Labels as the paper's hint: "key: value" pairs joined by ". " (lists by ", "); targets only
    (a constraint is checked, never hinted)."""
    parts = []
    for spec in target_labels(list(labels)):
        text = LABEL_TYPES.get(spec["type"])().hint_text(spec)
        parts.append(f"{label_key(spec)}: {text}")
    return ". ".join(parts)


def builtin_template_dir() -> Path:
    """The folder of templates shipped with the package."""
    return Path(str(files("vstar_data._templates")))


class TemplateIndex:
    """Every template from the shipped folder plus user folders (later folders override)."""

    def __init__(self, extra_dirs: Iterable[str | Path] = ()) -> None:
        self.templates: dict[str, Template] = {}
        for folder in [builtin_template_dir(), *map(Path, extra_dirs)]:
            if not folder.is_dir():
                raise TemplateError("template folder does not exist", file=folder)
            for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
                tpl = Template.load(path)
                if tpl.task in self.templates:
                    log.warning("template %s overrides %s for task %s", path,
                                self.templates[tpl.task].path, tpl.task)
                self.templates[tpl.task] = tpl

    def get(self, task: str) -> Template:
        try:
            return self.templates[task]
        except KeyError:
            raise TemplateError(f"no template for task {task!r}; have: {', '.join(sorted(self.templates))}. "
                                f"Write templates/{task}.yaml (`vstar-data new-adapter NAME --task {task}` "
                                f"writes a skeleton) and pass its folder with --templates DIR") from None

    def tasks(self) -> list[str]:
        return sorted(self.templates)
