"""The paper's final step ("only direct answers are used to produce the final model"), turned on by
`store.final_exclude_rationalized: true`: after the last cycle, publish tag `final` holding only
that cycle's direct answers (origin `generated`), train the final model on exactly those rows from
the pre-trained checkpoint into `run_dir/final/checkpoint`, evaluate it, and return the record
the runner writes to stats.json under "final".

Every stage leaves a marker in run_dir/final/, so a killed run resumes here like a cycle does.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ..generation.attempts import RETIRED_DIR, SKIPPED_DIR, iter_file
from ..jsonl import atomic_writer, dumps

TAG = "final"


def direct_rows(gen_dir: Path, out: Path) -> int:
    """Copy the attempt files under `gen_dir` keeping only direct answers (origin generated), with
    the same folder layout (so training and publishing read the same rows). Returns rows kept."""
    if (out / ".done").exists():
        return int((out / ".done").read_text())
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    kept = 0
    for path in sorted(gen_dir.rglob("attempts/*.jsonl")):
        rel = path.relative_to(gen_dir)
        if RETIRED_DIR in rel.parts or SKIPPED_DIR in rel.parts:
            continue
        rows = [row for _, row in iter_file(path) if row.get("origin") == "generated"]
        kept += sum(bool(r.get("accepted")) for r in rows)
        with atomic_writer(tmp / rel) as fh:
            fh.writelines(dumps(r) + "\n" for r in rows)
    (tmp / ".done").parent.mkdir(parents=True, exist_ok=True)
    (tmp / ".done").write_text(str(kept))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return kept


def final_release(runner: Any, last_cycle: int) -> dict[str, Any]:
    """Publish tag `final`, train, evaluate (with the cycle runner's stages); returns stats.json's
    "final" record."""
    from ..dataset.store import publish

    fdir = runner.run_dir / "final"
    done = fdir / "stats.json"
    if done.exists():
        return json.loads(done.read_text("utf-8"))
    rows_dir = fdir / "generate"
    kept = direct_rows(runner.run_dir / f"cycle-{last_cycle}" / "generate", rows_dir)
    entry: dict[str, Any] = {"from_cycle": last_cycle, "rows": kept, "origin": "generated"}
    marker = fdir / "published.json"
    if marker.exists():
        entry["publish"] = json.loads(marker.read_text("utf-8"))
    elif kept:
        extras = {"run.yaml": (runner.run_dir / "run.yaml").read_bytes(),
                  "stats.json": json.dumps({"cycles": runner.stats}, indent=2, default=str).encode(),
                  **runner.eval_samples()}
        result = publish(rows_dir, runner.rc.store["path"], tag=TAG,
                         message=f"final: direct answers of cycle {last_cycle} (no rationalized rows)",
                         hub_repo=runner.rc.store.get("hub_repo"), force=True, extra_files=extras,
                         stats_for_plot=runner.stats)
        entry["publish"] = result.to_dict()
    else:
        entry["publish"] = {"tag": None, "skipped": f"cycle {last_cycle} has no accepted direct answers"}
    if not marker.exists():
        with atomic_writer(marker) as fh:
            json.dump(entry["publish"], fh, indent=2, default=str)
    published = f"published tag {TAG}" if entry["publish"].get("tag") else "no direct answers to publish"
    runner.echo(f"final: {kept} direct answers of cycle {last_cycle}; {published}; training from "
                f"{runner.rc.pretrained}")
    data = runner.training_rows(rows_dir, fdir / "train.json")
    entry.update(runner.train_on(data, fdir / "checkpoint", "the final release"))
    entry["eval"] = runner.evaluate(last_cycle, entry["checkpoint"], "eval", cdir=fdir)
    acc = (entry["eval"] or {}).get("accuracy")
    runner.echo(f"final: train loss {entry['train_loss']}, held-out accuracy "
                f"{'n/a' if acc is None else f'{acc:.1%}'}; checkpoint {entry['checkpoint']}")
    with atomic_writer(done) as fh:
        json.dump(entry, fh, indent=2, default=str)
    return entry
