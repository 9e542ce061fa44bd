"""`jsonl`: every published column, one row per line, with labels and verifier scores turned
back into plain label-spec / score objects (the shape `generate` and `verify` work with)."""
from __future__ import annotations

from typing import Any

from ...jsonl import dumps
from .base import Exporter


class JsonlExporter(Exporter):
    name = "jsonl"
    kind = "file"
    suffixes = (".jsonl",)
    needs_video = False
    description = "every column as JSON Lines, label specs restored"

    def begin(self) -> None:
        self._fh = self.staging.open("w", encoding="utf-8")

    def add(self, row: dict[str, Any], video: str | None, video_file: Any) -> None:
        from ..rows import from_record

        self._fh.write(dumps({**from_record(row), "video": video}) + "\n")

    def finish(self) -> None:
        self._fh.close()
