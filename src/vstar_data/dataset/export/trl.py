"""`trl`: a folder for TRL's trainers, which take images, not video: `data.jsonl` holds one
conversational row per line, ``{"id", "messages": [{"role": "user", "content": [{"type": "image"},
... one per frame, {"type": "text", "text": QUESTION}]}, {"role": "assistant", "content": [{"type":
"text", "text": ANSWER}]}], "images": [ABS PATHS]}``, and `frames/<clip>/` the sampled frames as
JPEG, written once per clip (rows of the same clip share them). Frames come from the row's
`clip_start` / `clip_end` window when it has one. Load with ``load_dataset("json",
data_files="OUT/data.jsonl")`` and cast `images` to ``List(Image())``."""
from __future__ import annotations

from typing import Any

from .base import RecordExporter, question_and_answer


def user_turn(question: str, n_images: int) -> dict[str, Any]:
    """The user turn: one image part per frame, then the question."""
    return {"role": "user", "content": [{"type": "image"}] * n_images + [{"type": "text", "text": question}]}


class TrlExporter(RecordExporter):
    name = "trl"
    kind = "folder"
    absolute_paths = True
    with_frames = True
    description = "TRL conversational dataset: data.jsonl (messages with image parts + images) and frames/"

    def record(self, row: dict[str, Any], video: str | None, video_file: Any) -> dict[str, Any]:
        question, answer = question_and_answer(row)
        images = self.frame_writer.frames(video_file, row)
        return {"id": row["id"],
                "messages": [user_turn(question, len(images)),
                             {"role": "assistant", "content": [{"type": "text", "text": answer}]}],
                "images": images}
