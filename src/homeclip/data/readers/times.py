"""Time text of raw logs -> datetime64[us] naive local time (the time the home's clock showed).

- `parse_timestamps`: the research formats' `YYYY-MM-DD HH:MM:SS[.f]`, strictly: an impossible time
  (`24:00:00`, `23:59:60`, `31 Feb`) or a year outside 1980-2099 (a negative year, a clock reset to 1970) is NaT,
  which the readers turn into a bad line. `english_month_dates` first rewrites `25-Feb-2008` dates.
- `parse_table_times`: event-table columns: ISO 8601 with or without a zone, epoch seconds / milliseconds /
  microseconds, day-first or month-first dates, or a strftime pattern. A zone-aware time (an ISO offset or `Z`,
  an epoch number, a zone-aware column) names an instant, so it needs `timezone` (an IANA name such as
  Europe/Madrid, or UTC) and is converted to that zone's wall-clock time. Naive times are kept as written; with
  `timezone` given, times that fall in a daylight-saving gap or repeated hour there are reported.
- `clock_steps_back`: a clock that goes back 30 minutes or more (a daylight-saving repeat, a reset), reported
  with file and line.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ...errors import UserError
from ..segments import US_PER_S

YEARS = (1980, 2099)
_YEAR = r"(?:198\d|199\d|20\d\d)"
STAMP = re.compile(_YEAR + r"-\d{1,2}-\d{1,2} (?:[01]?\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?")
_MONTHS = {m: f"{i:02d}" for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_NAMED_DATE = re.compile(r"^(\d{1,2})-([A-Za-z]{3})-(\d{4})")
_LEAP_SECOND = r":60(?!\d)"
_ZONE_SUFFIX = r"(?:Z|[+-]\d\d(?::?\d\d)?)$"
CLOCK_STEP_BACK_S = 1800.0     # a step back at least this long is a clock change, not a misplaced line
TIME_FORMATS = ("auto", "iso", "epoch-s", "epoch-ms", "epoch-us", "dayfirst", "monthfirst")
_EPOCH_UNITS = {"epoch-s": "s", "epoch-ms": "ms", "epoch-us": "us"}
_NAT = np.datetime64("NaT", "us")


def parse_timestamps(stamps: list[str] | pd.Series) -> np.ndarray:
    """Parse 'YYYY-MM-DD HH:MM:SS[.f]' strings to datetime64[us] (a fraction of any length: padded on the
    right, truncated to microseconds); impossible times and years outside YEARS become NaT."""
    stamps = list(stamps)
    times = np.full(len(stamps), _NAT)
    match = STAMP.fullmatch
    valid = np.fromiter((match(x) is not None for x in stamps), dtype=bool, count=len(stamps))
    if not valid.any():
        return times
    good = pd.Series([x for x, ok in zip(stamps, valid) if ok], dtype=object)
    if max(map(len, good)) > 26:        # a fraction of more than 6 digits somewhere: truncate to microseconds
        good = good.str.replace(r"(\.\d{6})\d+$", r"\1", regex=True)
    parsed = pd.to_datetime(good, format="%Y-%m-%d %H:%M:%S.%f", errors="coerce").to_numpy(
        dtype="datetime64[us]", copy=True)
    whole = np.isnat(parsed)
    if whole.any():
        parsed[whole] = pd.to_datetime(good[whole], format="%Y-%m-%d %H:%M:%S",
                                       errors="coerce").to_numpy(dtype="datetime64[us]")
    times[valid] = parsed
    return times


def english_month_dates(stamps: list[str]) -> list[str]:
    """Rewrite 'DD-Mon-YYYY ...' (English month abbreviations, any case) as 'YYYY-MM-DD ...'; other strings
    are returned unchanged (so they stay unparseable if they were)."""
    def iso(match: re.Match) -> str:
        month = _MONTHS.get(match.group(2).lower())
        return f"{match.group(3)}-{month}-{int(match.group(1)):02d}" if month else match.group(0)

    return [_NAMED_DATE.sub(iso, s, count=1) for s in stamps]


def in_year_range(times: np.ndarray) -> np.ndarray:
    """True where a datetime64 lies in the accepted YEARS (NaT: False)."""
    years = times.astype("datetime64[Y]").astype(np.int64) + 1970
    return ~np.isnat(times) & (years >= YEARS[0]) & (years <= YEARS[1])


def count_backwards(times: np.ndarray) -> int:
    """How many entries are earlier than the entry before them (file order)."""
    return int((np.diff(times.astype(np.int64)) < 0).sum()) if len(times) > 1 else 0


def clock_steps_back(times: np.ndarray, linenos: list[int] | np.ndarray, path: str) -> list[str]:
    """One sentence per place where the clock goes back CLOCK_STEP_BACK_S or more (times in file order)."""
    if times.shape[0] < 2:
        return []
    step = np.diff(times.astype("datetime64[us]").astype(np.int64))
    out = []
    for i in np.flatnonzero(step <= -CLOCK_STEP_BACK_S * US_PER_S):
        back = pd.Timedelta(int(-step[i]), unit="us")
        out.append(f"{path}:{linenos[i + 1]}: the clock goes back {back} (from {pd.Timestamp(times[i])} to "
                   f"{pd.Timestamp(times[i + 1])}): a daylight-saving repeat or a clock reset? events are "
                   "sorted by time")
    return out


# ----------------------------------------------------------------------------------------- event tables


def check_time_format(time_format: str) -> str:
    """The time format if it is known (or a strftime pattern); UserError otherwise."""
    if time_format in TIME_FORMATS or "%" in time_format:
        return time_format
    raise UserError(f"unknown time format {time_format!r}; expected one of {', '.join(TIME_FORMATS)} or a "
                    "strftime pattern such as '%d/%m/%Y %H:%M:%S'")


def check_timezone(timezone: str | None) -> str | None:
    """The IANA zone name if it exists; UserError otherwise."""
    if timezone is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"unknown time zone {timezone!r}; expected an IANA name such as Europe/Madrid, "
                        "America/New_York or UTC") from None
    return timezone


def parse_table_times(values: pd.Series, time_format: str = "auto",
                      timezone: str | None = None) -> tuple[np.ndarray, list[str]]:
    """Naive local datetime64[us] of a table's time column (NaT where a cell cannot be parsed, is zoned
    unlike the first cell, or lies outside YEARS), and notes on time zones and daylight-saving changes."""
    values = values.reset_index(drop=True)
    notes: list[str] = []
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return _keep_years(to_local(values, timezone, "the time column is zone-aware", notes)), notes
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return _keep_years(_naive(values, timezone, notes)), notes
    if pd.api.types.is_bool_dtype(values.dtype):
        return np.full(len(values), _NAT), notes
    if pd.api.types.is_numeric_dtype(values.dtype) or time_format in _EPOCH_UNITS:
        return _keep_years(_epoch(pd.to_numeric(values, errors="coerce"), time_format, timezone, notes)), notes
    text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    if time_format == "auto" and text.str.fullmatch(r"[+-]?\d+(?:\.\d+)?").all():
        return _keep_years(_epoch(pd.to_numeric(text, errors="coerce"), "auto", timezone, notes)), notes
    if time_format in ("dayfirst", "monthfirst"):
        parsed = _day_month_first(text, dayfirst=time_format == "dayfirst")
    elif "%" in time_format:
        parsed = _strftime(text, time_format, timezone, notes)
    else:
        parsed = _iso(text, timezone, notes)
    parsed[text.str.contains(_LEAP_SECOND, regex=True).to_numpy(dtype=bool)] = _NAT
    return _keep_years(parsed), notes


def _keep_years(times: np.ndarray) -> np.ndarray:
    times = times.astype("datetime64[us]")
    times[~in_year_range(times)] = _NAT
    return times


def _iso(text: pd.Series, timezone: str | None, notes: list[str]) -> np.ndarray:
    """ISO 8601 cells; every cell zoned like the first non-empty one (others: NaT)."""
    zoned = text.str.contains(_ZONE_SUFFIX, regex=True).to_numpy(dtype=bool)
    filled = np.flatnonzero(text.to_numpy(dtype=object) != "")
    first_zoned = bool(zoned[filled[0]]) if filled.size else False
    times = np.full(len(text), _NAT)
    same = zoned == first_zoned
    if first_zoned:
        instants = pd.to_datetime(text[same], format="ISO8601", errors="coerce", utc=True)
        times[same] = to_local(instants, timezone, "the times carry a zone (e.g. +02:00 or Z)", notes)
    else:
        times[same] = _naive(pd.to_datetime(text[same], format="ISO8601", errors="coerce"), timezone, notes)
    return times


def _strftime(text: pd.Series, pattern: str, timezone: str | None, notes: list[str]) -> np.ndarray:
    if "%z" in pattern or "%Z" in pattern:
        instants = pd.to_datetime(text, format=pattern, errors="coerce", utc=True)
        return to_local(instants, timezone, f"the time format {pattern!r} has a zone", notes)
    return _naive(pd.to_datetime(text, format=pattern, errors="coerce"), timezone, notes)


def _day_month_first(text: pd.Series, *, dayfirst: bool) -> np.ndarray:
    """'25/02/2008 10:00[:00[.f]]' (separators / - .; English month names allowed) day- or month-first."""
    canon = pd.Series(english_month_dates(text.tolist()), dtype=object)
    # english_month_dates turned named dates into ISO; bring the others to D/M/Y with slashes.
    dmy = canon.str.replace(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})", r"\1/\2/\3", regex=True)
    date = "%d/%m/%Y" if dayfirst else "%m/%d/%Y"
    times = np.full(len(text), _NAT)
    for fmt in (f"{date} %H:%M:%S.%f", f"{date} %H:%M:%S", f"{date} %H:%M", "%Y-%m-%d %H:%M:%S.%f",
                "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        todo = np.isnat(times)
        if not todo.any():
            break
        times[todo] = pd.to_datetime(dmy[todo], format=fmt, errors="coerce").to_numpy(dtype="datetime64[us]")
    return times


def _epoch(numbers: pd.Series, time_format: str, timezone: str | None, notes: list[str]) -> np.ndarray:
    """Epoch numbers (UTC instants): unit from the format, or (auto) from their size."""
    unit = _EPOCH_UNITS.get(time_format)
    finite = numbers[np.isfinite(numbers.to_numpy(dtype=np.float64))]
    if unit is None:
        size = float(finite.abs().median()) if len(finite) else 0.0
        unit = "s" if size < 1e11 else "ms" if size < 1e14 else "us"
        notes.append(f"times read as epoch {dict(s='seconds', ms='milliseconds', us='microseconds')[unit]} "
                     "(from their size; --time-format epoch-s|epoch-ms|epoch-us to say so)")
    scale = {"s": US_PER_S, "ms": 1000, "us": 1}[unit]
    us = numbers.to_numpy(dtype=np.float64) * scale
    ok = np.isfinite(us) & (np.abs(us) < 4e18)
    micro = np.where(ok, us, 0).astype(np.int64)
    instants = pd.Series(pd.to_datetime(micro, unit="us", utc=True))
    instants[~ok] = pd.NaT
    return to_local(instants, timezone, "epoch times are UTC instants", notes)


def to_local(instants: pd.Series, timezone: str | None, why: str, notes: list[str]) -> np.ndarray:
    """Zone-aware times -> the wall-clock time of `timezone`, naive; UserError without a time zone."""
    if timezone is None:
        raise UserError(f"{why}: give --timezone (the home's IANA zone, e.g. Europe/Madrid, or UTC) so they can "
                        "be stored as the home's local time")
    local = pd.Series(instants).dt.tz_convert(timezone)
    offsets = local.dt.tz_localize(None) - local.dt.tz_convert("UTC").dt.tz_localize(None)
    changes = int((offsets.diff().fillna(pd.Timedelta(0)) != pd.Timedelta(0)).sum())
    notes.append(f"zone-aware times converted to naive local time in {timezone}"
                 + (f"; the UTC offset changes {changes} times (daylight saving): local times repeat or skip "
                    "an hour there" if changes else ""))
    return local.dt.tz_localize(None).to_numpy(dtype="datetime64[us]", copy=True)


def _naive(times: pd.Series, timezone: str | None, notes: list[str]) -> np.ndarray:
    """Naive times as written; with a time zone, those in a daylight-saving gap or repeated hour are noted."""
    times = pd.Series(times)
    if timezone is not None and times.notna().any():
        known = times.dropna()
        either = known.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT").isna()
        skipped = known.dt.tz_localize(timezone, ambiguous=np.zeros(len(known), bool), nonexistent="NaT").isna()
        n_gap, n_repeat = int(skipped.sum()), int((either & ~skipped).sum())
        if n_gap or n_repeat:
            notes.append(f"naive times kept as written; in {timezone}, {n_gap} fall in an hour skipped by a "
                         f"daylight-saving change and {n_repeat} in a repeated hour (their order there is "
                         "the file's, sorted by time)")
    return times.to_numpy(dtype="datetime64[us]", copy=True)
