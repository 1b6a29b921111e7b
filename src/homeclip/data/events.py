"""The one event table every reader produces (`EventLog`) and its parse report."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd

# Columns of EventLog.frame, in order. `labels` holds the tuple of activities open at the event (in the
# order they began); `label` is the primary one: the most recently begun open activity ("" when none).
EVENT_COLUMNS = ("time", "sensor", "state", "value", "labels", "label")


@dataclass
class ParseReport:
    """What a reader saw: counts of everything kept, converted, skipped or repaired."""

    path: str
    format: str
    n_lines: int = 0                  # physical lines read (including blank/header lines)
    n_events: int = 0                 # binary events kept in EventLog.frame
    n_numeric: int = 0                # numeric readings (temperature, light, battery...) kept in EventLog.numeric
    n_blank: int = 0                  # empty lines ignored
    n_skipped: int = 0                # unparseable lines skipped (only with skip_bad_lines)
    skipped_examples: list[str] = field(default_factory=list)  # "file:line: reason" for the first few
    n_out_of_order: int = 0           # events whose timestamp is earlier than the previous line's (sorted stably)
    unmatched_begin: list[str] = field(default_factory=list)   # "file:line: label" begun and never ended
    unmatched_end: list[str] = field(default_factory=list)     # "file:line: label" ended and never begun
    notes: list[str] = field(default_factory=list)             # other repairs, one sentence each

    def to_dict(self) -> dict:
        """Plain-JSON form for summaries."""
        return asdict(self)

    def summary(self) -> str:
        """A few human-readable lines."""
        lines = [
            f"{self.path} ({self.format}): {self.n_events} events, {self.n_numeric} numeric readings kept apart, "
            f"{self.n_skipped} lines skipped, {self.n_out_of_order} out of order (sorted stably)"
        ]
        if self.unmatched_begin or self.unmatched_end:
            lines.append(
                f"  {len(self.unmatched_begin)} 'begin' without 'end', {len(self.unmatched_end)} 'end' without 'begin'"
            )
        lines += [f"  skipped: {ex}" for ex in self.skipped_examples[:5]]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


@dataclass
class EventLog:
    """A parsed sensor log.

    frame: one row per binary event, sorted by time (stable), columns EVENT_COLUMNS:
      time   datetime64[us] (naive local time, as in the log)
      sensor str            (e.g. "M019")
      state  str            (upper-case, e.g. "ON", "OFF", "OPEN", "CLOSE")
      value  float64        (NaN for binary events)
      labels object         (tuple[str, ...] of open activities, in begin order; () when none)
      label  str            (primary label = most recently begun open activity; "" when none)
    numeric: numeric sensor readings kept out of the binary stream (columns time, sensor, value), never lost.
    """

    frame: pd.DataFrame
    numeric: pd.DataFrame
    report: ParseReport

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def activities(self) -> list[str]:
        """Distinct non-empty labels seen in the log."""
        seen: set[str] = set()
        for labels in self.frame["labels"]:
            seen.update(labels)
        return sorted(seen)


def empty_numeric() -> pd.DataFrame:
    """An empty numeric-readings table with the right dtypes."""
    return pd.DataFrame(
        {"time": pd.Series([], dtype="datetime64[us]"), "sensor": pd.Series([], dtype=object),
         "value": pd.Series([], dtype="float64")}
    )
