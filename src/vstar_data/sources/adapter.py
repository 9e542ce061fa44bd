"""Adapter base: turns one labeled source's annotation files into Samples.

A subclass implements one method, `read(root)`, yielding Samples (or SkipRecord for a bad row).
The base class owns everything else: split filter, limit, locating videos safely under the video
directory, and the found / missing / skipped counts printed in the summary.
"""
from __future__ import annotations

import copy
import importlib.util
import sys
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Iterator

from ..errors import AnnotationError, ConfigError, SkipRecord, UnsafePathError, file_problem
from ..registry import ADAPTERS
from .sample import Sample, validate_label_specs
from .storage import VideoStore, resolve_under, safe_relpath   # the path rule lives with the store


@dataclass
class AdapterStats:
    """Counters for the end-of-run summary."""

    read: int = 0
    written: int = 0
    found: int = 0
    missing: int = 0
    skipped: Counter = field(default_factory=Counter)   # reason -> count
    notes: Counter = field(default_factory=Counter)     # non-fatal fixes, e.g. clamped_segment
    skip_examples: list[str] = field(default_factory=list)
    splits: Counter = field(default_factory=Counter)    # split -> annotated items (before the filter)
    missing_example: str | None = None                  # one path where a missing video was expected

    @property
    def annotated(self) -> int:
        """Samples the annotations hold for the chosen split (video found, missing or refused)."""
        return self.found + self.missing + self.skipped.get("unsafe_video_path", 0)

    def to_dict(self) -> dict[str, Any]:
        return {"read": self.read, "written": self.written, "found": self.found,
                "missing": self.missing, "skipped": dict(self.skipped), "notes": dict(self.notes),
                "splits": dict(self.splits)}


class Adapter(ABC):
    """Base class for labeled-video sources. Override `read`; optionally `video_candidates`."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    tasks: ClassVar[tuple[str, ...]] = ()
    label_types: ClassVar[tuple[str, ...]] = ()

    def __init__(self, annotations: str | Path, videos: str | Path | None = None, *,
                 split: str | None = None, limit: int | None = None,
                 options: dict[str, Any] | None = None) -> None:
        self.annotations = Path(annotations)
        problem = file_problem(self.annotations, folder_ok=True)
        if problem:
            raise AnnotationError(f"annotation path {problem}", file=self.annotations)
        # a folder (Path) or an fsspec URL (str: s3://, https://, ...); read through `video_store`
        self.videos: Path | str | None = None
        self.video_store: VideoStore | None = None
        if videos is not None:
            self.video_store = VideoStore(videos)
            self.videos = self.video_store.root if self.video_store.remote else Path(videos)
            self.video_store.check()
        self.split = split
        self.limit = limit
        self.options = dict(options or {})
        self.stats = AdapterStats()
        self.skips: list[SkipRecord] = []

    @abstractmethod
    def read(self, root: Path) -> Iterator[Sample | SkipRecord]:
        """Yield every annotated item under `root` (the annotation path) as a Sample.

        Yield (not raise) a SkipRecord for a bad row so the rest of the file is still read; raise
        AnnotationError only when the whole input is unusable.
        """

    def video_candidates(self, sample: Sample) -> list[str]:
        """Relative paths where this sample's video may be, in order of preference."""
        return [sample.video]

    def label_vocabulary(self) -> dict[str, list[str]]:
        """Category label name -> every class of this source, for top-1 evaluation (an answer that
        names another class of the vocabulary is wrong). Default: the classes the annotation files
        hold, over all splits; override when the source ships its class list (Kinetics). Reading
        the files again leaves `stats` as it was: what `read` notes (clipped ends, ...) is counted
        once, by `samples()`."""
        classes: dict[str, set[str]] = {}
        before = copy.deepcopy(self.stats)
        try:
            for item in self.read(self.annotations):
                if isinstance(item, Sample):
                    for spec in item.labels:
                        if isinstance(spec, dict) and spec.get("type") == "category" and isinstance(spec.get("value"), str):
                            classes.setdefault(spec["name"], set()).add(spec["value"])
        finally:   # in place: callers may hold this stats object
            for f in fields(self.stats):
                setattr(self.stats, f.name, getattr(before, f.name))
        return {name: sorted(values) for name, values in classes.items()}

    def skip(self, skip: SkipRecord) -> None:
        """Record one skipped row: counted under its reason, kept in `skips`, and (the first 20)
        shown as examples in the summary. For code that drives an adapter (the prompt stage);
        `read` yields its SkipRecords instead."""
        self.stats.skipped[skip.reason] += 1
        self.skips.append(skip)
        if len(self.stats.skip_examples) < 20:
            self.stats.skip_examples.append(str(skip))

    def unwrite(self, skip: SkipRecord) -> None:
        """A sample `samples()` already yielded (and counted as written) turned out unusable later,
        e.g. no question renders for it: move it from `written` to the skips under `skip`'s reason."""
        self.stats.written -= 1
        self.skip(skip)

    def samples(self) -> Iterator[Sample]:
        """Samples after split filter, label validation, duplicate ids, video lookup and limit;
        counts in `stats`. A later row with an id already read is skipped as `duplicate_id`,
        naming the first: resume and publishing key rows by id, so two samples cannot share one."""
        first: dict[str, tuple[int, str]] = {}           # id -> (item number, video) of its first row
        for number, item in enumerate(self.read(self.annotations), 1):
            if isinstance(item, SkipRecord):
                self.stats.read += 1
                self.skip(item)
                continue
            self.stats.splits[item.split] += 1
            if self.split is not None and item.split != self.split:
                continue
            self.stats.read += 1
            try:
                item.video = safe_relpath(item.video, file=self.annotations, row=item.id)
                validate_label_specs(item.labels, file=str(self.annotations), row=item.id)
            except (UnsafePathError, ConfigError) as exc:
                self.skip(SkipRecord("invalid_row", str(exc), file=self.annotations, row=item.id,
                                      sample_id=item.id))
                continue
            except Exception as exc:  # LabelSpecError and friends: a bad row, not a bad run
                self.skip(SkipRecord("invalid_labels", str(exc), file=self.annotations, row=item.id,
                                      sample_id=item.id))
                continue
            if item.id in first:
                at, video = first[item.id]
                self.skip(SkipRecord("duplicate_id", f"id {item.id!r} was already read as annotation item {at} "
                                     f"(video {video}); this later item {number} is skipped",
                                     file=self.annotations, row=item.id, key="id", sample_id=item.id))
                continue
            first[item.id] = (number, item.video)
            if self.videos is not None:
                try:
                    found = self._locate(item)
                except UnsafePathError as exc:   # refused, never a silent "missing"
                    self.skip(SkipRecord("unsafe_video_path", str(exc), file=self.annotations, row=item.id,
                                          sample_id=item.id))
                    continue
                if found is None:
                    self.stats.missing += 1
                    if self.stats.missing_example is None:
                        self.stats.missing_example = self.video_store.location(self.video_candidates(item)[0])
                    continue
                self.stats.found += 1
                item.video = found
            self.stats.written += 1
            yield item
            if self.limit is not None and self.stats.written >= self.limit:
                return

    def _locate(self, sample: Sample) -> str | None:
        """The first candidate that exists (symlinks followed); None when none does. Raises
        UnsafePathError when nothing was found and a candidate was refused (absolute or `..`), so the
        sample is a skip with that reason rather than a "missing" video."""
        assert self.video_store is not None
        refused: UnsafePathError | None = None
        candidates = self.video_candidates(sample)
        for rel in candidates:
            try:
                rel = safe_relpath(rel)
            except UnsafePathError as exc:
                refused = exc
                continue
            if self.video_store.exists(rel):
                return rel
        if refused is not None:
            raise refused
        return None


def load_adapter(name_or_path: str) -> type[Adapter]:
    """An adapter class by registry name (built-in or entry point) or from a ``.py`` file path.

    A file must define exactly one Adapter subclass (or one named by ``path.py:ClassName``).
    """
    target, _, cls_name = name_or_path.partition(".py:")
    if name_or_path.endswith(".py") or cls_name:
        path = Path(target if not cls_name else target + ".py")
        if not path.is_file():
            raise ConfigError(f"adapter file {path} does not exist")
        mod_name = f"vstar_data_user_adapter_{abs(hash(str(path.resolve())))}"
        spec = importlib.util.spec_from_file_location(mod_name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        spec.loader.exec_module(module)
        found = [v for v in vars(module).values()
                 if isinstance(v, type) and issubclass(v, Adapter) and v is not Adapter
                 and v.__module__ == mod_name]
        if cls_name:
            found = [v for v in found if v.__name__ == cls_name]
        if len(found) != 1:
            raise ConfigError(f"{path} must define exactly one Adapter subclass, found "
                              f"{[v.__name__ for v in found] or 'none'}")
        return found[0]
    return ADAPTERS.get(name_or_path)
