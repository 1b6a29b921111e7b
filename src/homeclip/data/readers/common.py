"""Building blocks every reader shares: the bad-line policy (`BadLines`), reading a state word or number
(`reading_value`), the label rule (`labels_from_spans`) and assembling one file's table (`build_event_log`)."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ...errors import UserError
from ..events import EventLog, ParseReport, empty_numeric
from ..residents import blank_residents
from .text import quote
from .times import clock_steps_back, count_backwards

MAX_EXAMPLES = 5                       # skipped lines / clock steps quoted in the report
NUMBER_START = frozenset("0123456789+-.")
# A state that may be a number or a non-finite word starts with one of these (the fast path skips the rest).
MAYBE_NUMBER = NUMBER_START | frozenset("iInN")
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
NON_FINITE = frozenset({"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "nan", "+nan", "-nan"})
EXPECTED_STATE = "a state word or a finite number"


@dataclass
class BadLines:
    """The bad-line policy: stop at the first unparseable line, or skip, count and quote the first few."""

    path: str
    skip: bool
    found: list[tuple[int, str]] = field(default_factory=list)   # (line number, "expected ..., found ...")

    def add(self, line: int, expected: str, found: str) -> None:
        """Record that `line` could not be parsed."""
        self.found.append((line, f"expected {expected}, found {quote(found)}"))

    def add_control(self, control: dict[int, str], lines: list[str]) -> None:
        """Record the lines that hold a control character (from `TextLines.control`)."""
        for lineno, char in control.items():
            self.found.append((lineno, f"expected printable text, found control character {char} in "
                                       f"{quote(lines[lineno - 1])}"))

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


def reading_value(state: str) -> float | None:
    """A state's numeric value: the number for a numeric reading (temperature, light...), NaN for a state word
    (`ON`, but also a malformed number such as `0.28.6`), None for a non-finite number (`inf`, `nan`, `1e999`),
    which is a bad line."""
    if state.lower() in NON_FINITE:
        return None
    if not NUMBER.fullmatch(state):
        return math.nan
    value = float(state)
    return value if math.isfinite(value) else None


def split_marker(word: str) -> tuple[str, str | None]:
    """Split a fused `label-begin` / `label-end` word into (label, marker); marker None when there is none."""
    low = word.lower()
    for marker in ("begin", "end"):
        if low.endswith("-" + marker) and len(word) > len(marker) + 1:
            return word[: -len(marker) - 1], marker
    return word, None


def labels_from_spans(n: int, spans: list[tuple]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-row open labels, primary label and residents from activity spans (first row, last row, label[,
    resident]), given in begin order.

    The label rule: a row carries every span that covers it, as a tuple in begin order (a label open twice
    for the same resident appears once, at its latest begin); the primary label is the most recently begun
    one ("" if none). The residents tuple is parallel to the labels: the span's resident, "" when it names
    none (the label-resident rule fills those in later)."""
    labels = np.empty(n, dtype=object)
    primary = np.empty(n, dtype=object)
    residents = np.empty(n, dtype=object)
    labels[:] = _as_object(())
    residents[:] = _as_object(())
    primary[:] = ""
    opening: dict[int, list[int]] = {}
    closing: dict[int, list[int]] = {}
    for sid, (first, last, *_) in enumerate(spans):
        opening.setdefault(first, []).append(sid)
        closing.setdefault(last + 1, []).append(sid)
    bounds = sorted(set(opening) | set(closing) | {n})
    active: set[int] = set()
    for start, stop in zip(bounds, bounds[1:]):
        active.difference_update(closing.get(start, ()))
        active.update(opening.get(start, ()))
        if not active or start >= n:
            continue
        in_order = [(spans[sid][2], spans[sid][3] if len(spans[sid]) > 3 else "") for sid in sorted(active)]
        open_pairs = tuple(reversed(dict.fromkeys(reversed(in_order))))
        labels[start:stop] = _as_object(tuple(label for label, _ in open_pairs))
        residents[start:stop] = _as_object(tuple(resident for _, resident in open_pairs))
        primary[start:stop] = open_pairs[-1][0]
    return labels, primary, residents


def own_labels(primary: np.ndarray) -> np.ndarray:
    """Per-row label tuples when each row carries only its own label: (label,), or () for ""."""
    as_tuple = {label: (label,) if label else () for label in set(primary)}   # one shared tuple per label
    return np.fromiter((as_tuple[label] for label in primary), dtype=object, count=len(primary))


def _as_object(value: object) -> np.ndarray:
    """A one-element object array, so a tuple is assigned to array slices as one value (not broadcast)."""
    holder = np.empty(1, dtype=object)
    holder[0] = value
    return holder


def record_order(report: ParseReport, times: np.ndarray, linenos: list[int] | np.ndarray) -> None:
    """Count the rows earlier than the row before them (file order) and report where the clock goes back."""
    report.n_out_of_order = count_backwards(times)
    steps = clock_steps_back(times, linenos, report.path)
    report.n_clock_steps_back += len(steps)
    report.clock_steps_back += steps[:MAX_EXAMPLES]


def build_event_log(report: ParseReport, times: np.ndarray, sensors: list[str], states: list[str],
                    values: np.ndarray, labels: np.ndarray, primary: np.ndarray,
                    residents: np.ndarray | None = None) -> EventLog:
    """Assemble one file's EventLog from per-row columns in file order: sort stably by time, keep numeric
    readings (non-NaN value) apart, fill the counts in `report`. Every row gets source 0 (`combine_logs`
    renumbers). `residents` (parallel to `labels`) defaults to naming nobody; the registry applies the
    label-resident rule to the whole log."""
    if residents is None:
        residents = blank_residents(labels)
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
        "source": np.zeros(int(binary.sum()), dtype=np.int32),
        "residents": pd.Series(residents[order][binary], dtype=object),
    })
    readings = empty_numeric()
    if numeric.any():
        readings = pd.DataFrame({"time": times[numeric], "sensor": pd.Series(sensors_arr[numeric], dtype=object),
                                 "value": values[numeric], "source": np.zeros(int(numeric.sum()), np.int32)})
    report.n_events, report.n_numeric = int(binary.sum()), int(numeric.sum())
    if report.n_events == 0:
        what = f"only {report.n_numeric} numeric readings" if report.n_numeric else "no readable lines"
        raise UserError(f"contains no binary sensor events (ON/OFF, OPEN/CLOSE...), {what}"
                        f"{f' ({report.n_skipped} bad lines skipped)' if report.n_skipped else ''}",
                        path=report.path)
    return EventLog(frame=frame.reset_index(drop=True), numeric=readings.reset_index(drop=True), report=report,
                    sources=[report.path])
