"""Attempt rows as the generation step writes them, built in tests until generation lands.

`attempt_row(...)` makes one valid row; `make_attempts(...)` a realistic mix (rejected generated
attempts followed by rationalized ones, several sources and splits); `write_rows_dir` writes JSONL
shards (in subfolders, as generation does per worker).
"""
from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Iterable

SOURCES = {
    "kinetics700": ("action_recognition", ("train", "validate")),
    "finediving": ("dive_scoring", ("train", "test")),
    "tal": ("temporal_localization", ("validation", "test")),
}


def labels_for(source: str, i: int) -> list[dict[str, Any]]:
    if source == "kinetics700":
        return [{"type": "category", "name": "action", "value": f"action {i % 7}", "synonyms": [f"act {i % 7}"]}]
    if source == "finediving":
        return [{"type": "number", "name": "dive_score", "value": 50.0 + i % 40, "abs_tol": 1.5, "unit": "points"},
                {"type": "sequence", "name": "sub_actions", "value": ["Forward", "3.5 Soms.Tuck", "Entry"]}]
    return [{"type": "interval", "name": "segment", "start": float(i % 9), "end": float(i % 9) + 2.5, "min_iou": 0.5},
            {"type": "category", "name": "action", "value": "Billiards"}]


def attempt_row(i: int = 0, *, source: str = "kinetics700", split: str | None = None, cycle: int = 1,
                origin: str = "generated", accepted: bool = True, answer: str | None = None,
                attempt: int = 0, **overrides: Any) -> dict[str, Any]:
    task, splits = SOURCES[source]
    labels = labels_for(source, i)
    row = {
        "id": f"{source}/{i:06d}", "source": source, "task": task, "split": split or splits[i % 2],
        "video": f"{source}/videos/{i:06d}.mp4", "clip_start": None if source != "tal" else 1.0,
        "clip_end": None if source != "tal" else 31.0, "labels": labels,
        "question": f"What happens in clip {i}?", "template_id": f"{task}@1",
        "prompt": f"USER: <video>\nWhat happens in clip {i}? ASSISTANT:",
        "answer": answer if answer is not None else f"Answer {i} (cycle {cycle}, {origin}): " + "the person " * 5,
        "origin": origin, "accepted": accepted, "verifier_profile": "strict",
        "verifier_scores": [{"name": s["name"], "type": s["type"], "passed": accepted, "score": 0.9 if accepted else 0.1,
                             "span": [0, 5] if accepted else None, "matched": "Answer" if accepted else None,
                             "reason": None if accepted else "not_found"} for s in labels],
        "model": "template", "model_revision": "rev-a", "cycle": cycle, "frame_indices": [0, 8, 16, 24],
        "timing": {"generate_s": 0.01}, "attempt": attempt,
    }
    row.update(overrides)
    return row


def make_attempts(n: int, *, cycle: int = 1, sources: Iterable[str] = tuple(SOURCES), seed: int = 0,
                  reject_every: int = 3, tag: str = "") -> list[dict[str, Any]]:
    """n samples per source; every `reject_every`-th generated attempt fails and is rationalized
    (accepted unless it is also a multiple of 2*reject_every, then the sample has no accepted row)."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for source in sources:
        for i in range(n):
            text = f"{tag}answer {source} {i} c{cycle} " + "x" * rng.randint(5, 40)
            if i % reject_every:
                rows.append(attempt_row(i, source=source, cycle=cycle, answer=text))
                continue
            rows.append(attempt_row(i, source=source, cycle=cycle, accepted=False, answer="wrong " + text))
            rows.append(attempt_row(i, source=source, cycle=cycle, origin="rationalized", attempt=1,
                                    accepted=i % (2 * reject_every) != 0, answer="hinted " + text))
    return rows


def write_rows_dir(path: Path, rows: list[dict[str, Any]], shards: int = 2) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for k in range(shards):
        sub = path / f"worker-{k}"
        sub.mkdir(exist_ok=True)
        with (sub / f"attempts-{k:05d}.jsonl").open("w", encoding="utf-8") as fh:
            for row in rows[k::shards]:
                fh.write(json.dumps(row) + "\n")
    return path


def published(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The rows a publish must keep: the accepted attempt of each sample id."""
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["accepted"]:
            out[row["id"]] = row
    return out
