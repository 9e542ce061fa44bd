"""Adapter options (`--option key=value`): refuse unknown keys, parse numbers and booleans.

Options arrive as strings from the command line; each helper raises a ConfigError naming the key,
so a typo or a bad value fails before any work. Public API for adapter authors (from `vstar_data`).
"""
from __future__ import annotations

import difflib
from typing import Any, Iterable, Mapping

from ..errors import ConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def check_options(adapter: str, options: Mapping[str, Any], known: Iterable[str]) -> None:
    """Refuse unknown option keys (a typo such as ``windw=30`` must not be silently ignored)."""
    known = sorted(known)
    for key in options:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"adapter {adapter!r} has no option {key!r}.{hint} "
                              f"Known: {', '.join(known) or '(none)'}", key=key)


def float_option(options: Mapping[str, Any], key: str, default: float | None, *,
                 positive: bool = True) -> float | None:
    """A number option given as a string on the command line (or a number from Python)."""
    raw = options.get(key, default)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"option {key} must be a number, got {raw!r}", key=key) from None
    if value != value or value in (float("inf"), float("-inf")) or (positive and value <= 0):
        raise ConfigError(f"option {key} must be a positive number, got {raw!r}", key=key)
    return value


def int_option(options: Mapping[str, Any], key: str, default: int) -> int:
    """A whole-number option (>= 0)."""
    raw = options.get(key, default)
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ConfigError(f"option {key} must be a whole number, got {raw!r}", key=key) from None
    if value < 0:
        raise ConfigError(f"option {key} must be >= 0, got {raw!r}", key=key)
    return value


def bool_option(options: Mapping[str, Any], key: str, default: bool) -> bool:
    """A true/false option (1/0, yes/no, on/off, true/false)."""
    raw = options.get(key, default)
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"option {key} must be true or false, got {raw!r}", key=key)
