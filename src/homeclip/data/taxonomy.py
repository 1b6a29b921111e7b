"""The shared event vocabulary: one fixed taxonomy of room types and object kinds for every home.

A sensor's room name ("master_bedroom", "LivingRoom", "Hall-Toilet") and id ("M019", "Fridge") belong to one
home; its room type ("bedroom") and object kind ("fridge") mean the same thing in every home. Encoders that
read these fields instead of sensor ids (`event_fields: semantic`) apply to homes they were never trained on.

The lists below are the contract: their order gives the fixed vocabulary ids of the semantic fields, so
appending is safe and reordering or removing breaks every saved semantic model. "unknown" is what a sensor
gets when neither the layout nor the inference rules can tell (never a guess).
"""
from __future__ import annotations

# Where a sensor is. "hall" covers corridors, hallways, entrances, foyers and stairs.
ROOM_TYPES: tuple[str, ...] = (
    "kitchen", "bedroom", "bathroom", "toilet", "living", "dining", "hall", "office", "laundry", "storage",
    "outside", "other", "unknown",
)

# What a sensor watches. "motion_area" is a motion sensor over a room or area rather than an object.
OBJECT_KINDS: tuple[str, ...] = (
    "motion_area", "bed", "toilet", "shower_bath", "sink_tap", "stove", "microwave", "fridge", "cupboard",
    "front_door", "internal_door", "seat", "tv_media", "desk", "medicine", "light", "temperature", "appliance",
    "item", "other", "unknown",
)

# The state of an event as a home-independent sign: "on" = activation (ON, OPEN, PRESENT, 1), "off" = release.
STATE_SIGNS: tuple[str, ...] = ("on", "off", "other")
_ON_STATES = frozenset({"ON", "OPEN", "OPENED", "PRESENT", "1", "TRUE", "HOME", "DETECTED", "PLAYING"})
_OFF_STATES = frozenset({"OFF", "CLOSE", "CLOSED", "ABSENT", "0", "FALSE", "NOT_HOME", "CLEAR", "IDLE", "PAUSED"})

UNKNOWN = "unknown"


def state_sign(state: str) -> str:
    """The home-independent sign of a raw state: "on", "off" or "other"."""
    s = str(state).strip().upper()
    return "on" if s in _ON_STATES else "off" if s in _OFF_STATES else "other"


def check_room_type(value: str) -> bool:
    """Whether `value` is one of ROOM_TYPES."""
    return value in ROOM_TYPES


def check_kind(value: str) -> bool:
    """Whether `value` is one of OBJECT_KINDS."""
    return value in OBJECT_KINDS
