"""Activity cues read from one window's events alone (never its labels): getting up, going back to bed, going to
bed, staying in bed, leaving the house, coming home, a long sit on a seat.

Active events (ON, OPEN, PRESENT, ...) are grouped into bursts: runs of events less than BURST_GAP_S apart. A burst
is *movement* when it has at least MOVE_EVENTS events, reaches two rooms or holds a front-door event; any other burst
is a *stir* (a sleeper turning over, a pet, a false trigger). The time between two movements is a *quiet spell*.
Before the window's first movement the spell reaches back to the event before the window (`time_delta`), and after
its last movement it reaches only to the window's last event, so both ends are lower bounds. A spell is *in the
bedroom* when the movement before it (if seen) ends there, the movement after it (if seen) starts there, and at
least as many of its stirs are there as elsewhere.

  gets_up      a movement starting in the bedroom after a bedroom spell >= GET_UP_QUIET_S that leaves the bedroom
               or lasts >= AWAKE_S;
  back_to_bed  after getting up, a later movement end in the bedroom followed by a bedroom spell >= BACK_QUIET_S;
  to_bed       a movement ending in the bedroom followed by a bedroom spell >= IN_BED_S (when not back to bed);
  in_bed       a bedroom spell >= IN_BED_S, or a bed pressure mat on for >= IN_BED_S;
  leaves       a movement whose last front-door event has motion in the DOOR_WINDOW_S before it and nothing but
               the door in the DOOR_WINDOW_S after it, followed by a spell >= AWAY_S;
  comes_home   a movement that starts with a front-door event (nothing indoors before it in the burst) after a
               spell >= AWAY_S;
  seated       a seat pressure mat on for >= IN_BED_S.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

BURST_GAP_S = 120.0       # active events closer than this belong to one burst
MOVE_EVENTS = 5           # a burst with this many events is movement even in one room
GET_UP_QUIET_S = 1200.0   # bedroom quiet before a movement that counts as getting up
AWAKE_S = 60.0            # a movement in the bedroom alone this long after the quiet is getting up too
BACK_QUIET_S = 600.0      # bedroom quiet after the return that counts as going back to bed
IN_BED_S = 1800.0         # bedroom quiet (or a bed / seat mat held on) this long is staying in bed (sitting)
AWAY_S = 600.0            # quiet after the front door that counts as leaving, before it as coming home
DOOR_WINDOW_S = 60.0      # motion this soon before the door: walked to it from inside


@dataclass(frozen=True)
class Cue:
    """One observation: what (`kind`), when (µs of the naive local clock), how long, and where to or what."""

    kind: str                   # gets_up | back_to_bed | to_bed | in_bed | leaves | comes_home | seated
    t_us: int                   # when it happens (getting up: the first movement; a spell: its start)
    duration_s: float = 0.0     # the quiet spell it borders (in_bed / seated: how long it lasts)
    lower_bound: bool = False   # the duration runs to an edge of the window (at least this long)
    rooms: tuple[str, ...] = field(default_factory=tuple)   # gets_up: rooms reached outside the bedroom, in order
    thing: str | None = None    # seated: the seat ('sofa'); in_bed: 'bed' when a bed sensor saw it; leaves /
                                #   comes_home: the door ('entrance door')

    @property
    def hour(self) -> int:
        return int(self.t_us // 3_600_000_000 % 24)

    @property
    def minute(self) -> int:
        return int(self.t_us // 60_000_000 % 60)


@dataclass(frozen=True)
class WindowEvents:
    """One window's real events that captions read, in time order (all arrays the same length)."""

    t_us: np.ndarray            # int64 µs
    active: np.ndarray          # bool: an activation (ON, OPEN, PRESENT, ...)
    room: np.ndarray            # int room index (-1 unknown)
    bedroom: np.ndarray         # bool: a bedroom (room type) or a bed (kind)
    bed: np.ndarray             # bool: a bed sensor (kind)
    front_door: np.ndarray      # bool: a front-door sensor (kind)
    motion: np.ndarray          # bool: a motion sensor
    sensor: np.ndarray          # int sensor code
    mat: np.ndarray             # int: 1 bed pressure mat, 2 seat pressure mat, 0 other
    quiet_from_us: int          # the event before the window (its first event minus `time_delta`)


@dataclass
class _Burst:
    first: int                  # index into the active events
    last: int
    move: bool


def _bursts(t: np.ndarray, room: np.ndarray, door: np.ndarray) -> list[_Burst]:
    cuts = np.flatnonzero(np.diff(t) >= BURST_GAP_S * 1e6) + 1
    out = []
    for a, b in zip(np.concatenate([[0], cuts]), np.concatenate([cuts, [t.size]])):
        known = room[a:b][room[a:b] >= 0]
        move = (b - a) >= MOVE_EVENTS or np.unique(known).size >= 2 or bool(door[a:b].any())
        out.append(_Burst(int(a), int(b) - 1, move))
    return out


def find_cues(ev: WindowEvents, room_names: list[str], names: dict[int, str] | None = None) -> list[Cue]:
    """The cues of one window, in time order (see the module docstring for the rules); `room_names` names the
    room indices, `names` the seat of a seat-mat sensor code and the door of a front-door one ('entrance door')."""
    names = names or {}
    act = np.flatnonzero(ev.active)
    if act.size == 0:
        return []
    t, room, bedroom = ev.t_us[act], ev.room[act], ev.bedroom[act]
    door, motion, bed = ev.front_door[act], ev.motion[act], ev.bed[act]
    bursts = _bursts(t, room, door)
    moves = [b for b in bursts if b.move]
    stirs = [b for b in bursts if not b.move]
    edges = (min(int(ev.quiet_from_us), int(t[0])), int(ev.t_us[-1]))
    cues: list[Cue] = []
    got_up = False
    for prev, nxt in zip([None, *moves], [*moves, None]):
        start = int(t[prev.last]) if prev else edges[0]
        end = int(t[nxt.first]) if nxt else edges[1]
        quiet = (end - start) / 1e6
        inside = [s for s in stirs if start < t[s.first] < end]
        here = sum(int(bedroom[s.first:s.last + 1].sum()) for s in inside)
        elsewhere = sum(s.last - s.first + 1 for s in inside) - here
        in_bedroom = ((prev is None or bool(bedroom[prev.last])) and (nxt is None or bool(bedroom[nxt.first]))
                      and here >= elsewhere and (prev is not None or nxt is not None or here > 0))
        if prev is not None and in_bedroom and got_up and quiet >= BACK_QUIET_S:
            cues.append(Cue("back_to_bed", int(t[prev.last]), quiet, nxt is None))
            got_up = False
        elif prev is not None and in_bedroom and quiet >= IN_BED_S:
            cues.append(Cue("to_bed", int(t[prev.last]), quiet, nxt is None))
        if in_bedroom and quiet >= IN_BED_S:
            stirred_bed = any(bed[s.first:s.last + 1].any() for s in inside)
            cues.append(Cue("in_bed", start, quiet, prev is None or nxt is None,
                            thing="bed" if stirred_bed else None))
        if prev is not None and quiet >= AWAY_S and _walks_out(prev, t, door, motion):
            d = act[prev.first + np.flatnonzero(door[prev.first:prev.last + 1])[-1]]
            cues.append(Cue("leaves", int(ev.t_us[d]), quiet, nxt is None, thing=names.get(int(ev.sensor[d]))))
        if nxt is not None and quiet >= AWAY_S and door[nxt.first]:
            cues.append(Cue("comes_home", int(t[nxt.first]), quiet, prev is None,
                            thing=names.get(int(ev.sensor[act[nxt.first]]))))
        if nxt is not None and in_bedroom and quiet >= GET_UP_QUIET_S and bedroom[nxt.first]:
            out_of_room = ~bedroom[nxt.first:nxt.last + 1]
            if out_of_room.any() or (t[nxt.last] - t[nxt.first]) / 1e6 >= AWAKE_S:
                away = [room_names[r] for r in room[nxt.first:nxt.last + 1][out_of_room] if r >= 0]
                cues.append(Cue("gets_up", int(t[nxt.first]), quiet, prev is None, rooms=tuple(dict.fromkeys(away))))
                got_up = True
    cues.extend(_mat_cues(ev, names))
    return sorted(cues, key=lambda c: c.t_us)


def _walks_out(burst: _Burst, t: np.ndarray, door: np.ndarray, motion: np.ndarray) -> bool:
    """The burst ends at the front door (nothing more than DOOR_WINDOW_S after its last door event) and someone
    moved indoors in the DOOR_WINDOW_S before it."""
    doors = burst.first + np.flatnonzero(door[burst.first:burst.last + 1])
    if doors.size == 0:
        return False
    d, window = int(doors[-1]), DOOR_WINDOW_S * 1e6
    before = np.arange(burst.first, d)
    walked = bool((motion[before] & (t[before] >= t[d] - window)).any())
    return walked and t[burst.last] - t[d] <= window


def _mat_cues(ev: WindowEvents, seat_names: dict[int, str]) -> list[Cue]:
    """Bed / seat pressure mats held on for >= IN_BED_S: from an activation to the same mat's next release (or
    the window's end, a lower bound)."""
    out = []
    for j in np.flatnonzero((ev.mat > 0) & ev.active):
        later = np.flatnonzero((ev.sensor == ev.sensor[j]) & ~ev.active & (np.arange(ev.sensor.size) > j))
        end = int(ev.t_us[later[0]]) if later.size else int(ev.t_us[-1])
        held = (end - int(ev.t_us[j])) / 1e6
        if held >= IN_BED_S:
            bed = ev.mat[j] == 1
            out.append(Cue("in_bed" if bed else "seated", int(ev.t_us[j]), held, not later.size,
                           thing="bed" if bed else seat_names.get(int(ev.sensor[j]))))
    return out
