"""Hub publishing with the real huggingface_hub client against the loopback hub (hub_server.py).

Client code runs in subprocesses: huggingface_hub and datasets read HF_ENDPOINT / HF_HUB_OFFLINE at
import, and only these subprocesses may go "online" (to 127.0.0.1).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from factory import make_attempts, published
from hub_server import HubServer

from vstar_data.errors import VstarError
from vstar_data.dataset.store import MARKER, Store, publish

REPO = "org/vstar-1m"
V1 = {k: r["answer"] for k, r in published(make_attempts(12, cycle=1, tag="v1 ")).items()}
V2 = {k: r["answer"] for k, r in published(make_attempts(18, cycle=2, tag="v2 ")).items()}
CLI = "import sys; import vstar_data.cli.store; from vstar_data.cli import main; main()"


def _cli(hub: HubServer, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **hub.client_env(), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-c", CLI, *args], env=env, capture_output=True, text=True, timeout=300)


def _push(hub: HubServer, rows: Path, store: Path, tag: str, message: str, *extra: str) -> subprocess.CompletedProcess:
    return _cli(hub, "push", str(rows), "--store", str(store), "--hub-repo", REPO, "--tag", tag, "-m", message, *extra)


def _local_files(store: Path, tag: str) -> set[str]:
    out = subprocess.run(["git", "-C", str(store), "ls-tree", "-r", "--name-only", tag], capture_output=True,
                         text=True, check=True).stdout.split()
    return set(out) - {MARKER}


@pytest.fixture
def hub(tmp_path):
    with HubServer(tmp_path / "hub-data", token="hf_test") as server:
        yield server


@pytest.mark.slow
def test_push_creates_repo_commits_tags_and_each_tag_loads(tmp_path, rows_v1, rows_v2, hub):
    store = tmp_path / "vstar-1m"
    for rows, tag, msg in ((rows_v1, "v0.1.0", "first release"), (rows_v2, "cycle-2", "second release")):
        res = _push(hub, rows, store, tag, msg)
        assert res.returncode == 0, res.stderr[-3000:]
        assert f"hub    {REPO} @ {tag}" in res.stdout

    create = [r for r in hub.requests if r["route"] == "create_repo"]
    assert create[0]["json"] == {"name": "vstar-1m", "organization": "org", "type": "dataset"}
    assert all(r["auth"] == "Bearer hf_test" for r in hub.requests if r["route"] not in ("lfs_put",))
    commits = [r for r in hub.requests if r["route"] == "commit"]
    tags = [r for r in hub.requests if r["route"] == "create_tag"]
    assert len(commits) == 2 and len(tags) == 2  # one commit and one tag per publish
    repo = hub.repo(REPO)
    for commit, tag_req, tag, msg in zip(commits, tags, ("v0.1.0", "cycle-2"), ("first release", "second release")):
        lines = commit["ndjson"]
        header = lines[0]["value"]
        assert lines[0]["key"] == "header" and (header["summary"], header["description"]) == (msg, "")
        assert header["parentCommit"] == repo.commits[repo.tags[tag]].parent  # diffed against main's head
        lfs = {v["value"]["path"] for v in lines if v["key"] == "lfsFile"}
        regular = {v["value"]["path"] for v in lines if v["key"] == "file"}
        local = _local_files(store, tag)
        assert lfs == {p for p in local if p.endswith((".parquet", ".png"))}
        assert "README.md" in regular and MARKER not in regular | lfs
        assert tag_req["json"]["tag"] == tag
        oid = repo.tags[tag]
        assert tag_req["path"].endswith(f"/tag/{oid}")
        assert set(repo.commits[oid].files) - {".gitattributes"} == local
    deleted = {v["value"]["path"] for v in commits[1]["ndjson"] if v["key"] == "deletedFile"}
    assert deleted == {p for p in _local_files(store, "v0.1.0") if p.startswith("data/")}
    puts = [r for r in hub.requests if r["route"] == "lfs_put"]
    sizes = {p.stat().st_size for p in store.rglob("*.parquet")}
    assert sizes <= {r["body_size"] for r in puts}

    code = textwrap.dedent(f"""
        import json, datasets
        datasets.disable_progress_bars()
        out = {{}}
        for tag in ("v0.1.0", "cycle-2"):
            ds = datasets.load_dataset({REPO!r}, revision=tag, cache_dir={str(tmp_path / 'cache')!r})
            out[tag] = {{r["id"]: r["conversations"][1]["value"] for s in ds.values() for r in s}}
        fd = datasets.load_dataset({REPO!r}, "finediving", split="test", revision="v0.1.0",
                                   cache_dir={str(tmp_path / 'cache')!r})
        out["fd"] = sorted(fd["id"])
        print("RESULT", json.dumps(out))
    """)
    env = {**os.environ, **hub.client_env()}
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    got = json.loads(res.stdout.split("RESULT ", 1)[1])
    assert got["v0.1.0"] == V1 and got["cycle-2"] == V2
    v1_rows = published(make_attempts(12, cycle=1))
    assert got["fd"] == sorted(k for k, r in v1_rows.items() if r["source"] == "finediving" and r["split"] == "test")
    assert any(r["route"] == "resolve" and "/resolve/v0.1.0/README.md" in r["path"] for r in hub.requests)


@pytest.mark.slow
def test_transient_hub_errors_are_retried(tmp_path, rows_v1, hub):
    hub.fail("commit", status=503, times=2)
    hub.fail("create_tag", status=502, times=1)
    hub.fail("create_repo", status=500, times=1)
    res = _push(hub, rows_v1, tmp_path / "vstar-1m", "v0.1.0", "first")
    assert res.returncode == 0, res.stderr[-3000:]
    assert hub.routes().count("commit") == 3 and hub.routes().count("create_tag") == 2
    assert "v0.1.0" in hub.repo(REPO).tags


@pytest.mark.slow
def test_failed_push_keeps_the_local_release_and_rerun_completes_it(tmp_path, rows_v1, hub):
    store = tmp_path / "vstar-1m"
    hub.fail("commit", status=500, times=1000)
    res = _push(hub, rows_v1, store, "v0.1.0", "first")
    assert res.returncode == 2 and "re-run the same command" in res.stderr
    st = Store.open(store)
    local = st.resolve("refs/tags/v0.1.0")
    assert local and st.is_clean()  # the local release is complete and intact
    assert "v0.1.0" not in hub.repo(REPO).tags
    hub.failures.clear()
    res = _push(hub, rows_v1, store, "v0.1.0", "first")
    assert res.returncode == 0, res.stderr[-3000:]
    assert "already holds exactly this release" in res.stdout
    assert st.resolve("refs/tags/v0.1.0") == local  # no second local commit
    assert "v0.1.0" in hub.repo(REPO).tags
    # and once more: nothing new to upload, the same Hub commit keeps the tag
    before = len(hub.repo(REPO).commits)
    assert _push(hub, rows_v1, store, "v0.1.0", "first").returncode == 0
    assert len(hub.repo(REPO).commits) == before


def test_offline_hub_push_fails_clearly_after_the_local_release(tmp_path, rows_v1):
    store = tmp_path / "vstar-1m"
    with pytest.raises(VstarError, match="HF_HUB_OFFLINE"):
        publish(rows_v1, store, "v0.1.0", "first", hub_repo=REPO)
    assert Store.open(store).resolve("refs/tags/v0.1.0")


def _all_uploaded_bytes(hub: HubServer) -> bytes:
    """Every byte the client sent: commit payloads (regular files inline) and LFS bodies."""
    return b"".join(json.dumps(r).encode() for r in hub.requests) + b"".join(
        e.content or b"" for c in hub.repo(REPO).commits.values() for e in c.files.values())


@pytest.mark.slow
def test_push_uploads_the_release_commit_only_not_ignored_files_or_links_out(tmp_path, rows_v1, hub):
    """The fault campaign's store: an ignored `.env` and an ignored link to a file outside the
    store (plus an untracked file). The Hub gets exactly the files of the release's commit."""
    store = tmp_path / "vstar-1m"
    with pytest.raises(VstarError, match="HF_HUB_OFFLINE"):  # the local release only, for now
        publish(rows_v1, store, "v0.1.0", "first", hub_repo=REPO)
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("OUTSIDE-SECRET-CONTENTS\n")
    (store / ".git" / "info" / "exclude").write_text(".env\ndata/leak.txt\n")
    (store / ".env").write_text("HF_TOKEN=ENV-SECRET-CONTENTS\n")
    (store / "data" / "leak.txt").symlink_to(secret)
    assert Store.open(store).is_clean()  # git status does not show ignored files
    res = _push(hub, rows_v1, store, "v0.1.0", "first")
    assert res.returncode == 0, res.stderr[-3000:]
    repo = hub.repo(REPO)
    local = _local_files(store, "v0.1.0")
    assert set(repo.commits[repo.tags["v0.1.0"]].files) - {".gitattributes"} == local
    sent = _all_uploaded_bytes(hub)
    assert b"ENV-SECRET" not in sent and b"OUTSIDE-SECRET" not in sent

    # An untracked, not ignored file makes the tree unclean: the release is read from git instead.
    (store / "notes.txt").write_text("UNTRACKED-CONTENTS\n")
    repo.tags.clear()
    res = _push(hub, rows_v1, store, "v0.1.0", "first")
    assert res.returncode == 0, res.stderr[-3000:]
    assert set(repo.commits[repo.tags["v0.1.0"]].files) - {".gitattributes"} == local
    assert b"UNTRACKED" not in _all_uploaded_bytes(hub)


def test_a_symlink_committed_into_a_release_is_refused_not_followed(tmp_path, rows_v1):
    from vstar_data.dataset.store import push_release

    store = tmp_path / "vstar-1m"
    publish(rows_v1, store, "v0.1.0", "first")
    (tmp_path / "secret.txt").write_text("OUTSIDE")
    (store / "link.txt").symlink_to(tmp_path / "secret.txt")
    st = Store.open(store)
    st.git("add", "link.txt")
    st.git("commit", "-q", "-m", "hand-made")
    st.git("tag", "-a", "v-link", "-m", "hand-made")
    with pytest.raises(VstarError, match="symbolic link") as err:
        push_release(st, "v-link", REPO)
    assert err.value.key == "link.txt" and "link.txt" in str(err.value)


def test_push_files_refuses_a_link_it_is_given(tmp_path):
    import huggingface_hub.constants as c

    from vstar_data.dataset.hub import push_files

    (tmp_path / "secret.txt").write_text("OUTSIDE")
    (tmp_path / "release").mkdir()
    (tmp_path / "release" / "a.txt").symlink_to(tmp_path / "secret.txt")
    offline, c.HF_HUB_OFFLINE = c.HF_HUB_OFFLINE, False
    try:
        with pytest.raises(VstarError, match="not a regular file"):
            push_files(tmp_path / "release", ["a.txt"], REPO, tag="v1", message="m", endpoint="http://127.0.0.1:9")
    finally:
        c.HF_HUB_OFFLINE = offline


def test_hub_repo_id_must_have_a_namespace(tmp_path):
    from vstar_data.dataset.hub import push_files

    with pytest.raises(VstarError, match="ORG/NAME"):
        import huggingface_hub.constants as c

        offline, c.HF_HUB_OFFLINE = c.HF_HUB_OFFLINE, False
        try:
            push_files(tmp_path, [], "vstar-1m", tag="v1", message="m")
        finally:
            c.HF_HUB_OFFLINE = offline


def test_transient_error_classification():
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError

    from vstar_data.dataset.hub import is_transient, with_retries

    def http_error(status: int) -> HfHubHTTPError:
        request = httpx2.Request("POST", "http://127.0.0.1/x")
        return HfHubHTTPError("x", response=httpx2.Response(status, request=request))

    assert is_transient(http_error(503)) and is_transient(http_error(429))
    assert not is_transient(http_error(404)) and not is_transient(ValueError("x"))
    wrapped = RuntimeError("upload failed")
    wrapped.__cause__ = httpx2.ConnectError("refused")
    assert is_transient(wrapped)
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise http_error(502)
        return "ok"

    assert with_retries(flaky, "test", wait=0.001) == "ok" and len(calls) == 3
    with pytest.raises(HfHubHTTPError):
        with_retries(lambda: (_ for _ in ()).throw(http_error(403)), "test", wait=0.001)


def _sent(hub: HubServer, since: int) -> dict[str, int]:
    """Bytes the client sent per repo path since request `since`: LFS bodies (matched to paths via the
    batch and preupload answers) and regular files inlined in the commit payload."""
    import base64

    reqs = hub.requests[since:]
    path_of = {}
    for r in reqs:
        for line in r.get("ndjson") or []:
            if line["key"] == "lfsFile":
                path_of[line["value"]["oid"]] = line["value"]["path"]
    out: dict[str, int] = {}
    for r in reqs:
        if r["route"] == "lfs_put":
            oid = r["path"].rsplit("/", 1)[1]
            out[path_of.get(oid, oid)] = out.get(path_of.get(oid, oid), 0) + r["body_size"]
        for line in r.get("ndjson") or []:
            if line["key"] == "file":
                out[line["value"]["path"]] = len(base64.b64decode(line["value"]["content"]))
    return out


def _committed(hub: HubServer, since: int) -> dict[str, set[str]]:
    """Paths named in the commit payloads since request `since`, by kind (file, lfsFile, deletedFile)."""
    out: dict[str, set[str]] = {"file": set(), "lfsFile": set(), "deletedFile": set()}
    for r in hub.requests[since:]:
        if r["route"] == "commit":
            for line in r["ndjson"]:
                if line["key"] in out:
                    out[line["key"]].add(line["value"]["path"])
    return out


@pytest.mark.slow
def test_onto_push_sends_only_what_changed_and_drop_deletes_on_the_hub(tmp_path, hub):
    from test_onto import _rows

    store = tmp_path / "vstar-1m"
    mcqa, kin = _rows(tmp_path / "mcqa", "mcqa", 40), _rows(tmp_path / "kin", "kinetics700", 30, like="kinetics700")
    res = _push(hub, mcqa, store, "r1", "mcqa")
    assert res.returncode == 0, res.stderr[-3000:]
    r1_files = _local_files(store, "r1")
    mark = len(hub.requests)
    res = _push(hub, kin, store, "r2", "add k700", "--onto", "r1")
    assert res.returncode == 0, res.stderr[-3000:]
    sent, committed = _sent(hub, mark), _committed(hub, mark)
    r2_files = _local_files(store, "r2")
    kept = {p for p in r1_files & r2_files if p.startswith("data/mcqa/")}
    new = {p for p in r2_files if p.startswith("data/kinetics700/")}
    assert kept and new
    assert not kept & set(sent) and not kept & (committed["file"] | committed["lfsFile"])
    # the untouched shards are not even offered: the client diffed against the Hub's tree first
    offered = {f["path"] for r in hub.requests[mark:] if r["route"] == "preupload" for f in r["json"]["files"]}
    assert offered and not kept & offered and new <= offered
    # ...by LFS ids the store remembered from r1's push, so r1's shards were not re-read either
    from vstar_data.dataset.store import SHA256_CACHE

    cache = json.loads((store / ".git" / SHA256_CACHE).read_text())
    blobs = {line.split("\t")[1]: line.split()[2] for line in subprocess.run(
        ["git", "-C", str(store), "ls-tree", "-r", "r2"], capture_output=True, text=True, check=True).stdout.splitlines()}
    assert all(cache[blobs[p]] == hub.repo(REPO).commits[hub.repo(REPO).tags["r1"]].files[p].sha256 for p in kept)
    assert new <= set(sent) and new <= committed["lfsFile"]
    assert "README.md" in sent
    repo = hub.repo(REPO)
    assert set(repo.commits[repo.tags["r2"]].files) - {".gitattributes"} == r2_files
    for path in r2_files:  # every file of the release, with the local content
        entry = repo.commits[repo.tags["r2"]].files[path]
        data = (store / path).read_bytes()
        assert (entry.content if entry.content is not None else hub.lfs_path(entry.sha256).read_bytes()) == data

    mark = len(hub.requests)
    res = _push(hub, kin, store, "r3", "drop mcqa", "--onto", "r2", "--drop-source", "mcqa")
    assert res.returncode == 0, res.stderr[-3000:]
    committed = _committed(hub, mark)
    r3_files = _local_files(store, "r3")
    assert committed["deletedFile"] == {p for p in r2_files - r3_files}
    assert kept <= committed["deletedFile"]
    assert not {p for p in new if p in r3_files} & set(_sent(hub, mark))
    assert set(repo.commits[repo.tags["r3"]].files) - {".gitattributes"} == r3_files

    # A hand edit on the Hub (a shard of the release removed from main, the tag moved away) is
    # repaired by re-running the push: what main lacks is sent again.
    head = repo.commits[repo.branches["main"]]
    lost = sorted(p for p in r3_files if p.startswith("data/kinetics700/"))[0]
    del head.files[lost]
    del repo.tags["r3"]
    mark = len(hub.requests)
    res = _push(hub, kin, store, "r3", "drop mcqa", "--onto", "r2", "--drop-source", "mcqa")
    assert res.returncode == 0, res.stderr[-3000:]
    assert _committed(hub, mark)["lfsFile"] == {lost}
    assert set(repo.commits[repo.tags["r3"]].files) - {".gitattributes"} == r3_files
