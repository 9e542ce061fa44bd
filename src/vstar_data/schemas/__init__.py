"""JSON Schemas shipped with the package, loaded once and compiled into validators."""
from __future__ import annotations

import json
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
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def first_error(name: str, instance: Any) -> str | None:
    """The most relevant validation error as 'at key: message', or None if valid."""
    import jsonschema

    errors = list(validator(name).iter_errors(instance))
    if not errors:
        return None
    err = jsonschema.exceptions.best_match(errors)
    path = "/".join(str(p) for p in err.absolute_path)
    message = err.message
    if err.validator == "pattern" and err.validator_value == "\\S":
        message = f"{err.instance!r} is blank (a label value needs a visible character)"
    return f"at {path or '(top)'}: {message}"
