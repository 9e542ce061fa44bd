"""`swift`: ms-swift's custom-dataset JSONL, one row per line:
``{"messages": [{"role": "user", "content": "<video>QUESTION"}, {"role": "assistant", "content":
"ANSWER"}], "videos": ["PATH"]}`` (`swift sft --dataset PATH.jsonl`). ms-swift resolves relative
paths from its working directory; rows with `clip_start` / `clip_end` use the whole clip (counted)."""
from __future__ import annotations

from typing import Any

from .base import RecordExporter, has_window, question_and_answer


class SwiftExporter(RecordExporter):
    name = "swift"
    kind = "file"
    suffixes = (".jsonl",)
    description = "ms-swift JSONL (messages + videos)"

    def record(self, row: dict[str, Any], video: str | None, video_file: Any) -> dict[str, Any]:
        question, answer = question_and_answer(row)
        if has_window(row):
            self.report.notes["use the whole clip (ms-swift has no clip_start/clip_end)"] += 1
        return {"messages": [{"role": "user", "content": "<video>" + question},
                             {"role": "assistant", "content": answer}],
                "videos": [video]}
