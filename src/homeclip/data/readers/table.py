"""Event tables -> EventLog: CSV/TSV files, parquet files and pandas DataFrames with one row per sensor event,
plus an optional activity-interval table for labels (the device-events + activity-intervals convention of
pyadlml), so any logger's export goes through the same pipeline.

Columns are found by role: `time`, `sensor`, `state` (a word such as ON/OFF, or a number: a numeric reading),
optional `value` (a numeric reading for rows whose state cell is empty), optional `label` (the event's own
activity) and optional `resident` (who the row's label belongs to). `columns` maps roles to column names; a
role not mapped is looked up among common names (`ROLE_NAMES`, case-insensitive). The interval table has roles
`start`, `end`, `activity` and optional `resident`; a `resident` column given by name must be in one of the
two tables. Times: see
times.parse_table_times (ISO with or without a zone, epoch numbers, day-first dates, strftime patterns; zone-aware
times need a time zone and are stored as that zone's naive local time).

CSV text goes through the same loading as every log (encodings, LF/CR mixes, control characters); the first
non-blank row is the header; the delimiter is a tab for .tsv/.tab files and otherwise the most frequent of
, ; TAB | in the header. Bad rows (a wrong number of fields, an unparseable time, an empty sensor or state, a
control character, a non-finite number) follow the bad-line policy, with the file's line numbers; in parquet
files and DataFrames "line" N means data row N (1-based).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

import numpy as np
import pandas as pd

from ...errors import UserError
from ..events import EventLog, ParseReport
from .common import (EXPECTED_STATE, BadLines, build_event_log, labels_from_spans, own_labels, reading_value,
                     record_order)
from .intervals import Intervals, label_spans
from .text import CONTROL, existing_file, read_text_lines
from .times import parse_table_times

if TYPE_CHECKING:
    from . import ReadOptions

EVENT_ROLES = ("time", "sensor", "state", "value", "label", "resident")
INTERVAL_ROLES = ("start", "end", "activity", "resident")
ROLE_NAMES = {
    "time": ("time", "timestamp", "datetime", "date_time", "ts", "last_changed", "last_updated", "date"),
    "sensor": ("sensor", "device", "entity_id", "sensor_id", "device_id", "sensor_name", "name", "id"),
    "state": ("state", "val", "status", "event", "value"),
    "value": ("value", "reading", "numeric_value"),
    "label": ("label", "activity", "annotation"),
    "start": ("start", "start_time", "begin", "start_date", "from"),
    "end": ("end", "end_time", "stop", "end_date", "finish", "to"),
    "activity": ("activity", "label", "name", "activity_name"),
    "resident": ("resident", "resident_id", "person", "person_id", "occupant"),
}
REQUIRED = {"events": ("time", "sensor"), "intervals": ("start", "end", "activity")}
PARQUET_SUFFIXES = (".parquet", ".pq")
_DELIMITERS = (",", ";", "\t", "|")
DATAFRAME = "<DataFrame>"


@dataclass
class Table:
    """A table's cells as strings (or typed columns for parquet/DataFrames) and the line of each row."""

    frame: pd.DataFrame
    linenos: np.ndarray           # int64 [rows]: file line (CSV) or 1-based row (parquet, DataFrame)
    path: str


def read_table(source: "str | Path | pd.DataFrame", options: "ReadOptions") -> EventLog:
    """Read an event table (file or DataFrame) and its optional interval table into an EventLog."""
    path = DATAFRAME if isinstance(source, pd.DataFrame) else str(source)
    report = ParseReport(path=path, format="table")
    bad = BadLines(path, options.skip_bad_lines)
    table = load_table(source, report, bad)
    roles = map_columns(table, "events", options.columns, may_lack=("resident",) if options.labels is not None else ())
    if "state" not in roles and "value" not in roles:
        raise UserError(f"found no state column among {list(table.frame.columns)}; name one with --columns "
                        "state=COLUMN (or value=COLUMN for numeric readings)", path=path)
    cells = {role: _text(table.frame[column]) for role, column in roles.items() if role != "time"}
    times, notes = table_times(table, roles["time"], options)
    report.notes += [f"{path}: {note}" for note in notes]
    keep = _check_rows(table, times, cells, bad)
    values = _values(cells, keep, table, bad)
    bad.settle(report)
    linenos = table.linenos[keep]
    times, values = times[keep], values[keep]
    sensors = cells["sensor"].to_numpy(dtype=object)[keep]
    states = cells["state"].str.upper().to_numpy(dtype=object)[keep] if "state" in cells else \
        np.full(len(times), "", dtype=object)
    record_order(report, times, linenos)
    order = np.argsort(times, kind="stable")
    times, values, sensors, states, linenos = times[order], values[order], sensors[order], states[order], linenos[order]
    row_labels = cells["label"].to_numpy(dtype=object)[keep][order] if "label" in cells else None
    row_residents = cells["resident"].to_numpy(dtype=object)[keep][order] if "resident" in cells else None
    labels, primary, residents = _labels(times, row_labels, row_residents, options, report,
                                         binary=np.isnan(values))
    return build_event_log(report, times, list(sensors), list(states), values, labels, primary, residents)


# ------------------------------------------------------------------------------------------------ loading


def load_table(source: "str | Path | pd.DataFrame", report: ParseReport, bad: BadLines) -> Table:
    """The rows of a CSV/TSV file, a parquet file or a DataFrame; bad CSV rows are recorded in `bad`."""
    if isinstance(source, pd.DataFrame):
        frame = source.reset_index(drop=True)
        report.n_lines += len(frame)
        return Table(_unique_columns(frame, DATAFRAME), np.arange(1, len(frame) + 1), DATAFRAME)
    path = existing_file(source)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return _load_parquet(path, report)
    return _load_csv(path, report, bad)


def _load_parquet(path: Path, report: ParseReport) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        frame = pq.read_table(path).to_pandas()
    except (pa.ArrowException, OSError) as err:
        raise UserError(f"is not a readable parquet file ({str(err).splitlines()[0]})", path=str(path)) from None
    report.n_lines += len(frame)
    return Table(_unique_columns(frame, str(path)), np.arange(1, len(frame) + 1), str(path))


def _load_csv(path: Path, report: ParseReport, bad: BadLines) -> Table:
    text = read_text_lines(path, report)
    lines = text.lines
    bad.add_control(text.control, lines)
    header_at = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_at is None:
        raise UserError("the file is empty; expected a header row and event rows", path=str(path))
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else \
        max(_DELIMITERS, key=lambda d: (lines[header_at].count(d), -_DELIMITERS.index(d)))
    reader = csv.reader((line + "\n" for line in lines[header_at:]), delimiter=delimiter)
    try:
        header = [name.strip() for name in next(reader)]
        rows, linenos = [], []
        previous = reader.line_num
        for row in reader:
            first_line = header_at + previous + 1
            previous = reader.line_num
            if not any(cell.strip() for cell in row):
                report.n_blank += 1
                continue
            if any(ln in text.control for ln in range(first_line, header_at + previous + 1)):
                continue
            if len(row) != len(header) or any("\n" in cell for cell in row):
                bad.add(first_line, f"{len(header)} fields separated by {delimiter!r} ({', '.join(header)})",
                        delimiter.join(row))
                continue
            rows.append(row)
            linenos.append(first_line)
    except csv.Error as err:
        raise UserError(f"cannot be read as a table ({err})", path=str(path), line=header_at + reader.line_num) \
            from None
    frame = pd.DataFrame(rows, columns=header, dtype=object) if rows else pd.DataFrame(columns=header, dtype=object)
    return Table(_unique_columns(frame, str(path), header_at + 1), np.asarray(linenos, dtype=np.int64), str(path))


def _unique_columns(frame: pd.DataFrame, path: str, line: int | None = None) -> pd.DataFrame:
    names = [str(c) for c in frame.columns]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UserError(f"the table names column(s) {', '.join(map(repr, twice))} more than once", path=path,
                        line=line)
    return frame.set_axis(names, axis=1)


def map_columns(table: Table, kind: str, columns: Mapping[str, str] | None,
                may_lack: tuple[str, ...] = ()) -> dict[str, str]:
    """Role -> column name for an event table (`kind` "events") or interval table ("intervals"); a role in
    `may_lack` given a column this table lacks is left unmapped (the other table has it)."""
    roles = EVENT_ROLES if kind == "events" else INTERVAL_ROLES
    given = {role: column for role, column in (columns or {}).items() if role in roles}
    present = list(table.frame.columns)
    unused = {role for role, column in given.items() if not column}     # `label=`: this table has none
    given = {role: column for role, column in given.items() if column}
    given = {role: column for role, column in given.items() if column in present or role not in may_lack}
    for role, column in given.items():
        if column not in present:
            raise UserError(f"--columns {role}={column}: no such column; the table has {present}", path=table.path)
    taken = set(given.values())
    lower = {c.lower(): c for c in present}
    mapping = dict(given)
    for role in roles:
        if role in mapping or role in unused:
            continue
        found = next((lower[name] for name in ROLE_NAMES[role] if name in lower and lower[name] not in taken), None)
        if found is not None:
            mapping[role] = found
            taken.add(found)
    missing = [role for role in REQUIRED[kind] if role not in mapping]
    if missing:
        raise UserError(f"found no {' or '.join(missing)} column among {present}; name it with --columns "
                        f"{','.join(f'{role}=COLUMN' for role in missing)}", path=table.path)
    return mapping


# ------------------------------------------------------------------------------------------------ rows


def table_times(table: Table, column: str, options: "ReadOptions") -> tuple[np.ndarray, list[str]]:
    """parse_table_times for one column, its errors naming the table."""
    try:
        return parse_table_times(table.frame[column], options.time_format, options.timezone)
    except UserError as err:
        raise UserError(f"column {column!r}: {err}", path=table.path) from None


def _text(column: pd.Series) -> pd.Series:
    """A column's cells as stripped strings ("" for missing cells)."""
    values = column.astype(object)
    return values.where(values.notna(), "").astype(str).str.strip()


def _check_rows(table: Table, times: np.ndarray, cells: dict[str, pd.Series], bad: BadLines) -> np.ndarray:
    """Rows that are good so far (a time, a sensor, no control characters); the others are recorded as bad."""
    keep = ~np.isnat(times)
    for row in np.flatnonzero(~keep):
        bad.add(int(table.linenos[row]), "a time (ISO 8601, epoch, or as --time-format says; year 1980-2099)",
                _row_text(table, row))
    for role, column in cells.items():
        flagged = column.str.contains(CONTROL.pattern, regex=True).to_numpy(dtype=bool) & keep
        for row in np.flatnonzero(flagged):
            bad.add(int(table.linenos[row]), f"printable text in the {role} column", _row_text(table, row))
        keep &= ~flagged
    empty = (cells["sensor"] == "").to_numpy(dtype=bool) & keep
    for row in np.flatnonzero(empty):
        bad.add(int(table.linenos[row]), "a sensor name", _row_text(table, row))
    return keep & ~empty


def _values(cells: dict[str, pd.Series], keep: np.ndarray, table: Table, bad: BadLines) -> np.ndarray:
    """Numeric value per row (NaN for a state word); non-finite numbers and rows with neither a state nor a
    value are recorded as bad (and cleared from `keep`)."""
    states = cells.get("state", pd.Series("", index=table.frame.index)).tolist()
    raw_values = cells["value"].tolist() if "value" in cells else [""] * len(states)
    values = np.full(len(states), np.nan)
    for row in np.flatnonzero(keep):
        if states[row]:
            value, expected = reading_value(states[row]), EXPECTED_STATE
        else:    # no state: the value column must hold a finite number
            value, expected = reading_value(raw_values[row]) if raw_values[row] else None, "a state or a value"
            value = None if value is not None and np.isnan(value) else value
        if value is None:
            bad.add(int(table.linenos[row]), expected, _row_text(table, row))
            keep[row] = False
        else:
            values[row] = value
    return values


def _row_text(table: Table, row: int) -> str:
    return ",".join(str(v) for v in table.frame.iloc[row].tolist())


# ------------------------------------------------------------------------------------------------ labels


def _labels(times: np.ndarray, row_labels: np.ndarray | None, row_residents: np.ndarray | None,
            options: "ReadOptions", report: ParseReport,
            binary: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Per-event labels, primary label and residents from the label column (each event its own, with its
    resident cell) or from the interval table (residents None: nobody named yet)."""
    if row_labels is not None and options.labels is not None:
        raise UserError("the event table has a label column and an activity-interval table was given too; use "
                        "one (drop --labels, or map the label column away with --columns label=)", path=report.path)
    if row_labels is not None:
        residents = None if row_residents is None else own_residents(row_labels, row_residents)
        return own_labels(row_labels), row_labels.astype(object), residents
    if row_residents is not None:
        report.notes.append(f"{report.path}: the resident column names the residents of a label column, and this "
                            "table has none; it was not used (give the activity table a resident column)")
    if options.labels is None:
        report.notes.append(f"{report.path}: no label column and no activity-interval table; events are unlabelled")
        return labels_from_spans(len(times), [])
    intervals = read_interval_table(options.labels, options, report, resident_elsewhere=row_residents is not None)
    labels, primary, residents = labels_from_spans(len(times), label_spans(times, intervals))
    n_unlabelled = sum(1 for open_labels in labels[binary] if not open_labels)
    if n_unlabelled:
        report.notes.append(f"{n_unlabelled} of {int(binary.sum())} events lie outside every activity interval "
                            "(unlabelled)")
    return labels, primary, residents


def own_residents(row_labels: np.ndarray, row_residents: np.ndarray) -> np.ndarray:
    """Per event, the resident of its own label: (resident,) for a labelled row ("" when the cell is empty),
    () for an unlabelled one."""
    column = np.empty(len(row_labels), dtype=object)
    column[:] = [(resident,) if label else () for label, resident in zip(row_labels, row_residents)]
    return column


def read_interval_table(source: "str | Path | pd.DataFrame", options: "ReadOptions", report: ParseReport,
                        resident_elsewhere: bool = False) -> Intervals:
    """An activity-interval table (start, end, activity[, resident]) -> Intervals; reversed rows dropped and
    reported. `resident_elsewhere`: the event table has the resident column, so this one may lack it."""
    path = "<labels DataFrame>" if isinstance(source, pd.DataFrame) else str(source)
    bad = BadLines(path, options.skip_bad_lines)
    table = load_table(source, report, bad)
    table.path = path
    roles = map_columns(table, "intervals", options.columns, may_lack=("resident",) if resident_elsewhere else ())
    start, start_notes = table_times(table, roles["start"], options)
    end, _ = table_times(table, roles["end"], options)
    report.notes += [f"{path}: {note}" for note in start_notes]
    activity = _text(table.frame[roles["activity"]])
    resident = _text(table.frame[roles["resident"]]) if "resident" in roles else None
    keep = ~np.isnat(start) & ~np.isnat(end)
    for row in np.flatnonzero(~keep):
        bad.add(int(table.linenos[row]), "start and end times", _row_text(table, row))
    flagged = (activity.str.contains(CONTROL.pattern, regex=True) | (activity == "")).to_numpy(dtype=bool) & keep
    for row in np.flatnonzero(flagged):
        bad.add(int(table.linenos[row]), "an activity name (printable text)", _row_text(table, row))
    keep &= ~flagged
    if resident is not None:
        flagged = resident.str.contains(CONTROL.pattern, regex=True).to_numpy(dtype=bool) & keep
        for row in np.flatnonzero(flagged):
            bad.add(int(table.linenos[row]), "printable text in the resident column", _row_text(table, row))
        keep &= ~flagged
    bad.settle(report)
    names = activity.tolist()
    reversed_rows = keep & (end < start)
    for row in np.flatnonzero(reversed_rows):
        report.notes.append(f"{path}:{table.linenos[row]}: {names[row]!r} ends ({pd.Timestamp(end[row])}) before "
                            f"it starts ({pd.Timestamp(start[row])}); row dropped")
    rows = np.flatnonzero(keep & ~reversed_rows)
    report.notes.append(f"activity labels from {path}")
    report.labels_from = path
    owners = [] if resident is None else [resident.iat[i] for i in rows]
    return Intervals(start[rows], end[rows], [names[i] for i in rows], [int(table.linenos[i]) for i in rows],
                     owners)
