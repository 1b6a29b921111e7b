"""The run folder: one run writes into an `output_dir` at a time, and a new run never silently replaces another's.

- `RunLock`: the main process of a run holds an exclusive `flock` on `<output_dir>/.homeclip-run.lock` (which
  also names its pid, host and start time) for the whole run. A second run into the same folder refuses while
  the owner lives. The kernel drops the lock when its owner dies, so a lock file left by a dead process is
  stale: the next run takes it over, with a warning naming the dead owner.
- `claim_output_dir`: a fresh run into a folder that holds another run's outputs (checkpoints, metrics,
  TensorBoard events, ...) refuses unless told to `overwrite` them (removed, and listed in the log) or to
  `resume` that run.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
import socket
from pathlib import Path

from ..errors import UserError
from ..io import with_path

log = logging.getLogger(__name__)

LOCK_NAME = ".homeclip-run.lock"
# What a training run writes into its output_dir (see docs/training.md).
OUTPUT_PATTERNS = ("best_model.pt", "final_model.pt", "checkpoint_step_*.pt", "hyperparameters.json",
                   "run_summary.txt", "metrics.jsonl", "tb/events.out.tfevents.*")


def run_outputs(out: str | Path) -> list[Path]:
    """The files of a training run present in `out` (empty when it holds none)."""
    out = Path(out)
    return sorted({p for pattern in OUTPUT_PATTERNS for p in out.glob(pattern) if p.is_file()})


def claim_output_dir(out: str | Path, *, resume: bool, overwrite: bool) -> list[Path]:
    """Make `out` ready for a run: refuse when it holds another run's outputs, unless resuming that run or
    told to overwrite them (then they are deleted). Returns the files removed."""
    if resume and overwrite:
        raise UserError("--resume continues the run in output_dir and --overwrite replaces it: choose one")
    found = run_outputs(out)
    if not found or resume:
        return []
    if not overwrite:
        shown = ", ".join(str(p.relative_to(out)) for p in found[:4]) + (f" (+{len(found) - 4} more)"
                                                                          if len(found) > 4 else "")
        raise UserError(f"holds the outputs of an earlier run ({shown}); pass --overwrite to replace them, "
                        "--resume auto to continue that run, or choose another output_dir", path=str(out))
    for p in found:
        p.unlink(missing_ok=True)
    log.warning("--overwrite: removed %d file(s) of an earlier run in %s", len(found), out)
    return found


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # it exists, it is just not ours
        return True
    return True


class RunLock:
    """An exclusive lock on a run folder, held by one process (use as a context manager or acquire/release)."""

    def __init__(self, folder: str | Path):
        self.path = Path(folder) / LOCK_NAME
        self._fh = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fh is not None

    def acquire(self) -> "RunLock":
        """Take the lock or raise UserError naming the live owner; a dead owner's lock is taken over."""
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Never unlinked (only emptied on release): unlinking a flock file lets two processes lock two inodes.
        fh = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _read_owner(fh)
            fh.close()
            raise UserError(f"another run ({_describe(owner)}) is writing into this folder; wait for it to finish "
                            "or choose another output_dir", path=str(self.path.parent)) from None
        previous = _read_owner(fh)
        if previous:
            state = "gone" if not _pid_alive(int(previous.get("pid", -1))) else "alive but not holding it"
            log.warning("taking over a stale run lock in %s left by %s (process %s)", self.path.parent,
                        _describe(previous), state)
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "started": _dt.datetime.now().isoformat(timespec="seconds")}) + "\n")
            fh.flush()
        except OSError as err:   # a full disk fails in write()/flush(), without naming the file
            with contextlib.suppress(OSError):
                fh.close()       # close() flushes the same buffer again and fails again
            raise with_path(err, self.path) from None
        self._fh = fh
        return self

    def release(self) -> None:
        """Empty the lock file and drop the lock (idempotent)."""
        if self._fh is None:
            return
        try:
            self._fh.seek(0)
            self._fh.truncate()
            self._fh.flush()
        finally:
            self._fh.close()   # closing the file drops the flock
            self._fh = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _read_owner(fh) -> dict:
    """The owner recorded in an open lock file ({} when empty or unreadable)."""
    fh.seek(0)
    try:
        owner = json.loads(fh.read() or "{}")
    except json.JSONDecodeError:
        return {"pid": -1}
    return owner if isinstance(owner, dict) else {"pid": -1}


def _describe(owner: dict) -> str:
    return (f"pid {owner.get('pid', '?')} on {owner.get('host', '?')}, started {owner.get('started', '?')}"
            if owner else "an unknown process")
