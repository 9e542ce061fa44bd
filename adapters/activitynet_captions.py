"""ActivityNet Captions (dense captions of ActivityNet videos) -> "when does <sentence> happen?".

``--annotations`` is ``train.json``, ``val_1.json`` or ``val_2.json`` as the dataset ships them, or
a folder of them (its ``*.json`` files). Each file maps a video key to its captions::

    {"v_uqiMw7tQ1Cc": {"duration": 55.15, "timestamps": [[0.28, 55.15], [13.79, 54.32]],
                       "sentences": ["A weight lifting tutorial is given.", "  The coach helps ..."]}}

Every sentence is one sample of task ``temporal_grounding``: the sentence (spaces trimmed) in
``context["query"]`` for the ``{query|event}`` filter, one ``interval`` label named ``moment``
(seconds, absolute), the whole video. The split is the file's stem (``train``, ``val_1``,
``val_2``, ``test``; ``..._val1.json`` is ``val_1`` too), else ``all``; ids are ``<key>_<split>_<k>``
(k = the sentence's index in the video's list, two digits), unique across the files: val_1 and
val_2 caption the same videos.

Real files have ends past the duration (clipped to it: note ``clipped_ends``) and a few reversed
pairs (swapped: note ``reversed_timestamps``). A span that starts at or after the video's end, or
is empty, is a located skip; so is a video whose ``timestamps`` and ``sentences`` differ in length
(one skip per sentence lost). Videos are looked up as ``v_<ID>`` and ``<ID>`` (downloaders drop
the prefix), .mp4/.mkv/.webm/.avi.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, ClassVar, Iterator

from vstar_data import (VIDEO_EXTS, Adapter, AnnotationError, IndexedLookupMixin, Sample, SkipRecord,
                        annotation_files, check_options, finite_number, is_plain_name, split_from_name)

TASK = "temporal_grounding"
_SPLIT = re.compile(r"(?<![a-z0-9])(val)_?([12])(?![a-z0-9])")


def split_of(path: Path) -> str:
    """``val_1.json`` / ``activitynet_captions_val1.json`` -> ``val_1``; ``train.json`` -> ``train``
    (any split token of the name); else ``all``. val_1 and val_2 stay apart: they caption the same
    videos twice."""
    found = _SPLIT.search(path.stem.lower())
    return f"val_{found.group(2)}" if found else split_from_name(path) or "all"


class ActivityNetCaptionsAdapter(IndexedLookupMixin, Adapter):
    """ActivityNet Captions sentences -> temporal grounding samples (one interval each)."""

    name: ClassVar[str] = "activitynet_captions"
    description: ClassVar[str] = ("ActivityNet Captions (train.json / val_1.json / val_2.json): when does "
                                  "<sentence> happen in the video, one interval per sentence")
    tasks: ClassVar[tuple[str, ...]] = (TASK,)
    label_types: ClassVar[tuple[str, ...]] = ("interval",)
    video_index_depth = 1

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        check_options(self.name, self.options, ())

    def read(self, root: Path) -> Iterator[Sample | SkipRecord]:
        for path in annotation_files(root, (".json",)):
            try:
                data = json.loads(path.read_text("utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise AnnotationError(f"not a readable JSON file: {exc}", file=path) from exc
            if not isinstance(data, dict):
                raise AnnotationError('expected {"v_ID": {"duration", "timestamps", "sentences"}, ...}', file=path)
            split = split_of(path)
            for key, entry in data.items():
                yield from self._video(path, split, str(key), entry)

    def _video(self, path: Path, split: str, key: str, entry: Any) -> Iterator[Sample | SkipRecord]:
        if not is_plain_name(key):
            yield SkipRecord("unsafe_video_id", "a video key must be a plain file name", file=path, row=key)
            return
        stamps = entry.get("timestamps") if isinstance(entry, dict) else None
        sentences = entry.get("sentences") if isinstance(entry, dict) else None
        if not isinstance(stamps, list) or not isinstance(sentences, list) or len(stamps) != len(sentences):
            lost = len(sentences) if isinstance(sentences, list) else 1
            for k in range(max(lost, 1)):
                yield SkipRecord("malformed_video", 'expected "timestamps" and "sentences": lists of equal length',
                                 file=path, row=key, key=f"sentences[{k}]")
            return
        raw_duration = entry.get("duration")
        duration = finite_number(raw_duration)
        if raw_duration is not None and (duration is None or duration <= 0):
            for k in range(len(sentences)):
                yield SkipRecord("bad_duration", f"duration {raw_duration!r} is not a positive number",
                                 file=path, row=key, key="duration")
            return
        for k, (stamp, sentence) in enumerate(zip(stamps, sentences)):
            where = f"timestamps[{k}]"
            if not isinstance(sentence, str) or not sentence.strip():
                yield SkipRecord("empty_sentence", f"sentence {sentence!r}", file=path, row=key, key=f"sentences[{k}]")
                continue
            pair = [finite_number(t) for t in stamp] if isinstance(stamp, list) and len(stamp) == 2 else None
            if pair is None or None in pair or min(pair) < 0:  # type: ignore[operator]
                yield SkipRecord("bad_time", f"expected [start, end] in seconds >= 0, got {stamp!r}",
                                 file=path, row=key, key=where)
                continue
            start, end = pair
            if start > end:
                self.stats.notes["reversed_timestamps"] += 1
                start, end = end, start
            if duration is not None and start >= duration:
                yield SkipRecord("starts_after_end", f"span {stamp!r} starts at or after the video's end ({duration} s)",
                                 file=path, row=key, key=where)
                continue
            if duration is not None and end > duration:
                self.stats.notes["clipped_ends"] += 1
                end = duration
            if start >= end:
                yield SkipRecord("empty_interval", f"span {stamp!r} has no length", file=path, row=key, key=where)
                continue
            meta: dict[str, Any] = {"video_id": key, "sentence_index": k, "span": list(stamp)}
            if duration is not None:
                meta["duration"] = duration
            yield Sample(id=f"{key}_{split}_{k:02d}", source=self.name, task=TASK, video=f"{key}.mp4", split=split,
                         labels=[{"type": "interval", "name": "moment", "start": start, "end": end}],
                         context={"query": " ".join(sentence.split())}, metadata=meta)

    def video_candidates(self, sample: Sample) -> list[str]:
        """``v_<ID>`` and ``<ID>`` with any of .mp4/.mkv/.webm/.avi, the key as written first."""
        stem = Path(sample.video).stem
        alt = stem[2:] if stem.startswith("v_") else "v_" + stem
        return [s + ext for s in (stem, alt) for ext in VIDEO_EXTS]
