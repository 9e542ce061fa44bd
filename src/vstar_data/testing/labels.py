"""LabelTypeContract: the conformance suite every label type (built-in or plugin) must pass.

Subclass it in a test module and say what to test, as class attributes or as fixtures of the
same (lowercase) names::

    class TestMyLabel(LabelTypeContract):
        label_type_cls = MyLabel
        spec = {"type": "my_type", "name": "colour", "value": "red"}
        passing = [(spec, "The ball is red.")]
        failing = [(spec, "The ball is blue."), (spec, "The ball is not red.")]

The suite checks the class shape and registration, that passing answers pass and failing ones
fail with a reason slug, that results are well formed (score in [0, 1], `matched` equals the
answer at `span`, JSON-serialisable), that the label's own hint text verifies, that odd text
never raises, that a label value without letters (an emoji, punctuation, blanks) is either refused
by spec validation (a skip at the source) or verified without raising, and that the declared held-out metrics are well formed (unique names, known
aggregations and formats) and score a passing answer as right, with finite values.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any, ClassVar

import pytest

from ..verify.labels.base import LabelResult, LabelType, Profile, ScoreContext
from ..verify.metrics import metric_problems
from ..errors import LabelSpecError
from ..registry import LABEL_TYPES
from ..sources.sample import validate_label_spec
from ..sources.templates import label_key

Case = tuple[dict[str, Any], str]
_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")
ODD_ANSWERS = ["", " ", "\n\n\t", "?!.,;:", "(((", "🙂" * 40, "0" * 500, "- - - -", "1:2:3:4:5", "a" * 5000,
               "The the the the.", "NaN inf -inf 1e309", "\x00\x01", "Ünïcödé wörds ünd zahlen 3,5"]

LETTERLESS_VALUES = ["🙂🙂", "?!...", "   "]


def letterless_specs(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """`spec` with each string value (and the first item of each list of strings) replaced by
    each of LETTERLESS_VALUES: the labels a careless annotation file holds."""
    out: list[dict[str, Any]] = []
    for key, value in spec.items():
        if key in ("type", "name"):
            continue
        for bad in LETTERLESS_VALUES:
            if isinstance(value, str):
                out.append({**spec, key: bad})
            elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                out.append({**spec, key: [bad, *value[1:]]})
    return out


def check_result(result: Any, spec: dict[str, Any], answer: str, type_name: str) -> None:
    """A LabelResult is well formed: names, score range, span/matched agreement, JSON output."""
    assert isinstance(result, LabelResult), f"verify must return a LabelResult, got {type(result).__name__}"
    assert result.name == spec.get("name", "") and result.type == type_name
    assert isinstance(result.passed, bool)
    assert 0.0 <= float(result.score) <= 1.0, f"score {result.score} outside [0, 1]"
    if result.span is not None:
        s, e = result.span
        assert 0 <= s <= e <= len(answer), f"span {result.span} outside the answer"
        assert result.matched == answer[s:e], f"matched {result.matched!r} != answer[{s}:{e}] {answer[s:e]!r}"
    if result.passed:
        assert result.reason is None, f"a passing result carries reason {result.reason!r}"
    else:
        assert isinstance(result.reason, str) and _SLUG.match(result.reason), \
            f"a failing result needs a reason slug, got {result.reason!r}"
    json.dumps(result.to_dict())


class LabelTypeContract:
    """Base class of a label type's conformance tests (not collected itself: no Test prefix)."""

    label_type_cls: ClassVar[type[LabelType] | None] = None
    spec: ClassVar[dict[str, Any] | None] = None
    passing: ClassVar[list[Case]] = []
    failing: ClassVar[list[Case]] = []

    @pytest.fixture
    def label_type_class(self) -> type[LabelType]:
        if self.label_type_cls is None:
            pytest.fail(f"{type(self).__name__} must set `label_type_cls` (or override the fixture)")
        return self.label_type_cls

    @pytest.fixture
    def label_type(self, label_type_class: type[LabelType]) -> LabelType:
        return label_type_class()

    @pytest.fixture
    def label_spec(self) -> dict[str, Any]:
        if self.spec is None:
            pytest.fail(f"{type(self).__name__} must set `spec`, one valid label spec")
        return dict(self.spec)

    @pytest.fixture
    def passing_cases(self) -> list[Case]:
        if not self.passing:
            pytest.fail(f"{type(self).__name__} must list `passing` (spec, answer) cases")
        return list(self.passing)

    @pytest.fixture
    def failing_cases(self) -> list[Case]:
        if not self.failing:
            pytest.fail(f"{type(self).__name__} must list `failing` (spec, answer) cases")
        return list(self.failing)

    @pytest.fixture
    def profile(self) -> Profile:
        """Thresholds the cases are written for (the dataclass defaults unless overridden)."""
        return Profile(name="contract")

    # shape ------------------------------------------------------------------------------------
    def test_is_label_type(self, label_type_class: type[LabelType]) -> None:
        assert issubclass(label_type_class, LabelType)
        assert isinstance(getattr(label_type_class, "type_name", None), str) and label_type_class.type_name

    def test_registered_under_its_type_name(self, label_type_class: type[LabelType]) -> None:
        name = label_type_class.type_name
        if name not in LABEL_TYPES:
            pytest.skip(f"label type {name!r} is not registered (plugins register via entry points)")
        assert LABEL_TYPES.get(name) is label_type_class

    def test_spec_is_valid(self, label_spec: dict[str, Any], label_type_class: type[LabelType]) -> None:
        assert label_spec["type"] == label_type_class.type_name
        if label_type_class.type_name in LABEL_TYPES:
            validate_label_spec(label_spec)

    # behaviour --------------------------------------------------------------------------------
    def test_passing_answers_pass(self, label_type: LabelType, passing_cases: list[Case], profile: Profile) -> None:
        for spec, answer in passing_cases:
            result = label_type.verify(spec, answer, profile)
            assert result.passed, f"expected a pass for {spec} in {answer!r}: {result}"
            check_result(result, spec, answer, label_type.type_name)

    def test_failing_answers_fail(self, label_type: LabelType, failing_cases: list[Case], profile: Profile) -> None:
        for spec, answer in failing_cases:
            result = label_type.verify(spec, answer, profile)
            assert not result.passed, f"expected a failure for {spec} in {answer!r}: {result}"
            check_result(result, spec, answer, label_type.type_name)

    def test_hint_text_verifies(self, label_type: LabelType, label_spec: dict[str, Any], profile: Profile) -> None:
        hint = label_type.hint_text(label_spec)
        assert isinstance(hint, str) and hint.strip()
        answer = f"So the {label_key(label_spec)} is {hint}."
        result = label_type.verify(label_spec, answer, profile)
        assert result.passed, f"the label's own hint text does not verify: {answer!r} -> {result}"

    def test_odd_text_never_raises(self, label_type: LabelType, label_spec: dict[str, Any], profile: Profile) -> None:
        for answer in ODD_ANSWERS:
            result = label_type.verify(label_spec, answer, profile)
            check_result(result, label_spec, answer, label_type.type_name)
            assert not result.passed or answer.strip(), "an empty answer cannot pass"

    def test_labels_without_letters_are_refused_or_verified(self, label_type: LabelType,
                                                            label_spec: dict[str, Any], profile: Profile) -> None:
        registered = label_type.type_name in LABEL_TYPES
        for spec in letterless_specs(label_spec):
            if registered:
                try:
                    validate_label_spec(dict(spec))
                except LabelSpecError:
                    continue                      # refused on the way in: the adapter skips the row
            label_type.hint_text(spec)
            label_type.answer_text(spec)
            for answer in [*ODD_ANSWERS, f"So it is {label_type.hint_text(spec)}."]:
                result = label_type.verify(spec, answer, profile)
                check_result(result, spec, answer, label_type.type_name)
                assert not result.passed or answer.strip(), "an empty answer cannot pass"

    def test_deterministic(self, label_type: LabelType, passing_cases: list[Case], failing_cases: list[Case],
                           profile: Profile) -> None:
        for spec, answer in passing_cases[:3] + failing_cases[:3]:
            first = label_type.verify(spec, answer, profile).to_dict()
            assert label_type.verify(spec, answer, profile).to_dict() == first

    # held-out metrics -------------------------------------------------------------------------
    def test_declared_metrics_are_well_formed(self, label_type_class: type[LabelType]) -> None:
        problems = metric_problems(label_type_class.metrics, label_type_class.right)
        assert not problems, f"{label_type_class.__name__}.metrics: " + "; ".join(problems)

    def test_passing_answer_scores_right(self, label_type: LabelType, passing_cases: list[Case],
                                         profile: Profile) -> None:
        for spec, answer in passing_cases[:3]:
            verdict = label_type.verify(spec, answer, profile).to_dict()
            vocabulary = (str(spec.get("value")),) if label_type.uses_vocabulary else ()
            item = label_type.score(spec, answer, verdict, ScoreContext(profile, vocabulary))
            assert isinstance(item, dict), f"score must return a dict, got {type(item).__name__}"
            assert item.get(label_type.right) is True or item.get(label_type.right) == 1, \
                f"a passing answer must score {label_type.right!r} right: {answer!r} -> {item}"
            for metric in label_type.metrics:
                assert metric.key in item, f"metric {metric.name!r} reads {metric.key!r}, missing from {item}"
            result = {m.name: m.aggregate([item[m.key]]) for m in label_type.metrics}
            for name, value in result.items():
                assert value is None or (isinstance(value, (int, float)) and math.isfinite(value)), \
                    f"metric {name!r} of one passing answer is {value!r}"
            json.dumps(result)
