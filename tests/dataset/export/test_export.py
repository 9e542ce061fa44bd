"""Exports: the LLaVA JSON list training scripts read, and JSONL with label specs restored."""
from __future__ import annotations

import json

import pytest
from factory import make_attempts, published

from vstar_data.errors import VstarError
from vstar_data.dataset.export import export
from vstar_data.dataset.store import checkout, publish


@pytest.fixture
def store(tmp_path, rows_v1):
    path = tmp_path / "vstar-1m"
    publish(rows_v1, path, "v0.1.0", "first")
    return path


def _check_llava(items: list) -> None:
    for item in items:
        assert set(item) - {"clip_start", "clip_end"} == {"id", "video", "conversations"} and item["video"]
        turns = item["conversations"]
        assert len(turns) >= 2 and len(turns) % 2 == 0
        assert [t["from"] for t in turns] == ["human", "gpt"] * (len(turns) // 2)
        assert turns[0]["value"].startswith("<video>")


def test_llava_export_loads_as_json_with_alternating_turns(tmp_path, store):
    want = published(make_attempts(12, cycle=1, tag="v1 "))
    n = export(store, tmp_path / "train.json", "llava").rows
    items = json.loads((tmp_path / "train.json").read_text())
    assert n == len(items) == len(want)
    _check_llava(items)
    by_id = {i["id"]: i for i in items}
    for sid, row in want.items():
        assert by_id[sid]["video"] == row["video"]
        assert by_id[sid]["conversations"][0]["value"] == "<video>\n" + row["question"]
        assert by_id[sid]["conversations"][1]["value"] == row["answer"]
        assert by_id[sid].get("clip_start") == row["clip_start"] and by_id[sid].get("clip_end") == row["clip_end"]


def test_exclude_rationalized_keeps_direct_answers_only(tmp_path, store):
    want = {k for k, r in published(make_attempts(12, cycle=1, tag="v1 ")).items() if r["origin"] == "generated"}
    report = export(store, tmp_path / "direct.json", "llava", exclude_rationalized=True)
    n = report.rows
    items = json.loads((tmp_path / "direct.json").read_text())
    assert n == len(want) and {i["id"] for i in items} == want
    assert not any(i["conversations"][1]["value"].startswith("hinted") for i in items)
    assert report.excluded_rationalized == report.read - n > 0      # said, with its count
    assert f"excluded {report.excluded_rationalized} rationalized rows" in report.summary()


def test_jsonl_export_restores_label_specs(tmp_path, store):
    want = published(make_attempts(12, cycle=1, tag="v1 "))
    export(checkout(store, "v0.1.0", tmp_path / "old"), tmp_path / "rows.jsonl", "jsonl", config="finediving",
           splits=["test"])
    rows = [json.loads(line) for line in (tmp_path / "rows.jsonl").read_text().splitlines()]
    assert rows and all(r["source"] == "finediving" and r["split"] == "test" for r in rows)
    assert len(rows) == sum(1 for r in want.values() if r["source"] == "finediving" and r["split"] == "test")
    for r in rows:
        assert r["labels"] == want[r["id"]]["labels"]
        assert r["verifier_scores"][0]["name"] == want[r["id"]]["verifier_scores"][0]["name"]


def test_export_errors(tmp_path, store):
    with pytest.raises(VstarError, match="unknown export format"):
        export(store, tmp_path / "x", "csv")
    with pytest.raises(VstarError, match="no config 'nope'"):
        export(store, tmp_path / "x", "llava", config="nope")
    with pytest.raises(VstarError, match="no split"):
        export(store, tmp_path / "x", "llava", splits=["dev"])
    with pytest.raises(VstarError, match="not a published dataset folder"):
        export(tmp_path, tmp_path / "x", "llava")
    assert not (tmp_path / "x").exists()
