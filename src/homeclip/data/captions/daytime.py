"""The parts of the day: one documented table that the captions speak from and time-aware search is judged by.

Everyday English, local clock hours, [from, to), wrapping past midnight (docs/dataset-format.md, Captions):

  part           hours        phrase in captions
  night          00:00-05:00  in the middle of the night
  early morning  05:00-08:00  early in the morning
  morning        08:00-12:00  in the morning
  afternoon      12:00-17:00  in the afternoon
  evening        17:00-22:00  in the evening
  late night     22:00-24:00  late at night

Everyday phrases overlap: "late at night" also covers the middle of the night (22:00-05:00) and "in the morning"
also covers the early morning (05:00-12:00). PHRASE_HOURS says what each phrase covers; a caption uses a phrase
only for a time inside its hours. The 17:00 boundary is the encoders' own `tod_bucket` one (evening from 17).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DayPart:
    """One part of the day: its name (structured captions), hours and the phrase natural captions use."""

    name: str
    hours: tuple[int, int]
    phrase: str


DAY_PARTS: tuple[DayPart, ...] = (
    DayPart("night", (0, 5), "in the middle of the night"),
    DayPart("early morning", (5, 8), "early in the morning"),
    DayPart("morning", (8, 12), "in the morning"),
    DayPart("afternoon", (12, 17), "in the afternoon"),
    DayPart("evening", (17, 22), "in the evening"),
    DayPart("late night", (22, 24), "late at night"),
)
# Every time phrase captions or planted queries use -> the local hours [from, to) it covers (may wrap).
PHRASE_HOURS: dict[str, tuple[float, float]] = {
    "in the middle of the night": (0.0, 5.0),
    "late at night": (22.0, 5.0),
    "early in the morning": (5.0, 8.0),
    "in the morning": (5.0, 12.0),
    "in the afternoon": (12.0, 17.0),
    "in the evening": (17.0, 22.0),
}
_BY_NAME = {p.name: p for p in DAY_PARTS}


def day_part(hour: int) -> DayPart:
    """The part of the day an hour (0-23) falls in."""
    return next(p for p in DAY_PARTS if p.hours[0] <= hour % 24 < p.hours[1])


def part_named(name: str) -> DayPart:
    """The DayPart called `name` ("late night")."""
    return _BY_NAME[name]


def phrase_covers(phrase: str, hour: float) -> bool:
    """Whether a time phrase of PHRASE_HOURS covers a local hour (0 <= hour < 24)."""
    lo, hi = PHRASE_HOURS[phrase]
    return lo <= hour < hi if lo < hi else (hour >= lo or hour < hi)


def phrases_for(part: DayPart) -> list[str]:
    """The time phrases true of every hour of a part, its own first ("late at night" for the night too)."""
    others = [p for p in PHRASE_HOURS if p != part.phrase
              and all(phrase_covers(p, h) for h in range(part.hours[0], part.hours[1]))]
    return [part.phrase, *others]


def around_clock(hour: int, minute: int) -> str:
    """The clock rounded to the nearest hour as people say it: 'around 11 pm', 'around midnight', 'around noon'."""
    h = (hour + (minute >= 30)) % 24
    if h == 0:
        return "around midnight"
    if h == 12:
        return "around noon"
    return f"around {h % 12 or 12} {'am' if h < 12 else 'pm'}"
