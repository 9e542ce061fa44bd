"""Shipped question templates load and follow the paper's prompt shapes; bad files name file/key."""
from __future__ import annotations

import logging
import re
import string
from pathlib import Path

import pytest
import yaml

from vstar_data.errors import TemplateError
from vstar_data.sources.sample import Sample
from vstar_data.sources.templates import Template, TemplateIndex, builtin_template_dir

GENERATION = "Question: {question}\nCan you explain step-by-step how one can arrive at this conclusion?"
RATIONALIZATION = ("Question: {question}\nAnswer: {label}.\n"
                   "Can you explain step-by-step how one can arrive at this conclusion?")
SHIPPED = sorted(builtin_template_dir().glob("*.yaml"))
MINE = {"action_recognition", "temporal_classification", "temporal_localization"}
THUMOS_CLASSES = ["BaseballPitch", "BasketballDunk", "Billiards", "CleanAndJerk", "CliffDiving",
                  "CricketBowling", "CricketShot", "Diving", "FrisbeeCatch", "GolfSwing", "HammerThrow",
                  "HighJump", "JavelinThrow", "LongJump", "PoleVault", "Shotput", "SoccerPenalty",
                  "TennisSwing", "ThrowDiscus", "VolleyballSpiking"]


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


# Templates whose generation prompt is the bare question (the synthetic shapes world).
BARE_QUESTION = {"shapes"}


def _mentions(text: str, label: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(label)}(?!\w)", text, re.I) is not None


@pytest.fixture(scope="module")
def index() -> TemplateIndex:
    return TemplateIndex()


def test_every_shipped_template_loads(index: TemplateIndex) -> None:
    assert MINE <= set(index.tasks())
    assert len(SHIPPED) == len(index.tasks())      # one file per task, none shadowed


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_template_follows_the_paper(path: Path) -> None:
    tpl = Template.load(path)
    assert tpl.task == path.stem, "file name and task must agree"
    if path.stem in BARE_QUESTION:  # documented in the file: a tiny demo model needs one wording
        assert tpl.generation_form == "{question}"
    else:
        assert tpl.generation_form == GENERATION
    assert tpl.rationalization_form == RATIONALIZATION
    assert len(tpl.questions) >= 10
    texts = [q["text"] for q in tpl.questions]
    assert len(set(texts)) == len(texts), "duplicate phrasings"
    # a benchmark's own question ({question}, with its own punctuation) may close a phrasing
    assert all(t.rstrip().endswith(("?", ".", "{question}", "{options}")) for t in texts)
    assert tpl.version >= 1 and tpl.answers


@pytest.mark.parametrize("task", sorted(MINE))
def test_my_templates_are_version_1(index: TemplateIndex, task: str) -> None:
    assert index.get(task).version == 1


def test_action_recognition_questions_reveal_no_class(index: TemplateIndex, kinetics_dir: Path) -> None:
    classes = [c for c in (kinetics_dir / "label_map_k700.txt").read_text("utf-8").splitlines() if c]
    assert len(classes) == 700
    for q in index.get("action_recognition").questions:
        assert not _fields(q["text"]), q["text"]
        hits = [c for c in classes if _mentions(q["text"], c)]
        assert not hits, f"{q['id']} names classes {hits}"


def test_tal_questions_use_context_and_reveal_no_class(index: TemplateIndex) -> None:
    from vstar_data.adapters.tal import humanize

    names = THUMOS_CLASSES + [humanize(c) for c in THUMOS_CLASSES]
    for q in index.get("temporal_classification").questions:
        assert _fields(q["text"]) == {"start", "end"}, q["id"]
        assert not [c for c in names if _mentions(q["text"], c)], q["text"]
    for q in index.get("temporal_localization").questions:
        assert _fields(q["text"]) == {"action"}, q["id"]
        assert not [c for c in names if _mentions(q["text"], c)], q["text"]


def test_questions_render_with_adapter_context(index: TemplateIndex) -> None:
    def sample(task: str, context: dict, sid: str) -> Sample:
        return Sample(id=sid, source="t", task=task, video="v.mp4", split="val", context=context,
                      labels=[{"type": "category", "name": "action", "value": "x"}])

    seen = set()
    for i in range(200):
        q = index.get("temporal_classification").choose(sample("temporal_classification",
                                                               {"start": "12.4s", "end": "18.9s"}, f"s{i}"))
        assert "12.4s" in q.text and "18.9s" in q.text
        seen.add(q.template_id)
        q = index.get("temporal_localization").choose(sample("temporal_localization",
                                                             {"action": "high jump"}, f"s{i}"))
        assert "high jump" in q.text and q.template_id.endswith("@v1")
    assert len(seen) == len(index.get("temporal_classification").questions)   # all phrasings used
    # The same sample id and seed always get the same phrasing; another seed may differ.
    s = sample("action_recognition", {}, "abc")
    tpl = index.get("action_recognition")
    assert tpl.choose(s, 0) == tpl.choose(s, 0)
    assert len({tpl.choose(s, seed).template_id for seed in range(30)}) > 1


def test_generation_and_rationalization_forms_fill_in(index: TemplateIndex) -> None:
    tpl = index.get("action_recognition")
    q = tpl.choose(Sample(id="a", source="t", task=tpl.task, video="v.mp4", split="x",
                          labels=[{"type": "category", "name": "action", "value": "yoga"}]))
    assert tpl.generation_form.format(question=q.text) == (
        f"Question: {q.text}\nCan you explain step-by-step how one can arrive at this conclusion?")
    assert tpl.rationalization_form.format(question=q.text, label="action: yoga") == (
        f"Question: {q.text}\nAnswer: action: yoga.\nCan you explain step-by-step how one can arrive "
        f"at this conclusion?")


@pytest.mark.parametrize("task,names", [("action_recognition", {"action"}),
                                        ("temporal_classification", {"action"}),
                                        ("temporal_localization", set())])
def test_answer_phrasings_use_only_label_fields(index: TemplateIndex, task: str, names: set) -> None:
    """The template backend fills {label} and {<label name>}; localization answers must state every
    instance, so they use {label} (all intervals) rather than {segment} alone."""
    for answer in index.get(task).answers:
        assert _fields(answer) and _fields(answer) <= names | {"label"}, answer


# -- bad templates: the error names the file and the key ----------------------------------------------

def _good() -> dict:
    return {"task": "demo", "label_types": ["category"],
            "questions": [{"id": f"q{i}", "text": f"What is shown here, take {i}?"} for i in range(10)],
            "generation_prompt": GENERATION, "rationalization_prompt": RATIONALIZATION,
            "metadata": {"version": 1}}


def _write(tmp_path: Path, data: object, name: str = "demo.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), "utf-8")
    return path


def test_good_template_loads(tmp_path: Path) -> None:
    tpl = Template.load(_write(tmp_path, _good()))
    assert tpl.task == "demo" and tpl.answers == ["{label}."]


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "task: demo\nquestions: [unclosed\n")
    with pytest.raises(TemplateError) as err:
        Template.load(path)
    assert err.value.file == str(path) and "YAML" in err.value.message


@pytest.mark.parametrize("change,key_or_text", [
    (lambda d: d.pop("questions"), "questions"),
    (lambda d: d.pop("metadata"), "metadata"),
    (lambda d: d.update(questions=d["questions"][:9]), "questions"),
    (lambda d: d.update(rationalization_prompt="Question: {question}\nWhy?"), "rationalization_prompt"),
    (lambda d: d.update(task="Bad Task"), "task"),
    (lambda d: d.update(extra_key=1), "extra_key"),
    (lambda d: d["metadata"].update(version=0), "metadata/version"),
])
def test_schema_errors_name_file_and_key(tmp_path: Path, change, key_or_text: str) -> None:
    data = _good()
    change(data)
    path = _write(tmp_path, data)
    with pytest.raises(TemplateError) as err:
        Template.load(path)
    assert err.value.file == str(path) and key_or_text in str(err.value)


def test_semantic_errors_name_the_key(tmp_path: Path) -> None:
    data = _good()
    data["questions"][3]["text"] = "What happens at {t.start}?"
    with pytest.raises(TemplateError) as err:
        Template.load(_write(tmp_path, data))
    assert err.value.key == "questions/q3"
    data = _good()
    data["questions"][1]["id"] = "q0"
    with pytest.raises(TemplateError) as err:
        Template.load(_write(tmp_path, data))
    assert err.value.key == "questions" and "q0" in err.value.message
    data = _good()
    data["label_types"] = ["colour"]
    with pytest.raises(TemplateError) as err:
        Template.load(_write(tmp_path, data))
    assert err.value.key == "label_types" and "colour" in err.value.message
    data = _good()
    data["generation_prompt"] = "Question: {question}\nExplain {"
    with pytest.raises(TemplateError) as err:
        Template.load(_write(tmp_path, data))
    assert err.value.key == "generation_prompt"


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(TemplateError) as err:
        Template.load(tmp_path / "absent.yaml")
    assert err.value.file == str(tmp_path / "absent.yaml")
    with pytest.raises(TemplateError, match="folder does not exist"):
        TemplateIndex([tmp_path / "no_such_folder"])


def test_a_bad_file_in_a_user_folder_is_named(tmp_path: Path) -> None:
    _write(tmp_path, _good(), "a.yaml")
    bad = _write(tmp_path, {"task": "other"}, "b.yaml")
    with pytest.raises(TemplateError) as err:
        TemplateIndex([tmp_path])
    assert err.value.file == str(bad)


def test_user_folder_overrides_a_task_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = _good()
    data["task"] = "action_recognition"
    path = _write(tmp_path, data, "mine.yaml")
    with caplog.at_level(logging.WARNING, logger="vstar_data.sources.templates"):
        index = TemplateIndex([tmp_path])
    assert index.get("action_recognition").path == str(path)
    assert "overrides" in caplog.text
    with pytest.raises(TemplateError, match="no template for task 'nope'"):
        index.get("nope")
