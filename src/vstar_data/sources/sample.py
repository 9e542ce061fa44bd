"""Sample: one labeled clip as an adapter yields it, and the label-spec interchange format.

Label specs are plain JSON objects (the project's public interchange format, see
``schemas/label_spec.schema.json``): ``{"type": "category", "name": "action", "value": ...}``.
They are validated once, on the way in, against the shipped JSON Schema and the label-type
registry, so every later stage can trust them. Every number must be finite (`NaN`, `Infinity`,
`1e999` are refused: they would accept any answer, or be published as invalid JSON).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import LabelSpecError
from ..registry import LABEL_TYPES
from ..schemas import first_error

LabelSpec = dict[str, Any]
ROLES = ("target", "constraint")


def is_constraint(spec: LabelSpec) -> bool:
    """A spec with `"role": "constraint"`: what the source knows besides the target. It need not be
    stated and is never hinted or scored; the verifier rejects an answer that contradicts it."""
    return spec.get("role") == "constraint"


def target_labels(labels: list[LabelSpec]) -> list[LabelSpec]:
    """The specs an answer must state (role `target`, the default): what questions ask, hints
    give, the template backend says and evaluation scores."""
    return [spec for spec in labels if not is_constraint(spec)]


def _str(v: Any) -> bool:
    return type(v) is str and v != ""


def _finite(v: Any) -> bool:
    """A JSON number that is finite: `json.loads` reads NaN, Infinity and 1e999 (-> inf) as floats."""
    return type(v) is int or (type(v) is float and math.isfinite(v))


def _text(v: Any) -> bool:
    """A label value a user can read: a non-empty string that is not only blanks (schema `\\S`)."""
    return type(v) is str and v != "" and not v.isspace()


def _num(v: Any) -> bool:
    return _finite(v) and v >= 0


# Fast path: per built-in type, its required keys and a check for every key the schema
# constrains. A spec passing these checks is valid under label_spec.schema.json (they are
# stricter: exact str/int/float types, only keys listed here), so jsonschema (~100 us a spec,
# most of `vstar-data samples` time on 34k rows) runs only for anything else, and still
# produces the error message. tests/sources/test_cli_samples.py cross-checks both paths.
_FAST_CHECKS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "category": (("value",), {"value": _text, "synonyms": lambda v: type(v) is list and all(map(_text, v)),
                              "vocabulary": lambda v: type(v) is list and all(map(_text, v))}),
    "number": (("value",), {"value": _finite, "rel_tol": _num,
                            "abs_tol": _num, "unit": lambda v: type(v) is str}),
    "interval": (("start", "end"), {"start": _num, "end": _num,
                                    "min_iou": lambda v: _finite(v) and 0 < v <= 1}),
    "sequence": (("value",), {"value": lambda v: type(v) is list and v != [] and all(map(_text, v))}),
    "choice": (("options", "correct"), {"options": lambda v: type(v) is list and len(v) >= 2 and all(map(_text, v)),
                                        "correct": lambda v: type(v) is int and v >= 0,
                                        "select_by": lambda v: v in ("any", "text"),
                                        "min_similarity": lambda v: _finite(v) and 0 < v <= 1}),
    "boolean": (("value",), {"value": lambda v: type(v) is bool}),
    "text": (("value",), {"value": lambda v: _text(v) or (type(v) is list and v != [] and all(map(_text, v))),
                          "min_similarity": lambda v: _finite(v) and 0 < v <= 1,
                          "ordered": lambda v: type(v) is bool}),
    "bbox": (("box",), {"box": lambda v: type(v) is list and len(v) == 4 and all(_finite(x) for x in v),
                        "frame_time": _num, "coords": lambda v: v in ("pixels", "normalized"),
                        "image_size": lambda v: type(v) is list and len(v) == 2
                        and all(_finite(x) and x > 0 for x in v),
                        "min_iou": lambda v: _finite(v) and 0 < v <= 1}),
    "timestamp": (("value",), {"value": _num, "abs_tol": _num}),
}


_COMMON_CHECKS: dict[str, Any] = {"role": lambda v: v in ROLES}
_FAST_CHECKS["category"][1]["allowed"] = lambda v: type(v) is list and all(map(_text, v))


def _certainly_valid(spec: dict[str, Any]) -> bool:
    """True only if `spec` surely satisfies the label-spec schema (False means: ask jsonschema)."""
    entry = _FAST_CHECKS.get(spec.get("type"))  # type: ignore[arg-type]
    if entry is None or not _str(spec.get("name")):
        return False
    required, own = entry
    checks = {**_COMMON_CHECKS, **own}
    for key in required:
        if key not in spec:
            return False
    for key, value in spec.items():
        if key in ("type", "name"):
            continue
        check = checks.get(key)
        if check is None or not check(value):
            return False
    return True


def validate_label_spec(spec: Any, *, file: str | None = None, row: Any = None) -> LabelSpec:
    """Check one spec against the schema and the registry; raise LabelSpecError naming where."""
    if not isinstance(spec, dict):
        raise LabelSpecError(f"a label spec must be a JSON object, got {type(spec).__name__}",
                             file=file, row=row)
    kind = spec.get("type")
    if isinstance(kind, str) and kind not in LABEL_TYPES:
        raise LabelSpecError(f"unknown label type {kind!r}; known: {', '.join(LABEL_TYPES.names())}",
                             file=file, row=row, key="type")
    problem = None if _certainly_valid(spec) else first_error("label_spec", spec)
    if problem:
        raise LabelSpecError(f"invalid {kind or ''} label spec {problem}".replace("  ", " "),
                             file=file, row=row, key=spec.get("name") if isinstance(spec.get("name"), str) else None)
    if is_constraint(spec) and not LABEL_TYPES.get(kind).checks_constraints():
        raise LabelSpecError(f"label type {kind!r} cannot be a constraint (it does not say what contradicts "
                             f"it); constraint types: {', '.join(_constraint_types())}",
                             file=file, row=row, key=spec["name"])
    if kind == "interval" and spec["end"] < spec["start"]:
        raise LabelSpecError(f"interval end {spec['end']} is before start {spec['start']}",
                             file=file, row=row, key=spec["name"])
    if kind == "choice" and spec["correct"] >= len(spec["options"]):
        raise LabelSpecError(f"choice `correct` {spec['correct']} is not an index of its {len(spec['options'])} "
                             f"options", file=file, row=row, key=spec["name"])
    if kind == "bbox" and (spec["box"][2] < spec["box"][0] or spec["box"][3] < spec["box"][1]):
        raise LabelSpecError(f"bbox {spec['box']} is not [x1, y1, x2, y2] with x1 <= x2 and y1 <= y2",
                             file=file, row=row, key=spec["name"])
    return spec


def _constraint_types() -> list[str]:
    out = []
    for name in LABEL_TYPES.names():
        try:
            if LABEL_TYPES.get(name).checks_constraints():
                out.append(name)
        except Exception:          # a broken plugin type is reported where it is used
            continue
    return out


def validate_label_specs(specs: Any, *, file: str | None = None, row: Any = None) -> list[LabelSpec]:
    """Validate a list of specs; names must be unique within a sample."""
    if not isinstance(specs, list) or not specs:
        raise LabelSpecError("`labels` must be a non-empty list of label specs", file=file, row=row,
                             key="labels")
    seen: set[str] = set()
    for spec in specs:
        validate_label_spec(spec, file=file, row=row)
        if spec["name"] in seen:
            raise LabelSpecError(f"duplicate label name {spec['name']!r}", file=file, row=row,
                                 key=spec["name"])
        seen.add(spec["name"])
    if not target_labels(specs):
        raise LabelSpecError("every label is a constraint: a sample needs at least one target label "
                             "(role `target`, the default) for the answer to state", file=file, row=row,
                             key="labels")
    return specs


@dataclass(slots=True)
class Sample:
    """One labeled clip.

    `video` is relative to the video directory (never absolute, never escaping it); `clip_start`
    / `clip_end` (seconds) are set when the labels cover only part of that video. `context`
    holds values question templates may reference (e.g. ``{"action": "Billiards"}`` for "when
    does {action} happen?"); `metadata` holds anything else source-specific.
    """

    id: str
    source: str
    task: str
    video: str
    labels: list[LabelSpec]
    split: str
    clip_start: float | None = None
    clip_end: float | None = None
    context: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form written by `vstar-data samples` (clip bounds only when set)."""
        out: dict[str, Any] = {"id": self.id, "source": self.source, "task": self.task,
                               "split": self.split, "video": self.video, "labels": self.labels}
        if self.clip_start is not None:
            out["clip_start"] = self.clip_start
        if self.clip_end is not None:
            out["clip_end"] = self.clip_end
        if self.context:
            out["context"] = self.context
        if self.metadata:
            out["metadata"] = self.metadata
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, file: str | None = None, row: Any = None) -> "Sample":
        """Inverse of `to_dict`; labels are validated. Extra keys (question, ...) are ignored."""
        missing = [k for k in ("id", "source", "task", "video", "labels", "split") if k not in data]
        if missing:
            raise LabelSpecError(f"sample is missing {', '.join(missing)}", file=file, row=row,
                                 key=missing[0])
        return cls(id=str(data["id"]), source=data["source"], task=data["task"], video=data["video"],
                   labels=validate_label_specs(data["labels"], file=file, row=row), split=data["split"],
                   clip_start=data.get("clip_start"), clip_end=data.get("clip_end"),
                   context=dict(data.get("context") or {}), metadata=dict(data.get("metadata") or {}))
