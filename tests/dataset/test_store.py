"""The embedded store: releases as commits + tags, latest in the working tree, old ones retrievable,
and never a stale row from a datasets cache that nobody clears."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from factory import make_attempts, published, write_rows_dir

from vstar_data.errors import VstarError
from vstar_data.dataset.store import MARKER, Store, checkout, publish, revisions


def _load(path, cache, *args, **kw):
    import datasets

    datasets.disable_progress_bars()
    return datasets.load_dataset(str(path), *args, cache_dir=str(cache), **kw)


def _answers(ds) -> dict[str, str]:
    return {r["id"]: r["conversations"][1]["value"] for split in ds.values() for r in split}


def _git(store: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(store), *args], capture_output=True, text=True, check=True).stdout


@pytest.mark.slow
def test_two_releases_latest_loads_old_tag_retrievable_shared_cache(tmp_path, rows_v1, rows_v2, datasets_cache,
                                                                    monkeypatch):
    v1_rows, v2_rows = published(make_attempts(12, cycle=1, tag="v1 ")), published(make_attempts(18, cycle=2, tag="v2 "))
    monkeypatch.chdir(tmp_path)
    r1 = publish(rows_v1, "vstar-1m", "v0.1.0", "first release")
    first = _load("vstar-1m", datasets_cache)
    assert _answers(first) == {k: r["answer"] for k, r in v1_rows.items()}

    r2 = publish(rows_v2, "vstar-1m", "cycle-2", "second release")
    assert r2.commit != r1.commit
    latest = _load("vstar-1m", datasets_cache)  # same cache, same folder name: must not be stale
    assert _answers(latest) == {k: r["answer"] for k, r in v2_rows.items()}
    assert any(datasets_cache.rglob("*.arrow"))  # the cache really was shared, not emptied

    fd = _load("vstar-1m", datasets_cache, "finediving", split="test")
    want = {k: r for k, r in v2_rows.items() if r["source"] == "finediving" and r["split"] == "test"}
    assert sorted(fd["id"]) == sorted(want) and set(fd["source"]) == {"finediving"}
    assert fd.features == latest["test"].features  # one schema for every config

    old = checkout("vstar-1m", "v0.1.0", tmp_path / "old")
    assert not (old / MARKER).exists() and not (old / ".git").exists()
    assert _answers(_load(old, datasets_cache)) == {k: r["answer"] for k, r in v1_rows.items()}
    assert r1.counts["default"] == {s: n for s, n in first.num_rows.items()}


def test_revisions_list_tags_dates_and_counts(tmp_path, rows_v1, rows_v2):
    store = tmp_path / "vstar-1m"
    r1 = publish(rows_v1, store, "v0.1.0", "first")
    r2 = publish(rows_v2, store, "cycle-2", "second")
    revs = revisions(store)
    assert [r.tag for r in revs] == ["v0.1.0", "cycle-2"]
    assert [r.commit for r in revs] == [r1.commit, r2.commit]
    assert [r.message for r in revs] == ["first", "second"]
    assert all(r.date[:4].isdigit() and "T" in r.date for r in revs)
    assert revs[0].counts == r1.counts and revs[1].counts == r2.counts
    assert sum(revs[1].counts["default"].values()) == len(published(make_attempts(18, cycle=2)))
    assert sum(revs[1].counts["finediving"].values()) == sum(
        1 for r in published(make_attempts(18, cycle=2)).values() if r["source"] == "finediving")


def test_store_is_a_git_repo_and_releases_only_add_files(tmp_path, rows_v1, rows_v2):
    store = tmp_path / "vstar-1m"
    publish(rows_v1, store, "v0.1.0", "first")
    publish(rows_v2, store, "cycle-2", "second")
    assert _git(store, "config", "core.compression").strip() == "0"
    assert _git(store, "status", "--porcelain") == ""
    assert subprocess.run(["git", "-C", str(store), "fsck", "--strict"], capture_output=True).returncode == 0
    log = _git(store, "log", "--format=%s").splitlines()
    assert log == ["second", "first", "Initialize vstar-data store"]  # one commit per publish
    changes = _git(store, "diff", "--no-renames", "--name-status", "v0.1.0", "cycle-2", "--", "data").splitlines()
    assert changes and all(line[0] in "AD" for line in changes)  # shards are added, never rewritten
    # the old release's shards are still in history, byte for byte
    old = [p for p in _git(store, "ls-tree", "-r", "--name-only", "v0.1.0").split() if p.startswith("data/")]
    assert old and not any((store / p).exists() for p in old)
    assert all(_git(store, "cat-file", "-t", f"v0.1.0:{p}").strip() == "blob" for p in old)


def test_existing_tag_is_refused_unless_forced_and_rerun_is_a_noop(tmp_path, rows_v1, rows_v2):
    store = tmp_path / "vstar-1m"
    first = publish(rows_v1, store, "v0.1.0", "first")
    again = publish(rows_v1, store, "v0.1.0", "first")
    assert again.already_published and again.commit == first.commit and again.counts == first.counts
    with pytest.raises(VstarError, match="already exists.*--force") as err:
        publish(rows_v2, store, "v0.1.0", "other rows")
    assert err.value.key == "tag"
    assert Store.open(store).resolve("refs/tags/v0.1.0") == first.commit
    moved = publish(rows_v2, store, "v0.1.0", "other rows", force=True)
    assert moved.commit != first.commit
    assert Store.open(store).resolve("refs/tags/v0.1.0") == moved.commit


def test_a_folder_that_is_not_a_store_is_left_untouched(tmp_path, rows_v1):
    folder = tmp_path / "my-data"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    before = sorted((p.name, p.stat().st_mtime_ns) for p in folder.iterdir())
    with pytest.raises(VstarError, match="not a vstar-data store") as err:
        publish(rows_v1, folder, "v0.1.0", "first")
    assert str(folder) in str(err.value)
    assert sorted((p.name, p.stat().st_mtime_ns) for p in folder.iterdir()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["my-data", "rows-v1"])
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / MARKER).write_text("{}")
    with pytest.raises(VstarError, match="no .git repository"):
        publish(rows_v1, broken, "v0.1.0", "first")


def test_bad_rows_write_nothing(tmp_path):
    rows = make_attempts(4)
    rows[5]["cycle"] = "two"
    rows_dir = write_rows_dir(tmp_path / "rows", rows, shards=1)
    with pytest.raises(VstarError) as err:
        publish(rows_dir, tmp_path / "vstar-1m", "v0.1.0", "first")
    assert err.value.row == 6 and err.value.key == "cycle"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows"]  # no store, no staging left behind


def test_extra_files_ship_with_the_release(tmp_path, rows_v1):
    store = tmp_path / "vstar-1m"
    run_yaml = tmp_path / "run.yaml"
    run_yaml.write_text("cycles: 3\n")
    result = publish(rows_v1, store, "cycle-0", "cycle 0", extra_files={"stats.json": '{"cycle": 0}',
                                                                      "run.yaml": run_yaml})
    assert (store / "stats.json").read_text() == '{"cycle": 0}'
    assert (store / "run.yaml").read_text() == "cycles: 3\n"
    assert {"stats.json", "run.yaml", "README.md", "assets/yield_per_cycle.png"} <= set(result.files)
    for bad in ("../x", "data/x.parquet", "README.md", "/etc/passwd"):
        with pytest.raises(VstarError, match="not allowed"):
            publish(rows_v1, store, "cycle-1", "x", extra_files={bad: "x"})


def test_bad_tag_names_and_empty_messages(tmp_path, rows_v1):
    for tag in ("", "-x", "a..b", "v1.lock", "a b", "x/"):
        with pytest.raises(VstarError, match="not a usable tag"):
            publish(rows_v1, tmp_path / "s", tag, "m")
    with pytest.raises(VstarError, match="message"):
        publish(rows_v1, tmp_path / "s", "v1", "  ")


def test_checkout_refuses_unknown_tags_and_non_empty_targets(tmp_path, rows_v1):
    store = tmp_path / "vstar-1m"
    publish(rows_v1, store, "v0.1.0", "first")
    with pytest.raises(VstarError, match="no release tagged 'v9'.*v0.1.0"):
        checkout(store, "v9", tmp_path / "out")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(VstarError, match="not empty"):
        checkout(store, "v0.1.0", tmp_path / "full")
    out = checkout(store, "v0.1.0", tmp_path / "fresh")
    assert (out / "README.md").is_file() and list(out.glob("data/*/*.parquet"))
