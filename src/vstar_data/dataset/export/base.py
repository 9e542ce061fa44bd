"""The Exporter interface, its options and report, and the checks every format shares.

An exporter turns published rows into one consumer's training or evaluation files. The driver
(`export()` in this package) streams rows, drops rationalized ones when asked, resolves and
checks every video path (a consumer such as LLaMA-Factory fails the whole dataset on one missing
clip, so a row whose clip is not there is skipped and counted here instead), and hands each
surviving row to the exporter. Output is staged beside `out` and renamed into place at the end:
an interrupted export leaves no half-written file or folder. A killed export cannot clean up:
its staging entry is named after its owner process (pid and start time, vstar_data.procs) and
the next export to the same place removes it once that process is gone.
"""
from __future__ import annotations

import hashlib
import json
import re
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from ...errors import SkipRecord
from ...jsonl import dumps

_TAG_RE = re.compile(r"<(?:video|image)>", re.IGNORECASE)
VIDEO_TAG = "<video>"   # what opens a published row's human turn (dataset/rows.conversations)


@dataclass
class ExportOptions:
    """What the user chose on the command line (see `vstar-data export --help`)."""

    video_root: str | None = None        # joined to each row's relative `video`
    exclude_rationalized: bool = False
    num_frames: int = 8                  # frames per clip for image-based formats (trl, grpo)
    frame_size: int | None = None        # short side of written frames (None: as decoded)
    task_name: str | None = None         # lmms-eval task name (default vstar_<split>)
    config: str = "default"
    splits: list[str] | None = None
    answer_format: str = "plain"         # grpo: "think" asks for <think>..</think><answer>..</answer>


@dataclass
class ExportReport:
    """What an export wrote and what it left out, with reasons."""

    format: str
    out: Path
    rows: int = 0
    read: int = 0
    excluded_rationalized: int = 0
    skipped: Counter = field(default_factory=Counter)      # reason -> rows
    notes: Counter = field(default_factory=Counter)        # written, but worth knowing
    examples: dict[str, str] = field(default_factory=dict)  # reason -> first example
    clips: int = 0                                          # distinct clips whose frames were written
    frames: int = 0                                         # frame files written
    files: list[str] = field(default_factory=list)          # what `out` holds

    def skip(self, reason: str, detail: str) -> None:
        self.skipped[reason] += 1
        self.examples.setdefault(reason, detail)

    def summary(self) -> str:
        lines = [f"{self.rows:,} of {self.read:,} rows -> {self.out} ({self.format})"]
        if self.files:
            lines.append("files: " + ", ".join(self.files))
        if self.clips:
            lines.append(f"frames: {self.frames:,} files for {self.clips:,} clips (each clip written once)")
        if self.excluded_rationalized:
            lines.append(f"excluded {self.excluded_rationalized:,} rationalized rows (--exclude-rationalized)")
        for reason, n in sorted(self.skipped.items()):
            lines.append(f"skipped {n:,} rows: {reason} (e.g. {self.examples.get(reason, '')})")
        for note, n in sorted(self.notes.items()):
            lines.append(f"note: {n:,} rows {note}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "out": str(self.out), "rows": self.rows, "read": self.read,
                "excluded_rationalized": self.excluded_rationalized, "skipped": dict(self.skipped),
                "notes": dict(self.notes), "clips": self.clips, "frames": self.frames}


class Exporter(ABC):
    """One output format. Subclasses set the class attributes and implement `add` (and usually
    `begin` / `finish`); they write under `self.staging`, which becomes `out` when all went well.

    `kind`: "file" (out is one file) or "folder". `needs_video`: every row's clip must be found
    under --video-root (rows whose clip is missing are skipped and counted). `paths_relative_to`:
    where the consumer resolves a relative video path ("cwd", or "out" for a folder export);
    `absolute_paths`: write each clip's resolved absolute path whatever --video-root looks like.
    `columns`: the published columns to read (None: all). `answer_formats`: the --answer-format
    values the format can ask for in its prompts.
    """

    name: ClassVar[str]
    kind: ClassVar[str] = "file"
    suffixes: ClassVar[tuple[str, ...]] = ()
    needs_video: ClassVar[bool] = True
    paths_relative_to: ClassVar[str] = "cwd"
    absolute_paths: ClassVar[bool] = False
    columns: ClassVar[list[str] | None] = None
    description: ClassVar[str] = ""
    answer_formats: ClassVar[tuple[str, ...]] = ("plain",)

    def __init__(self, out: Path, staging: Path, options: ExportOptions, report: ExportReport) -> None:
        self.out, self.staging, self.options, self.report = out, staging, options, report

    @classmethod
    def select_splits(cls, available: list[str], requested: list[str] | None) -> list[str] | None:
        """The splits to export (None: all); a format may insist on one, or pick a default."""
        return requested

    def begin(self) -> None:
        """Open files under `self.staging` (a file path or an existing empty folder)."""

    @abstractmethod
    def add(self, row: dict[str, Any], video: str | None, video_file: Path | None) -> None:
        """Write one row. `video` is the path as written for the consumer, `video_file` the clip
        on disk (None when the format needs no video). Raise SkipRecord to leave the row out."""

    def finish(self) -> None:
        """Close files; write indexes (dataset_info.json, task YAML ...)."""


class RecordExporter(Exporter):
    """A format that is one record per row in one data file: subclasses implement `record` (and
    may extend `begin` / `finish` for indexes); this class owns opening, framing and closing.

    `layout`: "jsonl" (one compact JSON object per line) or "json" (one JSON list, streamed).
    `data_file`: the file's name inside a folder export (a file export writes `out` itself).
    `with_frames`: sample each row's clip into JPEG files under `frames/` (`self.frame_writer`).
    """

    layout: ClassVar[str] = "jsonl"
    data_file: ClassVar[str] = "data.jsonl"
    with_frames: ClassVar[bool] = False

    @abstractmethod
    def record(self, row: dict[str, Any], video: str | None, video_file: Any) -> dict[str, Any]:
        """The row as this format's record (same arguments as `add`; raise SkipRecord to leave it out)."""

    def data_path(self) -> Path:
        """Where the records go under `self.staging`."""
        return self.staging if self.kind == "file" else self.staging / self.data_file

    def begin(self) -> None:
        self._fh = self.data_path().open("w", encoding="utf-8")
        self._n = 0
        if self.layout == "json":
            self._fh.write("[")
        if self.with_frames:
            self.frame_writer = FrameWriter(self.staging / "frames", self.out.resolve() / "frames",
                                            self.options, self.report)

    def add(self, row: dict[str, Any], video: str | None, video_file: Any) -> None:
        item = self.record(row, video, video_file)
        if self.layout == "json":
            self._fh.write(("\n" if self._n == 0 else ",\n") + json.dumps(item, ensure_ascii=False))
        else:
            self._fh.write(dumps(item) + "\n")
        self._n += 1

    def finish(self) -> None:
        if self.layout == "json":
            self._fh.write("\n]\n")
        self._fh.close()


# ------------------------------------------------------------------------------ shared helpers

def question_and_answer(row: dict[str, Any]) -> tuple[str, str]:
    """(user text, answer) of a published row. The user text is the human turn after its leading
    `<video>` line: the question, preceded by the time instruction when the model was told the
    frames' times at generation (so every format repeats what the model was told); rows without
    turns give the `question` column. A row whose text holds a media tag of its own is refused:
    consumers replace `<video>` / `<image>` wherever it appears (in an answer it would silently
    become a training target)."""
    turns = row.get("conversations") or []
    question = row.get("question")
    if turns and turns[0].get("from") in ("human", "user") and isinstance(turns[0].get("value"), str):
        first = turns[0]["value"]
        if first.startswith(VIDEO_TAG + "\n"):
            first = first[len(VIDEO_TAG) + 1:]
        question = first
    answer = next((t["value"] for t in turns if t.get("from") == "gpt"), None)
    if not question or answer is None:
        raise SkipRecord("no_conversation", "the row has no question/answer turns", sample_id=row.get("id"))
    for text, where in ((question, "question"), (answer, "answer")):
        if _TAG_RE.search(text):
            raise SkipRecord("media_tag_in_text", f"the {where} contains a <video>/<image> tag",
                             sample_id=row.get("id"))
    return question, answer


def labels_of(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The row's label specs as plain dicts (the published structs turned back into specs)."""
    from ..rows import struct_to_label

    labels = row.get("labels") or []
    return [struct_to_label(x) if "value_text" in x or "values" in x else dict(x) for x in labels]


def labels_json(row: dict[str, Any]) -> str:
    """Label specs as one JSON string: specs differ in shape, one string column suits Arrow."""
    return json.dumps(labels_of(row), ensure_ascii=False, sort_keys=True)


def has_window(row: dict[str, Any]) -> bool:
    return row.get("clip_start") is not None or row.get("clip_end") is not None


def clip_key(video_file: Path, row: dict[str, Any], num_frames: int, size: int | None) -> str:
    """A folder name for one clip's frames: readable stem plus a hash of what defines the frames."""
    raw = json.dumps([str(video_file), row.get("clip_start"), row.get("clip_end"), num_frames, size])
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", PurePosixPath(str(row.get("video", "clip"))).stem)[:40] or "clip"
    return f"{stem}-{hashlib.sha1(raw.encode()).hexdigest()[:12]}"


class FrameWriter:
    """Samples a clip's frames once and writes them as JPEG files under `root/<clip key>/`;
    later rows of the same clip reuse the files (the report counts clips and frames)."""

    def __init__(self, root: Path, final_root: Path, options: ExportOptions, report: ExportReport) -> None:
        self.root, self.final_root, self.options, self.report = root, final_root, options, report
        self._done: dict[str, list[str]] = {}

    def frames(self, video_file: Path, row: dict[str, Any]) -> list[str]:
        """Absolute paths (as they will be after the export is moved into place) of the frames."""
        from ...video.frames import sample_frames

        key = clip_key(video_file, row, self.options.num_frames, self.options.frame_size)
        if key in self._done:
            return self._done[key]
        from PIL import Image

        frames = sample_frames(video_file, self.options.num_frames, start=row.get("clip_start"),
                               end=row.get("clip_end"), size=self.options.frame_size)
        folder = self.root / key
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for k, (img, idx) in enumerate(zip(frames.array, frames.indices)):
            name = f"{k:02d}_{int(idx):06d}.jpg"
            Image.fromarray(img).save(folder / name, format="JPEG", quality=95)
            paths.append(str(self.final_root / key / name))
        self.report.clips += 1
        self.report.frames += len(paths)
        self._done[key] = paths
        return paths
