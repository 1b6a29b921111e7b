"""Sensor sets of generated homes: the *sensor styles* of real deployments, the *naming styles* real homes use,
and how sensors report (`Reporting`).

Sensor styles:
  casas_dense   several ceiling motion sensors per room, spot sensors by the bed/stove/sofa/desk/table,
                entrance door contacts (CASAS Milan, Aruba, Kyoto), a few temperature sensors
  sparse_area   one motion sensor per room and the front door (CASAS AL-Smarthome)
  object_only   contacts on cupboards, fridge, freezer, microwave, dishwasher, washing machine, inner doors,
                the front door, and the toilet flush; NO motion (van Kasteren house A)
  mixed         bed/seat pressure mats, basin/shower/cooktop PIRs, fridge/cupboard/cabinet contacts, toilet
                flush, microwave/toaster power, main door; PIRs hold ON while someone is there (UCI Ordonez A)
Naming styles: casas (M001, D002), location (KitchenFridge), ordonez (Fridge_Magnetic_Kitchen), free
(cups-cupboard, toiletflush) and opaque (s07): a sensor's name may say everything or nothing.

Every sensor has a room type and an object kind from `homeclip.data.taxonomy`.
"""
from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass

from .engine import Reporting
from .floorplans import PRIVATE_ROLES, Fixture, FloorPlan, Room, door_position

SENSOR_STYLES = ("casas_dense", "sparse_area", "object_only", "mixed")
NAMING_STYLES = ("casas", "location", "ordonez", "free", "opaque")
_NATIVE_NAMING = {"casas_dense": "casas", "sparse_area": "location", "object_only": "free", "mixed": "ordonez"}


@dataclass(frozen=True)
class SensorSpec:
    """One sensor before it has a name."""

    type: str                     # layout sensor type (homeclip.data.homes.SENSOR_TYPES)
    kind: str                     # taxonomy object kind
    room: Room
    x: float
    y: float
    detail: str
    label: str                    # short words for names: "fridge", "toilet flush", "kitchen"


def draw_sensors(rng: random.Random, plan: FloorPlan, fixtures: list[Fixture], style: str) -> list[SensorSpec]:
    """The sensors of one home in one sensor style (densities and optional sensors drawn per home)."""
    out: list[SensorSpec] = []
    by_key: dict[str, list[Fixture]] = {}
    for f in fixtures:
        by_key.setdefault(f.key, []).append(f)

    def at(f: Fixture, typ: str, kind: str | None = None, detail: str | None = None) -> None:
        out.append(SensorSpec(typ, kind or f.kind, f.room, f.x, f.y, detail or f.detail, detail or f.detail))

    def each(keys: tuple[str, ...], typ: str, prob: float = 1.0, kind: str | None = None) -> None:
        for key in keys:
            for f in by_key.get(key, ()):
                if prob >= 1.0 or rng.random() < prob:
                    at(f, typ, kind)

    if style == "casas_dense":
        cell = rng.uniform(3.5, 7.5)                      # square metres one ceiling sensor covers
        for room in plan.rooms:
            out.extend(_motion_grid(rng, room, cell))
        for key, prob in (("bed", 0.9), ("stove", 0.85), ("sofa", 0.8), ("armchair", 0.6), ("desk", 0.85),
                          ("dining_table", 0.8), ("medicine", 0.5), ("fridge", 0.4), ("toilet", 0.3),
                          ("shower", 0.3), ("basin", 0.2)):
            each((key,), "motion", prob)
        each(("washing_machine",), "motion")              # the laundry is found by its machine
        _doors(rng, plan, out, prob=0.25)
        each(("medicine",), "item", 0.2)
        each(("stove",), "power", 0.2)
        each(("shower", "bathtub"), "flow", 0.15)
        _temperatures(rng, plan, out, rng.randint(0, 3))
    elif style == "sparse_area":
        for room in plan.rooms:
            if room.role in ("hall", "guest_bedroom", "second_bathroom") and rng.random() < 0.4:
                continue
            out.append(_motion(rng, room, room.rect, 0.15))
        each(("armchair",) if "armchair" in by_key else ("sofa",), "motion", 0.5)
        each(("desk",), "motion", 0.3)
        _doors(rng, plan, out, prob=0.1)
        _temperatures(rng, plan, out, 1 if rng.random() < 0.3 else 0)
    elif style == "object_only":
        each(("fridge",), "door")
        each(("freezer", "microwave", "dishwasher", "washing_machine"), "door", 0.9)
        each(("cups_cupboard", "plates_cupboard", "pans_cupboard", "groceries_cupboard"), "door", 0.75)
        each(("bathroom_cabinet",), "door", 0.4)
        each(("medicine",), "door", 0.5)
        each(("wardrobe",), "door", 0.3)
        each(("toilet",), "flow")
        each(("shower", "bathtub"), "flow", 0.3)
        _doors(rng, plan, out, prob=0.85, must=("bedroom",))
    elif style == "mixed":
        each(("bed",), "pressure")
        each(("sofa",), "pressure")
        each(("armchair",), "pressure", 0.3)
        for f in by_key.get("basin", ())[:1]:
            at(f, "motion")
        each(("shower", "bathtub"), "motion")
        for f in by_key.get("stove", ()):
            at(f, "motion", detail="cooktop")
        each(("fridge",), "door")
        for f in rng.sample(by_key.get("cups_cupboard", []) + by_key.get("plates_cupboard", []), 1):
            at(f, "door", detail="kitchen cupboard")
        each(("bathroom_cabinet",), "door", 0.8)
        each(("toilet",), "flow")
        each(("microwave",), "electric", 0.9)
        each(("toaster", "kettle"), "electric", 0.8)
        each(("tv",), "power", 0.4)
    else:
        raise ValueError(f"unknown sensor style {style!r}")
    entrance = plan.room("entrance") or plan.rooms[0]
    x, y = door_position(entrance, _outside(plan, entrance))
    detail = "main door" if style == "mixed" else "front door"
    out.append(SensorSpec("door", "front_door", entrance, x, y, detail, detail))
    return out


def draw_reporting(rng: random.Random, style: str) -> Reporting:
    """How the home's sensors write states: PIR pulses or holds, contacts OPEN/CLOSE or ON/OFF."""
    if style == "mixed":
        hold = round(rng.uniform(20.0, 120.0), 1)
    elif style == "sparse_area" and rng.random() < 0.3:
        hold = round(rng.uniform(20.0, 60.0), 1)
    else:
        hold = 0.0
    on_off = {"casas_dense": 0.15, "sparse_area": 0.2, "object_only": 0.5, "mixed": 0.8}[style]
    return Reporting(motion_hold=hold, contact_states=("ON", "OFF") if rng.random() < on_off else ("OPEN", "CLOSE"))


def _motion(rng: random.Random, room: Room, rect: tuple[float, float, float, float], jitter: float) -> SensorSpec:
    x0, y0, x1, y1 = rect
    x = (x0 + x1) / 2 + rng.uniform(-jitter, jitter) * (x1 - x0)
    y = (y0 + y1) / 2 + rng.uniform(-jitter, jitter) * (y1 - y0)
    words = _room_words(room)
    return SensorSpec("motion", "motion_area", room, round(x, 2), round(y, 2), words, words)


def _motion_grid(rng: random.Random, room: Room, cell: float) -> list[SensorSpec]:
    """Ceiling motion sensors on a jittered grid, about one per `cell` square metres."""
    x0, y0, x1, y1 = room.rect
    w, h = x1 - x0, y1 - y0
    n = max(1, round(w * h / cell))
    nx = max(1, round(math.sqrt(n * w / h)))
    ny = max(1, math.ceil(n / nx))
    out = []
    for i in range(nx):
        for j in range(ny):
            if len(out) < n:
                cellrect = (x0 + i * w / nx, y0 + j * h / ny, x0 + (i + 1) * w / nx, y0 + (j + 1) * h / ny)
                out.append(_motion(rng, room, cellrect, 0.2))
    return out


def _doors(rng: random.Random, plan: FloorPlan, out: list[SensorSpec], prob: float,
           must: tuple[str, ...] = ()) -> None:
    """Contacts on the doors of private rooms (the open-plan studio has only the bathroom door)."""
    hall = plan.room("hall") or plan.room("entrance") or plan.rooms[0]
    towards = ((hall.rect[0] + hall.rect[2]) / 2, (hall.rect[1] + hall.rect[3]) / 2)
    for room in plan.rooms:
        if room.role not in PRIVATE_ROLES or (plan.open_plan and room.room_type != "bathroom"):
            continue
        if room.role in must or rng.random() < prob:
            x, y = door_position(room, towards)
            words = f"{_room_words(room)} door"
            out.append(SensorSpec("door", "internal_door", room, x, y, words, f"hall {words}"))


def _temperatures(rng: random.Random, plan: FloorPlan, out: list[SensorSpec], n: int) -> None:
    for room in rng.sample(list(plan.rooms), min(n, len(plan.rooms))):
        x0, y0, x1, y1 = room.rect
        words = f"{_room_words(room)} temperature"
        out.append(SensorSpec("temperature", "temperature", room, round(rng.uniform(x0, x1), 2),
                              round(rng.uniform(y0, y1), 2), words, words))


def _outside(plan: FloorPlan, room: Room) -> tuple[float, float]:
    """The nearest point outside the plan from a room's middle (where its front door faces)."""
    cx, cy = (room.rect[0] + room.rect[2]) / 2, (room.rect[1] + room.rect[3]) / 2
    return min(((cx, -1.0), (cx, plan.height + 1.0), (-1.0, cy), (plan.width + 1.0, cy)),
               key=lambda p: abs(p[0] - cx) + abs(p[1] - cy))


def _room_words(room: Room) -> str:
    """A room name as plain words: "LivingRoom" -> "living room", "guest_bathroom" -> "guest bathroom"."""
    return " ".join(re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", room.name.replace("_", " "))).lower()


# ---------------------------------------------------------------- names

_CASAS_LETTER = {"motion": "M", "door": "D", "temperature": "T", "item": "I", "pressure": "P", "power": "E",
                 "electric": "E", "flow": "F"}
_ORDONEZ_TYPE = {"motion": "PIR", "door": "Magnetic", "temperature": "Temp", "item": "Tag", "pressure": "Pressure",
                 "power": "Electric", "electric": "Electric", "flow": "Flush"}


def draw_naming(rng: random.Random, style: str) -> str:
    """A naming style: half of the homes name sensors the way their sensor style's real home does."""
    return _NATIVE_NAMING[style] if rng.random() < 0.5 else rng.choice(NAMING_STYLES)


def name_sensors(rng: random.Random, specs: list[SensorSpec], naming: str) -> list[str]:
    """Unique names without spaces for the sensors, in one naming style."""
    if naming == "casas":
        width = 3 if rng.random() < 0.7 else 2
        order = sorted(range(len(specs)), key=lambda i: (specs[i].room.rect[1], specs[i].room.rect[0],
                                                         specs[i].y, specs[i].x, i))
        counts: dict[str, int] = {}
        names = [""] * len(specs)
        for i in order:
            letter = _CASAS_LETTER[specs[i].type]
            counts[letter] = counts.get(letter, 0) + 1
            names[i] = f"{letter}{counts[letter]:0{width}d}"
        return names
    if naming == "opaque":
        prefix, width = rng.choice((("s", 2), ("sensor_", 2), ("node", 3), ("dev", 2)))
        ids = rng.sample(range(1, 10 ** width), len(specs))
        return [f"{prefix}{n:0{width}d}" for n in ids]
    sep = rng.choice(("-", "_", "")) if naming == "free" else ""
    raw = [_styled_name(s, naming, sep) for s in specs]
    return _unique(raw, "_" if naming == "ordonez" else sep)


def _styled_name(s: SensorSpec, naming: str, sep: str) -> str:
    words = s.label.split()
    room = _room_words(s.room).split()
    camel = "".join(w.capitalize() for w in words)
    if naming == "location":
        if s.kind == "motion_area":
            return "".join(w.capitalize() for w in room)
        if s.type == "motion":
            return camel + "Area"
        if s.kind in ("front_door", "internal_door") or words[:len(room)] == room:
            return camel                                      # "FrontDoor", "KitchenTemperature"
        return "".join(w.capitalize() for w in room) + camel
    if naming == "ordonez":
        thing = {"motion_area": "Area", "front_door": "Maindoor", "internal_door": "Door",
                 "temperature": "Temp"}.get(s.kind, words[-1].capitalize() if s.kind == "cupboard" else camel)
        return f"{thing}_{_ORDONEZ_TYPE[s.type]}_{''.join(w.capitalize() for w in room)}"
    # free: lower-case words joined by the home's separator; motion sensors say they are one
    if s.type == "motion":
        words = ["pir", *room] if s.kind == "motion_area" else ["pir", *words]
    elif s.kind == "front_door":
        words = ["frontdoor"] if sep == "" else ["front", "door"]
    return sep.join(words)


def _unique(names: list[str], sep: str) -> list[str]:
    """Number repeated names (Kitchen1, Kitchen2) and leave single ones alone."""
    repeated = {n for n in names if names.count(n) > 1}
    taken = set(names) - repeated
    out = []
    for n in names:
        if n in repeated:
            i = 1
            while f"{n}{sep}{i}" in taken:
                i += 1
            n = f"{n}{sep}{i}"
        taken.add(n)
        out.append(n)
    return out
