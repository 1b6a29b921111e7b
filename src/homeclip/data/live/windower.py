"""The last events of a live home -> each new fixed-length window, cut and featurised by the offline code
(`windows.event_features` + `windows.gather_windows`), so a live window is the very window `make_windows` cuts
from a log of the same events.

The offline rule it follows (windows._fixed_length over segments.segment_bounds): the stream is cut into
segments at silences longer than `max_gap`; in a segment, a window of `length` events starts at events 0,
stride, 2*stride, ... So a window ends at the k-th event of a segment when k >= length and (k - length) is a
multiple of the stride. Δt is the time since the previous event of the stream, across segments (as offline,
where only a new file resets it), so the window is built with the event before it.
"""
from __future__ import annotations

from collections import deque

import numpy as np
import pandas as pd

from ..events import EventLog, ParseReport, empty_numeric
from ..homes import Home
from ..readers.common import labels_from_spans
from ..segments import US_PER_S
from ..windows import WindowConfig, WindowSet, event_features, gather_windows
from .events import LiveEvent



class LiveWindower:
    """One home's recent events and its position in the current segment; `push` gives each new window."""

    def __init__(self, home: Home, cfg: WindowConfig, keep: int = 0):
        cfg.validate()
        if cfg.strategy != "fixed_length":
            raise ValueError("live windows are fixed-length windows (the strategy a checkpoint's windows use)")
        self.home, self.cfg = home, cfg
        self.events: deque[LiveEvent] = deque(maxlen=max(keep, cfg.length + 1))
        self.position = 0

    def restore(self, events: list[LiveEvent], position: int) -> None:
        """Continue after `events` (oldest first), the last of which stood at `position` in its segment."""
        self.events.extend(events)
        self.position = position

    def next_position(self, event: LiveEvent) -> int:
        """The position `event` takes in its segment when it follows the events seen so far."""
        if not self.events:
            return 1
        gap_s = (event.time_us - self.events[-1].time_us) / US_PER_S
        return 1 if gap_s > self.cfg.max_gap else self.position + 1

    def push(self, event: LiveEvent) -> WindowSet | None:
        """Add an event (in time order); the window it completes, or None."""
        self.position = self.next_position(event)
        self.events.append(event)
        n, stride = self.cfg.length, self.cfg.effective_stride
        if self.position < n or (self.position - n) % stride:
            return None
        return self.window()

    def window(self) -> WindowSet:
        """The window of the last `length` events (with the event before them for Δt, when there is one)."""
        n = self.cfg.length
        recent = list(self.events)[-(n + 1):]
        first = len(recent) - n
        return gather_windows(event_features(events_log(recent), self.home, self.cfg.default_label),
                              np.array([first]), np.array([n]), n, self.home)


def events_log(events: list[LiveEvent]) -> EventLog:
    """An EventLog of live events (one source, unlabelled), the input every offline step takes."""
    n = len(events)
    labels, primary, residents = labels_from_spans(n, [])     # unlabelled: the readers' rule with no spans
    frame = pd.DataFrame({
        "time": np.array([e.time_us for e in events], dtype=np.int64).astype("datetime64[us]"),
        "sensor": np.array([e.sensor for e in events], dtype=object),
        "state": np.array([e.state for e in events], dtype=object),
        "value": np.full(n, np.nan), "labels": labels, "label": primary,
        "source": np.zeros(n, dtype=np.int32), "residents": residents}, copy=False)
    return EventLog(frame=frame, numeric=_NO_READINGS, report=ParseReport(path="<live>", format="live"),
                    sources=["<live>"])


_NO_READINGS = empty_numeric()        # live windows keep numeric readings out, like every reader; never changed
