"""Time-aware search quality: planted free-text queries with a time-of-day and a room constraint, judged from
the windows' own events (never from labels or captions), scored as precision@k.

A constraint names a time range (local clock hours, wrapping past midnight) and one of three event rules:
  room        at least `min_events` of the window's events are in a room whose name holds `room`, within the range
              (3, so that one spurious motion trigger, an ON/OFF pair, never counts);
  leave_room  within the range, an event in a `room` room is directly followed by an event in another room;
  exit_door   within the range, a door sensor of an entrance room (ENTRANCE_WORDS) opens (an "on" state: OPEN, ON)
              less than 60 s after a motion event strictly before it: the resident walked to the door from inside
              (coming home, the door opens first; its closing may coincide with the first motion inside, so only
              openings count -- until this was fixed, a return whose CLOSE shared a timestamp with the arrival
              motion counted as leaving).
The planted queries and their constraints were written down before any model was measured on them; their hours
are the documented time phrases of the captions (`data.captions.daytime.PHRASE_HOURS`: "late at night" 22-05,
"in the afternoon" 12-17, "in the evening" 17-22, ...), so captions and judge share one definition. (Until the
phrases were documented, "in the afternoon" was judged as 12-18 and "in the evening" as 17-23.)
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..data.captions.daytime import PHRASE_HOURS
from ..data.segments import US_PER_S
from ..data.taxonomy import state_sign
from ..data.windows import WindowSet

RULES = ("room", "leave_room", "exit_door")
ENTRANCE_WORDS = ("entrance", "entry", "front")
_DOOR_AFTER_MOTION_S = 60.0


@dataclass(frozen=True)
class Constraint:
    """What a planted query asks for: a rule over events, a room-name fragment and a local time range."""

    query: str
    rule: str
    room: str
    hours: tuple[float, float]       # [from, to) in local hours; from > to wraps past midnight
    min_events: int = 3

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"rule must be one of {RULES}, got {self.rule!r}")

    def describe(self) -> str:
        """The constraint in words, for reports."""
        a, b = (f"{int(h):02d}:{round(h % 1 * 60):02d}" for h in self.hours)
        what = {"room": f">= {self.min_events} events in a '{self.room}' room",
                "leave_room": f"a move out of a '{self.room}' room",
                "exit_door": "an entrance door opened from inside (motion < 60 s before)"}[self.rule]
        return f"{what}, {a}-{b}"


# Written before measuring; each pairs a room (or door) with a time of day, and two ask for the kitchen at
# different times so that the time of day has to be read, not just the room.
PLANTED_QUERIES = (
    Constraint("in the kitchen late at night", "room", "kitchen", PHRASE_HOURS["late at night"]),
    Constraint("getting up in the early morning", "leave_room", "bedroom", PHRASE_HOURS["early in the morning"]),
    Constraint("leaving the house in the afternoon", "exit_door", "", PHRASE_HOURS["in the afternoon"]),
    Constraint("in the bathroom in the middle of the night", "room", "bath",
               PHRASE_HOURS["in the middle of the night"]),
    Constraint("in the kitchen in the morning", "room", "kitchen", PHRASE_HOURS["in the morning"]),
    Constraint("in the living room in the evening", "room", "living", PHRASE_HOURS["in the evening"]),
)


def in_hours(seconds_of_day: np.ndarray, hours: tuple[float, float]) -> np.ndarray:
    """Bool: each time (seconds since local midnight) lies in [from, to) hours, wrapping past midnight."""
    lo, hi = hours[0] * 3600.0, hours[1] * 3600.0
    s = np.asarray(seconds_of_day, dtype=np.float64)
    return (s >= lo) & (s < hi) if lo < hi else (s >= lo) | (s < hi)


PARTS = ("both", "time", "event")


def satisfies(windows: WindowSet, constraint: Constraint, part: str = "both") -> np.ndarray:
    """Bool [N]: which windows satisfy the constraint, from their events' times, rooms and sensors only.

    part "time": only its time of day (at least `min_events` events in the hours, any room); "event": only its
    room / door rule, at any hour. They show which half of a query a search gets right."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, got {part!r}")
    if part == "time":
        constraint = Constraint(constraint.query, "room", "", constraint.hours, constraint.min_events)
    elif part == "event":
        constraint = Constraint(constraint.query, constraint.rule, constraint.room, (0.0, 24.0), constraint.min_events)
    out = np.zeros(len(windows), dtype=bool)
    room_cats = np.asarray(windows.categories["room"], dtype=object)
    type_cats = np.asarray(windows.categories["sensor_type"], dtype=object)
    in_room = np.array([constraint.room in str(r) for r in room_cats] + [False])
    entrance = np.array([any(w in str(r) for w in ENTRANCE_WORDS) for r in room_cats] + [False])
    is_door = np.array([str(t) == "door" for t in type_cats] + [False])
    is_motion = np.array([str(t) == "motion" for t in type_cats] + [False])
    states = windows.categories.get("state")
    opens = (np.array([state_sign(s) == "on" for s in states] + [False]) if states is not None and
             "state" in windows.codes else None)
    for i in range(len(windows)):
        m = windows.mask[i]
        t_us = windows.time[i][m]
        when = in_hours((t_us % (86_400 * US_PER_S)) / US_PER_S, constraint.hours)
        rooms, types = windows.codes["room"][i][m], windows.codes["sensor_type"][i][m]
        here = in_room[rooms]
        if constraint.rule == "room":
            out[i] = int((here & when).sum()) >= constraint.min_events
        elif constraint.rule == "leave_room":
            out[i] = bool((here[:-1] & ~here[1:] & when[:-1] & when[1:]).any())
        else:
            door = is_door[types] & entrance[rooms] & when
            if opens is not None:
                door &= opens[windows.codes["state"][i][m]]
            motion_t = t_us[is_motion[types]]
            for t in t_us[door]:
                before = motion_t[(motion_t < t) & (motion_t >= t - _DOOR_AFTER_MOTION_S * US_PER_S)]
                if before.size:
                    out[i] = True
                    break
    return out


def precision_at_k(ranked: Sequence[int], relevant: np.ndarray, k: int = 10) -> float:
    """Fraction of the first k ranked window indices that are relevant."""
    top = list(ranked)[:k]
    return float(np.mean(relevant[np.asarray(top, dtype=np.int64)])) if top else 0.0


def score_rankings(rankings: dict[str, np.ndarray], relevant: dict[str, np.ndarray], k: int = 10) -> dict:
    """{"per_query": {query: P@k}, "mean": mean P@k} for one method's rankings (query -> ranked indices)."""
    per_query = {q: precision_at_k(rankings[q], relevant[q], k) for q in rankings}
    return {"per_query": per_query, "mean": float(np.mean(list(per_query.values()))) if per_query else 0.0}
