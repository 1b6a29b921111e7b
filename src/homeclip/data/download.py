"""Download an official CASAS archive, verify it and extract it safely.

Safety rules: the archive must be a valid zip (every member's CRC checked while it is extracted) and match
`sha256` when one is given (its digest is always returned and recorded); members with absolute paths, `..`
parts, drive letters, symlinks or other special types reject the whole archive. Sizes are capped (`Limits`):
the download (checked against the HTTP Content-Length before and after), the total extracted size, and the
expansion ratio of every large member, so a zip bomb is refused before anything is written and extraction
streams in fixed-size blocks (bounded memory). Existing files are never overwritten: without `force` a file
that would be replaced refuses the whole archive and nothing is written through a symbolic link inside the
output folder; with `force` the output folder is replaced as a whole (staging folder, then swap) and only
when it is empty or an earlier download made it. A failure leaves the output folder as it was. A single
top-level folder in the archive (e.g. `milan/`) is stripped, so the log lands at `<out>/data`.
"""
from __future__ import annotations

import errno
import hashlib
import http.client
import re
import socket
import stat
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from ..errors import UserError
from ..io import atomic_dir, atomic_write_json, replaced_dir, scratch_dir, with_path
from ..paths import plain_name

CASAS_URLS: dict[str, str] = {
    "milan": "https://casas.wsu.edu/datasets/milan.zip",
    "aruba": "https://casas.wsu.edu/datasets/aruba.zip",
    "cairo": "https://casas.wsu.edu/datasets/cairo.zip",
    "kyoto": "https://casas.wsu.edu/datasets/twor.2009.zip",
}
DEFAULT_OUT = Path("data/raw/casas")
RECORD_NAME = "homeclip-download.json"
MIB = 1 << 20
_CHUNK = MIB
# Members smaller than this are not ratio-checked: a tiny README compresses oddly and cannot be a bomb.
RATIO_MIN_BYTES = MIB
_FILE_SYSTEM_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


@dataclass(frozen=True)
class Limits:
    """Caps on what a download may cost. The CASAS archives are a few MB to a few tens of MB zipped and
    about 100 MB of text extracted at most (aruba), and a text log expands about 4-10-fold; the defaults
    leave ample room for them and refuse what is far outside (a zip bomb expands ~1000-fold)."""

    max_download: int = 256 * MIB
    max_extracted: int = 1024 * MIB
    max_ratio: float = 100.0

    def validate(self) -> "Limits":
        """The limits when all are positive, else a UserError naming the option."""
        for name, flag in (("max_download", "--max-download-mb"), ("max_extracted", "--max-extracted-mb"),
                           ("max_ratio", "--max-ratio")):
            if not getattr(self, name) > 0:
                raise UserError(f"{flag} must be positive, found {getattr(self, name):g}")
        return self


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
                   progress: bool = True, limits: Limits = Limits()) -> DownloadResult:
    """Download the CASAS archive of `home` (or `url`), verify it and extract it into `out_dir`."""
    limits.validate()
    if url is None:
        if home not in CASAS_URLS:
            raise UserError(f"unknown CASAS home {home!r}; expected one of {', '.join(CASAS_URLS)} (or give --url)")
        url = CASAS_URLS[home]
    plain_name(home, "the home")          # it names the default output folder
    if sha256 is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
        raise UserError(f"expected a sha256 digest of 64 hex digits, found {sha256!r}")
    out = Path(out_dir) if out_dir is not None else DEFAULT_OUT / home
    if force:
        _check_replaceable(out)
    with scratch_dir(out) as work:        # the archive never lands in the output folder
        archive = work / "archive.zip"
        digest, n_bytes = fetch(url, archive, timeout=timeout, progress=progress, max_bytes=limits.max_download)
        if sha256 is not None and digest != sha256.lower():
            raise UserError(f"sha256 mismatch for {url}: expected {sha256.lower()}, got {digest}; "
                            "nothing was extracted")
        record = {"home": home, "url": url, "sha256": digest, "bytes": n_bytes,
                  "downloaded_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        files = extract_zip(archive, out, force=force, source=url, limits=limits, record=record)
    return DownloadResult(out, url, digest, n_bytes, files, out / RECORD_NAME)


def _check_replaceable(out: Path) -> None:
    """--force replaces the whole folder: only an empty one or one an earlier download made."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise UserError("--force replaces a folder, and this is not one", path=str(out))
    if out.is_dir() and any(out.iterdir()) and not (out / RECORD_NAME).is_file():
        raise UserError(f"--force replaces the whole folder, and this one was not made by `homeclip download` "
                        f"(no {RECORD_NAME}); move its files away or choose another --out", path=str(out))


def _content_length(response) -> int | None:
    value = response.headers.get("Content-Length")
    try:
        length = int(value) if value is not None else None
    except ValueError:
        return None
    return length if length is not None and length >= 0 else None


def fetch(url: str, dest: Path, *, timeout: float = 15.0, progress: bool = True,
          max_bytes: int = Limits.max_download) -> tuple[str, int]:
    """Stream `url` into `dest`; return (sha256 hex digest, size). One clear UserError for any network failure,
    a body larger than `max_bytes`, or one shorter or longer than its Content-Length."""
    from tqdm import tqdm

    digest = hashlib.sha256()
    n_bytes = 0
    length = None
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "homeclip"})
        with urllib.request.urlopen(request, timeout=timeout) as response, dest.open("wb") as fh:
            length = _content_length(response)
            if length is not None and length > max_bytes:
                raise UserError(f"{url} is {_mb(length)} (its Content-Length), more than the download cap of "
                                f"{_mb(max_bytes)} (raise it with --max-download-mb); nothing was downloaded")
            with tqdm(total=length, unit="B", unit_scale=True, desc="download", disable=not progress) as bar:
                while chunk := response.read(_CHUNK):
                    n_bytes += len(chunk)
                    if n_bytes > max_bytes:
                        raise UserError(f"download of {url} passed the cap of {_mb(max_bytes)} (raise it with "
                                        "--max-download-mb); stopped, nothing was extracted")
                    fh.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
    except urllib.error.HTTPError as err:
        raise UserError(f"download failed: {url} answered HTTP {err.code} {err.reason}") from None
    except urllib.error.URLError as err:
        raise UserError(f"cannot reach {url} ({err.reason}); are you offline? Fetch the archive another way and "
                        "pass it as --url file:///path/to/archive.zip") from None
    except (TimeoutError, socket.timeout):
        raise UserError(f"download of {url} timed out after {timeout:g} s; are you offline?") from None
    except http.client.IncompleteRead as err:
        raise UserError(f"download of {url} is incomplete: the connection closed after "
                        f"{n_bytes + len(err.partial)} of {length} bytes; nothing was extracted") from None
    except http.client.HTTPException as err:
        raise UserError(f"download of {url} failed ({type(err).__name__}: {err})") from None
    except ValueError as err:          # malformed URL
        raise UserError(f"cannot download {url!r}: {err}") from None
    except OSError as err:
        if err.filename is not None or err.errno in _FILE_SYSTEM_ERRNOS:
            raise with_path(err, dest) from err    # our disk, not the network: the file-system sentence
        raise UserError(f"download of {url} failed: {err}") from None
    if length is not None and n_bytes != length:
        raise UserError(f"download of {url} is incomplete: {n_bytes} of {length} bytes (its Content-Length); "
                        "nothing was extracted")
    return digest.hexdigest(), n_bytes


def extract_zip(archive: Path, out_dir: Path, *, force: bool = False, source: str | None = None,
                limits: Limits = Limits(), record: dict | None = None) -> list[str]:
    """Extract a zip safely into `out_dir` (see the module docstring); return the extracted relative paths.

    `record`: written next to the files as homeclip-download.json (with the file list), in the same step."""
    source = source or str(archive)
    out_dir = Path(out_dir)
    if force:
        _check_replaceable(out_dir)
    try:
        with zipfile.ZipFile(archive) as zf:
            members = _safe_members(zf, source)
            _check_sizes(members, source, limits)
            names = [rel for _, rel in members] + ([RECORD_NAME] if record is not None else [])
            existing = [rel for rel in names if (out_dir / rel).exists() or (out_dir / rel).is_symlink()]
            if existing and not force:
                raise UserError(f"would overwrite {len(existing)} existing file(s), e.g. {existing[0]}; "
                                "nothing was extracted (use --force to replace the folder)", path=str(out_dir))
            with (replaced_dir(out_dir) if force else atomic_dir(out_dir)) as staging:
                for info, rel in members:
                    _extract_member(zf, info, staging / rel, source)
                if record is not None:
                    atomic_write_json(staging / RECORD_NAME, {**record, "files": [rel for _, rel in members]})
    except (zipfile.BadZipFile, zlib.error, EOFError) as err:
        raise UserError(f"the file from {source} is not a valid zip archive ({err}); nothing was extracted") from None
    return [rel for _, rel in members]


def _extract_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, source: str) -> None:
    """Stream one member to `target` in fixed-size blocks (bounded memory), its CRC checked at the end.

    zipfile never yields more than the member's declared size, and `_check_sizes` capped those."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with zf.open(info) as src, target.open("wb") as dst:
            while block := src.read(_CHUNK):
                dst.write(block)
    except OSError as err:             # a full disk fails in write() or close(), naming no file: name it
        raise with_path(err, target) from err
    except (zipfile.BadZipFile, zlib.error, EOFError) as err:
        what = "bad CRC" if "CRC" in str(err) else str(err)
        raise UserError(f"the archive from {source} is corrupt ({what} in {info.filename!r}); "
                        "nothing was extracted") from None


def _check_sizes(members: list[tuple[zipfile.ZipInfo, str]], source: str, limits: Limits) -> None:
    """Refuse, before anything is written, an archive whose declared sizes exceed the caps (a zip bomb)."""
    total = sum(info.file_size for info, _ in members)
    if total > limits.max_extracted:
        raise UserError(f"the archive from {source} would extract to {_mb(total)}, more than the cap of "
                        f"{_mb(limits.max_extracted)} (raise it with --max-extracted-mb); nothing was extracted")
    for info, _ in members:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= RATIO_MIN_BYTES and ratio > limits.max_ratio:
            raise UserError(f"unsafe archive from {source}: member {info.filename!r} expands {ratio:.0f}-fold "
                            f"(cap {limits.max_ratio:g}, --max-ratio), like a zip bomb; nothing was extracted")


def _mb(n: int) -> str:
    return f"{n / MIB:.1f} MiB"


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
    out = [(info, str(PurePosixPath(*p.parts[1:]) if strip else p)) for info, p in members]
    clash = next((info.filename for info, rel in out if rel == RECORD_NAME), None)
    if clash is not None:
        raise UserError(f"unsafe archive from {source}: member {clash!r} has the name of homeclip's own download "
                        "record; nothing was extracted")
    return out
