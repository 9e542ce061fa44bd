"""Re-verification of a release (`vstar-data reverify`): today's verifier over published answers.

The verifier tightens over time (hedges, listed alternatives, hint echoes); a release published
under an older one still holds answers that today's would reject. This re-checks every answer
against its labels (no model: the answer is in the row), drops the rejected samples with all
their row variants, records each with its reason and failed clause in `reverify/<NEW>.jsonl`, and
publishes the rest as a new tag. Kept rows keep answer, labels and origin; their
`verifier_profile` / `verifier_scores` become today's. Configs not re-verified keep their shards
byte for byte (same names). The new tag goes through the store's journal (`Store.apply`), so a
crash leaves the store at the old release or the new one, never a mix.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..errors import ConfigError, VstarError
from .card import DEFAULT_CONFIG, EVAL_CONFIG, PLOT_PATH, split_counts
from .gitstore import MARKER, Store, check_tag
from .onto import HISTORY, history_entry, write_history
from .rows import features, score_to_struct, struct_to_label
from .validate import card_layout
from .writer import COUNT_COLUMNS, Manifest, SplitFiles

SIDECAR_DIR = "reverify"
# Which row carries a sample's original answer: the `original` row, else the chain-of-thought
# variant (the question plus a request, and the accepted answer verbatim). `direct` / `mc` rows
# state the label, not the model's answer: a sample published only as those is kept unchecked.
_ANSWER_VARIANTS = ("original", "cot")


@dataclass
class ReverifyResult:
    """What one re-verification did."""

    tag: str
    commit: str
    from_tag: str
    profile: str
    checked: int = 0                                   # samples re-verified
    rejected: Counter = field(default_factory=Counter)  # reason -> samples removed
    rows_removed: int = 0                              # rows (all variants) removed
    unchecked: int = 0                                 # samples with no answer row (direct / mc only)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    sidecar: str = ""
    already_published: bool = False


def failed_clause(answer: str, verdict: Any) -> tuple[str | None, str | None]:
    """(label name, clause) of the first failing label, as `vstar-data verify --explain` prints it."""
    if verdict.reason == "hint_echo" and verdict.echo:
        return None, verdict.echo
    for r in verdict.results:
        if not r.passed:
            return r.name, r.extra.get("clause") or (answer if r.reason in ("not_found", "empty_answer") else r.matched)
    return None, None


def reverify(store: str | Path, from_tag: str, tag: str, message: str, *, profile: str | Path = "default",
             vocabulary: Sequence[str] | None = None, config: str | None = None,
             force: bool = False) -> ReverifyResult:
    """Re-verify release `from_tag` of `store` into release `tag` (see the module docstring).
    `vocabulary` needs `config` (one source's class list); without it each label uses the
    vocabulary its spec carries, if any."""
    from .store import _existing_release, _staging_dir, apply_staged

    check_tag(tag)
    if not message.strip():
        raise VstarError("a release needs a message (-m)", key="message")
    if vocabulary is not None and config is None:
        raise ConfigError("--vocabulary is one source's class list: name that source with --config", key="--vocabulary")
    st = Store.open(store, create=False)
    commit = st.resolve(f"refs/tags/{from_tag}")
    if commit is None:
        raise VstarError(f"no release tagged {from_tag!r}; known: {', '.join(st.tags()) or 'none'}", file=st.path)
    from ..verify.verifier import Verifier

    verifier = Verifier(profile, vocabulary=list(vocabulary) if vocabulary is not None else None)
    fp = hashlib.sha256(json.dumps({"reverify": commit, "profile": str(profile), "config": config,
                                    "vocabulary": list(vocabulary or [])}).encode()).hexdigest()
    with st.lock():
        st.recover()
        done = _existing_release(st, tag, fp, force)
    if done is not None:
        return ReverifyResult(tag, done.commit, from_tag, verifier.profile.name, counts=done.counts,
                              sidecar=f"{SIDECAR_DIR}/{tag}.jsonl", already_published=True)
    result = ReverifyResult(tag, "", from_tag, verifier.profile.name, sidecar=f"{SIDECAR_DIR}/{tag}.jsonl")
    with _staging_dir(st.path) as staging, tempfile.TemporaryDirectory(prefix="vstar-reverify-") as tmp:
        src = st.checkout(from_tag, Path(tmp) / "release")
        files, _ = card_layout((src / "README.md").read_text("utf-8"))
        sources = {c: s for c, s in files.items() if c not in (DEFAULT_CONFIG, EVAL_CONFIG)}
        if config is not None and config not in sources:
            raise ConfigError(f"release {from_tag!r} has no config {config!r}; configs: {', '.join(sorted(sources))}",
                              key="--config")
        man = Manifest()
        removed: list[dict[str, Any]] = []
        for name, splits in sorted(sources.items()):
            todo = config is None or name == config
            verdicts = _verdicts(src, splits, verifier, result, removed, name) if todo else None
            for split, shards in splits.items():
                _write_split(src, staging, name, split, shards, verdicts, man, result)
        keep = {rel for rel in st.release_files(commit)
                if rel not in ("README.md", MARKER, PLOT_PATH, HISTORY) and not rel.startswith("data/")}
        for rel in keep:
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src / rel, staging / rel)
        sidecar = staging / result.sidecar
        sidecar.parent.mkdir(parents=True, exist_ok=True)
        with sidecar.open("w", encoding="utf-8") as fh:
            for row in removed:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        history = _history(src, man, tag, {c for c in sources if config is None or c == config})
        write_history(staging, history)
        _write_card(staging, man, tag, message, st.path.name, src, sorted(f for s in files.get(EVAL_CONFIG, {}).values()
                                                                           for f in s), history)
        result.counts = split_counts(man)
        with st.lock():
            st.recover()
            done = _existing_release(st, tag, fp, force)
            if done is None:
                _, result.commit = apply_staged(st, staging, tag, message, fp, force)
            else:
                result.commit, result.already_published = done.commit, True
    return result


def _verdicts(src: Path, splits: dict[str, list[str]], verifier: Any, result: ReverifyResult,
              removed: list[dict[str, Any]], config: str) -> dict[str, list[dict[str, Any]] | None]:
    """id -> today's score structs (kept) or None (rejected), for every sample with an answer row."""
    import pyarrow.parquet as pq

    cols = ["id", "split", "variant", "labels", "conversations", "origin"]
    out: dict[str, list[dict[str, Any]] | None] = {}
    for shards in splits.values():
        for shard in shards:
            for batch in pq.ParquetFile(src / shard).iter_batches(columns=cols, batch_size=10_000):
                rows = [r for r in batch.to_pylist() if (r["variant"] or "original") in _ANSWER_VARIANTS]
                # original first, so a sample with both is judged by its original answer
                rows.sort(key=lambda r: r["variant"] != "original")
                for r in rows:
                    if r["id"] in out:
                        continue
                    labels = [struct_to_label(s) for s in r["labels"]]
                    answer = r["conversations"][-1]["value"]
                    verdict = verifier.verify(labels, answer, r["origin"])
                    result.checked += 1
                    if verdict.accepted:
                        out[r["id"]] = [score_to_struct(x.to_dict()) for x in verdict.results]
                        continue
                    out[r["id"]] = None
                    label, clause = failed_clause(answer, verdict)
                    result.rejected[verdict.reason or "failed"] += 1
                    removed.append({"id": r["id"], "config": config, "split": r["split"],
                                    "reason": verdict.reason or "failed", "label": label, "clause": clause,
                                    "answer": answer, "profile": verdict.profile})
    return out


def _write_split(src: Path, staging: Path, config: str, split: str, shards: list[str],
                 verdicts: dict[str, Any] | None, man: Manifest, result: ReverifyResult) -> None:
    """The split's shards into `staging`: copied as they are (config not re-verified), or
    rewritten without rejected samples and with today's scores; counted into `man`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = features().arrow_schema
    info = man.configs.setdefault(config, {}).setdefault(split, SplitFiles())
    counted: set[str] = set()
    unchecked: set[str] = set()
    written: list[tuple[Path, int, int]] = []
    for shard in shards:
        table = pq.read_table(src / shard)
        if verdicts is None:
            dst = staging / shard
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src / shard, dst)
            info.files.append(shard)
            info.num_examples += table.num_rows
            info.num_bytes += table.nbytes
            info.download_size += dst.stat().st_size
        else:
            rows = []
            for row in table.to_pylist():
                v = verdicts.get(row["id"], False)
                if v is None:
                    result.rows_removed += 1
                    continue
                if v is False:
                    unchecked.add(row["id"])
                else:
                    row["verifier_profile"] = result.profile
                    row["verifier_scores"] = v
                rows.append(row)
            table = pa.Table.from_pylist(rows, schema=schema)
            if table.num_rows:
                tmp = staging / "data" / config / f".{split}-{len(written):05d}.tmp"
                tmp.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(table, tmp, compression="zstd", row_group_size=10_000)
                written.append((tmp, table.num_rows, table.nbytes))
        for row in table.select(["id", *COUNT_COLUMNS]).to_pylist():
            if row["id"] not in counted:   # one count per answer, as publish counts
                counted.add(row["id"])
                man.counts[tuple(row[c] for c in COUNT_COLUMNS)] += 1
    result.unchecked += len(unchecked)
    for i, (tmp, n, nbytes) in enumerate(written):
        sha = hashlib.sha256(tmp.read_bytes()).hexdigest()
        rel = f"data/{config}/{split}-{i:05d}-of-{len(written):05d}-{sha[:16]}.parquet"
        os.replace(tmp, staging / rel)
        info.files.append(rel)
        info.num_examples += n
        info.num_bytes += nbytes
        info.download_size += (staging / rel).stat().st_size
    if not info.files:
        del man.configs[config][split]
        if not man.configs[config]:
            del man.configs[config]


def _history(src: Path, man: Manifest, tag: str, reverified: set[str]) -> dict[str, Any]:
    """history.json of the new release: a re-verified source's entry now names this tag (and its
    rows and today's verifier profile); the others keep the base's entry (None where the base, made
    before releases kept a history, has none)."""
    path = src / HISTORY
    base = (json.loads(path.read_text("utf-8")).get("sources") or {}) if path.is_file() else {}
    out: dict[str, Any] = {}
    for c in sorted(man.configs):
        if c in reverified or c not in base:
            entry = history_entry(man, c, tag if c in reverified else None)
            if c in base:   # the models that generated the rows stay those of the base
                entry["models"] = base[c].get("models", entry["models"])
        else:
            entry = dict(base[c], rows=sum(s.num_examples for s in man.configs[c].values()))
        out[c] = entry
    return out


def _write_card(staging: Path, man: Manifest, tag: str, message: str, store_name: str, src: Path,
                eval_files: list[str], history: dict[str, Any] | None = None) -> None:
    """Plot and card of the new release (the yield history from the release's stats.json)."""
    from .card import render_card
    from .leakage import card_line, release_leaks
    from .stats import cycle_yields, write_yield_plot

    if not man.configs:
        raise VstarError("re-verification rejected every row: nothing left to publish", key="tag")
    stats = None
    if (src / "stats.json").is_file():
        try:
            doc = json.loads((src / "stats.json").read_text("utf-8"))
            stats = doc.get("cycles") if isinstance(doc, dict) else doc
        except (ValueError, AttributeError):
            stats = None
    write_yield_plot(cycle_yields(man, stats), staging / PLOT_PATH)
    card = render_card(man, tag=tag, message=message, store_name=store_name, stats_for_plot=stats,
                       eval_files=eval_files, history=history)
    leaks = release_leaks(staging, eval_files, {c: [f for s in splits.values() for f in s.files]
                                                for c, splits in man.configs.items()})
    (staging / "README.md").write_text(card + (card_line(len(leaks)) if leaks else ""), encoding="utf-8")

