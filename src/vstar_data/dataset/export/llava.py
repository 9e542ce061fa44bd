"""`llava`: the JSON list Video-LLaVA (the released `ft_json` files) and the bundled trainer read:
``[{"id", "video", "conversations": [{"from": "human", "value": "<video>\\n..."}, {"from": "gpt",
"value": ...}], "clip_start"?, "clip_end"?}]``. `clip_start` / `clip_end` appear when the labels
cover part of the video (the bundled trainer samples frames from that window; other scripts
ignore the keys). Without --video-root the stored relative paths are written unchecked (the
trainer joins them to its --videos folder)."""
from __future__ import annotations

from typing import Any

from .base import RecordExporter


class LlavaExporter(RecordExporter):
    name = "llava"
    kind = "file"
    suffixes = (".json",)
    layout = "json"
    needs_video = False
    description = "Video-LLaVA JSON list (id, video, conversations with <video>), for the bundled trainer"

    def record(self, row: dict[str, Any], video: str | None, video_file: Any) -> dict[str, Any]:
        item = {"id": row["id"], "video": video, "conversations": row["conversations"]}
        item.update((k, row[k]) for k in ("clip_start", "clip_end") if row.get(k) is not None)
        return item
