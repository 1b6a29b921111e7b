"""Floor plans from templates: rooms (role, name, room type, rectangle in metres) and the fixtures in them.

A template is a set of room slots on a unit square (some optional), scaled to a drawn size, mirrored and/or
turned. Room names vary the way real layouts do ("living_room", "LivingRoom", "lounge"), always with a plain
word the simulator and the taxonomy can read; room types come from `homeclip.data.taxonomy.ROOM_TYPES`.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

Rect = tuple[float, float, float, float]     # x0, y0, x1, y1


@dataclass(frozen=True)
class Slot:
    """A room of a template: its role, where it lies on the unit plan, and how likely it is."""

    role: str
    rect: Rect
    prob: float = 1.0
    alt: str | None = None        # a role it takes instead, half of the time (a spare room may be an office)


@dataclass(frozen=True)
class Template:
    """A kind of home: its size range in metres and its room slots."""

    name: str
    width: tuple[float, float]
    height: tuple[float, float]
    slots: tuple[Slot, ...]
    open_plan: bool = False       # rooms without doors between them (a studio)


TEMPLATES: dict[str, Template] = {t.name: t for t in (
    Template("studio", (5.5, 7.5), (5.0, 7.0), (
        Slot("entrance", (0.0, 0.0, 0.3, 0.3)),
        Slot("bathroom", (0.0, 0.3, 0.3, 0.62)),
        Slot("bedroom", (0.0, 0.62, 0.45, 1.0)),
        Slot("kitchen", (0.3, 0.0, 1.0, 0.35)),
        Slot("living", (0.45, 0.35, 1.0, 1.0)),
    ), open_plan=True),
    Template("flat_1bed", (7.0, 10.0), (6.0, 8.5), (
        Slot("entrance", (0.38, 0.0, 0.58, 0.25)),
        Slot("hall", (0.38, 0.25, 0.58, 0.6)),
        Slot("bathroom", (0.0, 0.0, 0.38, 0.32)),
        Slot("toilet", (0.0, 0.32, 0.2, 0.5), prob=0.4),
        Slot("bedroom", (0.0, 0.5, 0.38, 1.0)),
        Slot("kitchen", (0.58, 0.0, 1.0, 0.42)),
        Slot("living", (0.58, 0.42, 1.0, 1.0)),
        Slot("dining", (0.38, 0.6, 0.58, 1.0), prob=0.35),
    )),
    Template("flat_2bed", (9.0, 12.0), (7.0, 9.5), (
        Slot("entrance", (0.4, 0.0, 0.55, 0.2)),
        Slot("hall", (0.4, 0.2, 0.55, 1.0)),
        Slot("kitchen", (0.55, 0.0, 1.0, 0.38)),
        Slot("living", (0.55, 0.38, 1.0, 1.0)),
        Slot("guest_bedroom", (0.0, 0.0, 0.4, 0.35), alt="office"),
        Slot("bathroom", (0.0, 0.35, 0.25, 0.6)),
        Slot("second_bathroom", (0.25, 0.35, 0.4, 0.6), prob=0.75),
        Slot("bedroom", (0.0, 0.6, 0.4, 1.0)),
    )),
    Template("house", (11.0, 16.0), (9.0, 13.0), (
        Slot("entrance", (0.42, 0.0, 0.58, 0.18)),
        Slot("hall", (0.42, 0.18, 0.58, 0.68)),
        Slot("kitchen", (0.58, 0.0, 1.0, 0.32)),
        Slot("dining", (0.58, 0.32, 1.0, 0.55), prob=0.8),
        Slot("living", (0.58, 0.55, 1.0, 1.0)),
        Slot("office", (0.0, 0.0, 0.42, 0.22), prob=0.75),
        Slot("toilet", (0.0, 0.22, 0.18, 0.4)),
        Slot("laundry", (0.18, 0.22, 0.42, 0.4), prob=0.7),
        Slot("bathroom", (0.0, 0.4, 0.42, 0.68)),
        Slot("bedroom", (0.0, 0.68, 0.3, 1.0)),
        Slot("guest_bedroom", (0.3, 0.68, 0.58, 1.0), prob=0.8),
    )),
)}

# role -> (room type, snake-case names, the CamelCase name). The first names are the plain ones; every name
# keeps a word the place resolver knows, and the main bedroom/bathroom sort before the second ones.
ROLES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "entrance": ("hall", ("entrance", "entry", "front_hall"), "Entrance"),
    "hall": ("hall", ("hall", "hallway", "corridor"), "Hallway"),
    "kitchen": ("kitchen", ("kitchen",), "Kitchen"),
    "living": ("living", ("living_room", "lounge", "living"), "LivingRoom"),
    "dining": ("dining", ("dining_room", "dining"), "DiningRoom"),
    "bedroom": ("bedroom", ("bedroom", "master_bedroom"), "Bedroom"),
    "guest_bedroom": ("bedroom", ("guest_bedroom", "second_bedroom"), "GuestBedroom"),
    "bathroom": ("bathroom", ("bathroom", "master_bathroom"), "Bathroom"),
    "second_bathroom": ("bathroom", ("guest_bathroom", "second_bathroom"), "GuestBathroom"),
    "toilet": ("toilet", ("toilet", "guest_toilet"), "Toilet"),
    "office": ("office", ("office", "home_office"), "Office"),
    "laundry": ("laundry", ("laundry", "laundry_room"), "Laundry"),
}
PRIVATE_ROLES = ("bedroom", "guest_bedroom", "bathroom", "second_bathroom", "toilet", "office")


@dataclass(frozen=True)
class Room:
    """One room of a generated home."""

    role: str
    name: str
    room_type: str
    rect: Rect


@dataclass(frozen=True)
class FloorPlan:
    """A generated home's rooms and size."""

    template: str
    width: float
    height: float
    rooms: tuple[Room, ...]
    open_plan: bool

    def room(self, role: str) -> Room | None:
        """The room of a role, if the plan has one."""
        return next((r for r in self.rooms if r.role == role), None)


def draw_floorplan(rng: random.Random, template: str) -> FloorPlan:
    """Rooms of a template at a drawn size and orientation, with names in one of the naming habits."""
    t = TEMPLATES[template]
    width, height = round(rng.uniform(*t.width), 2), round(rng.uniform(*t.height), 2)
    flip_x, flip_y, turn = rng.random() < 0.5, rng.random() < 0.5, rng.random() < 0.5
    if turn:
        width, height = height, width
    camel = rng.random() < 0.3
    seen_names: set[str] = set()
    rooms = []
    for slot in t.slots:
        if slot.prob < 1.0 and rng.random() >= slot.prob:
            continue
        role = slot.alt if slot.alt and rng.random() < 0.5 else slot.role
        room_type, names, camel_name = ROLES[role]
        name = camel_name if camel else (names[0] if rng.random() < 0.6 else rng.choice(names))
        if name in seen_names:     # one name per room
            name = names[0] if camel else camel_name
        seen_names.add(name)
        rect = _orient(slot.rect, flip_x, flip_y, turn)
        rooms.append(Room(role, name, room_type,
                          (rect[0] * width, rect[1] * height, rect[2] * width, rect[3] * height)))
    return FloorPlan(template, width, height, tuple(rooms), t.open_plan)


def _orient(rect: Rect, flip_x: bool, flip_y: bool, turn: bool) -> Rect:
    """A unit-square rectangle mirrored and/or turned by a quarter."""
    x0, y0, x1, y1 = rect
    if flip_x:
        x0, x1 = 1.0 - x1, 1.0 - x0
    if flip_y:
        y0, y1 = 1.0 - y1, 1.0 - y0
    return (y0, x0, y1, x1) if turn else (x0, y0, x1, y1)


# ---------------------------------------------------------------- fixtures

@dataclass(frozen=True)
class Fixture:
    """A thing in a room that a sensor may watch."""

    key: str                      # e.g. "cups_cupboard"
    detail: str                   # the layout's words for it ("cups cupboard")
    kind: str                     # taxonomy object kind
    room: Room
    x: float
    y: float


# fixture key -> (detail, kind). Details are the plain words the simulator's uses and places read.
FIXTURE_KINDS: dict[str, tuple[str, str]] = {
    "bed": ("bed", "bed"), "wardrobe": ("wardrobe", "cupboard"),
    "stove": ("stove", "stove"), "fridge": ("fridge", "fridge"), "freezer": ("freezer", "fridge"),
    "sink": ("kitchen sink", "sink_tap"), "microwave": ("microwave", "microwave"),
    "toaster": ("toaster", "appliance"), "kettle": ("kettle", "appliance"), "dishwasher": ("dishwasher", "appliance"),
    "cups_cupboard": ("cups cupboard", "cupboard"), "plates_cupboard": ("plates cupboard", "cupboard"),
    "pans_cupboard": ("pans cupboard", "cupboard"), "groceries_cupboard": ("groceries cupboard", "cupboard"),
    "medicine": ("medicine cabinet", "medicine"), "dining_table": ("dining table", "motion_area"),
    "toilet": ("toilet", "toilet"), "basin": ("wash basin", "sink_tap"), "shower": ("shower", "shower_bath"),
    "bathtub": ("bathtub", "shower_bath"), "bathroom_cabinet": ("bathroom cabinet", "cupboard"),
    "sofa": ("sofa", "seat"), "armchair": ("armchair", "seat"), "tv": ("tv", "tv_media"), "desk": ("desk", "desk"),
    "washing_machine": ("washing machine", "appliance"), "dryer": ("tumble dryer", "appliance"),
}


def draw_fixtures(rng: random.Random, plan: FloorPlan) -> list[Fixture]:
    """The furniture and appliances of every room (some optional), at positions inside the room."""
    has = {r.role for r in plan.rooms}
    out: list[Fixture] = []

    def put(key: str, role: str, where: str = "wall", prob: float = 1.0) -> None:
        room = plan.room(role)
        if room is None or (prob < 1.0 and rng.random() >= prob):
            return
        x, y = _position(rng, room.rect, where)
        detail, kind = FIXTURE_KINDS[key]
        out.append(Fixture(key, detail, kind, room, x, y))

    for key in ("stove", "fridge", "sink", "cups_cupboard", "plates_cupboard"):
        put(key, "kitchen")
    for key, prob in (("pans_cupboard", 0.8), ("groceries_cupboard", 0.7), ("microwave", 0.8), ("toaster", 0.5),
                      ("kettle", 0.6), ("freezer", 0.4), ("dishwasher", 0.5)):
        put(key, "kitchen", prob=prob)
    put("washing_machine", "laundry" if "laundry" in has else "kitchen", prob=1.0 if "laundry" in has else 0.5)
    put("dryer", "laundry", prob=0.4)
    put("medicine", "kitchen" if rng.random() < 0.6 else "bathroom")
    put("dining_table", "dining" if "dining" in has else ("kitchen" if rng.random() < 0.5 else "living"), "centre")
    separate_toilet = "toilet" in has
    if not separate_toilet or rng.random() < 0.3:
        put("toilet", "bathroom")
    put("basin", "bathroom")
    put("bathtub" if rng.random() < 0.3 else "shower", "bathroom")
    put("bathroom_cabinet", "bathroom", prob=0.7)
    for key in ("toilet", "basin", "shower"):
        put(key, "second_bathroom")
    put("toilet", "toilet")
    put("basin", "toilet", prob=0.6)
    put("bed", "bedroom")
    put("wardrobe", "bedroom", prob=0.7)
    put("wardrobe", "guest_bedroom", prob=0.4)
    put("sofa", "living")
    put("armchair", "living", prob=0.6)
    put("tv", "living", prob=0.95)
    put("desk", "office" if "office" in has else ("bedroom" if rng.random() < 0.5 else "living"),
        prob=1.0 if "office" in has else 0.5)
    return out


def _position(rng: random.Random, rect: Rect, where: str) -> tuple[float, float]:
    """A point inside a room: by a wall (most furniture) or near the middle (a table)."""
    x0, y0, x1, y1 = rect
    inset = min(0.4, (x1 - x0) / 4, (y1 - y0) / 4)
    if where == "centre":
        return (round((x0 + x1) / 2 + rng.uniform(-0.15, 0.15) * (x1 - x0), 2),
                round((y0 + y1) / 2 + rng.uniform(-0.15, 0.15) * (y1 - y0), 2))
    along = rng.random()
    wall = rng.randrange(4)
    if wall == 0:
        return round(x0 + inset, 2), round(y0 + inset + along * (y1 - y0 - 2 * inset), 2)
    if wall == 1:
        return round(x1 - inset, 2), round(y0 + inset + along * (y1 - y0 - 2 * inset), 2)
    if wall == 2:
        return round(x0 + inset + along * (x1 - x0 - 2 * inset), 2), round(y0 + inset, 2)
    return round(x0 + inset + along * (x1 - x0 - 2 * inset), 2), round(y1 - inset, 2)


def door_position(room: Room, towards: tuple[float, float]) -> tuple[float, float]:
    """Where a room's door is: the middle of its wall that faces `towards` (the hall, or outside)."""
    x0, y0, x1, y1 = room.rect
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    walls = [(x0, cy), (x1, cy), (cx, y0), (cx, y1)]
    x, y = min(walls, key=lambda p: ((p[0] - towards[0]) ** 2 + (p[1] - towards[1]) ** 2, p))
    return round(x, 2), round(y, 2)
