"""Temporal action localization sources (THUMOS14 CSV, ActivityNet-style JSON) -> two tasks.

Inputs (``--annotations`` is a file or a folder of them):
- THUMOS14 CSV: ``video,type,type_idx,start,end,startFrame,endFrame`` (seconds are used; the
  split comes from a ``split``/``subset`` column, else the file name: ``val_Annotation.csv`` ->
  ``val``). ``Ambiguous`` segments are left out (counted in notes) unless include_ambiguous=true.
- ActivityNet-style JSON: ``{"database": {VID: {...}}}`` or a bare ``{VID: {...}}`` with
  ``duration`` / ``duration_second``, optional ``subset`` (else ``subset_csv=FILE`` with columns
  video,subset, else the file name, else ``default_split``) and
  ``annotations: [{"segment": [start, end], "label": ...}]``. Segments past the duration are
  clamped (note ``clamped_segments``); videos without segments are counted, not sampled.

Tasks (option ``tasks=classification,localization``, both by default):
- ``temporal_classification``: one sample per segment, "what happens between {start} and {end}?",
  one ``action`` category label. CamelCase THUMOS classes are written as words ("CleanAndJerk"
  -> "clean and jerk") in label values and questions; the source class is kept in metadata.
- ``temporal_localization``: one sample per (video, class), "when does {action} happen?", one
  interval label per instance in time order, named ``segment``, ``segment_2``, ... (the interval
  verifier matches one stated interval per label, so every instance is its own label). A sample
  with more than ``max_segments`` (default 5; 0 = no cap) instances is skipped
  (``too_many_segments``): nobody can state 40 intervals from 8 frames. Use a window.

``window=SECONDS``: untrimmed videos run minutes and 8 sampled frames may miss a 5 s action, so a
sample may cover a window around its segment(s) instead: clip_start/clip_end are set and label
times are relative to clip_start, clamped to the window. Localization windows group instances
greedily in time order (a group spans at most the window and holds at most max_segments); the
window is centred on the group, then shrunk where it would cut into a neighbouring instance, and
every instance of the class that overlaps it is labeled, so each window's labels are complete.
Without a window the whole video is used (clip bounds unset, absolute times). Where the duration
is unknown (THUMOS CSV) a window is only kept from starting before 0; the frame sampler stops at
the video's end.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Iterator

from vstar_data import (VIDEO_EXTS, Adapter, AnnotationError, ConfigError, IndexedLookupMixin, Sample, SkipRecord,
                        annotation_files, bool_option, check_options, finite_number, float_option, int_option,
                        is_plain_name, read_csv_rows, split_from_name)

CLS, LOC = "temporal_classification", "temporal_localization"
_TASK_ALIASES = {"classification": CLS, "cls": CLS, CLS: CLS,
                 "localization": LOC, "loc": LOC, LOC: LOC}
OPTIONS = ("window", "tasks", "max_segments", "include_ambiguous", "subset_csv", "default_split")
CSV_COLUMNS = {"video": ("video", "video_id", "video_name"), "label": ("type", "label", "class"),
               "start": ("start", "t_start", "start_s"), "end": ("end", "t_end", "end_s")}
CSV_OPTIONAL = {"split": ("split", "subset"), "duration": ("duration", "duration_second")}
_SLUG_RE = re.compile(r"[^A-Za-z0-9]+")


@dataclass(slots=True)
class _Segment:
    start: float
    end: float
    label: str
    index: int          # position among the video's annotations in the source (stable id part)


@dataclass(slots=True)
class _Video:
    vid: str
    split: str
    duration: float | None
    file: str
    segments: list[_Segment] = field(default_factory=list)


def _secs(t: float) -> str:
    """Seconds as questions state them: 12.4s."""
    return f"{t:.1f}s"


_CAMEL_RE = re.compile(r"[A-Z][a-z]+(?:[A-Z][a-z]*)*")


def humanize(label: str) -> str:
    """THUMOS writes classes in CamelCase ("CleanAndJerk", "Billiards"); questions and answers
    need the words ("clean and jerk", "billiards"). Other labels (ActivityNet's "Long jump",
    acronyms such as "BMX") are kept as they are."""
    if _CAMEL_RE.fullmatch(label):
        return re.sub(r"(?<!^)(?=[A-Z])", " ", label).lower()
    return label


def _slug(text: str) -> str:
    return _SLUG_RE.sub("-", text).strip("-").lower() or "x"


def place_window(center: float, width: float, duration: float | None) -> tuple[float, float]:
    """A `width`-second window centred on `center`, shifted to lie inside [0, duration]."""
    if duration is not None and width >= duration:
        return 0.0, round(duration, 3)
    start = max(0.0, center - width / 2)
    if duration is not None and start + width > duration:
        start = duration - width
    start = round(start, 2)
    return start, round(start + width, 2)


class TALAdapter(IndexedLookupMixin, Adapter):
    """THUMOS14 / ActivityNet-style segments -> temporal classification and localization."""

    name: ClassVar[str] = "tal"
    description: ClassVar[str] = ("Temporal action localization (THUMOS14 CSV, ActivityNet-style JSON): "
                                  "what happens between t1 and t2 / when does X happen")
    tasks: ClassVar[tuple[str, ...]] = (CLS, LOC)
    label_types: ClassVar[tuple[str, ...]] = ("category", "interval")
    video_index_depth = 2   # <split>/<file>

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        opts = self.options
        check_options(self.name, opts, OPTIONS)
        self.window = float_option(opts, "window", None)
        self.max_segments = int_option(opts, "max_segments", 5)
        self.include_ambiguous = bool_option(opts, "include_ambiguous", False)
        self.default_split = str(opts.get("default_split") or "all")
        self.enabled = self._parse_tasks(opts.get("tasks"))
        self.subset_csv = self._find_subset_csv(opts.get("subset_csv"))
        self._subsets: dict[str, str] | None = None
        self._ids: set[str] = set()

    @staticmethod
    def _parse_tasks(raw: Any) -> tuple[str, ...]:
        if raw is None or str(raw).strip() in ("", "all"):
            return (CLS, LOC)
        out = []
        for part in str(raw).split(","):
            task = _TASK_ALIASES.get(part.strip().lower())
            if task is None:
                raise ConfigError(f"option tasks: unknown task {part.strip()!r}; use classification, "
                                  f"localization or both (comma-separated)", key="tasks")
            if task not in out:
                out.append(task)
        return tuple(out)

    def _find_subset_csv(self, raw: Any) -> Path | None:
        if not raw:
            return None
        path = Path(str(raw))
        if not path.is_file() and not path.is_absolute():
            base = self.annotations if self.annotations.is_dir() else self.annotations.parent
            path = base / path
        if not path.is_file():
            raise ConfigError(f"option subset_csv: file {raw!r} does not exist", key="subset_csv")
        return path

    # -- reading -----------------------------------------------------------------------------

    def read(self, root: Path) -> Iterator[Sample | SkipRecord]:
        self._ids = set()
        skip_side = self.subset_csv.resolve() if self.subset_csv else None
        for path in annotation_files(root, (".csv", ".json")):
            if skip_side is not None and path.resolve() == skip_side:
                continue
            parse = self._read_json if path.suffix.lower() == ".json" else self._read_csv
            videos: list[_Video] = []
            yield from parse(path, videos)
            for video in videos:
                if not video.segments:
                    self.stats.notes["videos_without_segments"] += 1
                    continue
                yield from self._samples_for(video)

    def _keep_label(self, label: str) -> bool:
        if label.lower() == "ambiguous" and not self.include_ambiguous:
            self.stats.notes["ambiguous_segments"] += 1
            return False
        return True

    def _read_csv(self, path: Path, videos: list[_Video]) -> Iterator[SkipRecord]:
        index, width, rows = read_csv_rows(path, CSV_COLUMNS, optional=CSV_OPTIONAL)
        file_split = split_from_name(path) or self.default_split
        by_vid: dict[str, _Video] = {}
        counts: dict[str, int] = {}
        seen: set[tuple[str, str, float, float]] = set()
        for line, fields in rows:
            if len(fields) != width:
                yield SkipRecord("wrong_column_count", f"expected {width} fields, got {len(fields)}",
                                 file=path, row=line)
                continue
            vid, label = fields[index["video"]].strip(), fields[index["label"]].strip()
            if not vid or not label:
                yield SkipRecord("empty_field", "video and label must not be empty", file=path, row=line)
                continue
            if not is_plain_name(vid):
                yield SkipRecord("unsafe_video_id", "a video id must be a plain file name", file=path,
                                 row=line, key="video")
                continue
            seg_index = counts[vid] = counts.get(vid, -1) + 1
            times = self._times(fields[index["start"]], fields[index["end"]])
            if isinstance(times, str):
                yield SkipRecord(times, f"start/end {fields[index['start']]!r}, {fields[index['end']]!r}",
                                 file=path, row=line)
                continue
            start, end = times
            if not self._keep_label(label):
                continue
            video = by_vid.get(vid)
            if video is None:
                split = fields[index["split"]].strip().lower() if "split" in index else ""
                duration = finite_number(fields[index["duration"]]) if "duration" in index else None
                video = by_vid[vid] = _Video(vid, split or file_split, duration, str(path))
                videos.append(video)
            key = (vid, label, start, end)
            if key in seen:
                self.stats.notes["duplicate_segments"] += 1
                continue
            seen.add(key)
            video.segments.append(self._clamped(video, _Segment(start, end, label, seg_index)))

    @staticmethod
    def _times(raw_start: Any, raw_end: Any) -> tuple[float, float] | str:
        """(start, end) in seconds, or the reason slug to skip the row with."""
        start, end = finite_number(raw_start), finite_number(raw_end)
        if start is None or end is None or start < 0:
            return "bad_time"
        if end < start:
            return "end_before_start"
        return start, end

    def _clamped(self, video: _Video, seg: _Segment) -> _Segment:
        if video.duration is not None and seg.end > video.duration:
            self.stats.notes["clamped_segments"] += 1
            seg.end = video.duration
        return seg

    def _read_json(self, path: Path, videos: list[_Video]) -> Iterator[SkipRecord]:
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise AnnotationError(f"not a readable JSON file: {exc}", file=path) from exc
        if isinstance(data, dict) and isinstance(data.get("database"), dict):
            data = data["database"]
        if not isinstance(data, dict):
            raise AnnotationError('expected {"database": {VIDEO: {...}}} or {VIDEO: {...}}', file=path)
        file_split = split_from_name(path)
        for vid, entry in data.items():
            if not is_plain_name(vid):
                yield SkipRecord("unsafe_video_id", "a video id must be a plain file name", file=path,
                                 row=vid)
                continue
            if not isinstance(entry, dict):
                yield SkipRecord("malformed_video", "each video entry must be a JSON object",
                                 file=path, row=vid)
                continue
            raw_duration = entry.get("duration", entry.get("duration_second"))
            duration = finite_number(raw_duration)
            if raw_duration is not None and (duration is None or duration <= 0):
                yield SkipRecord("bad_duration", f"duration {raw_duration!r} is not a positive number",
                                 file=path, row=vid, key="duration")
                continue
            video = _Video(vid, self._split_for(vid, entry, file_split), duration, str(path))
            anns = entry.get("annotations") or []
            if not isinstance(anns, list):
                yield SkipRecord("malformed_video", "annotations must be a list", file=path, row=vid,
                                 key="annotations")
                continue
            seen: set[tuple[str, float, float]] = set()
            for i, ann in enumerate(anns):
                seg = ann.get("segment") if isinstance(ann, dict) else None
                label = ann.get("label") if isinstance(ann, dict) else None
                if not (isinstance(seg, (list, tuple)) and len(seg) == 2 and isinstance(label, str)
                        and label.strip()):
                    yield SkipRecord("malformed_segment", 'expected {"segment": [start, end], "label": str}',
                                     file=path, row=vid, key=f"annotations[{i}]")
                    continue
                times = self._times(seg[0], seg[1])
                if isinstance(times, str):
                    yield SkipRecord(times, f"segment {seg!r}", file=path, row=vid, key=f"annotations[{i}]")
                    continue
                start, end = times
                if duration is not None and start >= duration:
                    yield SkipRecord("segment_after_end", f"segment {seg!r} starts after the video's "
                                     f"duration {duration}", file=path, row=vid, key=f"annotations[{i}]")
                    continue
                label = label.strip()
                if not self._keep_label(label):
                    continue
                if (label, start, end) in seen:
                    self.stats.notes["duplicate_segments"] += 1
                    continue
                seen.add((label, start, end))
                video.segments.append(self._clamped(video, _Segment(start, end, label, i)))
            videos.append(video)

    def _split_for(self, vid: str, entry: dict[str, Any], file_split: str | None) -> str:
        subset = entry.get("subset")
        if isinstance(subset, str) and subset.strip():
            return subset.strip().lower()
        if self.subset_csv is not None:
            found = self._side_subsets().get(vid) or self._side_subsets().get(
                vid[2:] if vid.startswith("v_") else "v_" + vid)
            if found:
                return found
        return file_split or self.default_split

    def _side_subsets(self) -> dict[str, str]:
        if self._subsets is None:
            assert self.subset_csv is not None
            columns = {"video": ("video", "video_id", "id", "video_name"), "subset": ("subset", "split")}
            index, _, rows = read_csv_rows(self.subset_csv, columns)
            self._subsets = {}
            for _, fields in rows:
                if len(fields) > max(index.values()):
                    self._subsets[fields[index["video"]].strip()] = fields[index["subset"]].strip().lower()
        return self._subsets

    # -- samples -----------------------------------------------------------------------------

    def _samples_for(self, video: _Video) -> Iterator[Sample | SkipRecord]:
        if CLS in self.enabled:
            for seg in video.segments:
                yield self._unique(self._classification(video, seg), video)
        if LOC in self.enabled:
            by_label: dict[str, list[_Segment]] = {}
            for seg in video.segments:
                by_label.setdefault(seg.label, []).append(seg)
            for label, segs in by_label.items():
                spans = sorted({(s.start, s.end) for s in segs})
                for item in self._localization(video, label, spans):
                    yield item if isinstance(item, SkipRecord) else self._unique(item, video)

    def _unique(self, sample: Sample, video: _Video) -> Sample | SkipRecord:
        if sample.id in self._ids:
            return SkipRecord("duplicate_id", f"{sample.id} was already produced (same video in two "
                              "annotation files?)", file=video.file, row=video.vid, sample_id=sample.id)
        self._ids.add(sample.id)
        return sample

    def _base(self, video: _Video, task: str, sid: str, labels: list[dict[str, Any]],
              context: dict[str, Any], clip: tuple[float, float] | None, meta: dict[str, Any]) -> Sample:
        if video.duration is not None:
            meta["duration"] = video.duration
        vid = video.vid
        stem = vid if vid.startswith(("v_", "video_")) or video.file.endswith(".csv") else "v_" + vid
        return Sample(id=sid, source=self.name, task=task, video=stem + ".mp4", labels=labels,
                      split=video.split, clip_start=clip[0] if clip else None,
                      clip_end=clip[1] if clip else None, context=context,
                      metadata={"video_id": vid, **meta})

    def _classification(self, video: _Video, seg: _Segment) -> Sample:
        sid = f"{video.vid}_tc{seg.index:03d}_{_slug(seg.label)}_{seg.start:.2f}-{seg.end:.2f}"
        start, end, clip = seg.start, seg.end, None
        if self.window is not None:
            clip = place_window((seg.start + seg.end) / 2, self.window, video.duration)
            start, end = self._relative(seg.start, seg.end, clip)
            sid += f"_w{self.window:g}"
        labels = [{"type": "category", "name": "action", "value": humanize(seg.label), "synonyms": []}]
        return self._base(video, CLS, sid, labels, {"start": _secs(start), "end": _secs(end)}, clip,
                          {"class": seg.label, "segment": [seg.start, seg.end]})

    def _relative(self, start: float, end: float, clip: tuple[float, float]) -> tuple[float, float]:
        rel_start = round(max(start, clip[0]) - clip[0], 2)
        rel_end = round(min(end, clip[1]) - clip[0], 2)
        if start < clip[0] or end > clip[1]:
            self.stats.notes["window_cut_segments"] += 1
        return rel_start, max(rel_start, rel_end)

    def _localization(self, video: _Video, label: str,
                      spans: list[tuple[float, float]]) -> Iterator[Sample | SkipRecord]:
        base_id = f"{video.vid}_tl_{_slug(label)}"
        if self.window is None:
            yield self._loc_sample(video, label, base_id, spans, None)
            return
        width, cap, placed, i = self.window, self.max_segments, set(), 0
        while i < len(spans):
            # A group: consecutive instances spanning at most `width` (and at most `cap` of them).
            first, last, j = spans[i][0], spans[i][1], i
            while (j + 1 < len(spans) and max(last, spans[j + 1][1]) - first <= width
                   and (not cap or j + 1 - i < cap)):
                j += 1
                last = max(last, spans[j][1])
            clip = place_window((first + last) / 2, width, video.duration)
            # Shrink the window so it stops where the neighbouring instances begin / end: every
            # instance in view must be labeled, and dense actions would otherwise overflow `cap`.
            before = [e for _, e in spans[:i] if e <= first]
            after = [s for s, _ in spans[j + 1:] if s >= last]
            clip = (max(clip[0], round(max(before), 2)) if before else clip[0],
                    min(clip[1], round(min(after), 2)) if after else clip[1])
            i = j + 1
            if clip in placed:      # shifted onto an earlier window, whose labels cover this group
                continue
            placed.add(clip)
            inside = [(s, e) for s, e in spans
                      if max(s, clip[0]) < min(e, clip[1]) or (s == e and clip[0] <= s <= clip[1])]
            rel = [self._relative(s, e, clip) for s, e in inside]
            yield self._loc_sample(video, label, f"{base_id}_w{width:g}_{clip[0]:.2f}-{clip[1]:.2f}",
                                   rel, clip)

    def _loc_sample(self, video: _Video, label: str, sid: str, spans: list[tuple[float, float]],
                    clip: tuple[float, float] | None) -> Sample | SkipRecord:
        if self.max_segments and len(spans) > self.max_segments:
            return SkipRecord("too_many_segments", f"{len(spans)} instances of {label!r} exceed "
                              f"max_segments={self.max_segments} (use window=SECONDS or raise max_segments)",
                              file=video.file, row=video.vid, key=label, sample_id=sid)
        labels = [{"type": "interval", "name": "segment" if k == 0 else f"segment_{k + 1}",
                   "start": s, "end": e} for k, (s, e) in enumerate(spans)]
        return self._base(video, LOC, sid, labels, {"action": humanize(label)}, clip,
                          {"class": label, "instances": len(spans)})

    def video_candidates(self, sample: Sample) -> list[str]:
        """``<id>`` and ``v_<id>`` (ActivityNet's naming), flat or under ``<split>/``, any of
        .mp4/.mkv/.webm/.avi; the expected name first."""
        vid = sample.metadata.get("video_id") or Path(sample.video).stem
        preferred = Path(sample.video).stem
        alt = vid[2:] if vid.startswith("v_") else "v_" + vid
        stems = [preferred] + [s for s in (vid, alt) if s != preferred]
        return [f"{folder}{stem}{ext}" for folder in ("", f"{sample.split}/")
                for stem in stems for ext in VIDEO_EXTS]
