"""DataLoader workers start from a fork server, so a lock another thread of the trainer holds at
start-up cannot hang them (CI once saw `vstar-data train --workers 2` wait 15 minutes that way)."""
from __future__ import annotations

import threading
import time

import pytest
import torch

from vstar_data.training.recipe import worker_start_method

LOCK = threading.Lock()   # stands for any lock a library thread may hold when the workers start


class NeedsTheLock(torch.utils.data.Dataset):
    def __len__(self) -> int:
        return 4

    def __getitem__(self, idx: int) -> int:
        with LOCK:
            return idx


def _hold_lock_while(start_workers, seconds: float = 3.0):
    held = threading.Event()

    def hold() -> None:
        with LOCK:
            held.set()
            time.sleep(seconds)

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    held.wait()
    try:
        return start_workers()
    finally:
        thread.join()


def _load(context: str | None) -> list[int]:
    loader = torch.utils.data.DataLoader(NeedsTheLock(), batch_size=2, num_workers=2,
                                         multiprocessing_context=context, timeout=20)
    return [int(x) for batch in loader for x in batch]


def test_workers_start_clean_while_another_thread_holds_a_lock():
    context = worker_start_method(2)
    assert context in ("forkserver", "spawn")
    assert sorted(_hold_lock_while(lambda: _load(context))) == [0, 1, 2, 3]


def test_a_plain_fork_would_hang_on_the_same_lock():
    """The failure the start method avoids: a forked worker inherits the held lock and waits."""
    with pytest.raises(RuntimeError, match="timed out"):
        _hold_lock_while(lambda: torch.utils.data.DataLoader(
            NeedsTheLock(), batch_size=2, num_workers=1, multiprocessing_context="fork", timeout=3).__iter__().__next__())


def test_no_workers_no_context():
    assert worker_start_method(0) is None
