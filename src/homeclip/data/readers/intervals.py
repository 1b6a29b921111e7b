"""Interval logs: sensor activation intervals -> ON/OFF events, activity intervals -> labels.

Two files: the sensor file (the raw input) and its activity file, given explicitly or found next to the sensor
file by its naming (`XSensors.txt` -> `XADLs.txt`, `XSenseData.txt` -> `XActData.txt`). Two variants:
- UCI Ordonez: an optional header row `Start time  End time  Location Type Place` (or `... Activity`), an
  optional line of dashes, then `start<TAB>end<TAB>fields...` rows with `YYYY-MM-DD HH:MM:SS` times; sensors
  are named "<Location>_<Type>_<Place>" (e.g. "Basin_PIR_Bathroom").
- van Kasteren: a free-text preamble listing ID -> name (`[ 5]  'Hall-Toilet door'`, `10:'go to bed'`), the
  header row `Start time  End time  ID  Val` (sensors) or `... ID` (activities), dashes, rows with
  `DD-Mon-YYYY HH:MM:SS` times, and a last line `Length: N` (checked against the rows read). Sensors and
  activities are named by the preamble's names with every run of white space replaced by `_`
  ("Hall-Toilet_door", "use_toilet"); an ID the preamble does not name keeps its number (reported). Val must
  be 1 (an activation).
Rows are split on tabs only (runs of tabs, stray spaces and trailing tabs are tolerated; times contain a space).

Events: ON at the start, OFF at the end of each sensor interval, sorted stably by time, so a zero-length
activation gives ON then OFF at the same time. report.n_out_of_order counts rows starting earlier than the row
before them.

Labels: an event carries every activity interval that covers its time (ends included) as a tuple in begin
order (by start time, then file order); the primary label is the most recently begun one. Overlapping rows
therefore keep both labels; events outside every interval (e.g. after the last row) are unlabelled.
A row whose end is before its start is dropped and reported as "file:line: ..." in report.notes; it is never
repaired by guessing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ...errors import UserError
from ..events import EventLog, ParseReport
from .common import BadLines, build_event_log, labels_from_spans, record_order
from .sources import companion_file, companion_name
from .text import read_text_lines
from .times import english_month_dates, parse_timestamps

if TYPE_CHECKING:
    from . import ReadOptions

EXPECTED_TIMES = "start and end times 'YYYY-MM-DD HH:MM:SS' or 'DD-Mon-YYYY HH:MM:SS' (year 1980-2099)"
# Header columns after the two times -> (role, variant).
SCHEMAS = {("location", "type", "place"): ("sensors", "uci"), ("activity",): ("activities", "uci"),
           ("id", "val"): ("sensors", "ids"), ("id",): ("activities", "ids")}
DEFAULT_COLUMNS = {"sensors": ("Location", "Type", "Place"), "activities": ("Activity",)}
_ID_NAME = re.compile(r"""^\s*\[?\s*(\d+)\s*\]?\s*:?\s*(['"])(.*?)\2\s*$""")
_TRAILER = re.compile(r"^\s*length\s*:\s*(\d+)\s*$", re.IGNORECASE)


@dataclass
class Intervals:
    """The parsed rows of one interval file (rows with unparseable or reversed times already removed)."""

    start: np.ndarray            # datetime64[us]
    end: np.ndarray              # datetime64[us]
    names: list[str]             # sensor name or activity label per row
    linenos: list[int]
    residents: list[str] = field(default_factory=list)   # activity tables with a resident column: per row


def read_intervals(path: str | Path, options: "ReadOptions") -> EventLog:
    """Read an interval sensor file (plus its activity file, given or found by its naming) into an EventLog."""
    report = ParseReport(path=str(path), format="intervals")
    sensors = read_interval_file(path, "sensors", report, options.skip_bad_lines)
    record_order(report, sensors.start, sensors.linenos)

    n = len(sensors.names)
    times = np.empty(2 * n, dtype="datetime64[us]")
    times[0::2], times[1::2] = sensors.start, sensors.end
    # Stable sort of the ON, OFF, ON, OFF... sequence: a zero-length activation stays ON then OFF.
    order = np.argsort(times, kind="stable")
    times = times[order]
    names = np.repeat(np.asarray(sensors.names, dtype=object), 2)[order]
    states = np.tile(np.asarray(["ON", "OFF"], dtype=object), n)[order]

    if options.labels is not None and not isinstance(options.labels, (str, Path)):
        raise UserError("an interval log's labels must be an activity file (a path), not a table in memory",
                        path=str(path))
    labels_file = Path(options.labels) if options.labels is not None else companion_file(path)
    spans: list[tuple[int, int, str]] = []
    if labels_file is None:
        expected = companion_name(path)
        report.notes.append(f"no activity file given or found next to it{f' (expected {expected})' if expected else ''}"
                            "; events are unlabelled")
    else:
        report.notes.append(f"activity labels from {labels_file}")
        report.labels_from = str(labels_file)
        spans = label_spans(times, read_interval_file(labels_file, "activities", report, options.skip_bad_lines))
    labels, primary, _ = labels_from_spans(len(times), spans)
    n_unlabelled = sum(1 for open_labels in labels if not open_labels)
    if labels_file is not None and n_unlabelled:
        report.notes.append(f"{n_unlabelled} of {len(times)} events lie outside every activity interval "
                            "(unlabelled)")
    return build_event_log(report, times, list(names), list(states), np.full(len(times), np.nan),
                           labels, primary)


def read_interval_file(path: str | Path, role: str, report: ParseReport, skip_bad_lines: bool) -> Intervals:
    """Parse one interval file of `role` ("sensors" or "activities"); counts go into `report`."""
    path_str = str(path)
    text = read_text_lines(path, report)
    lines = text.lines
    bad = BadLines(path_str, skip_bad_lines)
    bad.add_control(text.control, lines)
    header = _find_header(lines)
    columns = DEFAULT_COLUMNS[role] if header is None else _check_header(lines[header], role, path_str, header + 1)
    variant = SCHEMAS[tuple(c.lower() for c in columns)][1]
    id_names = _preamble_names([line for i, line in enumerate(lines[:header] if header is not None else [], 1)
                                if i not in text.control])
    expected = f"'start<TAB>end<TAB>{'<TAB>'.join(columns)}'"
    starts: list[str] = []
    ends: list[str] = []
    cells_of_rows: list[list[str]] = []
    linenos: list[int] = []
    trailer: tuple[int, int] | None = None
    first_row = header + 1 if header is not None else 0
    for lineno, line in enumerate(lines[first_row:], first_row + 1):
        if lineno in text.control:
            continue
        cells = [cell for cell in (c.strip() for c in line.split("\t")) if cell]
        if not cells:
            report.n_blank += 1
            continue
        if set("".join(cells)) == {"-"}:
            continue                     # the dashes under the header
        if len(cells) == 1 and (match := _TRAILER.match(cells[0])):
            trailer = (lineno, int(match.group(1)))
            continue
        if len(cells) != 2 + len(columns) or (variant == "ids" and role == "sensors" and cells[3] != "1"):
            bad.add(lineno, expected + (" with Val 1" if variant == "ids" and role == "sensors" else ""), line)
            if bad.stop:
                break
            continue
        starts.append(cells[0])
        ends.append(cells[1])
        cells_of_rows.append(cells[2:])
        linenos.append(lineno)

    names = _row_names(cells_of_rows, variant, id_names, role, path_str, report)
    if variant == "ids":
        starts, ends = english_month_dates(starts), english_month_dates(ends)
    start, end = parse_timestamps(starts), parse_timestamps(ends)
    unreadable = np.isnat(start) | np.isnat(end)
    for row in np.flatnonzero(unreadable):
        bad.add(linenos[row], EXPECTED_TIMES, f"{starts[row]} {ends[row]}")
    bad.settle(report)
    if trailer is not None and trailer[1] != len(linenos):
        report.notes.append(f"{path_str}:{trailer[0]}: the last line says Length: {trailer[1]}, but {len(linenos)} "
                            "rows were read")
    reversed_rows = ~unreadable & (end < start)
    for row in np.flatnonzero(reversed_rows):
        report.notes.append(f"{path_str}:{linenos[row]}: {names[row]!r} ends ({ends[row]}) before it starts "
                            f"({starts[row]}); row dropped")
    keep = np.flatnonzero(~unreadable & ~reversed_rows)
    return Intervals(start[keep], end[keep], [names[i] for i in keep], [linenos[i] for i in keep])


def _find_header(lines: list[str]) -> int | None:
    """Index of the `Start time<TAB>End time<TAB>...` header row (None: the file has none)."""
    for index, line in enumerate(lines):
        cells = [c.strip().lower() for c in line.split("\t") if c.strip()]
        if len(cells) >= 3 and cells[0].startswith("start time") and cells[1].startswith("end time"):
            return index
    return None


def _check_header(line: str, role: str, path: str, lineno: int) -> tuple[str, ...]:
    """The header's columns after the two times; a header of the other role (the activity file given as the
    sensor file, or the reverse) or of unknown columns is a UserError."""
    cells = [c.strip() for c in line.split("\t") if c.strip()]
    columns = tuple(cells[2:])
    schema = SCHEMAS.get(tuple(c.lower() for c in columns))
    if schema is not None and schema[0] == role:
        return columns
    if schema is not None and role == "sensors":
        raise UserError("this is an activity (ADL) file; pass the sensor file and give this one as the labels "
                        "file (--labels)", path=path, line=lineno)
    if schema is not None:
        raise UserError("this is a sensor file, not an activity file; give the activity file as --labels",
                        path=path, line=lineno)
    wanted = " or ".join(f"'Start time  End time  {'  '.join(c.title() for c in cols)}'"
                         for cols, (r, _) in SCHEMAS.items() if r == role)
    raise UserError(f"expected a header {wanted}, found {cells!r}", path=path, line=lineno)


def _preamble_names(lines: list[str]) -> dict[str, str]:
    """ID -> name from a free-text preamble (`[ 5]    'Hall-Toilet door'`, `10:'go to bed'`), white space runs
    replaced by `_`."""
    names: dict[str, str] = {}
    for line in lines:
        match = _ID_NAME.match(line)
        if match and match.group(3).strip():
            names[str(int(match.group(1)))] = re.sub(r"\s+", "_", match.group(3).strip())
    return names


def _row_names(cells_of_rows: list[list[str]], variant: str, id_names: dict[str, str], role: str, path: str,
               report: ParseReport) -> list[str]:
    """The sensor name or activity label of each row."""
    if variant == "uci":
        return ["_".join(cells) for cells in cells_of_rows]
    ids = [str(int(cells[0])) if cells[0].isdigit() else cells[0] for cells in cells_of_rows]
    unnamed = sorted({i for i in ids if i not in id_names}, key=lambda i: (len(i), i))
    if unnamed:
        what = "sensor" if role == "sensors" else "activity"
        n_rows = sum(1 for i in ids if i not in id_names)
        report.notes.append(f"{path}: the header names no {what} for ID {', '.join(unnamed)} ({n_rows} rows); "
                            "named by the ID")
    return [id_names.get(i, i) for i in ids]


def label_spans(times: np.ndarray, activities: Intervals) -> list[tuple]:
    """(first event, last event, label[, resident]) for each activity interval over sorted event times, in
    begin order (the resident when the activity table has a resident column)."""
    first = np.searchsorted(times, activities.start, side="left")
    last = np.searchsorted(times, activities.end, side="right") - 1
    order = np.lexsort((activities.linenos, activities.start))    # begin order: start time, then file order
    owner = activities.residents
    return [(int(first[i]), int(last[i]), activities.names[i], *((owner[i],) if owner else ()))
            for i in order if first[i] <= last[i]]
