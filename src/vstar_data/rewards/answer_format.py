"""The answer format RL users expect: ``<think>...</think> <answer>...</answer>``. The verifier
scores the last `<answer>` block (the committed answer, not the reasoning before it); a
completion without one is scored whole. The format part is 1 only for the full think-then-answer
form (EasyR1's r1v rule), and weighs in as ``(1 - format_weight) x accuracy + format_weight x
format``, the combination EasyR1's own reward functions use."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ConfigError

ANSWER_FORMATS = ("plain", "think")
# What a prompt asks for under --answer-format think (Video-R1 / R1-V wording).
THINK_INSTRUCTION = ("Output the thinking process in <think> </think> and the final answer in "
                     "<answer> </answer> tags.")
_TAG_SPACES = re.compile(r"<\s*(/?)\s*(think|answer)\s*>", re.IGNORECASE)  # "< answer >" (some Qwen sizes)
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_FORM = re.compile(r"<think>.*?</think>\s*<answer>.*?</answer>", re.DOTALL)


@dataclass(frozen=True)
class AnswerParts:
    answer: str          # the text the verifier scores
    format: float        # 1.0: think-then-answer form; 0.0 otherwise
    tagged: bool         # an <answer> block was found


def split_answer(text: str) -> AnswerParts:
    """The last `<answer>` block and the format score of a completion's text."""
    norm = _TAG_SPACES.sub(lambda m: f"<{m.group(1)}{m.group(2).lower()}>", text or "")
    blocks = _ANSWER.findall(norm)
    if not blocks:
        return AnswerParts(text or "", 0.0, False)
    return AnswerParts(blocks[-1].strip(), 1.0 if _FORM.fullmatch(norm.strip()) else 0.0, True)


def check_format_weight(value: object, key: str = "format_weight") -> float:
    """`format_weight` as a float in [0, 1]; ConfigError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise ConfigError(f"{key} must be a number in [0, 1], got {value!r}", key=key)
    return float(value)


def combine(accuracy: float | None, fmt: float, format_weight: float) -> float | None:
    """The overall reward; None when no label applies (the format alone is no reward)."""
    if accuracy is None:
        return None
    return (1.0 - format_weight) * accuracy + format_weight * fmt


def prompt_with_format(question: str, answer_format: str = "plain") -> str:
    """The question as a prompt asking for `answer_format` (plain: unchanged)."""
    if answer_format not in ANSWER_FORMATS:
        raise ConfigError(f"answer format must be one of {', '.join(ANSWER_FORMATS)}, got {answer_format!r}",
                          key="answer_format")
    return question if answer_format == "plain" else f"{question.rstrip()}\n{THINK_INSTRUCTION}"
