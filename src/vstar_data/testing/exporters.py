"""ExporterContract: the behaviour every export format must have, as a pytest base class.

Subclass it in a test module and name the format; the suite publishes a small store whose rows
use real clips (give the folder of any two decodable videos with the ``clip_dir`` fixture) plus
one clip that does not exist::

    from vstar_data.testing.exporters import ExporterContract

    class TestMyFormat(ExporterContract):
        exporter = "my-format"

        @pytest.fixture
        def clip_dir(self):
            return Path("tests/videos")     # holds at least two .mp4/.avi/.mkv clips

What is checked: registration and subclassing; `--out` is a file or a folder as `kind` says and
nothing else is left beside it; every row is written or counted as skipped, with reasons; a
format that needs clips refuses to run without --video-root; with it, the row whose clip is
missing (in the `test` split) is skipped and counted; an export that leaves every row out is an error that writes nothing.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ..dataset.export import export
from ..dataset.export.base import Exporter
from ..errors import ConfigError, VstarError
from ..registry import EXPORTERS

_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm")


def _rows(clips: list[str]) -> list[dict[str, Any]]:
    """Six accepted attempt rows (a category, a number and an interval label), the last one's clip missing."""
    labels = [[{"type": "category", "name": "action", "value": "playing guitar"}],
              [{"type": "number", "name": "count", "value": 3.0, "rel_tol": 0.1}],
              [{"type": "interval", "name": "segment", "start": 1.0, "end": 2.5}]]
    out = []
    for i in range(6):
        video = "missing/clip.mp4" if i == 5 else f"clips/{clips[i % len(clips)]}"
        out.append({
            "id": f"contract/{i:03d}", "source": "contract", "task": "contract_task", "split": ("train", "test")[i % 2],
            "video": video, "clip_start": 0.0 if i == 2 else None, "clip_end": 1.0 if i == 2 else None,
            "labels": labels[i % 3], "question": f"What happens in clip {i}?", "template_id": "contract@1",
            "prompt": f"What happens in clip {i}?", "answer": f"Answer {i}: someone is playing guitar.",
            "origin": "generated" if i % 3 else "rationalized", "accepted": True, "verifier_profile": "default",
            "verifier_scores": [{"name": s["name"], "type": s["type"], "passed": True, "score": 1.0, "span": [0, 1],
                                 "matched": "A", "reason": None} for s in labels[i % 3]],
            "model": "contract", "model_revision": None, "cycle": 0, "frame_indices": [0, 1], "timing": {},
            "attempt": 0 if i % 3 else 1})
    return out


class ExporterContract:
    """Subclass and set `exporter`; override the `clip_dir` fixture if ../shared/fixtures is absent."""

    exporter: ClassVar[str | type] = ""
    split_for_held_out: ClassVar[str] = "test"

    @pytest.fixture
    def clip_dir(self, videos_dir: Path) -> Path:
        return videos_dir

    @pytest.fixture
    def exporter_cls(self) -> type[Exporter]:
        if isinstance(self.exporter, type):
            return self.exporter
        assert self.exporter in EXPORTERS.names(), f"{self.exporter!r} is not registered"
        return EXPORTERS.get(self.exporter)

    @pytest.fixture
    def world(self, tmp_path: Path, clip_dir: Path) -> tuple[Path, Path]:
        import json

        from ..dataset.store import publish

        clips = sorted(p.name for p in Path(clip_dir).iterdir() if p.suffix.lower() in _SUFFIXES)[:2]
        assert len(clips) == 2, f"clip_dir {clip_dir} needs two video clips"
        rows_dir = tmp_path / "rows"
        rows_dir.mkdir()
        (rows_dir / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in _rows(clips)))
        publish(rows_dir, tmp_path / "store", "v1", "contract")
        root = tmp_path / "videos"
        (root / "clips").mkdir(parents=True)
        for name in clips:
            os.symlink(Path(clip_dir, name).resolve(), root / "clips" / name)
        return tmp_path / "store", root

    def _name(self, cls: type[Exporter]) -> str:
        return self.exporter if isinstance(self.exporter, str) else cls.name

    def _kwargs(self, cls: type[Exporter]) -> dict[str, Any]:
        return {"num_frames": 2, "frame_size": 32, "splits": [self.split_for_held_out]} \
            if cls.name == "lmms-eval" else {"num_frames": 2, "frame_size": 32}

    def test_is_an_exporter(self, exporter_cls: type[Exporter]) -> None:
        assert issubclass(exporter_cls, Exporter) and exporter_cls.kind in ("file", "folder")

    def test_writes_out_and_counts_every_row(self, tmp_path: Path, world, exporter_cls) -> None:
        store, root = world
        out = tmp_path / ("out" if exporter_cls.kind == "folder" else "out.data")
        report = export(store, out, self._name(exporter_cls), video_root=root, **self._kwargs(exporter_cls))
        assert out.is_dir() if exporter_cls.kind == "folder" else out.is_file()
        assert report.rows > 0 and report.read == report.rows + sum(report.skipped.values()) \
            + report.excluded_rationalized
        assert report.skipped.get("video_missing") == 1, "the row whose clip is missing is skipped and counted"
        leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")]
        assert not leftovers, f"staging files left beside --out: {leftovers}"

    def test_needs_clips_or_writes_nothing(self, tmp_path: Path, world, exporter_cls) -> None:
        store, _ = world
        out = tmp_path / "x"
        if exporter_cls.needs_video:
            with pytest.raises(ConfigError, match="video-root"):
                export(store, out, self._name(exporter_cls), **self._kwargs(exporter_cls))
        with pytest.raises(VstarError):
            export(store, out, self._name(exporter_cls), video_root=tmp_path / "no-videos", **self._kwargs(exporter_cls))
        assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".x")]
