"""AdapterContract: the behaviour every adapter must have, as a pytest base class.

Subclass it in a test module, name the adapter, and provide the input as fixtures::

    from vstar_data.testing.adapters import AdapterContract

    class TestUcf101Contract(AdapterContract):
        adapter = "ucf101"            # registry name, path to a .py file, or the class itself

        @pytest.fixture
        def annotations(self, tmp_path):
            return write_small_annotation_file(tmp_path)

        @pytest.fixture              # optional: a folder holding some (not all) of the videos
        def videos(self):
            return Path("tests/data/videos")

Fixtures a subclass may override: ``annotations`` (required), ``videos`` (default None),
``options`` (a ``dict`` of adapter options, default {}), ``templates`` (a ``list[Path]`` of extra
template folders, default []), ``adapter_cls`` (instead of the ``adapter`` attribute). The suite
is a pytest class: install the test extra, ``pip install 'vstar-data[test]'``. Keep the annotation input small (tens to
a few hundred rows): every test reads it afresh, so order and counts are checked on fresh runs.

What is checked: declared metadata; ids unique and identical across runs; deterministic order;
label specs valid and of declared types; video paths relative and safe; limit and split honoured
exactly; found / missing counts add up (and found videos exist); a missing annotation path is an
AnnotationError; every sample's question renders from the shipped (or given) templates without
revealing a category label; samples survive a to_dict / from_dict round trip.
"""
from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath
from typing import Any, Callable, ClassVar

import pytest

from ..sources.adapter import Adapter, load_adapter, safe_relpath
from ..errors import AnnotationError, SkipRecord
from ..registry import LABEL_TYPES
from ..sources.sample import Sample, validate_label_specs
from ..sources.templates import TemplateIndex

NO_SUCH_SPLIT = "__no_such_split__"


class AdapterContract:
    """Conformance tests for one adapter (not collected itself: the name lacks ``Test``)."""

    adapter: ClassVar[str | type[Adapter] | None] = None

    # -- fixtures a subclass provides or overrides ----------------------------------------------

    @pytest.fixture
    def adapter_cls(self) -> type[Adapter]:
        if self.adapter is None:
            pytest.fail(f"{type(self).__name__}: set `adapter = <name | path.py | class>` or override "
                        f"the `adapter_cls` fixture")
        return self.adapter if isinstance(self.adapter, type) else load_adapter(self.adapter)

    @pytest.fixture
    def annotations(self) -> Path:
        pytest.fail(f"{type(self).__name__}: override the `annotations` fixture (a small annotation "
                    f"file or folder for this adapter)")

    @pytest.fixture
    def videos(self) -> Path | None:
        return None

    @pytest.fixture
    def options(self) -> dict[str, Any]:
        return {}

    @pytest.fixture
    def templates(self) -> list[Path]:
        return []

    # -- helpers ----------------------------------------------------------------------------------

    @pytest.fixture
    def make(self, adapter_cls: type[Adapter], annotations: Path, options: dict[str, Any]
             ) -> Callable[..., Adapter]:
        """A fresh adapter over the fixture input; keyword arguments override the defaults."""

        def _make(videos: Path | None = None, **kwargs: Any) -> Adapter:
            kwargs.setdefault("options", dict(options))
            return adapter_cls(annotations, videos, **kwargs)

        return _make

    @pytest.fixture
    def samples(self, make: Callable[..., Adapter]) -> list[Sample]:
        out = list(make().samples())
        assert out, "the adapter yields no samples for the fixture input (without a video folder)"
        return out

    # -- the contract -----------------------------------------------------------------------------

    def test_declares_metadata(self, adapter_cls: type[Adapter]) -> None:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", adapter_cls.name or ""), \
            f"`name` must be lowercase letters, digits and underscores, got {adapter_cls.name!r}"
        assert isinstance(adapter_cls.description, str) and adapter_cls.description.strip()
        assert adapter_cls.tasks and all(re.fullmatch(r"[a-z0-9_]+", t) for t in adapter_cls.tasks)
        assert adapter_cls.label_types, "`label_types` must list the label types the adapter emits"
        unknown = [t for t in adapter_cls.label_types if t not in LABEL_TYPES]
        assert not unknown, f"label types {unknown} are not registered"

    def test_samples_are_well_formed(self, adapter_cls: type[Adapter], samples: list[Sample]) -> None:
        for s in samples:
            assert isinstance(s, Sample)
            assert s.source == adapter_cls.name, f"{s.id}: source {s.source!r} != adapter name"
            assert s.task in adapter_cls.tasks, f"{s.id}: task {s.task!r} not in declared tasks"
            assert isinstance(s.split, str) and s.split, f"{s.id}: empty split"
            validate_label_specs(s.labels, row=s.id)
            undeclared = {spec["type"] for spec in s.labels} - set(adapter_cls.label_types)
            assert not undeclared, f"{s.id}: label types {undeclared} not in declared label_types"
            for bound in (s.clip_start, s.clip_end):
                assert bound is None or (isinstance(bound, (int, float)) and bound >= 0), \
                    f"{s.id}: clip bound {bound!r}"
            if s.clip_start is not None and s.clip_end is not None:
                assert s.clip_start < s.clip_end, f"{s.id}: clip_start >= clip_end"
            json.dumps(s.to_dict())   # everything must be JSON-serializable

    def test_ids_unique_and_stable(self, make: Callable[..., Adapter], samples: list[Sample]) -> None:
        ids = [s.id for s in samples]
        for sid in ids:
            assert isinstance(sid, str) and sid and sid == sid.strip() and "\n" not in sid, repr(sid)
        dup = sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) != len(ids) else []
        assert not dup, f"duplicate sample ids: {dup[:5]}"
        assert [s.id for s in make().samples()] == ids, "ids differ between two runs"

    def test_order_and_content_deterministic(self, make: Callable[..., Adapter],
                                             samples: list[Sample]) -> None:
        again = [s.to_dict() for s in make().samples()]
        assert again == [s.to_dict() for s in samples]

    def test_video_paths_relative_and_safe(self, samples: list[Sample]) -> None:
        for s in samples:
            assert s.video and not PurePosixPath(s.video).is_absolute(), f"{s.id}: {s.video!r}"
            assert ".." not in PurePosixPath(s.video).parts and "\\" not in s.video, s.video
            assert safe_relpath(s.video) == s.video, f"{s.id}: video path not normalised: {s.video!r}"

    def test_limit_honoured(self, make: Callable[..., Adapter], samples: list[Sample]) -> None:
        for n in sorted({1, min(3, len(samples))}):
            ad = make(limit=n)
            got = [s.id for s in ad.samples()]
            assert got == [s.id for s in samples[:n]], f"limit={n} must give the first {n} samples"
            assert ad.stats.written == n

    def test_split_honoured(self, make: Callable[..., Adapter], samples: list[Sample]) -> None:
        for split in sorted({s.split for s in samples}):
            got = [s.id for s in make(split=split).samples()]
            assert got == [s.id for s in samples if s.split == split], f"split={split!r}"
        assert list(make(split=NO_SUCH_SPLIT).samples()) == []

    def test_counts_without_videos(self, make: Callable[..., Adapter]) -> None:
        ad = make()
        out = list(ad.samples())
        assert ad.stats.found == 0 and ad.stats.missing == 0
        assert ad.stats.written == len(out)
        assert ad.stats.read == len(out) + sum(ad.stats.skipped.values())

    def test_counts_with_videos(self, make: Callable[..., Adapter], videos: Path | None) -> None:
        if videos is None:
            pytest.skip("no `videos` fixture for this adapter")
        ad = make(videos=videos)
        out = list(ad.samples())
        s = ad.stats
        assert out, "the `videos` fixture should hold at least one of the fixture's videos"
        assert s.found == len(out) == s.written
        assert s.found + s.missing == s.read - sum(s.skipped.values())
        root = Path(videos).resolve()
        for sample in out:
            path = (Path(videos) / sample.video).resolve()
            assert path.exists() and root in path.parents, f"{sample.id}: {sample.video} not under {videos}"

    def test_missing_videos_counted(self, make: Callable[..., Adapter], samples: list[Sample],
                                    tmp_path: Path) -> None:
        empty = tmp_path / "no_videos_here"
        empty.mkdir()
        ad = make(videos=empty)
        assert list(ad.samples()) == []
        assert ad.stats.found == 0 and ad.stats.written == 0
        assert ad.stats.missing == len(samples)

    def test_missing_annotations_is_an_error(self, adapter_cls: type[Adapter], options: dict[str, Any],
                                             tmp_path: Path) -> None:
        with pytest.raises(AnnotationError):
            list(adapter_cls(tmp_path / "does_not_exist", options=dict(options)).samples())

    def test_questions_render_without_revealing_labels(self, adapter_cls: type[Adapter],
                                                       samples: list[Sample], templates: list[Path]) -> None:
        index = TemplateIndex(templates)
        for task in adapter_cls.tasks:
            index.get(task)   # TemplateError if a declared task has no template
        for s in samples:
            try:
                q = index.get(s.task).choose(s, seed=0)
            except SkipRecord as skip:
                pytest.fail(f"{s.id}: question does not render: {skip}")
            # no placeholder left unfilled (a benchmark's own question may hold braces: "{'subject': ...}")
            assert q.text.strip() and not re.search(r"\{[A-Za-z_][A-Za-z0-9_]*\}", q.text), f"{s.id}: {q.text!r}"
            for spec in s.labels:
                if spec["type"] == "category":
                    pattern = rf"(?<!\w){re.escape(spec['value'])}(?!\w)"
                    assert not re.search(pattern, q.text, re.I), f"{s.id}: question reveals the label: {q.text!r}"

    def test_label_vocabulary_holds_every_category_value(self, make: Callable[..., Adapter],
                                                         samples: list[Sample]) -> None:
        """Top-1 evaluation scores an answer against the source's classes: they must include
        every class the samples carry, as name -> list of class names."""
        vocab = make().label_vocabulary()
        assert isinstance(vocab, dict) and all(isinstance(v, list) for v in vocab.values()), vocab
        for s in samples:
            for spec in s.labels:
                if spec["type"] == "category":
                    assert spec["value"] in vocab.get(spec["name"], ()), \
                        f"{s.id}: class {spec['value']!r} is not in label_vocabulary()[{spec['name']!r}]"

    def test_round_trip(self, samples: list[Sample]) -> None:
        for s in samples:
            assert Sample.from_dict(json.loads(json.dumps(s.to_dict()))) == s
