"""Publish-time row variants, as the released Video-STaR code built its training rows.

Per accepted answer, instead of the one `original` row (question, accepted answer):

- ``cot``: the question plus one of `COT_SUFFIXES` ("Explain step by step."), and the accepted
  answer, which reasons step by step;
- ``direct``: the question, and the label stated plainly ("Playing guitar.", "difficulty: 3.2.
  score: 65.6");
- ``mc``: the question plus four lettered options, the label's value and three distractors drawn
  from other values of the same label type and name in the same source, shuffled, in one option
  style (``(A)``, ``A.``, ``(a)``, ``1.`` ...); the answer is the letter. Only for single-label rows
  whose label has a free value (not `choice`, whose question already lists options, and not
  `boolean`, which has two values); rows without three other values get no `mc` row, counted.

Every choice (suffix, distractors, order, style) is seeded by (seed, sample id, variant): the same
rows and seed give the same dataset on every machine.
"""
from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..errors import ConfigError, VstarError

KINDS = ("cot", "direct", "mc")
COT_SUFFIXES = (
    "Explain step by step.",
    "Think step by step before answering.",
    "Let's think step by step.",
    "Walk me through your reasoning step by step.",
    "Explain your answer step by step.",
    "Reason through it step by step, then answer.",
    "Describe, step by step, how you reach the answer.",
    "Show your reasoning one step at a time.",
    "Break your reasoning down into steps.",
    "Give a step-by-step explanation.",
    "Explain how you arrive at the answer, step by step.",
    "Work through the video step by step and answer.",
    "First reason step by step, then give the answer.",
    "Answer with a step-by-step explanation.",
    "Justify your answer step by step.",
    "Lay out your reasoning in steps before the answer.",
    "Think it through step by step and explain.",
    "Can you explain step-by-step how one can arrive at this conclusion?",
    "Explain your thought process step by step.",
    "Please reason step by step about what the video shows.",
    "Go through the evidence in the video step by step.",
    "Describe what you observe step by step, then conclude.",
)
# (option line format, answer format); {L} is the letter/number of the option
OPTION_STYLES = (
    ("({L}) {text}", "{L}"), ("{L}. {text}", "{L}"), ("({l}) {text}", "{l}"), ("{n}. {text}", "{n}"),
    ("{L}) {text}", "{L}"), ("({n}) {text}", "{n}"), ("{l}. {text}", "{l}"), ("Option {L}: {text}", "{L}"),
)
MC_PROMPTS = ("Answer with the option's letter.", "Choose one option and give its letter.",
              "Reply with the letter of the correct option.", "Pick the right option.")
_NO_MC_TYPES = frozenset({"choice", "boolean"})
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class VariantOptions:
    """Which variants to emit at publish time, and the seed of every choice they make."""

    kinds: tuple[str, ...] = KINDS
    seed: int = 0

    def __post_init__(self) -> None:
        bad = [k for k in self.kinds if k not in KINDS]
        if bad or not self.kinds or len(set(self.kinds)) != len(self.kinds):
            raise ConfigError(f"row variants must be distinct names from {', '.join(KINDS)}, got {list(self.kinds)}",
                              key="variants")

    @classmethod
    def parse(cls, text: str | Iterable[str] | None, seed: int = 0) -> "VariantOptions | None":
        """`"cot,direct,mc"` / `"all"` / a list -> options; None or "" or "none" -> no variants."""
        if text is None:
            return None
        items = [t.strip() for t in (text.split(",") if isinstance(text, str) else text) if t.strip()]
        if not items or items == ["none"]:
            return None
        return cls(KINDS if items == ["all"] else tuple(items), int(seed))

    def to_dict(self) -> dict[str, Any]:
        return {"kinds": list(self.kinds), "seed": self.seed}


def _rng(seed: int, sample_id: str, kind: str) -> random.Random:
    digest = hashlib.blake2b(f"{seed}\x00{sample_id}\x00{kind}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _answer_text(spec: dict[str, Any]) -> str:
    from ..registry import LABEL_TYPES

    return LABEL_TYPES.get(spec["type"])().answer_text(spec)


def pool_key(row: dict[str, Any]) -> tuple[str, str, str] | None:
    """(source, label type, label name) of a row that can have an `mc` variant, else None."""
    labels = row["labels"]
    if len(labels) != 1 or labels[0]["type"] in _NO_MC_TYPES:
        return None
    return (row["source"], labels[0]["type"], labels[0]["name"])


@dataclass
class ValuePool:
    """Distinct label values per (source, label type, label name), collected in a first pass."""

    values: dict[tuple[str, str, str], set[str]] = field(default_factory=dict)

    def add(self, row: dict[str, Any]) -> None:
        key = pool_key(row)
        if key is not None:
            self.values.setdefault(key, set()).add(_answer_text(row["labels"][0]))

    def others(self, key: tuple[str, str, str], value: str) -> list[str]:
        return sorted(self.values.get(key, set()) - {value})


def value_pool(rows: Iterable[dict[str, Any]]) -> ValuePool:
    """The pool of every accepted row's value; rows too malformed to read are left to the row check."""
    pool = ValuePool()
    for row in rows:
        if isinstance(row, dict) and row.get("accepted") is True:
            try:
                pool.add(row)
            except (KeyError, TypeError, ValueError, VstarError):
                pass
    return pool


def direct_answer(labels: list[dict[str, Any]]) -> str:
    """The labels stated plainly: "Playing guitar." / "difficulty: 3.2. score: 65.6."."""
    from ..sources.templates import label_key

    if len(labels) == 1:
        text = _answer_text(labels[0]).strip()
        text = text[:1].upper() + text[1:]
        return text if text.endswith((".", "?", "!")) else text + "."
    return ". ".join(f"{label_key(s)}: {_answer_text(s).strip().rstrip('.')}" for s in labels) + "."


def make_variants(row: dict[str, Any], opts: VariantOptions, pool: ValuePool,
                  skipped: Counter) -> list[tuple[str, dict[str, Any]]]:
    """(variant, row) pairs for one accepted attempt row; rows that cannot have a variant are counted
    in `skipped` (``mc_<reason>``)."""
    out: list[tuple[str, dict[str, Any]]] = []
    sid = row["id"]
    for kind in opts.kinds:
        rng = _rng(opts.seed, sid, kind)
        if kind == "cot":
            out.append((kind, {**row, "question": f"{row['question']}\n{rng.choice(COT_SUFFIXES)}"}))
        elif kind == "direct":
            out.append((kind, {**row, "answer": direct_answer(row["labels"])}))
        else:
            key = pool_key(row)
            if key is None:
                skipped["mc_" + ("multi_label" if len(row["labels"]) != 1 else f"{row['labels'][0]['type']}_label")] += 1
                continue
            value = _answer_text(row["labels"][0])
            others = pool.others(key, value)
            if len(others) < 3:
                skipped["mc_fewer_than_3_other_values"] += 1
                continue
            options = rng.sample(others, 3) + [value]
            rng.shuffle(options)
            line, answer = rng.choice(OPTION_STYLES)
            k = options.index(value)
            fill = lambda i: {"L": LETTERS[i], "l": LETTERS[i].lower(), "n": str(i + 1)}  # noqa: E731
            lines = [line.format(text=t, **fill(i)) for i, t in enumerate(options)]
            question = f"{row['question']}\n" + "\n".join(lines) + f"\n{rng.choice(MC_PROMPTS)}"
            out.append((kind, {**row, "question": question, "answer": answer.format(**fill(k))}))
    return out
