"""The embedded local store's git side: a repository in the no-code dataset layout, one tag per release.

`vstar-1m/` is a plain git repository (the `git` CLI, large files as ordinary blobs with
`core.compression=0`: parquet is already compressed) holding the *current* release in its
working tree, so `load_dataset("vstar-1m")` loads the latest one; every release is a commit plus
a tag, and old shards live on in history, never rewritten (names carry a content hash).

Crash safety (`store.publish` drives it): a release built outside the store is moved to
`.git/vstar-staging/<id>/`, then a journal (`.git/vstar-publish.json`) is written, files are
moved in (shards first, README last, so the README only ever names files that exist), old files
are removed, and git commits and tags. Every step after the journal is idempotent, and every
later run finishes a journal it finds first, so `kill -9` at any point leaves a loadable folder
and re-running completes the release.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

from ..errors import VstarError

MARKER = ".vstar-data-store"
JOURNAL = "vstar-publish.json"
STAGING = "vstar-staging"
_GIT_CONFIG = {"core.compression": "0", "core.looseCompression": "0", "pack.compression": "0",
               "gc.auto": "0", "core.autocrlf": "false"}
_GIT_FLAGS = ("-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "core.hooksPath=/dev/null")
_TAG_RE = re.compile(r"^(?!-)(?!.*\.\.)(?!.*@\{)[A-Za-z0-9][A-Za-z0-9._/+-]*(?<![./])$")


def _checkpoint(step: str) -> None:
    """No-op marker between publish steps; crash tests replace it to kill the process there."""


@dataclass
class Revision:
    tag: str
    date: str
    commit: str
    message: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)   # config -> split -> rows


class Store:
    """A vstar-data store folder (marker file + git repository)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.git_dir = path / ".git"

    @classmethod
    def check(cls, path: str | Path) -> Path:
        """`path` as an absolute path if it is a store or could become one; refuse it otherwise
        (a non-empty folder without the marker is not ours to rewrite, and is left untouched)."""
        path = Path(path).absolute()
        if path.exists() and not path.is_dir():
            raise VstarError("is a file, not a vstar-data store folder", file=path)
        if (path / MARKER).is_file():
            if not (path / ".git").is_dir():
                raise VstarError(f"has the {MARKER} marker but no .git repository (was .git removed?); "
                                 "nothing was changed", file=path)
            return path
        if path.exists() and any(path.iterdir()):
            raise VstarError(f"is not a vstar-data store (no {MARKER} marker) and is not empty; nothing was "
                             "changed. Use a new or empty folder, or one an earlier `vstar-data push` made",
                             file=path)
        return path

    @classmethod
    def open(cls, path: str | Path, *, create: bool = True) -> "Store":
        """Open the store at `path`, creating it when the folder is new or empty."""
        path = cls.check(path)
        if (path / MARKER).is_file():
            return cls(path)
        if not create:
            raise VstarError("no vstar-data store here", file=path)
        return cls._init(path)

    @classmethod
    def _init(cls, path: Path) -> "Store":
        """Build the repository beside `path`, then rename it into place: a crash leaves no half-store."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.init-", dir=path.parent))
        try:
            store = cls(tmp)
            store.git("init", "-q", "-b", "main")
            for key, value in _GIT_CONFIG.items():
                store.git("config", key, value)
            if not store.git("config", "user.email", check=False).strip():
                store.git("config", "user.name", "vstar-data")
                store.git("config", "user.email", "vstar-data@localhost")
            (tmp / ".git" / "info").mkdir(exist_ok=True)
            (tmp / ".git" / "info" / "attributes").write_text("*.parquet binary\n*.png binary\n")
            (tmp / MARKER).write_text(json.dumps({"format": "vstar-data-store", "version": 1}) + "\n")
            store.git("add", MARKER)
            store.git("commit", "-q", "-m", "Initialize vstar-data store")
            _chmod_default(tmp)
            if path.exists():
                path.rmdir()  # empty, checked by the caller
            os.rename(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return cls(path)

    # ------------------------------------------------------------------ git plumbing
    def git(self, *args: str, check: bool = True, stdout: Any = subprocess.PIPE) -> str:
        cmd = ["git", f"--git-dir={self.path / '.git'}", f"--work-tree={self.path}", *_GIT_FLAGS, *args]
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
        proc = subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True, env=env, cwd=self.path)
        if check and proc.returncode != 0:
            raise VstarError(f"git {' '.join(args[:2])} failed: {proc.stderr.strip()}", file=self.path)
        return proc.stdout if stdout is subprocess.PIPE else ""

    def tags(self) -> list[str]:
        return self.git("tag", "--list").split()

    def resolve(self, rev: str) -> str | None:
        out = self.git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False).strip()
        return out or None

    def trailer(self, rev: str, key: str) -> str:
        return self.git("log", "-1", f"--format=%(trailers:key={key},valueonly)", rev).strip()

    def is_clean(self) -> bool:
        return not self.git("status", "--porcelain", "--untracked-files=all").strip()

    def release_files(self, commit: str) -> list[str]:
        """The files of `commit`, by git's own listing (never a walk of the folder: ignored or
        untracked files are not part of a release). Only regular files: a symbolic link (git stores
        its target as text) or a submodule is refused, since the Hub has no such thing and
        following a link could upload a file from outside the store."""
        out = []
        for entry in filter(None, self.git("ls-tree", "-r", "-z", "--full-tree", commit).split("\0")):
            meta, rel = entry.split("\t", 1)
            mode, kind = meta.split()[:2]
            if mode not in ("100644", "100755"):
                what = "a symbolic link" if mode == "120000" else f"a {kind} (mode {mode})"
                raise VstarError(f"release commit {commit[:12]} holds {what}, not a regular file; a release "
                                 "uploads regular files only. Publish the release again with `vstar-data "
                                 "push`, which never makes links", file=self.path / rel, key=rel)
            out.append(rel)
        return sorted(out)

    def worktree_holds(self, commit: str, files: list[str]) -> bool:
        """True when the working tree has exactly `commit`'s content for `files` (HEAD is `commit`,
        git sees no change) and each of them is a regular file inside the store, reached through no
        symbolic link; False means: read the release from git instead."""
        if self.resolve("HEAD") != commit or not self.is_clean():
            return False
        root = os.path.realpath(self.path)
        for rel in files:
            path = os.path.join(root, rel)
            if os.path.realpath(path) != path or not os.path.isfile(path) or os.path.islink(path):
                return False
        return True

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One publisher per store; git's own lock files left by a killed git are stale under it."""
        fd = os.open(self.git_dir / "vstar.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise VstarError("another vstar-data process is publishing to this store", file=self.path) from None
            for stale in [self.git_dir / "index.lock", self.git_dir / "HEAD.lock",
                          self.git_dir / "packed-refs.lock", *(self.git_dir / "refs").rglob("*.lock")]:
                stale.unlink(missing_ok=True)
            yield
        finally:
            os.close(fd)

    # ------------------------------------------------------------------ journal
    def write_journal(self, journal: dict[str, Any]) -> None:
        tmp = self.git_dir / (JOURNAL + ".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(journal, fh, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.git_dir / JOURNAL)
        _fsync_dir(self.git_dir)

    def recover(self) -> dict[str, Any] | None:
        """Finish an interrupted publish (the journal exists only once its release is fully staged)."""
        path = self.git_dir / JOURNAL
        journal = json.loads(path.read_text("utf-8")) if path.is_file() else None
        if journal is not None:
            self.apply(journal)
        staging_root = self.git_dir / STAGING
        if staging_root.is_dir():  # builds that died before their journal: nothing refers to them
            shutil.rmtree(staging_root, ignore_errors=True)
        return journal

    def apply(self, journal: dict[str, Any]) -> str:
        """Move a staged release into the working tree, commit and tag it. Idempotent."""
        staging = self.git_dir / STAGING / journal["id"]
        files: list[str] = journal["files"]
        for rel in sorted(files, key=lambda r: r == "README.md"):  # README last: it names the rest
            src, dst = staging / rel, self.path / rel
            if src.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)
                _checkpoint("moved-file")
            elif not dst.exists():
                raise VstarError(f"cannot finish the interrupted publish of {journal['tag']!r}: {rel} is "
                                 f"missing; delete {self.git_dir / JOURNAL} to abandon it", file=self.path)
        _checkpoint("files-moved")
        keep = set(files) | {MARKER}
        tracked = self.git("ls-files", "-z").split("\0")
        loose = [p.relative_to(self.path).as_posix() for d in ("data", "assets") if (self.path / d).is_dir()
                 for p in (self.path / d).rglob("*") if p.is_file()]
        for rel in set(filter(None, tracked)) | set(loose):
            if rel not in keep:
                (self.path / rel).unlink(missing_ok=True)
        dirs = [p for top in self.path.iterdir() if top.is_dir() and top.name != ".git"
                for p in (top, *top.rglob("*")) if p.is_dir()]
        for d in sorted(dirs, key=lambda p: -len(p.parts)):
            if not any(d.iterdir()):
                d.rmdir()
        _checkpoint("old-removed")
        self.git("add", "-A")
        _checkpoint("added")
        if journal["id"] not in self.trailer("HEAD", "Vstar-Publish"):
            msg = (f"{journal['message']}\n\nVstar-Tag: {journal['tag']}\nVstar-Publish: {journal['id']}\n"
                   f"Vstar-Input: {journal['fingerprint']}\n")
            self.git("commit", "-q", "--allow-empty", "-m", msg)
        _checkpoint("committed")
        head = self.resolve("HEAD")
        if self.resolve(f"refs/tags/{journal['tag']}") != head:
            self.git("tag", "-a", *(["-f"] if journal.get("force") else []), journal["tag"], "-m",
                     journal["message"], head)
        _checkpoint("tagged")
        (self.git_dir / JOURNAL).unlink(missing_ok=True)
        shutil.rmtree(staging.parent, ignore_errors=True)  # ours is the only build under the lock
        return head

    # ------------------------------------------------------------------ reading releases
    def revisions(self) -> list[Revision]:
        """Every tag, oldest first, with its date, commit, message and rows per config and split."""
        from huggingface_hub import DatasetCard

        fmt = "%(refname:short)%09%(creatordate:iso-strict)%09%(objectname)%09%(*objectname)%09%(contents:subject)"
        out = []
        order = {c: i for i, c in enumerate(self.git("rev-list", "--reverse", "--all").split())}
        for line in self.git("for-each-ref", "refs/tags", f"--format={fmt}").splitlines():
            tag, date, obj, peeled, subject = (line.split("\t") + [""] * 5)[:5]
            commit = peeled or obj
            readme = self.git("show", f"{commit}:README.md", check=False)
            counts: dict[str, dict[str, int]] = {}
            if readme:
                infos = DatasetCard(readme).data.to_dict().get("dataset_info") or []
                for info in [infos] if isinstance(infos, dict) else infos:
                    counts[info.get("config_name", "default")] = {
                        s["name"]: int(s.get("num_examples", 0)) for s in info.get("splits") or []}
            out.append(Revision(tag, date, commit, subject, counts))
        return sorted(out, key=lambda r: (r.date, order.get(r.commit, -1)))  # dates are to the second

    def checkout(self, tag: str, out: str | Path) -> Path:
        """Materialise release `tag` as a plain dataset folder (no .git, no marker) at `out`."""
        import tarfile

        commit = self.resolve(f"refs/tags/{tag}")
        if commit is None:
            raise VstarError(f"no release tagged {tag!r}; known: {', '.join(self.tags()) or 'none'}",
                             file=self.path)
        out = Path(out).absolute()
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise VstarError("output folder exists and is not empty", file=out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.checkout-", dir=out.parent))
        cmd = ["git", f"--git-dir={self.git_dir}", "archive", "--format=tar", commit]
        try:
            with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
                with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
                    tar.extractall(tmp, filter="data")
                err = proc.stderr.read().decode()
            if proc.returncode:
                raise VstarError(f"git archive failed: {err.strip()}", file=self.path)
            (tmp / MARKER).unlink(missing_ok=True)
            _chmod_default(tmp)
            if out.exists():
                out.rmdir()
            os.rename(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return out


def _chmod_default(path: Path) -> None:
    """mkdtemp makes 0700 folders; a store or checkout gets the usual umask-based mode."""
    umask = os.umask(0)
    os.umask(umask)
    path.chmod(0o777 & ~umask)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_tag(tag: str) -> str:
    if not _TAG_RE.match(tag) or tag.endswith(".lock"):
        raise VstarError(f"{tag!r} is not a usable tag name (letters, digits, . _ - / +; e.g. v0.1.0, cycle-2)",
                         key="tag")
    return tag


def check_extra_name(name: str) -> str:
    """Extra files (stats.json, run.yaml, ...) may not escape the store or shadow the dataset."""
    pure = PurePosixPath(name)
    if (not name or pure.is_absolute() or ".." in pure.parts or pure.parts[0] in ("data", "assets", ".git")
            or name in ("README.md", MARKER, ".gitattributes", "history.json")):
        raise VstarError(f"extra file name {name!r} is not allowed (relative, outside data/ and assets/)",
                         key="extra_files")
    return pure.as_posix()
