"""A small Hugging Face Hub on loopback, for testing the real `huggingface_hub` client offline.

It speaks the subset of the Hub HTTP API that `create_repo`, `create_commit` (preupload, LFS
*basic* transfer: batch + PUT + verify, ndjson commit), `list_repo_refs`, `create_tag` /
`delete_tag`, `list_repo_files` and downloads by revision (`hf_hub_download`, `HfFileSystem`, so
`datasets.load_dataset(REPO, revision=TAG)`) use, with commits, branches and tags kept per repo.
It records every request (`server.requests`) so tests can assert what the client sent, and can
fail chosen routes on purpose (`server.fail("commit", status=503, times=2)`) to test retries.

Clients must run with `HF_ENDPOINT=server.url`, `HF_HUB_OFFLINE=0` and `HF_HUB_DISABLE_XET=1`
(the server speaks classic LFS, not Xet). Usage::

    with HubServer(tmp_path, token="hf_test") as hub:
        env = {**os.environ, **hub.client_env()}
        subprocess.run([...], env=env)
        assert hub.routes() == [...]

Not covered: Xet, multipart LFS, pull requests, gated/private access rules, pagination.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import yaml

_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
_LFS_SUFFIXES = (".parquet", ".png", ".arrow", ".bin", ".safetensors", ".jpg")


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Entry:
    size: int
    oid: str                        # git oid (of the content, or of the LFS pointer)
    sha256: str | None = None       # set for LFS files: content lives in the LFS store
    content: bytes | None = None    # regular files


@dataclass
class Commit:
    oid: str
    parent: str | None
    message: str
    files: dict[str, Entry]
    date: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()))


@dataclass
class Repo:
    repo_id: str
    type: str
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def resolve(self, rev: str) -> Commit | None:
        rev = unquote(rev)
        for prefix in ("refs/heads/", "refs/tags/"):
            rev = rev[len(prefix):] if rev.startswith(prefix) else rev
        oid = self.branches.get(rev) or self.tags.get(rev) or (rev if rev in self.commits else None)
        return self.commits.get(oid) if oid else None


class HubServer:
    """Thread-hosted fake Hub; `url` is its endpoint. Context manager: started on enter, stopped on exit."""

    def __init__(self, root: Path, token: str | None = None) -> None:
        self.root = Path(root)
        (self.root / "lfs").mkdir(parents=True, exist_ok=True)
        self.token = token
        self.repos: dict[tuple[str, str], Repo] = {}
        self.requests: list[dict[str, Any]] = []
        self.failures: dict[str, list[int]] = {}
        self.lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> "HubServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def client_env(self) -> dict[str, str]:
        env = {"HF_ENDPOINT": self.url, "HF_HUB_OFFLINE": "0", "HF_DATASETS_OFFLINE": "0",
               "HF_HUB_DISABLE_XET": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
               "HF_HUB_DISABLE_PROGRESS_BARS": "1", "HF_HUB_ETAG_TIMEOUT": "5", "VSTAR_HUB_RETRY_WAIT": "0.05"}
        if self.token:
            env["HF_TOKEN"] = self.token
        return env

    def fail(self, route: str, status: int = 503, times: int = 1) -> None:
        """Answer the next `times` requests to `route` (e.g. "commit", "create_tag") with `status`."""
        self.failures[route] = [status] * times

    def routes(self, method: str | None = None) -> list[str]:
        return [r["route"] for r in self.requests if method is None or r["method"] == method]

    def repo(self, repo_id: str, type: str = "dataset") -> Repo:
        return self.repos[(type, repo_id)]

    def lfs_path(self, sha256: str) -> Path:
        return self.root / "lfs" / sha256


def _make_handler(hub: HubServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        server_state = hub

    return Handler


class _Reply(Exception):
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


def _not_found(code: str, message: str) -> _Reply:
    return _Reply(404, {"error": message}, {"X-Error-Code": code, "X-Error-Message": message})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_state: HubServer

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    # -- plumbing ------------------------------------------------------------------------
    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body if body is not None else {}).encode()
        self.send_response(status)
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        for k, v in hdrs.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _handle(self) -> None:
        hub = self.server_state
        url = urlparse(self.path)
        path, query = unquote(url.path), parse_qs(url.query)
        body = self._body() if self.command in ("POST", "PUT", "DELETE") else b""
        record: dict[str, Any] = {"method": self.command, "path": path, "query": query,
                                  "auth": self.headers.get("Authorization"), "route": "?"}
        ctype = self.headers.get("Content-Type", "")
        if "ndjson" in ctype:
            record["ndjson"] = [json.loads(line) for line in body.splitlines() if line.strip()]
        elif "json" in ctype and body:
            record["json"] = json.loads(body)
        elif "form" in ctype and body:
            record["form"] = parse_qs(body.decode())
        else:
            record["body_size"] = len(body)
        try:
            route, handler, args = self._route(path)
            record["route"] = route
            with hub.lock:
                hub.requests.append(record)
                pending = hub.failures.get(route)
                if pending:
                    raise _Reply(pending.pop(0), {"error": f"injected failure on {route}"})
            if route in _WRITE_ROUTES and hub.token and self.headers.get("Authorization") != f"Bearer {hub.token}":
                raise _Reply(401, {"error": "Invalid credentials"}, {"X-Error-Code": "Unauthorized"})
            handler(self, record, query, body, *args)
        except _Reply as r:
            self._send(r.status, r.body, r.headers)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

    def _route(self, path: str) -> tuple[str, Any, tuple]:
        m = self.command
        kinds = "models|datasets|spaces"
        table = [
            ("POST", r"/api/repos/create", "create_repo", _Handler.create_repo),
            ("POST", r"/api/validate-yaml", "validate_yaml", _Handler.validate_yaml),
            ("POST", rf"/api/({kinds})/([^/]+/[^/]+)/preupload/(.+)", "preupload", _Handler.preupload),
            ("POST", rf"/api/({kinds})/([^/]+/[^/]+)/commit/(.+)", "commit", _Handler.commit),
            ("GET", rf"/api/({kinds})/([^/]+/[^/]+)/refs", "list_refs", _Handler.refs),
            ("POST", rf"/api/({kinds})/([^/]+/[^/]+)/tag/(.+)", "create_tag", _Handler.create_tag),
            ("DELETE", rf"/api/({kinds})/([^/]+/[^/]+)/tag/(.+)", "delete_tag", _Handler.delete_tag),
            ("GET", rf"/api/({kinds})/([^/]+/[^/]+)/revision/([^/]+)", "repo_info", _Handler.info),
            ("GET", rf"/api/({kinds})/([^/]+/[^/]+)", "repo_info", _Handler.info),
            ("GET", rf"/api/({kinds})/([^/]+/[^/]+)/tree/([^/]+)/?(.*)", "tree", _Handler.tree),
            ("POST", rf"/api/({kinds})/([^/]+/[^/]+)/paths-info/([^/]+)", "paths_info", _Handler.paths_info),
            ("POST", r"/(datasets/|spaces/)?([^/]+/[^/]+)\.git/info/lfs/objects/batch", "lfs_batch", _Handler.lfs_batch),
            ("PUT", r"/lfs-upload/([0-9a-f]{64})", "lfs_put", _Handler.lfs_put),
            ("POST", r"/lfs-verify/([0-9a-f]{64})", "lfs_verify", _Handler.lfs_verify),
            ("GET|HEAD", r"/(datasets/|spaces/)?([^/]+/[^/]+)/resolve/([^/]+)/(.+)", "resolve", _Handler.resolve),
        ]
        for methods, pattern, name, fn in table:
            mm = re.fullmatch(pattern, path)
            if mm and m in methods.split("|"):
                return name, fn, mm.groups()
        raise _Reply(404, {"error": f"fake hub: no route for {m} {path}"})

    def _repo(self, kind: str, repo_id: str) -> Repo:
        key = (_TYPES.get(kind.strip("/") or "models", "model"), repo_id)
        repo = self.server_state.repos.get(key)
        if repo is None:
            raise _not_found("RepoNotFound", f"Repository Not Found for url: {self.path}")
        return repo

    def _commit(self, repo: Repo, rev: str) -> Commit:
        commit = repo.resolve(rev)
        if commit is None:
            raise _not_found("RevisionNotFound", f"Invalid rev id: {rev}")
        return commit

    def _entry_json(self, path: str, e: Entry, expand: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "file", "oid": e.oid, "size": e.size, "path": path}
        if e.sha256:
            out["lfs"] = {"oid": e.sha256, "size": e.size, "pointerSize": 134}
        return out

    # -- write routes ----------------------------------------------------------------------
    def create_repo(self, rec: dict, q: dict, body: bytes) -> None:
        hub, data = self.server_state, rec["json"]
        repo_id = f"{data['organization']}/{data['name']}" if data.get("organization") else data["name"]
        rtype = data.get("type") or "model"
        url = f"{hub.url}/{'' if rtype == 'model' else rtype + 's/'}{repo_id}"
        with hub.lock:
            if (rtype, repo_id) in hub.repos:
                raise _Reply(409, {"error": "You already created this repo", "url": url})
            repo = hub.repos[(rtype, repo_id)] = Repo(repo_id, rtype)
            attrs = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"
            first = Commit(uuid.uuid4().hex + uuid.uuid4().hex[:8], None, "initial commit",
                           {".gitattributes": Entry(len(attrs), git_blob_oid(attrs), content=attrs)})
            repo.commits[first.oid] = first
            repo.branches["main"] = first.oid
        self._send(200, {"url": url, "name": repo_id, "id": repo_id})

    def validate_yaml(self, rec: dict, q: dict, body: bytes) -> None:
        content = rec["json"]["content"]
        m = re.match(r"^---\n(.*?)\n---", content, re.S)
        try:
            meta = yaml.safe_load(m.group(1)) if m else {}
        except yaml.YAMLError as exc:
            raise _Reply(400, {"errors": [{"message": str(exc)}]}) from exc
        if not isinstance(meta, dict):
            raise _Reply(400, {"errors": [{"message": "metadata must be a mapping"}]})
        self._send(200, {"errors": [], "warnings": []})

    def preupload(self, rec: dict, q: dict, body: bytes, kind: str, repo_id: str, rev: str) -> None:
        repo = self._repo(kind, repo_id)
        head = self._commit(repo, rev)
        files = []
        for f in rec["json"]["files"]:
            lfs = f["path"].endswith(_LFS_SUFFIXES) or f["size"] > 1024 * 1024
            remote = head.files.get(f["path"])
            oid = (remote.sha256 if lfs else remote.oid) if remote else None
            files.append({"path": f["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False,
                          "oid": oid})
        self._send(200, {"files": files, "commitOid": head.oid})

    def lfs_batch(self, rec: dict, q: dict, body: bytes, kind: str | None, repo_id: str) -> None:
        hub = self.server_state
        self._repo(kind or "models", repo_id)
        objects = []
        for obj in rec["json"]["objects"]:
            item: dict[str, Any] = {"oid": obj["oid"], "size": obj["size"]}
            if not hub.lfs_path(obj["oid"]).exists():
                item["actions"] = {"upload": {"href": f"{hub.url}/lfs-upload/{obj['oid']}", "header": {}},
                                   "verify": {"href": f"{hub.url}/lfs-verify/{obj['oid']}", "header": {}}}
            objects.append(item)
        self._send(200, {"transfer": "basic", "objects": objects})

    def lfs_put(self, rec: dict, q: dict, body: bytes, oid: str) -> None:
        if hashlib.sha256(body).hexdigest() != oid:
            raise _Reply(400, {"error": "sha256 mismatch"})
        rec["body_size"] = len(body)
        self.server_state.lfs_path(oid).write_bytes(body)
        self._send(200, {})

    def lfs_verify(self, rec: dict, q: dict, body: bytes, oid: str) -> None:
        path = self.server_state.lfs_path(oid)
        if not path.exists() or path.stat().st_size != rec["json"]["size"]:
            raise _Reply(422, {"error": "object not uploaded"})
        self._send(200, {})

    def commit(self, rec: dict, q: dict, body: bytes, kind: str, repo_id: str, rev: str) -> None:
        hub = self.server_state
        repo = self._repo(kind, repo_id)
        lines = rec["ndjson"]
        header = next(line["value"] for line in lines if line["key"] == "header")
        with hub.lock:
            parent = self._commit(repo, rev)
            if header.get("parentCommit") and header["parentCommit"] != parent.oid:
                raise _Reply(412, {"error": "parent commit is not the head"})
            files = dict(parent.files)
            for line in lines:
                key, v = line["key"], line["value"]
                if key == "file":
                    data = base64.b64decode(v["content"])
                    files[v["path"]] = Entry(len(data), git_blob_oid(data), content=data)
                elif key == "lfsFile":
                    if not hub.lfs_path(v["oid"]).exists():
                        raise _Reply(422, {"error": f"LFS object {v['oid']} was never uploaded"})
                    pointer = (f"version https://git-lfs.github.com/spec/v1\noid sha256:{v['oid']}\n"
                               f"size {v['size']}\n").encode()
                    files[v["path"]] = Entry(v["size"], git_blob_oid(pointer), sha256=v["oid"])
                elif key == "deletedFile":
                    if v["path"] not in files:
                        raise _Reply(404, {"error": "A file with this name doesn't exist"},
                                     {"X-Error-Code": "EntryNotFound"})
                    del files[v["path"]]
                elif key == "deletedFolder":
                    prefix = v["path"].rstrip("/") + "/"
                    files = {p: e for p, e in files.items() if not p.startswith(prefix)}
            new = Commit(hashlib.sha1(uuid.uuid4().bytes).hexdigest(), parent.oid, header["summary"], files)
            repo.commits[new.oid] = new
            branch = unquote(rev)
            repo.branches[branch if branch in repo.branches else "main"] = new.oid
        url = f"{hub.url}/{repo.type}s/{repo_id}/commit/{new.oid}"
        self._send(200, {"success": True, "commitOid": new.oid, "commitUrl": url, "pullRequestUrl": None})

    def create_tag(self, rec: dict, q: dict, body: bytes, kind: str, repo_id: str, rev: str) -> None:
        repo = self._repo(kind, repo_id)
        commit = self._commit(repo, rev)
        tag = rec["json"]["tag"]
        with self.server_state.lock:
            if tag in repo.tags:
                raise _Reply(409, {"error": f"Tag {tag} already exists"})
            repo.tags[tag] = commit.oid
        self._send(200, {})

    def delete_tag(self, rec: dict, q: dict, body: bytes, kind: str, repo_id: str, tag: str) -> None:
        repo = self._repo(kind, repo_id)
        if repo.tags.pop(unquote(tag), None) is None:
            raise _not_found("RevisionNotFound", f"no tag {tag}")
        self._send(200, {})

    # -- read routes -----------------------------------------------------------------------
    def refs(self, rec: dict, q: dict, body: bytes, kind: str, repo_id: str) -> None:
        repo = self._repo(kind, repo_id)
        self._send(200, {
            "branches": [{"name": b, "ref": f"refs/heads/{b}", "targetCommit": o} for b, o in repo.branches.items()],
            "tags": [{"name": t, "ref": f"refs/tags/{t}", "targetCommit": o} for t, o in repo.tags.items()],
            "converts": []})

    def info(self, rec: dict, q: dict, body: bytes, kind: str, repo_id: str, rev: str = "main") -> None:
        repo = self._repo(kind, repo_id)
        commit = self._commit(repo, rev)
        self._send(200, {"_id": repo_id, "id": repo_id, "author": repo_id.split("/")[0], "sha": commit.oid,
                         "lastModified": commit.date, "private": False, "gated": False, "disabled": False,
                         "downloads": 0, "likes": 0, "tags": [], "cardData": {},
                         "siblings": [{"rfilename": p} for p in sorted(commit.files)]})

    def tree(self, rec: dict, q: dict, body: bytes, kind: str, repo_id: str, rev: str, sub: str) -> None:
        commit = self._commit(self._repo(kind, repo_id), rev)
        recursive = q.get("recursive", ["false"])[0].lower() in ("1", "true")
        prefix = sub.strip("/") + "/" if sub.strip("/") else ""
        if prefix and not any(p.startswith(prefix) for p in commit.files):
            raise _not_found("EntryNotFound", f"{sub} does not exist on {rev}")
        out, dirs = [], set()
        for path in sorted(commit.files):
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix):]
            parts = rest.split("/")
            for i in range(1, len(parts)):
                d = prefix + "/".join(parts[:i])
                if d not in dirs and (recursive or i == 1):
                    dirs.add(d)
                    out.append({"type": "directory", "oid": hashlib.sha1(d.encode()).hexdigest(), "size": 0, "path": d})
            if recursive or len(parts) == 1:
                out.append(self._entry_json(path, commit.files[path]))
        self._send(200, out)

    def paths_info(self, rec: dict, q: dict, body: bytes, kind: str, repo_id: str, rev: str) -> None:
        commit = self._commit(self._repo(kind, repo_id), rev)
        paths = (rec.get("form") or {}).get("paths") or (rec.get("json") or {}).get("paths") or []
        out = []
        for p in paths:
            p = p.strip("/")
            if p in commit.files:
                out.append(self._entry_json(p, commit.files[p]))
            elif any(f.startswith(p + "/") for f in commit.files) or p == "":
                out.append({"type": "directory", "oid": hashlib.sha1(p.encode()).hexdigest(), "size": 0, "path": p})
        self._send(200, out)

    def resolve(self, rec: dict, q: dict, body: bytes, kind: str | None, repo_id: str, rev: str, path: str) -> None:
        hub = self.server_state
        repo = self._repo(kind or "models", repo_id)
        commit = self._commit(repo, rev)
        entry = commit.files.get(path)
        if entry is None:
            raise _Reply(404, {"error": "Entry not found"},
                         {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": commit.oid})
        data = entry.content if entry.content is not None else hub.lfs_path(entry.sha256).read_bytes()
        headers = {"X-Repo-Commit": commit.oid, "ETag": f'"{entry.oid}"', "Accept-Ranges": "bytes",
                   "Content-Type": "application/octet-stream"}
        if entry.sha256:
            headers.update({"X-Linked-Etag": f'"{entry.sha256}"', "X-Linked-Size": str(entry.size)})
        status = 200
        rng = self.headers.get("Range")
        if rng:
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
            if m:
                start = int(m.group(1)) if m.group(1) else max(0, len(data) - int(m.group(2)))
                end = int(m.group(2)) if m.group(1) and m.group(2) else len(data) - 1
                end = min(end, len(data) - 1)
                headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
                data, status = data[start:end + 1], 206
        self._send(status, data, headers)


_WRITE_ROUTES = {"create_repo", "preupload", "commit", "create_tag", "delete_tag", "lfs_batch"}
