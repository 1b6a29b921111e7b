"""Which files a `--raw` argument names: a file, a folder (its files, not its subfolders), a glob pattern, or a
list of any of these; and the activity file that goes with a sensor file.

Files named one by one must all be logs (an error otherwise). Members of a folder or glob that are not logs
(a README, a checksum list, an empty file) are skipped and reported, and an activity file whose sensor file is
among them (`XADLs.txt` next to `XSensors.txt`, `kasterenActData.txt` next to `kasterenSenseData.txt`) is
read as that file's labels, not as a log of its own. The same file named twice is an error.
"""
from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ...errors import UserError

# Sensor-file name part -> activity-file name part (UCI Ordonez; van Kasteren as distributed by pyadlml).
COMPANION_NAMES = (("Sensors", "ADLs"), ("SenseData", "ActData"))
_GLOB_CHARS = frozenset("*?[")


@dataclass
class Inputs:
    """The files to read, in the order given, and the members of folders/globs that may be skipped."""

    files: list[Path] = field(default_factory=list)
    optional: set[Path] = field(default_factory=set)     # from a folder or glob: skipped (reported) if not a log
    described_as: str = ""                               # the argument as the user gave it, for reports


def describe_raw(raw: object) -> str:
    """The raw argument as the user gave it, for reports: a path, paths joined by ", ", or "<DataFrame>"."""
    if type(raw).__name__ == "DataFrame":
        return "<DataFrame>"
    return str(raw) if isinstance(raw, (str, Path)) else ", ".join(str(item) for item in raw)   # type: ignore


def resolve_inputs(raw: str | Path | Iterable[str | Path]) -> Inputs:
    """The files named by `raw` (file, folder, glob, or a list of them); UserError when one names nothing."""
    items = [raw] if isinstance(raw, (str, Path)) else list(raw)
    if not items:
        raise UserError("no raw log given; expected a file, a folder or a glob pattern")
    out = Inputs(described_as=describe_raw(items))
    seen: dict[Path, str] = {}
    for item in items:
        for path, optional in _expand(item):
            key = path.resolve()
            if key in seen:
                if optional:
                    continue                 # a folder/glob that also matches a file named on its own
                raise UserError(f"is given twice (also as {seen[key]}); each file is read once", path=str(path))
            seen[key] = str(item)
            out.files.append(path)
            if optional:
                out.optional.add(path)
    members = {p.resolve() for p in out.files}
    companions = {c.resolve() for p in out.files if (c := companion_file(p)) is not None and c.resolve() in members}
    out.files = [p for p in out.files if not (p in out.optional and p.resolve() in companions)]
    return out


def _expand(item: str | Path) -> list[tuple[Path, bool]]:
    """(path, from a folder or glob) for one argument."""
    path = Path(item).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            raise UserError("the folder holds no files; expected sensor log files", path=str(path))
        return [(p, True) for p in files]
    if path.exists() or not _GLOB_CHARS & set(str(item)):
        return [(path, False)]
    matches = sorted(Path(m) for m in glob.glob(str(path), recursive=True))
    files = [p for p in matches if p.is_file() and not p.name.startswith(".")]
    if not files:
        raise UserError("no file matches this pattern", path=str(item))
    return [(p, True) for p in files]


def companion_file(sensor_path: str | Path) -> Path | None:
    """The activity file next to a sensor file by its naming (`XSensors.txt` -> `XADLs.txt`,
    `XSenseData.txt` -> `XActData.txt`), if it exists."""
    name = companion_name(sensor_path)
    candidate = Path(sensor_path).with_name(name) if name else None
    return candidate if candidate is not None and candidate.is_file() else None


def companion_name(sensor_path: str | Path) -> str:
    """The activity file's name for a sensor file ("" when its name follows no known convention)."""
    name = Path(sensor_path).name
    for sensor_part, activity_part in COMPANION_NAMES:
        stem, sep, rest = name.rpartition(sensor_part)
        if sep:
            return f"{stem}{activity_part}{rest}"
    return ""
