"""The Parser-Verifier: does an answer state every label, under a named threshold profile?

`Verifier(profile).verify(labels, answer, origin)` checks each label with its label type and
accepts only when all pass; a rationalized answer (one written with the label given as a hint)
is also rejected when it merely leans on the hint ("as the answer states ...") instead of
concluding the label itself. `verify_profiles` scores one answer under several profiles at once,
so tightening acceptance later is a re-verify, never a re-generate.

Profiles live in the shipped `profiles.yaml` (paper, code, default); a path to a YAML file of the
same shape is accepted too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from ..errors import ConfigError
from .labels.base import LabelResult, LabelType, Profile
from ..registry import LABEL_TYPES

ORIGINS = ("generated", "rationalized")
_PROFILE_FIELDS = {f.name: f for f in fields(Profile)}
_PROFILE_META = {"description", "extends", "name"}

# Phrases by which an answer defers to the hint instead of reasoning to the label itself.
_ECHO_RE = re.compile("|".join(rf"(?:{p})" for p in (
    r"\bas (?:the |your )?(?:given |provided |supplied )?(?:answer|hint|label|question|prompt)s? "
    r"(?:states?|says?|indicates?|suggests?|shows?|tells? us|mentions?|reads?)\b",
    r"\bas (?:stated|given|mentioned|indicated|provided|specified|noted|suggested|hinted|shown) "
    r"(?:in|by) the (?:answer|hint|label|question|prompt)\b",
    r"\bthe (?:given|provided|supplied|expected) (?:answer|label|hint|solution)\b",
    r"\b(?:since|because|as) we(?: are|['’]re| were) (?:told|given|informed)\b",
    r"\bwe(?: are|['’]re| were) told\b",
    r"\baccording to the (?:given |provided |supplied )?(?:answer|hint|label|question|prompt)\b",
    r"\bthe answer (?:is|was) (?:given|provided|stated|said) (?:as|to be)\b",
    r"\bthe answer (?:states|says|indicates|suggests|tells us|mentions)\b",
    r"\bthe (?:hint|label|prompt) (?:says|states|indicates|suggests|tells us|reads|mentions|gives)\b",
    r"\b(?:the|this|a) hint\b",
    r"\b(?:as )?stated in the question\b",
    r"\bthe question (?:states|says|tells us|mentions) (?:that )?the answer\b",
    r"\b(?:based on|given) the (?:provided|given|supplied) (?:answer|hint|label|information)\b",
    r"\banswer key\b",
    r"\bthe answer (?:provided|given|supplied)\b",
    r"\bgiven (?:that )?the answer\b",
    r"\bwe (?:already )?know (?:that )?the answer\b",
    r"\b(?:explain|justify) why the (?:answer|label) is\b",
)), re.IGNORECASE)


def is_hint_echo(answer: str) -> tuple[bool, str | None]:
    """(True, phrase) when the answer defers to the given answer/hint rather than concluding it."""
    if not isinstance(answer, str):
        return False, None
    m = _ECHO_RE.search(answer)
    return (True, m.group(0)) if m else (False, None)


# Profiles -------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def builtin_profiles() -> dict[str, dict[str, Any]]:
    """The shipped profiles (name -> raw mapping), read once."""
    data = yaml.safe_load(files("vstar_data.verify").joinpath("profiles.yaml").read_text("utf-8"))
    return {name: dict(body or {}) for name, body in data.items()}


def _build(name: str, body: Mapping[str, Any], source: str) -> Profile:
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key, value in body.items():
        if key in _PROFILE_META:
            continue
        if key not in _PROFILE_FIELDS or key == "name":
            problems.append(f"unknown key {key!r} (known: {', '.join(sorted(set(_PROFILE_FIELDS) - {'name'}))})")
            continue
        if key == "reject_hint_echo":
            if not isinstance(value, bool):
                problems.append(f"{key} must be true or false, got {value!r}")
        elif value is None and key == "abs_tol":
            pass
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{key} must be a number, got {value!r}")
            continue
        elif key == "fuzzy_threshold" and not 0 <= value <= 100:
            problems.append(f"fuzzy_threshold must be within 0-100, got {value}")
        elif key in ("rel_tol", "abs_tol") and value < 0:
            problems.append(f"{key} must be >= 0, got {value}")
        elif key == "min_iou" and not 0 < value <= 1:
            problems.append(f"min_iou must be in (0, 1], got {value}")
        values[key] = value
    if problems:
        raise ConfigError(f"invalid verifier profile {name!r}", problems=problems, file=source)
    return Profile(name=name, **values)


def load_profile(profile: str | Path | Profile) -> Profile:
    """A built-in profile by name, or a YAML profile file (optionally `extends: <built-in>`)."""
    if isinstance(profile, Profile):
        return profile
    shipped = builtin_profiles()
    key = str(profile)
    if key in shipped:
        return _build(key, shipped[key], "profiles.yaml")
    path = Path(key)
    if path.suffix.lower() in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise ConfigError("profile file does not exist", file=path)
        try:
            body = yaml.safe_load(path.read_text("utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"profile file is not valid YAML: {exc}", file=path) from exc
        if not isinstance(body, dict):
            raise ConfigError("a profile file must be a mapping of thresholds, e.g. `fuzzy_threshold: 90`",
                              file=path)
        base = body.get("extends")
        if base is not None and base not in shipped:
            raise ConfigError(f"extends: unknown profile {base!r}; available: {', '.join(sorted(shipped))}",
                              file=path, key="extends")
        merged = {**(shipped[base] if base else {}), **body}
        return _build(str(body.get("name") or path.stem), merged, str(path))
    raise ConfigError(f"unknown verifier profile {key!r}; available: {', '.join(sorted(shipped))} "
                      f"(or a path to a YAML profile file)")


# Verdicts -------------------------------------------------------------------------------------
@dataclass(slots=True)
class Verdict:
    """Whether one answer is accepted under one profile, with every label's result."""

    accepted: bool
    profile: str
    results: list[LabelResult] = field(default_factory=list)
    reason: str | None = None
    echo: str | None = None            # the hint-echo phrase found, if any

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"accepted": self.accepted, "profile": self.profile,
                               "scores": [r.to_dict() for r in self.results], "reason": self.reason}
        if self.echo:
            out["hint_echo"] = self.echo
        return out


class Verifier:
    """Checks answers against label specs under one profile; label types are resolved once."""

    def __init__(self, profile: str | Path | Profile = "default") -> None:
        self.profile = load_profile(profile)
        self._types: dict[str, LabelType] = {}

    def label_type(self, type_name: str) -> LabelType:
        lt = self._types.get(type_name)
        if lt is None:
            lt = self._types[type_name] = LABEL_TYPES.get(type_name)()
        return lt

    def prepare(self, items: Iterable[tuple[Iterable[dict[str, Any]], str]]) -> None:
        """Let label types that batch (``text``: one embedding call) see a batch of (labels, answer)
        pairs before they are verified one by one; a pure speed-up, verdicts do not change."""
        batches: dict[str, tuple[list[dict[str, Any]], list[str]]] = {}
        for labels, answer in items:
            for spec in labels:
                lt = self.label_type(spec["type"])
                if hasattr(lt, "prepare") and isinstance(answer, str):
                    specs, answers = batches.setdefault(spec["type"], ([], []))
                    specs.append(spec)
                    answers.append(answer)
        for type_name, (specs, answers) in batches.items():
            self.label_type(type_name).prepare(specs, answers)

    def verify(self, labels: Iterable[dict[str, Any]], answer: str, origin: str = "generated") -> Verdict:
        """All labels must pass; a rationalized answer that echoes the hint is rejected ("hint_echo")."""
        if origin not in ORIGINS:
            raise ConfigError(f"origin must be one of {', '.join(ORIGINS)}, got {origin!r}", key="origin")
        text = answer if isinstance(answer, str) else ""
        profile = self.profile
        results = [self.label_type(spec["type"]).verify(spec, text, profile) for spec in labels]
        reason = next((r.reason or "failed" for r in results if not r.passed), None)
        echo = None
        if origin == "rationalized" and profile.reject_hint_echo:
            found, echo = is_hint_echo(text)
            if found:
                reason = "hint_echo"
        return Verdict(reason is None, profile.name, results, reason, echo)


@lru_cache(maxsize=None)
def _builtin_verifier(name: str) -> Verifier:
    return Verifier(name)


def verify_profiles(labels: Iterable[dict[str, Any]], answer: str, origin: str = "generated",
                    profiles: Iterable[str | Path | Profile | Verifier] = ("paper", "code", "default"),
                    ) -> dict[str, Verdict]:
    """One answer scored under several profiles at once: profile name -> Verdict.

    The answer is tokenised once (label types share a cache), so each extra profile costs little.
    """
    labels = list(labels)
    out: dict[str, Verdict] = {}
    for p in profiles:
        if isinstance(p, Verifier):
            v = p
        elif isinstance(p, str) and p in builtin_profiles():
            v = _builtin_verifier(p)
        else:
            v = Verifier(p)
        out[v.profile.name] = v.verify(labels, answer, origin)
    return out
