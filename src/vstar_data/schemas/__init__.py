"""JSON Schemas shipped with the package, loaded once and compiled into validators.

Every number in every schema must be finite. JSON Schema cannot say so, and Python's `json.loads`
reads `NaN`, `Infinity` and `1e999` (-> inf) without complaint, so the validators built here treat
a non-finite float as no number at all, and `first_error` names where one sits even in keys a
schema leaves open (a label spec's extra keys): such a value would be published as invalid JSON.
"""
from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib.resources import files
from typing import Any


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict[str, Any]:
    """The schema `name` (e.g. ``"label_spec"``) from this package's data files."""
    return json.loads(files(__name__).joinpath(f"{name}.schema.json").read_text("utf-8"))


@lru_cache(maxsize=None)
def validator(name: str) -> Any:
    """A compiled jsonschema validator for schema `name` (compiling is the slow part)."""
    import jsonschema

    schema = load_schema(name)
    return validator_class(schema)(schema)


def validator_class(schema: dict[str, Any]) -> Any:
    """The jsonschema validator class for `schema`, with `number` meaning a finite number."""
    import jsonschema

    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    checker = cls.TYPE_CHECKER.redefine(
        "number", lambda chk, v: cls.TYPE_CHECKER.is_type(v, "number") and (type(v) is not float or math.isfinite(v)))
    return jsonschema.validators.extend(cls, type_checker=checker)


NONFINITE_HINT = "is not a finite number (NaN, Infinity and numbers too large for a float, e.g. 1e999, are not allowed)"


def all_finite(value: Any) -> bool:
    """True when every float in `value` (nested lists and dicts) is finite: the fast check, run on
    every published row; `find_nonfinite` then says where."""
    t = type(value)
    if t is float:
        return value - value == 0.0  # NaN and +-inf give NaN
    if t is dict:
        items: Any = value.values()
    elif t is list or t is tuple:
        items = value
    elif t is str or t is int or t is bool or value is None:
        return True
    else:
        return find_nonfinite(value) is None  # subclasses: the general walk
    for v in items:
        t = type(v)
        if t is str or t is int or t is bool or v is None:
            continue
        if t is float:
            if v - v != 0.0:
                return False
        elif not all_finite(v):
            return False
    return True


def find_nonfinite(value: Any) -> tuple[str, float] | None:
    """(where, the value) of the first non-finite float in `value` (nested lists and dicts), the
    place as 'key/0/key' ('(top)' for `value` itself); None when every number is finite."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return path or "(top)", item
        elif isinstance(item, dict):
            stack.extend((v, f"{path}/{k}" if path else str(k)) for k, v in reversed(list(item.items())))
        elif isinstance(item, (list, tuple)):
            stack.extend((v, f"{path}/{i}" if path else str(i)) for i, v in reversed(list(enumerate(item))))
    return None


def nonfinite_error(value: Any) -> str | None:
    """'at key: inf is not a finite number ...' for the first non-finite float in `value`, else None."""
    found = find_nonfinite(value)
    return None if found is None else f"at {found[0]}: {found[1]!r} {NONFINITE_HINT}"


def first_error(name: str, instance: Any) -> str | None:
    """The most relevant validation error as 'at key: message', or None if valid (a non-finite
    number anywhere in `instance` is an error, reported first)."""
    import jsonschema

    nonfinite = nonfinite_error(instance)
    if nonfinite:
        return nonfinite
    errors = list(validator(name).iter_errors(instance))
    if not errors:
        return None
    err = jsonschema.exceptions.best_match(errors)
    path = "/".join(str(p) for p in err.absolute_path)
    message = err.message
    if err.validator == "pattern" and err.validator_value == "\\S":
        message = f"{err.instance!r} is blank (a label value needs a visible character)"
    return f"at {path or '(top)'}: {message}"
