"""Interval logs (van Kasteren / UCI Ordonez format): sensor activation intervals -> ON/OFF events,
activity intervals -> labels.

Two files: the sensor file (`XSensors.txt`, the raw input) and its activity file (`XADLs.txt`), given
explicitly or found next to the sensor file by that naming. Each file: an optional tab-separated header line
(`Start time  End time  Location Type Place` or `... Activity`), an optional line of dashes, then one row per
interval: `start<TAB>end<TAB>fields...` with `YYYY-MM-DD HH:MM:SS` times. Rows are split on tabs only (runs of
tabs, stray spaces and trailing tabs are tolerated; times contain a space); sensor rows have 3 fields, named
"<Location>_<Type>_<Place>" (e.g. "Basin_PIR_Bathroom"), activity rows 1. Latin-1 files are accepted.

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

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import UserError
from ..events import EventLog, ParseReport
from . import BadLines, build_event_log, count_backwards, labels_from_spans, parse_timestamps, read_text_lines

SENSOR_FIELDS = ("Location", "Type", "Place")
ACTIVITY_FIELDS = ("Activity",)
EXPECTED_TIMES = "start and end times 'YYYY-MM-DD HH:MM:SS'"


@dataclass
class Intervals:
    """The parsed rows of one interval file (rows with unparseable or reversed times already removed)."""

    start: np.ndarray            # datetime64[us]
    end: np.ndarray              # datetime64[us]
    names: list[str]             # sensor name or activity label per row
    linenos: list[int]


def read_intervals(path: str | Path, *, labels_path: str | Path | None = None,
                   skip_bad_lines: bool = False) -> EventLog:
    """Read an interval sensor file (plus its activity file, given or found by UCI naming) into an EventLog."""
    report = ParseReport(path=str(path), format="intervals")
    sensors = read_interval_file(path, SENSOR_FIELDS, report, skip_bad_lines)
    report.n_out_of_order = count_backwards(sensors.start)

    n = len(sensors.names)
    times = np.empty(2 * n, dtype="datetime64[us]")
    times[0::2], times[1::2] = sensors.start, sensors.end
    # Stable sort of the ON, OFF, ON, OFF... sequence: a zero-length activation stays ON then OFF.
    order = np.argsort(times, kind="stable")
    times = times[order]
    names = np.repeat(np.asarray(sensors.names, dtype=object), 2)[order]
    states = np.tile(np.asarray(["ON", "OFF"], dtype=object), n)[order]

    labels_file = Path(labels_path) if labels_path is not None else find_labels_file(path)
    spans: list[tuple[int, int, str]] = []
    if labels_file is None:
        report.notes.append(f"no activity file given or found next to it (expected {_labels_name(path)}); "
                            "events are unlabelled")
    else:
        report.notes.append(f"activity labels from {labels_file}")
        spans = _label_spans(times, read_interval_file(labels_file, ACTIVITY_FIELDS, report, skip_bad_lines))
    labels, primary = labels_from_spans(len(times), spans)
    n_unlabelled = sum(1 for open_labels in labels if not open_labels)
    if labels_file is not None and n_unlabelled:
        report.notes.append(f"{n_unlabelled} of {len(times)} events lie outside every activity interval "
                            "(unlabelled)")
    return build_event_log(report, times, list(names), list(states), np.full(len(times), np.nan),
                           labels, primary)


def find_labels_file(sensor_path: str | Path) -> Path | None:
    """The activity file next to a sensor file by UCI naming (`XSensors.txt` -> `XADLs.txt`), if it exists."""
    name = _labels_name(sensor_path)
    candidate = Path(sensor_path).with_name(name) if name else None
    return candidate if candidate is not None and candidate.is_file() else None


def _labels_name(sensor_path: str | Path) -> str:
    stem, sep, rest = Path(sensor_path).name.rpartition("Sensors")
    return f"{stem}ADLs{rest}" if sep else ""


def read_interval_file(path: str | Path, fields: tuple[str, ...], report: ParseReport,
                       skip_bad_lines: bool) -> Intervals:
    """Parse one interval file whose rows carry `fields` after the two times; counts go into `report`."""
    path_str = str(path)
    lines = read_text_lines(path, report)
    bad = BadLines(path_str, skip_bad_lines)
    expected = f"'start<TAB>end<TAB>{'<TAB>'.join(fields)}'"
    starts: list[str] = []
    ends: list[str] = []
    names: list[str] = []
    linenos: list[int] = []
    for lineno, line in enumerate(lines, 1):
        cells = [cell.strip() for cell in line.split("\t")]
        cells = [cell for cell in cells if cell]
        if not cells:
            report.n_blank += 1
            continue
        if cells[0].lower().startswith("start time"):
            _check_header(cells, fields, path_str, lineno)
            continue
        if set("".join(cells)) == {"-"}:
            continue                     # the dashes under the header
        if len(cells) != 2 + len(fields):
            bad.add(lineno, expected, line)
            if bad.stop:
                break
            continue
        starts.append(cells[0])
        ends.append(cells[1])
        names.append("_".join(cells[2:]))
        linenos.append(lineno)

    start, end = parse_timestamps(starts), parse_timestamps(ends)
    unreadable = np.isnat(start) | np.isnat(end)
    for row in np.flatnonzero(unreadable):
        bad.add(linenos[row], EXPECTED_TIMES, f"{starts[row]} {ends[row]}")
    bad.settle(report)
    reversed_rows = ~unreadable & (end < start)
    for row in np.flatnonzero(reversed_rows):
        report.notes.append(f"{path_str}:{linenos[row]}: {names[row]!r} ends ({ends[row]}) before it starts "
                            f"({starts[row]}); row dropped")
    keep = np.flatnonzero(~unreadable & ~reversed_rows)
    return Intervals(start[keep], end[keep], [names[i] for i in keep], [linenos[i] for i in keep])


def _check_header(cells: list[str], fields: tuple[str, ...], path: str, lineno: int) -> None:
    """A header naming other columns means the wrong file was given (e.g. the ADL file as the sensor file)."""
    columns = tuple(cells[2:])
    if columns == fields:
        return
    if columns == ACTIVITY_FIELDS:
        raise UserError("this is an activity (ADL) file; pass the sensor file and give this one as the labels "
                        "file (--labels)", path=path, line=lineno)
    raise UserError(f"expected a header 'Start time  End time  {'  '.join(fields)}', found {cells!r}",
                    path=path, line=lineno)


def _label_spans(times: np.ndarray, activities: Intervals) -> list[tuple[int, int, str]]:
    """(first event, last event, label) for each activity interval over sorted event times, in begin order."""
    first = np.searchsorted(times, activities.start, side="left")
    last = np.searchsorted(times, activities.end, side="right") - 1
    order = np.lexsort((activities.linenos, activities.start))    # begin order: start time, then file order
    return [(int(first[i]), int(last[i]), activities.names[i]) for i in order if first[i] <= last[i]]
