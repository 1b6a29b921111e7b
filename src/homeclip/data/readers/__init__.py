"""Reader registry: `read_log` turns any supported raw log into the one `EventLog`; `detect_format` guesses
which format a file is in.

Formats (details and every accepted variant: docs/log-formats.md):
  casas           `date time sensor state [label begin|end]` (Milan, Aruba, Cairo, Kyoto)  casas.py
  casas-labelled  `date time sensor sensor value label` (AL-Smarthome)                      casas_labelled.py
  intervals       van Kasteren / UCI Ordonez interval files (`XSensors.txt` + `XADLs.txt`)  intervals.py

This module also holds the few building blocks every reader shares: loading text with clear errors for
missing, empty and binary files (`read_text_lines`), the bad-line policy (`BadLines`), vectorised timestamp
parsing (`parse_timestamps`), the label rule (`labels_from_spans`) and assembling the table (`build_event_log`).
Reader modules are imported lazily by `read_log`, so importing one reader never loads the others.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import UserError
from ..events import EventLog, ParseReport, empty_numeric

FORMATS: tuple[str, ...] = ("casas", "casas-labelled", "intervals")
_READERS = {
    "casas": ("casas", "read_casas"),
    "casas-labelled": ("casas_labelled", "read_casas_labelled"),
    "intervals": ("intervals", "read_intervals"),
}
MAX_EXAMPLES = 5                       # skipped lines quoted in the report
_SNIFF_BYTES = 65536
_SNIFF_LINES = 50
# States a per-event-labelled line carries in its 5th field (besides numbers).
BINARY_STATES = frozenset({"ON", "OFF", "OPEN", "CLOSE", "CLOSED", "OPENED", "PRESENT", "ABSENT"})
NUMBER_START = frozenset("0123456789+-.")
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}$")
_TIME = re.compile(r"\d{1,2}:\d{2}:\d{2}(\.\d*)?$")
_INTERVAL_STAMP = re.compile(r"\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{2}:\d{2}(\.\d*)?$")


def read_log(path: str | Path, fmt: str = "auto", *, labels_path: str | Path | None = None,
             skip_bad_lines: bool = False) -> EventLog:
    """Read a raw sensor log of any supported format (detected when `fmt` is "auto") into an EventLog."""
    if fmt not in ("auto", *FORMATS):
        raise UserError(f"unknown log format {fmt!r}; expected one of auto, {', '.join(FORMATS)}")
    if fmt == "auto":
        fmt = detect_format(path)
    module_name, function_name = _READERS[fmt]
    reader = getattr(importlib.import_module(f"{__name__}.{module_name}"), function_name)
    if fmt == "intervals":
        return reader(path, labels_path=labels_path, skip_bad_lines=skip_bad_lines)
    if labels_path is not None:
        raise UserError(f"a separate labels file is only used by interval logs, not by {fmt!r} logs",
                        path=str(labels_path))
    return reader(path, skip_bad_lines=skip_bad_lines)


def detect_format(path: str | Path) -> str:
    """Guess the format of a log from its first lines: "casas", "casas-labelled" or "intervals"."""
    path = _existing_file(path)
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    lines = [ln for ln in _decode(head, path).replace("\r", "\n").split("\n") if ln.strip()]
    if len(head) == _SNIFF_BYTES and len(lines) > 1:
        lines.pop()                    # the last line may be cut in the middle
    lines = lines[:_SNIFF_LINES]
    if lines[0].strip().lower().startswith("start time"):
        return "intervals"
    shapes = [_line_shape(ln) for ln in lines]
    n_interval, n_labelled = shapes.count("intervals"), shapes.count("casas-labelled")
    n_casas = n_labelled + shapes.count("casas")
    if n_interval > n_casas:
        return "intervals"
    if n_casas == 0:
        raise UserError(
            "is not a recognised sensor log: expected CASAS lines 'date time sensor state [label begin|end]', "
            f"'date time sensor sensor value label' lines or an interval log, found {quote(lines[0])}",
            path=str(path))
    return "casas-labelled" if 2 * n_labelled > n_casas else "casas"


def _line_shape(line: str) -> str | None:
    """Which format one line looks like (None: none of them)."""
    fields = [f.strip() for f in line.split("\t") if f.strip()]
    if len(fields) >= 3 and _INTERVAL_STAMP.match(fields[0]) and _INTERVAL_STAMP.match(fields[1]):
        return "intervals"
    toks = line.split()
    if len(toks) < 4 or not _DATE.match(toks[0]) or not _TIME.match(toks[1]):
        return None
    last = toks[-1]
    marked = last.lower() in ("begin", "end") or split_marker(last)[1] is not None
    if len(toks) >= 6 and (toks[4].upper() in BINARY_STATES or is_number(toks[4])) and not marked:
        return "casas-labelled"
    return "casas"


# ---------------------------------------------------------------- shared building blocks for the readers


def _existing_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise UserError("no such file", path=str(path))
    if not path.is_file():
        raise UserError("is not a regular file (a directory?); expected a sensor log file", path=str(path))
    return path


def _decode(data: bytes, path: Path, report: ParseReport | None = None) -> str:
    """Text of a log: UTF-8, or Latin-1 (noted) for text-like bytes; one-sentence errors for empty/binary."""
    if not data.strip():
        raise UserError("the file is empty; expected a sensor log", path=str(path))
    if b"\x00" in data:
        raise UserError("is a binary file (it contains NUL bytes), not a text sensor log", path=str(path))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        # Latin-1 decodes any byte; accept it only for text-like content (no control bytes besides white space).
        if re.search(rb"[\x01-\x08\x0e-\x1f\x7f]", data):
            raise UserError(f"is a binary file (undecodable byte at offset {err.start}), not a text sensor log",
                            path=str(path)) from None
    if report is not None:
        report.notes.append(f"{path}: not valid UTF-8; read as Latin-1")
    return data.decode("latin-1")


def read_text_lines(path: str | Path, report: ParseReport) -> list[str]:
    """The lines of a text log without line ends (LF, CRLF or CR); adds their count to report.n_lines."""
    path = _existing_file(path)
    text = _decode(path.read_bytes(), path, report)
    if "\n" not in text:
        text = text.replace("\r", "\n")   # old Mac line ends
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    report.n_lines += len(lines)
    return lines


def quote(line: str, limit: int = 80) -> str:
    """A line as quoted in error messages: stripped and shortened."""
    line = line.strip()
    return repr(line if len(line) <= limit else line[: limit - 3] + "...")


@dataclass
class BadLines:
    """The bad-line policy: stop at the first unparseable line, or skip, count and quote the first few."""

    path: str
    skip: bool
    found: list[tuple[int, str]] = field(default_factory=list)   # (line number, "expected ..., found ...")

    def add(self, line: int, expected: str, found: str) -> None:
        """Record that `line` could not be parsed."""
        self.found.append((line, f"expected {expected}, found {quote(found)}"))

    @property
    def stop(self) -> bool:
        """True once a bad line has been seen and lines are not being skipped."""
        return not self.skip and bool(self.found)

    def settle(self, report: ParseReport) -> None:
        """Raise UserError for the earliest bad line, or record the skipped lines in the report."""
        self.found.sort()
        if self.found and not self.skip:
            line, message = self.found[0]
            raise UserError(message + " (use --skip-bad-lines to skip such lines)", path=self.path, line=line)
        report.n_skipped += len(self.found)
        report.skipped_examples += [f"{self.path}:{ln}: {msg}" for ln, msg in self.found[:MAX_EXAMPLES]]


def is_number(text: str) -> bool:
    """True when a state is a numeric reading (temperature, light, battery...)."""
    if not text or text[0] not in NUMBER_START:
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


def split_marker(word: str) -> tuple[str, str | None]:
    """Split a fused `label-begin` / `label-end` word into (label, marker); marker None when there is none."""
    low = word.lower()
    for marker in ("begin", "end"):
        if low.endswith("-" + marker) and len(word) > len(marker) + 1:
            return word[: -len(marker) - 1], marker
    return word, None


def parse_timestamps(stamps: list[str]) -> np.ndarray:
    """Parse 'YYYY-MM-DD HH:MM:SS[.f]' strings (fraction of 1-9 digits, padded on the right) to
    datetime64[us]; anything else becomes NaT."""
    series = pd.Series(stamps, dtype=object)
    with_fraction = pd.to_datetime(series, format="%Y-%m-%d %H:%M:%S.%f", errors="coerce")
    times = with_fraction.to_numpy(dtype="datetime64[us]", copy=True)
    missing = np.isnat(times)
    if missing.any():
        whole = pd.to_datetime(series[missing], format="%Y-%m-%d %H:%M:%S", errors="coerce")
        times[missing] = whole.to_numpy(dtype="datetime64[us]")
    return times


def count_backwards(times: np.ndarray) -> int:
    """How many entries are earlier than the entry before them (file order)."""
    return int((np.diff(times.astype(np.int64)) < 0).sum()) if len(times) > 1 else 0


def labels_from_spans(n: int, spans: list[tuple[int, int, str]]) -> tuple[np.ndarray, np.ndarray]:
    """Per-row open labels and primary label from activity spans (first row, last row, label), given in
    begin order.

    The label rule: a row carries every span that covers it, as a tuple in begin order (a label open twice
    appears once, at its latest begin); the primary label is the most recently begun one ("" if none)."""
    labels = np.empty(n, dtype=object)
    primary = np.empty(n, dtype=object)
    labels[:] = _as_object(())
    primary[:] = ""
    opening: dict[int, list[int]] = {}
    closing: dict[int, list[int]] = {}
    for sid, (first, last, _) in enumerate(spans):
        opening.setdefault(first, []).append(sid)
        closing.setdefault(last + 1, []).append(sid)
    bounds = sorted(set(opening) | set(closing) | {n})
    active: set[int] = set()
    for start, stop in zip(bounds, bounds[1:]):
        active.difference_update(closing.get(start, ()))
        active.update(opening.get(start, ()))
        if not active or start >= n:
            continue
        in_order = [spans[sid][2] for sid in sorted(active)]
        open_labels = tuple(reversed(dict.fromkeys(reversed(in_order))))
        labels[start:stop] = _as_object(open_labels)
        primary[start:stop] = open_labels[-1]
    return labels, primary


def _as_object(value: object) -> np.ndarray:
    """A one-element object array, so a tuple is assigned to array slices as one value (not broadcast)."""
    holder = np.empty(1, dtype=object)
    holder[0] = value
    return holder


def build_event_log(report: ParseReport, times: np.ndarray, sensors: list[str], states: list[str],
                    values: np.ndarray, labels: np.ndarray, primary: np.ndarray) -> EventLog:
    """Assemble an EventLog from per-row columns in file order: sort stably by time, keep numeric readings
    (non-NaN value) apart, fill the counts in `report`."""
    order = np.argsort(times, kind="stable")
    times, values = times[order], values[order]
    sensors_arr = np.asarray(sensors, dtype=object)[order]
    numeric = ~np.isnan(values)
    binary = ~numeric
    # Plain object columns: converting ~10^6 strings to pandas' string dtype would double the parse time.
    frame = pd.DataFrame({
        "time": times[binary],
        "sensor": pd.Series(sensors_arr[binary], dtype=object),
        "state": pd.Series(np.asarray(states, dtype=object)[order][binary], dtype=object),
        "value": values[binary],
        "labels": pd.Series(labels[order][binary], dtype=object),
        "label": pd.Series(primary[order][binary], dtype=object),
    })
    readings = empty_numeric()
    if numeric.any():
        readings = pd.DataFrame({"time": times[numeric], "sensor": pd.Series(sensors_arr[numeric], dtype=object),
                                 "value": values[numeric]})
    report.n_events, report.n_numeric = int(binary.sum()), int(numeric.sum())
    if report.n_events == 0:
        what = f"only {report.n_numeric} numeric readings" if report.n_numeric else "no readable lines"
        raise UserError(f"contains no binary sensor events (ON/OFF, OPEN/CLOSE...), {what}"
                        f"{f' ({report.n_skipped} bad lines skipped)' if report.n_skipped else ''}",
                        path=report.path)
    return EventLog(frame=frame.reset_index(drop=True), numeric=readings.reset_index(drop=True), report=report)
