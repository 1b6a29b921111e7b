"""What every live source delivers (`Arrival`: the events of one message, or why it could not be read) and the
live clock: message times -> the home's naive local time in microseconds, the clock of the windows."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo

from ..readers.times import YEARS

_EPOCH = datetime(1970, 1, 1)
_MS_ABOVE = 1e11            # epoch numbers above this are milliseconds (1e11 s is the year 5138)
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")


class Malformed(ValueError):
    """A live message that cannot be read (counted and skipped, never a crash); the text says why."""


@dataclass(frozen=True)
class LiveEvent:
    """One sensor event of a live source: naive local time in microseconds since the epoch (the windows'
    clock), sensor, state (upper-case; "" for a numeric reading, then `value` holds the number), home key."""

    time_us: int
    sensor: str
    state: str
    value: float = math.nan
    home: str = ""

    @property
    def key(self) -> tuple[str, str, int]:
        """The duplicate key: (sensor, state, time)."""
        return self.sensor, self.state, self.time_us


@dataclass
class Arrival:
    """One message of a source: its events (possibly none: a message that says nothing homeclip reads), or
    `malformed` (why it could not be read); `received` is time.perf_counter() when it arrived, `fatal` a
    problem the source cannot recover from (a rejected token), which stops the watch."""

    source: str
    received: float
    events: list[LiveEvent] = field(default_factory=list)
    malformed: str = ""
    ignored: str = ""
    fatal: str = ""


def zone_of(name: str | None) -> tzinfo:
    """The IANA zone `name`, or this machine's local zone when None."""
    if name is None:
        return datetime.now().astimezone().tzinfo or timezone.utc
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def local_us(moment: datetime, zone: tzinfo) -> int:
    """A datetime -> naive local microseconds: aware ones converted to `zone`, naive ones taken as local."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone).replace(tzinfo=None)
    if not YEARS[0] <= moment.year <= YEARS[1]:
        raise Malformed(f"time {moment.isoformat()} is outside {YEARS[0]}-{YEARS[1]}")
    return (moment - _EPOCH) // timedelta(microseconds=1)


def now_us(zone: tzinfo) -> int:
    """The wall-clock time of `zone` now, as naive local microseconds (for messages that carry no time)."""
    return local_us(datetime.now(zone), zone)


def parse_time(value: object, zone: tzinfo) -> int:
    """A message's time -> naive local microseconds: ISO 8601 text (naive: the home's local time; with an
    offset or Z: converted to `zone`) or an epoch number (seconds, or milliseconds above 1e11)."""
    if isinstance(value, bool):
        raise Malformed(f"expected a time (ISO 8601 or epoch seconds/milliseconds), found {value!r}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise Malformed(f"expected a finite epoch time, found {value!r}")
        seconds = value / 1000 if abs(value) > _MS_ABOVE else value
        return local_us(datetime.fromtimestamp(0, timezone.utc) + timedelta(seconds=seconds), zone)
    text = str(value).strip()
    if not _ISO.fullmatch(text):
        raise Malformed(f"expected a time (ISO 8601 or epoch seconds/milliseconds), found {text[:60]!r}")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Malformed(f"expected a valid time, found {text[:60]!r}") from None
    return local_us(moment, zone)


def iso_of(time_us: int) -> str:
    """Naive local microseconds -> 'YYYY-MM-DD HH:MM:SS.ffffff' (the form the logs use)."""
    return (_EPOCH + timedelta(microseconds=int(time_us))).isoformat(sep=" ", timespec="microseconds")
