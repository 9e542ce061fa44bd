"""Who owns a leftover? Process identity for staging folders and lock files.

A folder named after a pid alone is ambiguous once the pid is reused, so an owner is recorded as
``PID-STARTTIME`` (Linux: field 22 of /proc/PID/stat, clock ticks since boot) and is alive only
while a process with that pid *and* that start time runs. Where /proc is absent the token is the
bare pid and "alive" means the pid exists. Every staging-folder cleaner (export, training, the
store) asks this module, so the rule lives in one place. `exclusive_lock` keeps a second process
out of a directory one process owns for a whole run (the kernel drops the lock when its holder
dies, so there is nothing stale to clean).
"""
from __future__ import annotations

import glob
import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import ConfigError

_TOKEN_RE = re.compile(r"^(\d+)(?:-(\d+))?$")


def start_time(pid: int) -> str | None:
    """The start time of `pid` as /proc records it; None when it is not running (a zombie counts
    as gone) or there is no /proc."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may hold spaces or ')': split after the last
    fields = raw[raw.rfind(")") + 2:].split()
    if len(fields) < 20 or fields[0] in ("Z", "X"):   # fields[0] is field 3 (state); 22 is fields[19]
        return None
    return fields[19]


def _has_proc() -> bool:
    return Path("/proc/self/stat").is_file()


def owner_token(pid: int | None = None) -> str:
    """``PID-STARTTIME`` of `pid` (default: this process), or ``PID`` without /proc."""
    pid = os.getpid() if pid is None else pid
    start = start_time(pid) if _has_proc() else None
    return f"{pid}-{start}" if start is not None else str(pid)


def parse_token(token: str) -> tuple[int, str | None] | None:
    """(pid, start time or None) of an owner token; None when `token` is not one."""
    m = _TOKEN_RE.match(token)
    return (int(m.group(1)), m.group(2)) if m else None


def is_alive(pid: int, start: str | None = None) -> bool:
    """Whether process `pid` runs and, when `start` is given (and /proc exists), is the same
    process that recorded it (pids are reused)."""
    if pid <= 0:
        return False
    if _has_proc():
        now = start_time(pid)
        return now is not None and (start is None or now == start)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:       # it exists, owned by someone else
        return True
    return True


def token_alive(token: str) -> bool:
    """Whether the owner named by `token` still runs; a malformed token counts as alive (never
    delete what we cannot attribute)."""
    parsed = parse_token(token)
    return True if parsed is None else is_alive(*parsed)


def remove_dead_owners(parent: Path, prefix: str) -> list[Path]:
    """Remove the entries `parent/PREFIX<token>` whose owner process is gone; live owners' and
    entries with anything but a token after the prefix are kept. Returns what was removed."""
    removed = []
    if not parent.is_dir():
        return removed
    for path in sorted(parent.glob(f"{glob.escape(prefix)}*")):
        token = path.name[len(prefix):]
        if parse_token(token) is None or token_alive(token):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed



@contextmanager
def exclusive_lock(lock_file: Path, what: str) -> Iterator[None]:
    """Hold an exclusive, non-blocking flock on `lock_file` (created if needed) for the block.

    A second holder gets a ConfigError naming `what`, the folder and the holder's pid (written
    into the file), instead of racing the first over the same files. The file is left in place:
    deleting it would let a third process lock a different inode.
    """
    import fcntl

    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            raise ConfigError(f"{what} is locked by pid {holder}, a process that is still running: wait for it to "
                              "finish or stop it, then run again", file=lock_file.parent) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)     # closing the descriptor releases the lock
