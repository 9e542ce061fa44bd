"""An example third-party plugin for vstar-data, using only the public API (`import vstar_data`).

- adapter `colour_clips`: a JSON Lines file of `{"video": ..., "colour": "#rrggbb"}` rows;
- label type `hex_colour`: passes when the answer states a hex colour within `max_distance`, and
  declares its held-out metrics (`correct` and the mean channel error of the colours stated);
- backend `mean_colour`: answers with the mean colour of the frames it is given (its output
  depends on its input, so it exercises a real model-dependent path without weights).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, ClassVar, Iterator, Mapping

from vstar_data import (Adapter, AnnotationError, Backend, GenerationError, LabelResult, LabelType, Metric,
                        Profile, Request, Sample, ScoreContext, SkipRecord)

TEMPLATES = Path(__file__).with_name("templates")
_HEX = re.compile(r"#([0-9a-fA-F]{6})\b")


def _rgb(hex_text: str) -> tuple[int, int, int]:
    h = hex_text.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


class ColourClipsAdapter(Adapter):
    name: ClassVar[str] = "colour_clips"
    description: ClassVar[str] = "Example plugin: clips labeled with their dominant hex colour (JSONL)"
    tasks: ClassVar[tuple[str, ...]] = ("dominant_colour",)
    label_types: ClassVar[tuple[str, ...]] = ("hex_colour",)

    def read(self, root: Path) -> Iterator[Sample | SkipRecord]:
        if not root.is_file():
            raise AnnotationError("expected a .jsonl file", file=root)
        with root.open("r", encoding="utf-8") as fh:
            for line_no, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    video, colour = str(row["video"]), str(row["colour"])
                except (ValueError, KeyError, TypeError) as exc:
                    yield SkipRecord("malformed_row", f"not a {{video, colour}} object: {exc}", file=root, row=line_no)
                    continue
                if not _HEX.fullmatch(colour):
                    yield SkipRecord("bad_colour", f"{colour!r} is not #rrggbb", file=root, row=line_no)
                    continue
                yield Sample(id=Path(video).stem, source=self.name, task="dominant_colour", video=video,
                             labels=[{"type": "hex_colour", "name": "colour", "value": colour.lower()}],
                             split=str(row.get("split") or "train"))


class HexColourLabel(LabelType):
    type_name: ClassVar[str] = "hex_colour"
    metrics: ClassVar[tuple[Metric, ...]] = (
        Metric("correct"), Metric("channel_error", item="distance", label="mean channel error", format="number"))
    right: ClassVar[str] = "correct"

    def verify(self, spec: dict[str, Any], answer: str, profile: Profile) -> LabelResult:
        text = answer if isinstance(answer, str) else ""
        found = list(_HEX.finditer(text))
        if not found:
            return LabelResult(spec["name"], self.type_name, False, 0.0, reason="not_found")
        if len({m.group(0).lower() for m in found}) > 1:
            return LabelResult(spec["name"], self.type_name, False, 0.0, reason="competing_value")
        m = found[0]
        want, got = _rgb(spec["value"]), _rgb(m.group(0))
        dist = max(abs(a - b) for a, b in zip(want, got))
        limit = int(spec.get("max_distance", 16))
        score = max(0.0, 1.0 - dist / 255.0)
        return LabelResult(spec["name"], self.type_name, dist <= limit, score, span=m.span(), matched=m.group(0),
                           reason=None if dist <= limit else "out_of_tolerance", extra={"distance": dist})

    def score(self, spec: dict[str, Any], answer: str | None, verdict: Mapping[str, Any],
              context: ScoreContext) -> dict[str, Any]:
        out: dict[str, Any] = {"correct": bool(verdict.get("passed"))}
        if answer is not None and "distance" in verdict:
            out["distance"] = verdict["distance"]
        return out

    def hint_text(self, spec: dict[str, Any]) -> str:
        return str(spec["value"])


class MeanColourBackend(Backend):
    name: ClassVar[str] = "mean_colour"

    def load(self) -> None:
        self._loaded = True

    @property
    def model_name(self) -> str:
        return "mean-colour-v1"

    def generate(self, requests: list[Request]) -> list[Any]:
        out: list[Any] = []
        for req in requests:
            frames = getattr(req.frames, "array", None)
            if frames is None or getattr(frames, "size", 0) == 0:
                out.append(GenerationError("no_frames", "this backend needs frames", sample_id=req.sample_id))
                continue
            r, g, b = (int(round(float(c))) for c in frames.reshape(-1, frames.shape[-1]).mean(axis=0)[:3])
            out.append(f"The dominant colour is #{r:02x}{g:02x}{b:02x}.")
        return out
