"""CASAS raw logs with begin/end activity annotations (Milan, Aruba, Cairo, Kyoto) -> EventLog.

A line is `date time sensor state [annotation]`, fields separated by any run of spaces or tabs (so the
tab-separated Cairo/Kyoto layout, a tab between date and time, CRLF ends and trailing empty fields all read
the same). Fractions of a second may be missing or shorter than 6 digits (`.14962` is 0.14962 s). States are
upper-cased; a state that parses as a number (temperature, light, battery) is a numeric reading, kept in
EventLog.numeric and counted, not in the binary event stream; a non-finite number (inf, nan) is a bad line.
Lines out of time order are sorted stably and counted (a step back of 30 min or more is reported as a clock
change). Encodings, line ends, control characters and impossible times: text.py and times.py.

Annotation: `label begin`, `label end`, the fused `label-begin` / `label-end`, or a bare `label`. Labels may
contain spaces (`R1 wake begin` -> "R1 wake").

Label rules (conservative: never invent long spans):
- A begin..end pair labels every line from the begin line to the end line, both included.
- Overlapping activities: a line carries ALL open labels, as a tuple in begin order; its primary label is the
  most recently begun open activity (never the alphabetical first).
- A bare label (no begin/end) labels only its own line.
- A `begin` never ended labels only its own line; reported as "file:line: label" in report.unmatched_begin.
- An `end` without a `begin` labels only its own line; reported in report.unmatched_end.
- A second `begin` of a label already open closes the first just before it (the new begin starts a new
  span); reported in report.notes.
Annotations on numeric readings count for the spans too (the reading itself is not in the binary stream).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..events import EventLog, ParseReport
from .common import (EXPECTED_STATE, MAYBE_NUMBER, BadLines, build_event_log, labels_from_spans, reading_value,
                     record_order, split_marker)
from .text import read_text_lines
from .times import parse_timestamps

if TYPE_CHECKING:
    from . import ReadOptions

EXPECTED_LINE = "'date time sensor state [label begin|end]'"
EXPECTED_TIME = "a timestamp 'YYYY-MM-DD HH:MM:SS[.ffffff]' (year 1980-2099)"
EXPECTED_ANNOTATION = "an annotation 'label begin|end'"


def read_casas(path: str | Path, options: "ReadOptions") -> EventLog:
    """Read a CASAS raw log (begin/end annotations) into an EventLog; see the module docstring for the rules."""
    report = ParseReport(path=str(path), format="casas")
    rows = read_casas_rows(path, report, state_field=3, expected=EXPECTED_LINE,
                           skip_bad_lines=options.skip_bad_lines)
    annotations: list[tuple[int, int, str, str | None]] = []   # (row, line, label, marker)
    for row, lineno, words, line in rows.extras:
        if not rows.keep[row]:
            continue                            # already a bad line: its annotation is ignored
        annotation = _split_annotation(words)
        if annotation is None:
            rows.drop(row, EXPECTED_ANNOTATION, line)
        else:
            annotations.append((row, lineno, *annotation))
    rows.bad.settle(report)
    labels, primary, _ = labels_from_spans(len(rows.linenos), _activity_spans(annotations, rows.linenos, report))
    return rows.event_log(report, labels, primary)


@dataclass
class CasasRows:
    """The columns of a CASAS-style log in file order: one row per line with enough fields."""

    times: np.ndarray                 # datetime64[us]
    sensors: list[str]
    states: list[str]                 # upper-cased
    values: np.ndarray                # float64; NaN unless the state is a number
    linenos: list[int]
    extras: list[tuple[int, int, list[str], str]]   # (row, line, words after the state, whole line) when present
    bad: BadLines
    keep: np.ndarray                  # False for rows dropped as bad (unparseable timestamp...)

    def drop(self, row: int, expected: str, found: str) -> None:
        """Mark a row as a bad line."""
        self.bad.add(self.linenos[row], expected, found)
        self.keep[row] = False

    def event_log(self, report: ParseReport, labels: np.ndarray, primary: np.ndarray) -> EventLog:
        """The EventLog of the kept rows, given per-row labels (all rows, file order)."""
        keep = self.keep
        sensors, states = self.sensors, self.states
        if not keep.all():
            sensors = [s for s, k in zip(sensors, keep) if k]
            states = [s for s, k in zip(states, keep) if k]
        times = self.times[keep]
        record_order(report, times, np.asarray(self.linenos, dtype=np.int64)[keep])
        return build_event_log(report, times, sensors, states, self.values[keep], labels[keep], primary[keep])


def read_casas_rows(path: str | Path, report: ParseReport, *, state_field: int, expected: str,
                    skip_bad_lines: bool) -> CasasRows:
    """Split a CASAS-style log (`date time sensor ... state [extra words]`, any white space) into columns.

    Lines with too few fields and unparseable timestamps are recorded as bad lines; the caller settles them."""
    text = read_text_lines(path, report)
    lines, control = text.lines, text.control
    bad = BadLines(str(path), skip_bad_lines)
    bad.add_control(control, lines)
    stamps: list[str] = []
    sensors: list[str] = []
    states: list[str] = []
    values: list[float] = []
    linenos: list[int] = []
    extras: list[tuple[int, int, list[str], str]] = []
    n_fields = state_field + 1
    nan = float("nan")
    for lineno, line in enumerate(lines, 1):
        if control and lineno in control:
            continue                            # already a bad line (control character)
        toks = line.split()
        n_toks = len(toks)
        if n_toks < n_fields:
            if toks:
                bad.add(lineno, expected, line)
                if bad.stop:
                    break
            else:
                report.n_blank += 1
            continue
        state = toks[state_field]
        # The first-character test keeps the common ON/OFF path free of a number test.
        value = reading_value(state) if state[0] in MAYBE_NUMBER else nan
        if value is None:
            bad.add(lineno, EXPECTED_STATE, line)
            if bad.stop:
                break
            continue
        if n_toks > n_fields:
            extras.append((len(stamps), lineno, toks[n_fields:], line))
        stamps.append(toks[0] + " " + toks[1])
        sensors.append(toks[2])
        values.append(value)
        states.append(state.upper())
        linenos.append(lineno)
    rows = CasasRows(parse_timestamps(stamps), sensors, states, np.asarray(values, dtype=np.float64), linenos,
                     extras, bad, np.ones(len(stamps), dtype=bool))
    for row in np.flatnonzero(np.isnat(rows.times)):
        rows.drop(row, EXPECTED_TIME, stamps[row])
    return rows


def _split_annotation(words: list[str]) -> tuple[str, str | None] | None:
    """(label, "begin" | "end" | None) from the words after the state; None when there is no label."""
    marker = words[-1].lower()
    if marker in ("begin", "end"):
        return (" ".join(words[:-1]), marker) if len(words) > 1 else None
    last, marker = split_marker(words[-1])
    return " ".join([*words[:-1], last]), marker


def _activity_spans(annotations: list[tuple[int, int, str, str | None]], linenos: list[int],
                    report: ParseReport) -> list[tuple[int, int, str]]:
    """Turn annotations into (first row, last row, label) spans in begin order, applying the label rules."""
    path = report.path
    spans: list[list] = []                  # [first, last, label], appended when the activity begins
    open_: dict[str, int] = {}              # label -> index into spans of its open instance
    n_bare = 0
    for row, lineno, label, marker in annotations:
        if marker == "begin":
            if label in open_:
                previous = spans[open_[label]]
                previous[1] = row - 1
                report.notes.append(f"{path}:{lineno}: {label!r} begun again while open since line "
                                    f"{linenos[previous[0]]}; the first closed just before this line")
            open_[label] = len(spans)
            spans.append([row, None, label])
        elif marker == "end" and label in open_:
            spans[open_.pop(label)][1] = row
        else:
            if marker == "end":
                report.unmatched_end.append(f"{path}:{lineno}: {label}")
            else:
                n_bare += 1
            spans.append([row, row, label])
    for sid in sorted(open_.values()):
        first, _, label = spans[sid]
        spans[sid][1] = first
        report.unmatched_begin.append(f"{path}:{linenos[first]}: {label}")
    if n_bare:
        report.notes.append(f"{n_bare} lines carry a label without begin/end; each labels only its own line")
    return [(first, last, label) for first, last, label in spans]
