"""`vstar-data push / revisions / checkout / export` as a user runs them."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from vstar_data.errors import VstarError

runner = CliRunner()


def test_push_prints_rows_per_config_and_split_commit_and_tag(tmp_path, rows_v1, rows_v2, cli_app):
    store = tmp_path / "vstar-1m"
    res = runner.invoke(cli_app, ["push", str(rows_v1), "--store", str(store), "--tag", "v0.1.0", "-m", "first"])
    assert res.exit_code == 0, res.output
    from vstar_data.dataset.store import revisions

    (rev,) = revisions(store)
    assert f"commit {rev.commit}" in res.output and "tag    v0.1.0" in res.output
    for config, splits in rev.counts.items():
        line = next(ln for ln in res.output.splitlines() if ln.strip("│ ").startswith(config + " "))
        for n in splits.values():
            assert f"{n:,}" in line
    res = runner.invoke(cli_app, ["push", str(rows_v2), "--store", str(store), "--tag", "v0.1.0", "-m", "x"])
    assert isinstance(res.exception, VstarError) and "--force" in str(res.exception)
    res = runner.invoke(cli_app, ["push", str(rows_v2), "--store", str(store), "-t", "cycle-2", "-m", "second",
                                  "--extra-file", str(rows_v1 / "worker-0" / "attempts-00000.jsonl")])
    assert res.exit_code == 0, res.output
    assert (store / "attempts-00000.jsonl").is_file()

    res = runner.invoke(cli_app, ["revisions", "--store", str(store)])
    assert res.exit_code == 0 and "v0.1.0" in res.output and "cycle-2" in res.output and "default=" in res.output

    res = runner.invoke(cli_app, ["checkout", "v0.1.0", "--store", str(store), "--out", str(tmp_path / "old")])
    assert res.exit_code == 0 and (tmp_path / "old" / "README.md").is_file()

    out = tmp_path / "train.json"
    res = runner.invoke(cli_app, ["export", str(store), "--format", "llava", "--out", str(out),
                                  "--exclude-rationalized"])
    assert res.exit_code == 0, res.output
    items = json.loads(out.read_text())
    assert items and all(i["conversations"][0]["value"].startswith("<video>") for i in items)


def test_help_lists_the_store_commands(cli_app):
    res = runner.invoke(cli_app, ["--help"])
    for cmd in ("push", "revisions", "checkout", "export"):
        assert cmd in res.output
    res = runner.invoke(cli_app, ["push", "--help"])
    assert "--hub-repo" in res.output and "--force" in res.output


def _rows_with_line(tmp_path, line: str):
    """A rows folder of valid attempts plus one raw JSONL line (as a broken generator might write it)."""
    from factory import attempt_row, write_rows_dir

    rows = write_rows_dir(tmp_path / "rows", [attempt_row(i, source="finediving") for i in range(4)], shards=1)
    shard = rows / "worker-0" / "attempts-00000.jsonl"
    with shard.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    return rows, shard


def _bad_label_line(value_text: str) -> str:
    from factory import attempt_row

    row = attempt_row(9, source="finediving")
    row["labels"][0]["value"] = 12345.5
    return json.dumps(row).replace("12345.5", value_text)


def test_push_refuses_non_finite_numbers_naming_the_row(tmp_path, cli_app):
    for i, (text, shown) in enumerate((("1e999", "inf"), ("NaN", "nan"), ("-Infinity", "-inf"))):
        rows, shard = _rows_with_line(tmp_path / str(i), _bad_label_line(text))
        store = tmp_path / str(i) / "vstar-1m"
        res = runner.invoke(cli_app, ["push", str(rows), "--store", str(store), "--tag", "v1", "-m", "m"])
        err = res.exception
        assert isinstance(err, VstarError), res.output
        assert err.file.endswith("attempts-00000.jsonl") and err.row == 5 and err.key == "labels/0/value"
        assert f"{shown} is not a finite number" in str(err)
        assert not (store / "README.md").exists()  # nothing published


def test_push_refuses_non_finite_numbers_in_open_keys_and_scores(tmp_path, cli_app):
    from factory import attempt_row

    for i, (where, key) in enumerate((("labels", "labels/0/weight"), ("verifier_scores", "verifier_scores/0/extra_x"))):
        row = attempt_row(9, source="finediving")
        row[where][0]["weight" if where == "labels" else "extra_x"] = float("nan")
        rows, _ = _rows_with_line(tmp_path / str(i), json.dumps(row))
        res = runner.invoke(cli_app, ["push", str(rows), "--store", str(tmp_path / str(i) / "s"), "-t", "v1", "-m", "m"])
        assert isinstance(res.exception, VstarError) and res.exception.key == key, res.output
        assert res.exception.row == 5 and "not a finite number" in str(res.exception)


def test_push_refuses_a_label_type_that_is_not_registered(tmp_path, cli_app):
    from factory import attempt_row

    row = attempt_row(9, source="finediving")
    row["labels"][1]["type"] = "mystery_type"
    row["verifier_scores"][1]["type"] = "mystery_type"
    rows, _ = _rows_with_line(tmp_path, json.dumps(row))
    res = runner.invoke(cli_app, ["push", str(rows), "--store", str(tmp_path / "s"), "-t", "v1", "-m", "m"])
    err = res.exception
    assert isinstance(err, VstarError), res.output
    assert err.row == 5 and err.key == "labels/1/type" and "unknown label type 'mystery_type'" in str(err)
    assert "category" in str(err)  # lists the known types
    assert not (tmp_path / "s" / "README.md").exists()
