"""Rule-based captions for windows, built from the events only (never from labels).

Each window gets four caption styles:
  long_natural      three varied English descriptions (time, rooms in order, objects, doors, pauses, pace)
  long_structured   one fixed-template description with exact figures
  short_natural     one or two short English phrases
  short_structured  one fixed-template summary
Natural captions draw their wording from a per-window RNG seeded by (seed, the window's events), so a window
gets the same captions alone or inside any set. Structured captions never depend on the seed.
"""
from __future__ import annotations

import random
import re
import zlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .homes import Home, SensorInfo
from .windows import WindowSet, dow_codes

STYLES = ("long_natural", "long_structured", "short_natural", "short_structured")
N_LONG_NATURAL = 3
LONG_PAUSE_S = 300.0          # a gap inside a window at least this long is described as a pause
QUIET_BEFORE_S = 1800.0       # silence before the window worth mentioning
MAX_ROUTE_SHOWN = 8           # runs listed in the structured trajectory

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# (first hour, bucket name); a bucket runs until the next one starts.
TIME_OF_DAY = ((0, "night"), (5, "early morning"), (8, "morning"), (12, "midday"), (14, "afternoon"),
               (17, "evening"), (21, "late evening"))
_US = 1_000_000
_UNKNOWN_ROOMS = {"", "unknown", "unk", "other", "none", "nan"}
_ROOM_WORDS = {"rm": "room", "aisle": "hallway"}
_ROOM_ALONE = {"living": "living room", "dining": "dining room"}
_PREPOSITIONS = {"at", "near", "in", "on", "between", "by", "next", "close", "under", "above", "behind",
                 "beside", "outside", "inside", "toward", "towards", "into", "from", "to"}
_NO_ARTICLE_AFTER = {"the", "a", "an", "this", "that", "its", "his", "her", "their", "each", "every", "both",
                     "and", "or", "to", "of"} | _PREPOSITIONS
_ACTIVE_STATES = {"ON", "OPEN", "ABSENT", "PRESENT", "PRESSED", "TRUE", "1"}
_SKIPPED_TYPES = {"temperature", "light", "battery", "analog", "humidity"}
_PACE = ((0.5, ("very quiet", "slow")), (2.0, ("calm", "gentle")), (6.0, ("steady", "moderate")),
         (float("inf"), ("busy", "lively")))
_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


# ----------------------------------------------------------------------------------------------- wording
def time_of_day(hour: int) -> str:
    """The time-of-day bucket of an hour (0-23), e.g. 7 -> "early morning"."""
    name = TIME_OF_DAY[0][1]
    for first, bucket in TIME_OF_DAY:
        if hour >= first:
            name = bucket
    return name


def number_word(n: int) -> str:
    """Small counts as words (one ... ten), larger ones as digits."""
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else str(n)


def times_word(n: int) -> str:
    """once, twice, three times, ..."""
    return {1: "once", 2: "twice"}.get(n, f"{number_word(n)} times")


def plural(n: int, noun: str) -> str:
    """'1 event', '2 events'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def join_words(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def duration_phrase(seconds: float) -> str:
    """A rounded English duration: 'less than a minute', 'a few minutes', 'about 20 minutes', 'about an hour'."""
    minutes = seconds / 60.0
    if seconds < 45:
        return "less than a minute"
    if minutes < 1.5:
        return "about a minute"
    if minutes < 4.5:
        return "a few minutes"
    if minutes < 9.5:
        return f"about {number_word(round(minutes))} minutes"
    if minutes < 52.5:
        return f"about {5 * round(minutes / 5)} minutes"
    if minutes < 75:
        return "about an hour"
    if minutes < 105:
        return "about an hour and a half"
    halves = round(minutes / 30)
    whole = number_word(halves // 2)
    return f"about {whole} and a half hours" if halves % 2 else f"about {whole} hours"


def short_duration(seconds: float) -> str:
    """Exact compact duration for structured captions: '40 s', '12 min', '1 h 20 min'."""
    if seconds < 60:
        return f"{round(seconds)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min" if minutes % 60 else f"{minutes // 60} h"


def _words(text: str) -> list[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", text.strip())
    return re.sub(r"[_\-\s]+", " ", spaced).split()


def _add_articles(words: list[str]) -> list[str]:
    # "at home entrance" -> "at the home entrance": a preposition followed directly by a noun gets "the".
    out: list[str] = []
    for i, word in enumerate(words):
        out.append(word)
        nxt = words[i + 1].lower() if i + 1 < len(words) else None
        if (word.lower() in _PREPOSITIONS and nxt is not None and nxt not in _NO_ARTICLE_AFTER
                and not nxt.isdigit() and not (word.lower() in ("next", "close") and nxt == "to")):
            out.append("the")
    return out


def humanise_room(name: str) -> str | None:
    """'master_bedroom' -> 'master bedroom', 'LivingRoom' -> 'living room'; None for unknown rooms."""
    words = [w.lower() for w in _words(name)]
    if " ".join(words) in _UNKNOWN_ROOMS:
        return None
    words = [_ROOM_WORDS.get(w, w) for w in words]
    text = " ".join(_add_articles(words))
    return _ROOM_ALONE.get(text, text)


def _clean_detail(detail: str, room: str | None) -> str | None:
    """A layout detail as a phrase without leading article: 'bed in master bedroom' -> 'bed'."""
    words = [w if (w.isupper() and len(w) > 1) else w.lower() for w in _words(detail)]
    if words and words[0] == "the":
        words = words[1:]
    text = " ".join(words)
    if room:  # "garage door in kitchen" inside the kitchen: the room is said elsewhere
        text = re.sub(rf"\s+(in|of)\s+(the\s+)?{re.escape(room)}$", "", text)
    text = " ".join(_add_articles(text.split()))
    return text or None


def article(noun_phrase: str) -> str:
    """'a' or 'an' for a noun phrase ('an armchair', 'a fridge')."""
    return "an" if noun_phrase[:1].lower() in "aeiou" else "a"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sentence(text: str) -> str:
    text = _cap(text.strip())
    return text if text.endswith((".", "!", "?")) else text + "."


# ------------------------------------------------------------------------------------- sensor table
@dataclass(frozen=True)
class _Thing:
    """A notable sensor as captions name it."""

    text: str              # 'fridge', 'entrance door', 'near the nightstand' (no leading article)
    kind: str              # "motion" | "door" | "object"

    @property
    def prepositional(self) -> bool:
        return self.text.split()[0] in _PREPOSITIONS

    @property
    def noun(self) -> str:
        return self.text if self.prepositional else f"the {self.text}"


def _thing_of(info: SensorInfo, room: str | None) -> _Thing | None:
    kind = "door" if info.type == "door" else "motion" if info.type.startswith("motion") else "object"
    text = _clean_detail(info.detail or "", room)
    if text is not None and room is not None and humanise_room(info.detail) == room:
        text = None        # a detail that only repeats the room ("kitchen") names nothing new
    if text is None:
        if kind != "door":
            return None
        text = f"door in the {room}" if room else "door"
    return _Thing(text=text, kind=kind)


@dataclass
class _SensorTable:
    """Per sensor category code: room index, notable-thing index (-1 when none), skipped flag."""

    rooms: list[str]
    things: list[_Thing]
    room_of: np.ndarray
    thing_of: np.ndarray
    skipped: np.ndarray


def _sensor_table(windows: WindowSet, home: Home) -> _SensorTable:
    rooms: list[str] = []
    things: list[_Thing] = []
    sensors = windows.categories["sensor"]
    room_of = np.full(len(sensors) + 1, -1, dtype=np.int32)     # last slot: padding (code -1)
    thing_of = np.full(len(sensors) + 1, -1, dtype=np.int32)
    skipped = np.zeros(len(sensors) + 1, dtype=bool)
    for code, name in enumerate(sensors):
        info = home.sensor_info(name)
        skipped[code] = info.type in _SKIPPED_TYPES
        room = humanise_room(info.room)
        if room is not None:
            if room not in rooms:
                rooms.append(room)
            room_of[code] = rooms.index(room)
        thing = _thing_of(info, room)
        if thing is not None:
            if thing not in things:
                things.append(thing)
            thing_of[code] = things.index(thing)
    return _SensorTable(rooms, things, room_of, thing_of, skipped)


def _event_rooms(windows: WindowSet, table: _SensorTable) -> np.ndarray:
    """Room index per event [N, T]: the layout's room, else the window's own room field; -1 when unknown.

    Rooms known only from the window's room field are appended to `table.rooms`."""
    rooms = table.rooms
    window_room_of = np.full(len(windows.categories.get("room", [])) + 1, -1, dtype=np.int32)
    for code, name in enumerate(windows.categories.get("room", [])):
        room = humanise_room(name)
        if room is not None:
            if room not in rooms:
                rooms.append(room)
            window_room_of[code] = rooms.index(room)
    ev = table.room_of[windows.codes["sensor"]]
    if "room" in windows.codes:
        ev = np.where(ev >= 0, ev, window_room_of[windows.codes["room"]])
    return np.where(windows.mask, ev, -1)


# ---------------------------------------------------------------------------------------- summaries
@dataclass
class WindowSummary:
    """What the captions of one window say, computed from its events."""

    weekday: str
    hour: int
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

    @cached_property
    def tod(self) -> str:
        return time_of_day(self.hour)

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
        h12 = self.hour % 12 or 12
        return f"{h12}:{self.minute:02d} {'am' if self.hour < 12 else 'pm'}"


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
    duration = (last_t - first_t) / _US
    sec_of_day = (first_t // _US) % 86_400
    weekday = dow_codes(first_t)
    per_minute = np.where(duration > 0, (lengths - 1) * 60.0 / np.maximum(duration, 1e-9), lengths)
    gaps = np.where(windows.mask[:, 1:], np.diff(t, axis=1) / _US, 0.0)
    pause_at = gaps.argmax(axis=1) if gaps.shape[1] else np.zeros(n, dtype=np.int64)
    pause = gaps[rows, pause_at] if gaps.shape[1] else np.zeros(n)
    ev_room = np.where(mask, _event_rooms(windows, table), -1)
    pause_room = ev_room[rows, pause_at]
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
    scalars = zip(weekday.tolist(), (sec_of_day // 3600).tolist(), ((sec_of_day % 3600) // 60).tolist(),
                  duration.tolist(), lengths.tolist(), per_minute.tolist(), pause.tolist(), pause_room.tolist(),
                  windows.time_delta[:, 0].tolist())
    out = []
    for i, (wd, hour, minute, dur, k, rate, gap, gap_room, quiet) in enumerate(scalars):
        out.append(WindowSummary(
            weekday=DAYS[wd], hour=hour, minute=minute, duration_s=dur, n_events=k, per_minute=rate,
            route=route_all[run_off[i]:run_off[i + 1]],
            rooms_by_dwell=[(rooms[r], dwell_l[i][r], int(events_l[i][r])) for r in order_l[i] if present_l[i][r]],
            main_route=main_all[main_off[i]:main_off[i + 1]],
            things=things_all[thing_off[i]:thing_off[i + 1]],
            longest_pause_s=gap, pause_room=rooms[gap_room] if gap_room >= 0 else None,
            quiet_before_s=quiet, key=keys[i],
        ))
    return out


# ------------------------------------------------------------------------------------ structured style
def _long_structured(s: WindowSummary) -> str:
    shown = s.route[:MAX_ROUTE_SHOWN]
    route = " > ".join(f"{r} ({short_duration(d)})" for r, d, _ in shown) or "unknown"
    if len(s.route) > MAX_ROUTE_SHOWN:
        route += f" > {len(s.route) - MAX_ROUTE_SHOWN} more"
    objects = ", ".join(f"{t.text} x{c}" for t, c in s.things if t.kind != "door") or "none"
    doors = ", ".join(f"{t.text} opened x{c}" for t, c in s.things if t.kind == "door") or "none"
    return (f"Start: {s.weekday} {s.hour:02d}:{s.minute:02d} ({s.tod}). Duration: {short_duration(s.duration_s)}. "
            f"Events: {s.n_events} ({s.per_minute:.1f} per min). Rooms: {route}. Sensors: {objects}. "
            f"Doors: {doors}. Longest pause: {short_duration(s.longest_pause_s)}.")


def _short_structured(s: WindowSummary) -> str:
    rooms = ", ".join(dict.fromkeys(s.main_route)) or "unknown"
    return f"{s.weekday} {s.tod} | {rooms} | {short_duration(s.duration_s)} | {s.n_events} events"


# --------------------------------------------------------------------------------------- natural style
_WHO = ("the resident", "someone", "a person", "the occupant")
# The weekday and time-of-day bucket said two ways ({d} is the weekday); the first also ends short captions.
_DAY_PARTS = {
    "night": ("in the early hours of {d}", "during the night, early on {d}"),
    "early morning": ("early on {d} morning", "early in the morning on {d}"),
    "morning": ("on {d} morning", "in the morning on {d}"),
    "midday": ("around midday on {d}", "at midday on {d}"),
    "afternoon": ("on {d} afternoon", "in the afternoon on {d}"),
    "evening": ("on {d} evening", "in the evening on {d}"),
    "late evening": ("late on {d} evening", "late in the evening on {d}"),
}
_TOD_ADVERB = {"night": "during the night", "early morning": "early in the morning", "midday": "around midday",
               "late evening": "late in the evening"}


def _pace(s: WindowSummary, rng: random.Random) -> str:
    return rng.choice(s.pace_words)


def _when(s: WindowSummary, rng: random.Random) -> str:
    """A time phrase that can open a sentence: 'on Monday morning', 'at 7:42 am on Monday', ..."""
    k = rng.randrange(4)
    if k < 2:
        return _DAY_PARTS[s.tod][k].format(d=s.weekday)
    return f"{'at' if k == 2 else 'starting at'} {s.clock} on {s.weekday}"


def _movement(s: WindowSummary, rng: random.Random, who: str) -> str:
    """'the resident goes from the kitchen to the living room' and similar."""
    route = s.route_nouns
    if not route:
        return rng.choice((f"{who} moves about in an unmapped part of the home",
                           f"{who} is active somewhere in the home"))
    if len(route) == 1:
        return rng.choice((f"{who} stays in {route[0]}", f"{who} is active in {route[0]}",
                           f"{who} moves around {route[0]}"))
    distinct = list(dict.fromkeys(route))
    if len(distinct) < len(route):
        return rng.choice((f"{who} moves back and forth between {join_words(distinct)}",
                           f"{who} goes between {join_words(distinct)} several times"))
    if len(route) == 2:
        return rng.choice((f"{who} goes from {route[0]} to {route[1]}",
                           f"{who} starts in {route[0]} and then moves to {route[1]}"))
    return rng.choice((f"{who} goes from {route[0]} through {join_words(route[1:-1])} to {route[-1]}",
                       f"{who} starts in {route[0]}, passes through {join_words(route[1:-1])} "
                       f"and ends up in {route[-1]}"))


def _dwell_clause(s: WindowSummary, rng: random.Random) -> str:
    rooms = s.rooms_by_dwell
    if len(set(s.main_route)) < 2 or rooms[0][1] < 60:
        return ""
    room, dwell, _ = rooms[0]
    return rng.choice((f", spending most of the time in the {room}",
                       f", spending {duration_phrase(dwell)} in the {room}"))


def _minor_rooms(s: WindowSummary) -> list[str]:
    main = set(s.main_route)
    return [r for r, _, _ in s.rooms_by_dwell if r not in main][:2]


def _objects_sentence(s: WindowSummary, rng: random.Random, who: str) -> str:
    motion = [t for t, _ in sorted(s.things, key=lambda tc: -tc[1]) if t.kind == "motion"]
    used = [(t, c) for t, c in s.things if t.kind == "object" and c > 0]
    parts = []
    if motion:
        prep = rng.choice(("near", "by"))
        nouns = [t.noun for t in motion if not t.prepositional][:4]
        places = ([f"{prep} {join_words(nouns)}"] if nouns else []) + [t.text for t in motion if t.prepositional][:2]
        where = join_words(places)
        options = (f"there is movement {where}", f"motion sensors {where} are triggered")
        parts.append(rng.choice(options if len(places) > len(nouns[:1]) else options + (f"{who} passes {where}",)))
    if used:
        parts.append(join_words([f"{t.noun} is used {times_word(c)}" for t, c in used[:3]]))
    return " ".join(_sentence(p) for p in parts)


def _doors_sentence(s: WindowSummary, rng: random.Random) -> str:
    doors = [(t, c) for t, c in s.things if t.kind == "door"][:3]
    if not doors:
        return ""
    verb = rng.choice(("is opened", "opens"))
    clauses = [f"{t.noun} {verb} {times_word(c)}" if c else f"{t.noun} is closed" for t, c in doors]
    return _sentence(join_words(clauses))


def _pause_sentence(s: WindowSummary, rng: random.Random, who: str) -> str:
    out = []
    if s.longest_pause_s >= LONG_PAUSE_S:
        dur = duration_phrase(s.longest_pause_s)
        where = f" in the {s.pause_room}" if s.pause_room else ""
        out.append(rng.choice((f"there is a long pause of {dur}{where}",
                               f"nothing happens for {dur}" + (f" while {who} is{where}" if where else ""),
                               f"the sensors fall silent for {dur}{where}")))
    if s.quiet_before_s >= QUIET_BEFORE_S:
        out.append(rng.choice((f"this follows {duration_phrase(s.quiet_before_s)} without any sensor events",
                               f"it comes after {duration_phrase(s.quiet_before_s)} of silence")))
    return " ".join(_sentence(x) for x in out)


def _pace_sentence(s: WindowSummary, rng: random.Random) -> str:
    rate = s.per_minute
    if rate >= 1.5:
        per = f"about {number_word(round(rate))} events a minute"
    elif rate >= 0.75:
        per = "about one event a minute"
    else:
        per = f"about one event every {number_word(max(2, round(1 / max(rate, 1e-3))))} minutes"
    dur, adj, k = s.duration_text, _pace(s, rng), rng.randrange(3)
    if k == 0:
        return _sentence(f"the pace is {adj}, with {plural(s.n_events, 'sensor event')} in {dur}")
    if k == 1:
        return _sentence(f"activity is {adj}, {per}")
    return _sentence(f"it is {article(adj)} {adj} stretch of {dur} with {plural(s.n_events, 'sensor event')}")


def _extras(s: WindowSummary, rng: random.Random, who: str, *, pace: bool) -> list[str]:
    parts = [_objects_sentence(s, rng, who), _doors_sentence(s, rng), _pause_sentence(s, rng, who)]
    if pace:
        parts.append(_pace_sentence(s, rng))
    minor = _minor_rooms(s)
    if minor and rng.random() < 0.5:
        parts.append(_sentence(f"there are brief visits to {join_words([f'the {r}' for r in minor])}"))
    return [p for p in parts if p]


def _plan_narrative(s: WindowSummary, rng: random.Random) -> str:
    who = rng.choice(_WHO)
    head = _sentence(f"{_when(s, rng)}, {_movement(s, rng, who)}{_dwell_clause(s, rng)}")
    return " ".join([head, *_extras(s, rng, who, pace=True)])


def _plan_duration(s: WindowSummary, rng: random.Random) -> str:
    who = rng.choice(_WHO)
    head = _sentence(f"{s.duration_text} of {_pace(s, rng)} activity {_when(s, rng)}")
    return " ".join([head, _sentence(_movement(s, rng, who)), *_extras(s, rng, who, pace=False)])


def _plan_pace(s: WindowSummary, rng: random.Random) -> str:
    who = rng.choice(_WHO)
    adj = _pace(s, rng)
    head = _sentence(f"{article(adj)} {adj} period {_when(s, rng)}: {plural(s.n_events, 'sensor event')} "
                     f"in {s.duration_text} as {_movement(s, rng, who)}")
    return " ".join([head, *_extras(s, rng, who, pace=False)])


def _plan_clock(s: WindowSummary, rng: random.Random) -> str:
    who = rng.choice(_WHO)
    head = _sentence(f"starting at {s.clock} on {s.weekday} and lasting {s.duration_text}, "
                     f"{_movement(s, rng, who)}")
    return " ".join([head, *_extras(s, rng, who, pace=True)])


def _plan_shuffled(s: WindowSummary, rng: random.Random) -> str:
    who = rng.choice(_WHO)
    rest = _extras(s, rng, who, pace=True)
    lead = _sentence(f"{_when(s, rng)}, {_movement(s, rng, who)}")
    rng.shuffle(rest)
    return " ".join([lead, *rest])


_PLANS = (_plan_narrative, _plan_duration, _plan_pace, _plan_clock, _plan_shuffled)


def _short_natural(s: WindowSummary, rng: random.Random) -> list[str]:
    route = s.route_nouns
    when = _TOD_ADVERB.get(s.tod, f"in the {s.tod}")
    if not route:
        where = "somewhere in the home"
    elif len(route) == 1:
        where = f"in {route[0]}"
    elif len(set(route)) < len(route):
        where = f"between {join_words(list(dict.fromkeys(route)))}"
    else:
        where = f"from {route[0]} to {route[-1]}"
    options = [
        f"{s.duration_text} of {_pace(s, rng)} activity {where}",
        f"{rng.choice(('movement', 'activity'))} {where} {when}",
        f"{rng.choice(_WHO)} moving {where} {_DAY_PARTS[s.tod][0].format(d=s.weekday)}",
    ]
    doors = [t for t, c in s.things if t.kind == "door" and c > 0]
    if doors:
        options.append(f"{doors[0].noun} opens {when}")
    return [_sentence(p) for p in rng.sample(options, 2)]


def _natural(s: WindowSummary, rng: random.Random) -> tuple[list[str], list[str]]:
    plans = rng.sample(_PLANS, N_LONG_NATURAL)
    longs = [plan(s, rng) for plan in plans]
    return longs, _short_natural(s, rng)


def caption_windows(windows: WindowSet, home: Home, *, seed: int = 0) -> list[dict[str, list[str]]]:
    """Captions per window (styles in STYLES), from the events only; deterministic per window for a seed."""
    captions = []
    for s in summarise_windows(windows, home):
        rng = random.Random((int(seed) << 64) ^ s.key)
        longs, shorts = _natural(s, rng)
        captions.append({
            "long_natural": longs,
            "long_structured": [_long_structured(s)],
            "short_natural": shorts,
            "short_structured": [_short_structured(s)],
        })
    return captions
