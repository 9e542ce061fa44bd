"""Random access to the rows of a training-data file without holding them: a LLaVA JSON list, a
JSONL file, or a Hugging Face dataset folder.

Instruction-data files are large (LLaVA-v1.5's 665K rows are ~1 GB of JSON), and a mix draws a
few thousand of them per cycle. A JSON list is scanned once, element by element (the file is
decoded as Latin-1 so that character offsets are byte offsets; JSON's structure is ASCII), and only
each row's byte span is kept (16 bytes a row); a row is read back by seeking to it. A JSONL file
keeps its line offsets; a dataset folder is Arrow-backed and memory-mapped by `datasets`.
"""
from __future__ import annotations

import json
import re
from array import array
from pathlib import Path
from typing import Any

from ..errors import ConfigError, SkipRecord

CHUNK = 1 << 22          # characters read per step of the JSON-list scan
_SPACE = re.compile(r"[ \t\n\r]*")
SUFFIXES = (".json", ".jsonl")


def _json_list_spans(path: Path) -> tuple[array, array]:
    """Byte (start, end) of every element of the JSON list in `path`; one pass, one chunk held."""
    decoder = json.JSONDecoder()
    starts, ends = array("q"), array("q")
    with path.open("r", encoding="latin-1", newline="") as fh:
        buf, base, pos, eof, state = "", 0, 0, False, "open"   # open -> value|close -> comma|close

        def more() -> bool:
            """Drop what is parsed, read on: a chunk, or twice the unfinished row if it is longer."""
            nonlocal buf, base, pos, eof
            if eof:
                return False
            buf, base, pos = buf[pos:], base + pos, 0
            data = fh.read(max(CHUNK, 2 * len(buf)))
            eof = not data
            buf += data
            return bool(data)

        while True:
            pos = _SPACE.match(buf, pos).end()
            if pos >= len(buf):
                if more():
                    continue
                raise ConfigError("the JSON list ends before its closing ']'", file=path)
            c = buf[pos]
            if state == "open":
                if c != "[":
                    raise ConfigError("a LLaVA JSON file is a list of rows (it does not start with '[')",
                                      file=path)
                pos, state = pos + 1, "first"
            elif c == "]" and state in ("first", "after"):
                return starts, ends
            elif state == "after":
                if c != ",":
                    raise ConfigError(f"expected ',' or ']' after row {len(starts) - 1} "
                                      f"(byte {base + pos})", file=path)
                pos, state = pos + 1, "value"
            else:
                try:
                    _, end = decoder.raw_decode(buf, pos)
                except json.JSONDecodeError as exc:
                    cut = exc.pos >= len(buf) - 16 or exc.msg.startswith("Unterminated string")
                    if cut and more():                      # the row is cut by the chunk: read on
                        continue
                    raise ConfigError(f"row {len(starts)} is not valid JSON: {exc.msg} (byte "
                                      f"{base + exc.pos})", file=path) from exc
                if end == len(buf) and more():              # a bare number may go on in the next chunk
                    continue
                starts.append(base + pos)
                ends.append(base + end)
                pos, state = end, "after"


def _jsonl_spans(path: Path) -> tuple[array, array]:
    starts, ends = array("q"), array("q")
    offset = 0
    with path.open("rb") as fh:
        for line in fh:
            if line.strip():
                starts.append(offset)
                ends.append(offset + len(line))
            offset += len(line)
    return starts, ends


class RowFile:
    """The rows of one file or dataset folder by index: `len(rf)`, `rf[i]` (the raw row; a row
    that is not valid JSON raises SkipRecord('malformed_row')). Use as a context manager."""

    def __init__(self, path: str | Path, *, split: str = "train") -> None:
        self.path = Path(path)
        self._fh: Any = None
        self._ds: Any = None
        if self.path.is_dir():
            import datasets

            try:
                self._ds = datasets.load_dataset(str(self.path), split=split)
            except ValueError as exc:      # an unknown split: the message lists the ones there are
                raise ConfigError(f"cannot load split {split!r}: {exc}", file=self.path) from exc
            self.starts = self.ends = array("q")
        elif self.path.is_file() and self.path.suffix in SUFFIXES:
            scan = _json_list_spans if self.path.suffix == ".json" else _jsonl_spans
            self.starts, self.ends = scan(self.path)
        else:
            raise ConfigError("training data must be a LLaVA .json/.jsonl file or a dataset folder",
                              file=self.path)

    def __len__(self) -> int:
        return len(self._ds) if self._ds is not None else len(self.starts)

    def __getitem__(self, i: int) -> Any:
        if self._ds is not None:
            return self._ds[i]
        if self._fh is None:
            self._fh = self.path.open("rb")
        self._fh.seek(self.starts[i])
        data = self._fh.read(self.ends[i] - self.starts[i])
        try:
            return json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SkipRecord("malformed_row", f"not valid JSON: {exc}", file=self.path, row=i) from exc

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> "RowFile":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
