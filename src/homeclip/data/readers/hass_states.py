"""Home Assistant entity states -> homeclip events: the one rule shared by the recorder-database reader
(`homeassistant.py`) and the live WebSocket stream (`data/live/hass.py`), so history and live read alike.

- `binary_sensor`, `switch`, `light`, `input_boolean`: on/off -> ON/OFF; a binary sensor whose device class
  is door, window, opening or garage_door reads on/off as OPEN/CLOSE (the CASAS door words).
- `media_player`: playing/buffering/on -> ON; paused/idle/standby/off -> OFF (is something playing or not).
- `cover`: open -> OPEN, closed -> CLOSE; `lock`: unlocked/open -> OPEN, locked -> CLOSE (a lock reads like the
  door it holds). Their moving states (opening, closing, locking, unlocking, stopped, jammed) are skipped.
- `sensor`: a finite number is a numeric reading (kept apart from the binary stream, like every reader);
  any other word (a weather text, a date) is skipped.
- `unavailable` / `unknown` (any domain) become the states UNAVAILABLE / UNKNOWN, which the unknown-state rule
  (states.py) counts and keeps out of the event stream: counted, never events.
Other domains are not read. Only state *changes* count: a row or event whose `last_changed` differs from its
`last_updated` is an attribute update of an unchanged state (a media player's position, a battery level).
"""
from __future__ import annotations

import math
from typing import NamedTuple

EVENT_DOMAINS = ("binary_sensor", "switch", "light", "media_player", "cover", "lock", "input_boolean")
NUMERIC_DOMAINS = ("sensor",)
READ_DOMAINS = EVENT_DOMAINS + NUMERIC_DOMAINS
LABEL_DOMAINS = ("input_select", "input_text")
MISSING = {"unavailable": "UNAVAILABLE", "unknown": "UNKNOWN"}
DOOR_CLASSES = frozenset({"door", "window", "opening", "garage_door"})
_ON_OFF = {"on": "ON", "off": "OFF"}
_WORDS = {
    "binary_sensor": _ON_OFF, "switch": _ON_OFF, "light": _ON_OFF, "input_boolean": _ON_OFF,
    "media_player": {"playing": "ON", "buffering": "ON", "on": "ON", "paused": "OFF", "idle": "OFF",
                     "standby": "OFF", "off": "OFF"},
    "cover": {"open": "OPEN", "closed": "CLOSE"},
    "lock": {"unlocked": "OPEN", "open": "OPEN", "locked": "CLOSE"},
}
_MOVING = {"cover": frozenset({"opening", "closing", "stopped"}),
           "lock": frozenset({"locking", "unlocking", "opening", "jammed"})}
# Skip reasons (counted in reports and by the live stream).
MOVING, NOT_NUMERIC, OTHER_WORD, NOT_READ = "moving state", "non-numeric sensor state", "unexpected state", \
    "domain not read"
# Label entity values that mean "no activity".
NO_ACTIVITY = frozenset({"", "none", "unknown", "unavailable"})


class Reading(NamedTuple):
    """One entity state as homeclip reads it: an event state (value NaN), a numeric reading (state ""), or
    skipped (state "" and value NaN, with the reason)."""

    state: str
    value: float
    skip: str = ""


def domain_of(entity_id: str) -> str:
    """The domain of an entity id: "binary_sensor.kitchen_motion" -> "binary_sensor"."""
    return str(entity_id).partition(".")[0]


def read_state(entity_id: str, state: str, device_class: str | None = None) -> Reading:
    """How homeclip reads `state` of `entity_id` (the module's rule)."""
    domain = domain_of(entity_id)
    if domain not in READ_DOMAINS:
        return Reading("", math.nan, NOT_READ)
    text = str(state).strip()
    low = text.lower()
    if low in MISSING:
        return Reading(MISSING[low], math.nan)
    if domain in NUMERIC_DOMAINS:
        try:
            value = float(text)
        except ValueError:
            return Reading("", math.nan, NOT_NUMERIC)
        return Reading("", value) if math.isfinite(value) else Reading("", math.nan, NOT_NUMERIC)
    if low in _MOVING.get(domain, ()):
        return Reading("", math.nan, MOVING)
    word = _WORDS[domain].get(low)
    if word is None:
        return Reading("", math.nan, OTHER_WORD)
    if domain == "binary_sensor" and device_class in DOOR_CLASSES:
        word = "OPEN" if word == "ON" else "CLOSE"
    return Reading(word, math.nan)


def activity_of(state: str) -> str:
    """The activity a label entity's state names ("" for none: empty, none, unknown, unavailable)."""
    text = str(state).strip()
    return "" if text.lower() in NO_ACTIVITY else text


def sensor_type_of(entity_id: str, device_class: str | None) -> str | None:
    """The homeclip sensor type of an entity from its domain and device class (None: infer it from names)."""
    domain = domain_of(entity_id)
    if domain == "binary_sensor":
        if device_class in ("motion", "occupancy", "presence", "moving"):
            return "motion"
        if device_class in DOOR_CLASSES:
            return "door"
        return {"plug": "electric", "power": "electric", "light": "light", "moisture": "flow"}.get(device_class or "")
    if domain == "sensor":
        return {"temperature": "temperature", "illuminance": "light", "battery": "battery", "power": "power",
                "energy": "power", "current": "power", "voltage": "power", "pressure": "analog",
                "humidity": "analog"}.get(device_class or "", "analog")
    return {"switch": "electric", "light": "light", "media_player": "electric", "cover": "door", "lock": "door",
            "input_boolean": "other"}.get(domain)
