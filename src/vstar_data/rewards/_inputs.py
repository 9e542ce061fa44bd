"""Reading what RL frameworks hand a reward function: label specs in any of their forms, and a
completion as a string or as conversational messages."""
from __future__ import annotations

import json
from typing import Any

from ..errors import ConfigError
from ..schemas import nonfinite_error

# Fields of the published dataset's `labels` struct (vstar_data.dataset.rows.LABEL_FIELDS): a
# struct is turned back into a spec here without importing the dataset stage.
_STRUCT_VALUE_FIELDS = (("value_text", "value"), ("value_number", "value"), ("values", "value"))
_STRUCT_MARKERS = frozenset({"value_text", "value_number", "values"})


def _from_struct(struct: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    for key, val in struct.items():
        if val is None or key == "extra":
            continue
        spec[dict(_STRUCT_VALUE_FIELDS).get(key, key)] = val
    if struct.get("extra"):
        extra = struct["extra"]
        spec.update(json.loads(extra) if isinstance(extra, str) else extra)
    return spec


def parse_labels(labels: Any) -> list[dict[str, Any]]:
    """Label specs from a list of spec dicts, the published dataset's label structs, one spec
    dict, or a JSON string of any of these. Keys that Arrow filled with None are dropped. A spec
    holding a non-finite number (NaN, Infinity, 1e999) raises ConfigError."""
    if labels is None:
        return []
    if isinstance(labels, (bytes, bytearray)):
        labels = labels.decode("utf-8")
    if isinstance(labels, str):
        text = labels.strip()
        if not text:
            return []
        try:
            labels = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"labels is a string but not JSON label specs: {exc.msg} ({text[:80]!r})") from None
    if isinstance(labels, dict):
        labels = labels["labels"] if "labels" in labels and "type" not in labels else [labels]
    if not isinstance(labels, (list, tuple)):
        raise ConfigError(f"labels must be label specs (a list of objects), got {type(labels).__name__}")
    out = []
    for item in labels:
        if isinstance(item, str):
            out.extend(parse_labels(item))
            continue
        if not isinstance(item, dict) or "type" not in item:
            raise ConfigError(f"a label spec must be an object with a 'type', got {str(item)[:80]!r}")
        spec = _from_struct(item) if _STRUCT_MARKERS & item.keys() or "extra" in item else \
            {k: v for k, v in item.items() if v is not None}
        problem = nonfinite_error(spec)  # a NaN / Infinity target would score any answer
        if problem:
            raise ConfigError(f"label {spec.get('name')!r} ({spec['type']}) is not a usable label spec: {problem}",
                              key=str(spec.get("name")))
        out.append(spec)
    return out


def completion_text(completion: Any) -> str:
    """The answer text of a completion: a string, one message, or a message list (the last
    assistant message; content as a string or as typed parts, whose text parts are joined)."""
    if completion is None:
        return ""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        completion = [completion]
    if isinstance(completion, (list, tuple)):
        msgs = [m for m in completion if isinstance(m, dict)]
        chosen = next((m for m in reversed(msgs) if m.get("role") == "assistant"), msgs[-1] if msgs else None)
        if chosen is None:
            return " ".join(str(c) for c in completion)
        content = chosen.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, (list, tuple)):
            return "".join(p.get("text") or "" for p in content if isinstance(p, dict) and p.get("type", "text") == "text")
        return ""
    return str(completion)
