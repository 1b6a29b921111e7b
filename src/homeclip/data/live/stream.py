"""The ordering rule of live events (docs/live.md, "Order, duplicates, late events"), per home:

1. A numeric reading is counted and kept out of the windows (as every reader keeps it out of the binary stream);
   a missing state (UNAVAILABLE, UNKNOWN, ... of readers/states.py) is counted, never an event.
2. A duplicate - the same (sensor, state, time) as an event already accepted - is counted and dropped. A
   redelivered MQTT message (QoS 1 after a reconnect) or a replayed source is a duplicate, never a second event.
3. An event is held `hold_s` seconds of wall-clock time after it arrives, and held events are released in
   event-time order (ties: arrival order), so messages that arrive a little out of order are re-sorted. With the
   default hold of 0 every event is released at once (the lowest latency).
4. An event earlier than the last event already released for its home is late: counted and dropped. A window,
   once emitted, is never rewritten (the timeline is append-only).
"""
from __future__ import annotations

import heapq
import itertools
from collections import Counter, deque
from dataclasses import dataclass, field

from ..readers.states import MISSING_STATES
from .events import LiveEvent

RECENT_KEYS = 100_000          # duplicate keys remembered per home (about three weeks of a busy CASAS home)


@dataclass
class HomeOrder:
    """One home's state under the rule: held events, recent keys, the release watermark."""

    held: list = field(default_factory=list)                # heap of (time_us, seq, arrival_s, event)
    recent: set = field(default_factory=set)
    recent_order: deque = field(default_factory=deque)
    watermark: int | None = None                            # time of the last released event


class EventStream:
    """Applies the module's rule; `push` takes arriving events, `release` gives the events due, in order."""

    def __init__(self, hold_s: float = 0.0, recent_keys: int = RECENT_KEYS):
        if hold_s < 0:
            raise ValueError("hold must be >= 0 seconds")
        self.hold_s = hold_s
        self.recent_keys = recent_keys
        self.homes: dict[str, HomeOrder] = {}
        self.counts: Counter = Counter()
        self._seq = itertools.count()

    def remember(self, event: LiveEvent) -> None:
        """Mark an event as already released (e.g. reloaded from the timeline after a restart)."""
        order = self.homes.setdefault(event.home, HomeOrder())
        self._add_key(order, event)
        if order.watermark is None or event.time_us > order.watermark:
            order.watermark = event.time_us

    def push(self, event: LiveEvent, arrived_s: float) -> str:
        """Take one arriving event; returns what became of it: "held", "numeric", "missing", "duplicate", "late"."""
        if not event.state:
            return self._count("numeric")
        if event.state in MISSING_STATES:
            return self._count("missing")
        order = self.homes.setdefault(event.home, HomeOrder())
        if event.key in order.recent:
            return self._count("duplicate")
        if order.watermark is not None and event.time_us < order.watermark:
            return self._count("late")
        self._add_key(order, event)
        heapq.heappush(order.held, (event.time_us, next(self._seq), arrived_s, event))
        return "held"

    def release(self, now_s: float) -> list[tuple[LiveEvent, float]]:
        """The held events whose hold has expired, in event-time order per home, with their arrival times."""
        out = []
        for order in self.homes.values():
            while order.held and order.held[0][2] + self.hold_s <= now_s:
                time_us, _, arrived_s, event = heapq.heappop(order.held)
                order.watermark = time_us if order.watermark is None else max(order.watermark, time_us)
                out.append((event, arrived_s))
        self.counts["released"] += len(out)
        return out

    def next_due(self) -> float | None:
        """The perf_counter time at which the next held event is due (None: nothing held)."""
        due = [order.held[0][2] + self.hold_s for order in self.homes.values() if order.held]
        return min(due) if due else None

    def _add_key(self, order: HomeOrder, event: LiveEvent) -> None:
        order.recent.add(event.key)
        order.recent_order.append(event.key)
        if len(order.recent_order) > self.recent_keys:
            order.recent.discard(order.recent_order.popleft())

    def _count(self, what: str) -> str:
        self.counts[what] += 1
        return what
