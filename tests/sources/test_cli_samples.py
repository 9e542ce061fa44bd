"""`vstar-data samples` end to end (real fixture files), and `new-adapter` -> working samples."""
from __future__ import annotations

import itertools
import json
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vstar_data.sources.adapter import load_adapter
from vstar_data.cli import app, main
from vstar_data.errors import AnnotationError, ConfigError, LabelSpecError
from vstar_data.sources.sample import validate_label_spec
from vstar_data.schemas import first_error
from vstar_data.testing.adapters import AdapterContract

runner = CliRunner()


def _run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["samples", *map(str, args)])


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_kinetics_real_clips_with_videos(kinetics_dir: Path, videos_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.jsonl"
    result = _run("kinetics700", "--annotations", kinetics_dir / "local_clips.csv", "--videos", videos_dir,
                  "--out", out)
    assert result.exit_code == 0, result.output
    rows = _lines(out)
    assert {r["video"] for r in rows} == {"arm_wrestling.mp4", "eye_makeup.avi", "pool_cleaning_1s.mp4",
                                          "flipping_pancake.mkv", "hitting_baseball.mp4", "yoga.mp4",
                                          "playing_guitar.mp4"}
    for r in rows:
        assert r["task"] == "action_recognition" and r["question"].endswith("?")
        assert r["template_id"].startswith("action_recognition/q") and r["template_id"].endswith("@v1")
        assert r["labels"][0]["value"].lower() not in r["question"].lower()
    assert "videos found" in result.output and "7" in result.output


def test_split_limit_seed_and_determinism(kinetics_dir: Path, tmp_path: Path) -> None:
    csv_path = kinetics_dir / "validate.csv"
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    assert _run("kinetics700", "-a", csv_path, "--limit", 50, "--out", a).exit_code == 0
    assert _run("kinetics700", "-a", csv_path, "--limit", 50, "--out", b).exit_code == 0
    assert a.read_bytes() == b.read_bytes()
    assert _run("kinetics700", "-a", csv_path, "--limit", 50, "--seed", 7, "--out", c).exit_code == 0
    qa, qc = [r["question"] for r in _lines(a)], [r["question"] for r in _lines(c)]
    assert [r["id"] for r in _lines(a)] == [r["id"] for r in _lines(c)] and qa != qc
    assert _run("kinetics700", "-a", csv_path, "--split", "train", "--out", c).exit_code == 0
    assert c.read_text() == ""


def test_tal_options(thumos_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    result = _run("tal", "-a", thumos_dir / "val_Annotation.csv", "--option", "window=30",
                  "--option", "tasks=localization", "--out", out)
    assert result.exit_code == 0, result.output
    rows = _lines(out)
    assert rows and {r["task"] for r in rows} == {"temporal_localization"}
    assert all(r["clip_end"] - r["clip_start"] <= 30 + 1e-6 and r["context"]["action"] in r["question"] for r in rows)
    assert "ambiguous_segments" in result.output
    out2 = tmp_path / "t2.jsonl"
    assert _run("tal", "-a", thumos_dir, "--option", "tasks=classification", "--split", "test",
                "--out", out2).exit_code == 0
    rows = _lines(out2)
    assert {r["split"] for r in rows} == {"test"} and "clip_start" not in rows[0]
    assert rows[0]["context"]["start"] in rows[0]["question"]


def test_bad_inputs_are_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("youtube_id,time_start\nabc,1\n", "utf-8")
    result = _run("kinetics700", "-a", bad, "--out", tmp_path / "o.jsonl")
    assert isinstance(result.exception, AnnotationError) and str(bad) in str(result.exception)
    assert not (tmp_path / "o.jsonl").exists()          # nothing half-written
    result = _run("tal", "-a", bad, "--option", "window", "--out", tmp_path / "o.jsonl")
    assert isinstance(result.exception, ConfigError) and "KEY=VALUE" in str(result.exception)
    # The console entry point turns the error into one line and exit status 2.
    monkeypatch.setattr(sys, "argv", ["vstar-data", "samples", "kinetics700", "-a", str(bad), "-o",
                                      str(tmp_path / "o.jsonl")])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(bad) in err and "label" in err


@pytest.mark.slow
def test_full_kinetics_validation_list_is_fast(kinetics_dir: Path, tmp_path: Path) -> None:
    """34,173 rows, 700 classes; the whole command well under the 10 s budget (about 1-2 s on 2
    cores; benchmarks/bench_samples.py has the figures)."""
    out = tmp_path / "s.jsonl"
    t0 = time.perf_counter()
    result = _run("kinetics700", "--annotations", kinetics_dir / "validate.csv", "--out", out)
    elapsed = time.perf_counter() - t0
    assert result.exit_code == 0, result.output
    rows = _lines(out)
    assert len(rows) == 34_173 and len({r["labels"][0]["value"] for r in rows}) == 700
    assert len({r["template_id"] for r in rows}) == 12        # every phrasing is used
    assert elapsed < 10, f"samples took {elapsed:.1f} s"


# -- label-spec validation fast path: must agree with the JSON Schema --------------------------------

_VALUES = [None, "", " ", "x", 0, -1, 0.5, 2, True, float("nan"), [], ["a"], ["a", ""], ["a", " \t"], [1], {}]


def _specs():  # type: ignore[no-untyped-def]
    base = {"category": {"value": "x"}, "number": {"value": 1.5}, "interval": {"start": 1, "end": 2},
            "sequence": {"value": ["a", "b"]}}
    keys = {"category": ["value", "synonyms", "extra"], "number": ["value", "rel_tol", "abs_tol", "unit"],
            "interval": ["start", "end", "min_iou"], "sequence": ["value"]}
    for kind, good in base.items():
        yield {"type": kind, "name": "n", **good}
        for name in ["n", "", 3, None]:
            yield {"type": kind, "name": name, **good} if name is not None else {"type": kind, **good}
        for key, value in itertools.product(keys[kind], _VALUES):
            spec = {"type": kind, "name": "n", **good}
            if value is None:
                spec.pop(key, None)
            else:
                spec[key] = value
            yield spec


def test_label_spec_fast_path_agrees_with_schema() -> None:
    n = 0
    for spec in _specs():
        schema_ok = first_error("label_spec", spec) is None
        if spec["type"] == "interval" and schema_ok and spec["end"] < spec["start"]:
            schema_ok = False
        try:
            validate_label_spec(dict(spec))
            ok = True
        except LabelSpecError:
            ok = False
        assert ok == schema_ok, spec
        n += 1
    assert n > 150


# -- new-adapter: the skeleton is a working, conforming adapter ---------------------------------------

def _scaffold(root: Path) -> Path:
    result = runner.invoke(app, ["new-adapter", "my_clips", "--task", "my_task", "--out", str(root)])
    assert result.exit_code == 0, result.output
    return root / "adapters" / "my_clips.py"


def test_new_adapter_skeleton_runs(tmp_path: Path) -> None:
    adapter_py = _scaffold(tmp_path)
    text = adapter_py.read_text()
    assert "class MyClipsAdapter(Adapter)" in text and "{{" not in text
    assert "task: my_task" in (tmp_path / "templates" / "my_task.yaml").read_text()
    ann = tmp_path / "ann.csv"
    ann.write_text('video,label,split\nclips/a.mp4,juggling,train\nclips/b.avi,"riding, a bike",val\n'
                   "c.mp4,,train\nd.mp4,x,train,extra\n", "utf-8")
    (tmp_path / "v" / "clips").mkdir(parents=True)
    (tmp_path / "v" / "clips" / "a.mkv").write_bytes(b"")
    out = tmp_path / "s.jsonl"
    result = _run(adapter_py, "-a", ann, "--templates", tmp_path / "templates", "--videos", tmp_path / "v",
                  "--out", out)
    assert result.exit_code == 0, result.output
    rows = _lines(out)
    assert [(r["id"], r["video"], r["split"]) for r in rows] == [("clips__a", "clips/a.mkv", "train")]
    assert rows[0]["template_id"].startswith("my_task/")
    assert "skipped (empty_field)" in result.output and "skipped (wrong_column_count)" in result.output


class TestScaffoldedAdapterContract(AdapterContract):
    """The conformance suite passes on a freshly generated adapter, untouched."""

    @pytest.fixture
    def adapter_cls(self, tmp_path: Path):  # type: ignore[no-untyped-def]
        return load_adapter(str(_scaffold(tmp_path / "scaffold")))

    @pytest.fixture
    def templates(self, tmp_path: Path) -> list[Path]:
        return [tmp_path / "scaffold" / "templates"]

    @pytest.fixture
    def annotations(self, tmp_path: Path) -> Path:
        path = tmp_path / "ann.csv"
        path.write_text("video,label,split\na.mp4,juggling,train\nsub/b.mp4,rowing,val\nc.mp4,yoga,train\n"
                        "d.mp4,knitting,train\n", "utf-8")
        return path

    @pytest.fixture
    def videos(self, tmp_path: Path) -> Path:
        (tmp_path / "v" / "sub").mkdir(parents=True)
        (tmp_path / "v" / "sub" / "b.webm").write_bytes(b"")
        return tmp_path / "v"


_NUMBER_ADAPTER = '''
import csv
from pathlib import Path
from typing import ClassVar, Iterator

from vstar_data import Adapter, Sample, SkipRecord


class CountsAdapter(Adapter):
    """A CSV ``video,label,count``: one category and one number label per clip."""

    name: ClassVar[str] = "counts"
    description: ClassVar[str] = "test adapter with a number label"
    tasks: ClassVar[tuple[str, ...]] = ("my_task",)
    label_types: ClassVar[tuple[str, ...]] = ("category", "number")

    def read(self, root: Path) -> Iterator[Sample | SkipRecord]:
        with root.open(newline="") as fh:
            for row in csv.DictReader(fh):
                yield Sample(id=row["video"].split(".")[0], source=self.name, task="my_task", video=row["video"],
                             split="train", labels=[{"type": "category", "name": "category", "value": row["label"]},
                                                    {"type": "number", "name": "count", "value": float(row["count"])}])
'''


def test_non_finite_number_label_is_a_located_skip(tmp_path: Path) -> None:
    """float('1e999'), float('nan') and float('inf') parse: the sample is skipped, named, the run goes on."""
    _scaffold(tmp_path)
    template = tmp_path / "templates" / "my_task.yaml"
    template.write_text(template.read_text().replace("label_types: [category]", "label_types: [category, number]"))
    adapter_py = tmp_path / "counts.py"
    adapter_py.write_text(_NUMBER_ADAPTER)
    ann = tmp_path / "ann.csv"
    ann.write_text("video,label,count\na.mp4,juggling,3\nb.mp4,juggling,1e999\nc.mp4,juggling,nan\n"
                   "d.mp4,juggling,-inf\ne.mp4,juggling,4\n", "utf-8")
    out = tmp_path / "s.jsonl"
    result = _run(adapter_py, "-a", ann, "--templates", tmp_path / "templates", "--out", out)
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in _lines(out)] == ["a", "e"]
    assert "skipped (invalid_labels)" in result.output and "3" in result.output
    adapter = load_adapter(str(adapter_py))(ann)
    assert [s.id for s in adapter.samples()] == ["a", "e"]
    skips = {s.sample_id: str(s) for s in adapter.skips}
    assert set(skips) == {"b", "c", "d"}
    assert str(ann) in skips["b"] and "inf is not a finite number" in skips["b"]
    assert "nan is not a finite number" in skips["c"]


def test_duplicate_ids_are_a_located_counted_skip_naming_the_first(tmp_path: Path, kinetics_dir: Path) -> None:
    lines = (kinetics_dir / "local_clips.csv").read_text("utf-8").splitlines()
    src = tmp_path / "dup.csv"
    src.write_text("\n".join([*lines[:3], lines[1], lines[2]]) + "\n", "utf-8")   # rows 1 and 2 again
    out = tmp_path / "s.jsonl"
    result = _run("kinetics700", "--annotations", src, "--out", out)
    assert result.exit_code == 0, result.output
    ids = [r["id"] for r in _lines(out)]
    assert len(ids) == 2 and len(set(ids)) == 2
    assert "duplicate_id" in result.output
    from vstar_data.sources.adapter import load_adapter

    adapter = load_adapter("kinetics700")(src)
    assert [s.id for s in adapter.samples()] == ids
    assert adapter.stats.skipped == {"duplicate_id": 2} and adapter.stats.written == 2
    first = adapter.skips[0]
    assert first.file == str(src) and first.key == "id" and first.sample_id == ids[0]
    assert "annotation item 1" in first.detail and "item 3" in first.detail
