"""Resolve a home layout into what the event engine needs: places, labels, exits, doors, objects, walking graph.

Walks and dwells happen at *waypoints*: every motion sensor with coordinates, every other positioned object
(fridge, toilet flush, bed mat, ...) and, in a room that has nothing else, its door. Motion waypoints fire when
passed; the others are silent places to stand. Objects fire when an activity uses them (vocabulary.USES, by
object kind), doors of private rooms when the resident goes in or out.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from heapq import heappop, heappush

from ...errors import UserError
from ..homes import Home, SensorInfo
from .vocabulary import ACTIVITIES, PLACES, USES, Activity, PlaceSpec, Use

EXIT_WORDS = ("entrance", "front", "main", "entry", "outside", "garage", "back")
ANCHOR = "anchor"                 # type of a silent waypoint that is no sensor (never in a log)
_NOT_WAYPOINTS = ("motion", "temperature", "light", "battery")   # motion is added separately, the rest never
_USED_KINDS = frozenset(kind for uses in USES.values() for use in uses for kind in use.kinds)


@dataclass(frozen=True)
class Place:
    """An activity's place resolved in one layout."""

    room: str
    spots: tuple[str, ...]        # motion sensors at the spot (fire most)
    area: tuple[str, ...]         # the room's other motion sensors
    things: tuple[str, ...]       # door / item / appliance sensors of the room touched at random while there
    node: str                     # waypoint where walks start and end


@dataclass(frozen=True)
class Layout:
    """Everything the simulator needs from a home, resolved once."""

    home: Home
    places: dict[str, Place]
    labels: dict[str, str | None]          # activity key -> the home's L1 label (None: unannotated)
    exits: tuple[str, ...]                 # entrance doors
    motion: tuple[str, ...]                # all motion sensors with coordinates
    neighbours: dict[str, tuple[tuple[str, float], ...]]   # walking graph over the waypoints
    temperatures: tuple[str, ...]
    found: frozenset[str] = frozenset()    # place keys found in the layout (the others are their fallbacks)
    uses: dict[str, tuple[tuple[Use, tuple[str, ...]], ...]] = field(default_factory=dict)   # activity -> objects
    doors: dict[str, tuple[str, ...]] = field(default_factory=dict)   # private room -> its door sensors


def resolve_layout(home: Home, kinds: dict[str, str] | None = None,
                   anchors: dict[str, SensorInfo] | None = None, bedroom: str | None = None) -> Layout:
    """Resolve places, labels, exits, objects and the walking graph; a layout lacking essentials is a UserError.

    `kinds` (sensor -> taxonomy object kind) says which objects activities use; missing sensors fall back to
    the layout's own `kind` once the layout format carries one (before that: no object is used on purpose).
    `anchors` are silent places a layout's sensors do not show (an unwatched sofa, a room without sensors),
    so that what happens there happens in the right room; they never appear in the log. `bedroom` names the
    room this resident sleeps in (a second resident's own bedroom; default: the one the bed is found in)."""
    if not home.has_layout:
        raise UserError("the simulator needs a home layout (rooms and sensor positions); pass --home NAME or a "
                        "layout JSON file")
    if anchors:
        home = replace(home, sensors={**home.sensors, **{n: replace(a, type=ANCHOR) for n, a in anchors.items()}})
    sensors = home.sensors
    kinds = {n: (kinds or {}).get(n) or getattr(s, "kind", "unknown") for n, s in sensors.items()}
    motion = tuple(sorted(n for n, s in sensors.items() if s.type == "motion" and not math.isnan(s.x)))
    waypoints = _waypoints(home, motion)
    if len(waypoints) < 2:
        raise UserError(f"home {home.name!r} cannot be simulated: it needs at least 2 sensors with coordinates "
                        f"(motion sensors or objects), found {len(waypoints)}")
    doors = _private_doors(home)
    claimed = {n for n, k in kinds.items() if k in _USED_KINDS and sensors[n].type != "motion"}
    skip = claimed | {n for names in doors.values() for n in names}
    places: dict[str, Place] = {}
    for key, spec in PLACES.items():
        place = _find_place(home, spec, waypoints, skip)
        if bedroom is not None and key in ("bed", "bedroom"):
            place = _place_in(home, bedroom, spec, waypoints, skip) or place
        if place is None and spec.required:
            raise UserError(f"home {home.name!r} cannot be simulated: no sensor for the {key} (needs a sensor "
                            f"whose detail has one of {list(spec.details)} or whose room contains one of "
                            f"{list(spec.rooms)})")
        if place is not None:
            places[key] = place
    found = frozenset(places)
    for key, spec in PLACES.items():
        places.setdefault(key, places[spec.fallback])
    exits = tuple(n for n, s in sorted(sensors.items())
                  if s.type == "door" and "door" in _tokens(s.detail)
                  and _tokens(s.detail) & {"entrance", "front", "main", "entry"})
    entrance = _find_place(home, PlaceSpec((), ("entrance", "entry", "outside", "front", "door")), waypoints, skip)
    if entrance is None and exits:
        node = _nearest(home, exits[0], waypoints)
        entrance = Place(sensors[node].room, (node,) if node in motion else (), (), (), node)
    if entrance is None:
        raise UserError(f"home {home.name!r} cannot be simulated: no entrance (needs a door sensor whose detail "
                        "says front/main/entrance/entry door, or a sensor in a room named entrance)")
    places["entrance"] = entrance
    labels = {key: _label_for(home, act) for key, act in ACTIVITIES.items()}
    temps = tuple(sorted(n for n, s in sensors.items() if s.type == "temperature"))
    uses = {key: _objects_used(home, kinds, places[ACTIVITIES[key].place].room, USES[key]) for key in USES}
    return Layout(home, places, labels, exits, motion, _walking_graph(home, waypoints), temps, found,
                  {k: v for k, v in uses.items() if v}, doors)


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def _is_door(home: Home, name: str) -> bool:
    s = home.sensors[name]
    return s.type == "door" and "door" in _tokens(s.detail)


def _waypoints(home: Home, motion: tuple[str, ...]) -> tuple[str, ...]:
    """Motion sensors, positioned objects, and the inner door of a room that has no other waypoint; anchors last."""
    sensors = home.sensors
    placed = {n for n, s in sensors.items() if not math.isnan(s.x) and s.type not in _NOT_WAYPOINTS}
    objects = {n for n in placed if not _is_door(home, n)}
    rooms = {sensors[n].room for n in (*motion, *objects)}
    lone_doors = {n for n in placed - objects
                  if sensors[n].room not in rooms and not _tokens(sensors[n].detail) & set(EXIT_WORDS)}
    real = sorted(n for n in (*motion, *objects, *lone_doors) if sensors[n].type != ANCHOR)
    return (*real, *sorted(n for n in objects if sensors[n].type == ANCHOR))   # a real sensor wins a tie


def _private_doors(home: Home) -> dict[str, tuple[str, ...]]:
    """Door sensors of rooms people shut (bathrooms, bedrooms, ...): they fire on the way in and out."""
    doors: dict[str, list[str]] = {}
    for n, s in sorted(home.sensors.items()):
        if (_is_door(home, n) and not _tokens(s.detail) & set(EXIT_WORDS) and _transit_cost(s.room) > 1.0):
            doors.setdefault(s.room, []).append(n)
    return {room: tuple(names) for room, names in doors.items()}


def _find_place(home: Home, spec: PlaceSpec, waypoints: tuple[str, ...], skip: set[str]) -> Place | None:
    sensors = home.sensors
    in_rooms = [n for n in waypoints if any(f in sensors[n].room.lower() for f in spec.rooms)]
    spots: list[str] = []
    for word in spec.details:     # a spot is never a door: "toilet door" is not the toilet
        hits = [n for n in waypoints if word in _tokens(sensors[n].detail) and not _is_door(home, n)]
        if hits:
            spots = [n for n in hits if n in in_rooms] or hits
            break
    if spots:
        room = sensors[spots[0]].room
        spots = [n for n in spots if sensors[n].room == room]
    else:
        for fragment in spec.rooms:   # the room named exactly so, else the shortest name containing it
            rooms = sorted({sensors[n].room for n in waypoints if fragment in sensors[n].room.lower()},
                           key=lambda r: (r.lower() != fragment, len(r), r))
            if rooms:
                room = rooms[0]
                spots = [n for n in waypoints if sensors[n].room == room]
                break
        else:
            return None
    motion_spots = tuple(n for n in spots if sensors[n].type == "motion")
    node = (motion_spots or spots)[0]
    area = tuple(n for n in waypoints if sensors[n].room == room and sensors[n].type == "motion"
                 and n not in motion_spots)
    things = tuple(n for n, s in sorted(sensors.items())
                   if s.room == room and s.type not in ("motion", "temperature", ANCHOR) and n not in skip
                   and not _tokens(s.detail) & set(EXIT_WORDS))
    return Place(room, motion_spots, area, things, node)


def _place_in(home: Home, room: str, spec: PlaceSpec, waypoints: tuple[str, ...], skip: set[str]) -> Place | None:
    """The place of `spec` inside one given room: its spot by detail words there, else the whole room."""
    for details in (spec.details, ()):
        place = _find_place(home, PlaceSpec(details, (room.lower(),)), waypoints, skip)
        if place is not None and place.room == room:
            return place
    return None


def spare_bedrooms(layout: Layout) -> list[str]:
    """Bedrooms other than the one the resident sleeps in that have a place to stand (for more residents)."""
    sensors = layout.home.sensors
    rooms = {sensors[n].room for n in _waypoints(layout.home, layout.motion)}
    return sorted(r for r in rooms if "bedroom" in r.lower() and r != layout.places["bed"].room)


def _objects_used(home: Home, kinds: dict[str, str], room: str,
                  uses: tuple[Use, ...]) -> tuple[tuple[Use, tuple[str, ...]], ...]:
    """For each use of an activity, the non-motion sensors of its room that it operates."""
    out = []
    for use in uses:
        names = tuple(n for n, s in sorted(home.sensors.items())
                      if s.room == room and s.type not in ("motion", ANCHOR) and kinds[n] in use.kinds
                      and (not use.words or _tokens(s.detail) & set(use.words)))
        if names:
            out.append((use, names))
    return tuple(out)


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


def _walking_graph(home: Home, nodes: tuple[str, ...], k: int = 4) -> dict[str, tuple[tuple[str, float], ...]]:
    """Each waypoint linked to its k nearest; components joined by their closest pair."""
    pos = {n: (home.sensors[n].x, home.sensors[n].y) for n in nodes}

    def dist(a: str, b: str) -> float:
        return math.hypot(pos[a][0] - pos[b][0], pos[a][1] - pos[b][1])

    edges: dict[str, dict[str, float]] = {n: {} for n in nodes}
    for a in nodes:
        for b in sorted((b for b in nodes if b != a), key=lambda b: (dist(a, b), b))[:k]:
            edges[a][b] = edges[b][a] = dist(a, b)
    while True:
        seen, stack = {nodes[0]}, [nodes[0]]
        while stack:
            for b in edges[stack.pop()]:
                if b not in seen:
                    seen.add(b)
                    stack.append(b)
        if len(seen) == len(nodes):
            break
        a, b = min(((a, b) for a in sorted(seen) for b in nodes if b not in seen), key=lambda p: (dist(*p), p))
        edges[a][b] = edges[b][a] = dist(a, b)
    return {n: tuple(sorted(edges[n].items())) for n in nodes}


def _transit_cost(room: str) -> float:
    """How much walking through a room one is not going to costs: halls are cheap, private rooms dear."""
    room = room.lower()
    if any(w in room for w in ("hall", "aisle", "corridor", "entr", "stair")):
        return 0.7
    if any(w in room for w in ("bath", "bed", "toilet", "closet", "office", "work", "laundry", "garage", "pantry")):
        return 4.0
    return 1.0


def shortest_path(layout: Layout, a: str, b: str) -> list[str]:
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
