"""kill -9 at any point of a publish: the store stays loadable (old or new release, never a mix) and
re-running the same publish completes it."""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from factory import make_attempts, published

import vstar_data.dataset.gitstore as gitstore
import vstar_data.dataset.store as store_mod
from vstar_data.dataset.export import config_files, iter_rows
from vstar_data.dataset.store import JOURNAL, publish, revisions


class _Crash(BaseException):
    """Stands in for SIGKILL in-process: nothing catches it, no cleanup of ours runs for it."""


V1 = {k: r["answer"] for k, r in published(make_attempts(12, cycle=1, tag="v1 ")).items()}
V2 = {k: r["answer"] for k, r in published(make_attempts(18, cycle=2, tag="v2 ")).items()}


def loadable_answers(store: Path) -> dict[str, str]:
    """What load_dataset would see, checked the way it checks: every file the README names exists and
    the rows add up to the README's dataset_info, for every config."""
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(store / "README.md").data.to_dict()
    infos = {i["config_name"]: {s["name"]: s["num_examples"] for s in i["splits"]} for i in card["dataset_info"]}
    for config, splits in infos.items():
        files = config_files(store, config)
        assert set(files) == set(splits)
        for split, paths in files.items():
            assert all(p.is_file() for p in paths), f"{config}/{split} names a missing shard"
            assert sum(pq.ParquetFile(p).metadata.num_rows for p in paths) == splits[split]
    return {r["id"]: r["conversations"][1]["value"] for r in iter_rows(store, columns=["id", "conversations"])}


def assert_completed(store: Path) -> None:
    assert loadable_answers(store) == V2
    git = ["git", "-C", str(store)]
    assert subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True).stdout == ""
    assert subprocess.run([*git, "log", "--format=%s"], capture_output=True, text=True).stdout.split("\n")[:3] == [
        "second", "first", "Initialize vstar-data store"]
    assert [r.tag for r in revisions(store)] == ["v0.1.0", "cycle-2"]
    assert not (store / ".git" / JOURNAL).exists() and not (store / ".git" / store_mod.STAGING).exists()
    assert not list(store.parent.glob(f".{store.name}.staging-*"))


STEPS = [("staged", 1), ("journal-written", 1), ("moved-file", 1), ("moved-file", 4), ("files-moved", 1),
         ("old-removed", 1), ("added", 1), ("committed", 1), ("tagged", 1)]


@pytest.mark.parametrize("step,nth", STEPS, ids=[f"{s}-{n}" for s, n in STEPS])
def test_crash_between_steps_then_rerun_completes(tmp_path, rows_v1, rows_v2, monkeypatch, step, nth):
    store = tmp_path / "vstar-1m"
    publish(rows_v1, store, "v0.1.0", "first")
    calls: Counter = Counter()

    def crash(name: str) -> None:
        calls[name] += 1
        if name == step and calls[name] == nth:
            raise _Crash(name)

    monkeypatch.setattr(gitstore, "_checkpoint", crash)
    with pytest.raises(_Crash):
        publish(rows_v2, store, "cycle-2", "second")
    monkeypatch.setattr(gitstore, "_checkpoint", lambda name: None)
    assert loadable_answers(store) in (V1, V2)  # old or new release, never a mix
    result = publish(rows_v2, store, "cycle-2", "second")
    assert_completed(store)
    if step not in ("staged",):
        assert result.resumed == "cycle-2"  # the journal finished the interrupted release


def _publish_in_subprocess(rows: Path, store: Path, hook: str) -> subprocess.Popen:
    code = textwrap.dedent(f"""
        import collections, os, signal
        import vstar_data.dataset.writer as W
        import vstar_data.dataset.gitstore as G
        import vstar_data.dataset.store as S
        calls = collections.Counter()
        def die():
            os.kill(os.getpid(), signal.SIGKILL)
        {hook}
        S.publish({str(rows)!r}, {str(store)!r}, "cycle-2", "second")
    """)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


KILLS = {
    "while-writing-shards": "W._Partition.flush = lambda self: die()",
    "after-staging": "G._checkpoint = lambda name: die() if name == 'staged' else None",
    "mid-move": textwrap.dedent("""
        def cp(name):
            calls[name] += 1
            if name == 'moved-file' and calls[name] == 3:
                die()
        G._checkpoint = cp"""),
    "after-commit": "G._checkpoint = lambda name: die() if name == 'committed' else None",
}


@pytest.mark.slow
@pytest.mark.parametrize("where", sorted(KILLS))
def test_sigkill_in_a_real_process_then_rerun(tmp_path, rows_v1, rows_v2, where):
    store = tmp_path / "vstar-1m"
    publish(rows_v1, store, "v0.1.0", "first")
    proc = _publish_in_subprocess(rows_v2, store, KILLS[where].replace("\n", "\n        "))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, err.decode()[-2000:]
    assert loadable_answers(store) in (V1, V2)
    publish(rows_v2, store, "cycle-2", "second")
    assert_completed(store)


@pytest.mark.slow
def test_sigkill_at_an_arbitrary_moment_then_rerun(tmp_path, rows_v1, rows_v2):
    """No hook: the process is killed as soon as its journal appears, wherever it has got to."""
    store = tmp_path / "vstar-1m"
    publish(rows_v1, store, "v0.1.0", "first")
    proc = _publish_in_subprocess(rows_v2, store, "pass")
    deadline = time.monotonic() + 120
    while proc.poll() is None and not (store / ".git" / JOURNAL).exists() and time.monotonic() < deadline:
        time.sleep(0.001)
    proc.kill()
    proc.communicate()
    assert loadable_answers(store) in (V1, V2)
    publish(rows_v2, store, "cycle-2", "second")
    assert_completed(store)


def test_stale_git_locks_from_a_killed_git_are_cleared(tmp_path, rows_v1, rows_v2):
    store = tmp_path / "vstar-1m"
    publish(rows_v1, store, "v0.1.0", "first")
    (store / ".git" / "index.lock").write_text("")
    (store / ".git" / "refs" / "heads" / "main.lock").write_text("")
    publish(rows_v2, store, "cycle-2", "second")
    assert_completed(store)


def test_two_publishers_at_once_are_serialised(tmp_path, rows_v1):
    store = tmp_path / "vstar-1m"
    publish(rows_v1, store, "v0.1.0", "first")
    st = store_mod.Store.open(store)
    with st.lock():
        with pytest.raises(store_mod.VstarError, match="another vstar-data process"):
            with store_mod.Store.open(store).lock():
                pass
