"""The event engine: one resident's clock and position in a resolved layout, and the sensor events they cause.

Building blocks only (do an activity, go out, chores, idle, walk, dwell); the day plan that strings them
together is in routines.py. Events are (microseconds, sensor, state, annotation) tuples, sorted only when
the log is rendered (logformat.py).

How sensors answer:
- motion: CASAS-style pulses (ON, OFF a few seconds later; nothing while still ON) or, with
  `Reporting.motion_hold`, Ordonez-style holds (ON while motion keeps coming, OFF `hold` seconds after the last);
- objects an activity uses (vocabulary.USES): short uses (contacts open/close, a microwave runs for minutes),
  one use at the end (the toilet flush) or on for the whole activity (bed and seat mats, the TV, the shower);
- doors of private rooms: opened and shut on the way in and out (when the resident shuts doors);
- entrance doors when going out and coming back; temperature every 15-45 minutes;
- noise: missed motion triggers and spurious ones.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass

from .layout import Layout, Place, shortest_path
from .vocabulary import ACTIVITIES, Use

DAY = 86_400.0
HOUR = 3_600.0
MISS_PROB = 0.02                  # a motion trigger that the sensor misses
SPURIOUS_PER_DAY = 20             # motion triggers with nobody there (pets, sunlight)

Event = tuple[int, str, str, str]


@dataclass(frozen=True)
class Reporting:
    """How a home's sensors write their states (the defaults: CASAS Milan)."""

    motion_hold: float = 0.0                          # 0: pulses; > 0: seconds a PIR stays ON after motion
    contact_states: tuple[str, str] = ("OPEN", "CLOSE")   # door and cupboard contacts (ON/OFF in some homes)


class Resident:
    """The resident's clock, position and the events emitted so far (one run, never shared)."""

    def __init__(self, layout: Layout, rng: random.Random, end: float, reporting: Reporting = Reporting(),
                 shuts_doors: float = 0.8):
        self.layout = layout
        self.rng = rng
        self.reporting = reporting
        self.shuts_doors = shuts_doors
        self.end = end - 600.0                      # walks and OFFs that overrun still land before the last midnight
        self.t = 0.0                                # resident's clock, seconds since the first midnight
        self.at = layout.places["bed"].node
        self.events: list[Event] = []
        self.busy: dict[str, float] = {}            # sensor -> time its OFF fires
        self.held: dict[str, int] = {}              # holding motion sensor -> index of its OFF event (extendable)
        self.paths: dict[tuple[str, str], list[str]] = {}
        self.motion = frozenset(layout.motion)      # waypoints that fire when passed (the rest are silent)
        self.entering: str | None = None            # room walked into whose door the next activity opens
        self.left: str | None = None                # room whose door was already passed on the way out

    # --- activities ------------------------------------------------------------
    def do(self, key: str, seconds: float) -> None:
        """Walk to the activity's place and do it for `seconds`, annotated with the home's label."""
        act, label = ACTIVITIES[key], self.layout.labels[key]
        if act.optional and label is None:
            return
        place = self.layout.places[act.place]
        if self.t >= self.end:
            return
        self.walk_to(place.node, enter=False)
        first = self.begin()
        if self.entering is not None:
            self.cross(self.entering)
            self.entering = None
        start, uses = self.t, self.layout.uses.get(key, ())
        if key == "bed_to_toilet":                  # the trip itself is the activity: bed -> bathroom -> bed
            self.dwell(place, self.t + seconds, act.gap)
            self.use_objects(uses, start, self.t)
            self.leave(place.room)
            self.walk_to(self.layout.places["bed"].node)
            self.trigger(self.at)
        else:
            whole = self.switch_on(uses)
            if place.spots:
                self.arrive(place.spots[0])
            self.dwell(place, self.t + max(seconds, 20.0), act.gap)
            self.use_objects(uses, start, self.t)
            self.switch_off(whole)
            self.leave(place.room)
        self.annotate(first, label)

    def outing(self, seconds: float, key: str = "leave_home") -> bool:
        """Leave through the entrance (labelled as `key`), stay away, come back; False if there is no time."""
        entrance = self.layout.places["entrance"]
        if self.t + seconds + 600 >= self.end:
            return False
        self.walk_to(entrance.node)
        first = self.begin()
        self.arrive(entrance.node)
        self.doors()
        self.annotate(first, self.layout.labels[key])
        self.t += seconds
        first = self.begin()
        self.doors()
        self.arrive(entrance.node)
        self.dwell(entrance, self.t + self.rng.uniform(20, 90), 6.0)
        self.annotate(first, self.layout.labels["enter_home"])
        return True

    def chores(self, seconds: float) -> None:
        """Housework: several rooms in turn, one annotated activity."""
        rng, label, first = self.rng, self.layout.labels["chores"], None
        stop = self.t + seconds
        rooms = sorted({p.room: p for p in self.layout.places.values() if p.room != "entrance"}.items())
        while self.t < min(stop, self.end):
            place = rng.choice(rooms)[1]
            self.walk_to(place.node)
            if first is None:
                first = self.begin()
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
        """Idle until `t` (if it is more than a minute away)."""
        if t > self.t + 60:
            self.idle(t - self.t)

    # --- moving --------------------------------------------------------------------
    def walk_to(self, node: str, enter: bool = True) -> None:
        """Motion sensors fire along the shortest path from the current waypoint to `node`; private-room doors
        on the way out and (unless the caller's activity opens it, `enter=False`) on the way in."""
        if node == self.at:
            return
        sensors = self.layout.home.sensors
        here, there = sensors[self.at].room, sensors[node].room
        if here != there and self.left != here:
            self.cross(here)
        self.left = None
        key = (self.at, node)
        if key not in self.paths:
            self.paths[key] = shortest_path(self.layout, self.at, node)
        for step in self.paths[key][1:]:
            self.t += self.rng.uniform(1.2, 3.5)
            self.trigger(step, missable=True)
        self.at = node
        if here != there:
            if enter:
                self.cross(there)
            else:
                self.entering = there

    def cross(self, room: str) -> None:
        """Open and shut the doors of a private room on the way in or out (if the resident shuts doors)."""
        for door in self.layout.doors.get(room, ()):
            if self.rng.random() < self.shuts_doors:
                self.t += self.rng.uniform(0.5, 2.0)
                self.t = self.pulse(door, self.t, self.t + self.rng.uniform(2.0, 6.0)) + 1.0

    def leave(self, room: str) -> None:
        """Pass the room's door on the way out as the activity's last act (a toilet visit ends at its door)."""
        if room in self.layout.doors and self.left != room:
            self.cross(room)
            self.left = room

    def dwell(self, place: Place, until: float, gap: float) -> None:
        """Repeated motion triggers at the place (mostly the spot) and its doors/items until `until`."""
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
            if place.spots and (rng.random() < 0.75 or not place.area):
                self.trigger(rng.choice(place.spots), missable=True)
            elif place.spots:
                self.trigger(rng.choice(sensors), missable=True)
            elif place.area:                        # the spot has no motion sensor: the room's nearest sees most
                self.trigger(self._nearest_area(place) if rng.random() < 0.7 else rng.choice(place.area),
                             missable=True)

    def _nearest_area(self, place: Place) -> str:
        sensors = self.layout.home.sensors
        node = sensors[place.node]
        return min(place.area, key=lambda n: (math.hypot(sensors[n].x - node.x, sensors[n].y - node.y), n))

    # --- sensors -------------------------------------------------------------------
    def trigger(self, name: str, missable: bool = False) -> None:
        """One motion trigger: a pulse (ON now, OFF a moment later) or, holding, ON until `hold` s of stillness;
        nothing while the sensor is still ON. Silent waypoints do nothing."""
        if name not in self.motion:
            return
        hold = self.reporting.motion_hold
        if hold and name in self.held and self.busy[name] > self.t:
            off = self.busy[name] = self.t + hold
            self.events[self.held[name]] = (_us(off), name, "OFF", "")
            return
        if self.busy.get(name, -1.0) > self.t or (missable and self.rng.random() < MISS_PROB):
            return
        off = self.t + (hold or min(20.0, 1.0 + self.rng.expovariate(1 / 2.0)))
        self.busy[name] = off
        self.events.append((_us(self.t), name, "ON", ""))
        self.events.append((_us(off), name, "OFF", ""))
        if hold:
            self.held[name] = len(self.events) - 1

    def arrive(self, name: str) -> None:
        """A trigger that is never missed: wait for the sensor to be free (it just saw the walk) if needed."""
        if name not in self.motion:
            return
        self.t = max(self.t, self.busy.get(name, -1.0) + self.rng.uniform(0.3, 1.5))
        self.trigger(name)

    def states(self, name: str) -> tuple[str, str]:
        """The (on, off) states a sensor writes."""
        kind = self.layout.home.sensors[name].type
        if kind == "door":
            return self.reporting.contact_states
        return ("ABSENT", "PRESENT") if kind == "item" else ("ON", "OFF")

    def pulse(self, name: str, t_on: float, t_off: float) -> float:
        """The sensor on at `t_on` and off at `t_off`; returns `t_off`."""
        on, off = self.states(name)
        self.events.append((_us(t_on), name, on, ""))
        self.events.append((_us(t_off), name, off, ""))
        self.busy[name] = t_off
        return t_off

    def touch(self, name: str) -> None:
        """Open/close a door, take/return an item, switch an appliance on/off."""
        self.pulse(name, self.t, self.t + self.rng.uniform(2, 40))

    def doors(self) -> None:
        """Open and close the entrance door(s)."""
        for i, door in enumerate(self.layout.exits):
            if i == 0 or self.rng.random() < 0.5:
                self.t += self.rng.uniform(1, 4)
                opened = self.t
                self.t += self.rng.uniform(3, 10)
                self.pulse(door, opened, self.t)

    def switch_on(self, uses: tuple[tuple[Use, tuple[str, ...]], ...]) -> list[tuple[str, str]]:
        """Sensors on for the whole activity (a mat, the TV, the shower): ON now; returns (sensor, off state)."""
        whole = []
        for use, names in uses:
            if use.how != "whole" or self._contact(names[0]) or not chance(self.rng, use.prob):
                continue
            name = self.rng.choice(names)
            on, off = self.states(name)
            self.t += self.rng.uniform(1.0, 15.0)
            self.events.append((_us(self.t), name, on, ""))
            whole.append((name, off))
        return whole

    def switch_off(self, whole: list[tuple[str, str]]) -> None:
        """End the whole-activity uses started by `switch_on`."""
        for name, off in whole:
            self.t += self.rng.uniform(1.0, 10.0)
            self.events.append((_us(self.t), name, off, ""))
            self.busy[name] = self.t

    def use_objects(self, uses: tuple[tuple[Use, tuple[str, ...]], ...], start: float, end: float) -> None:
        """Short uses spread over [start, end] (one after another per sensor) and the ones at the end."""
        rng = self.rng
        for use, names in uses:
            if (use.how == "whole" and not self._contact(names[0])) or not chance(self.rng, use.prob):
                continue
            n = 1 if use.how == "end" else rng.randint(*use.count)
            times = [max(start, end - rng.uniform(2.0, 20.0))] if use.how == "end" else \
                sorted(rng.uniform(start, max(start, end - use.seconds[0])) for _ in range(n))
            for t in times:
                name = rng.choice(names)
                t = max(t, self.busy.get(name, -1.0) + 1.0)
                self.pulse(name, t, t + rng.uniform(*use.seconds))

    def _contact(self, name: str) -> bool:
        return self.layout.home.sensors[name].type in ("door", "item")

    # --- annotation and background -----------------------------------------------
    def begin(self) -> int:
        """Start an activity's block of events: holding sensors seen before it are not extended into it."""
        self.held.clear()
        return len(self.events)

    def annotate(self, first: int, label: str | None) -> None:
        """Mark the earliest and latest event emitted since `first` with `label begin` / `label end`."""
        self.held.clear()                           # a marked OFF must never move again
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
        for _ in range(SPURIOUS_PER_DAY * days if layout.motion else 0):
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


def chance(rng: random.Random, p: float) -> bool:
    """A coin with chance p; a certain or impossible one is not tossed (so adding a habit that a routine does
    not have leaves its random draws, and its log, unchanged)."""
    return p >= 1.0 or (p > 0.0 and rng.random() < p)


def _us(t: float) -> int:
    return int(t * 1_000_000)
