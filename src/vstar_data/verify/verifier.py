"""The Parser-Verifier: does an answer state every label, under a named threshold profile?

`Verifier(profile).verify(labels, answer, origin)` checks each label with its label type and
accepts only when all pass; a rationalized answer (one written with the label given as a hint)
is also rejected when it merely leans on the hint ("as the answer states ...") instead of
concluding the label itself. `verify_profiles` scores one answer under several profiles at once,
so tightening acceptance later is a re-verify, never a re-generate.

Each label type also checks commitment (labels/_commitment.py): the clause that states the label
must assert it, and no rival value (another class of the source's `vocabulary`, another number,
interval or sequence) may be stated as strongly. A rationalized answer is rejected as a hint echo
when it uses a stock deferring phrase, defers to the given answer in other words with too
little visual description of its own, or only restates the hinted value (fewer than
`echo_min_evidence` words of visual description, any label type; echo.py). Answers whose decision rests on such cues are
marked `ambiguous`; an optional judge (judge.py) is asked about those (or about all answers) and
its yes/no is recorded next to the rules' decision.

A label with `"role": "constraint"` (what the source knows besides the target) need not be
stated; it fails only when the answer asserts a conflicting value (reason `contradicts`, span on
the conflicting words: verify/constraints.py).

Profiles live in the shipped `profiles.yaml` (paper, code, default); a path to a YAML file of the
same shape is accepted too.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import yaml

from ..errors import ConfigError, file_problem
from ..sources.sample import is_constraint, target_labels
from .constraints import check_constraint
from .repetition import repeated_run
from .echo import is_hint_echo, leans_on_hint, restates_hint
from .labels.analysis import analyze
from .labels.base import LabelResult, LabelType, Profile
from ..registry import LABEL_TYPES

ORIGINS = ("generated", "rationalized")
_PROFILE_FIELDS = {f.name: f for f in fields(Profile)}
_PROFILE_META = {"description", "extends", "name"}

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
        if key in ("reject_hint_echo", "require_commitment"):
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
        elif key in ("echo_min_evidence", "max_repeats") and (value < 0 or value != int(value)):
            problems.append(f"{key} must be a whole number >= 0, got {value}")
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
        problem = file_problem(path)
        if problem:
            raise ConfigError(f"profile file {problem}", file=path)
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
# Reasons that come from the commitment check or the paraphrased echo test: a rule-based call on
# wording, so the answer is `ambiguous` (a judge may be asked about it).
AMBIGUOUS_REASONS = frozenset({"hedged", "questioned", "counterfactual", "not_carried_out", "attributed_elsewhere",
                               "retracted", "competing_value", "negated", "excluded"})


@dataclass(slots=True)
class Verdict:
    """Whether one answer is accepted under one profile, with every label's result."""

    accepted: bool
    profile: str
    results: list[LabelResult] = field(default_factory=list)
    reason: str | None = None
    echo: str | None = None            # the hint-echo phrase (or deferring clause) found, if any
    ambiguous: bool = False            # the decision rests on commitment/echo cues
    judge: dict[str, Any] | None = None  # the judge's verdict, when one was asked

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"accepted": self.accepted, "profile": self.profile,
                               "scores": [r.to_dict() for r in self.results], "reason": self.reason}
        if self.echo:
            out["hint_echo"] = self.echo
        if self.ambiguous:
            out["ambiguous"] = True
        if self.judge is not None:
            out["judge"] = self.judge
        return out


Vocabulary = Sequence[str] | Mapping[str, Sequence[str]]


class Verifier:
    """Checks answers against label specs under one profile; label types are resolved once.

    `vocabulary`: the source's class list (a list for every vocabulary-using label, or a mapping
    label name -> list); a spec's own `vocabulary` key wins. `enforce_constraints=False` (run
    config `verifier.constraints: measure`) still checks constraint labels and records the result,
    but accepts on the targets alone: the ablation that measures what the constraints catch. `judge`: an optional `Judge`
    (verify/judge.py) asked about ambiguous answers (or all, per its `when`).
    """

    def __init__(self, profile: str | Path | Profile = "default", *, vocabulary: Vocabulary | None = None,
                 judge: Any = None, enforce_constraints: bool = True) -> None:
        self.profile = load_profile(profile)
        self.enforce_constraints = enforce_constraints
        self._types: dict[str, LabelType] = {}
        self.vocabulary = vocabulary
        self.judge = judge

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

    def with_vocabulary(self, spec: dict[str, Any], lt: LabelType, vocabulary: Vocabulary | None) -> dict[str, Any]:
        """`spec` with the source's class list for its name when its type uses one and it has
        none of its own (the rewards verify with it too, so RL is held to generation's rule)."""
        if vocabulary is None or not lt.uses_vocabulary or spec.get("vocabulary"):
            return spec
        if is_constraint(spec) and not isinstance(vocabulary, Mapping):
            return spec            # one class list is the target's; a constraint's comes by its name
        names = vocabulary.get(spec.get("name", "")) if isinstance(vocabulary, Mapping) else vocabulary
        return {**spec, "vocabulary": names} if names else spec

    def verify(self, labels: Iterable[dict[str, Any]], answer: str, origin: str = "generated",
               vocabulary: Vocabulary | None = None) -> Verdict:
        """All labels must pass and commit; a rationalized answer that leans on the hint is rejected
        ("hint_echo")."""
        if origin not in ORIGINS:
            raise ConfigError(f"origin must be one of {', '.join(ORIGINS)}, got {origin!r}", key="origin")
        text = answer if isinstance(answer, str) else ""
        profile = self.profile
        vocab = vocabulary if vocabulary is not None else self.vocabulary
        labels = list(labels)
        results = []
        for spec in labels:
            lt = self.label_type(spec["type"])
            if is_constraint(spec):
                results.append(check_constraint(lt, self.with_vocabulary(spec, lt, vocab), text, profile))
            else:
                results.append(lt.verify(self.with_vocabulary(spec, lt, vocab), text, profile))
        reason = next((r.reason or "failed" for r, spec in zip(results, labels)
                       if not r.passed and (self.enforce_constraints or not is_constraint(spec))), None)
        ambiguous = any(r.reason in AMBIGUOUS_REASONS for r in results)
        if repeated_run(text, int(profile.max_repeats)) is not None:
            reason = "degenerate"          # a loop names whatever it repeats: no answer (repetition.py)
        echo = None
        if origin == "rationalized" and profile.reject_hint_echo and text.strip():
            found, echo = is_hint_echo(text)
            if found:
                reason = "hint_echo"
            else:
                stems = _label_stems(self, labels)
                echo = leans_on_hint(text, stems, profile.echo_min_evidence)
                if echo is None and reason is None:       # states the value, describes too little
                    echo = restates_hint(text, stems, profile.echo_min_evidence)
                if echo is not None:
                    reason, ambiguous = "hint_echo", True
        verdict = Verdict(reason is None, profile.name, results, reason, echo, ambiguous)
        if self.judge is not None and self.judge.wants(verdict):
            verdict.judge = self.judge.ask(labels, text, verdict)
        return verdict


def _label_stems(verifier: Verifier, labels: list[dict[str, Any]]) -> frozenset[str]:
    """Stems of the words of every label's value (as its hint states it)."""
    out: set[str] = set()
    for spec in target_labels(labels):      # the hint gives only targets
        try:
            out.update(analyze(verifier.label_type(spec["type"]).hint_text(spec)).stems)
        except Exception:          # a label type that cannot phrase its value adds nothing
            continue
    return frozenset(out)


@lru_cache(maxsize=None)
def _builtin_verifier(name: str) -> Verifier:
    return Verifier(name)


def verify_profiles(labels: Iterable[dict[str, Any]], answer: str, origin: str = "generated",
                    profiles: Iterable[str | Path | Profile | Verifier] = ("paper", "code", "default"),
                    vocabulary: Vocabulary | None = None) -> dict[str, Verdict]:
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
        out[v.profile.name] = v.verify(labels, answer, origin, vocabulary)
    return out
