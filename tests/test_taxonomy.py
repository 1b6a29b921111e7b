"""The fixed taxonomy and its inference from sensor names and details: real names from the shared data headers
and CASAS translate files (skipped when absent), and names no packaged home uses."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from homeclip.data.taxonomy import (OBJECT_KINDS, ROOM_TYPES, STATE_SIGNS, infer_kind, infer_room_type,
                                    infer_sensor_type, state_sign, words)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
TRANSLATE = SHARED / "casas" / "metadata" / "discover-v2" / "location_metadata"


def annotate(name: str, detail: str = "", room: str = "") -> tuple[str, str, str]:
    """(type, room type, kind) as a home without a layout entry would infer them."""
    typ = infer_sensor_type(name, detail)
    kind = infer_kind(typ, name, detail)
    return typ, infer_room_type(room, name, detail, kind), kind


def test_the_lists_keep_their_fixed_order():
    # the order is the vocabulary id of every saved semantic model: only appending is allowed
    assert ROOM_TYPES[:13] == ("kitchen", "bedroom", "bathroom", "toilet", "living", "dining", "hall", "office",
                               "laundry", "storage", "outside", "other", "unknown")
    assert OBJECT_KINDS[:21] == (
        "motion_area", "bed", "toilet", "shower_bath", "sink_tap", "stove", "microwave", "fridge", "cupboard",
        "front_door", "internal_door", "seat", "tv_media", "desk", "medicine", "light", "temperature", "appliance",
        "item", "other", "unknown")
    assert OBJECT_KINDS[21:] == ("table",) and STATE_SIGNS == ("on", "off", "other")
    assert len(set(ROOM_TYPES)) == len(ROOM_TYPES) and len(set(OBJECT_KINDS)) == len(OBJECT_KINDS)


@pytest.mark.parametrize("text, expected", [
    ("Hall-Bedroom door", ["hall", "bedroom", "door"]), ("ToiletFlush", ["toilet", "flush"]),
    ("Frontdoor", ["front", "door"]), ("Washingmachine", ["washingmachine"]), ("TVArea", ["tv", "area"]),
    ("Basin_PIR_Bathroom", ["basin", "pir", "bathroom"]), ("M001", ["m", "001"]), ("MedCabinet", ["med", "cabinet"]),
    ("kitchenfridgedoor", ["kitchen", "fridge", "door"]), ("Zebra", ["zebra"]), ("", [])])
def test_words_split_camel_case_separators_and_run_together_words(text, expected):
    assert words(text) == expected


@pytest.mark.parametrize("name, expected", [
    # the CASAS letter+number convention
    ("M001", "motion"), ("M01", "motion"), ("MA012", "motion"), ("D01", "door"), ("D002", "door"),
    ("T005", "temperature"), ("LS003", "light"), ("L01", "light"), ("I06", "item"), ("P001", "power"),
    ("E002", "electric"), ("F02", "flow"), ("BATV011", "battery"), ("AD1-A", "analog"),
    # words, the motion word winning over a door word
    ("Door_PIR_Kitchen", "motion"), ("bathroom_pir", "motion"), ("front_door_contact", "door"),
    ("Fridge_Magnetic_Kitchen", "door"), ("Bed_Pressure_Bedroom", "pressure"), ("ToiletFlush", "flow"),
    ("Microwave_Electric_Kitchen", "electric"), ("KitchenTemp", "temperature"), ("Frontdoor", "door"),
    # nothing says: "other", never a guess from the first letter
    ("Desk1", "other"), ("Dishwasher", "other"), ("Fridge", "other"), ("Bathroom", "other"), ("Z1", "other")])
def test_sensor_type_inference(name, expected):
    assert infer_sensor_type(name) == expected


# Names no packaged layout uses: inference must work on homes it has never seen.
UNSEEN = [
    ("KitchenFridgeDoor", "door", "kitchen", "fridge"),
    ("bathroom_pir", "motion", "bathroom", "motion_area"),
    ("front_door_contact", "door", "hall", "front_door"),
    ("Door_PIR_Kitchen", "motion", "kitchen", "motion_area"),          # a PIR near a door, not a door
    ("LivingRoomSofaPressure", "pressure", "living", "seat"),
    ("bedroom-door", "door", "bedroom", "internal_door"),
    ("Garage_Door_Contact", "door", "storage", "front_door"),
    ("OfficeDeskPIR", "motion", "office", "desk"),
    ("hallway_motion_2", "motion", "hall", "motion_area"),
    ("ensuite_shower_flow", "flow", "bathroom", "shower_bath"),
    ("Medicine_Cabinet_Door", "door", "unknown", "medicine"),
    ("Kettle_Power", "power", "kitchen", "appliance"),
    ("LaundryRoomWasher", "other", "laundry", "appliance"),
    ("garden_pir", "motion", "outside", "motion_area"),
    ("Door_Magnetic_Entrance", "door", "hall", "front_door"),
    ("Stairs_PIR", "motion", "hall", "motion_area"),
    ("door_7", "door", "unknown", "unknown"),                          # which door? unknown, not a guess
    ("Sensor42", "other", "unknown", "unknown"),
]


@pytest.mark.parametrize("name, typ, room_type, kind", UNSEEN, ids=[u[0] for u in UNSEEN])
def test_unseen_names(name, typ, room_type, kind):
    assert annotate(name) == (typ, room_type, kind)


@pytest.mark.parametrize("sensor_type, name, detail, expected", [
    ("door", "D003", "garage door in kitchen", "front_door"),       # a door to the outside
    ("door", "D002", "inner entrance door", "front_door"),
    ("door", "D03", "bedroom door", "internal_door"),
    ("door", "D12", "closet in entrance", "cupboard"),               # a contact on a closet is the closet
    ("door", "D13", "TV in living room", "tv_media"),
    ("door", "x", "Hall-Toilet door", "internal_door"),             # the toilet names the room behind the door
    ("motion", "M015", "fridge", "fridge"), ("motion", "M021", "bed in master bedroom", "bed"),
    ("motion", "M014", "medicine and pill cabinet in kitchen", "medicine"),
    ("motion", "M009", "couch left seat", "seat"), ("motion", "M015", "dining table area by the sink", "table"),
    ("motion", "W", "work table", "desk"), ("motion", "M016", "kitchen back door", "motion_area"),
    ("motion", "M007", "path from the sleeping area to the bathroom", "motion_area"),
    ("temperature", "T001", "kitchen temperature", "temperature"), ("light", "L01", "bedroom lamp", "light"),
    ("battery", "BATP1", "", "other"), ("analog", "AD1-B", "hot water tap", "sink_tap"),
    ("pressure", "P", "", "unknown"), ("item", "I01", "kitchen item", "item")])
def test_kind_from_type_and_detail(sensor_type, name, detail, expected):
    assert infer_kind(sensor_type, name, detail) == expected


@pytest.mark.parametrize("room, expected", [
    ("master_bedroom", "bedroom"), ("LivingRoom", "living"), ("aisle_near_kitchen", "hall"), ("bedroom_1", "bedroom"),
    ("work_area", "office"), ("house_entrance", "hall"), ("OutsideDoor", "hall"), ("GuestRoom", "bedroom"),
    ("Toilet", "toilet"), ("Bath", "bathroom"), ("garage", "storage"), ("OtherRoom", "other"), ("stairs", "hall"),
    ("laundry", "laundry"), ("patio", "outside"), ("Ignore", "unknown"), ("unknown", "unknown"), ("zone_b", "unknown")])
def test_room_type_from_a_room_name(room, expected):
    assert infer_room_type(room) == expected


def test_room_name_wins_then_detail_then_the_object():
    assert infer_room_type("kitchen", "M1", "bed") == "kitchen"
    assert infer_room_type("", "X", "sink in kitchen") == "kitchen"
    assert infer_room_type("", "Fridge", "", "fridge") == "kitchen"
    assert infer_room_type("", "ToiletFlush", "", "toilet") == "unknown"     # a toilet may be in a bathroom


@pytest.mark.parametrize("state, sign", [("ON", "on"), ("open", "on"), ("PRESENT", "on"), ("1", "on"),
                                         ("OFF", "off"), ("CLOSE", "off"), ("ABSENT", "off"), ("21.5", "other")])
def test_state_sign(state, sign):
    assert state_sign(state) == sign


# ------------------------------------------------------------------ real names from the shared data

# The sensor names of van Kasteren house A, as the interval reader names them (whitespace runs -> "_").
KASTEREN = {
    "Microwave": ("kitchen", "microwave"), "Hall-Toilet_door": ("hall", "internal_door"),
    "Hall-Bathroom_door": ("hall", "internal_door"), "Cups_cupboard": ("kitchen", "cupboard"),
    "Fridge": ("kitchen", "fridge"), "Plates_cupboard": ("kitchen", "cupboard"), "Frontdoor": ("hall", "front_door"),
    "Dishwasher": ("kitchen", "appliance"), "ToiletFlush": ("unknown", "toilet"), "Freezer": ("kitchen", "fridge"),
    "Pans_Cupboard": ("kitchen", "cupboard"), "Washingmachine": ("unknown", "appliance"),
    "Groceries_Cupboard": ("kitchen", "cupboard"), "Hall-Bedroom_door": ("hall", "internal_door"),
}
ORDONEZ_KINDS = {"Basin": "sink_tap", "Bed": "bed", "Cabinet": "cupboard", "Cooktop": "stove", "Cupboard": "cupboard",
                 "Fridge": "fridge", "Maindoor": "front_door", "Microwave": "microwave", "Seat": "seat",
                 "Shower": "shower_bath", "Toaster": "appliance", "Toilet": "toilet"}
ORDONEZ_TYPES = {"PIR": "motion", "Magnetic": "door", "Pressure": "pressure", "Flush": "flow", "Electric": "electric"}
ORDONEZ_ROOMS = {"Bathroom": "bathroom", "Bedroom": "bedroom", "Kitchen": "kitchen", "Living": "living",
                 "Entrance": "hall"}


def _shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not found: {path}")
    return path


@pytest.mark.real_data
def test_van_kasteren_header_names():
    header = _shared("kasteren", "kasterenSenseData.txt").read_text(encoding="latin-1")
    names = [re.sub(r"\s+", "_", n.strip()) for n in re.findall(r"\[\s*\d+\]\s*'([^']+)'", header)]
    assert sorted(names) == sorted(KASTEREN)
    for name in names:
        _, room_type, kind = annotate(name)
        assert (room_type, kind) == KASTEREN[name], name


@pytest.mark.real_data
def test_ordonez_location_type_place_names():
    lines = _shared("ordonez", "OrdonezA_Sensors.txt").read_text(encoding="latin-1").splitlines()[2:]
    triples = {tuple(f.strip() for f in line.split("\t") if f.strip())[2:5] for line in lines if line.strip()}
    assert len(triples) == 12
    for location, typ, place in triples:
        name = f"{location}_{typ}_{place}"                # the interval reader's sensor name
        assert annotate(name) == (ORDONEZ_TYPES[typ], ORDONEZ_ROOMS[place], ORDONEZ_KINDS[location]), name


@pytest.mark.real_data
def test_al_smarthome_location_names():
    expected = {"Bathroom": "bathroom", "Bedroom": "bedroom", "Kitchen": "kitchen", "LivingRoom": "living",
                "LoungeChair": "living", "OutsideDoor": "hall", "WorkArea": "office"}
    path = _shared("casas", "al_smarthome", "data.txt")
    with path.open(encoding="utf-8") as fh:
        names = {line.split()[2] for _, line in zip(range(20000), fh) if len(line.split()) >= 4}
    assert names <= set(expected) and len(names) >= 5
    for name in names:
        assert annotate(name)[1] == expected[name], name
    assert annotate("OutsideDoor")[::2] == ("door", "front_door") and annotate("LoungeChair")[2] == "seat"


# Translate details whose kind is certain (an area detail such as "Kitchen" on a motion sensor is motion_area).
DETAIL_KINDS = {"Bed": "bed", "Couch": "seat", "Chair": "seat", "LoungeChair": "seat", "Sink": "sink_tap", "Stove": "stove",
                "Refrigerator": "fridge", "Microwave": "microwave", "Desk": "desk", "TV": "tv_media", "Toilet": "toilet",
                "Bath": "shower_bath", "MedCabinet": "medicine", "KitchenCabinet": "cupboard", "Pantry": "cupboard",
                "Closet": "cupboard", "ClosetDoor": "cupboard", "FrontDoor": "front_door", "BackDoor": "front_door",
                "GarageDoor": "front_door", "BathroomDoor": "internal_door", "BedroomDoor": "internal_door"}
TYPE_KINDS = {"temperature": "temperature", "light": "light", "battery": "other", "motion": "motion_area"}


@pytest.mark.real_data
def test_casas_translate_files():
    files = sorted(_shared("casas", "metadata", "discover-v2", "location_metadata").glob("*.translate"))
    assert len(files) >= 30
    checked = 0
    for path in files:
        for line in path.read_text(encoding="latin-1").splitlines():
            fields = line.split()
            if len(fields) != 3 or not re.fullmatch(r"[A-Za-z]{1,4}\d+", fields[0]):
                continue                                   # activity-name lines, not sensors
            sid, room, detail = fields
            typ = infer_sensor_type(sid)
            if room != "Ignore":
                assert infer_room_type(room, sid, detail) != "unknown", (path.name, line)
            if typ in ("temperature", "light", "battery"):
                expected = TYPE_KINDS[typ]
            elif typ == "motion":         # a motion sensor takes an object's kind, never a door's
                expected = "motion_area" if detail.endswith("Door") else DETAIL_KINDS.get(detail, "motion_area")
            else:
                expected = DETAIL_KINDS.get(detail) if typ == "door" else None
            if expected is None:
                continue
            assert infer_kind(typ, sid, detail) == expected, (path.name, line)
            checked += 1
    assert checked > 1000
