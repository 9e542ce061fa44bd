"""`llava-video`: the JSON list LLaVA-NeXT / LLaVA-Video train on (LLaVA-Video-178K's shape):
``[{"id", "video", "conversations": [{"from": "human", "value": "<image>\\nQUESTION"}, {"from":
"gpt", "value": "ANSWER"}]}]``. That code base uses the `<image>` token for a video too (it
expands it into the sampled frames) and joins `video` to `--video_folder` (an absolute path
stays as it is). Rows with `clip_start` / `clip_end` use the whole clip (counted)."""
from __future__ import annotations

import json
from typing import Any

from .base import Exporter, has_window, question_and_answer


class LlavaVideoExporter(Exporter):
    name = "llava-video"
    kind = "file"
    suffixes = (".json",)
    description = "LLaVA-NeXT / LLaVA-Video JSON (id, video, conversations with <image>)"

    def begin(self) -> None:
        self._fh = self.staging.open("w", encoding="utf-8")
        self._fh.write("[")
        self._n = 0

    def add(self, row: dict[str, Any], video: str | None, video_file: Any) -> None:
        question, answer = question_and_answer(row)
        if has_window(row):
            self.report.notes["use the whole clip (LLaVA-Video has no clip_start/clip_end)"] += 1
        item = {"id": row["id"], "video": video,
                "conversations": [{"from": "human", "value": "<image>\n" + question},
                                  {"from": "gpt", "value": answer}]}
        self._fh.write(("\n" if self._n == 0 else ",\n") + json.dumps(item, ensure_ascii=False))
        self._n += 1

    def finish(self) -> None:
        self._fh.write("\n]\n")
        self._fh.close()
