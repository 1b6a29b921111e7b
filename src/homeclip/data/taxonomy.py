"""The shared event vocabulary: one fixed taxonomy of room types and object kinds for every home.

A sensor's room name ("master_bedroom", "LivingRoom", "Hall-Toilet") and id ("M019", "Fridge") belong to one
home; its room type ("bedroom") and object kind ("fridge") mean the same thing in every home. Encoders that
read these fields instead of sensor ids (`event_fields: semantic`) apply to homes they were never trained on.

The lists below are the contract: their order gives the fixed vocabulary ids of the semantic fields, so
appending is safe and reordering or removing breaks every saved semantic model. "unknown" is what a sensor
gets when neither the layout nor the inference rules can tell (never a guess).
"""
from __future__ import annotations

import re

# Where a sensor is. "hall" covers corridors, hallways, entrances, foyers and stairs.
ROOM_TYPES: tuple[str, ...] = (
    "kitchen", "bedroom", "bathroom", "toilet", "living", "dining", "hall", "office", "laundry", "storage",
    "outside", "other", "unknown",
)

# What a sensor watches. "motion_area" is a motion sensor over a room or area rather than an object.
# Appended later: "table" (a dining or kitchen table; a work table is a desk).
OBJECT_KINDS: tuple[str, ...] = (
    "motion_area", "bed", "toilet", "shower_bath", "sink_tap", "stove", "microwave", "fridge", "cupboard",
    "front_door", "internal_door", "seat", "tv_media", "desk", "medicine", "light", "temperature", "appliance",
    "item", "other", "unknown", "table",
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


# ------------------------------------------------------------------------------------------ inference
# Inference reads a sensor's room name, id and detail as words and prefers "unknown" to a guess. Words are
# split at CamelCase, digits, hyphens, underscores and spaces; run-together words ("Frontdoor",
# "Washingmachine") are split into known words.

# Room words -> room type, anywhere (room names, sensor ids, details).
_ROOM_WORDS = {
    "kitchen": ("kitchen", "kitchenette", "pantry"),
    "bedroom": ("bedroom", "bedrooms", "guestroom", "nursery"),
    "bathroom": ("bathroom", "bathrooms", "ensuite"),
    "toilet": ("wc", "lavatory", "loo", "restroom"),
    "living": ("living", "livingroom", "lounge", "den", "salon"),
    "dining": ("dining", "diningroom"),
    "hall": ("hall", "hallway", "corridor", "aisle", "passage", "entrance", "entry", "entryway", "foyer", "lobby",
             "vestibule", "stairs", "stair", "staircase", "stairway", "landing"),
    "office": ("office", "study", "workroom", "workspace", "workarea"),
    "laundry": ("laundry", "utility"),
    "storage": ("storage", "storeroom", "garage", "basement", "cellar", "attic", "shed"),
    "outside": ("outside", "outdoor", "outdoors", "garden", "yard", "backyard", "patio", "balcony", "terrace",
                "porch", "driveway"),
    "other": ("other", "otherroom"),
}
# Words that name an object in a sensor id or detail but a room in a layout's room name ("Toilet", "Bath").
_ROOM_NAME_ONLY = {"toilet": "toilet", "bath": "bathroom", "shower": "bathroom", "closet": "storage"}
_ROOM_PHRASES = {("sitting", "room"): "living", ("family", "room"): "living", ("tv", "room"): "living",
                 ("guest", "room"): "bedroom", ("work", "area"): "office", ("store", "room"): "storage",
                 ("toilet", "room"): "toilet", ("shower", "room"): "bathroom", ("outside", "door"): "hall",
                 ("front", "door"): "hall"}
# Objects that only a kitchen holds: a room cue when no room word is given ("Cups cupboard", "Fridge").
_KITCHEN_CUES = ("cups", "cup", "plates", "plate", "pans", "pan", "pots", "groceries", "cutlery", "dishes",
                 "dishwasher", "cooktop", "stove", "oven", "cooker", "hob", "microwave", "fridge", "freezer",
                 "refrigerator", "toaster", "kettle")
_KIND_ROOMS = {"bed": "bedroom", "shower_bath": "bathroom", "front_door": "hall"}

# Object words -> kind, in priority order: the first kind with a word in the sensor's words wins.
_OBJECT_WORDS = (
    ("medicine", ("medicine", "medicines", "meds", "med", "medication", "pill", "pills", "pillbox", "drugs")),
    ("toilet", ("toilet", "wc", "flush", "lavatory", "loo")),
    ("shower_bath", ("shower", "bath", "bathtub", "tub", "bathe")),
    ("sink_tap", ("sink", "basin", "washbasin", "tap", "taps", "faucet")),
    ("stove", ("stove", "cooker", "cooktop", "oven", "burner", "hob", "stovetop")),
    ("microwave", ("microwave",)),
    ("fridge", ("fridge", "refrigerator", "freezer", "icebox")),
    ("bed", ("bed", "beds", "mattress")),
    ("seat", ("seat", "sofa", "couch", "armchair", "chair", "recliner", "settee")),
    ("desk", ("desk", "workdesk", "computer", "workstation", "laptop")),
    ("table", ("table",)),
    ("tv_media", ("tv", "television", "media", "stereo", "radio", "hifi")),
    ("cupboard", ("cupboard", "cupboards", "cabinet", "cabinets", "closet", "pantry", "drawer", "drawers",
                  "wardrobe", "shelf", "larder")),
    ("appliance", ("dishwasher", "washingmachine", "washer", "dryer", "toaster", "kettle", "coffeemaker", "iron",
                   "vacuum", "hairdryer", "blender", "appliance")),
    ("item", ("item", "items", "object", "objects")),
)
_OBJECT_PHRASES = {("hot", "water"): "sink_tap", ("cold", "water"): "sink_tap", ("work", "table"): "desk",
                   ("washing", "machine"): "appliance", ("coffee", "machine"): "appliance"}
# Kinds a door contact can sit on: "fridge door" is the fridge, while "toilet door" is a door into a room.
_CONTAINERS = frozenset({"medicine", "stove", "microwave", "fridge", "cupboard", "appliance", "tv_media"})
_DOOR_WORDS = frozenset({"door", "doors", "gate"})
# A door to the outside: one of these words anywhere, or one of the next right before "door" ("main door").
_EXTERIOR_WORDS = frozenset({"front", "entrance", "entry", "outside", "outdoor", "exterior", "garage", "patio",
                             "exit", "porch", "garden", "balcony", "terrace", "yard"})
_EXTERIOR_BEFORE_DOOR = frozenset({"main", "back", "house", "street", "outer"})
_INTERIOR_WORDS = frozenset({"internal", "interior", "inside", "inner"})
_CLAUSE_BREAKS = frozenset({"in", "near", "by", "of", "at", "on", "next", "to", "between", "off", "facing",
                            "toward", "towards", "from", "beside", "behind", "under", "above", "with"})

# Sensor type words, in priority order ("Door_PIR_Kitchen" is a motion sensor by a door).
_TYPE_WORDS = (
    ("motion", ("pir", "motion", "movement", "presence", "occupancy")),
    ("temperature", ("temperature", "temp", "thermometer", "thermostat")),
    ("light", ("light", "lamp", "lux", "illuminance", "luminance")),
    ("battery", ("battery",)),
    ("pressure", ("pressure", "mat")),
    ("flow", ("flush", "flow", "float")),
    ("electric", ("electric", "electricity", "plug", "socket")),
    ("power", ("power", "energy")),
    ("door", ("magnetic", "contact", "reed", "door", "doors", "gate")),
    ("item", ("item",)),
)
# The CASAS naming convention: a short letter prefix and a number (M001, D01, MA012, LS003, AD1-A).
_CASAS_SHAPE = re.compile(r"([A-Za-z]{1,4})(\d+)(?:[-_.][A-Za-z0-9]+)?")
_CASAS_PREFIXES = {"M": "motion", "MA": "motion", "D": "door", "T": "temperature", "L": "light", "LS": "light",
                   "LL": "light", "I": "item", "P": "power", "E": "electric", "F": "flow", "B": "battery",
                   "BAT": "battery", "BATP": "battery", "BATV": "battery", "A": "analog", "AD": "analog"}
_TYPE_KINDS = {"temperature": "temperature", "light": "light", "battery": "other"}
_NOT_A_ROOM = frozenset({"", "unknown", "unk", "ignore", "none", "nan", "null", "n/a"})

_SPLIT = re.compile(r"[^A-Za-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")


def _known_words() -> frozenset[str]:
    words = {w for group in _ROOM_WORDS.values() for w in group} | set(_ROOM_NAME_ONLY) | set(_KITCHEN_CUES)
    words |= {w for _, group in _OBJECT_WORDS for w in group} | {w for _, group in _TYPE_WORDS for w in group}
    words |= {w for phrase in (*_ROOM_PHRASES, *_OBJECT_PHRASES) for w in phrase}
    return frozenset(words | _DOOR_WORDS | _EXTERIOR_WORDS | _EXTERIOR_BEFORE_DOOR | _INTERIOR_WORDS | {"room", "area"})


_KNOWN = _known_words()


def _segment(word: str) -> list[str]:
    """A run-together lowercase word split into known words ("frontdoor" -> front, door), else itself."""
    if word in _KNOWN or len(word) < 5 or not word.isalpha():
        return [word]
    best: list[list[str] | None] = [[]] + [None] * len(word)   # best[i]: fewest known words covering word[:i]
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 16), end - 1):
            head = best[start]
            if head is not None and word[start:end] in _KNOWN and (best[end] is None or len(head) + 1 < len(best[end])):
                best[end] = head + [word[start:end]]
    return best[-1] or [word]


def words(text: str) -> list[str]:
    """Lowercase words of a name or detail: 'Hall-Bedroom door' -> hall, bedroom, door; 'ToiletFlush' ->
    toilet, flush; 'Frontdoor' -> front, door; 'M001' -> m, 001."""
    out: list[str] = []
    for part in _SPLIT.split(str(text)):
        for piece in _CAMEL.split(part):
            if piece:
                out.extend(_segment(piece.lower()))
    return out


def _clauses(ws: list[str]) -> list[list[str]]:
    """The words before the first preposition ("bed" of "bed in master bedroom"), then the rest."""
    cut = next((i for i, w in enumerate(ws) if w in _CLAUSE_BREAKS and i > 0), len(ws))
    return [ws[:cut], ws[cut:]] if cut < len(ws) else [ws]


def _room_of_words(ws: list[str], extra: dict[str, str]) -> str:
    for clause in _clauses(ws):
        for a, b in zip(clause, clause[1:]):
            if (a, b) in _ROOM_PHRASES:
                return _ROOM_PHRASES[a, b]
        for w in clause:
            for room, group in _ROOM_WORDS.items():
                if w in group:
                    return room
            if w in extra:
                return extra[w]
    return UNKNOWN


def _kind_of_words(ws: list[str]) -> str:
    for clause in _clauses(ws):
        for a, b in zip(clause, clause[1:]):
            if (a, b) in _OBJECT_PHRASES:
                return _OBJECT_PHRASES[a, b]
        present = set(clause)
        for kind, group in _OBJECT_WORDS:
            if present.intersection(group):
                return kind
    return UNKNOWN


def infer_sensor_type(name: str, detail: str = "") -> str:
    """Sensor type from its id and detail: the CASAS prefix convention (M001, D01), else type words
    ("Basin_PIR_Bathroom" -> motion, "Frontdoor" -> door); "other" when nothing says."""
    shape = _CASAS_SHAPE.fullmatch(str(name).strip())
    if shape and shape.group(1).upper() in _CASAS_PREFIXES:
        return _CASAS_PREFIXES[shape.group(1).upper()]
    present = set(words(name)) | set(words(detail))
    return next((typ for typ, group in _TYPE_WORDS if present.intersection(group)), "other")


def infer_kind(sensor_type: str, name: str = "", detail: str = "") -> str:
    """Object kind from sensor type, detail and id ("Cups cupboard" -> cupboard, "Hall-Bedroom door" ->
    internal_door, "Door_PIR_Kitchen" -> motion_area); "unknown" when nothing says."""
    ws = words(detail) + words(name)
    if sensor_type in _TYPE_KINDS:
        return _TYPE_KINDS[sensor_type]
    if sensor_type == "other":
        typed = infer_sensor_type("", " ".join(ws))
        if typed in _TYPE_KINDS:
            return _TYPE_KINDS[typed]
    motion = sensor_type == "motion"
    door = not motion and bool(_DOOR_WORDS.intersection(ws))
    kind = _kind_of_words(ws)
    if kind != UNKNOWN and (not door or kind in _CONTAINERS):
        return kind
    if door:
        if _EXTERIOR_WORDS.intersection(ws) or any(a in _EXTERIOR_BEFORE_DOOR and b in _DOOR_WORDS
                                                   for a, b in zip(ws, ws[1:])):
            return "front_door"
        if kind != UNKNOWN or _INTERIOR_WORDS.intersection(ws) or _room_of_words(ws, _ROOM_NAME_ONLY) != UNKNOWN:
            return "internal_door"      # a door between named rooms ("Hall-Toilet door", "bedroom door")
        return UNKNOWN
    return {"motion": "motion_area", "item": "item"}.get(sensor_type, UNKNOWN)


def infer_room_type(room: str = "", name: str = "", detail: str = "", kind: str = UNKNOWN) -> str:
    """Room type from a layout room name, else room words in the detail or id ("Basin_PIR_Bathroom" ->
    bathroom, "Hall-Toilet door" -> hall), else what the object implies (a fridge -> kitchen); else "unknown"."""
    if str(room).strip().lower() not in _NOT_A_ROOM:
        found = _room_of_words(words(room), _ROOM_NAME_ONLY)
        if found != UNKNOWN:
            return found
    ws = words(detail) + words(name)
    found = _room_of_words(ws, {})
    if found != UNKNOWN:
        return found
    if set(ws).intersection(_KITCHEN_CUES):
        return "kitchen"
    return _KIND_ROOMS.get(kind, UNKNOWN)
