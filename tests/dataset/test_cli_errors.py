"""`push` and `export` on a full or read-only disk, with missing extras or a broken shard: one
located line and exit 2 (through `vstar-data`'s entry point), never a traceback, and nothing
already written is lost."""
from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from vstar_data.cli import main
from vstar_data.dataset.store import publish, revisions


def _run(capsys, *argv: str) -> tuple[int, str]:
    """Exit status and stderr of `vstar-data ARGV` run in this process."""
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    return exit_.value.code, capsys.readouterr().err


def _fail_replace(monkeypatch, code: int, when=lambda src, dst: True) -> None:
    """os.replace raises OSError(code) for the renames `when` picks (the disk filled up, or became
    read-only, between writing a temp file and renaming it into place)."""
    real = os.replace

    def replace(src, dst, *a, **kw):
        if when(str(src), str(dst)):
            raise OSError(code, os.strerror(code), str(dst))
        return real(src, dst, *a, **kw)
    monkeypatch.setattr(os, "replace", replace)


@pytest.fixture
def store(tmp_path, rows_v1) -> Path:
    path = tmp_path / "vstar-1m"
    publish(rows_v1, path, "v1", "first")
    return path


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "no space left"), (errno.EROFS, "read-only")])
def test_export_on_a_full_or_read_only_disk_keeps_the_old_output(tmp_path, store, capsys, monkeypatch, code, words):
    out = tmp_path / "train.json"
    out.write_text("[]\n")                                  # an earlier export: must survive
    _fail_replace(monkeypatch, code, lambda src, dst: dst == str(out))
    status, err = _run(capsys, "export", str(store), "--out", str(out))
    assert status == 2 and words in err and str(out) in err and "Traceback" not in err
    assert out.read_text() == "[]\n"
    assert not [p.name for p in tmp_path.iterdir() if ".export-" in p.name]   # staging removed


def test_push_on_a_full_disk_exits_2_and_keeps_the_published_release(tmp_path, store, rows_v2, capsys, monkeypatch):
    _fail_replace(monkeypatch, errno.ENOSPC)
    status, err = _run(capsys, "push", str(rows_v2), "--store", str(store), "-t", "v2", "-m", "second")
    monkeypatch.undo()
    assert status == 2 and "no space left" in err.lower() and "Traceback" not in err
    assert [r.tag for r in revisions(store)] == ["v1"]      # the earlier release is intact


@pytest.mark.parametrize("make, words", [(lambda p: None, "does not exist"),
                                         (lambda p: p.mkdir(), "is not a regular file (it is a folder)")])
def test_push_extra_file_missing_or_a_folder_is_named(tmp_path, store, rows_v2, capsys, make, words):
    extra = tmp_path / "stats.json"
    make(extra)
    status, err = _run(capsys, "push", str(rows_v2), "--store", str(store), "-t", "v2", "-m", "x",
                       "--extra-file", str(extra))
    assert status == 2 and words in err and str(extra) in err and "--extra-file" in err
    assert [r.tag for r in revisions(store)] == ["v1"]


def _shard(checkout: Path) -> Path:
    return sorted(checkout.rglob("*.parquet"))[0]


@pytest.mark.parametrize("damage, words", [
    (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "cannot be read"),   # truncated
    (lambda p: p.write_bytes(b"PAR1" + os.urandom(256) + b"PAR1"), "cannot be read"),          # corrupt
    (lambda p: p.unlink(), "does not exist"),                                                  # deleted
])
def test_export_of_a_damaged_shard_names_the_shard(tmp_path, store, capsys, damage, words):
    co = tmp_path / "co"
    assert _run(capsys, "checkout", "v1", "--store", str(store), "--out", str(co))[0] == 0
    shard = _shard(co)
    damage(shard)
    out = tmp_path / "rows.jsonl"
    status, err = _run(capsys, "export", str(co), "--format", "jsonl", "--out", str(out))
    assert status == 2 and words in err and shard.name in err and "Traceback" not in err
    assert not out.exists() and not [p for p in tmp_path.iterdir() if ".export-" in p.name]


def test_export_removes_staging_left_by_a_dead_export_and_keeps_a_live_one(tmp_path, store, capsys):
    import subprocess
    import sys

    from vstar_data.procs import owner_token

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    out = tmp_path / "lf"
    dead = tmp_path / f".lf.export-{gone.pid}-999"          # killed export (its pid is free now)
    reused = tmp_path / f".lf.export-{os.getpid()}-1"       # pid alive, but another process's start time
    live = tmp_path / f".lf.export-{owner_token(os.getppid())}"   # a running export (our parent stands in)
    for p in (dead, reused, live):
        p.mkdir()
        (p / "data.jsonl").write_text("{}\n")
    status, _ = _run(capsys, "export", str(store), "--format", "jsonl", "--out", str(tmp_path / "rows.jsonl"))
    assert status == 0 and dead.is_dir()                    # another --out: not ours to clean
    status, _ = _run(capsys, "export", str(store), "--format", "jsonl", "--out", str(out))
    assert status == 0 and out.is_file()
    assert not dead.exists() and live.is_dir()
    assert not reused.exists() or owner_token().count("-") == 0    # no /proc: a live pid counts as alive
    assert json.loads(out.read_text().splitlines()[0])["id"]


def test_export_names_a_readme_whose_yaml_header_is_broken(tmp_path, store, capsys):
    co = tmp_path / "co"
    assert _run(capsys, "checkout", "v1", "--store", str(store), "--out", str(co))[0] == 0
    (co / "README.md").write_text("---\nconfigs: [\n---\n")
    status, err = _run(capsys, "export", str(co), "--out", str(tmp_path / "x.json"))
    assert status == 2 and str(co / "README.md") in err and "not valid YAML" in err
