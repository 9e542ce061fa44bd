"""The LabelType interface, its result, and verifier profiles (named threshold sets)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


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


class LabelType(ABC):
    """One kind of label. Subclasses set `type_name` and implement `verify` and `hint_text`.

    `uses_vocabulary`: the verifier passes the source's class list (when it has one) to this type
    as the spec's `vocabulary` key, unless the spec carries its own.
    """

    type_name: ClassVar[str]
    uses_vocabulary: ClassVar[bool] = False

    @abstractmethod
    def verify(self, spec: dict[str, Any], answer: str, profile: Profile) -> LabelResult:
        """Does the free-text `answer` state this label? Never raises on odd text."""

    @abstractmethod
    def hint_text(self, spec: dict[str, Any]) -> str:
        """The label's value as it appears in a hint ("3.2", "12.4 s to 18.9 s", "a, b, c")."""

    def answer_text(self, spec: dict[str, Any]) -> str:
        """A short natural statement of the value, used by the template backend."""
        return self.hint_text(spec)
