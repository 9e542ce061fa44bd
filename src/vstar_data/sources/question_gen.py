"""Question generation, the paper's first step: ask a language model for ways to phrase a task's
question, keep the usable ones and write them as a template YAML for a person to review.

Video-STaR did this with GPT-4 and the prompt in `PAPER_PROMPT`. Here any text-capable backend
asks (the openai backend against a served model, or a local transformers model), in rounds, each
prompt showing a different random handful of label values, until `n` candidates survive the
filters: a candidate is dropped when it names a label value (the answer would be in the
question), uses a word of the task's own name ("recognition", "localize": the paper asks for
questions "without mentioning the actual task"), is too short or long, carries template
placeholders, or repeats a kept one (same words, or near-duplicate by rapidfuzz).
"""
from __future__ import annotations

import copy
import math
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import yaml

from ..errors import ConfigError
from .sample import target_labels

PAPER_PROMPT = ("I am performing {task} with labels like {labels}. How would you ask someone to perform "
                "{task} on a video without mentioning the actual task? For example: '{example}'. "
                "Generate 10 unique questions.")
GENERATION_PROMPT = "Question: {question}\nCan you explain step-by-step how one can arrive at this conclusion?"
RATIONALIZATION_PROMPT = ("Question: {question}\nAnswer: {label}.\nCan you explain step-by-step how one can "
                          "arrive at this conclusion?")
DEFAULT_EXAMPLE = "What is happening in this video?"
MIN_QUESTIONS = 10          # the template schema's minimum
MAX_CHARS = 200
_FILLER = frozenset("a an the of on in at to into with his her their its some and".split())
_GENERIC = frozenset("a an the of and or in on for to with by from at video videos clip clips task".split())
# A list item: "1." "2)" "(3)" "4:" "- " "* " "• " "## " "Q5:" then the text.
_ITEM = re.compile(r"^\s*(?:\(?\d{1,3}\s*[.):\]]|[-*\u2022\u00b7\u2013\u2014]\s|#{1,3}\s|Q\d{1,3}\s*[.):]?)"
                   r"\s*(?P<text>\S.*)$")
_LEAD = re.compile(r"^(?:question\s*\d*\s*[:.-]|q\s*[:.-])\s*", re.I)
_MARKS = re.compile(r"\*\*|__|`|<video>|<image>")
Asker = Callable[[list[str], list[str]], list[Any]]


# ---------------------------------------------------------------------------- label values
@dataclass
class LabelPool:
    """Label values to show in prompts (`shown`) and to keep out of questions (`mentions`)."""

    shown: list[str]
    mentions: list[str]
    label_types: list[str]


def labels_from_samples(samples: Iterable[Any], task: str) -> LabelPool:
    """Distinct label values of the samples of `task`: every value is shown as its hint text;
    category values (and synonyms) and sequence items are also forbidden in questions."""
    from ..registry import LABEL_TYPES

    shown: dict[str, None] = {}
    mentions: dict[str, None] = {}
    types: dict[str, None] = {}
    tasks: Counter = Counter()
    kinds: dict[str, Any] = {}
    for sample in samples:
        tasks[sample.task] += 1
        if sample.task != task:
            continue
        for spec in target_labels(sample.labels):   # questions ask about targets
            types[spec["type"]] = None
            if spec["type"] not in kinds:
                kinds[spec["type"]] = LABEL_TYPES.get(spec["type"])()
            shown[kinds[spec["type"]].hint_text(spec)] = None
            if spec["type"] == "category":
                for v in [spec["value"], *(spec.get("synonyms") or [])]:
                    mentions[str(v)] = None
            elif spec["type"] == "sequence":
                for v in spec["value"]:
                    mentions[str(v)] = None
    if not shown:
        found = ", ".join(f"{t} ({n})" for t, n in tasks.most_common()) or "no samples"
        raise ConfigError(f"no labels for task {task!r} in the annotations; they hold: {found}")
    return LabelPool(list(shown), list(mentions), list(types))


def labels_from_adapter(adapter: str, annotations: str | Path, task: str, *, split: str | None = None,
                        options: dict[str, Any] | None = None) -> LabelPool:
    """`labels_from_samples` over what an adapter reads from its annotation files."""
    from .adapter import load_adapter

    cls = load_adapter(adapter)
    return labels_from_samples(cls(annotations, None, split=split, options=options).samples(), task)


# ---------------------------------------------------------------------------- parsing and filters
def build_prompt(task_text: str, labels: Sequence[str], example: str) -> str:
    """The paper's question-generation prompt."""
    return PAPER_PROMPT.format(task=task_text, labels=", ".join(labels), example=example)


def parse_candidates(text: str) -> list[str]:
    """Questions from a model's answer: its numbered or bulleted lines, or (when it used no list
    markers) every line that is not a heading such as "Here are 10 questions:"."""
    lines = [line for line in text.splitlines() if line.strip()]
    items = [m["text"] for m in map(_ITEM.match, lines) if m]
    if not items:
        items = [line for line in lines if not line.rstrip().endswith(":")]
    out = []
    for item in items:
        item = _LEAD.sub("", _MARKS.sub("", item)).strip().strip("\"'\u201c\u201d\u2018\u2019 ").strip()
        item = re.sub(r"\s+", " ", item)
        if item:
            out.append(item)
    return out


def _words(text: str) -> list[str]:
    text = re.sub(r"\([^)]*\)", " ", text)              # Kinetics disambiguators: "(not cat)"
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)     # THUMOS-style "BaseballPitch"
    return re.findall(r"[a-z0-9]+", text.lower())


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _content_stems(text: str) -> list[str]:
    """Stems without filler words, so "petting the animal" still names "petting animal"."""
    return [_stem(w) for w in _words(text) if w not in _FILLER]


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))


def task_words(task_text: str, allow: Iterable[str] = ()) -> list[str]:
    """The words of the task's name that a question must not use (generic words excluded)."""
    allowed = {w.lower() for w in allow}
    return [w for w in dict.fromkeys(_words(task_text.replace("_", " "))) if w not in _GENERIC | allowed]


def _same_word(word: str, task_word: str) -> bool:
    """'recognize' ~ 'recognition', 'classify' ~ 'classification', 'actions' ~ 'action';
    'activity' is not 'action'."""
    if _stem(word) == _stem(task_word):
        return True
    common = len(_common_prefix(word, task_word))
    return common >= max(5, min(len(word), len(task_word)) - 3)


def _common_prefix(a: str, b: str) -> str:
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return a[:i]


class CandidateFilter:
    """Keeps candidates that pass every check, in arrival order; counts the others by reason."""

    def __init__(self, mentions: Iterable[str], forbidden_words: Iterable[str], similarity: float = 90.0) -> None:
        self.labels = [(v, _content_stems(v)) for v in dict.fromkeys(mentions)]
        self.labels = [(v, s) for v, s in self.labels if s and not all(w.isdigit() for w in s)]
        self.forbidden = list(forbidden_words)
        self.similarity = float(similarity)
        self.kept: list[str] = []
        self._norms: list[str] = []
        self.dropped: Counter = Counter()
        self.examples: dict[str, list[str]] = {}

    def check(self, text: str) -> str | None:
        """The reason `text` is dropped, or None when it is usable."""
        from rapidfuzz import fuzz, process

        words = _words(text)
        if len(words) < 3 or len(text) < 5 or len(text) > MAX_CHARS:
            return "bad_length"
        if "{" in text or "}" in text:
            return "placeholder"
        stems = _content_stems(text)
        joined = set(stems) | {"".join(stems[i:i + 2]) for i in range(len(stems) - 1)}
        for _, label in self.labels:
            if _contains(stems, label) or (len(label) > 1 and "".join(label) in joined):
                return "mentions_label"
        if any(_same_word(w, t) for w in words for t in self.forbidden):
            return "mentions_task"
        norm = " ".join(words)
        if norm in self._norms:
            return "duplicate"
        if self._norms and process.extractOne(norm, self._norms, scorer=fuzz.ratio,
                                              score_cutoff=self.similarity) is not None:
            return "near_duplicate"
        return None

    def offer(self, text: str) -> bool:
        reason = self.check(text)
        if reason is None:
            self.kept.append(text)
            self._norms.append(" ".join(_words(text)))
            return True
        self.dropped[reason] += 1
        ex = self.examples.setdefault(reason, [])
        if len(ex) < 5:
            ex.append(text)
        return False


# ---------------------------------------------------------------------------- the loop
@dataclass
class Suggestion:
    """What a suggestion run produced and why candidates were dropped."""

    questions: list[str] = field(default_factory=list)
    candidates: int = 0
    dropped: Counter = field(default_factory=Counter)
    dropped_examples: dict[str, list[str]] = field(default_factory=dict)
    prompts: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def suggest_questions(ask: Asker, task_text: str, pool: LabelPool, *, example: str = DEFAULT_EXAMPLE,
                      n: int = 50, seed: int = 0, labels_per_prompt: int = 5, max_prompts: int | None = None,
                      similarity: float = 90.0, allow_words: Iterable[str] = ()) -> Suggestion:
    """Ask in rounds (each prompt with its own random label values; more prompts per round
    while many are missing) until `n` questions pass the filters or `max_prompts` were sent."""
    rng = random.Random(seed)
    filt = CandidateFilter(pool.mentions, task_words(task_text, allow_words), similarity)
    max_prompts = max_prompts or max(5, 3 * math.ceil(n / 10))
    out = Suggestion()
    round_no = 0
    while len(filt.kept) < n and len(out.prompts) < max_prompts:
        k = min(8, math.ceil((n - len(filt.kept)) / 10), max_prompts - len(out.prompts))
        prompts = [build_prompt(task_text, rng.sample(pool.shown, min(labels_per_prompt, len(pool.shown))), example)
                   for _ in range(k)]
        answers = ask(prompts, [f"suggest-{seed}-{round_no}-{j}" for j in range(k)])
        round_no += 1
        out.prompts += prompts
        for answer in answers:
            if isinstance(answer, BaseException):
                out.failures.append(str(answer))
                continue
            out.raw.append(answer)
            for cand in parse_candidates(answer):
                out.candidates += 1
                filt.offer(cand)
    out.questions = filt.kept[:n]
    out.dropped, out.dropped_examples = filt.dropped, filt.examples
    return out


# ---------------------------------------------------------------------------- the template file
def template_yaml(task: str, questions: Sequence[str], label_types: Sequence[str], *, description: str,
                  suggested_by: dict[str, Any], dropped: dict[str, int] | None = None) -> str:
    """A template YAML (schema-valid, checked here) with a header saying it needs review."""
    from .templates import Template

    if len(questions) < MIN_QUESTIONS:
        raise ConfigError(f"a template needs at least {MIN_QUESTIONS} questions, got {len(questions)}")
    data = {"task": task, "description": description, "label_types": list(label_types),
            "questions": [{"id": f"q{i:02d}", "text": q} for i, q in enumerate(questions, 1)],
            "generation_prompt": GENERATION_PROMPT, "rationalization_prompt": RATIONALIZATION_PROMPT,
            "metadata": {"version": 1, "reviewed": False, "suggested_by": dict(suggested_by)}}
    Template.from_dict(copy.deepcopy(data), f"<suggested {task}>")   # schema, label types, placeholders
    who = f"{suggested_by.get('backend')}: {suggested_by.get('model')}"
    drops = ", ".join(f"{k} {v}" for k, v in sorted((dropped or {}).items())) or "none"
    header = [
        f"# Question template for task `{task}`, SUGGESTED BY A LANGUAGE MODEL ({who}).",
        "# NEEDS HUMAN REVIEW before use: read every question; delete any that gives the answer away,",
        "# cannot be answered from the video alone, or asks about something else; fix the wording;",
        "# then set metadata.reviewed to true and delete this notice. Bump metadata.version on any",
        "# later wording change (template ids in the data carry it).",
        "# Written by `vstar-data templates suggest` from the Video-STaR prompt;",
        f"# dropped candidates: {drops}.",
    ]
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096,
                     default_flow_style=False)
    return "\n".join(header) + "\n" + body


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the prompt forms) as one double-quoted line with \\n, as in the
    shipped templates."""


_Dumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style='"' if "\n" in value else None))


# ---------------------------------------------------------------------------- asking a backend
def text_asker(backend: Any) -> Asker:
    """`ask(prompts, ids)` for a loaded backend that answers text without frames (its public
    `generate_text`: the openai and transformers backends have one)."""
    if hasattr(backend, "generate_text"):
        return lambda prompts, ids: backend.generate_text(prompts, ids)
    raise ConfigError(f"backend {getattr(backend, 'name', backend)!r} cannot answer text-only prompts; "
                      "use --backend openai or --backend transformers")
