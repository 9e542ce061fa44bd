"""The template backend (the paper's "Video-LLaVA+" baseline): deterministic answers built from
the labels with the task template's answer phrasings."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from vstar_data.backends.base import GenerationError, Request
from vstar_data.backends.template import TemplateBackend
from vstar_data.verify.labels.base import LabelResult, LabelType, Profile
from vstar_data.registry import LABEL_TYPES
from vstar_data.testing.backends import BackendContract, make_frames


class TestTemplateBackendContract(BackendContract):
    backend = "template"


def _req(sample_id: str, labels: list[dict[str, Any]], task: str = "action_recognition") -> Request:
    return Request(frames=None, prompt="What is happening?", sample_id=sample_id, labels=labels, task=task)


def _category(value: str) -> list[dict[str, Any]]:
    return [{"type": "category", "name": "action", "value": value}]


class CountLabel(LabelType):
    """A fake label type whose answer phrasing differs from its hint (to see which one is used)."""

    type_name = "fakecount"

    def verify(self, spec: dict[str, Any], answer: str, profile: Profile) -> LabelResult:
        return LabelResult(spec["name"], self.type_name, str(spec["value"]) in answer, 1.0)

    def hint_text(self, spec: dict[str, Any]) -> str:
        return str(spec["value"])

    def answer_text(self, spec: dict[str, Any]) -> str:
        if spec["value"] == "explode":
            raise ValueError("cannot phrase this")
        return f"{spec['value']} repetitions"


def _write_template(folder: Path, answers: list[str], task: str = "fake_counting") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = {"task": task, "label_types": ["fakecount"],
            "questions": [{"id": f"q{i:02d}", "text": f"How many times, variant {i}?"} for i in range(10)],
            "generation_prompt": "Question: {question}", "rationalization_prompt": "Question: {question} {label}",
            "answers": answers, "metadata": {"version": 1}}
    (folder / f"{task}.yaml").write_text(yaml.safe_dump(data), "utf-8")
    return folder


@pytest.fixture
def fake_label(clean_registries: None) -> None:
    LABEL_TYPES.register("fakecount", CountLabel)


def _fake_backend(tmp_path: Path, answers: list[str], seed: int = 0) -> TemplateBackend:
    backend = TemplateBackend(templates=[_write_template(tmp_path / "tpl", answers)], seed=seed)
    backend.load()
    return backend


def test_same_seed_and_id_same_answer_across_instances() -> None:
    reqs = [_req(f"clip-{i}", _category("playing guitar")) for i in range(40)]
    first = TemplateBackend(seed=3).generate(reqs)
    assert TemplateBackend(seed=3).generate(list(reversed(reqs))) == list(reversed(first))
    assert len(set(first)) > 1, "the phrasing should vary across sample ids"
    assert TemplateBackend(seed=4).generate(reqs) != first, "the seed should change some phrasings"


def test_answer_ignores_prompt_frames_and_sampling_options() -> None:
    base = _req("clip-1", _category("yoga"))
    other = Request(frames=make_frames(2), prompt="something else", sample_id="clip-1", labels=base.labels,
                    task=base.task)
    backend = TemplateBackend(temperature=0.7, model="ignored", max_new_tokens=3)
    assert backend.generate([base]) == backend.generate([other])


@pytest.mark.parametrize("value", ["playing guitar", "arm wrestling", "putting on eyeliner"])
def test_every_shipped_action_phrasing_contains_the_class(value: str) -> None:
    backend = TemplateBackend()
    answers = {a for a in backend.generate([_req(f"id-{i}", _category(value)) for i in range(60)])}
    assert len(answers) == len(backend.templates.get("action_recognition").answers)
    assert all(value in a for a in answers)


def test_answers_verify_with_the_real_category_verifier() -> None:
    category = LABEL_TYPES.get("category")()
    spec = _category("hitting baseball")[0]
    for answer in TemplateBackend().generate([_req(f"id-{i}", [spec]) for i in range(12)]):
        assert category.verify(spec, answer, Profile("default")).passed, answer


def test_label_placeholder_lists_every_label_as_name_value() -> None:
    labels = [{"type": "number", "name": "dive_score", "value": 82.5},
              {"type": "category", "name": "dive_code", "value": "407c"}]
    backend = TemplateBackend()
    answers = backend.generate([_req(f"d{i}", labels, task="action_quality") for i in range(20)])
    for answer in answers:
        assert "dive score: 82.5" in answer and "dive code: 407c" in answer, answer


def test_fake_label_type_uses_answer_text(tmp_path: Path, fake_label: None) -> None:
    backend = _fake_backend(tmp_path, ["It repeats {reps}.", "Counted: {label}."])
    labels = [{"type": "fakecount", "name": "reps", "value": 7}]
    answers = set(backend.generate([_req(f"s{i}", labels, task="fake_counting") for i in range(30)]))
    assert answers == {"It repeats 7 repetitions.", "Counted: reps: 7 repetitions."}


def test_phrasings_naming_absent_labels_are_not_used(tmp_path: Path, fake_label: None) -> None:
    backend = _fake_backend(tmp_path, ["{reps} and {tempo}.", "Only {reps}."])
    labels = [{"type": "fakecount", "name": "reps", "value": 2}]
    answers = set(backend.generate([_req(f"s{i}", labels, task="fake_counting") for i in range(20)]))
    assert answers == {"Only 2 repetitions."}


def test_no_usable_phrasing_is_a_per_request_failure(tmp_path: Path, fake_label: None) -> None:
    backend = _fake_backend(tmp_path, ["{tempo} only."])
    good = _req("ok", _category("yoga"))
    bad = _req("bad", [{"type": "fakecount", "name": "reps", "value": 2}], task="fake_counting")
    out = backend.generate([good, bad])
    assert isinstance(out[0], str) and "yoga" in out[0]
    assert isinstance(out[1], GenerationError) and out[1].reason == "answer_template_missing"
    assert out[1].sample_id == "bad" and "reps" in out[1].detail


def test_unphrasable_label_and_missing_labels_fail_alone(tmp_path: Path, fake_label: None) -> None:
    backend = _fake_backend(tmp_path, ["Counted {reps}."])
    reqs = [_req("a", [{"type": "fakecount", "name": "reps", "value": 3}], task="fake_counting"),
            _req("b", [{"type": "fakecount", "name": "reps", "value": "explode"}], task="fake_counting"),
            _req("c", [], task="fake_counting")]
    out = backend.generate(reqs)
    assert out[0] == "Counted 3 repetitions."
    assert [(e.reason, e.sample_id) for e in out[1:]] == [("label_unphrasable", "b"), ("label_unphrasable", "c")]
    assert "cannot phrase this" in out[1].detail


def test_revision_tracks_answer_phrasings(tmp_path: Path, fake_label: None) -> None:
    a = _fake_backend(tmp_path / "a", ["Counted {reps}."])
    b = _fake_backend(tmp_path / "b", ["Counted {reps}."])
    c = _fake_backend(tmp_path / "c", ["Saw {reps}."])
    assert a.model_revision == b.model_revision != c.model_revision
    assert a.model_name == "template"


def test_accepts_a_template_index_instance() -> None:
    from vstar_data.sources.templates import TemplateIndex

    index = TemplateIndex()
    backend = TemplateBackend(templates=index)
    backend.load()
    assert backend.templates is index


SHAPES_LABELS = [{"type": "category", "name": "shape", "value": "red circle"},
                 {"type": "number", "name": "bounces", "value": 3},
                 {"type": "interval", "name": "moving", "start": 1.2, "end": 4.5},
                 {"type": "sequence", "name": "directions", "value": ["left", "right", "up"]}]


@pytest.mark.parametrize("task, labels", [
    ("shapes", SHAPES_LABELS),
    ("temporal_localization", [{"type": "interval", "name": "high_jump", "start": 12.4, "end": 18.9}]),
    ("action_quality", [{"type": "sequence", "name": "sub_actions", "value": ["Forward", "3.5 Soms.Tuck", "Entry"]},
                        {"type": "number", "name": "dive_score", "value": 82.5},
                        {"type": "category", "name": "dive_code", "value": "407c"}]),
])
def test_answers_pass_the_real_verifiers_of_all_four_label_types(task: str, labels: list[dict[str, Any]]) -> None:
    backend = TemplateBackend()
    answers = backend.generate([_req(f"{task}-{i}", labels, task=task) for i in range(8)])
    for answer in answers:
        assert isinstance(answer, str), answer
        for spec in labels:
            result = LABEL_TYPES.get(spec["type"])().verify(spec, answer, Profile("default"))
            assert result.passed, (spec, answer, result)
