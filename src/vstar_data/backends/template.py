"""The template backend: answers from the labels themselves, no model (the paper's "Video-LLaVA+"
baseline, where dataset labels are turned into answers with fixed phrasings).

Each task's template file lists answer phrasings (`answers:`); ``{label}`` is filled with the
"name: value" hint of every label and ``{<label name>}`` with that label's value as its label
type phrases it (`LabelType.answer_text`). The phrasing is chosen per (seed, task, sample id),
so reruns and other machines give identical answers. Phrasings that name a label the sample does
not have are not used for it.
"""
from __future__ import annotations

import hashlib
import string
from pathlib import Path
from typing import Any, Iterable

from ..errors import TemplateError, VstarError
from ..sources.sample import target_labels
from .base import Backend, GenerationError, Request


class TemplateBackend(Backend):
    """Deterministic label-phrasing backend. Options: ``templates`` (a TemplateIndex, or extra
    template folders as used by ``--templates``) and ``seed``; model options are ignored."""

    name = "template"
    uses_frames = False

    def __init__(self, *, templates: Any = None, **options: Any) -> None:
        super().__init__(**options)
        self._templates_opt = templates
        self.templates: Any = None
        self._revision: str | None = None

    def load(self) -> None:
        if self._loaded:
            return
        from ..sources.templates import TemplateIndex

        opt = self._templates_opt
        if opt is None:
            self.templates = TemplateIndex()
        elif isinstance(opt, (str, Path)):
            self.templates = TemplateIndex([opt])
        elif hasattr(opt, "get") and hasattr(opt, "tasks"):
            self.templates = opt           # a TemplateIndex (or anything shaped like one)
        else:
            self.templates = TemplateIndex(list(opt))
        self._loaded = True

    @property
    def model_name(self) -> str:
        return "template"

    @property
    def model_revision(self) -> str | None:
        """Hash of every task's answer phrasings (and template versions): changes when they do.
        Computed once per loaded index (every row asks: 0.4 ms each was a third of a row's cost)."""
        self.ensure_loaded()
        if self._revision is None:
            self._revision = self._hash_answers()
        return self._revision

    def _hash_answers(self) -> str:
        h = hashlib.sha256()
        for task in self.templates.tasks():
            tpl = self.templates.get(task)
            h.update(f"{task}\x00{getattr(tpl, 'version', '')}\x00".encode())
            for answer in tpl.answers:
                h.update(answer.encode() + b"\x01")
        return h.hexdigest()[:16]

    def generate(self, requests: list[Request]) -> list[Any]:
        self.ensure_loaded()
        out: list[Any] = []
        for req in requests:
            try:
                out.append(self.answer(req))
            except GenerationError as err:
                err.sample_id = err.sample_id or req.sample_id
                out.append(err)
        return out

    def answer(self, req: Request) -> str:
        """The answer for one request, or GenerationError saying why there is none."""
        try:
            tpl = self.templates.get(req.task)
        except TemplateError as exc:
            raise GenerationError("answer_template_missing", exc.message, sample_id=req.sample_id) from None
        if not req.labels:
            raise GenerationError("label_unphrasable", "the request has no labels to phrase",
                                  sample_id=req.sample_id)
        fields = label_fields(target_labels(req.labels), req.sample_id)   # it states targets only
        usable = [a for a in tpl.answers if set(_placeholders(a)) <= fields.keys()]
        if not usable:
            raise GenerationError("answer_template_missing",
                                  f"no answer phrasing of task {req.task!r} fits labels "
                                  f"{sorted(k for k in fields if k != 'label')}", file=tpl.path,
                                  sample_id=req.sample_id)
        digest = hashlib.blake2b(f"{self.seed}\x00{req.task}\x00{req.sample_id}".encode(), digest_size=8).digest()
        return usable[int.from_bytes(digest, "big") % len(usable)].format_map(fields)


def label_fields(labels: Iterable[dict[str, Any]], sample_id: str = "") -> dict[str, str]:
    """``{name: value text}`` for every label plus ``label``: all of them as "name: value" pairs."""
    from ..registry import LABEL_TYPES
    from ..sources.templates import label_key

    fields: dict[str, str] = {}
    hints = []
    for spec in labels:
        try:
            text = LABEL_TYPES.get(spec["type"])().answer_text(spec)
        except VstarError as exc:
            raise GenerationError("label_unphrasable", exc.message, sample_id=sample_id) from None
        except (KeyError, TypeError, ValueError) as exc:
            raise GenerationError("label_unphrasable", f"label {spec.get('name')!r}: {type(exc).__name__}: {exc}",
                                  sample_id=sample_id) from None
        fields[spec["name"]] = text
        hints.append(f"{label_key(spec)}: {text}")
    fields["label"] = ". ".join(hints)
    return fields


def _placeholders(text: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(text) if f]
