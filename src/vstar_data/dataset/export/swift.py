"""`swift`: ms-swift's custom-dataset JSONL, one row per line:
``{"messages": [{"role": "user", "content": "<video>QUESTION"}, {"role": "assistant", "content":
"ANSWER"}], "videos": ["PATH"]}`` (`swift sft --dataset PATH.jsonl`). ms-swift resolves relative
paths from its working directory; rows with `clip_start` / `clip_end` use the whole clip (counted)."""
from __future__ import annotations

from typing import Any

from ...jsonl import dumps
from .base import Exporter, has_window, question_and_answer


class SwiftExporter(Exporter):
    name = "swift"
    kind = "file"
    suffixes = (".jsonl",)
    description = "ms-swift JSONL (messages + videos)"

    def begin(self) -> None:
        self._fh = self.staging.open("w", encoding="utf-8")

    def add(self, row: dict[str, Any], video: str | None, video_file: Any) -> None:
        question, answer = question_and_answer(row)
        if has_window(row):
            self.report.notes["use the whole clip (ms-swift has no clip_start/clip_end)"] += 1
        self._fh.write(dumps({"messages": [{"role": "user", "content": "<video>" + question},
                                           {"role": "assistant", "content": answer}],
                              "videos": [video]}) + "\n")

    def finish(self) -> None:
        self._fh.close()
