"""Samples -> prompts: attach a seeded question (and its template id) to each sample."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from .adapter import Adapter
from ..errors import SkipRecord
from .sample import Sample
from .templates import Question, TemplateIndex


@dataclass(slots=True)
class PromptedSample:
    """A sample with the question chosen for it."""

    sample: Sample
    question: Question

    def to_dict(self) -> dict[str, Any]:
        out = self.sample.to_dict()
        out["question"] = self.question.text
        out["template_id"] = self.question.template_id
        return out


def prompted_samples(adapter: Adapter, templates: TemplateIndex, seed: int = 0) -> Iterator[PromptedSample]:
    """Every sample of `adapter` with its question; a sample whose question cannot render is
    recorded as skipped in the adapter's stats, and the rest go on."""
    for sample in adapter.samples():
        try:
            question = templates.get(sample.task).choose(sample, seed)
        except SkipRecord as skip:
            adapter.unwrite(skip)
            continue
        yield PromptedSample(sample, question)
