"""A fake Hugging Face model hub on 127.0.0.1: the part of the hub HTTP API that huggingface_hub's
`hf_hub_download` / `snapshot_download` (and so transformers, sentence-transformers and chronos-forecasting)
use, serving repositories from a local folder.

    hub = FakeHub(root)             # root/<owner>/<name>/<files...>
    hub.start()                     # hub.url -> set HF_ENDPOINT to it
    ...
    hub.stop()                      # later connections are refused, as when a machine goes offline

Endpoints (GET and HEAD):
  /api/models/<repo>[/revision/<rev>]          model info: id, sha (the commit), siblings
  /api/models/<repo>/tree/<rev>[/<path>]       file listing: path, size, oid (git blob sha1), lfs (sha256) for weights
  /<repo>/resolve/<rev>/<path>                 the file, with ETag (lfs sha256 or blob sha1), X-Repo-Commit and
                                               Content-Length; Range requests; 404 + X-Error-Code for a missing
                                               file (EntryNotFound) or repository (RepoNotFound)
Every request is logged in `requests` as (method, path).
"""
from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".onnx", ".msgpack", ".h5")


class FakeHub:
    """Serves every repository below `root` (two folder levels: owner/name) on a free port of 127.0.0.1."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.requests: list[tuple[str, str]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> str:
        """Start serving; returns the endpoint URL."""
        hub = self

        class Handler(_Handler):
            fake_hub = hub

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        """Stop serving and close the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)

    def __enter__(self) -> "FakeHub":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def downloaded(self, repo_id: str) -> list[str]:
        """Files of `repo_id` whose content was sent (GET on resolve)."""
        prefix = f"/{repo_id}/resolve/"
        return sorted({path[len(prefix):].split("/", 1)[1] for method, path in self.requests
                       if method == "GET" and path.startswith(prefix)})

    # ------------------------------------------------------------------ repository contents
    def files(self, repo_id: str) -> dict[str, Path]:
        """path in repo -> file on disk (KeyError when the repository does not exist)."""
        base = self.root / repo_id
        if repo_id.count("/") != 1 or not base.is_dir():
            raise KeyError(repo_id)
        return {p.relative_to(base).as_posix(): p for p in sorted(base.rglob("*")) if p.is_file()}

    def commit(self, repo_id: str) -> str:
        """A 40-hex commit id that changes with the repository's contents."""
        h = hashlib.sha1()
        for path, file in self.files(repo_id).items():
            h.update(f"{path}|{_etag(file)}|".encode())
        return h.hexdigest()


def _blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _etag(file: Path) -> str:
    data = file.read_bytes()
    return hashlib.sha256(data).hexdigest() if file.name.endswith(LFS_SUFFIXES) else _blob_sha1(data)


class _Handler(BaseHTTPRequestHandler):
    fake_hub: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:       # quiet: the test reads `requests` instead
        pass

    def do_HEAD(self) -> None:                  # noqa: N802 - http.server's naming
        self._answer(body=False)

    def do_GET(self) -> None:                   # noqa: N802
        self._answer(body=True)

    def _answer(self, body: bool) -> None:
        hub = self.fake_hub
        path = unquote(urlsplit(self.path).path)
        hub.requests.append((self.command, path))
        parts = [p for p in path.split("/") if p]
        try:
            if parts[:2] == ["api", "models"]:
                return self._api(parts[2:], body)
            if len(parts) >= 5 and parts[2] == "resolve":
                return self._resolve("/".join(parts[:2]), parts[3], "/".join(parts[4:]), body)
        except KeyError:
            return self._error(404, "RepoNotFound", body)
        self._error(404, "RepoNotFound", body)

    def _api(self, rest: list[str], body: bool) -> None:
        hub = self.fake_hub
        repo_id = "/".join(rest[:2])
        files = hub.files(repo_id)
        commit = hub.commit(repo_id)
        tail = rest[2:]
        if not tail or tail[0] == "revision":
            info = {"id": repo_id, "modelId": repo_id, "sha": commit, "private": False, "disabled": False,
                    "gated": False, "downloads": 0, "likes": 0, "tags": [], "library_name": None,
                    "lastModified": "2025-01-01T00:00:00.000Z", "siblings": [{"rfilename": p} for p in files]}
            return self._json(info, body, commit)
        if tail[0] == "tree":
            prefix = "/".join(tail[2:])
            entries = []
            for p, file in files.items():
                if prefix and not p.startswith(prefix.rstrip("/") + "/"):
                    continue
                data = file.read_bytes()
                entry = {"type": "file", "oid": _blob_sha1(data), "size": len(data), "path": p}
                if file.name.endswith(LFS_SUFFIXES):
                    entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
                entries.append(entry)
            return self._json(entries, body, commit)
        self._error(404, "EntryNotFound", body)

    def _resolve(self, repo_id: str, revision: str, filename: str, body: bool) -> None:
        hub = self.fake_hub
        files = hub.files(repo_id)
        commit = hub.commit(repo_id)
        if revision not in ("main", commit):
            return self._error(404, "RevisionNotFound", body)
        if filename not in files:
            return self._error(404, "EntryNotFound", body, commit)
        data = files[filename].read_bytes()
        status, start = 200, 0
        ranged = self.headers.get("Range", "")
        if ranged.startswith("bytes="):
            first, _, last = ranged[len("bytes="):].partition("-")
            start = int(first or 0)
            end = int(last) + 1 if last else len(data)
            data, status = data[start:end], 206
        self.send_response(status)
        self.send_header("ETag", f'"{_etag(files[filename])}"')
        self.send_header("X-Repo-Commit", commit)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _json(self, obj, body: bool, commit: str) -> None:
        data = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Repo-Commit", commit)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _error(self, status: int, code: str, body: bool, commit: str | None = None) -> None:
        data = json.dumps({"error": f"{code}: {self.path}"}).encode()
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", code)
        if commit:
            self.send_header("X-Repo-Commit", commit)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)
