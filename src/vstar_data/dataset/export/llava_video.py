"""`llava-video`: the JSON list LLaVA-NeXT / LLaVA-Video train on (LLaVA-Video-178K's shape):
``[{"id", "video", "conversations": [{"from": "human", "value": "<image>\\nQUESTION"}, {"from":
"gpt", "value": "ANSWER"}]}]``. That code base uses the `<image>` token for a video too (it
expands it into the sampled frames) and joins `video` to `--video_folder` (an absolute path
stays as it is). Rows with `clip_start` / `clip_end` use the whole clip (counted)."""
from __future__ import annotations

from typing import Any

from .base import RecordExporter, has_window, question_and_answer


class LlavaVideoExporter(RecordExporter):
    name = "llava-video"
    kind = "file"
    suffixes = (".json",)
    layout = "json"
    description = "LLaVA-NeXT / LLaVA-Video JSON (id, video, conversations with <image>)"

    def record(self, row: dict[str, Any], video: str | None, video_file: Any) -> dict[str, Any]:
        question, answer = question_and_answer(row)
        if has_window(row):
            self.report.notes["use the whole clip (LLaVA-Video has no clip_start/clip_end)"] += 1
        return {"id": row["id"], "video": video,
                "conversations": [{"from": "human", "value": "<image>\n" + question},
                                  {"from": "gpt", "value": answer}]}
