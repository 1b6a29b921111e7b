"""Window summaries: what the captions of each window can say (time, rooms in order, dwell, notable sensors,
pauses, pace, activity cues), computed from the events only, vectorised over the whole set."""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..homes import Home, SensorInfo
from ..taxonomy import OBJECT_KINDS, ROOM_TYPES, UNKNOWN, infer_kind, infer_room_type
from ..windows import WindowSet, dow_codes
from .cues import Cue, WindowEvents, find_cues
from .daytime import DayPart, day_part
from .phrases import (
    DAYS,
    KIND_NOUNS,
    PREPOSITIONS,
    ROOM_TYPE_NOUNS,
    clean_detail,
    clock_text,
    duration_phrase,
    humanise_room,
    thing_verb,
)

_US = 1_000_000
_ACTIVE_STATES = {"ON", "OPEN", "ABSENT", "PRESENT", "PRESSED", "TRUE", "1"}
_SKIPPED_TYPES = {"temperature", "light", "battery", "analog", "humidity"}
_DOOR_KINDS = {"front_door", "internal_door"}
_PACE = ((0.5, ("very quiet", "slow")), (2.0, ("calm", "gentle")), (6.0, ("steady", "moderate")),
         (float("inf"), ("busy", "lively")))


# ------------------------------------------------------------------------------------- sensor table
@dataclass(frozen=True)
class _Thing:
    """A notable sensor as captions name it."""

    text: str              # 'fridge', 'entrance door', 'near the nightstand' (no leading article)
    kind: str              # "motion" | "door" | "object"
    verb: str = "used"     # objects: phrases.thing_verb ("opened", "flushed", "switched on", "sat on", ...)

    @property
    def prepositional(self) -> bool:
        return self.text.split()[0] in PREPOSITIONS

    @property
    def noun(self) -> str:
        return self.text if self.prepositional else f"the {self.text}"


def _thing_of(info: SensorInfo, room: str | None) -> _Thing | None:
    """How captions name a sensor: its detail, else its object kind ("fridge"); None for a plain area sensor."""
    if info.type.startswith("motion"):
        kind = "motion"
    elif info.kind in _DOOR_KINDS or (info.type == "door" and info.kind in ("unknown", "other")):
        kind = "door"
    else:
        kind = "object"
    if kind == "object" and info.kind == "toilet" and info.type == "flow":
        return _Thing(text="toilet", kind=kind, verb="flushed")     # not "the toilet flush is flushed"
    text = clean_detail(info.detail or "", room)
    if text is not None and room is not None and humanise_room(info.detail) == room:
        text = None        # a detail that only repeats the room ("kitchen") names nothing new
    if text is None:
        text = KIND_NOUNS.get(info.kind)
    if text is None or text == "door":
        if kind != "door":
            return None
        text = f"door in the {room}" if room else "door"
    return _Thing(text=text, kind=kind, verb=thing_verb(info.type, info.kind) if kind == "object" else "used")


@dataclass
class _SensorTable:
    """Per sensor category code (last slot: padding): room index, notable-thing index (-1 when none), skipped
    flag, taxonomy room type and kind (indices into ROOM_TYPES / OBJECT_KINDS), motion and pressure-mat flags."""

    rooms: list[str]
    things: list[_Thing]
    room_of: np.ndarray
    thing_of: np.ndarray
    skipped: np.ndarray
    room_type_of: np.ndarray
    kind_of: np.ndarray
    motion: np.ndarray
    pressure: np.ndarray


def _sensor_table(windows: WindowSet, home: Home) -> _SensorTable:
    rooms: list[str] = []
    things: list[_Thing] = []
    sensors = windows.categories["sensor"]
    room_of = np.full(len(sensors) + 1, -1, dtype=np.int32)     # last slot: padding (code -1)
    thing_of = np.full(len(sensors) + 1, -1, dtype=np.int32)
    skipped = np.zeros(len(sensors) + 1, dtype=bool)
    room_type_of = np.full(len(sensors) + 1, ROOM_TYPES.index(UNKNOWN), dtype=np.int32)
    kind_of = np.full(len(sensors) + 1, OBJECT_KINDS.index(UNKNOWN), dtype=np.int32)
    motion, pressure = np.zeros(len(sensors) + 1, dtype=bool), np.zeros(len(sensors) + 1, dtype=bool)
    for code, name in enumerate(sensors):
        info = home.sensor_info(name)
        skipped[code] = info.type in _SKIPPED_TYPES
        motion[code], pressure[code] = info.type.startswith("motion"), info.type == "pressure"
        kind = info.kind if info.kind != UNKNOWN else infer_kind(info.type, name, info.detail)
        room_type = info.room_type if info.room_type != UNKNOWN else infer_room_type(info.room, name, info.detail,
                                                                                     kind)
        room_type_of[code], kind_of[code] = ROOM_TYPES.index(room_type), OBJECT_KINDS.index(kind)
        room = humanise_room(info.room) or ROOM_TYPE_NOUNS.get(info.room_type)
        if room is not None:
            if room not in rooms:
                rooms.append(room)
            room_of[code] = rooms.index(room)
        thing = _thing_of(info, room)
        if thing is not None:
            if thing not in things:
                things.append(thing)
            thing_of[code] = things.index(thing)
    return _SensorTable(rooms, things, room_of, thing_of, skipped, room_type_of, kind_of, motion, pressure)


def _event_taxonomy(windows: WindowSet, table: _SensorTable, field_name: str, values: tuple[str, ...]) -> np.ndarray:
    """Room type or kind per event [N, T] (index into `values`): the layout's, else the window's own semantic
    field (a prepared set of a home whose layout did not know the sensor)."""
    ev = (table.room_type_of if field_name == "room_type" else table.kind_of)[windows.codes["sensor"]]
    if field_name in windows.codes and field_name in windows.categories:
        own = np.array([values.index(v) if v in values else values.index(UNKNOWN)
                        for v in windows.categories[field_name]] + [values.index(UNKNOWN)], dtype=np.int32)
        ev = np.where(ev != values.index(UNKNOWN), ev, own[windows.codes[field_name]])
    return ev


def _event_rooms(windows: WindowSet, table: _SensorTable) -> np.ndarray:
    """Room index per event [N, T]: the layout's room, else the window's own room field, else its room type
    field; -1 when unknown. Rooms known only from the window's fields are appended to `table.rooms`."""
    ev = table.room_of[windows.codes["sensor"]]
    for field_name, name_of in (("room", humanise_room), ("room_type", ROOM_TYPE_NOUNS.get)):
        if field_name in windows.codes and field_name in windows.categories:
            ev = np.where(ev >= 0, ev, _room_codes(windows.categories[field_name], name_of, table.rooms)[
                windows.codes[field_name]])
    return np.where(windows.mask, ev, -1)


def _room_codes(values: list[str], name_of, rooms: list[str]) -> np.ndarray:
    """Index into `rooms` (appended to) of each room value's caption name; -1 (also the padding slot) for none."""
    out = np.full(len(values) + 1, -1, dtype=np.int32)
    for code, value in enumerate(values):
        room = name_of(value)
        if room is not None:
            if room not in rooms:
                rooms.append(room)
            out[code] = rooms.index(room)
    return out


# ---------------------------------------------------------------------------------------- summaries
@dataclass
class WindowSummary:
    """What the captions of one window say, computed from its events. A window is placed in the day by its
    middle event (where most of it happens: `weekday`, `mid_hour`, `part`); the clock also gives its start."""

    weekday: str                               # of the middle event
    hour: int                                  # start clock
    minute: int
    duration_s: float
    n_events: int
    per_minute: float
    route: list[tuple[str, float, int]]        # collapsed room runs in order: (room, dwell seconds, events)
    rooms_by_dwell: list[tuple[str, float, int]]   # the same rooms totalled, most dwell first
    main_route: list[str]                      # rooms that matter, in visiting order, repeats collapsed
    things: list[tuple[_Thing, int]]           # notable sensors in first-seen order with their active events
    longest_pause_s: float
    pause_room: str | None
    quiet_before_s: float
    key: int                                   # hash of the window's events (seeds its RNG)
    start_weekday: str = ""
    mid_hour: int = 0                          # middle event clock
    mid_minute: int = 0
    end_hour: int = 0                          # last event clock
    end_minute: int = 0
    cues: list[Cue] = field(default_factory=list)   # activity cues (cues.py), in time order

    @cached_property
    def part(self) -> DayPart:
        return day_part(self.mid_hour)

    @property
    def tod(self) -> str:
        return self.part.name

    @cached_property
    def duration_text(self) -> str:
        return duration_phrase(self.duration_s)

    @cached_property
    def route_nouns(self) -> list[str]:
        return [f"the {r}" for r in self.main_route]

    @cached_property
    def pace_words(self) -> tuple[str, str]:
        return next(words for limit, words in _PACE if self.per_minute < limit)

    @property
    def clock(self) -> str:
        return clock_text(self.hour, self.minute)

    @property
    def end_clock(self) -> str:
        return clock_text(self.end_hour, self.end_minute)


def _window_keys(windows: WindowSet) -> np.ndarray:
    """A 64-bit hash of each window's events (sensor and state names, times), independent of other windows."""
    def name_hashes(field_name: str) -> np.ndarray:
        cats = windows.categories[field_name]
        return np.array([zlib.crc32(c.encode()) for c in cats] + [0], dtype=np.uint64)

    sensor = name_hashes("sensor")[windows.codes["sensor"]]
    state = name_hashes("state")[windows.codes["state"]] if "state" in windows.codes else np.uint64(0)
    t = windows.time.astype(np.uint64)
    with np.errstate(over="ignore"):
        mixed = sensor * np.uint64(0x9E3779B97F4A7C15) + state * np.uint64(0xC2B2AE3D27D4EB4F) + t
        mixed = np.where(windows.mask, mixed, np.uint64(0))
        powers = np.uint64(0x100000001B3) ** np.arange(1, windows.seq_len + 1, dtype=np.uint64)
        h = (mixed * powers).sum(axis=1, dtype=np.uint64) ^ windows.mask.sum(axis=1).astype(np.uint64)
        h ^= h >> np.uint64(31)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(29)
    return h


def _offsets(owner: np.ndarray, n: int) -> list[int]:
    """Start offsets of each window's rows in an array sorted by window index (length n + 1)."""
    return np.searchsorted(owner, np.arange(n + 1)).tolist()


def _room_runs(ev_room: np.ndarray, t: np.ndarray, lengths: np.ndarray, last_t: np.ndarray) -> dict:
    """Collapsed room runs of all windows at once: owner window, room, events, dwell (until the next run)."""
    n, width = ev_room.shape
    # An event in an unmapped room continues the current run instead of splitting it.
    idx = np.maximum.accumulate(np.where(ev_room >= 0, np.arange(width), -1), axis=1)
    filled = np.where(idx >= 0, np.take_along_axis(ev_room, np.maximum(idx, 0), axis=1), -1)
    filled[np.arange(width)[None, :] >= lengths[:, None]] = -1
    prev = np.concatenate([np.full((n, 1), -1, dtype=filled.dtype), filled[:, :-1]], axis=1)
    owner, pos = np.nonzero((filled >= 0) & (filled != prev))
    room, t0 = filled[owner, pos], t[owner, pos]
    same_next = np.append(owner[1:] == owner[:-1], False)
    t1 = np.where(same_next, np.append(t0[1:], 0), last_t[owner])
    count = np.where(same_next, np.append(pos[1:], 0), lengths[owner]) - pos
    return {"owner": owner, "room": room, "count": count, "dwell": (t1 - t0) / _US}


def _rank_rooms(runs: dict, n: int, n_rooms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per window and room: total dwell, events, rank by dwell, and whether the room is a main room."""
    key = runs["owner"] * n_rooms + runs["room"]
    dwell = np.bincount(key, weights=runs["dwell"], minlength=n * n_rooms).reshape(n, n_rooms)
    events = np.bincount(key, weights=runs["count"], minlength=n * n_rooms).reshape(n, n_rooms)
    order = np.argsort(-(dwell + events * 1e-6), axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(n_rooms)[None, :].repeat(n, axis=0), axis=1)
    present = events > 0
    share_n = events / np.maximum(events.sum(axis=1, keepdims=True), 1)
    share_d = dwell / np.maximum(dwell.sum(axis=1, keepdims=True), 1e-9)
    main = present & (rank < 4) & ((share_n >= 0.2) | (share_d >= 0.25))
    main |= present & (rank == 0) & ~main.any(axis=1, keepdims=True)
    return dwell, events, order, main


def _thing_counts(thing_ev: np.ndarray, active: np.ndarray) -> dict:
    """Notable sensors per window in first-seen order, with their number of active events."""
    owner, pos = np.nonzero(thing_ev >= 0)
    thing = thing_ev[owner, pos]
    k = int(thing.max()) + 1 if thing.size else 1
    key = owner * k + thing
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    hits = np.bincount(inverse, weights=active[owner, pos], minlength=uniq.size)
    order = np.lexsort((pos[first], uniq // k))
    return {"owner": (uniq // k)[order], "thing": (uniq % k)[order], "hits": hits[order]}


def summarise_windows(windows: WindowSet, home: Home) -> list[WindowSummary]:
    """Per-window summaries: all arithmetic vectorised over the set, then one cheap assembly per window."""
    n = len(windows)
    if n == 0:
        return []
    table = _sensor_table(windows, home)
    sensor_codes = windows.codes["sensor"]
    mask = windows.mask & ~table.skipped[sensor_codes]
    lengths = windows.mask.sum(axis=1)
    rows = np.arange(n)
    t = windows.time
    first_t, last_t = t[:, 0], t[rows, np.maximum(lengths - 1, 0)]
    mid_t = t[rows, np.maximum(lengths - 1, 0) // 2]
    duration = (last_t - first_t) / _US
    sec_of_day, mid_sec, end_sec = ((x // _US) % 86_400 for x in (first_t, mid_t, last_t))
    per_minute = np.where(duration > 0, (lengths - 1) * 60.0 / np.maximum(duration, 1e-9), lengths)
    gaps = np.where(windows.mask[:, 1:], np.diff(t, axis=1) / _US, 0.0)
    pause_at = gaps.argmax(axis=1) if gaps.shape[1] else np.zeros(n, dtype=np.int64)
    pause = gaps[rows, pause_at] if gaps.shape[1] else np.zeros(n)
    ev_room = np.where(mask, _event_rooms(windows, table), -1)
    # The pause is said to be in a room only when the events on both sides of it are there: a lone trigger
    # elsewhere (a pet, a false trigger) before a long silence does not place the person.
    after = np.minimum(pause_at + 1, ev_room.shape[1] - 1)
    pause_room = np.where(ev_room[rows, pause_at] == ev_room[rows, after], ev_room[rows, pause_at], -1)
    states = windows.categories.get("state", [])
    active_of = np.array([s.upper() in _ACTIVE_STATES for s in states] + [False])
    active = active_of[windows.codes["state"]] if "state" in windows.codes else mask

    rooms = table.rooms
    runs = _room_runs(ev_room, t, lengths, last_t)
    dwell, events, order, main = _rank_rooms(runs, n, max(len(rooms), 1))
    is_main = main[runs["owner"], runs["room"]]
    m_owner, m_room = runs["owner"][is_main], runs["room"][is_main]
    keep = np.ones(m_owner.size, dtype=bool)
    keep[1:] = (m_owner[1:] != m_owner[:-1]) | (m_room[1:] != m_room[:-1])
    things = _thing_counts(np.where(mask, table.thing_of[sensor_codes], -1), active)

    run_off, main_off, thing_off = (_offsets(runs["owner"], n), _offsets(m_owner[keep], n),
                                    _offsets(things["owner"], n))
    route_all = [(rooms[r], d, c) for r, d, c in zip(runs["room"].tolist(), runs["dwell"].tolist(),
                                                     runs["count"].tolist())]
    main_all = [rooms[r] for r in m_room[keep].tolist()]
    things_all = [(table.things[j], int(c)) for j, c in zip(things["thing"].tolist(), things["hits"].tolist())]
    dwell_l, events_l, order_l, present_l = dwell.tolist(), events.tolist(), order.tolist(), (events > 0).tolist()
    keys = _window_keys(windows).tolist()
    cues = _window_cues(windows, table, mask, ev_room, active)
    clocks = zip(*((x // 3600).tolist() for x in (sec_of_day, mid_sec, end_sec)),
                 *(((x % 3600) // 60).tolist() for x in (sec_of_day, mid_sec, end_sec)),
                 dow_codes(first_t).tolist(), dow_codes(mid_t).tolist())
    scalars = zip(clocks, duration.tolist(), lengths.tolist(), per_minute.tolist(), pause.tolist(),
                  pause_room.tolist(), windows.time_delta[:, 0].tolist())
    out = []
    for i, (clock, dur, k, rate, gap, gap_room, quiet) in enumerate(scalars):
        hour, mid_hour, end_hour, minute, mid_minute, end_minute, start_wd, mid_wd = clock
        out.append(WindowSummary(
            weekday=DAYS[mid_wd], hour=hour, minute=minute, duration_s=dur, n_events=k, per_minute=rate,
            route=route_all[run_off[i]:run_off[i + 1]],
            rooms_by_dwell=[(rooms[r], dwell_l[i][r], int(events_l[i][r])) for r in order_l[i] if present_l[i][r]],
            main_route=main_all[main_off[i]:main_off[i + 1]],
            things=things_all[thing_off[i]:thing_off[i + 1]],
            longest_pause_s=gap, pause_room=rooms[gap_room] if gap_room >= 0 else None,
            quiet_before_s=quiet, key=keys[i], start_weekday=DAYS[start_wd], mid_hour=mid_hour,
            mid_minute=mid_minute, end_hour=end_hour, end_minute=end_minute, cues=cues[i],
        ))
    return out


def _window_cues(windows: WindowSet, table: _SensorTable, mask: np.ndarray, ev_room: np.ndarray,
                 active: np.ndarray) -> list[list[Cue]]:
    """The activity cues of every window (cues.py), from its non-skipped events."""
    room_type = _event_taxonomy(windows, table, "room_type", ROOM_TYPES)
    kind = _event_taxonomy(windows, table, "kind", OBJECT_KINDS)
    codes = windows.codes["sensor"]
    bed = kind == OBJECT_KINDS.index("bed")
    bedroom = (room_type == ROOM_TYPES.index("bedroom")) | bed
    front_door = kind == OBJECT_KINDS.index("front_door")
    pressure = table.pressure[codes]
    mat = np.where(pressure & bed, 1, np.where(pressure & (kind == OBJECT_KINDS.index("seat")), 2, 0))
    names = {code: table.things[j].text for code, j in enumerate(table.thing_of[:-1].tolist())
             if j >= 0 and (table.pressure[code] or table.kind_of[code] == OBJECT_KINDS.index("front_door"))}
    quiet_from = windows.time[:, 0] - np.round(windows.time_delta[:, 0].astype(np.float64) * _US).astype(np.int64)
    out = []
    for i in range(len(windows)):
        idx = np.flatnonzero(mask[i])
        if idx.size == 0:
            out.append([])
            continue
        ev = WindowEvents(t_us=windows.time[i, idx], active=active[i, idx], room=ev_room[i, idx],
                          bedroom=bedroom[i, idx], bed=bed[i, idx], front_door=front_door[i, idx],
                          motion=table.motion[codes[i, idx]], sensor=codes[i, idx], mat=mat[i, idx],
                          quiet_from_us=int(quiet_from[i]))
        out.append(find_cues(ev, table.rooms, names))
    return out
