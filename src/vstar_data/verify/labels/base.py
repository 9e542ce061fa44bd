"""The LabelType interface, its result, verifier profiles (named threshold sets) and the context
a type's held-out metrics are scored in."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Mapping

from ..metrics import Metric


@dataclass(frozen=True, slots=True)
class Profile:
    """Verifier thresholds. A spec's own tolerance (rel_tol / abs_tol / min_iou) wins over these."""

    name: str
    fuzzy_threshold: float = 85.0      # rapidfuzz score 0-100 for class names and sequence items
    rel_tol: float = 0.1               # numbers: relative margin when the spec gives none
    abs_tol: float | None = None       # numbers: absolute margin when the spec gives none
    min_iou: float = 0.5               # intervals: temporal IoU when the spec gives none
    reject_hint_echo: bool = True      # rationalized answers that only echo the hint fail
    require_commitment: bool = True    # the stating clause must assert the label (labels/_commitment.py)
    echo_min_evidence: int = 4         # a rationalized answer that defers to the hint needs this many
                                       # words of visual description elsewhere (verify/echo.py)
    max_repeats: int = 3               # more copies of one 1-4 word phrase in a row is a loop, no
                                       # answer (verify/repetition.py); 0: not checked

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class LabelResult:
    """Whether one label was found in an answer, how well, where, and why not."""

    name: str
    type: str
    passed: bool
    score: float
    span: tuple[int, int] | None = None   # character offsets of the matched text in the answer
    matched: str | None = None            # the matched text (answer[span[0]:span[1]])
    reason: str | None = None             # slug when failed: not_found, negated, out_of_tolerance ...
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "passed": self.passed,
                               "score": round(float(self.score), 4),
                               "span": list(self.span) if self.span else None, "matched": self.matched,
                               "reason": self.reason}
        if self.extra:
            out.update(self.extra)
        return out


UNUSABLE = "unusable_label"


def has_letters(text: str) -> bool:
    """Whether `text` holds a letter or digit: a label value without one ("🙂🙂", "?!...") is
    valid JSON but no answer can state it, so types reject it as `unusable_label`."""
    return any(c.isalnum() for c in text)


def unusable(type_name: str, spec: dict[str, Any], what: str) -> LabelResult:
    """The failed result for a label no answer can state; `what` names the offending value."""
    return LabelResult(spec.get("name", ""), type_name, False, 0.0, reason=UNUSABLE,
                       extra={"detail": f"{what} has no letters or digits to find in an answer"})


@dataclass(frozen=True, slots=True)
class ScoreContext:
    """What scoring one held-out answer may use besides its spec and verdict: the verifier profile,
    and the source's classes for this label (types with `uses_vocabulary`; empty otherwise)."""

    profile: Profile
    vocabulary: tuple[str, ...] = ()


class LabelType(ABC):
    """One kind of label. Subclasses set `type_name` and implement `check` (or `verify`) and
    `hint_text`.

    `uses_vocabulary`: the verifier passes the source's class list (when it has one) to this type
    as the spec's `vocabulary` key, unless the spec carries its own.

    `in_seconds`: the answer states times of the clip, so a model that is not given the frames'
    times is told them in the prompt (`frames.time_instruction: auto`, video/time_instruction.py).

    Held-out metrics are declared as data: `score` turns one answer into per-answer values,
    `metrics` says how each reported metric aggregates them (verify/metrics.py), and `right` names
    the per-answer value that decides whether the label counts as right for `accuracy`. By default
    a type reports `correct`, the verifier's verdict.
    """

    type_name: ClassVar[str]
    uses_vocabulary: ClassVar[bool] = False
    in_seconds: ClassVar[bool] = False
    metrics: ClassVar[tuple[Metric, ...]] = (Metric("correct", label="correct"),)
    right: ClassVar[str] = "correct"

    def verify(self, spec: dict[str, Any], answer: str, profile: Profile) -> LabelResult:
        """Does the free-text `answer` state this label? Never raises on odd text. A blank or
        non-text answer fails with `empty_answer`; any other goes to `check`."""
        if not (isinstance(answer, str) and answer.strip()):
            return LabelResult(spec.get("name", ""), self.type_name, False, 0.0, reason="empty_answer")
        return self.check(spec, answer, profile)

    def check(self, spec: dict[str, Any], answer: str, profile: Profile) -> LabelResult:
        """`verify` for an answer with text in it; a subclass implements this or overrides `verify`."""
        raise NotImplementedError(f"{type(self).__name__} must implement check() or verify()")

    @abstractmethod
    def hint_text(self, spec: dict[str, Any]) -> str:
        """The label's value as it appears in a hint ("3.2", "12.4 s to 18.9 s", "a, b, c")."""

    def contradiction(self, spec: dict[str, Any], answer: str, profile: Profile) -> LabelResult | None:
        """For a spec with `"role": "constraint"`: a failed result (reason `contradicts`, span on the
        conflicting words) when the answer asserts a value that conflicts with the spec, else a
        passed one (labels/contradiction.py). None: this type cannot tell, so a constraint of this
        type is refused when specs are validated."""
        return None

    @classmethod
    def checks_constraints(cls) -> bool:
        """Whether a spec of this type may be a constraint (the type implements `contradiction`)."""
        return cls.contradiction is not LabelType.contradiction

    def answer_text(self, spec: dict[str, Any]) -> str:
        """A short natural statement of the value, used by the template backend."""
        return self.hint_text(spec)

    def score(self, spec: dict[str, Any], answer: str | None, verdict: Mapping[str, Any],
              context: ScoreContext) -> dict[str, Any]:
        """Per-answer values the declared `metrics` aggregate, for one held-out answer. `answer` is
        None when no answer was produced (a skipped clip: it counts as wrong); `verdict` is the
        verifier's score for this label (`LabelResult.to_dict()`, {} when none)."""
        return {"correct": bool(verdict.get("passed"))}

    @classmethod
    def declares_metrics(cls) -> bool:
        """Whether this type declares metrics of its own (not only the default `correct`)."""
        return cls.metrics != LabelType.metrics

    @classmethod
    def metrics_text(cls, values: Mapping[str, Any]) -> str:
        """The declared metrics of one eval bucket as one table line ("top-1 80.0%, ...")."""
        return ", ".join(f"{m.display} {m.format_value(values.get(m.name))}" for m in cls.metrics if m.shown)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.verify is LabelType.verify and cls.check is LabelType.check and "type_name" in vars(cls):
            raise TypeError(f"label type {cls.__name__} must implement check() or verify()")
