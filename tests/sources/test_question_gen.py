"""Question generation (`vstar-data templates suggest`): parsing a model's list, the filters
(label values, task words, duplicates), the round loop, the template file, and the command with a
canned-text backend and with the tiny transformers model (text-only)."""
from __future__ import annotations

from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from vstar_data.backends.base import Backend, GenerationError
from vstar_data.cli import app
from vstar_data.errors import ConfigError
from vstar_data.sources.question_gen import (PAPER_PROMPT, CandidateFilter, LabelPool, labels_from_adapter,
                                     parse_candidates, suggest_questions, task_words, template_yaml, text_asker)
from vstar_data.registry import BACKENDS
from vstar_data.schemas import first_error
from vstar_data.sources.templates import TemplateIndex

GOOD = ["What is the person in the clip doing?", "Which activity can you see here?",
        "Describe what the people are busy with.", "What are they up to in this footage?",
        "Tell me what the main subject is engaged in.", "What is going on in front of the camera?",
        "Summarize what the individual does over time.", "What pastime is shown on screen?",
        "Explain what the performer is practicing.", "Which hobby is the subject pursuing here?",
        "What does the woman spend the clip doing?", "What kind of movement dominates the footage?"]
ANSWERS = [
    "Here are 10 unique questions:\n\n1. What is the person in the clip doing?\n2) Which activity can you see here?\n"
    "3. Is the man in the video doing yoga?\n4. How would you recognize what happens in this footage?\n"
    "5. What is the person in the clip doing?\n6. What is the person in this clip doing?\n"
    "7. **Describe what the people are busy with.**\n8. \"What are they up to in this footage?\"\n"
    "9. What is {going} on?\n10. Why?",
    "- Tell me what the main subject is engaged in.\n- Is anyone arm-wrestling here?\n"
    "* What is going on in front of the camera?\n\u2022 Summarize what the individual does over time.\n"
    "- Which action is this?\n- What pastime is shown on screen?",
    "Q1: Explain what the performer is practicing.\nQ2: Which hobby is the subject pursuing here?\n"
    "(3) What does the woman spend the clip doing?\n(4) What kind of movement dominates the footage?\n"
    "(5) Would you say she is putting on eyeliner?",
]
POOL = LabelPool(shown=["arm wrestling", "yoga", "putting on eyeliner", "playing guitar", "cleaning pool"],
                 mentions=["arm wrestling", "yoga", "putting on eyeliner", "playing guitar", "cleaning pool"],
                 label_types=["category"])


class CannedAsker:
    """Answers prompt k with ANSWERS[k % 3] (prompt 2 fails once when `fail_first`)."""

    def __init__(self, fail_first: bool = False) -> None:
        self.prompts: list[str] = []
        self.ids: list[str] = []
        self.fail_first = fail_first

    def __call__(self, prompts: list[str], ids: list[str]) -> list[Any]:
        out: list[Any] = []
        for p, i in zip(prompts, ids):
            k = len(self.prompts)
            self.prompts.append(p)
            self.ids.append(i)
            if self.fail_first and k == 0:
                out.append(GenerationError("server_error", "HTTP 500", sample_id=i))
            else:
                out.append(ANSWERS[k % len(ANSWERS)])
        return out


def test_parse_numbered_bulleted_and_plain_lists():
    assert parse_candidates(ANSWERS[0])[:2] == GOOD[:2]
    assert "Here are 10 unique questions:" not in parse_candidates(ANSWERS[0])
    assert parse_candidates(ANSWERS[0])[6:8] == [GOOD[2], GOOD[3]], "markdown bold and quotes are stripped"
    assert parse_candidates(ANSWERS[1])[0] == GOOD[4] and GOOD[6] in parse_candidates(ANSWERS[1])
    assert parse_candidates(ANSWERS[2])[:2] == GOOD[8:10]
    assert parse_candidates("Sure! Questions:\nWhat happens here?\nWhat is shown?") == ["What happens here?",
                                                                                        "What is shown?"]


def test_filters_drop_labels_task_words_and_repeats():
    f = CandidateFilter(POOL.mentions + ["petting animal (not cat)", "BaseballPitch"],
                        task_words("action_recognition"))
    assert task_words("action_recognition", allow=["action"]) == ["recognition"]
    assert f.check("Is someone doing yoga in this clip?") == "mentions_label"
    assert f.check("Is the man arm-wrestling his friend?") == "mentions_label"
    assert f.check("Who is petting the animal here?") == "mentions_label"
    assert f.check("Is this a baseball pitch or not?") == "mentions_label"
    assert f.check("What activity do you see?") is None
    assert f.check("Can you recognize the activity?") == "mentions_task"
    assert f.check("Which actions are being performed?") == "mentions_task"
    assert f.check("What is {x} doing?") == "placeholder" and f.check("Why?") == "bad_length"
    assert f.offer(GOOD[0]) and not f.offer(GOOD[0]) and not f.offer("What is the person in this clip doing?")
    assert f.dropped == {"duplicate": 1, "near_duplicate": 1}
    assert f.offer("What is the man holding in his hands?"), "different questions are kept"


def test_suggest_loops_until_n_with_varied_labels_and_records_failures():
    asker = CannedAsker(fail_first=True)
    result = suggest_questions(asker, "action recognition", POOL, example="What is happening?", n=12, seed=3,
                               labels_per_prompt=2)
    assert sorted(result.questions) == sorted(GOOD), "the first prompt failed, so the order shifts"
    assert len(result.failures) == 1 and "server_error" in result.failures[0]
    assert result.dropped["mentions_label"] == 3 and result.dropped["mentions_task"] == 2
    assert result.dropped["duplicate"] >= 1 and result.dropped["near_duplicate"] >= 1
    first = asker.prompts[0]
    assert first.startswith("I am performing action recognition with labels like ")
    assert "without mentioning the actual task? For example: 'What is happening?'. Generate 10 unique questions." \
        in first
    assert len(set(asker.prompts)) > 1, "each prompt shows its own label values"
    assert len(set(asker.ids)) == len(asker.ids)
    again = suggest_questions(CannedAsker(fail_first=True), "action recognition", POOL, example="What is happening?",
                              n=12, seed=3, labels_per_prompt=2)
    assert again.questions == result.questions


def test_suggest_stops_after_max_prompts():
    asker = CannedAsker()
    result = suggest_questions(asker, "action recognition", POOL, n=50, max_prompts=4)
    assert len(asker.prompts) == 4 and len(result.questions) == len(GOOD)


def test_template_yaml_is_schema_valid_with_review_header():
    text = template_yaml("action_recognition", GOOD, ["category"], description="d",
                         suggested_by={"backend": "openai", "model": "m"}, dropped={"duplicate": 2})
    assert text.startswith("# Question template for task `action_recognition`, SUGGESTED BY A LANGUAGE MODEL")
    assert "NEEDS HUMAN REVIEW" in text and "duplicate 2" in text
    data = yaml.safe_load(text)
    assert first_error("template", data) is None
    assert data["metadata"]["version"] == 1 and data["metadata"]["reviewed"] is False
    assert [q["text"] for q in data["questions"]] == GOOD and data["questions"][0]["id"] == "q01"
    assert data["generation_prompt"].format(question="Q?") == (
        "Question: Q?\nCan you explain step-by-step how one can arrive at this conclusion?")
    assert "Answer: {label}." in data["rationalization_prompt"]
    with pytest.raises(ConfigError, match="at least 10"):
        template_yaml("t", GOOD[:9], ["category"], description="d", suggested_by={})


def test_labels_from_adapter_reads_values_and_types(kinetics_dir):
    pool = labels_from_adapter("kinetics700", kinetics_dir / "local_clips.csv", "action_recognition")
    assert set(pool.shown) == {"arm wrestling", "putting on eyeliner", "cleaning pool", "flipping pancake",
                               "hitting baseball", "yoga", "playing guitar"}
    assert pool.label_types == ["category"] and set(pool.mentions) >= set(pool.shown)
    with pytest.raises(ConfigError, match="no labels for task 'counting'.*action_recognition \\(7\\)"):
        labels_from_adapter("kinetics700", kinetics_dir / "local_clips.csv", "counting")


class FakeLM(Backend):
    """A text-only backend that answers with canned lists (registered for the CLI test)."""

    name = "fake_lm"
    calls: list[str] = []

    def load(self) -> None:
        self._loaded = True

    def generate(self, requests: list) -> list:
        return [GenerationError("no_frames") for _ in requests]

    def generate_text(self, prompts: list[str], ids: list[str] | None = None) -> list[str]:
        start = len(FakeLM.calls)
        FakeLM.calls += prompts
        return [ANSWERS[(start + k) % len(ANSWERS)] for k in range(len(prompts))]

    @property
    def model_name(self) -> str:
        return "fake-lm"


def test_cli_writes_a_loadable_template(clean_registries, kinetics_dir, tmp_path):
    BACKENDS.register("fake_lm", FakeLM)
    FakeLM.calls = []
    out = tmp_path / "tpl" / "action_recognition.yaml"
    args = ["templates", "suggest", "action_recognition", "--backend", "fake_lm", "-n", "10", "--adapter",
            "kinetics700", "-a", str(kinetics_dir / "local_clips.csv"), "--out", str(out)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "review them before use" in res.output and "mentions_label" in res.output
    tpl = TemplateIndex([out.parent]).get("action_recognition")
    assert tpl.path == str(out) and [q["text"] for q in tpl.questions] == GOOD[:10]
    assert "SUGGESTED BY A LANGUAGE MODEL (fake_lm: fake-lm)" in out.read_text()
    assert "'What activity is being performed in this video?'" in FakeLM.calls[0], "installed example is used"
    again = CliRunner().invoke(app, args)
    assert again.exit_code != 0 and "refusing to overwrite" in str(again.exception)


def test_cli_needs_labels_and_a_language_model(tmp_path):
    res = CliRunner().invoke(app, ["templates", "suggest", "my_task", "--out", str(tmp_path / "t.yaml")])
    assert res.exit_code != 0 and "give label values" in str(res.exception)
    res = CliRunner().invoke(app, ["templates", "suggest", "my_task", "--backend", "template", "-l", "x",
                                   "--out", str(tmp_path / "t.yaml")])
    assert "needs a language model" in str(res.exception)


@pytest.mark.slow
def test_tiny_transformers_model_answers_text_only_prompts(tmp_path):
    """The real transformers path without frames: the prompt reaches the model, its (random-weight,
    gibberish) text comes back deterministically, and the command says why it wrote nothing."""
    from vstar_data.backends.transformers import TransformersBackend
    from vstar_data.backends.tiny import build_tiny_model

    model = build_tiny_model("qwen2_vl", tmp_path / "tiny")
    backend = TransformersBackend(model=str(model), max_new_tokens=24, temperature=0.7)
    backend.load()
    ask = text_asker(backend)
    prompt = PAPER_PROMPT.format(task="action recognition", labels="yoga", example="What is happening?")
    first = ask([prompt, prompt], ["a", "b"])
    assert all(isinstance(t, str) and t for t in first) and first[0] != first[1], "seeded per id"
    assert ask([prompt], ["a"]) == first[:1]
    res = CliRunner().invoke(app, ["templates", "suggest", "action_recognition", "--backend", "transformers",
                                   "--model", str(model), "-l", "yoga", "-l", "playing guitar", "-n", "10",
                                   "--max-prompts", "2", "--max-new-tokens", "24", "--out", str(tmp_path / "t.yaml")])
    assert res.exit_code != 0 and "usable questions after 2 prompts" in str(res.exception)
    assert "prompts sent" in res.output and not (tmp_path / "t.yaml").exists()
