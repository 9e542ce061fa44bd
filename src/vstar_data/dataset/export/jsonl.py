"""`jsonl`: every published column, one row per line, with labels and verifier scores turned
back into plain label-spec / score objects (the shape `generate` and `verify` work with)."""
from __future__ import annotations

from typing import Any

from .base import RecordExporter


class JsonlExporter(RecordExporter):
    name = "jsonl"
    kind = "file"
    suffixes = (".jsonl",)
    needs_video = False
    description = "every column as JSON Lines, label specs restored"

    def record(self, row: dict[str, Any], video: str | None, video_file: Any) -> dict[str, Any]:
        from ..rows import from_record

        return {**from_record(row), "video": video}
