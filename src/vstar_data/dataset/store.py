"""Publishing a release: attempt rows -> validated shards + card -> one commit and one tag in the
local store (`gitstore.Store`) -> optionally one commit and one tag on the Hub (`hub.push_files`).

The release is built and every row checked in a staging folder beside the store; only then, under
the store lock, is it handed to the store through the journal (`gitstore.Store.apply`), so a bad
row writes nothing and `kill -9` at any point is completed by re-running the same publish.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from . import gitstore
from ..errors import VstarError
from .gitstore import JOURNAL, MARKER, STAGING, Revision, Store, check_extra_name, check_tag

__all__ = ["JOURNAL", "MARKER", "STAGING", "PublishResult", "Revision", "Store", "checkout", "publish",
           "push_release", "revisions"]


def fingerprint(rows_dir: str | Path | None, settings: Mapping[str, Any], extra: Mapping[str, bytes]) -> str:
    """What a release was built from: row files (path, size, mtime), settings, extra files' bytes."""
    from ..generation.attempts import attempt_files

    listing = []
    if rows_dir is not None:
        root = Path(rows_dir)
        listing = [(p.relative_to(root).as_posix(), p.stat().st_size, p.stat().st_mtime_ns) for p in attempt_files(root)]
    doc = {"rows": listing, "settings": settings,
           "extra": {k: hashlib.sha256(v).hexdigest() for k, v in sorted(extra.items())}}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def new_publish_id() -> str:
    return uuid.uuid4().hex


# ---------------------------------------------------------------------------------------- publish

@dataclass
class PublishResult:
    """What one `publish` did."""

    tag: str
    commit: str
    store: Path
    counts: dict[str, dict[str, int]]            # config -> split -> rows (`default` = all)
    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    duplicates_dropped: int = 0
    already_published: bool = False              # the tag already held exactly this release
    resumed: str | None = None                   # tag of an interrupted publish finished first
    hub: Any = None                              # hub.HubResult when pushed
    variants: dict[str, int] = field(default_factory=dict)       # variant -> rows written (with variants)
    variant_skips: dict[str, int] = field(default_factory=dict)  # mc_<reason> -> answers without an mc row
    onto: str | None = None                      # base release tag (`--onto`)
    kept: list[str] = field(default_factory=list)              # base configs carried byte for byte
    migrated: dict[str, int] = field(default_factory=dict)     # config -> base rows moved to today's schema
    dropped_invalid: dict[str, int] = field(default_factory=dict)  # config -> base rows today's schema refuses
    changes: dict[str, Any] | None = None        # diff against the base (`diff.diff_releases` form)

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "files"}
        out["store"] = str(self.store)
        return out


def publish(rows_dir: str | Path | None, store: str | Path, tag: str, message: str, *,
            extra_files: Mapping[str, str | bytes | os.PathLike] | None = None,
            stats_for_plot: Any = None, hub_repo: str | None = None,
            force: bool = False, licenses: Mapping[str, str] | None = None,
            profiles: Mapping[str, Mapping[str, Any]] | None = None, pretty_name: str = "VSTaR-1M",
            hub_token: str | None = None, hub_endpoint: str | None = None, hub_private: bool | None = None,
            shard_bytes: int | None = None, batch_rows: int | None = None,
            variants: Any = None, onto: str | None = None, drop_sources: Sequence[str] = (),
            drop_invalid: bool = False, allow_leakage: bool = False) -> PublishResult:
    """Publish the accepted attempt rows under `rows_dir` as release `tag` of the store at `store`
    (created if new), then push that release to `hub_repo` when given.

    Re-running after a crash or a failed Hub push completes the release; re-running a finished one
    is a no-op for the local store (and retries the Hub push). An existing tag holding a different
    release is refused unless `force`. `variants` (a `variants.VariantOptions`, or None) publishes
    each accepted answer as its chain-of-thought / direct / multiple-choice rows.

    `onto` builds on release `onto`: its configs stay (shards byte for byte) except those `rows_dir`
    brings (replaced) and `drop_sources` (removed); its eval files, extra files and history carry
        over unless this push brings its own. `rows_dir=None` with `onto` republishes (rolls back to) it.
    A release whose `eval` files (extra files `eval/*.parquet`, or the base's) share a clip with a
    training row is refused, naming the clips, unless `allow_leakage` (then the card says so in its
    own line; dataset/leakage.py).
    """
    from .card import split_counts
    from .writer import DEFAULT_BATCH_ROWS, DEFAULT_SHARD_BYTES

    check_tag(tag)
    if not message.strip():
        raise VstarError("a release needs a message (-m)", key="message")
    extras = {check_extra_name(k): _as_bytes(v) for k, v in (extra_files or {}).items()}
    path = Store.check(store)
    base_commit = None
    if onto is None:
        if rows_dir is None:
            raise VstarError("a push needs a rows folder, unless it builds on a release (--onto TAG)", key="rows_dir")
        if drop_sources:
            raise VstarError("--drop-source removes a config from a base release: it needs --onto TAG",
                             key="drop_source")
    else:
        if not (path / MARKER).is_file():
            raise VstarError(f"--onto {onto!r}: there is no store here yet, so no release to build on",
                             file=path, key="onto")
        from .onto import read_base

        base_commit = read_base(Store.open(path, create=False), onto).commit  # unknown tag: names the tags
    settings = {"tag": tag, "message": message, "hub_repo": hub_repo, "stats": stats_for_plot,
                "licenses": licenses, "profiles": profiles, "pretty_name": pretty_name,
                "variants": variants.to_dict() if variants is not None else None,
                **({"allow_leakage": True} if allow_leakage else {})}
    if onto is not None:
        settings.update(onto=base_commit, drop_sources=sorted(drop_sources), drop_invalid=drop_invalid)
    fp = fingerprint(rows_dir, settings, extras)
    hub = {"token": hub_token, "endpoint": hub_endpoint, "private": hub_private, "force": force}
    resumed = None
    if (path / MARKER).is_file():  # finish what an earlier run left, and fail fast on a taken tag
        st = Store.open(path)
        with st.lock():
            resumed = (st.recover() or {}).get("tag")
            done = _existing_release(st, tag, fp, force)
            if done is not None:
                done.resumed = resumed
                done.hub = push_release(st, tag, hub_repo, **hub) if hub_repo else None
                return done
    # Build and validate outside the store (nothing is written to it when a row is bad) ...
    with _staging_dir(path) as staging:
        man, built = _build(staging, rows_dir, tag, message, extras, stats_for_plot=stats_for_plot,
                            store_name=path.name, hub_repo=hub_repo, licenses=licenses, profiles=profiles,
                            pretty_name=pretty_name, shard_bytes=shard_bytes or DEFAULT_SHARD_BYTES,
                            batch_rows=batch_rows or DEFAULT_BATCH_ROWS, variants=variants,
                            store=Store.open(path) if onto is not None else None, onto=onto,
                            drop_sources=drop_sources, drop_invalid=drop_invalid, allow_leakage=allow_leakage)
        # ... then hand it to the store under its lock: journal, move in, commit, tag.
        st = Store.open(path)
        with st.lock():
            resumed = (st.recover() or {}).get("tag") or resumed
            done = _existing_release(st, tag, fp, force)  # another process may have published it
            if done is None:
                # carried shards the working tree already holds (same blob) are in the release, not in staging
                files, commit = apply_staged(st, staging, tag, message, fp, force, also=(
                    f for splits in man.configs.values() for sf in splits.values() for f in sf.files))
                done = PublishResult(tag, commit, st.path, split_counts(man), files,
                                     rows_read=man.rows_read, duplicates_dropped=man.duplicates_dropped,
                                     variants=dict(man.variants) if variants is not None else {},
                                     variant_skips=dict(man.variant_skips), **built)
            done.resumed = resumed
            done.hub = push_release(st, tag, hub_repo, **hub) if hub_repo else None
    return done


def apply_staged(st: Store, staging: Path, tag: str, message: str, fp: str, force: bool,
                 also: Iterable[str] = ()) -> tuple[list[str], str]:
    """Hand a built release folder to the store (call under `st.lock()`): move it in, write the
    journal, commit and tag (a kill -9 at any point leaves the old or the new release). `also`:
    release files the store's working tree already holds. Returns (the release's files, commit)."""
    pid = new_publish_id()
    files = sorted({p.relative_to(staging).as_posix() for p in staging.rglob("*")
                    if p.is_file() and p.name != _STAGING_LOCK} | set(also))
    (staging / _STAGING_LOCK).unlink()
    (st.git_dir / STAGING).mkdir(exist_ok=True)
    os.rename(staging, st.git_dir / STAGING / pid)
    gitstore._checkpoint("staged")
    job = {"id": pid, "tag": tag, "message": message, "force": force, "fingerprint": fp, "files": files}
    st.write_journal(job)
    gitstore._checkpoint("journal-written")
    return files, st.apply(job)


def _existing_release(st: Store, tag: str, fp: str, force: bool) -> PublishResult | None:
    """The result for `tag` when it already holds exactly this release; raise if it holds another."""
    existing = st.resolve(f"refs/tags/{tag}")
    if existing is None:
        return None
    if st.trailer(existing, "Vstar-Input") == fp:
        rev = next(r for r in st.revisions() if r.tag == tag)
        files = st.git("ls-tree", "-r", "--name-only", existing).split()
        return PublishResult(tag, existing, st.path, rev.counts, files, already_published=True)
    if not force:
        raise VstarError(f"tag {tag!r} already exists (commit {existing[:12]}); pass --force to move it "
                         "to this new release", file=st.path, key="tag")
    return None


_STAGING_LOCK = ".vstar-staging.lock"
SHA256_CACHE = "vstar-hub-sha256.json"  # in .git: git blob id -> LFS sha256 of files pushed to the Hub


@contextmanager
def _staging_dir(store: Path) -> Iterator[Path]:
    """A build folder beside the store (same file system, so it can be renamed in), locked while
    its builder lives; folders of builders that died are removed by the next one."""
    store.parent.mkdir(parents=True, exist_ok=True)
    for old in store.parent.glob(f".{store.name}.staging-*"):
        fd = os.open(old / _STAGING_LOCK, os.O_RDWR | os.O_CREAT) if old.is_dir() else None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(old, ignore_errors=True)
            except BlockingIOError:
                pass
            finally:
                os.close(fd)
    tmp = Path(tempfile.mkdtemp(prefix=f".{store.name}.staging-", dir=store.parent))
    fd = os.open(tmp / _STAGING_LOCK, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield tmp
    finally:
        os.close(fd)
        shutil.rmtree(tmp, ignore_errors=True)


def _build(staging: Path, rows_dir: str | Path | None, tag: str, message: str, extras: Mapping[str, bytes], *,
           stats_for_plot: Any, store_name: str, hub_repo: str | None, licenses: Any, profiles: Any,
           pretty_name: str, shard_bytes: int, batch_rows: int, variants: Any = None, store: Store | None = None,
           onto: str | None = None, drop_sources: Sequence[str] = (), drop_invalid: bool = False,
           allow_leakage: bool = False) -> tuple[Any, dict[str, Any]]:
    """Shards, plot, extra files, history and card of one release, written under `staging` (with
    `onto`: the base's carried configs too); returns the manifest and the `PublishResult` fields
    that describe the build on the base. A release whose `eval` files share a clip with its
    training rows stops here (before the store is touched) unless `allow_leakage`."""
    from .card import PLOT_PATH, render_card
    from .leakage import card_line, refuse, release_leaks
    from .onto import carry, carry_extras, history_entry, read_base, write_history
    from .stats import cycle_yields, write_yield_plot
    from .writer import Manifest, write_shards

    base = read_base(store, onto) if store is not None and onto is not None else None
    if base is not None:
        unknown = sorted(set(drop_sources) - set(base.configs))
        if unknown:
            raise VstarError(f"--drop-source {', '.join(unknown)}: release {onto} has no such config; its "
                             f"configs: {', '.join(sorted(base.configs)) or 'none'}", key="drop_source")
    man = (write_shards(rows_dir, staging, shard_bytes=shard_bytes, batch_rows=batch_rows, variants=variants)
           if rows_dir is not None else Manifest())
    new_sources = sorted(man.configs)
    history = {c: history_entry(man, c, tag) for c in new_sources}
    built: dict[str, Any] = {}
    eval_files = [name for name in extras if name.startswith("eval/") and name.endswith(".parquet")]
    if base is not None:
        keep = [c for c in base.configs if c not in man.configs and c not in drop_sources]
        report = carry(store, base, keep, staging, man, drop_invalid=drop_invalid)
        eval_files += carry_extras(store, base, staging, extras, eval_given=bool(eval_files))
        for c in keep:
            entry = dict((base.history or {}).get(c) or history_entry(man, c, None), rows=sum(
                sf.num_examples for sf in man.configs[c].values()))
            entry.setdefault("tag", None)
            history[c] = entry
        from .diff import changes_against

        built = {"onto": onto, "kept": report.kept, "migrated": report.migrated,
                 "dropped_invalid": report.invalid, "changes": changes_against(store, base, man, staging)}
    if not man.configs:
        raise VstarError(f"the release would hold no config (every source of {onto} dropped)", key="drop_source")
    write_history(staging, history)
    write_yield_plot(cycle_yields(man, stats_for_plot), staging / PLOT_PATH)
    for name, data in extras.items():
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
        (staging / name).write_bytes(data)
    # carried shards may stay in the store's working tree (same blob): look there after staging
    roots = [staging] + ([store.path] if store is not None else [])
    leaks = release_leaks(roots, eval_files, {source: [f for split in splits.values() for f in split.files]
                                              for source, splits in man.configs.items()})
    if not allow_leakage:
        refuse(leaks, f"release {tag!r} leaks held-out clips")
    card = render_card(man, tag=tag, message=message, store_name=store_name, hub_repo=hub_repo,
                       licenses=licenses, profiles=profiles, stats_for_plot=stats_for_plot,
                       pretty_name=pretty_name, eval_files=eval_files, history=history,
                       onto=onto, changes=built.get("changes"), migrated=built.get("migrated") or {},
                       dropped_invalid=built.get("dropped_invalid") or {})
    (staging / "README.md").write_text(card + (card_line(len(leaks)) if leaks else ""), encoding="utf-8")
    return man, built


def push_release(store: Store | str | Path, tag: str, repo_id: str, **hub_kwargs: Any) -> Any:
    """Push release `tag` of a store to the Hub: exactly the files of the tag's commit, by git's own
    listing (`Store.release_files`), never a walk of the folder, so ignored or untracked files and
    links out of the store are never uploaded. Contents come from the working tree when git finds it
    holds that commit unchanged, else from a checkout of the commit."""
    from .hub import push_files

    st = store if isinstance(store, Store) else Store.open(store, create=False)
    commit = st.resolve(f"refs/tags/{tag}")
    if commit is None:
        raise VstarError(f"no release tagged {tag!r}", file=st.path)
    message = st.git("log", "-1", "--format=%s", commit).strip()
    files = [rel for rel in st.release_files(commit) if rel != MARKER]
    # git already knows every file's blob id, and the store remembers the LFS ids of files it pushed:
    # files the Hub already holds are then neither read nor hashed.
    from .onto import tree_blobs

    known = {rel: oid for rel, (oid, _size) in tree_blobs(st, commit).items()}
    hub_kwargs = {"blob_ids": known, "sha256_cache": st.git_dir / SHA256_CACHE, **hub_kwargs}
    if st.worktree_holds(commit, files):
        return push_files(st.path, files, repo_id, tag=tag, message=message, **hub_kwargs)
    with tempfile.TemporaryDirectory(prefix="vstar-hub-") as tmp:
        folder = st.checkout(tag, Path(tmp) / "release")
        return push_files(folder, files, repo_id, tag=tag, message=message, **hub_kwargs)


def _as_bytes(value: str | bytes | os.PathLike) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return Path(value).read_bytes()


def revisions(store: str | Path) -> list[Revision]:
    return Store.open(store, create=False).revisions()


def checkout(store: str | Path, tag: str, out: str | Path) -> Path:
    return Store.open(store, create=False).checkout(tag, out)
