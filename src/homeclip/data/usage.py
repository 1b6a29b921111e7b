"""Which training runs used a prepared dataset: a small append-only record next to the data files.

`homeclip train` appends one line per run to `<data folder>/homeclip_runs.jsonl` (run folder, time, and the
sha256 of each file it read there). `prepare` reads it before writing, so that replacing files a recorded run
was trained or validated on is said out loud instead of happening silently. The record is best effort: a
read-only data folder simply has none.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
from pathlib import Path

from ..io import file_sha256

log = logging.getLogger(__name__)

RECORD_NAME = "homeclip_runs.jsonl"


def record_use(files: dict[str, dict | list[dict]], run_dir: str | Path) -> None:
    """Append to the record of each data folder that the run in `run_dir` read `files` (role -> {path, sha256},
    or a list of them when a run reads several datasets)."""
    by_folder: dict[Path, dict[str, str]] = {}
    entries = [e for value in files.values() for e in (value if isinstance(value, list) else [value])]
    for entry in entries:
        path = Path(entry["path"])
        by_folder.setdefault(path.resolve().parent, {})[path.name] = entry["sha256"]
    for folder, shas in by_folder.items():
        line = {"run": str(Path(run_dir).resolve()), "time": _dt.datetime.now().isoformat(timespec="seconds"),
                "files": shas}
        try:
            with open(folder / RECORD_NAME, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(line) + "\n")
        except OSError as err:   # e.g. a read-only shared data folder: the record is a courtesy, not a need
            log.debug("could not record the run in %s (%s)", folder, err)


def runs_using(folder: str | Path, names: list[str]) -> dict[str, list[str]]:
    """Recorded runs that used the current content of files `names` in `folder`: file name -> run folders."""
    folder = Path(folder)
    record = folder / RECORD_NAME
    if not record.is_file():
        return {}
    current: dict[str, str | None] = {}
    used: dict[str, list[str]] = {}
    for line in record.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
            files, run = dict(entry["files"]), str(entry["run"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            continue   # a torn or foreign line says nothing about the files
        for name, sha in files.items():
            if name not in names:
                continue
            if name not in current:
                current[name] = file_sha256(folder / name) if (folder / name).is_file() else None
            if current[name] == sha and run not in used.setdefault(name, []):
                used[name].append(run)
    return {name: runs for name, runs in used.items() if runs}


def replacing_used_files_warning(folder: str | Path, names: list[str]) -> str | None:
    """The warning `prepare` gives before replacing files a recorded run used (None when there are none)."""
    used = runs_using(folder, names)
    if not used:
        return None
    runs = sorted({run for r in used.values() for run in r})
    return (f"replacing {', '.join(sorted(used))} in {folder}, which {len(runs)} recorded run(s) used "
            f"({', '.join(runs[:3])}{' ...' if len(runs) > 3 else ''}): their checkpoints record the old "
            "files' sha256 and will no longer match this dataset")
