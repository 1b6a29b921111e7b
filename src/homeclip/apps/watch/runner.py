"""The watch loop: messages from the live sources -> the ordering rule -> each home's windows -> the recognised
activity, score and caption of every new window -> the timeline (and the console).

Sources deliver `Arrival`s into one queue from their own threads; this loop alone touches the windows, the
model and the timeline, one message at a time (one timeline transaction per message). A malformed message is
counted and skipped; a fatal one (a rejected token) ends the watch with its sentence.
"""
from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ...data.homes import Home
from ...data.live.events import Arrival, LiveEvent, iso_of
from ...data.live.sources import Source
from ...data.live.stream import EventStream
from ...data.live.windower import LiveWindower
from ...data.windows import WindowConfig
from ...errors import UserError
from .recognise import Recogniser
from .timeline import Timeline, WindowRow

log = logging.getLogger(__name__)
MALFORMED_SHOWN = 5          # malformed messages quoted one by one; after that every MALFORMED_EVERY-th


@dataclass(frozen=True)
class WatchSettings:
    """How the watch cuts and paces windows."""

    window: WindowConfig
    keep: int = 500                     # events kept per home (at least the window length + 1)
    hold_s: float = 0.0                 # the ordering rule's hold (stream.py)
    max_windows: int | None = None      # stop after this many new windows (scripts, tests)
    idle_exit_s: float | None = None    # stop after this long without a message (replaying a file)


@dataclass
class WatchSummary:
    """What a watch did: windows written, counters, latencies (ms) of the windows it wrote."""

    windows: int = 0
    events: int = 0
    counts: Counter = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)

    def latency(self) -> dict[str, float]:
        """p50 / p95 / max latency in ms (empty when no window was written)."""
        if not self.latencies_ms:
            return {}
        arr = np.asarray(self.latencies_ms)
        return {"p50": float(np.percentile(arr, 50)), "p95": float(np.percentile(arr, 95)), "max": float(arr.max())}

    def sentence(self) -> str:
        """One line for the end of a watch."""
        lat = self.latency()
        counts = ", ".join(f"{n} {k}" for k, n in sorted(self.counts.items()) if n and k != "released")
        return (f"{self.windows} windows from {self.events} events" + (f"; {counts}" if counts else "")
                + (f"; latency p50 {lat['p50']:.1f} ms, p95 {lat['p95']:.1f} ms" if lat else ""))


RowCallback = Callable[[WindowRow], None]


class Watcher:
    """Turns arrivals into timeline rows (see the module docstring)."""

    def __init__(self, recogniser: Recogniser, timeline: Timeline, home: Home, settings: WatchSettings,
                 on_row: RowCallback | None = None):
        self.recogniser, self.timeline, self.home, self.settings = recogniser, timeline, home, settings
        self.on_row = on_row
        self.stream = EventStream(settings.hold_s)
        self.windowers: dict[str, LiveWindower] = {}
        self.summary = WatchSummary(counts=self.stream.counts)
        self.queue: queue.Queue[Arrival] = queue.Queue()
        self._stored_counts: dict[str, int] = {}

    # ------------------------------------------------------------------------------------------ running
    def run(self, sources: Sequence[Source], stop: threading.Event | None = None) -> WatchSummary:
        """Start the sources and process their messages until `stop` is set, Ctrl-C, a fatal message, or the
        settings' window/idle limit; the sources are stopped and the held events released at the end."""
        stop = stop or threading.Event()
        for source in sources:
            source.start(self.queue.put)
        last_message = time.monotonic()
        try:
            while not stop.is_set() and not self._enough():
                due = self.stream.next_due()
                wait = 0.2 if due is None else min(0.2, max(0.0, due - time.perf_counter()))
                try:
                    arrival = self.queue.get(timeout=wait)
                except queue.Empty:
                    self.process(None)
                    idle = self.settings.idle_exit_s
                    if idle is not None and time.monotonic() - last_message > idle:
                        break
                    continue
                last_message = time.monotonic()
                self.process(arrival)
        finally:
            for source in sources:
                source.stop()
            self.drain()
        return self.summary

    def drain(self) -> None:
        """Process what the queue still holds and release every held event (the end of a watch)."""
        while True:
            try:
                self.process(self.queue.get_nowait())
            except queue.Empty:
                break
        self.process(None, release_all=True)

    def _enough(self) -> bool:
        limit = self.settings.max_windows
        return limit is not None and self.summary.windows >= limit

    # ------------------------------------------------------------------------------------------ one message
    def process(self, arrival: Arrival | None, *, release_all: bool = False) -> list[WindowRow]:
        """One message (None: only release the events whose hold expired); the window rows it wrote."""
        if arrival is not None:
            if arrival.fatal:
                raise UserError(arrival.fatal)
            if arrival.malformed:
                self._malformed(arrival)
            for event in arrival.events:
                self._windower(event.home)
                self.stream.push(event, arrival.received)
            if arrival.ignored and not arrival.events:
                self.stream.counts["ignored"] += 1
        released = self.stream.release(math.inf if release_all else time.perf_counter())
        if not released and not (arrival and (arrival.malformed or arrival.events)):
            return []
        self.timeline.begin()
        try:
            rows = self._release(released)
            for home, counts in self._pending_counts().items():
                self.timeline.add_counts(home, counts)
            self.timeline.commit()
        except BaseException:
            self.timeline.rollback()
            raise
        for row in rows:
            if self.on_row is not None:
                self.on_row(row)
        return rows

    def _release(self, released: list[tuple[LiveEvent, float]]) -> list[WindowRow]:
        """Store the released events; recognise and store the windows they complete."""
        pending = []
        for event, arrived in released:
            windower = self._windower(event.home)
            event_id = self.timeline.add_event(event, windower.next_position(event))
            if event_id is None:                          # already in the file: a replay after a restart
                self.stream.counts["duplicate"] += 1
                continue
            self.summary.events += 1
            windows = windower.push(event)
            if windows is not None:
                pending.append((event, event_id, arrived, windows))
        if not pending:
            return []
        rows = []
        for event, event_id, arrived, windows in pending:
            (result,) = self.recogniser.recognise(windows)
            latency = (time.perf_counter() - arrived) * 1000.0
            row = WindowRow(home=event.home, start_us=int(windows.time[0, 0]), end_us=event.time_us,
                            n_events=int(windows.mask[0].sum()), label=result.label, score=result.score,
                            method=self.recogniser.method, caption=result.caption, last_event=event_id,
                            latency_ms=latency)
            if self.timeline.add_window(row) is not None:
                rows.append(row)
                self.summary.windows += 1
                self.summary.latencies_ms.append(latency)
        return rows

    def _windower(self, home: str) -> LiveWindower:
        """The home's windower; on first use its last events come back from the timeline (a restart)."""
        windower = self.windowers.get(home)
        if windower is None:
            windower = LiveWindower(self.home, self.settings.window, self.settings.keep)
            events, position = self.timeline.tail(home, windower.events.maxlen or self.settings.keep)
            windower.restore(events, position)
            for event in events:
                self.stream.remember(event)
            self.windowers[home] = windower
        return windower

    def _malformed(self, arrival: Arrival) -> None:
        n = self.stream.counts["malformed"] = self.stream.counts["malformed"] + 1
        if n <= MALFORMED_SHOWN or n % 100 == 0:
            log.warning("skipped a malformed message from %s: %s (%d so far)", arrival.source, arrival.malformed, n)

    def _pending_counts(self) -> dict[str, dict[str, int]]:
        """The counters changed since the last message, for the timeline (kept for all homes together, as "")."""
        current = {k: v for k, v in self.stream.counts.items() if k != "released"}
        previous = self._stored_counts
        delta = {k: v - previous.get(k, 0) for k, v in current.items() if v != previous.get(k, 0)}
        self._stored_counts = current
        return {"": delta} if delta else {}


def console_line(row: WindowRow) -> str:
    """The console line of one window row."""
    home = f"[{row.home}] " if row.home else ""
    latency = f"  ({row.latency_ms:.0f} ms)" if row.latency_ms is not None else ""
    return f"{iso_of(row.end_us)[:19]} {home}{row.label:<14} {row.score:5.2f}  {row.caption}{latency}"
