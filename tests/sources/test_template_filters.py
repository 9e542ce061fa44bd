"""Template filters: sentence queries (Charades-STA, ActivityNet Captions) become question text.

The table was written by hand from the shapes of real queries before the rule: trailing full
stops, leading spaces, capitals of common words, shouting, quotes, names, abbreviations.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from vstar_data.errors import SkipRecord, TemplateError
from vstar_data.sources.sample import Sample
from vstar_data.sources.template_filters import FilterError, event, normalise_sentence, quoted
from vstar_data.sources.templates import Template, TemplateIndex

TABLE = [   # raw query -> normalised sentence
    ("person turn a light on.", "person turn a light on"),
    ("a person is putting a book on a shelf.", "a person is putting a book on a shelf"),
    (" The person closes the door.", "the person closes the door"),
    ("Person takes a phone out of a bag", "person takes a phone out of a bag"),
    ("person  opening a closet door .", "person opening a closet door"),
    ("A PERSON IS SITTING ON A CHAIR.", "a person is sitting on a chair"),
    ("  A young woman is seen standing in a room and leads into her dancing.",
     "a young woman is seen standing in a room and leads into her dancing"),
    (" She continues dancing around the room and ends by laying on the floor.",
     "she continues dancing around the room and ends by laying on the floor"),
    ('The man says "hello" to the camera.', "the man says 'hello' to the camera"),
    ("Gordon Ramsay shows how to cook a steak.", "Gordon Ramsay shows how to cook a steak"),
    ("Then, the man jumps into the pool!", "then, the man jumps into the pool"),
    ("person runs 3.5 km.", "person runs 3.5 km"),
    ("person turns off the T.V.", "person turns off the T.V."),
    ("is anyone at the door?", "is anyone at the door?"),
]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


@pytest.mark.parametrize("raw,expected", TABLE)
def test_normalise_keeps_every_word(raw: str, expected: str) -> None:
    out = normalise_sentence(raw)
    assert out == expected
    assert _words(out) == _words(raw)           # nothing dropped, nothing added
    assert event(raw) == f'the event "{expected}"' and quoted(raw) == f'"{expected}"'


@pytest.mark.parametrize("bad", ["", "  . ", None, 3.5])
def test_unusable_values_raise(bad: object) -> None:
    with pytest.raises(FilterError):
        event(bad)


def _template(tmp_path: Path, text: str, key: str = "questions") -> Path:
    data = {"task": "grounding_probe", "label_types": ["interval"],
            "questions": [{"id": f"q{i:02d}", "text": text} for i in range(10)],
            "generation_prompt": "Question: {question}\nExplain.",
            "rationalization_prompt": "Question: {question}\nAnswer: {label}.\nExplain.",
            "metadata": {"version": 1}}
    if key != "questions":
        data[key] = data[key].replace("{question}", "{question} " + text)
    path = tmp_path / "grounding_probe.yaml"
    path.write_text(yaml.safe_dump(data), "utf-8")
    return path


def _sample(query: object) -> Sample:
    return Sample(id="v_1", source="x", task="temporal_grounding", video="v.mp4", split="test",
                  labels=[{"type": "interval", "name": "moment", "start": 1.0, "end": 2.0}],
                  context={"query": query})


def test_shipped_grounding_questions_are_fluent_for_the_table() -> None:
    tpl = TemplateIndex().get("temporal_grounding")
    for i, (raw, expected) in enumerate(TABLE):
        sample = _sample(raw)
        sample.id = f"s{i}"
        text = tpl.choose(sample).text
        assert f'"{expected}"' in text and "{" not in text and ". happen" not in text, text
    first = tpl.questions[0]["text"]
    assert first == "When does {query|event} happen in this video?"
    rendered = first.format_map({"query|event": event("person turn a light on.")})
    assert rendered == 'When does the event "person turn a light on" happen in this video?'


def test_filters_chain_and_render_with_plain_fields(tmp_path: Path) -> None:
    tpl = Template.load(_template(tmp_path, "Is {query|sentence|quoted} in {where}?"))
    sample = _sample(" Person sits down.")
    sample.context["where"] = "the kitchen"
    assert tpl.choose(sample).text == 'Is "person sits down" in the kitchen?'


def test_unknown_filter_is_a_located_template_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"unknown filter 'evnt'; known: event, quoted, sentence") as err:
        Template.load(_template(tmp_path, "When does {query|evnt} happen?"))
    assert err.value.file == str(tmp_path / "grounding_probe.yaml")


def test_filters_only_in_questions(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="must be a plain name"):
        Template.load(_template(tmp_path, "When does {query|event} happen?", key="generation_prompt"))


def test_a_value_the_filter_cannot_render_is_a_counted_skip(tmp_path: Path) -> None:
    tpl = Template.load(_template(tmp_path, "When does {query|event} happen?"))
    with pytest.raises(SkipRecord) as err:
        tpl.choose(_sample("  .  "))
    assert err.value.reason == "template_filter_failed" and "empty" in str(err.value)
    with pytest.raises(SkipRecord) as err:
        tpl.choose(Sample(id="v", source="x", task="t", video="v.mp4", split="s", labels=[], context={}))
    assert err.value.reason == "template_context_missing"


def test_the_guide_table_shows_what_each_filter_gives() -> None:
    from vstar_data.sources.template_filters import FILTERS

    guide = (Path(__file__).resolve().parents[2] / "docs" / "adding-a-dataset.md").read_text("utf-8")
    section = guide.split("### Sentence queries", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| `([^`]+)` \|", section, re.M)
    assert {name for name, _ in rows} == set(FILTERS)
    for name, shown in rows:
        assert FILTERS[name]("person turn a light on.") == shown
