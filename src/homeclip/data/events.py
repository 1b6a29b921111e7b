"""The one event table every reader produces (`EventLog`), its parse report, and joining the logs of
several files into one (`combine_logs`)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

# Columns of EventLog.frame, in order. `labels` holds the tuple of activities open at the event (in the
# order they began); `label` is the primary one: the most recently begun open activity ("" when none);
# `source` is the index of the event's file in EventLog.sources; `residents` holds, parallel to `labels`, the
# resident each label names ("" for none; data/residents.py).
EVENT_COLUMNS = ("time", "sensor", "state", "value", "labels", "label", "source", "residents")
_COUNTS = ("n_lines", "n_events", "n_numeric", "n_blank", "n_skipped", "n_out_of_order", "n_clock_steps_back",
           "n_unknown_states")
_LISTS = ("skipped_examples", "clock_steps_back", "unmatched_begin", "unmatched_end", "notes")
MAX_QUOTED = 5                        # skipped lines / clock steps quoted in a combined report


@dataclass
class ParseReport:
    """What a reader saw: counts of everything kept, converted, skipped or repaired (one file, or the sum over
    the files of a combined log, with each file's own report in `files`)."""

    path: str
    format: str
    n_lines: int = 0                  # physical lines read (including blank/header lines)
    n_events: int = 0                 # binary events kept in EventLog.frame
    n_numeric: int = 0                # numeric readings (temperature, light, battery...) kept in EventLog.numeric
    n_blank: int = 0                  # empty lines ignored
    n_skipped: int = 0                # unparseable lines skipped (only with skip_bad_lines)
    skipped_examples: list[str] = field(default_factory=list)  # "file:line: reason" for the first few
    n_out_of_order: int = 0           # events whose timestamp is earlier than the previous line's (sorted stably)
    n_clock_steps_back: int = 0       # places where the clock goes back >= 30 min (daylight saving, reset)
    clock_steps_back: list[str] = field(default_factory=list)  # "file:line: the clock goes back ..." (first few)
    unmatched_begin: list[str] = field(default_factory=list)   # "file:line: label" begun and never ended
    unmatched_end: list[str] = field(default_factory=list)     # "file:line: label" ended and never begun
    n_unknown_states: int = 0         # events whose state is outside their sensor's expected set
    unknown_states: dict[str, dict[str, int]] = field(default_factory=dict)  # sensor -> state -> count
    unknown_states_kept: bool = False  # True: those events stay in the frame (keep_unknown_states)
    notes: list[str] = field(default_factory=list)             # other repairs, one sentence each
    labels_from: str = ""             # the activity file / interval table the labels came from ("" if none)
    files: list["ParseReport"] = field(default_factory=list)   # per-file reports (combined logs)
    skipped_files: list[str] = field(default_factory=list)     # "path: reason" for folder/glob members not read

    def to_dict(self) -> dict:
        """Plain-JSON form for summaries."""
        return asdict(self)

    def summary(self) -> str:
        """A few human-readable lines."""
        files = f", {len(self.files)} files" if len(self.files) > 1 else ""
        lines = [
            f"{self.path} ({self.format}{files}): {self.n_events} events, {self.n_numeric} numeric readings kept "
            f"apart, {self.n_skipped} lines skipped, {self.n_out_of_order} out of order (sorted stably)"
        ]
        if self.unmatched_begin or self.unmatched_end:
            lines.append(
                f"  {len(self.unmatched_begin)} 'begin' without 'end', {len(self.unmatched_end)} 'end' without 'begin'"
            )
        if self.n_unknown_states:
            lines.append(f"  {self.n_unknown_states} events with unknown states "
                         f"({'kept' if self.unknown_states_kept else 'kept out of the event stream'}): "
                         + format_unknown_states(self.unknown_states))
        lines += [f"  skipped: {ex}" for ex in self.skipped_examples[:MAX_QUOTED]]
        lines += [f"  clock: {ex}" for ex in self.clock_steps_back[:MAX_QUOTED]]
        lines += [f"  skipped file: {ex}" for ex in self.skipped_files]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def format_unknown_states(counts: dict[str, dict[str, int]], limit: int = 6) -> str:
    """'M001 OFFC x3, T002 ERROR: x1, ...' (most frequent first)."""
    flat = sorted(((n, sensor, state) for sensor, states in counts.items() for state, n in states.items()),
                  key=lambda x: (-x[0], x[1], x[2]))
    shown = ", ".join(f"{sensor} {state!r} x{n}" for n, sensor, state in flat[:limit])
    return shown + (f", ... ({len(flat) - limit} more)" if len(flat) > limit else "")


@dataclass
class EventLog:
    """A parsed sensor log (one file or several).

    frame: one row per binary event, sorted by source, then by time (stable), columns EVENT_COLUMNS:
      time   datetime64[us] (naive local time, as in the log)
      sensor str            (e.g. "M019")
      state  str            (upper-case, e.g. "ON", "OFF", "OPEN", "CLOSE")
      value  float64        (NaN for binary events)
      labels object         (tuple[str, ...] of open activities, in begin order; () when none)
      label  str            (primary label = most recently begun open activity; "" when none)
      source int32          (index into `sources`: the file the event came from)
      residents object      (tuple[str, ...] parallel to `labels`: the resident of each label, "" for none;
                             the label-resident rule of data/residents.py)
    numeric: numeric sensor readings kept out of the binary stream (columns time, sensor, value, source),
      never lost.
    sources: the files read, in source order (by their first event's time); "<DataFrame>" for a table given
      in memory. Windows never span two sources.
    """

    frame: pd.DataFrame
    numeric: pd.DataFrame
    report: ParseReport
    sources: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def activities(self) -> list[str]:
        """Distinct non-empty labels seen in the log."""
        seen: set[str] = set()
        for labels in self.frame["labels"]:
            seen.update(labels)
        return sorted(seen)

    @property
    def residents(self) -> list[str]:
        """Distinct residents the labels name (R1, R2, ...; empty for a single-resident log)."""
        from .residents import residents_of

        return residents_of(self.frame["residents"]) if "residents" in self.frame else []


def empty_numeric() -> pd.DataFrame:
    """An empty numeric-readings table with the right dtypes."""
    return pd.DataFrame(
        {"time": pd.Series([], dtype="datetime64[us]"), "sensor": pd.Series([], dtype=object),
         "value": pd.Series([], dtype="float64"), "source": pd.Series([], dtype=np.int32)}
    )


def combine_reports(reports: list[ParseReport], path: str) -> ParseReport:
    """One report over several files: counts summed, lists joined (quoted examples capped), each file's own
    report kept in `files`."""
    formats = list(dict.fromkeys(r.format for r in reports))
    out = ParseReport(path=path, format=formats[0] if len(formats) == 1 else "+".join(formats))
    for report in reports:
        for name in _COUNTS:
            setattr(out, name, getattr(out, name) + getattr(report, name))
        for name in _LISTS:
            getattr(out, name).extend(getattr(report, name))
        for sensor, states in report.unknown_states.items():
            mine = out.unknown_states.setdefault(sensor, {})
            for state, n in states.items():
                mine[state] = mine.get(state, 0) + n
        out.unknown_states_kept = out.unknown_states_kept or report.unknown_states_kept
    out.skipped_examples = out.skipped_examples[:MAX_QUOTED]
    out.clock_steps_back = out.clock_steps_back[:MAX_QUOTED]
    out.files = list(reports)
    return out


def combine_logs(logs: list[EventLog], path: str) -> EventLog:
    """Join the logs of several files: sources ordered by their first event's time (ties: the order given),
    each file's events kept together and in time order, `source` renumbered, the reports combined."""
    order = sorted(range(len(logs)), key=lambda i: (logs[i].frame["time"].iloc[0], i))
    logs = [logs[i] for i in order]
    frames, numerics = [], []
    for index, log in enumerate(logs):
        frames.append(log.frame.assign(source=np.int32(index)))
        numerics.append(log.numeric.assign(source=np.int32(index)))
    frame = pd.concat(frames, ignore_index=True)
    numeric = pd.concat(numerics, ignore_index=True) if any(len(n) for n in numerics) else empty_numeric()
    frame["source"] = frame["source"].astype(np.int32)
    numeric["source"] = numeric["source"].astype(np.int32)
    report = combine_reports([log.report for log in logs], path)
    return EventLog(frame=frame, numeric=numeric, report=report,
                    sources=[source for log in logs for source in log.sources])
