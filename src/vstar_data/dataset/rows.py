"""The published row: one `datasets.Features` for every config, and the attempt-row -> row mapping.

Attempt rows (what generation writes, `schemas/row.schema.json`) are checked by a validator
compiled from that JSON Schema to plain Python (jsonschema itself costs ~1 ms a row, 17 minutes
for VSTaR-1M); when a row fails, jsonschema is asked for the message, so the schema file stays
the single source of truth for both speed and wording. Both read `number` as a *finite* number
(see `schemas`), and the open parts of a row that are published (label specs' and scores' extra
keys) are searched for NaN / Infinity too; a label type that is not registered is refused, as
`vstar-data verify` refuses it.

Label specs are open-ended (plugins may add types and keys) but the Hub viewer needs one column
type for every config, so a spec becomes one struct whose fields are all nullable
(`LABEL_FIELDS`); keys the struct has no field for travel as JSON in `extra`, and
`struct_to_label` gives the spec back.
"""
from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from typing import Any, Callable

from ..errors import VstarError
from ..registry import LABEL_TYPES
from ..schemas import NONFINITE_HINT, all_finite, find_nonfinite, load_schema, validator_class
from ..sources.templates import VIDEO_TOKEN
from ..video.time_instruction import with_time_instruction

# Column order of the published dataset (README `dataset_info` and every parquet shard).
LABEL_FIELDS = ("type", "name", "value_text", "value_number", "values", "start", "end", "synonyms",
                "rel_tol", "abs_tol", "min_iou", "unit", "value_bool", "options", "correct", "box", "frame_time",
                "coords", "image_size", "min_similarity", "ordered", "extra")
SCORE_FIELDS = ("name", "type", "passed", "score", "span", "matched", "reason", "extra")
COLUMNS = ("id", "source", "task", "split", "video", "clip_start", "clip_end", "conversations",
           "question", "labels", "origin", "cycle", "model", "model_revision", "template_id",
           "verifier_profile", "verifier_scores", "frame_indices", "attempt", "variant")
# `variant`: which row form this is (`original` as generated, or a publish-time variant: `cot`,
# `direct`, `mc`; see dataset/variants.py).
_NUMERIC_KEYS = frozenset(("start", "end", "rel_tol", "abs_tol", "min_iou", "frame_time", "min_similarity"))
_TEXT_KEYS = frozenset(("type", "name", "unit", "coords"))
_NUMBER_LIST_KEYS = frozenset(("box", "image_size"))
_LABEL_TEMPLATE = dict.fromkeys(LABEL_FIELDS)
_SCORE_KEYS = frozenset(SCORE_FIELDS[:-1])


@lru_cache(maxsize=1)
def features() -> Any:
    """The one schema of every config, as `datasets.Features` (arrow schema: `.arrow_schema`)."""
    from datasets import Features, List, Value

    s, f64 = Value("string"), Value("float64")
    label = {"type": s, "name": s, "value_text": s, "value_number": f64, "values": List(s), "start": f64,
             "end": f64, "synonyms": List(s), "rel_tol": f64, "abs_tol": f64, "min_iou": f64, "unit": s,
             "value_bool": Value("bool"), "options": List(s), "correct": Value("int64"), "box": List(f64),
             "frame_time": f64, "coords": s, "image_size": List(f64), "min_similarity": f64,
             "ordered": Value("bool"), "extra": s}
    score = {"name": s, "type": s, "passed": Value("bool"), "score": f64, "span": List(Value("int64")),
             "matched": s, "reason": s, "extra": s}
    cols = {"id": s, "source": s, "task": s, "split": s, "video": s, "clip_start": f64, "clip_end": f64,
            "conversations": List({"from": s, "value": s}), "question": s, "labels": List(label),
            "origin": s, "cycle": Value("int32"), "model": s, "model_revision": s, "template_id": s,
            "verifier_profile": s, "verifier_scores": List(score), "frame_indices": List(Value("int32")),
            "attempt": Value("int32"), "variant": s}
    assert tuple(cols) == COLUMNS and tuple(label) == LABEL_FIELDS and tuple(score) == SCORE_FIELDS
    return Features(cols)


# --------------------------------------------------------------------------- label / score structs

def _extra(d: dict[str, Any]) -> str | None:
    return json.dumps(d, sort_keys=True, ensure_ascii=False) if d else None


def label_to_struct(spec: dict[str, Any]) -> dict[str, Any]:
    """A label spec as the `labels` struct: typed fields where the value fits, JSON `extra` otherwise."""
    out = _LABEL_TEMPLATE.copy()
    rest: dict[str, Any] = {}
    for key, val in spec.items():
        t = type(val)
        if t is str and key in _TEXT_KEYS:
            out[key] = val
        elif key == "value" and t is str:
            out["value_text"] = val
        elif key == "value" and (t is float or t is int):
            out["value_number"] = float(val)
        elif (t is float or t is int) and key in _NUMERIC_KEYS:
            out[key] = float(val)
        elif t is list and key in ("value", "synonyms", "options") and all(type(v) is str for v in val):
            out["values" if key == "value" else key] = val
        elif t is bool and key in ("value", "ordered"):
            out["value_bool" if key == "value" else key] = val
        elif t is int and key == "correct":
            out[key] = val
        elif t is list and key in _NUMBER_LIST_KEYS and all(type(v) in (int, float) for v in val):
            out[key] = [float(v) for v in val]
        else:
            rest[key] = val
    if rest:
        out["extra"] = _extra(rest)
    return out


def struct_to_label(struct: dict[str, Any]) -> dict[str, Any]:
    """Inverse of `label_to_struct` (numbers come back as floats)."""
    spec: dict[str, Any] = {"type": struct["type"], "name": struct["name"]}
    for field, key in (("value_text", "value"), ("value_number", "value"), ("values", "value"),
                       ("value_bool", "value")):
        if struct.get(field) is not None:
            spec[key] = struct[field]
    for key in ("start", "end", "synonyms", "rel_tol", "abs_tol", "min_iou", "unit", "options", "correct", "box",
                "frame_time", "coords", "image_size", "min_similarity", "ordered"):
        if struct.get(key) is not None:
            spec[key] = struct[key]
    if struct.get("extra"):
        spec.update(json.loads(struct["extra"]))
    return spec


def score_to_struct(score: dict[str, Any]) -> dict[str, Any]:
    """A verifier score (LabelResult.to_dict) as the `verifier_scores` struct; extra keys as JSON."""
    value = score.get("score")
    out = {"name": score.get("name"), "type": score.get("type"), "passed": score.get("passed"),
           "score": None if value is None else float(value), "span": score.get("span"),
           "matched": score.get("matched"), "reason": score.get("reason"), "extra": None}
    if not _SCORE_KEYS.issuperset(score):
        out["extra"] = _extra({k: v for k, v in score.items() if k not in _SCORE_KEYS})
    return out


def struct_to_score(struct: dict[str, Any]) -> dict[str, Any]:
    out = {k: struct.get(k) for k in SCORE_FIELDS[:-1]}
    if struct.get("extra"):
        out.update(json.loads(struct["extra"]))
    return out


# --------------------------------------------------------------------------- attempt row -> row

def conversations(question: str, answer: str, time_instruction: str | None = None) -> list[dict[str, str]]:
    """LLaVA-style turns: the `<video>` token opens the first human turn; the time instruction the
    model was given at generation (the attempt row's `time_instruction`) comes before the question,
    so training and exports repeat what the model was told."""
    user = with_time_instruction(time_instruction, question)
    return [{"from": "human", "value": f"{VIDEO_TOKEN}\n{user}"}, {"from": "gpt", "value": answer}]


def to_record(row: dict[str, Any], variant: str = "original") -> tuple:
    """A validated, accepted attempt row as a tuple in `COLUMNS` order."""
    clip_start, clip_end = row.get("clip_start"), row.get("clip_end")
    attempt = row.get("attempt")
    return (row["id"], row["source"], row["task"], row["split"], row["video"],
            None if clip_start is None else float(clip_start), None if clip_end is None else float(clip_end),
            conversations(row["question"], row["answer"], row.get("time_instruction")), row["question"],
            [label_to_struct(s) for s in row["labels"]], row["origin"], int(row["cycle"]), row["model"],
            row.get("model_revision"), row.get("template_id"), row["verifier_profile"],
            [score_to_struct(s) for s in row["verifier_scores"]],
            row.get("frame_indices"), None if attempt is None else int(attempt), variant)


def from_record(rec: dict[str, Any]) -> dict[str, Any]:
    """A published row (as datasets/pyarrow return it) with labels and scores as plain JSON again."""
    out = dict(rec)
    out["labels"] = [struct_to_label(s) for s in rec["labels"]]
    out["verifier_scores"] = [struct_to_score(s) for s in rec["verifier_scores"]]
    return out


# --------------------------------------------------------------------------- validation

@lru_cache(maxsize=1)
def _validators() -> tuple[Callable[[Any], bool], Any]:
    """(fast check compiled from the schema, jsonschema validator used for the error message)."""
    import jsonschema
    from referencing import Registry, Resource

    schema, label = load_schema("row"), load_schema("label_spec")
    resources = {label["$id"]: label, schema["$id"]: schema}
    registry = Registry().with_resources((k, Resource.from_contents(v)) for k, v in resources.items())
    return compile_schema(schema, resources), validator_class(schema)(schema, registry=registry)


def check_row(row: Any, *, file: str | None = None, line: int | None = None) -> None:
    """Raise VstarError naming the file, line and field when `row` breaks the attempt-row schema."""
    fast, slow = _validators()
    if not fast(row):  # the compiled check is exact for JSON input; jsonschema has the last word
        import jsonschema

        err = jsonschema.exceptions.best_match(slow.iter_errors(row))
        if err is not None:
            field = "/".join(str(p) for p in err.absolute_path) or "(row)"
            bad = err.instance
            message = f"{bad!r} {NONFINITE_HINT}" if type(bad) is float and not math.isfinite(bad) else err.message
            raise VstarError(f"invalid attempt row: {message}", file=file, row=line, key=field)
    for key in ("labels", "verifier_scores"):  # open objects: extra keys are published as JSON
        found = None if all_finite(row[key]) else find_nonfinite(row[key])
        if found is not None:
            raise VstarError(f"invalid attempt row: {found[1]!r} {NONFINITE_HINT}", file=file, row=line,
                             key=f"{key}/{found[0]}")
    start, end = row.get("clip_start"), row.get("clip_end")
    if start is not None and end is not None and end < start:
        raise VstarError("clip_end is before clip_start", file=file, row=line, key="clip_end")
    for i, spec in enumerate(row["labels"]):
        if spec["type"] not in LABEL_TYPES:
            raise VstarError(f"unknown label type {spec['type']!r} (is the plugin that provides it installed?); "
                             f"known: {', '.join(LABEL_TYPES.names())}", file=file, row=line, key=f"labels/{i}/type")
        if spec["type"] == "interval" and spec["end"] < spec["start"]:
            raise VstarError(f"interval {spec['name']!r} ends before it starts", file=file, row=line,
                             key="labels")


# --------------------------------------------------------------------------- schema compiler

# Exact-type tests: json.loads makes exactly these types. A value of a subclass fails the fast
# check and is judged by jsonschema instead, so the shortcut never changes a verdict.
_TYPE_EXPR = {
    "string": "type({v}) is str",
    "integer": "(type({v}) is int or type({v}) is float and {v}.is_integer())",
    "number": "(type({v}) is int or type({v}) is float and _isfinite({v}))",
    "boolean": "type({v}) is bool",
    "null": "{v} is None",
    "array": "type({v}) is list",
    "object": "type({v}) is dict",
}
_ANNOTATIONS = {"$schema", "$id", "$defs", "title", "description", "$comment", "default", "examples"}
_SIMPLE = {"type", "const", "enum", "required", "properties"} | _ANNOTATIONS


def compile_schema(schema: dict[str, Any], resources: dict[str, dict[str, Any]]) -> Callable[[Any], bool]:
    """Turn the JSON-Schema subset our schemas use into one Python predicate (`True` = valid).

    Unknown keywords raise, so a schema edit can never be silently skipped by the fast path.
    """
    return _Compiler(resources).build(schema)


class _Compiler:
    def __init__(self, resources: dict[str, dict[str, Any]]) -> None:
        self.resources = resources
        self.consts: dict[str, Any] = {}
        self.funcs: dict[int, str] = {}
        self.sources: list[str] = []
        self.nvar = 0

    def build(self, schema: dict[str, Any]) -> Callable[[Any], bool]:
        name = self.function(schema, schema)
        from jsonschema._utils import equal

        namespace: dict[str, Any] = {"_equal": equal, "_MISSING": object(), "_isfinite": math.isfinite, **self.consts}
        exec(compile("\n".join(self.sources), "<row.schema.json>", "exec"), namespace)  # noqa: S102
        return namespace[name]

    def const(self, value: Any) -> str:
        name = f"_c{len(self.consts)}"
        self.consts[name] = value
        return name

    def function(self, schema: dict[str, Any], base: dict[str, Any]) -> str:
        if id(schema) in self.funcs:
            return self.funcs[id(schema)]
        name = self.funcs[id(schema)] = f"_f{len(self.funcs)}"
        body = self.block(schema, "x", base, 1)
        self.sources.append(f"def {name}(x):\n" + "".join(body) + "    return True\n")
        return name

    def resolve(self, ref: str, base: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        uri, _, pointer = ref.partition("#")
        doc = self.resources[uri] if uri else base
        node = doc
        for part in filter(None, pointer.split("/")):
            node = node[part]
        return node, doc

    def test(self, s: dict[str, Any], v: str, base: dict[str, Any]) -> str:
        """A boolean expression for `s` (inline when it is a simple shape test, else a call)."""
        if not set(s) <= _SIMPLE or any(not set(sub) <= _SIMPLE - {"properties", "required"}
                                        for sub in s.get("properties", {}).values()):
            return f"{self.function(s, base)}({v})"
        terms = []
        if "type" in s:
            types = [s["type"]] if isinstance(s["type"], str) else s["type"]
            terms.append("(" + " or ".join(_TYPE_EXPR[t].format(v=v) for t in types) + ")")
        if "const" in s or "enum" in s:
            terms.append(self.value_test(s, v))
        if "required" in s or "properties" in s:
            parts = [f"{k!r} in {v}" for k in s.get("required", ())]
            for key, sub in s.get("properties", {}).items():
                self.nvar += 1
                inner = self.test(sub, f"{v}[{key!r}]", base)
                parts.append(f"({key!r} not in {v} or {inner})")
            terms.append(f"(type({v}) is not dict or (" + " and ".join(parts or ["True"]) + "))")
        return "(" + " and ".join(terms or ["True"]) + ")"

    def value_test(self, s: dict[str, Any], v: str) -> str:
        values = s["enum"] if "enum" in s else [s["const"]]
        if all(isinstance(a, str) for a in values):
            return f"(type({v}) is str and {v} in {self.const(frozenset(values))})"
        if len(values) == 1 and (values[0] is None or isinstance(values[0], bool)):
            return f"({v} is {values[0]!r})"
        return f"any(_equal({v}, _e) for _e in {self.const(values)})"

    def block(self, s: dict[str, Any], v: str, base: dict[str, Any], ind: int) -> list[str]:
        pad, out = "    " * ind, []
        types = [s["type"]] if isinstance(s.get("type"), str) else s.get("type", [])
        required = set(s.get("required", ()))

        def fail_if(cond: str) -> None:
            out.append(f"{pad}if {cond}:\n{pad}    return False\n")

        def when(kind: str, cond: str) -> str:
            """`cond`, guarded by an instance check unless `type` already settled it."""
            if types and all(t == kind or (kind == "number" and t == "integer") for t in types):
                return f"({cond})"
            return f"({_TYPE_EXPR[kind].format(v=v)} and {cond})"

        # `type` first and `required` before `properties`: later checks rely on both.
        order = {"type": 0, "required": 1}
        for kw in sorted(s, key=lambda k: order.get(k, 2)):
            arg = s[kw]
            if kw in _ANNOTATIONS or kw in ("then", "else"):
                continue
            if kw == "$ref":
                target, doc = self.resolve(arg, base)
                fail_if(f"not {self.function(target, doc)}({v})")
            elif kw == "type":
                fail_if("not (" + " or ".join(_TYPE_EXPR[t].format(v=v) for t in types) + ")")
            elif kw in ("enum", "const"):
                fail_if(f"not {self.value_test(s, v)}")
            elif kw in ("minLength", "maxLength"):
                fail_if(when("string", f"len({v}) {'<' if kw == 'minLength' else '>'} {int(arg)}"))
            elif kw == "pattern":
                fail_if(when("string", f"not {self.const(re.compile(arg))}.search({v})"))
            elif kw in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                op = {"minimum": "<", "maximum": ">", "exclusiveMinimum": "<=", "exclusiveMaximum": ">="}[kw]
                fail_if(when("number", f"{v} {op} {arg!r}"))
            elif kw in ("minItems", "maxItems"):
                fail_if(when("array", f"len({v}) {'<' if kw == 'minItems' else '>'} {int(arg)}"))
            elif kw == "items":
                self.nvar += 1
                item = f"_i{self.nvar}"
                inner = self.block(arg, item, base, ind + 2)
                if inner:
                    out.append(f"{pad}if {when('array', 'True')}:\n{pad}    for {item} in {v}:\n" + "".join(inner))
            elif kw == "required":
                fail_if(when("object", "not (" + " and ".join(f"{k!r} in {v}" for k in arg) + ")"))
            elif kw == "properties":
                body = []
                for key, sub in arg.items():
                    self.nvar += 1
                    var = f"_v{self.nvar}"
                    if types == ["object"] and key in required:
                        inner = self.block(sub, var, base, ind)
                        if inner:
                            body.append(f"{pad}{var} = {v}[{key!r}]\n" + "".join(inner))
                    else:
                        inner = self.block(sub, var, base, ind + 1)
                        if inner:
                            body.append(f"{pad}{var} = {v}.get({key!r}, _MISSING)\n"
                                        f"{pad}if {var} is not _MISSING:\n" + "".join(inner))
                if types == ["object"]:
                    out.extend(body)
                elif body:
                    out.append(f"{pad}if {when('object', 'True')}:\n")
                    out.extend("".join("    " + ln + "\n" for ln in b.splitlines()) for b in body)
            elif kw == "allOf":
                for sub in arg:
                    out.extend(self.block(sub, v, base, ind))
            elif kw == "not":
                fail_if(self.test(arg, v, base))
            elif kw in ("anyOf", "oneOf"):
                tests = [self.test(sub, v, base) for sub in arg]
                fail_if(f"not ({' or '.join(tests)})" if kw == "anyOf"
                        else f"({' + '.join(f'bool({t})' for t in tests)}) != 1")
            elif kw == "if":
                then, other = s.get("then"), s.get("else")
                out.append(f"{pad}if {self.test(arg, v, base)}:\n")
                out.extend(self.block(then, v, base, ind + 1) if then else [])
                out.append(f"{pad}    pass\n")
                if other:
                    out.append(f"{pad}else:\n")
                    out.extend(self.block(other, v, base, ind + 1))
                    out.append(f"{pad}    pass\n")
            else:
                raise NotImplementedError(f"JSON Schema keyword {kw!r} is not supported by the compiled "
                                          f"row check; extend rows._Compiler")
        return out
