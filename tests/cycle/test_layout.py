"""One description of a run directory, and one rule for which files hold attempt rows: every
reader (engines' resume, evaluation, the writer, the report, the final release) sees the same rows."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from vstar_data.cycle.layout import RunLayout
from vstar_data.dataset.writer import iter_attempt_rows
from vstar_data.errors import VstarError
from vstar_data.generation.attempts import attempt_files, copy_attempts, read_attempts, skip_files


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")


def _row(sid: str, origin: str = "generated", accepted: bool = True) -> dict:
    return {"id": sid, "origin": origin, "accepted": accepted, "cycle": 0, "attempt": 0 if origin == "generated" else 1}


@pytest.fixture
def gen_dir(tmp_path: Path) -> Path:
    """A cycle's generation folder as engines leave it, with everything that is NOT attempt rows."""
    gen = tmp_path / "run" / "cycle-1" / "generate"
    src = gen / "00-shapes"
    _write(src / "attempts" / "chunk-000000.jsonl", [_row("a"), _row("b", accepted=False), _row("b", "rationalized")])
    _write(src / "attempts" / "chunk-000001.jsonl", [_row("c", accepted=False)])
    _write(src / "skipped" / "chunk-000001.jsonl", [{"id": "d", "reason": "video_missing"}])
    _write(src / "skipped" / "annotations-00000.jsonl", [{"id": None, "reason": "malformed_row"}])
    _write(src / "retired" / "20260101-1" / "attempts" / "chunk-000000.jsonl", [_row("stale")])
    _write(src / "retired" / "20260101-1" / "skipped" / "chunk-000000.jsonl", [{"id": "x", "reason": "r"}])
    _write(src / ".hidden" / "chunk-000000.jsonl", [_row("hidden")])
    (src / "chunks").mkdir()
    (src / "chunks" / "chunk-000000.json").write_text("{}")
    return gen


def test_one_rule_for_attempt_and_skip_files(gen_dir: Path) -> None:
    rel = [p.relative_to(gen_dir).as_posix() for p in attempt_files(gen_dir)]
    assert rel == ["00-shapes/attempts/chunk-000000.jsonl", "00-shapes/attempts/chunk-000001.jsonl"]
    assert [p.name for p in skip_files(gen_dir)] == ["annotations-00000.jsonl", "chunk-000001.jsonl"]
    rows, skipped = read_attempts(gen_dir)
    assert [r["id"] for r in rows] == ["a", "b", "b", "c"] and skipped == 2
    # the writer (publishing) reads exactly the same rows, in the same order
    assert [r["id"] for _, _, r in iter_attempt_rows(gen_dir, check=False)] == ["a", "b", "b", "c"]
    assert RunLayout.read_rows(gen_dir) == (rows, skipped)


def test_missing_folders(tmp_path: Path) -> None:
    assert read_attempts(tmp_path / "nowhere") == ([], 0)
    assert attempt_files(tmp_path / "nowhere", missing_ok=True) == []
    with pytest.raises(VstarError, match="does not exist"):
        attempt_files(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(VstarError, match="no \\*.jsonl attempt rows"):
        attempt_files(tmp_path / "empty")


def test_copy_attempts_keeps_the_layout_and_only_the_chosen_rows(gen_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run" / "final" / "generate"
    kept = copy_attempts(gen_dir, out, keep=lambda r: r["origin"] == "generated")
    assert kept == 1                                     # accepted direct answers: only "a"
    rows, skipped = read_attempts(out)
    assert [(r["id"], r["origin"]) for r in rows] == [("a", "generated"), ("b", "generated"), ("c", "generated")]
    assert skipped == 0 and not (out.parent / "generate.partial").exists()
    assert [p.relative_to(out).as_posix() for p in attempt_files(out)] == \
        [p.relative_to(gen_dir).as_posix() for p in attempt_files(gen_dir)]
    # idempotent: a second call (a resumed run) reads the marker, rewrites nothing
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.jsonl")}
    assert copy_attempts(gen_dir, out, keep=lambda r: False) == 1
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.jsonl")} == before


def test_run_layout_names_every_place(tmp_path: Path) -> None:
    lay = RunLayout(tmp_path / "run")
    assert not lay.root.exists()                         # describing touches nothing
    assert lay.cycle(2) == tmp_path / "run" / "cycle-2" and lay.final == tmp_path / "run" / "final"
    assert lay.generate_dir(lay.cycle(0)) == tmp_path / "run" / "cycle-0" / "generate"
    assert lay.source_dir(lay.generate_dir(lay.final), 3, "plugins/my_adapter.py").name == "03-my_adapter"
    assert lay.marker(lay.cycle(1), "published").name == "published.json"
    assert lay.checkpoint(lay.final) == tmp_path / "run" / "final" / "checkpoint"
    assert {lay.stats.name, lay.run_yaml.name, lay.report.name, lay.plot.name, lay.sources_json.name} == \
        {"stats.json", "run.yaml", "report.html", "yield_per_cycle.png", "sources.json"}
