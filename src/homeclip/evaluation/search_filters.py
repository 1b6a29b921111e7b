"""Which windows a search may return: a day and/or a time-of-day range (local clock, may wrap past midnight).

A window is kept when its time span [start, end] overlaps the range: with a day, the range on that day (a range
that wraps, 22:00-05:00, runs into the next morning); without a day, the range on any day; a day alone is the
whole day. Times come from the window summaries (`start`/`end`, ISO seconds).
"""
from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import UserError

_MIN_PER_DAY = 1440
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


def parse_clock(text: str, name: str) -> int:
    """'HH:MM' (00:00-24:00) -> minutes after midnight; UserError naming the field otherwise."""
    m = _CLOCK.match(text.strip())
    minutes = int(m.group(1)) * 60 + int(m.group(2)) if m and int(m.group(2)) < 60 else -1
    if not 0 <= minutes <= _MIN_PER_DAY:
        raise UserError(f"{name}: expected a time HH:MM between 00:00 and 24:00, got {text!r}")
    return minutes


@dataclass(frozen=True)
class TimeFilter:
    """A day (or any day) and a time-of-day range [start, end) in minutes after midnight (or the whole day)."""

    day: _dt.date | None = None
    start: int | None = None
    end: int | None = None

    @classmethod
    def parse(cls, day: str | None = None, start: str | None = None, end: str | None = None) -> "TimeFilter":
        """From form/query strings ('' or None = not set); UserError for anything malformed."""
        parsed_day = None
        if day:
            try:
                parsed_day = _dt.date.fromisoformat(day.strip())
            except ValueError:
                raise UserError(f"day: expected a date YYYY-MM-DD, got {day!r}") from None
        a = parse_clock(start, "from") if start else None
        b = parse_clock(end, "to") if end else None
        if a is not None and b is not None and a % _MIN_PER_DAY == b % _MIN_PER_DAY:
            raise UserError(f"from and to are the same time ({start}); leave both empty for the whole day")
        return cls(parsed_day, a, b)

    @property
    def active(self) -> bool:
        """True when the filter removes anything at all."""
        return self.day is not None or self.start is not None or self.end is not None

    def to_dict(self) -> dict:
        """Plain values for JSON answers (times as HH:MM)."""
        clock = (lambda m: None if m is None else f"{m // 60:02d}:{m % 60:02d}")
        return {"day": self.day.isoformat() if self.day else None, "from": clock(self.start), "to": clock(self.end)}

    def keep(self, start_min: np.ndarray, end_min: np.ndarray) -> np.ndarray:
        """Bool [N]: windows (start/end in minutes since the epoch of the local clock) overlapping the range."""
        s, e = np.asarray(start_min, dtype=np.int64), np.asarray(end_min, dtype=np.int64)
        if not self.active:
            return np.ones(len(s), dtype=bool)
        a = 0 if self.start is None else self.start
        b = _MIN_PER_DAY if self.end is None else self.end
        length = b - a if b > a else b + _MIN_PER_DAY - a
        if self.day is not None:
            lo = (self.day - _dt.date(1970, 1, 1)).days * _MIN_PER_DAY + a
            return (s < lo + length) & (e >= lo)
        kept = np.zeros(len(s), dtype=bool)
        first = s // _MIN_PER_DAY - 1                 # the range that began the day before may still run
        for j in range(int((e // _MIN_PER_DAY - first).max(initial=0)) + 1):
            lo = (first + j) * _MIN_PER_DAY + a
            kept |= (s < lo + length) & (e >= lo)
        return kept


def summary_minutes(summaries: Sequence[dict]) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) of each window summary in minutes since the epoch of the local clock (floor)."""
    def minutes(key: str) -> np.ndarray:
        stamps = np.array([s[key] for s in summaries], dtype="datetime64[s]")
        return stamps.astype("datetime64[m]").astype(np.int64)
    return minutes("start"), minutes("end")
