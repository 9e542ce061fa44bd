"""`llamafactory`: a folder LLaMA-Factory reads as its `dataset_dir`: `vstar.jsonl` (ShareGPT-style
messages + videos, one row per line) and `dataset_info.json` registering it as dataset `vstar`.
JSON lines, not one JSON list: `datasets.load_dataset("json")` (which LLaMA-Factory calls for
both) reads lines in blocks, but parses a list whole in memory (2.4 KB per row: 2.6 GB at 1M rows).

Row: ``{"messages": [{"role": "user", "content": "<video>QUESTION"}, {"role": "assistant",
"content": "ANSWER"}], "videos": ["PATH"]}``: one `<video>` tag for the one video, turns that
alternate user / assistant, `videos` a list in every row (LLaMA-Factory 0.9.5 stops the whole
dataset on one missing clip, one tag count that differs from `len(videos)`, or a column whose type
changes between rows). Relative video paths are resolved by LLaMA-Factory against `dataset_dir`
(this folder), so a relative --video-root is checked from here; an absolute one is safest.
LLaMA-Factory cannot take a time window: rows with `clip_start` / `clip_end` use the whole clip
and the report counts them.
"""
from __future__ import annotations

import json
from typing import Any

from .base import RecordExporter, has_window, question_and_answer

DATASET_NAME = "vstar"
DATA_FILE = "vstar.jsonl"


def dataset_info() -> dict[str, Any]:
    """The `dataset_info.json` entry that registers `vstar.jsonl`."""
    return {DATASET_NAME: {
        "file_name": DATA_FILE,
        "formatting": "sharegpt",
        "columns": {"messages": "messages", "videos": "videos"},
        "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"},
    }}


class LlamaFactoryExporter(RecordExporter):
    name = "llamafactory"
    kind = "folder"
    paths_relative_to = "out"
    layout = "jsonl"
    data_file = DATA_FILE
    description = "LLaMA-Factory dataset_dir: vstar.jsonl (sharegpt messages + videos) and dataset_info.json"

    def record(self, row: dict[str, Any], video: str | None, video_file: Any) -> dict[str, Any]:
        question, answer = question_and_answer(row)
        item = {"messages": [{"role": "user", "content": "<video>" + question},
                             {"role": "assistant", "content": answer}],
                "videos": [video]}
        if has_window(row):
            self.report.notes["use the whole clip (LLaMA-Factory has no clip_start/clip_end)"] += 1
        return item

    def finish(self) -> None:
        super().finish()
        (self.staging / "dataset_info.json").write_text(json.dumps(dataset_info(), indent=2) + "\n", "utf-8")
