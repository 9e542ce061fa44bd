"""Text side of the tiny models: a locally trained BPE tokenizer and chat templates.

Nothing is downloaded: the tokenizer is trained in a few milliseconds on the built-in corpus
below (prompt words, Kinetics-style class names, numbers). The chat templates mirror the real
families' templates closely enough that the processor sees the same placeholders
("<|vision_start|><|video_pad|><|vision_end|>", "<video>").
"""
from __future__ import annotations

from typing import Any

CORPUS = """
What is happening in this video? Describe the action step by step and explain your answer.
Answer: the person is playing guitar. The action is arm wrestling. The diver performs a forward
dive with 3.5 somersaults in the tuck position and a clean entry. The score is 82.5 points.
When does the action start and end? It starts at 12.4 s and ends at 18.9 s, from 0 to 10 seconds.
How many times does it happen? Two, three, four, five times. First, then, next, finally.
yoga basketball flipping pancake hitting baseball putting on eyeliner cleaning pool billiards
shooting dribbling running jumping swimming cooking dancing riding a bike reading writing
The video shows a man and a woman in a gym. They are standing, sitting, walking, throwing a ball.
Explain why. Because the hands move up and down, the camera follows the player, the crowd cheers.
0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 20 25 30 40 50 60 70 80 90 100 0.5 1.5 2.5 seconds s
"""

# Family -> (special tokens in id order, eos, pad, bos or None, named extras for the tokenizer).
QWEN_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                 "<|image_pad|>", "<|video_pad|>"]
LLAVA_SPECIALS = ["<unk>", "<s>", "</s>", "<pad>", "<image>", "<video>"]
ONEVISION_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>", "<video>"]


def train_tokenizer(specials: list[str], *, eos: str, pad: str, bos: str | None = None,
                    unk: str | None = None, vocab_size: int = 384, corpus_extra: str = "") -> Any:
    """A PreTrainedTokenizerFast over a Metaspace BPE trained on CORPUS (deterministic).

    Every printable ASCII character is in the alphabet, so any English prompt encodes; anything
    else becomes the unknown token. Whole-word pieces keep the random models' output readable.
    """
    import string

    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    unk = unk or "<unk>"
    specials = specials if unk in specials else [*specials, unk]
    tok = Tokenizer(models.BPE(unk_token=unk))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="first")
    alphabet = sorted(set(string.printable.strip()) | {"\u2581", "\n"})
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False,
                                  initial_alphabet=alphabet)
    tok.train_from_iterator([CORPUS] * 4 + [corpus_extra] * 8, trainer)
    named = {"eos_token": eos, "pad_token": pad, "unk_token": unk}
    if bos:
        named["bos_token"] = bos
    extras = [s for s in specials if s not in named.values()]
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, extra_special_tokens=extras, **named)
    fast.padding_side = "left"
    return fast


# ChatML with Qwen's vision placeholders (Qwen2-VL / Qwen2.5-VL add a default system turn).
QWEN_TEMPLATE = """
{%- for message in messages -%}
{%- if loop.first and message['role'] != 'system' and default_system -%}
<|im_start|>system
You are a helpful assistant.<|im_end|>
{% endif -%}
<|im_start|>{{ message['role'] }}
{% if message['content'] is string -%}
{{ message['content'] }}
{%- else -%}
{%- for content in message['content'] -%}
{%- if content['type'] == 'image' -%}<|vision_start|><|image_pad|><|vision_end|>
{%- elif content['type'] == 'video' -%}<|vision_start|><|video_pad|><|vision_end|>
{%- elif content['type'] == 'text' -%}{{ content['text'] }}
{%- endif -%}
{%- endfor -%}
{%- endif -%}
<|im_end|>
{% endfor -%}
{%- if add_generation_prompt -%}
<|im_start|>assistant
{% endif -%}
"""

# LLaVA-OneVision: ChatML with "<video>" placeholders followed by a newline.
ONEVISION_TEMPLATE = """
{%- for message in messages -%}
<|im_start|>{{ message['role'] }}
{% if message['content'] is string -%}
{{ message['content'] }}
{%- else -%}
{%- for content in message['content'] if content['type'] in ('image', 'video') -%}
{{ '<image>' if content['type'] == 'image' else '<video>' }}
{% endfor -%}
{%- for content in message['content'] if content['type'] == 'text' -%}{{ content['text'] }}{%- endfor -%}
{%- endif -%}
<|im_end|>
{% endfor -%}
{%- if add_generation_prompt -%}
<|im_start|>assistant
{% endif -%}
"""

# Vicuna style used by LLaVA-NeXT-Video and Video-LLaVA: "USER: <video>\n... ASSISTANT:".
VICUNA_TEMPLATE = """
{%- for message in messages -%}
{%- if message['role'] == 'system' -%}
{{ message['content'] if message['content'] is string else message['content'][0]['text'] }} {% else -%}
{{ message['role'].upper() }}: {% if message['content'] is string -%}
{{ message['content'] }}
{%- else -%}
{%- for content in message['content'] if content['type'] in ('image', 'video') -%}
{{ '<image>' if content['type'] == 'image' else '<video>' }}
{% endfor -%}
{%- for content in message['content'] if content['type'] == 'text' -%}{{ content['text'] }}{%- endfor -%}
{%- endif %} {% endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}ASSISTANT:{%- endif -%}
"""


def qwen_template(default_system: bool) -> str:
    """The Qwen template with the default system turn switched on (Qwen2/2.5-VL) or off (Qwen3-VL)."""
    flag = "true" if default_system else "false"
    return "{%- set default_system = " + flag + " -%}" + QWEN_TEMPLATE
