"""The run's prompted samples on disk, read back a block at a time.

Planning used to hold every `PromptedSample` of a run in a list: ~2 KB each, so a 1M-sample run
needed ~2 GB before the first clip was decoded. `SpilledSamples` takes the samples as the adapter
yields them, pickles them in blocks of `block` samples to an unnamed temporary file (zlib level 1:
a block of similar samples shrinks ~5x) and keeps only the blocks' offsets; indexing loads the
block it falls in and keeps the last `cached` blocks. Engines walk the samples chunk by chunk in
run order, so each block is read about once and memory stays O(block), whatever N is.
"""
from __future__ import annotations

import pickle
import tempfile
import threading
import zlib
from collections import OrderedDict
from typing import Any, Iterable, Iterator, Sequence, overload

BLOCK = 1024       # samples per pickled block
CACHED = 4         # blocks kept in memory (an engine reads one chunk ahead of the one it runs)


class SpilledSamples(Sequence[Any]):
    """A read-only sequence of samples, stored in pickled blocks in a temporary file. Fill it with
    `extend` (consumes any iterable lazily: the samples of one block are in memory at a time),
    then index, slice and iterate it like a list. Thread-safe reads."""

    def __init__(self, items: Iterable[Any] = (), *, block: int | None = None, cached: int | None = None) -> None:
        block = BLOCK if block is None else block
        cached = CACHED if cached is None else cached
        if block < 1 or cached < 1:
            raise ValueError("block and cached must be >= 1")
        self.block = block
        self.cached = cached
        self._file = tempfile.TemporaryFile(prefix="vstar-samples-")
        self._spans: list[tuple[int, int]] = []       # (offset, length) of each written block
        self._pending: list[Any] = []                 # the last, unwritten block
        self._cache: OrderedDict[int, list[Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.blocks_read = 0                          # blocks loaded from disk (tests, benchmarks)
        self.extend(items)

    def extend(self, items: Iterable[Any]) -> None:
        """Append `items`, writing every full block out as it fills."""
        with self._lock:
            for item in items:
                self._pending.append(item)
                if len(self._pending) == self.block:
                    self._write(self._pending)
                    self._pending = []

    def _write(self, block: list[Any]) -> None:
        data = zlib.compress(pickle.dumps(block, protocol=pickle.HIGHEST_PROTOCOL), 1)
        self._file.seek(0, 2)
        self._spans.append((self._file.tell(), len(data)))
        self._file.write(data)

    def _block(self, b: int) -> list[Any]:
        if b == len(self._spans):
            return self._pending
        got = self._cache.get(b)
        if got is not None:
            self._cache.move_to_end(b)
            return got
        offset, length = self._spans[b]
        self._file.seek(offset)
        got = pickle.loads(zlib.decompress(self._file.read(length)))
        self.blocks_read += 1
        self._cache[b] = got
        while len(self._cache) > self.cached:
            self._cache.popitem(last=False)
        return got

    def __len__(self) -> int:
        return len(self._spans) * self.block + len(self._pending)

    @overload
    def __getitem__(self, i: int) -> Any: ...

    @overload
    def __getitem__(self, i: slice) -> list[Any]: ...

    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"sample index {i} out of range ({n} samples)")
        with self._lock:
            return self._block(i // self.block)[i % self.block]

    def __iter__(self) -> Iterator[Any]:
        for b in range(len(self._spans) + 1):
            with self._lock:
                items = list(self._block(b)) if b < len(self._spans) else list(self._pending)
            yield from items

    def close(self) -> None:
        """Delete the file now (it also goes when the object is collected or the process exits)."""
        self._file.close()
        self._cache.clear()

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("SpilledSamples lives in a local temporary file; pass samples, not the sequence")
