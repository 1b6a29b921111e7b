"""Atomic file output: a failed run never leaves a half-written file or directory behind.

Every temporary file and staging folder homeclip makes is named `.homeclip-tmp-<host>-<pid>-<random>.<target>.tmp…`
(`TEMP_PREFIX`): recognisable, never taken for an output, and removed by the next writer into the same folder
once the process that made it is gone (`remove_stale_temps`), so a killed run leaves nothing behind for long.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from .errors import UserError

TEMP_PREFIX = ".homeclip-tmp-"
# A temp of another machine (a shared disk) cannot be checked by pid: it is stale after this many seconds.
FOREIGN_TEMP_MAX_AGE_S = 24 * 3600
_TEMP_NAME = re.compile(r"^\.homeclip-tmp-(?P<host>[A-Za-z0-9]*)-(?P<pid>\d+)-[^.]+\.(?P<target>.+)\.(tmp|old)(\.[^.]*)?$")
log = logging.getLogger(__name__)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _default_mode() -> int:
    # mkstemp creates files 0600; give outputs the permissions a plain open() would (0666 minus the umask).
    return 0o666 & ~_umask()


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32]


def _temp_prefix() -> str:
    return f"{TEMP_PREFIX}{_host()}-{os.getpid()}-"


def is_temp_name(name: str) -> bool:
    """Whether a file or folder name is one of homeclip's temporary files or staging folders."""
    return name.startswith(TEMP_PREFIX)


def temp_target(path: str | os.PathLike) -> Path:
    """The output a temporary path stands for (`path` itself when it is not a temp name)."""
    path = Path(path)
    for part in (path, *path.parents):
        m = _TEMP_NAME.match(part.name)
        if m:
            return part.parent / m.group("target") / path.relative_to(part)
    return path


def _is_stale(entry: Path, host: str, now: float) -> bool:
    """A temp of a process that is gone: by pid on this machine, by age for another machine's."""
    m = _TEMP_NAME.match(entry.name)
    if m is None:
        return False
    if m.group("host") != host:
        try:
            return now - entry.lstat().st_mtime > FOREIGN_TEMP_MAX_AGE_S
        except FileNotFoundError:
            return False
    pid = int(m.group("pid"))
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:       # alive, another user's
        return False
    return False


def remove_stale_temps(folder: str | os.PathLike) -> list[Path]:
    """Remove the temp files and staging folders that dead homeclip processes left in `folder`; never a live
    run's. Returns what was removed."""
    folder = Path(folder)
    try:
        entries = [e for e in folder.iterdir() if is_temp_name(e.name)]
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []
    host, now, removed = _host(), time.time(), []
    for entry in entries:
        if not _is_stale(entry, host, now):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except FileNotFoundError:
            continue
        except OSError as err:     # e.g. a read-only folder: the write that follows reports it
            log.debug("could not remove stale temp %s (%s)", entry, err)
            continue
        removed.append(entry)
    if removed:
        log.info("removed %d temp file(s) left in %s by an interrupted run", len(removed), folder)
    return removed


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` via a temporary file in the same directory, fsync and an atomic rename."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Atomically write UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any, *, indent: int | None = 2) -> Path:
    """Atomically write an object as JSON (NaN is rejected: outputs must be valid JSON)."""
    return atomic_write_text(path, json.dumps(obj, indent=indent, allow_nan=False, default=_json_default) + "\n")


def with_path(err: OSError, path: str | os.PathLike) -> OSError:
    """The same OSError naming `path` when it names no file (a full disk fails in write(), without a name)."""
    if err.filename is not None or err.errno is None:
        return err
    return OSError(err.errno, err.strerror or os.strerror(err.errno), str(path))   # the errno's own subclass


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success it is renamed onto `path`, on failure removed.

    For writers that insist on a file name (torch.save, pyarrow, matplotlib)."""
    path = Path(path)
    created = _make_parents(path.parent)
    tmp_path = None
    try:
        remove_stale_temps(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(), suffix=f".{path.name}.tmp{path.suffix}", dir=path.parent)
        os.close(fd)
        tmp_path = Path(tmp)
        yield tmp_path
        if tmp_path.exists():
            os.chmod(tmp_path, _default_mode())
        os.replace(tmp_path, path)
    except BaseException as err:
        if tmp_path is not None:
            with contextlib.suppress(OSError):
                tmp_path.unlink()
        _remove_empty(created)
        if isinstance(err, OSError):
            raise with_path(err, path) from err.__cause__
        raise


def _make_parents(folder: Path) -> list[Path]:
    """Create `folder` with its missing parents; return the ones created, outermost first."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    return missing[::-1]


def _remove_empty(folders: list[Path]) -> None:
    """Remove folders a failed write created, innermost first, as long as they are empty."""
    for folder in reversed(folders):
        with contextlib.suppress(OSError):
            folder.rmdir()


def _staging_dir(parent: Path, name: str, kind: str = "tmp") -> Path:
    return Path(tempfile.mkdtemp(prefix=_temp_prefix(), suffix=f".{name}.{kind}", dir=parent))


def _check_no_symlink(root: Path, dest: Path) -> None:
    """Refuse to write through a symbolic link that already exists at or inside the target folder."""
    part = dest
    while part != root:
        if part.is_symlink():
            raise UserError("is a symbolic link inside the output folder; refusing to write through it "
                            "(remove the link or choose another folder)", path=str(part))
        part = part.parent


@contextlib.contextmanager
def scratch_dir(near: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder next to `near` (same disk, recognisable name), removed afterwards whatever happens."""
    near = Path(near)
    created = _make_parents(near.parent)
    tmp = None
    try:
        remove_stale_temps(near.parent)
        tmp = _staging_dir(near.parent, near.name)
        yield tmp
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        _remove_empty(created)           # a failed run leaves no empty folders behind either
        raise
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _staged(path: str | os.PathLike, finish: Callable[[Path, Path], None]) -> Iterator[Path]:
    """Yield a staging folder next to `path`; on success `finish(staging, path)` puts its content in place."""
    path = Path(path)
    with scratch_dir(path) as tmp:
        try:
            yield tmp
            finish(tmp, path)
        except OSError as err:
            raise with_path(err, path) from err.__cause__


def atomic_dir(path: str | os.PathLike) -> contextlib.AbstractContextManager[Path]:
    """Yield a staging directory; on success its files are moved into `path` (created if needed).

    Existing files in `path` that the run did not write are left alone. A failure, before or during the move,
    leaves `path` as it was: files it replaced are put back, files it added are removed."""
    return _staged(path, _move_into)


def _move_into(staging: Path, path: Path) -> None:
    """Move the files of `staging` into `path`, all or nothing (see `atomic_dir`)."""
    items = [p for p in sorted(staging.rglob("*"))
             if p.is_file() and not p.is_symlink() and not any(is_temp_name(x) for x in p.relative_to(staging).parts)]
    rels = [p.relative_to(staging) for p in items]
    for rel in rels:
        _check_no_symlink(path, path / rel)
    created: list[Path] = [] if path.exists() else [path]
    path.mkdir(exist_ok=True)
    remove_stale_temps(path)
    backup: Path | None = None
    done: list[tuple[Path, Path | None]] = []     # (destination, where its old file waits) in move order
    mode = _default_mode()
    try:
        for item, rel in zip(items, rels):
            dest = path / rel
            for parent in reversed(dest.relative_to(path).parents[:-1]):
                if not (path / parent).exists():
                    (path / parent).mkdir()
                    created.append(path / parent)
            os.chmod(item, mode)
            saved = None
            if dest.exists():
                backup = backup or _staging_dir(path, path.name, "old")
                saved = backup / rel
                saved.parent.mkdir(parents=True, exist_ok=True)
                os.replace(dest, saved)
            done.append((dest, saved))
            os.replace(item, dest)
    except BaseException:
        _roll_back(done, created)
        raise
    finally:
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)


def _roll_back(done: list[tuple[Path, Path | None]], created: list[Path]) -> None:
    """Undo a partial move: new files out, old files back, folders the move created removed."""
    for dest, saved in reversed(done):
        try:
            if saved is not None and saved.exists():
                os.replace(saved, dest)
            elif saved is None:
                dest.unlink(missing_ok=True)
        except OSError as err:  # pragma: no cover - the disk failed twice; say what may be left
            log.error("could not restore %s after a failed move (%s)", dest, err)
    for folder in reversed(created):
        with contextlib.suppress(OSError):
            folder.rmdir()


def replaced_dir(path: str | os.PathLike) -> contextlib.AbstractContextManager[Path]:
    """Yield an empty staging directory that replaces `path` as a whole on success (staging, then swap).

    `path` is never half old, half new: the old folder is renamed aside, the staging folder renamed into its
    place, and the old one removed; a failure at any point leaves the old folder in place."""
    return _staged(path, _swap_in)


def _swap_in(staging: Path, path: Path) -> None:
    """Rename `staging` onto `path`, the old `path` set aside first and removed last (put back on failure)."""
    os.chmod(staging, 0o777 & ~_umask())     # mkdtemp made it private; the result is an ordinary folder
    old = None
    if path.exists() or path.is_symlink():
        old = path.parent / f"{_temp_prefix()}{secrets.token_hex(4)}.{path.name}.old"
        os.replace(path, old)
    try:
        os.replace(staging, path)
    except BaseException:
        if old is not None:
            os.replace(old, path)
        raise
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


_REASONS = {
    errno.ENOSPC: "no space left on the device (free some space or choose another folder)",
    errno.EDQUOT: "disk quota exceeded (free some space or choose another folder)",
    errno.EROFS: "the file system is read-only (choose a writable folder)",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOENT: "no such file or folder",
    errno.ENOTDIR: "a part of this path is a file, not a folder",
    errno.EISDIR: "is a folder, not a file",
    errno.EEXIST: "already exists",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EXDEV: "cannot move files across file systems",
    errno.EIO: "input/output error (a failing disk or a lost network mount)",
}


def describe_os_error(err: OSError) -> str:
    """One sentence for a file-system error: the file it concerns (the output, not a temp name) and why."""
    reason = _REASONS.get(err.errno) if err.errno is not None else None
    reason = reason or (err.strerror or str(err) or type(err).__name__)
    if err.filename is None:
        return reason
    name = os.fsdecode(err.filename) if isinstance(err.filename, (str, bytes)) else str(err.filename)
    return f"{temp_target(name)}: {reason}"


def parse_json(data: bytes | str, path: str | os.PathLike) -> Any:
    """JSON text of the file `path`; UserError naming the file and line when it is not JSON."""
    try:
        return json.loads(data)
    except json.JSONDecodeError as err:
        raise UserError(f"not valid JSON: {err.msg} (column {err.colno})", path=str(path), line=err.lineno) \
            from None
    except UnicodeDecodeError as err:
        raise UserError(f"not valid JSON: not UTF-8 text ({err.reason} at byte {err.start})", path=str(path)) \
            from None


def read_json(path: str | os.PathLike, what: str = "file") -> Any:
    """The JSON document in `path`; one clear UserError when it is missing or not JSON (`what` names it)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise UserError(f"{what} not found", path=str(path)) from None
    return parse_json(data, path)


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
