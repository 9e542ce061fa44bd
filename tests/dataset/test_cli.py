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
