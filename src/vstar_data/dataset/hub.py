"""Publishing one release folder to a Hugging Face Hub dataset repo: one commit, one tag.

`create_repo(exist_ok=True)` -> one `create_commit` that makes the repo's main branch hold exactly
the release's files -> `create_tag` on that commit. Only what differs from main's tree is sent: a
release file whose content the Hub already holds at that path (git blob id for regular files, LFS
sha256 for LFS ones) is left out, so a release built `--onto` a pushed base uploads only its new
shards, card and metadata, and never reads or hashes the untouched ones; files main holds that the
release lacks (a dropped config) are deleted. The commit names main's head as its parent, so a
concurrent change makes it fail instead of applying a stale diff. Each call is
retried with exponential backoff on transient failures (timeouts, connection errors, 408/429/5xx).
Every step is idempotent (the Hub skips files whose content it already has, an unchanged tree
makes no new commit, an existing tag on the same commit is accepted), so re-running a failed push
completes it. `HF_ENDPOINT` and `HF_TOKEN` are read at call time, so a self-hosted hub works.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, TypeVar

from ..errors import VstarError

log = logging.getLogger(__name__)
T = TypeVar("T")
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


@dataclass
class HubResult:
    repo_id: str
    tag: str
    commit: str
    url: str
    files: list[str] = field(default_factory=list)      # every file of the release
    deleted: list[str] = field(default_factory=list)
    uploaded: list[str] = field(default_factory=list)   # the ones the Hub did not already hold


def git_blob_id(path: Path) -> str:
    """Git's blob id of a file (what the Hub reports as `blob_id` for a regular file)."""
    h = hashlib.sha1(b"blob %d\0" % path.stat().st_size)
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Sha256Cache:
    """git blob id -> sha256 of the same content, kept in a JSON file so that an unchanged shard's LFS
    id is known without reading it again. Content-addressed, so an entry never goes stale."""

    def __init__(self, path: Path | None) -> None:
        self.path, self.changed = path, False
        self.data: dict[str, str] = {}
        if path is not None and path.is_file():
            try:
                self.data = dict(json.loads(path.read_text()))
            except (ValueError, TypeError):  # a damaged cache is only a cache: start over
                self.data = {}

    def get(self, blob: str, path: Path) -> str:
        if blob not in self.data:
            h = hashlib.sha256()
            with path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            self.put(blob, h.hexdigest())
        return self.data[blob]

    def put(self, blob: str, sha256: str) -> None:
        if self.data.get(blob) != sha256:
            self.data[blob], self.changed = sha256, True

    def save(self) -> None:
        if self.path is None or not self.changed:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.data, sort_keys=True))
        os.replace(tmp, self.path)
        self.changed = False


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: a network failure or a 408/429/5xx answer, also when wrapped by the client."""
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, HfHubHTTPError):
            response = getattr(seen, "response", None)
            return response is not None and response.status_code in TRANSIENT_STATUS
        if isinstance(seen, (httpx2.TransportError, ConnectionError, TimeoutError)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def with_retries(fn: Callable[[], T], what: str, *, attempts: int = 5, wait: float = 1.0,
                 max_wait: float = 30.0) -> T:
    """`fn()`, retried on transient errors with exponential backoff and jitter."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if attempt == attempts or not is_transient(exc):
                raise
            delay = min(max_wait, wait * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
            log.warning("%s failed (%s); retry %d/%d in %.1fs", what, exc, attempt, attempts - 1, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


def push_files(root: str | Path, files: Iterable[str], repo_id: str, *, tag: str, message: str,
               token: str | None = None, endpoint: str | None = None, private: bool | None = None,
               force: bool = False, attempts: int = 5, retry_wait: float | None = None,
               blob_ids: Mapping[str, str] | None = None, sha256_cache: Path | None = None) -> HubResult:
    """Upload `files` (paths relative to `root`: the caller's listing of a release, never a walk of
    the folder) as one commit of dataset repo `repo_id`, tagged `tag`. Each must be a regular file
    inside `root`, reached through no symbolic link: a link is refused, never followed.
    `blob_ids` (git blob ids the caller already knows, e.g. from `git ls-tree`) and `sha256_cache`
    (a file remembering LFS ids) spare re-reading files the Hub already holds."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, constants
    from huggingface_hub.hf_api import CommitInfo, RepoFile
    from huggingface_hub.errors import HfHubHTTPError

    if constants.HF_HUB_OFFLINE:
        raise VstarError("HF_HUB_OFFLINE is set, so the Hub cannot be reached; unset it to push "
                         "(the local release is complete)")
    if repo_id.count("/") != 1:
        raise VstarError(f"Hub repo must be ORG/NAME, got {repo_id!r}", key="hub_repo")
    folder = Path(os.path.realpath(root))
    local = sorted(set(files))
    for rel in local:
        path = folder / rel
        if os.path.realpath(path) != str(path) or not path.is_file():
            raise VstarError("is not a regular file inside the release folder (a symbolic link, or missing); "
                             "nothing was uploaded", file=path)
    api = HfApi(endpoint=endpoint or os.environ.get("HF_ENDPOINT") or None,
                token=token or os.environ.get("HF_TOKEN") or None)
    wait = retry_wait if retry_wait is not None else float(os.environ.get("VSTAR_HUB_RETRY_WAIT", "1"))

    def call(what: str, fn: Callable[[], T]) -> T:
        try:
            return with_retries(fn, what, attempts=attempts, wait=wait)
        except VstarError:
            raise
        except Exception as exc:
            raise VstarError(f"Hub {what} for {repo_id} failed: {exc}. The local release is intact; "
                             "re-run the same command to finish the push") from exc

    deleted: list[str] = []
    uploaded: list[str] = []
    blobs = dict(blob_ids or {})
    shas = Sha256Cache(sha256_cache)

    def holds(rel: str, remote: Any) -> bool:
        """Whether the Hub's entry `remote` has the content of local file `rel`."""
        if remote is None:
            return False
        path = folder / rel
        blob = blobs.get(rel) or blobs.setdefault(rel, git_blob_id(path))
        if remote.lfs is None:
            return remote.blob_id == blob
        return remote.lfs.size == path.stat().st_size and shas.get(blob, path) == remote.lfs.sha256

    def commit() -> Any:
        # Compared inside the retry: a retried commit must diff against what the lost attempt did.
        head = api.repo_info(repo_id, repo_type="dataset").sha
        remote = {e.path: e for e in api.list_repo_tree(repo_id, revision=head, recursive=True, repo_type="dataset")
                  if isinstance(e, RepoFile)} if head else {}
        deleted[:] = [r for r in sorted(remote) if r not in local and r != ".gitattributes"]
        uploaded[:] = [rel for rel in local if not holds(rel, remote.get(rel))]
        shas.save()
        if not uploaded and not deleted:
            return CommitInfo(commit_url=f"{api.endpoint}/datasets/{repo_id}/commit/{head}", commit_message=message,
                              commit_description="", oid=head, _endpoint=api.endpoint)
        adds = [CommitOperationAdd(path_in_repo=rel, path_or_fileobj=str(folder / rel)) for rel in uploaded]
        ops: list[Any] = [*adds, *(CommitOperationDelete(path_in_repo=rel) for rel in deleted)]
        info = api.create_commit(repo_id, ops, commit_message=message, repo_type="dataset", parent_commit=head)
        for op in adds:
            shas.put(blobs[op.path_in_repo], op.upload_info.sha256.hex())
        shas.save()
        return info

    def tag_commit(oid: str) -> None:
        tags = {t.name: t.target_commit for t in api.list_repo_refs(repo_id, repo_type="dataset").tags}
        if tags.get(tag) == oid:
            return
        if tag in tags:
            if not force:
                raise VstarError(f"tag {tag!r} already exists on the Hub repo {repo_id} at another commit "
                                 f"({tags[tag][:12]}); pass --force to move it", key="tag")
            api.delete_tag(repo_id, tag=tag, repo_type="dataset")
        try:
            api.create_tag(repo_id, tag=tag, tag_message=message, revision=oid, repo_type="dataset")
        except HfHubHTTPError as exc:  # a lost answer to an earlier attempt that did create it
            if exc.response is None or exc.response.status_code != 409:
                raise
            tags = {t.name: t.target_commit for t in api.list_repo_refs(repo_id, repo_type="dataset").tags}
            if tags.get(tag) != oid:
                raise

    call("create_repo", lambda: api.create_repo(repo_id, repo_type="dataset", exist_ok=True, private=private))
    info = call("commit", commit)
    call("create_tag", lambda: tag_commit(info.oid))
    return HubResult(repo_id=repo_id, tag=tag, commit=info.oid, url=str(info.commit_url), files=local,
                     deleted=list(deleted), uploaded=list(uploaded))
