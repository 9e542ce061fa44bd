"""Loss masking: exactly the assistant's tokens carry labels, with and without {% generation %}."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vstar_data.training.data import (IGNORE_INDEX, PadCollator, _spans_to_mask, encode,
                                   has_generation_markers, to_messages)

ANSWER = "The person is playing guitar."
# Qwen's ChatML with the assistant's content + <|im_end|> inside {% generation %} (as TRL-style
# templates mark it); renders the same text as the tiny model's stock template (no system turn).
MARKED_QWEN = (
    "{%- for message in messages -%}{{ '<|im_start|>' + message['role'] + '\\n' }}"
    "{%- if message['role'] == 'assistant' -%}"
    "{% generation %}{%- for c in message['content'] -%}{{ c['text'] }}{%- endfor -%}"
    "{{ '<|im_end|>' }}{% endgeneration %}{{ '\\n' }}"
    "{%- else -%}{%- for c in message['content'] -%}"
    "{%- if c['type'] == 'video' -%}{{ '<|vision_start|><|video_pad|><|vision_end|>' }}"
    "{%- else -%}{{ c['text'] }}{%- endif -%}{%- endfor -%}{{ '<|im_end|>\\n' }}"
    "{%- endif -%}{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}")
STOCK_QWEN_NO_SYSTEM = MARKED_QWEN.replace("{% generation %}", "").replace("{% endgeneration %}", "")


def _video(n: int = 4) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (n, 32, 48, 3), dtype=np.uint8)


def _meta(n: int = 4) -> dict:
    return {"total_num_frames": 40, "fps": 10.0, "duration": 4.0, "frames_indices": list(range(0, 40, 40 // n)),
            "height": 32, "width": 48}


def _turns(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    turns = []
    for i, (q, a) in enumerate(pairs):
        turns += [{"from": "user", "value": ("<video>\n" if i == 0 else "") + q},
                  {"from": "assistant", "value": a}]
    return turns


@pytest.fixture(scope="module")
def qwen(tiny_model):
    from transformers import AutoProcessor

    return AutoProcessor.from_pretrained(tiny_model("qwen2_vl"))


def _labelled(processor, out) -> tuple[list[int], str]:
    labels = out["labels"][0]
    pos = (labels != IGNORE_INDEX).nonzero().flatten().tolist()
    assert torch.equal(labels[pos], out["input_ids"][0][pos])  # labels are the tokens themselves
    return pos, processor.tokenizer.decode(labels[pos])


def test_generation_marker_path_labels_exactly_the_answer(qwen):
    qwen.chat_template = MARKED_QWEN
    assert has_generation_markers(qwen)
    out = encode(qwen, to_messages(_turns(("What is happening?", ANSWER)), _video()), _meta())
    pos, text = _labelled(qwen, out)
    # A token straddling the prompt/answer boundary ("\nThe" for this tokenizer) carries loss.
    assert text.lstrip() == ANSWER + "<|im_end|>"
    ids = out["input_ids"][0]
    assert pos == list(range(pos[0], pos[-1] + 1)) and pos[-1] >= len(ids) - 2  # one block, at the end
    video_id = qwen.tokenizer.convert_tokens_to_ids("<|video_pad|>")
    n_video = int((ids == video_id).sum())
    assert n_video == int(out["video_grid_thw"].prod()) // 4  # placeholder expanded (merge 2x2) ...
    assert all(ids[p] != video_id for p in pos)               # ... and never labelled
    assert qwen.tokenizer.decode(ids[:pos[0]]).endswith("What is happening?<|im_end|>\n<|im_start|>assistant")


def test_fallback_path_matches_marker_path(qwen):
    """Without markers the prompt (add_generation_prompt=True) is masked: same labels, same ids."""
    msgs = to_messages(_turns(("What is happening?", ANSWER)), _video())
    qwen.chat_template = MARKED_QWEN
    marked = encode(qwen, msgs, _meta())
    qwen.chat_template = STOCK_QWEN_NO_SYSTEM
    assert not has_generation_markers(qwen)
    fallback = encode(qwen, msgs, _meta())
    assert torch.equal(marked["input_ids"], fallback["input_ids"])
    assert torch.equal(marked["labels"], fallback["labels"])
    assert torch.equal(marked["pixel_values_videos"], fallback["pixel_values_videos"])


def test_fallback_multi_turn_labels_every_answer_and_no_question(tiny_model):
    from transformers import AutoProcessor

    proc = AutoProcessor.from_pretrained(tiny_model("qwen2_vl"))  # stock template: system turn, no markers
    assert not has_generation_markers(proc)
    out = encode(proc, to_messages(_turns(("What is happening?", ANSWER), ("And then?", "He stops.")),
                                   _video()), _meta())
    pos, _ = _labelled(proc, out)
    blocks, start = [], pos[0]
    for a, b in zip(pos, pos[1:] + [None]):
        if b != a + 1:
            blocks.append(proc.tokenizer.decode(out["input_ids"][0][start:a + 1]).lstrip())
            start = b
    assert blocks == [ANSWER + "<|im_end|>", "He stops.<|im_end|>"]


def test_vicuna_template_gets_eos_appended_and_labelled(tiny_model):
    """LLaVA-NeXT-Video's template ends an answer with a space, no EOS: the EOS is added so the
    trained model learns to stop."""
    from transformers import AutoProcessor

    proc = AutoProcessor.from_pretrained(tiny_model("llava_next_video"))
    out = encode(proc, to_messages(_turns(("What is happening?", ANSWER)), _video()), _meta())
    pos, text = _labelled(proc, out)
    eos = proc.tokenizer.eos_token_id
    assert out["input_ids"][0, -1] == eos and out["labels"][0, -1] == eos
    assert out["attention_mask"].shape == out["input_ids"].shape and out["attention_mask"].all()
    assert text.strip() == ANSWER + proc.tokenizer.eos_token
    prompt = proc.tokenizer.decode(out["input_ids"][0][:pos[0]])
    assert prompt.rstrip().endswith("ASSISTANT:") and "<video>" in prompt


def test_spans_shift_past_expanded_placeholders():
    # text "ab<V>cd": placeholder at [2,5) expanded to 9 chars; span "cd" [5,7) moves to [11,13)
    offsets = [(0, 2), (2, 5), (5, 8), (8, 11), (11, 13)]
    repl = [{"span": (2, 5), "new_span": (2, 11)}]
    assert _spans_to_mask(offsets, repl, [(5, 7)]) == [0, 0, 0, 0, 1]
    assert _spans_to_mask(offsets, [], [(0, 2)]) == [1, 0, 0, 0, 0]
    assert _spans_to_mask([(0, 0), (0, 2)], [], [(0, 2)]) == [0, 1]   # zero-width specials never


def test_video_goes_where_the_placeholder_is():
    msgs = to_messages([{"from": "user", "value": "Look: <video>\nWhat?"}, {"from": "assistant", "value": "x"}],
                       "V")
    assert msgs[0]["content"] == [{"type": "text", "text": "Look:"}, {"type": "video", "video": "V"},
                                  {"type": "text", "text": "What?"}]
    no_tag = to_messages([{"from": "system", "value": "S"}, {"from": "user", "value": "Q"},
                          {"from": "assistant", "value": "A"}], "V")
    assert no_tag[1]["content"][0] == {"type": "video", "video": "V"} and no_tag[0]["role"] == "system"


def test_collator_pads_per_token_tensors_and_concatenates_pixels():
    a = {"input_ids": torch.tensor([[5, 6, 7]]), "attention_mask": torch.ones(1, 3, dtype=torch.long),
         "labels": torch.tensor([[-100, 6, 7]]), "mm_token_type_ids": torch.tensor([[0, 2, 0]]),
         "pixel_values_videos": torch.ones(4, 8), "video_grid_thw": torch.tensor([[2, 2, 1]])}
    b = {"input_ids": torch.tensor([[5]]), "attention_mask": torch.ones(1, 1, dtype=torch.long),
         "labels": torch.tensor([[-100]]), "mm_token_type_ids": torch.tensor([[0]]),
         "pixel_values_videos": torch.zeros(3, 8), "video_grid_thw": torch.tensor([[1, 3, 1]])}
    batch = PadCollator(pad_token_id=0)([a, b])
    assert batch["input_ids"].tolist() == [[5, 6, 7], [5, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[-100, 6, 7], [-100, -100, -100]]
    assert batch["mm_token_type_ids"].tolist() == [[0, 2, 0], [0, 0, 0]]
    assert batch["pixel_values_videos"].shape == (7, 8) and batch["video_grid_thw"].shape == (2, 3)


@pytest.mark.parametrize("arch", ["qwen2_vl", "qwen2_5_vl", "qwen3_vl", "llava_onevision", "llava_next_video",
                                  "video_llava"])
def test_every_tiny_family_labels_only_the_answer_and_its_end_token(arch, tiny_model):
    from transformers import AutoProcessor

    proc = AutoProcessor.from_pretrained(tiny_model(arch))
    out = encode(proc, to_messages(_turns(("What is happening?", ANSWER)), _video()), _meta())
    pos, text = _labelled(proc, out)
    tok = proc.tokenizer
    ends = {"<|im_end|>", tok.eos_token}
    assert any(text.strip() == ANSWER + end for end in ends), text
    assert pos == list(range(pos[0], pos[-1] + 1))                      # one contiguous block
    assert "What is happening?" in tok.decode(out["input_ids"][0][:pos[0]])
    assert out["input_ids"].shape == out["labels"].shape == out["attention_mask"].shape
