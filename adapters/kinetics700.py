"""Kinetics-700 (and Kinetics-400/600): one action class per 10-second YouTube clip.

Reads the official CSV lists, ``label,youtube_id,time_start,time_end,split`` (Kinetics-400/600
add ``is_cc`` and call their validation split ``val``). Columns are found by header, so column
order and extra columns do not matter. ``--annotations`` may also be a folder of such CSVs.

Clips are named by the usual downloaders ``<youtube_id>_<time_start:06d>_<time_end:06d>.mp4``,
flat or under ``<split>/<label>/`` (some replace spaces in the label folder by underscores), in
any of .mp4/.mkv/.webm/.avi; a file named by the bare ``<youtube_id>`` is accepted too. Such a
file is assumed to be the trimmed clip, as the downloaders write it, so `clip_start`/`clip_end`
stay unset; the clip's times in the YouTube video are kept in `metadata`.
"""
from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Iterator

from vstar_data import (VIDEO_EXTS, Adapter, IndexedLookupMixin, Sample, SkipRecord, annotation_files,
                        check_options, read_csv_rows)

COLUMNS = {"label": ("label",), "youtube_id": ("youtube_id",), "time_start": ("time_start",),
           "time_end": ("time_end",)}
OPTIONAL = {"split": ("split",)}
TASK = "action_recognition"


def _time(text: str) -> int | None:
    """A whole number of seconds ("84", or "84.0" as some re-exports write it); None if not."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() else None


class Kinetics700Adapter(IndexedLookupMixin, Adapter):
    """Kinetics-400/600/700 CSV lists -> one `action` category label per clip."""

    name: ClassVar[str] = "kinetics700"
    description: ClassVar[str] = "Kinetics-400/600/700 clip lists (CSV): one action class per 10 s clip"
    tasks: ClassVar[tuple[str, ...]] = (TASK,)
    label_types: ClassVar[tuple[str, ...]] = ("category",)
    video_index_depth = 3   # <split>/<label>/<file>

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        check_options(self.name, self.options, ())

    def read(self, root: Path) -> Iterator[Sample | SkipRecord]:
        for path in annotation_files(root, (".csv",)):
            yield from self._read_csv(path)

    def _read_csv(self, path: Path) -> Iterator[Sample | SkipRecord]:
        index, width, rows = read_csv_rows(path, COLUMNS, optional=OPTIONAL)
        i_label, i_yt = index["label"], index["youtube_id"]
        i_start, i_end = index["time_start"], index["time_end"]
        i_split = index.get("split")
        default_split = path.stem
        file = str(path)
        for line, fields in rows:
            if len(fields) != width:
                yield SkipRecord("wrong_column_count", f"expected {width} fields, got {len(fields)}",
                                 file=file, row=line)
                continue
            label = fields[i_label].strip()
            youtube_id = fields[i_yt].strip()
            if not label:
                yield SkipRecord("empty_label", "the label is empty", file=file, row=line, key="label")
                continue
            if not youtube_id:
                yield SkipRecord("empty_video_id", "youtube_id is empty", file=file, row=line,
                                 key="youtube_id")
                continue
            start, end = _time(fields[i_start]), _time(fields[i_end])
            if start is None or end is None or start < 0:
                yield SkipRecord("bad_time", f"time_start/time_end must be whole seconds >= 0, got "
                                 f"{fields[i_start]!r}, {fields[i_end]!r}", file=file, row=line)
                continue
            if end < start:
                yield SkipRecord("end_before_start", f"time_end {end} is before time_start {start}",
                                 file=file, row=line)
                continue
            split = fields[i_split].strip() if i_split is not None else ""
            stem = f"{youtube_id}_{start:06d}_{end:06d}"
            yield Sample(
                id=stem, source=self.name, task=TASK, video=stem + ".mp4",
                labels=[{"type": "category", "name": "action", "value": label, "synonyms": []}],
                split=split or default_split,
                metadata={"youtube_id": youtube_id, "time_start": start, "time_end": end})

    def label_vocabulary(self) -> dict[str, list[str]]:
        """The class list: a `label_map*.txt` beside the annotations (one class per line, as
        mmaction2 ships label_map_k700.txt), else the classes in the annotation files."""
        folder = self.annotations if self.annotations.is_dir() else self.annotations.parent
        maps = sorted(folder.glob("label_map*.txt"))
        if maps:
            lines = maps[0].read_text("utf-8").splitlines()
            return {"action": [c.strip() for c in lines if c.strip()]}
        return super().label_vocabulary()

    def video_candidates(self, sample: Sample) -> list[str]:
        """Flat, ``<label>/``, ``<split>/<label>/`` (label as-is or with underscores); full stem,
        then bare youtube id; each with .mp4/.mkv/.webm/.avi."""
        label = sample.labels[0]["value"]
        stems = (sample.id, sample.metadata["youtube_id"])
        folders = ["", f"{label}/", f"{sample.split}/{label}/"]
        if " " in label:
            under = label.replace(" ", "_")
            folders += [f"{under}/", f"{sample.split}/{under}/"]
        return [f"{folder}{stem}{ext}" for folder in folders for stem in stems for ext in VIDEO_EXTS]
