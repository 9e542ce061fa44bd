"""General instruction data mixed into every cycle's training set (`training.mix` of a run config).

Video-STaR never trains on its own rows alone: each cycle's rows are mixed with Video-LLaVA's
instruction data (VideoInstruct-100K videos, LLaVA-v1.5's 665K image and text rows) so that the
model keeps following instructions. A mix source is a LLaVA-format JSON / JSONL file or a local
Hugging Face dataset folder with the same columns (`conversations`, `video` or `image`, `id`),
its media paths relative to `media_root`. Each source gives `rows` (a count) or `share` (a
fraction of the cycle's own training rows); the draw is a seeded permutation of the source, so it
changes from cycle to cycle (seed + cycle) and repeats exactly on a re-run. Drawn rows that are
malformed or whose media is missing or escapes `media_root` are counted skips, and the next row in
the permutation takes their place; a source with too few usable rows gives what it has, counted
as `short`.
"""
from __future__ import annotations

import logging
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, SkipRecord
from .data import check_row, row_media
from .rowfile import SUFFIXES, RowFile

log = logging.getLogger(__name__)
MIX_KEY = "mix"                # the `training:` key; the run, not the trainer, handles it
ITEM_KEYS = ("path", "media_root", "name", "share", "rows", "split")
LLAVA_ROLES = {"user": "human", "assistant": "gpt", "system": "system"}


@dataclass(frozen=True)
class MixSource:
    """One `training.mix` entry, validated; `name` defaults to the file's stem."""

    name: str
    path: str
    media_root: str
    share: float | None = None
    rows: int | None = None
    split: str = "train"

    def wanted(self, own_rows: int) -> int:
        """Rows to draw for a cycle with `own_rows` training rows of its own."""
        return self.rows if self.rows is not None else round(self.share * own_rows)

    def describe(self) -> str:
        return f"rows {self.rows}" if self.rows is not None else f"share {self.share:g}"


def mix_problems(mix: Any, *, prefix: str = "training/mix") -> list[str]:
    """Every problem of a `training.mix` value at once (located by key), [] when it is valid."""
    if mix is None:
        return []
    if not isinstance(mix, list):
        return [f"{prefix}: a list of sources ({{path, media_root, share | rows}}), got {mix!r:.60}"]
    problems: list[str] = []
    names: Counter = Counter()
    for i, item in enumerate(mix):
        at = f"{prefix}/{i}"
        if not isinstance(item, dict):
            problems.append(f"{at}: a mapping {{path, media_root, share | rows}}, got {item!r:.60}")
            continue
        problems += [f"{at}/{k}: unknown key; known: {', '.join(ITEM_KEYS)}" for k in item if k not in ITEM_KEYS]
        path = item.get("path")
        if not isinstance(path, str) or not path:
            problems.append(f"{at}/path: required (a LLaVA .json/.jsonl file or a dataset folder)")
        elif not Path(path).exists():
            problems.append(f"{at}/path: {path} does not exist")
        elif Path(path).is_file() and Path(path).suffix not in SUFFIXES:
            problems.append(f"{at}/path: {path} is not a .json/.jsonl file or a dataset folder")
        root = item.get("media_root")
        if root is not None and (not isinstance(root, str) or not Path(root).is_dir()):
            problems.append(f"{at}/media_root: {root!r} is not a directory")
        if ("share" in item) == ("rows" in item):
            problems.append(f"{at}: give exactly one of `share` (a fraction of the cycle's rows) or `rows` "
                            "(a count)")
        share, rows = item.get("share"), item.get("rows")
        if "share" in item and (isinstance(share, bool) or not isinstance(share, (int, float)) or share <= 0):
            problems.append(f"{at}/share: a number > 0, got {share!r}")
        if "rows" in item and (isinstance(rows, bool) or not isinstance(rows, int) or rows < 1):
            problems.append(f"{at}/rows: an integer >= 1, got {rows!r}")
        if not isinstance(item.get("split", "train"), str):
            problems.append(f"{at}/split: a split name, got {item['split']!r}")
        name = item.get("name", Path(path).stem if isinstance(path, str) and path else None)
        if name is not None and (not isinstance(name, str) or not name or "/" in name):
            problems.append(f"{at}/name: a non-empty name without '/', got {name!r}")
        elif name is not None:
            names[name] += 1
    problems += [f"{prefix}: two sources are named {n!r}; set `name` to tell them apart"
                 for n, c in sorted(names.items()) if c > 1]
    return problems


def configured_mix(settings: dict[str, Any] | None) -> list[MixSource]:
    """The mix sources a run's `training:` settings configure ([] for none). Public so other
    training methods can tell whether a mix is configured (and say what they leave out)."""
    mix = (settings or {}).get(MIX_KEY)
    problems = mix_problems(mix)
    if problems:
        raise ConfigError("invalid training.mix", problems=problems)
    sources = []
    for item in mix or []:
        path = Path(item["path"])
        sources.append(MixSource(
            name=item.get("name") or path.stem, path=str(path),
            media_root=str(item.get("media_root") or (path if path.is_dir() else path.parent)),
            share=float(item["share"]) if "share" in item else None, rows=item.get("rows"),
            split=item.get("split", "train")))
    return sources


@dataclass
class MixDraw:
    """The drawn rows (LLaVA rows, absolute media paths, ids `mix/<name>/<row id>`) and counts per
    source: rows mixed, rows asked for, rows short of that, drawn rows skipped by reason."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    wanted: dict[str, int] = field(default_factory=dict)
    short: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, dict[str, int]] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the console: `name rows of wanted (short, skipped)` per source."""
        parts = []
        for name, rows in self.counts.items():
            notes = [f"{self.short[name]} short"] if self.short[name] else []
            notes += [f"{sum(self.skipped[name].values())} skipped"] if self.skipped[name] else []
            parts.append(f"{name} {rows} of {self.wanted[name]}" + (f" ({', '.join(notes)})" if notes else ""))
        return ", ".join(parts)

    def record(self) -> dict[str, Any]:
        """The keys a cycle's stats.json entry carries."""
        return {"mix": dict(self.counts), "mix_wanted": dict(self.wanted), "mix_short": dict(self.short),
                "mix_skipped": {k: dict(v) for k, v in self.skipped.items()}}


def _training_row(src: MixSource, row: dict[str, Any]) -> dict[str, Any]:
    """A checked row as the trainer reads it: every turn kept, roles as LLaVA writes them."""
    out: dict[str, Any] = {"id": f"mix/{src.name}/{row['id']}",
                           "conversations": [{"from": LLAVA_ROLES[t["from"]], "value": t["value"]}
                                             for t in row["conversations"]]}
    if row["media"]:
        out[row["media"]] = row["path"]
    if row["media"] == "video" and (row["clip_start"] is not None or row["clip_end"] is not None):
        out.update(clip_start=row["clip_start"], clip_end=row["clip_end"])
    return out


def _draw_one(src: MixSource, k: int, seed: int) -> tuple[list[dict[str, Any]], Counter, int]:
    """Up to `k` usable rows of `src` in a seeded random order; (rows, skips by reason, source size)."""
    rows: list[dict[str, Any]] = []
    skipped: Counter = Counter()
    examples: dict[str, str] = {}
    with RowFile(src.path, split=src.split) as table:
        order = list(range(len(table)))
        random.Random(f"{seed}:{src.name}").shuffle(order)
        for i in order:
            if len(rows) >= k:
                break
            try:
                raw = table[i]
                kind, media = row_media(raw, i, str(raw.get("id", i))) if isinstance(raw, dict) else (None, None)
                if media is not None and Path(media).is_absolute():   # data may not leave media_root
                    raise SkipRecord("unsafe_path", f"absolute {kind} path {media!r}", row=i)
                rows.append(_training_row(src, check_row(raw, i, src.media_root)))
            except SkipRecord as skip:
                skipped[skip.reason] += 1
                examples.setdefault(skip.reason, f"row {i}: {skip.detail}")
        size = len(table)
    if skipped:
        log.warning("mix source %s (%s): skipped %d drawn rows: %s", src.name, src.path, sum(skipped.values()),
                    "; ".join(f"{r} x{n} (e.g. {examples[r]})" for r, n in sorted(skipped.items())))
    return rows, skipped, size


def draw_mix(sources: list[MixSource], own_rows: int, seed: int) -> MixDraw:
    """Rows of every source for a cycle with `own_rows` rows of its own; `seed` = run seed + cycle.
    A cycle with no rows of its own mixes nothing: the mix goes beside its rows, not instead."""
    draw = MixDraw()
    for src in sources:
        k = src.wanted(own_rows) if own_rows else 0
        rows, skipped, size = _draw_one(src, k, seed) if k else ([], Counter(), 0)
        draw.rows += rows
        draw.counts[src.name], draw.wanted[src.name] = len(rows), k
        draw.short[src.name] = k - len(rows)
        draw.skipped[src.name] = dict(sorted(skipped.items()))
        if len(rows) < k:
            log.warning("mix source %s (%s): %s asks for %d rows, but it has only %d usable of %d; "
                        "mixing %d", src.name, src.path, src.describe(), k, len(rows), size, len(rows))
    return draw
