"""`grpo`: prompt-only rows for RL with verifiable rewards (TRL's GRPOTrainer, or verl / EasyR1
after renaming columns): a folder with `data.jsonl` and `frames/` (as `trl`, frames written once
per clip). Row: ``{"id", "source", "task", "prompt": [{"role": "user", "content": [{"type":
"image"}, ..., {"type": "text", "text": QUESTION}]}], "images": [ABS PATHS], "video": ABS PATH,
"clip_start", "clip_end", "labels": JSON STRING}``. `labels` is the ground truth: the row's label
specs as one JSON string (specs differ in shape; one string column suits Arrow), which
`vstar_data.rewards.trl_reward` reads from the `labels` column TRL passes to reward functions.
Rationalized and generated rows of one sample are the same prompt: the prompt is written once.
`--answer-format think` appends `vstar_data.rewards.THINK_INSTRUCTION` to each question (answer in
``<think>..</think><answer>..</answer>``, which the rewards score on the `<answer>` part)."""
from __future__ import annotations

from typing import Any

from ...errors import SkipRecord
from ...rewards import ANSWER_FORMATS, prompt_with_format
from .base import RecordExporter, labels_json, question_and_answer
from .trl import user_turn


class GrpoExporter(RecordExporter):
    name = "grpo"
    kind = "folder"
    absolute_paths = True
    with_frames = True
    description = "prompt-only rows (frames + video + question) with labels as ground truth, for GRPO"
    answer_formats = ANSWER_FORMATS

    def begin(self) -> None:
        super().begin()
        self._seen: set[str] = set()

    def record(self, row: dict[str, Any], video: str | None, video_file: Any) -> dict[str, Any]:
        question, _ = question_and_answer(row)
        if row["id"] in self._seen:
            raise SkipRecord("duplicate_prompt", "another row of this sample was already written")
        labels = labels_json(row)
        if labels == "[]":
            raise SkipRecord("no_labels", "a prompt without labels cannot be rewarded")
        images = self.frame_writer.frames(video_file, row)
        self._seen.add(row["id"])
        return {"id": row["id"], "source": row.get("source"), "task": row.get("task"),
                "prompt": [user_turn(prompt_with_format(question, self.options.answer_format), len(images))], "images": images,
                "video": video, "clip_start": row.get("clip_start"),
                "clip_end": row.get("clip_end"), "labels": labels}
