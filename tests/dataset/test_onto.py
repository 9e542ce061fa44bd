"""Releases built on earlier ones (`push --onto`), `diff` between releases, and the card's history."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from factory import attempt_row, write_rows_dir
from typer.testing import CliRunner

from vstar_data.dataset.diff import diff_releases
from vstar_data.dataset.store import checkout, publish
from vstar_data.errors import VstarError

runner = CliRunner()


def _rows(path: Path, source: str, n: int, *, like: str = "finediving", answers: dict[int, str] | None = None,
          labels: dict[int, float] | None = None, start: int = 0) -> Path:
    """n accepted attempts of a source named `source` (rows shaped like factory's `like` source)."""
    rows = []
    for i in range(start, start + n):
        row = attempt_row(i, source=like, split="train" if i % 2 else "test", cycle=1)
        row.update(source=source, id=f"{source}/{i:06d}")
        if answers and i in answers:
            row["answer"] = answers[i]
        if labels and i in labels:
            row["labels"][0]["value"] = labels[i]
        rows.append(row)
    return write_rows_dir(path, rows, shards=1)


def _git(store: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(store), *args], capture_output=True, text=True, check=True).stdout


def _blobs(store: Path, tag: str, prefix: str) -> dict[str, str]:
    out = {}
    for line in _git(store, "ls-tree", "-r", tag, "--", prefix).splitlines():
        meta, path = line.split("\t")
        out[path] = meta.split()[2]
    return out


def _load(path: Path, cache: Path, *args):
    import datasets

    datasets.disable_progress_bars()
    return datasets.load_dataset(str(path), *args, cache_dir=str(cache))


def test_onto_adds_keeps_blobs_drops_and_rolls_back(tmp_path, cli_app, datasets_cache):
    store = tmp_path / "store"
    mcqa, kin = _rows(tmp_path / "mcqa", "mcqa", 10), _rows(tmp_path / "kin", "kinetics700", 8, like="kinetics700")
    (tmp_path / "stats.json").write_text('{"cycles": []}')
    res = runner.invoke(cli_app, ["push", str(mcqa), "--store", str(store), "-t", "r1", "-m", "mcqa",
                                  "--extra-file", str(tmp_path / "stats.json")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli_app, ["push", str(kin), "--store", str(store), "-t", "r2", "-m", "add k700", "--onto", "r1"])
    assert res.exit_code == 0, res.output
    assert "kept byte for byte mcqa" in res.output

    out = checkout(store, "r2", tmp_path / "r2")
    import datasets

    assert set(datasets.get_dataset_config_names(str(out))) == {"mcqa", "kinetics700", "default"}
    assert _load(out, datasets_cache, "default").num_rows == {"test": 9, "train": 9}
    assert set(_load(out, datasets_cache, "mcqa")["train"]["source"]) == {"mcqa"}
    r1, r2 = _blobs(store, "r1", "data/mcqa"), _blobs(store, "r2", "data/mcqa")
    assert r1 and r1 == r2                                      # same files, same git blobs
    assert (out / "stats.json").read_text() == '{"cycles": []}'  # extra files carry over
    history = json.loads((out / "history.json").read_text())["sources"]
    assert history["mcqa"]["tag"] == "r1" and history["kinetics700"]["tag"] == "r2"
    assert history["mcqa"]["rows"] == 10 and history["mcqa"]["models"] == ["template@rev-a"]
    card = (out / "README.md").read_text()
    assert "## History" in card and "Changes since `r1`" in card
    assert "| kinetics700 | test | 4 | 0 | 0 |" in card and "| mcqa | train | 0 | 0 | 0 |" in card

    res = runner.invoke(cli_app, ["push", "--store", str(store), "-t", "r3", "-m", "drop", "--onto", "r2",
                                  "--drop-source", "mcqa"])
    assert res.exit_code == 0, res.output
    out3 = checkout(store, "r3", tmp_path / "r3")
    assert set(datasets.get_dataset_config_names(str(out3))) == {"kinetics700", "default"}
    assert not _blobs(store, "r3", "data/mcqa") and _blobs(store, "r3", "data/kinetics700") == _blobs(
        store, "r2", "data/kinetics700")

    # roll back: r1 again as the newest release, same shard blobs
    res = runner.invoke(cli_app, ["push", "--store", str(store), "-t", "r4", "-m", "roll back", "--onto", "r1"])
    assert res.exit_code == 0, res.output
    assert _blobs(store, "r4", "data") == _blobs(store, "r1", "data")
    assert sorted(p.relative_to(store).as_posix() for p in (store / "data").rglob("*.parquet")) == sorted(r1)


def test_onto_errors_name_what_exists(tmp_path):
    store = tmp_path / "store"
    publish(_rows(tmp_path / "mcqa", "mcqa", 4), store, "r1", "m")
    with pytest.raises(VstarError, match=r"--onto 'nope'.*known: r1") as err:
        publish(None, store, "r2", "m", onto="nope")
    assert err.value.key == "onto"
    with pytest.raises(VstarError, match=r"--drop-source tal: release r1 has no such config; its configs: mcqa"):
        publish(None, store, "r2", "m", onto="r1", drop_sources=["tal"])
    with pytest.raises(VstarError, match="needs --onto"):
        publish(_rows(tmp_path / "k", "kinetics700", 2, like="kinetics700"), store, "r2", "m", drop_sources=["mcqa"])
    with pytest.raises(VstarError, match="no config"):
        publish(None, store, "r2", "m", onto="r1", drop_sources=["mcqa"])
    assert _git(store, "tag").split() == ["r1"]


def test_onto_replaces_a_config_of_the_same_name(tmp_path):
    store = tmp_path / "store"
    publish(_rows(tmp_path / "a", "mcqa", 6), store, "r1", "m")
    publish(_rows(tmp_path / "k", "kinetics700", 4, like="kinetics700"), store, "r2", "m", onto="r1")
    res = publish(_rows(tmp_path / "b", "mcqa", 3, start=10), store, "r3", "regen", onto="r2")
    assert res.counts["mcqa"] == {"test": 2, "train": 1} and res.kept == ["kinetics700"]
    assert sum(res.counts["default"].values()) == 7
    history = json.loads((store / "history.json").read_text())["sources"]
    assert history["mcqa"]["tag"] == "r3" and history["kinetics700"]["tag"] == "r2"


def test_diff_counts_added_removed_changed_and_skips_identical_configs(tmp_path, cli_app):
    store = tmp_path / "store"
    publish(_rows(tmp_path / "a", "mcqa", 10), store, "r1", "m")
    publish(_rows(tmp_path / "k", "kinetics700", 4, like="kinetics700"), store, "r2", "m", onto="r1")
    # mcqa regenerated: ids 0-1 gone, 10-12 new, 3 a new answer, 4 a new label value (ids 2-9 stay)
    new = _rows(tmp_path / "b", "mcqa", 11, start=2, answers={3: "a different answer"}, labels={4: 99.5})
    publish(new, store, "r3", "regen mcqa", onto="r2")
    doc = diff_releases(store, "r2", "r3", show=5)
    m = doc["configs"]["mcqa"]
    assert (m["test"]["added"], m["test"]["removed"], m["test"]["changed"]) == (2, 1, 1)    # 10, 12 / 0 / 4
    assert (m["train"]["added"], m["train"]["removed"], m["train"]["changed"]) == (1, 1, 1)  # 11 / 1 / 3
    assert m["train"]["examples"] == {"added": ["mcqa/000011"], "removed": ["mcqa/000001"], "changed": ["mcqa/000003"]}
    assert doc["configs"]["kinetics700"]["train"] == {"added": 0, "removed": 0, "changed": 0,
                                                       "examples": {"added": [], "removed": [], "changed": []}}
    assert "default" not in doc["configs"]

    res = runner.invoke(cli_app, ["diff", "r1", "r2", "--store", str(store), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["from"] == "r1" and doc["to"] == "r2"
    assert doc["configs"]["kinetics700"]["train"]["added"] == 2 and doc["configs"]["mcqa"]["train"]["changed"] == 0
    res = runner.invoke(cli_app, ["diff", "r2", "r3", "--store", str(store), "--config", "mcqa"])
    assert res.exit_code == 0 and "mcqa / test: +2 added, -1 removed, ~1 changed" in res.output


def _make_old_release(store: Path, tag: str) -> None:
    """Rewrite the working tree's shards as an earlier library version wrote them (no `variant`
    column, no history.json), one label value NaN, and tag that commit."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    for path in (store / "data").rglob("*.parquet"):
        table = pq.read_table(path).drop_columns(["variant"])
        labels = table.column("labels").to_pylist()
        labels[0][0]["value_number"] = float("nan")
        table = table.set_column(table.schema.get_field_index("labels"), "labels",
                                 pa.array(labels, type=table.schema.field("labels").type))
        pq.write_table(table, path, compression="zstd")
        assert pc.sum(pc.is_nan(pc.list_flatten(table.column("labels")).combine_chunks().field("value_number"))).as_py() == 1
    (store / "history.json").unlink()
    _git(store, "add", "-A")
    _git(store, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "old release")
    _git(store, "-c", "user.name=t", "-c", "user.email=t@t", "tag", "-a", tag, "-m", "old")


def test_base_from_an_earlier_version_is_migrated_and_invalid_rows_named_or_dropped(tmp_path):
    store = tmp_path / "store"
    publish(_rows(tmp_path / "a", "mcqa", 6), store, "r1", "m")
    _make_old_release(store, "old")
    kin = _rows(tmp_path / "k", "kinetics700", 4, like="kinetics700")
    with pytest.raises(VstarError, match="cannot be published under today's schema.*--drop-invalid") as err:
        publish(kin, store, "r2", "m", onto="old")
    assert err.value.file.startswith("old:data/mcqa/") and err.value.key.startswith("labels/0/value_number")
    res = publish(kin, store, "r2", "m", onto="old", drop_invalid=True)
    assert res.migrated == {"mcqa": 4} and res.dropped_invalid == {"mcqa": 2} and res.kept == []
    assert sum(res.counts["mcqa"].values()) == 4
    import pyarrow.parquet as pq

    from vstar_data.dataset.rows import features

    for path in (store / "data" / "mcqa").glob("*.parquet"):
        assert pq.read_schema(path).equals(features().arrow_schema, check_metadata=False)
        assert set(pq.read_table(path).column("variant").to_pylist()) == {"original"}
    card = (store / "README.md").read_text()
    assert "not recorded: carried from a release made by an earlier version" in card
    assert "4 rows rewritten to today's schema" in card and "2 rows of the base release" in card
