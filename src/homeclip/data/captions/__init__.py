"""Rule-based captions for windows, built from the events only (never from labels).

Each window gets four caption styles:
  long_natural      three varied English descriptions (time, activity cues, rooms in order, objects, doors,
                    pauses, pace)
  long_structured   one fixed-template description with exact figures
  short_natural     one or two short English phrases
  short_structured  one fixed-template summary
Natural captions draw their wording from a per-window RNG seeded by (seed, the window's events), so a window
gets the same captions alone or inside any set. Structured captions never depend on the seed.
"""
from __future__ import annotations

import random

from ..homes import Home
from ..windows import WindowSet
from .daytime import DAY_PARTS, PHRASE_HOURS, day_part
from .phrases import DAYS, duration_phrase, humanise_room, time_of_day
from .styles import long_structured, natural, short_structured
from .summary import WindowSummary, summarise_windows

__all__ = ["DAYS", "DAY_PARTS", "PHRASE_HOURS", "STYLES", "WindowSummary", "caption_windows", "day_part",
           "duration_phrase", "humanise_room", "summarise_windows", "time_of_day"]

STYLES = ("long_natural", "long_structured", "short_natural", "short_structured")


def caption_windows(windows: WindowSet, home: Home, *, seed: int = 0) -> list[dict[str, list[str]]]:
    """Captions per window (styles in STYLES), from the events only; deterministic per window for a seed."""
    captions = []
    for s in summarise_windows(windows, home):
        rng = random.Random((int(seed) << 64) ^ s.key)
        longs, shorts = natural(s, rng)
        captions.append({
            "long_natural": longs,
            "long_structured": [long_structured(s)],
            "short_natural": shorts,
            "short_structured": [short_structured(s)],
        })
    return captions
