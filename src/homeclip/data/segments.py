"""Where a log's events form runs that windows may not cross: segments cut at long silences and at changes of
source (file), and the Δt of each event within its source."""
from __future__ import annotations

import numpy as np

US_PER_S = 1_000_000   # datetime64[us] ticks per second


def segment_bounds(time_us: np.ndarray, max_gap: float,
                   source: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Start (inclusive) and end (exclusive) event index of each segment: the log cut at silences > max_gap and
    wherever the source (file) changes."""
    n = time_us.shape[0]
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    cut = np.diff(time_us) > max_gap * US_PER_S
    if source is not None and source.shape[0] == n:
        cut |= np.diff(source) != 0
    cuts = np.flatnonzero(cut) + 1
    return np.concatenate([[0], cuts]).astype(np.int64), np.concatenate([cuts, [n]]).astype(np.int64)


def sources_of(frame) -> np.ndarray:
    """The source (file index) of each event; 0 for a frame without a source column."""
    if "source" not in frame.columns:
        return np.zeros(len(frame), dtype=np.int32)
    return frame["source"].to_numpy().astype(np.int32)


def unsorted_by_source(time: np.ndarray, source: np.ndarray) -> bool:
    """True unless events are sorted by source, then time."""
    if time.size < 2:
        return False
    step_source, step_time = np.diff(source), np.diff(time)
    return bool(np.any(step_source < 0) or np.any((step_source == 0) & (step_time < 0)))


def event_time_deltas(time_us: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Seconds since the previous event of the same source (float32); 0 for the first event of each source,
    so the silence between two files is never a Δt."""
    delta = np.diff(time_us, prepend=time_us[:1]).astype(np.float64)
    delta[_source_starts(source)] = 0.0
    return (delta / US_PER_S).astype(np.float32)


def _source_starts(source: np.ndarray) -> np.ndarray:
    """Indices where a new source begins (0 included when there are events)."""
    if source.size == 0:
        return np.zeros(0, np.int64)
    return np.concatenate([[0], np.flatnonzero(np.diff(source) != 0) + 1]).astype(np.int64)
