"""vstar_data.procs: owner tokens tell a dead owner's leftover from a live one (pid reuse
included), and the exclusive lock keeps a second process out until the first one dies."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vstar_data.errors import ConfigError
from vstar_data.procs import exclusive_lock, is_alive, owner_token, parse_token, remove_dead_owners, start_time


def _dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_this_process_is_alive_under_its_own_token():
    pid, start = parse_token(owner_token())
    assert pid == os.getpid() and is_alive(pid, start)
    if start is not None:                                   # Linux: the start time is part of the identity
        assert start == start_time(os.getpid())
        assert not is_alive(pid, str(int(start) + 1))      # same pid, another process (pid reused)


def test_a_reaped_process_is_dead():
    assert not is_alive(_dead_pid())
    assert not is_alive(0) and not is_alive(-5)


def test_remove_dead_owners_keeps_live_and_unattributable_entries(tmp_path: Path):
    prefix = ".train.json.export-"
    me = tmp_path / f"{prefix}{owner_token()}"
    dead = tmp_path / f"{prefix}{_dead_pid()}-12345"
    reused = tmp_path / f"{prefix}{os.getpid()}-1"          # our pid, but a start time that is not ours
    old_style = tmp_path / f"{prefix}{_dead_pid()}"          # pid only (before start times were recorded)
    foreign = tmp_path / f"{prefix}notes"
    for p in (me, dead, reused, foreign):
        p.mkdir()
    old_style.write_text("half a file")
    removed = remove_dead_owners(tmp_path, prefix)
    assert me.is_dir() and foreign.is_dir()
    assert not dead.exists() and not old_style.exists()
    if start_time(os.getpid()) is not None:
        assert not reused.exists()
    assert set(removed) >= {dead, old_style}


def test_a_second_holder_is_told_who_holds_the_lock(tmp_path: Path):
    lock = tmp_path / "run" / ".lock"
    with exclusive_lock(lock, "run directory"):
        with pytest.raises(ConfigError) as err:            # another open file description: flock conflicts
            with exclusive_lock(lock, "run directory"):
                pass
        assert f"locked by pid {os.getpid()}" in str(err.value)
        assert str(tmp_path / "run") in str(err.value)
    with exclusive_lock(lock, "run directory"):             # released at the end of the block
        pass


def test_the_lock_is_released_when_its_holder_is_killed(tmp_path: Path):
    lock = tmp_path / ".lock"
    code = ("import sys, time; from pathlib import Path; from vstar_data.procs import exclusive_lock\n"
            f"with exclusive_lock(Path({str(lock)!r}), 'x'):\n    print('held', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ConfigError, match=f"locked by pid {holder.pid}"):
            with exclusive_lock(lock, "x"):
                pass
    finally:
        holder.kill()
        holder.wait()
    with exclusive_lock(lock, "x"):
        pass
