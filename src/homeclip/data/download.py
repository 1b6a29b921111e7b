"""Download an official CASAS archive, verify it and extract it safely.

Safety rules: the archive must be a valid zip (every member's CRC checked) and match `sha256` when one is
given (its digest is always returned and recorded); members with absolute paths, `..` parts, drive letters,
symlinks or other special types reject the whole archive; existing files are never overwritten unless
`force`; extraction goes to a temporary folder first and files are moved into place only when everything
succeeded, so a failure leaves the output folder as it was. A single top-level folder in the archive (e.g.
`milan/`) is stripped, so the log lands at `<out>/data`.
"""
from __future__ import annotations

import hashlib
import re
import shutil
import socket
import stat
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from ..errors import UserError
from ..io import atomic_dir, atomic_write_json

CASAS_URLS: dict[str, str] = {
    "milan": "https://casas.wsu.edu/datasets/milan.zip",
    "aruba": "https://casas.wsu.edu/datasets/aruba.zip",
    "cairo": "https://casas.wsu.edu/datasets/cairo.zip",
    "kyoto": "https://casas.wsu.edu/datasets/twor.2009.zip",
}
DEFAULT_OUT = Path("data/raw/casas")
RECORD_NAME = "homeclip-download.json"
_CHUNK = 1 << 20


@dataclass
class DownloadResult:
    """What was downloaded and where it went."""

    out_dir: Path
    url: str
    sha256: str
    n_bytes: int
    files: list[str]            # extracted files, relative to out_dir
    record: Path                # JSON record of url, digest and files

    @property
    def log_file(self) -> Path | None:
        """The raw CASAS log (`data`) among the extracted files, if there is one."""
        return next((self.out_dir / f for f in self.files if PurePosixPath(f).name == "data"), None)


def download_casas(home: str, out_dir: str | Path | None = None, *, url: str | None = None,
                   sha256: str | None = None, force: bool = False, timeout: float = 15.0,
                   progress: bool = True) -> DownloadResult:
    """Download the CASAS archive of `home` (or `url`), verify it and extract it into `out_dir`."""
    if url is None:
        if home not in CASAS_URLS:
            raise UserError(f"unknown CASAS home {home!r}; expected one of {', '.join(CASAS_URLS)} (or give --url)")
        url = CASAS_URLS[home]
    if sha256 is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
        raise UserError(f"expected a sha256 digest of 64 hex digits, found {sha256!r}")
    out = Path(out_dir) if out_dir is not None else DEFAULT_OUT / home
    with tempfile.TemporaryDirectory(prefix="homeclip-download-") as tmp:   # a failed download leaves nothing
        archive = Path(tmp) / "archive.zip"
        digest, n_bytes = fetch(url, archive, timeout=timeout, progress=progress)
        if sha256 is not None and digest != sha256.lower():
            raise UserError(f"sha256 mismatch for {url}: expected {sha256.lower()}, got {digest}; "
                            "nothing was extracted")
        files = extract_zip(archive, out, force=force, source=url)
    record = atomic_write_json(out / RECORD_NAME, {
        "home": home, "url": url, "sha256": digest, "bytes": n_bytes, "files": files,
        "downloaded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    })
    return DownloadResult(out, url, digest, n_bytes, files, record)


def fetch(url: str, dest: Path, *, timeout: float = 15.0, progress: bool = True) -> tuple[str, int]:
    """Stream `url` into `dest`; return (sha256 hex digest, size). One clear UserError for any network failure."""
    from tqdm import tqdm

    digest = hashlib.sha256()
    n_bytes = 0
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "homeclip"})
        with urllib.request.urlopen(request, timeout=timeout) as response, dest.open("wb") as fh:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc="download", disable=not progress) as bar:
                while chunk := response.read(_CHUNK):
                    fh.write(chunk)
                    digest.update(chunk)
                    n_bytes += len(chunk)
                    bar.update(len(chunk))
    except urllib.error.HTTPError as err:
        raise UserError(f"download failed: {url} answered HTTP {err.code} {err.reason}") from None
    except urllib.error.URLError as err:
        raise UserError(f"cannot reach {url} ({err.reason}); are you offline? Fetch the archive another way and "
                        "pass it as --url file:///path/to/archive.zip") from None
    except (TimeoutError, socket.timeout):
        raise UserError(f"download of {url} timed out after {timeout:g} s; are you offline?") from None
    except ValueError as err:          # malformed URL
        raise UserError(f"cannot download {url!r}: {err}") from None
    except OSError as err:             # connection reset mid-transfer, disk full...
        raise UserError(f"download of {url} failed: {err}") from None
    return digest.hexdigest(), n_bytes


def extract_zip(archive: Path, out_dir: Path, *, force: bool = False, source: str | None = None) -> list[str]:
    """Extract a zip safely into `out_dir` (see the module docstring); return the extracted relative paths."""
    source = source or str(archive)
    try:
        with zipfile.ZipFile(archive) as zf:
            broken = zf.testzip()
            if broken is not None:
                raise UserError(f"the archive from {source} is corrupt (bad CRC in {broken!r}); nothing was extracted")
            members = _safe_members(zf, source)
            existing = [rel for _, rel in members if (out_dir / rel).exists()]
            if existing and not force:
                raise UserError(f"would overwrite {len(existing)} existing file(s), e.g. {existing[0]}; "
                                "nothing was extracted (use --force to overwrite)", path=str(out_dir))
            with atomic_dir(out_dir) as staging:
                for info, rel in members:
                    target = staging / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, target.open("wb") as dst:
                        shutil.copyfileobj(src, dst, _CHUNK)
    except (zipfile.BadZipFile, zlib.error, EOFError) as err:
        raise UserError(f"the file from {source} is not a valid zip archive ({err}); nothing was extracted") from None
    return [rel for _, rel in members]


def _safe_members(zf: zipfile.ZipFile, source: str) -> list[tuple[zipfile.ZipInfo, str]]:
    """Regular-file members with their relative target paths; UserError when any member is unsafe."""
    members: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
    for info in zf.infolist():
        name = info.filename.replace("\\", "/")
        path = PurePosixPath(name)
        kind = stat.S_IFMT(info.external_attr >> 16)
        problem = None
        if name.startswith("/") or re.match(r"[A-Za-z]:", name):
            problem = "has an absolute path"
        elif ".." in path.parts:
            problem = "would be written outside the output folder"
        elif kind == stat.S_IFLNK:
            problem = "is a symbolic link"
        elif kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            problem = "is not a regular file"
        if problem:
            raise UserError(f"unsafe archive from {source}: member {info.filename!r} {problem}; nothing was extracted")
        if not info.is_dir():
            members.append((info, path))
    if not members:
        raise UserError(f"the archive from {source} contains no files")
    tops = {p.parts[0] for _, p in members}
    strip = len(tops) == 1 and all(len(p.parts) > 1 for _, p in members)
    return [(info, str(PurePosixPath(*p.parts[1:]) if strip else p)) for info, p in members]
