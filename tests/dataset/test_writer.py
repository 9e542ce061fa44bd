"""Attempt rows -> parquet shards: accepted rows only, one per sample, Hub names, one schema."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from factory import attempt_row, make_attempts, published, write_rows_dir

from vstar_data.dataset.writer import write_shards
from vstar_data.errors import VstarError
from vstar_data.dataset.rows import features

NAME_RE = re.compile(r"^data/(\w+)/(\w+)-(\d{5})-of-(\d{5})-([0-9a-f]{16})\.parquet$")


def _rows(out: Path, man) -> list[dict]:
    return [r for splits in man.configs.values() for f in splits.values() for p in f.files
            for r in pq.read_table(out / p).to_pylist()]


def test_accepted_rows_one_per_sample(tmp_path):
    rows = make_attempts(12)
    rows_dir = write_rows_dir(tmp_path / "rows", rows)
    for skipped in (rows_dir / "worker-0" / "skipped" / "chunk-000000.jsonl", rows_dir / ".cache" / "x.jsonl"):
        skipped.parent.mkdir(parents=True)
        skipped.write_text('{"reason": "video_missing", "detail": "no file", "id": "x"}\n')
    man = write_shards(rows_dir, tmp_path / "out")
    got = _rows(tmp_path / "out", man)
    want = published(rows)
    assert sorted(r["id"] for r in got) == sorted(want)
    for r in got:
        assert r["conversations"][1]["value"] == want[r["id"]]["answer"]
        assert r["origin"] == want[r["id"]]["origin"]
    # a sample whose generated attempt failed is published with its accepted rationalized answer
    assert any(r["origin"] == "rationalized" and r["conversations"][1]["value"].startswith("hinted") for r in got)
    assert man.rows_read == len(rows) and man.total == len(want)
    assert sum(man.counts.values()) == len(want)


def test_hub_shard_names_content_hashes_and_one_schema(tmp_path):
    out = tmp_path / "out"
    man = write_shards(write_rows_dir(tmp_path / "rows", make_attempts(6)), out)
    schema = features().arrow_schema
    for source, splits in man.configs.items():
        for split, files in splits.items():
            for path in files.files:
                m = NAME_RE.match(path)
                assert m and m.group(1) == source and m.group(2) == split
                data = (out / path).read_bytes()
                assert hashlib.sha256(data).hexdigest() == man.sha256[path]
                assert m.group(5) == man.sha256[path][:16]
                assert pq.read_schema(out / path).equals(schema, check_metadata=False)
    assert not list(out.rglob("*.tmp"))


def test_shards_roll_over_and_row_groups_stay_small(tmp_path):
    out = tmp_path / "out"
    man = write_shards(write_rows_dir(tmp_path / "rows", make_attempts(60, sources=["kinetics700"])), out,
                       shard_bytes=6_000, batch_rows=8)
    files = man.configs["kinetics700"]["train"].files
    assert len(files) > 1
    n = len(files)
    for i, path in enumerate(files):
        assert f"-{i:05d}-of-{n:05d}-" in path
        meta = pq.ParquetFile(out / path).metadata
        assert all(meta.row_group(g).num_rows <= 8 for g in range(meta.num_row_groups))
    assert sum(pq.ParquetFile(out / p).metadata.num_rows for p in files) == man.configs["kinetics700"]["train"].num_examples


def test_duplicate_accepted_attempts_keep_one_deterministically(tmp_path):
    rows = make_attempts(6, sources=["finediving"])
    rows += [attempt_row(1, source="finediving", cycle=2, answer="cycle two answer"),          # later cycle wins
             attempt_row(2, source="finediving", origin="rationalized", attempt=1, answer="hint"),  # generated wins
             attempt_row(4, source="finediving", answer="same rank, later in input")]               # first wins
    rows_dir = write_rows_dir(tmp_path / "rows", rows, shards=1)
    man = write_shards(rows_dir, tmp_path / "a")
    again = write_shards(rows_dir, tmp_path / "b")
    got = {r["id"]: r for r in _rows(tmp_path / "a", man)}
    assert got["finediving/000001"]["conversations"][1]["value"] == "cycle two answer"
    assert got["finediving/000002"]["origin"] == "generated"
    assert got["finediving/000004"]["conversations"][1]["value"] != "same rank, later in input"
    assert len(got) == len(published(rows[:-3])) and man.duplicates_dropped == 3
    assert sum(man.counts.values()) == len(got)
    assert man.sha256 == again.sha256  # same input, same bytes, same names


@pytest.mark.parametrize("parallel", [True, False], ids=["helper-process", "in-process"])
def test_bad_row_is_named_by_file_line_and_field(tmp_path, parallel):
    rows_dir = write_rows_dir(tmp_path / "rows", make_attempts(3, sources=["tal"]), shards=1)
    path = next(rows_dir.rglob("*.jsonl"))
    lines = path.read_text().splitlines()
    bad = json.loads(lines[2])
    bad["verifier_scores"][0]["passed"] = "yes"
    lines[2] = json.dumps(bad)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(VstarError) as err:
        write_shards(rows_dir, tmp_path / "out", parallel_check=parallel)
    assert err.value.file == "worker-0/attempts-00000.jsonl" and err.value.row == 3
    assert err.value.key == "verifier_scores/0/passed"
    path.write_text(lines[0] + "\n{not json\n")
    with pytest.raises(VstarError, match="not valid JSON") as err:
        write_shards(rows_dir, tmp_path / "out2", parallel_check=parallel)
    assert err.value.row == 2


@pytest.mark.parametrize("parallel", [True, False], ids=["helper-process", "in-process"])
def test_a_row_that_breaks_the_conversion_is_still_named(tmp_path, parallel):
    rows = make_attempts(3, sources=["kinetics700"])
    rows[1]["labels"] = "abseiling"  # would crash the converter before any check in-loop
    rows_dir = write_rows_dir(tmp_path / "rows", rows, shards=1)
    with pytest.raises(VstarError) as err:
        write_shards(rows_dir, tmp_path / "out", parallel_check=parallel)
    assert err.value.row == 2 and err.value.key == "labels"


def test_check_rows_reports_the_first_bad_row(tmp_path):
    from vstar_data.dataset.writer import check_rows

    rows = make_attempts(3, sources=["tal"])
    rows[2]["origin"] = "guessed"
    rows[3]["cycle"] = -1
    result = check_rows(write_rows_dir(tmp_path / "rows", rows, shards=1))
    assert result["rows"] == 2 and result["error"]["row"] == 3 and result["error"]["key"] == "origin"


def test_nothing_accepted_or_nothing_there(tmp_path):
    rows_dir = write_rows_dir(tmp_path / "rows", [attempt_row(1, accepted=False)], shards=1)
    with pytest.raises(VstarError, match="no accepted rows"):
        write_shards(rows_dir, tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(VstarError, match="no \\*.jsonl"):
        write_shards(tmp_path / "empty", tmp_path / "out")
