"""Charades-STA (sentence temporal grounding over Charades videos) -> "when does <sentence> happen?".

``--annotations`` is ``charades_sta_train.txt`` / ``charades_sta_test.txt`` as the dataset ships
them, or a folder of them (its ``*.txt`` files). One line per sentence query::

    3MSZA 24.3 30.4##person turn a light on.

i.e. ``VIDEO_ID START END##sentence``, times in seconds. Each line is one sample of task
``temporal_grounding``: the sentence in ``context["query"]`` (templates render it with the
``{query|event}`` filter), one ``interval`` label named ``moment``, the whole video ``<ID>.mp4``.
The split is the file name's (``charades_sta_test.txt`` -> ``test``), else ``all``.

Ids are ``<ID>_<start>-<end>`` (two decimals); several sentences often share one video and span,
so the second and later sentences of the same span get ``_2``, ``_3``, ... in file order.

Some official end times lie past the video's end. Option ``durations=FILE`` (or several, comma-
separated) gives the lengths: the dataset's ``Charades_v1_train.csv`` / ``Charades_v1_test.csv``
(columns ``id`` and ``length``, seconds) or a JSON ``{ID: {"duration": s}}``. Ends past the
length are clipped (note ``clipped_ends``); a span that is empty after clipping is a located skip
(``empty_after_clipping``); a sentence whose video the files do not list keeps its end (note
``no_duration``, per sentence). Malformed lines are located skips (file, line, reason).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar, Iterator

from vstar_data import (VIDEO_EXTS, Adapter, AnnotationError, ConfigError, IndexedLookupMixin, Sample, SkipRecord,
                        annotation_files, check_options, finite_number, is_plain_name, read_csv_rows,
                        split_from_name)

TASK = "temporal_grounding"
OPTIONS = ("durations",)


def read_durations(path: Path) -> dict[str, float]:
    """Video id -> length in seconds, from a Charades_v1 CSV (``id``, ``length``) or a JSON
    ``{id: {"duration": s}}``. A value that is not a positive number is an AnnotationError
    naming the file and line (or key): clipping by a wrong length would move every end."""
    out: dict[str, float] = {}
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise AnnotationError(f"not a readable JSON file: {exc}", file=path) from exc
        if not isinstance(data, dict):
            raise AnnotationError('expected {"VIDEO_ID": {"duration": seconds}, ...}', file=path)
        for vid, entry in data.items():
            value = finite_number(entry.get("duration")) if isinstance(entry, dict) else None
            if value is None or value <= 0:
                raise AnnotationError(f'expected {{"duration": seconds}} (> 0), got {entry!r}', file=path,
                                      row=vid, key="duration")
            out[str(vid)] = value
        return out
    index, _, rows = read_csv_rows(path, {"id": ("id", "video_id", "video"),
                                          "length": ("length", "duration")})
    for line, fields in rows:
        if len(fields) <= max(index.values()):
            raise AnnotationError("row has too few columns", file=path, row=line)
        value = finite_number(fields[index["length"]])
        if value is None or value <= 0:
            raise AnnotationError(f"length {fields[index['length']]!r} is not a positive number of seconds",
                                  file=path, row=line, key="length")
        out[fields[index["id"]].strip()] = value
    return out


def _time_text(t: float) -> str:
    return f"{t:.2f}"


class CharadesSTAAdapter(IndexedLookupMixin, Adapter):
    """Charades-STA sentence queries -> temporal grounding samples (one interval each)."""

    name: ClassVar[str] = "charades_sta"
    description: ClassVar[str] = ("Charades-STA (charades_sta_{train,test}.txt): when does <sentence> happen "
                                  "in the video, one interval per sentence")
    tasks: ClassVar[tuple[str, ...]] = (TASK,)
    label_types: ClassVar[tuple[str, ...]] = ("interval",)
    video_index_depth = 1

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        check_options(self.name, self.options, OPTIONS)
        self.duration_files = self._find_files(self.options.get("durations"))
        self._durations: dict[str, float] | None = None

    def _find_files(self, raw: Any) -> list[Path]:
        """The ``durations`` files: as given, else relative to the annotations' folder."""
        out = []
        for part in [p.strip() for p in str(raw or "").split(",") if p.strip()]:
            path = Path(part)
            if not path.is_file() and not path.is_absolute():
                base = self.annotations if self.annotations.is_dir() else self.annotations.parent
                path = base / part
            if not path.is_file():
                raise ConfigError(f"option durations: file {part!r} does not exist (give the dataset's "
                                  f"Charades_v1_<split>.csv or a JSON {{id: {{\"duration\": s}}}})", key="durations")
            out.append(path)
        return out

    def durations(self) -> dict[str, float]:
        """Every listed video's length (read once, on first use)."""
        if self._durations is None:
            self._durations = {}
            for path in self.duration_files:
                self._durations.update(read_durations(path))
        return self._durations

    def read(self, root: Path) -> Iterator[Sample | SkipRecord]:
        lengths = self.durations() if self.duration_files else None
        for path in annotation_files(root, (".txt",)):
            yield from self._read_file(path, split_from_name(path) or "all", lengths)

    def _read_file(self, path: Path, split: str,
                   lengths: dict[str, float] | None) -> Iterator[Sample | SkipRecord]:
        try:
            lines = path.read_text("utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise AnnotationError(f"not a readable UTF-8 text file: {exc}", file=path) from exc
        per_span: dict[tuple[str, str, str], int] = {}
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            head, sep, sentence = line.partition("##")
            parts = head.split()
            if not sep or len(parts) != 3:
                yield SkipRecord("malformed_line", f"expected `VIDEO_ID START END##sentence`, got {line[:80]!r}",
                                 file=path, row=n)
                continue
            vid, raw_start, raw_end = parts
            sentence = " ".join(sentence.split())
            if not sentence:
                yield SkipRecord("empty_sentence", "no sentence after ##", file=path, row=n)
                continue
            if not is_plain_name(vid):
                yield SkipRecord("unsafe_video_id", f"video id {vid!r} must be a plain file name", file=path, row=n)
                continue
            start, end = finite_number(raw_start), finite_number(raw_end)
            if start is None or end is None or start < 0 or end < 0:
                yield SkipRecord("bad_time", f"start/end {raw_start!r}, {raw_end!r} are not seconds >= 0",
                                 file=path, row=n)
                continue
            if start >= end:
                yield SkipRecord("end_not_after_start", f"start {raw_start} >= end {raw_end}", file=path, row=n)
                continue
            sid = f"{vid}_{_time_text(start)}-{_time_text(end)}"
            k = per_span[(vid, raw_start, raw_end)] = per_span.get((vid, raw_start, raw_end), 0) + 1
            if k > 1:
                sid += f"_{k}"
            meta: dict[str, Any] = {"video_id": vid, "sentence": sentence, "line": n, "span": [start, end]}
            if lengths is not None:
                duration = lengths.get(vid)
                if duration is None:
                    self.stats.notes["no_duration"] += 1
                else:
                    meta["duration"] = duration
                    if end > duration:
                        end = round(duration, 3)
                        if start >= end:
                            yield SkipRecord("empty_after_clipping", f"span {raw_start}-{raw_end} starts at or after "
                                             f"the video's end ({duration} s)", file=path, row=n, sample_id=sid)
                            continue
                        self.stats.notes["clipped_ends"] += 1
            yield Sample(id=sid, source=self.name, task=TASK, video=f"{vid}.mp4", split=split,
                         labels=[{"type": "interval", "name": "moment", "start": start, "end": end}],
                         context={"query": sentence}, metadata=meta)

    def video_candidates(self, sample: Sample) -> list[str]:
        """``<ID>`` with any of .mp4/.mkv/.webm/.avi (Charades ships .mp4), .mp4 first."""
        stem = Path(sample.video).stem
        return [stem + ext for ext in VIDEO_EXTS]
