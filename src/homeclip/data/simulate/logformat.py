"""Render simulated events as CASAS log lines: `date time sensor state [label begin|end]`."""
from __future__ import annotations

from datetime import date, timedelta

from .engine import Event


def format_lines(events: list[Event], day0: date, days: int) -> list[str]:
    """Sort by time (stable) and render CASAS lines, microseconds always written."""
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
