"""The home simulator: one resident living in a home layout, written as an annotated CASAS log.

The embedded default of the main job and the fast fixture of the tests. Deterministic for a seed.

How it works:
- Routine activities (sleep, bed-to-toilet, meds, cooking, eating, TV, reading, desk work, bathroom, going
  out, chores, ...) are defined by where they happen: room-name fragments and sensor-detail words
  ("bed", "stove", "tv"). Each is resolved once against the layout to a `Place` (spot sensors, the rest of
  the room, doors/items touched). Bedroom, bathroom, kitchen and entrance are required; other places fall
  back to the bedroom.
- The label written for an activity is the home's own L1 label of the right coarse class (Milan:
  Watch_TV for TV, Read for reading); activities the home has no label for run unannotated, and a few
  optional ones (dish washing, meditating, bedroom time) run only where the home labels them.
- A day: wake, bathroom, morning meds, breakfast, free blocks filled with desk work / reading / TV /
  chores / outings / toilet visits, lunch, dinner, evening meds, bed before midnight; night sleep spans
  midnight and is interrupted by bed-to-toilet trips after 01:00.
- Motion sensors fire ON/OFF pairs at the place while active and along the shortest path between places on
  a nearest-neighbour graph of motion sensors; door and item sensors open/close; temperature sensors report
  a value every 15-45 minutes. Noise: missed motion triggers and spurious ones.
"""
from __future__ import annotations

import logging
import math
import random
import re
import time
from dataclasses import dataclass
from datetime import date, timedelta
from heapq import heappop, heappush
from pathlib import Path

from ..errors import UserError
from ..io import atomic_write_text
from .homes import Home

log = logging.getLogger(__name__)

DEFAULT_START = "2009-10-16"      # Milan's first day
DAY = 86_400.0
HOUR = 3_600.0
MISS_PROB = 0.02                  # a motion trigger that the sensor misses
SPURIOUS_PER_DAY = 20             # motion triggers with nobody there (pets, sunlight)
EXIT_WORDS = ("entrance", "front", "main", "entry", "outside", "garage", "back")


@dataclass(frozen=True)
class Activity:
    """A routine step, defined independently of any home."""

    key: str
    coarse: tuple[str, ...]       # L2 classes in which to look for the home's L1 label
    keywords: tuple[str, ...]     # words preferred in that label's name, in priority order
    fallback: bool                # no keyword match: take the first label of the class anyway
    place: str                    # key of the place it happens at (PLACES)
    gap: float                    # mean seconds between motion triggers while doing it
    optional: bool = False        # done only where the home has a label for it


@dataclass(frozen=True)
class PlaceSpec:
    """Where something happens: sensor-detail words (the spot) first, then room-name fragments."""

    details: tuple[str, ...]
    rooms: tuple[str, ...]
    required: bool = False


PLACES = {
    "bed": PlaceSpec(("bed",), ("master_bedroom", "bedroom"), required=True),
    "bedroom": PlaceSpec((), ("master_bedroom", "bedroom"), required=True),
    "bathroom": PlaceSpec(("toilet", "shower", "bath", "basin", "tub"),
                          ("master_bath", "bathroom", "bath", "toilet", "hall"), required=True),
    "toilet": PlaceSpec(("toilet",), ("guest_bath", "bathroom", "bath", "toilet", "hall")),
    "kitchen": PlaceSpec(("stove", "burner", "cooktop", "oven", "fridge", "refrigerator", "microwave"),
                         ("kitchen",), required=True),
    "sink": PlaceSpec(("sink",), ("kitchen",)),
    "meds": PlaceSpec(("medicine", "pill", "meds", "medication"), ("kitchen",)),
    "dining": PlaceSpec(("dining",), ("dining", "kitchen")),
    "tv": PlaceSpec(("tv", "television"), ("living", "lounge", "family")),
    "seat": PlaceSpec(("armchair", "couch", "sofa", "chair", "lounge"), ("living", "lounge", "family")),
    "desk": PlaceSpec(("desk",), ("office", "work", "study")),
    "quiet": PlaceSpec((), ("guest_bedroom", "living")),
}

ACTIVITIES = {a.key: a for a in (
    Activity("sleep", ("Sleep",), ("sleep", "sleeping"), True, "bed", 900.0),
    Activity("bed_to_toilet", ("Bed_to_toilet",), ("bed_to_toilet", "bed_toilet"), True, "bathroom", 15.0),
    Activity("wake", ("Other",), ("bedroom", "wake", "dress"), False, "bedroom", 12.0, optional=True),
    Activity("hygiene", ("Bathing", "Personal_hygiene"), ("master_bath", "hygiene", "groom"), True, "bathroom", 9.0),
    Activity("bathe", ("Bathing",), ("master_bath", "bath", "shower"), True, "bathroom", 9.0),
    Activity("toilet", ("Bathing", "Personal_hygiene"), ("guest", "toilet"), False, "toilet", 12.0),
    Activity("morning_meds", ("Take_medicine",), ("morning",), True, "meds", 5.0),
    Activity("evening_meds", ("Take_medicine",), ("eve",), True, "meds", 5.0),
    Activity("cook_breakfast", ("Cook",), ("breakfast",), True, "kitchen", 6.0),
    Activity("cook_lunch", ("Cook",), ("lunch",), True, "kitchen", 6.0),
    Activity("cook_dinner", ("Cook",), ("dinner",), True, "kitchen", 6.0),
    Activity("eat_breakfast", ("Eat",), ("breakfast",), True, "dining", 20.0),
    Activity("eat_lunch", ("Eat",), ("lunch",), True, "dining", 20.0),
    Activity("eat_dinner", ("Eat",), ("dinner",), True, "dining", 20.0),
    Activity("dishes_breakfast", ("Work",), ("breakfast_dish", "dish"), False, "sink", 8.0, optional=True),
    Activity("dishes_lunch", ("Work",), ("lunch_dish", "dish"), False, "sink", 8.0, optional=True),
    Activity("dishes_dinner", ("Work",), ("dinner_dish", "dish"), False, "sink", 8.0, optional=True),
    Activity("watch_tv", ("Relax",), ("tv",), True, "tv", 25.0),
    Activity("read", ("Relax",), ("read",), True, "seat", 27.0),
    Activity("desk", ("Work",), ("desk", "work", "office", "study"), True, "desk", 20.0),
    Activity("chores", ("Work",), ("chore", "housekeep", "clean", "laundry"), False, "bedroom", 7.0),  # + other rooms
    Activity("meditate", ("Other",), ("meditat",), False, "quiet", 120.0, optional=True),
    Activity("leave_home", ("Leave_Home",), ("leave", "leaving"), True, "entrance", 5.0),
    Activity("enter_home", ("Enter_Home",), ("enter",), True, "entrance", 5.0),
)}


@dataclass(frozen=True)
class Place:
    """An activity's place resolved in one layout."""

    room: str
    spots: tuple[str, ...]        # motion sensors at the spot (fire most)
    area: tuple[str, ...]         # the room's other motion sensors
    things: tuple[str, ...]       # door / item / appliance sensors of the room touched while there
    node: str                     # motion sensor where walks start and end


@dataclass(frozen=True)
class Layout:
    """Everything the simulator needs from a home, resolved once."""

    home: Home
    places: dict[str, Place]
    labels: dict[str, str | None]          # activity key -> the home's L1 label (None: unannotated)
    exits: tuple[str, ...]                 # entrance doors
    motion: tuple[str, ...]                # all motion sensors with coordinates
    neighbours: dict[str, tuple[tuple[str, float], ...]]   # walking graph
    temperatures: tuple[str, ...]


def simulate_log(home: Home, days: int, seed: int = 0, start: str = DEFAULT_START) -> list[str]:
    """CASAS lines `date time sensor state [label begin|end]` of `days` simulated days from `start`."""
    if not isinstance(days, int) or days < 1:
        raise UserError(f"--days: expected a whole number of days >= 1, found {days!r}")
    try:
        day0 = date.fromisoformat(start)
    except ValueError:
        raise UserError(f"--start: expected a date YYYY-MM-DD, found {start!r}") from None
    layout = resolve_layout(home)
    rng = random.Random(f"homeclip-simulate:{seed}")
    sim = _Simulation(layout, rng, end=days * DAY)
    for d in range(days):
        sim.run_day(d, (day0 + timedelta(days=d)).weekday() >= 5)
    sim.add_background(days)
    return _format(sim.events, day0, days)


def write_simulated_log(path: str | Path, home: Home, days: int, seed: int = 0,
                        start: str = DEFAULT_START) -> Path:
    """Simulate and write the log atomically; returns the path."""
    started = time.perf_counter()
    lines = simulate_log(home, days, seed=seed, start=start)
    path = atomic_write_text(path, "\n".join(lines) + "\n")
    log.info("simulated %d days in home %r (seed %d): %d events, %d annotated activities, %.1f s", days, home.name,
             seed, len(lines), sum(line.endswith(" begin") for line in lines), time.perf_counter() - started)
    return path


# ---------------------------------------------------------------- layout resolution

def resolve_layout(home: Home) -> Layout:
    """Resolve places, labels, exits and the walking graph; a layout lacking essentials is a UserError."""
    if not home.has_layout:
        raise UserError("the simulator needs a home layout (rooms and sensor positions); pass --home NAME or a "
                        "layout JSON file")
    motion = tuple(sorted(n for n, s in home.sensors.items()
                          if s.type == "motion" and not math.isnan(s.x)))
    if len(motion) < 2:
        raise UserError(f"home {home.name!r} cannot be simulated: it needs at least 2 motion sensors with "
                        f"coordinates, found {len(motion)}")
    places: dict[str, Place] = {}
    for key, spec in PLACES.items():
        place = _find_place(home, spec, motion)
        if place is None and spec.required:
            raise UserError(f"home {home.name!r} cannot be simulated: no motion sensor for the {key} (needs a "
                            f"sensor whose detail has one of {list(spec.details)} or whose room contains one of "
                            f"{list(spec.rooms)})")
        if place is not None:
            places[key] = place
    for key in PLACES:
        places.setdefault(key, places["bedroom"])
    exits = tuple(n for n, s in sorted(home.sensors.items())
                  if s.type == "door" and "door" in _tokens(s.detail)
                  and _tokens(s.detail) & {"entrance", "front", "main", "entry"})
    entrance = _find_place(home, PlaceSpec((), ("entrance", "entry", "outside", "front", "door")), motion)
    if entrance is None and exits:
        node = _nearest(home, exits[0], motion)
        entrance = Place(home.sensors[node].room, (node,), (), (), node)
    if entrance is None:
        raise UserError(f"home {home.name!r} cannot be simulated: no entrance (needs a door sensor whose detail "
                        "says front/main/entrance/entry door, or a motion sensor in a room named entrance)")
    places["entrance"] = entrance
    labels = {key: _label_for(home, act) for key, act in ACTIVITIES.items()}
    temps = tuple(sorted(n for n, s in home.sensors.items() if s.type == "temperature"))
    return Layout(home, places, labels, exits, motion, _walking_graph(home, motion), temps)


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def _find_place(home: Home, spec: PlaceSpec, motion: tuple[str, ...]) -> Place | None:
    sensors = home.sensors
    in_rooms = [n for n in motion if any(f in sensors[n].room.lower() for f in spec.rooms)]
    spots: list[str] = []
    for word in spec.details:
        hits = [n for n in motion if word in _tokens(sensors[n].detail)]
        if hits:
            spots = [n for n in hits if n in in_rooms] or hits
            break
    if spots:
        room = sensors[spots[0]].room
        spots = [n for n in spots if sensors[n].room == room]
    else:
        for fragment in spec.rooms:   # the room named exactly so, else the shortest name containing it
            rooms = sorted({sensors[n].room for n in motion if fragment in sensors[n].room.lower()},
                           key=lambda r: (r.lower() != fragment, len(r), r))
            if rooms:
                room = rooms[0]
                spots = [n for n in motion if sensors[n].room == room]
                break
        else:
            return None
    area = tuple(n for n in motion if sensors[n].room == room and n not in spots)
    things = tuple(n for n, s in sorted(sensors.items())
                   if s.room == room and s.type not in ("motion", "temperature")
                   and not _tokens(s.detail) & set(EXIT_WORDS))
    return Place(room, tuple(spots), area, things, spots[0])


def _nearest(home: Home, name: str, candidates: tuple[str, ...]) -> str:
    s = home.sensors[name]
    if math.isnan(s.x):
        return candidates[0]
    return min(candidates, key=lambda n: (math.hypot(home.sensors[n].x - s.x, home.sensors[n].y - s.y), n))


def _norm_label(label: str) -> str:
    text = re.sub(r"[\s/\-]+", "_", label.lower())
    return re.sub(r"^r\d_", "", text)


def _label_for(home: Home, act: Activity) -> str | None:
    """The home's L1 label for an activity: exact keyword, then keyword inside the name, then fallback."""
    candidates = [lab for lab in home.l1_labels if home.l2(lab) in act.coarse and lab != home.default_label]
    for word in act.keywords:
        for lab in candidates:
            if _norm_label(lab) == word:
                return lab
    for word in act.keywords:
        for lab in candidates:
            if word in _norm_label(lab):
                return lab
    if act.fallback and candidates:
        return candidates[0]
    return None


def _walking_graph(home: Home, motion: tuple[str, ...], k: int = 4) -> dict[str, tuple[tuple[str, float], ...]]:
    """Each motion sensor linked to its k nearest; components joined by their closest pair."""
    pos = {n: (home.sensors[n].x, home.sensors[n].y) for n in motion}

    def dist(a: str, b: str) -> float:
        return math.hypot(pos[a][0] - pos[b][0], pos[a][1] - pos[b][1])

    edges: dict[str, dict[str, float]] = {n: {} for n in motion}
    for a in motion:
        for b in sorted((b for b in motion if b != a), key=lambda b: (dist(a, b), b))[:k]:
            edges[a][b] = edges[b][a] = dist(a, b)
    while True:
        seen, stack = {motion[0]}, [motion[0]]
        while stack:
            for b in edges[stack.pop()]:
                if b not in seen:
                    seen.add(b)
                    stack.append(b)
        if len(seen) == len(motion):
            break
        a, b = min(((a, b) for a in sorted(seen) for b in motion if b not in seen), key=lambda p: (dist(*p), p))
        edges[a][b] = edges[b][a] = dist(a, b)
    return {n: tuple(sorted(edges[n].items())) for n in motion}


def _transit_cost(room: str) -> float:
    """How much walking through a room one is not going to costs: halls are cheap, private rooms dear."""
    room = room.lower()
    if any(w in room for w in ("hall", "aisle", "corridor", "entr", "stair")):
        return 0.7
    if any(w in room for w in ("bath", "bed", "toilet", "closet", "office", "work", "laundry", "garage", "pantry")):
        return 4.0
    return 1.0


def _shortest_path(layout: Layout, a: str, b: str) -> list[str]:
    """Dijkstra on the walking graph, avoiding rooms other than the two ends; the path includes both ends."""
    sensors = layout.home.sensors
    ends = {sensors[a].room, sensors[b].room}
    best, prev, heap = {a: 0.0}, {}, [(0.0, a)]
    while heap:
        d, n = heappop(heap)
        if n == b:
            break
        if d > best[n]:
            continue
        for m, w in layout.neighbours[n]:
            room = sensors[m].room
            cost = d + w * (1.0 if room in ends else _transit_cost(room))
            if cost < best.get(m, math.inf):
                best[m], prev[m] = cost, n
                heappush(heap, (cost, m))
    path = [b]
    while path[-1] != a:
        path.append(prev[path[-1]])
    return path[::-1]


# ---------------------------------------------------------------- the resident

class _Simulation:
    """The resident's clock, position and the events emitted so far (one run, never shared)."""

    def __init__(self, layout: Layout, rng: random.Random, end: float):
        self.layout = layout
        self.rng = rng
        self.end = end - 600.0                      # walks and OFFs that overrun still land before the last midnight
        self.t = 0.0                                # resident's clock, seconds since the first midnight
        self.at = layout.places["bed"].node
        self.events: list[tuple[int, str, str, str]] = []      # (microseconds, sensor, state, annotation)
        self.busy: dict[str, float] = {}            # motion sensor -> time its OFF fires
        self.paths: dict[tuple[str, str], list[str]] = {}

    # --- one day -------------------------------------------------------------
    def run_day(self, d: int, weekend: bool) -> None:
        """Night sleep from the previous bedtime (or midnight on day 0), then the waking day, then bedtime."""
        rng, base = self.rng, d * DAY
        wake = base + _clip(rng.gauss(6.8 + 0.6 * weekend, 0.45), 5.5, 9.0) * HOUR
        if d == 0:
            self.sleep_until(wake)
        meals = {"lunch": base + _clip(rng.gauss(12.3, 0.4), 11.3, 13.5) * HOUR,
                 "dinner": base + _clip(rng.gauss(18.0, 0.5), 16.8, 19.5) * HOUR}
        bedtime = base + _clip(rng.gauss(22.6, 0.5), 21.3, 23.85) * HOUR
        self.do("wake", rng.uniform(3, 10) * 60)
        self.do("bathe" if rng.random() < 0.3 else "hygiene", rng.uniform(8, 25) * 60)
        self.do("morning_meds", rng.uniform(1, 3) * 60)
        self.meal("breakfast", rng.uniform(8, 20) * 60, rng.uniform(8, 20) * 60)
        outings = [0]
        self.free_block(meals["lunch"], "morning", outings)
        self.meal("lunch", rng.uniform(10, 25) * 60, rng.uniform(10, 20) * 60)
        self.free_block(meals["dinner"] - 30 * 60, "afternoon", outings)
        self.meal("dinner", rng.uniform(20, 45) * 60, rng.uniform(15, 30) * 60)
        self.free_block(bedtime - 75 * 60, "evening", outings)
        self.do("evening_meds", rng.uniform(1, 3) * 60)
        self.free_block(bedtime - 15 * 60, "late", outings)
        self.do("toilet", rng.uniform(3, 8) * 60)
        self.wait_until(bedtime)
        next_wake = base + DAY + _clip(rng.gauss(6.8, 0.45), 5.5, 9.0) * HOUR
        self.sleep_until(next_wake)

    def sleep_until(self, wake: float) -> None:
        """Sleep (interrupted by bed-to-toilet trips only after 01:00, so the first stretch spans midnight)."""
        rng = self.rng
        night_start = math.floor(wake / DAY) * DAY + HOUR
        n_trips = rng.choices((0, 1, 2), weights=(0.35, 0.45, 0.2))[0]
        trips = sorted(rng.uniform(night_start, max(night_start, wake - 45 * 60)) for _ in range(n_trips))
        for trip in trips:
            self.do("sleep", trip - self.t)
            self.do("bed_to_toilet", rng.uniform(1, 4) * 60)
        self.do("sleep", wake - self.t)

    def meal(self, meal: str, cook_s: float, eat_s: float) -> None:
        """Cook, eat and maybe wash up."""
        self.do(f"cook_{meal}", cook_s)
        if meal == "dinner" or self.rng.random() < 0.75:
            self.do(f"eat_{meal}", eat_s)
        if self.rng.random() < 0.6:
            self.do(f"dishes_{meal}", self.rng.uniform(4, 12) * 60)

    def free_block(self, until: float, part: str, outings: list[int]) -> None:
        """Fill free time with desk work, reading, TV, chores, outings, toilet visits and idle pauses."""
        rng = self.rng
        weights = {"morning": (3.0, 1.5, 0.5, 0.8, 1.5, 0.3), "afternoon": (2.0, 1.5, 1.5, 0.6, 1.5, 0.3),
                   "evening": (0.5, 2.0, 3.0, 0.1, 0.2, 0.3), "late": (0.0, 1.0, 2.0, 0.0, 0.0, 0.0)}[part]
        choices = ("desk", "read", "watch_tv", "chores", "outing", "meditate")
        spans = {"desk": (30, 100), "read": (20, 70), "watch_tv": (30, 120), "chores": (15, 50),
                 "outing": (45, 200), "meditate": (15, 30)}
        last_toilet = self.t
        while self.t < until - 10 * 60:
            self.idle(rng.uniform(2, 12) * 60)
            if self.t - last_toilet > rng.uniform(1.5, 3) * HOUR:
                self.do("toilet", rng.uniform(2, 6) * 60)
                last_toilet = self.t
                continue
            key = rng.choices(choices, weights=weights)[0]
            if key == "outing" and outings[0] >= 2:
                key = "read"
            if key == "meditate" and self.layout.labels["meditate"] is None:
                key = "watch_tv"
            length = min(rng.uniform(*spans[key]) * 60, until - self.t)
            if length < 5 * 60:
                break
            if key == "outing":
                outings[0] += 1
                self.outing(length)
            elif key == "chores":
                self.chores(length)
            else:
                self.do(key, length)
        self.wait_until(until)

    # --- building blocks -------------------------------------------------------
    def do(self, key: str, seconds: float) -> None:
        """Walk to the activity's place and do it for `seconds`, annotated with the home's label."""
        act, label = ACTIVITIES[key], self.layout.labels[key]
        if act.optional and label is None:
            return
        place = self.layout.places[act.place]
        if self.t >= self.end:
            return
        self.walk_to(place.node)
        first = len(self.events)
        if key == "bed_to_toilet":                  # the trip itself is the activity: bed -> bathroom -> bed
            self.dwell(place, self.t + seconds, act.gap)
            self.walk_to(self.layout.places["bed"].node)
            self.trigger(self.at)
        else:
            self.arrive(place.spots[0])
            self.dwell(place, self.t + max(seconds, 20.0), act.gap)
        self.annotate(first, label)

    def outing(self, seconds: float) -> None:
        """Leave through the entrance, stay away, come back."""
        entrance = self.layout.places["entrance"]
        if self.t + seconds + 600 >= self.end:
            return
        self.walk_to(entrance.node)
        first = len(self.events)
        self.arrive(entrance.node)
        self.doors()
        self.annotate(first, self.layout.labels["leave_home"])
        self.t += seconds
        first = len(self.events)
        self.doors()
        self.arrive(entrance.node)
        self.dwell(entrance, self.t + self.rng.uniform(20, 90), 6.0)
        self.annotate(first, self.layout.labels["enter_home"])

    def chores(self, seconds: float) -> None:
        """Housework: several rooms in turn, one annotated activity."""
        rng, label, first = self.rng, self.layout.labels["chores"], None
        stop = self.t + seconds
        rooms = sorted({p.room: p for p in self.layout.places.values() if p.room != "entrance"}.items())
        while self.t < min(stop, self.end):
            place = rng.choice(rooms)[1]
            self.walk_to(place.node)
            if first is None:
                first = len(self.events)
            self.arrive(place.node)
            self.dwell(place, min(stop, self.t + rng.uniform(3, 8) * 60), ACTIVITIES["chores"].gap)
        if first is not None:
            self.annotate(first, label)

    def idle(self, seconds: float) -> None:
        """An unannotated pause: pottering about where the resident is, sometimes in another room."""
        if self.rng.random() < 0.3:
            self.walk_to(self.rng.choice(sorted({p.node for p in self.layout.places.values()})))
        place = next((p for p in self.layout.places.values() if p.node == self.at), None)
        if place is not None:
            self.dwell(place, self.t + seconds, 30.0)
        else:
            self.t += seconds

    def wait_until(self, t: float) -> None:
        if t > self.t + 60:
            self.idle(t - self.t)

    def walk_to(self, node: str) -> None:
        """Motion sensors fire along the shortest path from the current sensor to `node`."""
        if node == self.at:
            return
        key = (self.at, node)
        if key not in self.paths:
            self.paths[key] = _shortest_path(self.layout, self.at, node)
        for step in self.paths[key][1:]:
            self.t += self.rng.uniform(1.2, 3.5)
            self.trigger(step, missable=True)
        self.at = node

    def dwell(self, place: Place, until: float, gap: float) -> None:
        """Repeated ON/OFF pairs at the place (mostly the spot) and its doors/items until `until`."""
        rng, sensors = self.rng, place.spots + place.area
        until = min(until, self.end)
        next_thing = self.t + rng.expovariate(1 / 90) if place.things else math.inf
        while True:
            self.t += 1.0 + rng.expovariate(1 / gap)
            if self.t >= until:
                self.t = until
                break
            if self.t >= next_thing:
                self.touch(rng.choice(place.things))
                next_thing = self.t + rng.expovariate(1 / 90)
                continue
            name = rng.choice(place.spots) if rng.random() < 0.75 or not place.area else rng.choice(sensors)
            self.trigger(name, missable=True)

    def trigger(self, name: str, missable: bool = False) -> None:
        """One motion trigger: ON now, OFF a moment later (nothing while the sensor is still ON)."""
        if self.busy.get(name, -1.0) > self.t or (missable and self.rng.random() < MISS_PROB):
            return
        off = self.t + min(20.0, 1.0 + self.rng.expovariate(1 / 2.0))
        self.busy[name] = off
        self.events.append((_us(self.t), name, "ON", ""))
        self.events.append((_us(off), name, "OFF", ""))

    def arrive(self, name: str) -> None:
        """A trigger that is never missed: wait for the sensor to be free (it just saw the walk) if needed."""
        self.t = max(self.t, self.busy.get(name, -1.0) + self.rng.uniform(0.3, 1.5))
        self.trigger(name)

    def touch(self, name: str) -> None:
        """Open/close a door, take/return an item, switch an appliance on/off."""
        kind = self.layout.home.sensors[name].type
        first, second = {"door": ("OPEN", "CLOSE"), "item": ("ABSENT", "PRESENT")}.get(kind, ("ON", "OFF"))
        back = self.t + self.rng.uniform(2, 40)
        self.events.append((_us(self.t), name, first, ""))
        self.events.append((_us(back), name, second, ""))

    def doors(self) -> None:
        """Open and close the entrance door(s)."""
        for i, door in enumerate(self.layout.exits):
            if i == 0 or self.rng.random() < 0.5:
                self.t += self.rng.uniform(1, 4)
                opened = self.t
                self.t += self.rng.uniform(3, 10)
                self.events.append((_us(opened), door, "OPEN", ""))
                self.events.append((_us(self.t), door, "CLOSE", ""))

    def annotate(self, first: int, label: str | None) -> None:
        """Mark the earliest and latest event emitted since `first` with `label begin` / `label end`."""
        if label is None or len(self.events) - first < 2:
            self.t = max(self.t, max((e[0] for e in self.events[first:]), default=0) / 1e6)
            return
        block = range(first, len(self.events))
        lo = min(block, key=lambda i: self.events[i][0])
        hi = max(block, key=lambda i: self.events[i][0])
        t, s, st, _ = self.events[lo]
        self.events[lo] = (t, s, st, f"{label} begin")
        t, s, st, _ = self.events[hi]
        self.events[hi] = (t, s, st, f"{label} end")
        self.t = max(self.t, t / 1e6 + self.rng.uniform(0.5, 2.0))   # the next activity starts after its last event

    def add_background(self, days: int) -> None:
        """Spurious motion triggers and temperature readings over the whole span."""
        rng, layout = self.rng, self.layout
        for _ in range(SPURIOUS_PER_DAY * days):
            t = rng.uniform(0, self.end - 30)
            off = t + rng.uniform(1, 4)
            name = rng.choice(layout.motion)
            self.events.append((_us(t), name, "ON", ""))
            self.events.append((_us(off), name, "OFF", ""))
        for i, name in enumerate(layout.temperatures):
            t, level = rng.uniform(0, 900), 20.5 + 0.4 * i
            while t < self.end:
                hour = (t % DAY) / HOUR
                value = level + 1.5 * math.sin((hour - 9) / 24 * 2 * math.pi) + rng.gauss(0, 0.2)
                self.events.append((_us(t), name, f"{value:.1f}", ""))
                t += rng.uniform(15, 45) * 60


def _us(t: float) -> int:
    return int(t * 1_000_000)


def _clip(value: float, lo: float, hi: float) -> float:
    return min(max(value, lo), hi)


def _format(events: list[tuple[int, str, str, str]], day0: date, days: int) -> list[str]:
    """Sort by time (stable) and render CASAS lines."""
    events.sort(key=lambda e: e[0])
    dates = [(day0 + timedelta(days=d)).isoformat() for d in range(days + 1)]
    clock = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
    lines = []
    for t, sensor, state, note in events:
        sec, us = divmod(t, 1_000_000)
        day, sec = divmod(sec, 86_400)
        line = f"{dates[day]} {clock[sec]}.{us:06d} {sensor} {state}"
        lines.append(f"{line} {note}" if note else line)
    return lines
