"""Rule-based captions: styles, per-window determinism, no labels, room/time faithfulness, fluent English."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

from homeclip.data.captions import (
    DAYS,
    PHRASE_HOURS,
    STYLES,
    caption_windows,
    day_part,
    duration_phrase,
    humanise_room,
    summarise_windows,
)
from homeclip.data.captions.daytime import phrase_covers
from homeclip.data.homes import Home, SensorInfo
from homeclip.data.windows import WindowSet
from homeclip.testing import random_windowset

ROOMS = ["kitchen", "living_room", "master_bedroom", "bathroom", "house_entrance", "office"]
DETAILS = {"M001": "stove", "M002": "fridge", "M005": "bed in master bedroom", "M006": "master bedroom",
           "M008": "armchair", "M010": "at home entrance ", "M011": "working desk"}


def _home() -> Home:
    sensors = {}
    for s in range(12):
        name = f"M{s + 1:03d}"
        sensors[name] = SensorInfo(name, ROOMS[(s // 2) % 6], float(s), float(s), "motion", DETAILS.get(name, ""))
    sensors["D001"] = SensorInfo("D001", "house_entrance", 0.0, 0.0, "door", "entrance door")
    sensors["T001"] = SensorInfo("T001", "kitchen", 0.0, 0.0, "temperature", "kitchen temperature")
    return Home("test", sensors, (0.0, 0.0, 12.0, 12.0))


HOME = _home()
ROOM_WORDS = sorted({humanise_room(r) for r in ROOMS}, key=len, reverse=True)
# The documented time phrases, longest first ("early in the morning" before "in the morning"); any other word for a
# part of the day in a caption is a bug. Clock phrases ("around noon", "around midnight") are not parts of the day.
TIME_PHRASE = re.compile("|".join(re.escape(p) for p in sorted(PHRASE_HOURS, key=len, reverse=True)), re.I)
TIME_WORD = re.compile(r"\b(morning|afternoon|evening|night|midday|noon|midnight|late|early)\b", re.I)
CLOCK_WORDS = re.compile(r"around (noon|midnight)|\bearly hours\b", re.I)


def _windows(events: list[list[tuple[float, str, str]]], start: str = "2024-01-03T07:30:00",
             home: Home | None = None, quiet_before: float = 0.0) -> WindowSet:
    """A WindowSet from per-window lists of (seconds after `start`, sensor, state); rooms from `home` (HOME);
    `quiet_before` seconds of silence before each window's first event (its `time_delta`)."""
    home = home or HOME
    n, width = len(events), max(len(e) for e in events)
    sensors = sorted({s for e in events for _, s, _ in e})
    states = sorted({st for e in events for _, _, st in e})
    rooms = sorted({home.sensor_info(s).room for s in sensors})
    codes = {f: np.full((n, width), -1, dtype=np.int32) for f in ("sensor", "state", "room")}
    time = np.zeros((n, width), dtype=np.int64)
    mask = np.zeros((n, width), dtype=bool)
    t0 = np.datetime64(start, "us").astype(np.int64)
    for i, evs in enumerate(events):
        for j, (sec, sensor, state) in enumerate(evs):
            codes["sensor"][i, j] = sensors.index(sensor)
            codes["state"][i, j] = states.index(state)
            codes["room"][i, j] = rooms.index(home.sensor_info(sensor).room)
            time[i, j] = t0 + int(sec * 1e6)
            mask[i, j] = True
    dt = np.where(mask, np.diff(time, axis=1, prepend=time[:, :1]) / 1e6, 0).astype(np.float32)
    dt[:, 0] = quiet_before
    start_t = time[:, 0].astype("datetime64[us]")
    end_t = time[np.arange(n), mask.sum(1) - 1].astype("datetime64[us]")
    return WindowSet(codes=codes, categories={"sensor": sensors, "state": states, "room": rooms}, time=time,
                     time_delta=dt, xy=np.full((n, width, 2), np.nan, dtype=np.float32), mask=mask,
                     label_l1=np.array(["Other"] * n, dtype=object), label_l2=np.array(["Other"] * n, dtype=object),
                     label_fractions=[{"Other": 1.0}] * n, split=np.array(["train"] * n, dtype=object),
                     start=start_t, end=end_t, day=start_t.astype("datetime64[D]"))


def _all(caps: dict[str, list[str]], prefix: str = "") -> list[str]:
    return [c for style, texts in caps.items() if style.startswith(prefix) for c in texts]


def _rooms_mentioned(text: str) -> set[str]:
    found = set()
    for room in ROOM_WORDS:                     # longest first, so "bedroom" never matches inside "master bedroom"
        if re.search(rf"\b{room}\b", text):
            found.add(room)
            text = re.sub(rf"\b{room}\b", " ", text)
    return found


# A place phrase nested in another with the same preposition: "by the hall by the living room".
DOUBLED = re.compile(r"\b(by|near) the (?:(?!and\b)[\w-]+ ){0,3}\1 the\b")


def _check_fluent(text: str, style: str) -> None:
    assert text == text.strip() and "  " not in text, text
    assert not re.search(r" [,.:;]|\.\.|\bthe the\b|\ba [aeiouAEIOU]|\ban [^aeiouhAEIOUH\s]", text), text
    assert text[0].isupper(), text
    if style != "short_structured":
        assert text.endswith("."), text
    assert not re.search(r"\bx0\b", text), text                    # no "fridge x0"
    assert not DOUBLED.search(text), text                           # no "by the hall by the living room"
    if style.endswith("natural"):
        assert "_" not in text and not re.search(r"\b[A-Z]{1,2}\d{2,3}\b", text), text
        assert "nan" not in text.split() and "None" not in text, text


@pytest.fixture(scope="module")
def random_set() -> WindowSet:
    return random_windowset(64, seed=5)


@pytest.fixture(scope="module")
def random_caps(random_set) -> list[dict[str, list[str]]]:
    return caption_windows(random_set, HOME, seed=0)


def test_every_window_gets_every_style(random_set, random_caps):
    assert len(random_caps) == len(random_set)
    for caps in random_caps:
        assert tuple(caps) == STYLES
        assert len(caps["long_natural"]) == 3 and len(set(caps["long_natural"])) == 3
        assert len(caps["long_structured"]) == 1 and len(caps["short_structured"]) == 1
        assert 1 <= len(caps["short_natural"]) <= 2
        assert all(isinstance(c, str) and c for c in _all(caps))


def test_captions_read_as_fluent_english(random_caps):
    for caps in random_caps:
        for style, texts in caps.items():
            for text in texts:
                _check_fluent(text, style)


def test_a_window_gets_the_same_captions_alone_or_in_any_set(random_set, random_caps):
    for i in (0, 17, 63):
        assert caption_windows(random_set.subset([i]), HOME, seed=0) == [random_caps[i]]
    order = np.random.default_rng(0).permutation(len(random_set))
    assert caption_windows(random_set.subset(order), HOME, seed=0) == [random_caps[i] for i in order]
    assert caption_windows(random_set, HOME, seed=0) == random_caps


def test_seed_changes_natural_captions_but_never_structured(random_set, random_caps):
    other = caption_windows(random_set, HOME, seed=1)
    for a, b in zip(random_caps, other):
        assert a["long_structured"] == b["long_structured"] and a["short_structured"] == b["short_structured"]
    changed = sum(a["long_natural"] != b["long_natural"] for a, b in zip(random_caps, other))
    assert changed >= len(random_caps) // 2


def test_labels_never_reach_the_captions(random_set, random_caps):
    shuffled = random_set.subset(np.arange(len(random_set)))
    perm = np.random.default_rng(1).permutation(len(random_set))
    shuffled.label_l1, shuffled.label_l2 = random_set.label_l1[perm], random_set.label_l2[perm]
    shuffled.label_fractions = [{"Nonsense_Label": 1.0}] * len(random_set)
    assert caption_windows(shuffled, HOME, seed=0) == random_caps
    for i, caps in enumerate(random_caps):
        for label in (random_set.label_l1[i], random_set.label_l2[i]):
            for form in {label, label.replace("_", " ")}:
                for text in _all(caps):
                    assert not re.search(rf"\b{re.escape(form)}\b", text, re.IGNORECASE), (label, text)


def test_rooms_named_are_rooms_of_the_window(random_set, random_caps):
    for i, caps in enumerate(random_caps):
        own = {humanise_room(HOME.sensor_info(s).room) for s in random_set.strings("sensor", i)}
        for text in _all(caps):
            assert _rooms_mentioned(text) <= own, (own, text)
        assert _rooms_mentioned(" ".join(caps["long_natural"]))   # the natural captions do name a room


def _event_hours(ws: WindowSet, i: int) -> list[float]:
    t = ws.time[i][ws.mask[i]]
    return ((t // 1_000_000) % 86_400 / 3600).tolist()


def _check_time_phrases(text: str, hours: list[float]) -> list[str]:
    """Every part-of-day phrase is a documented one and true of some event of the window; returns them."""
    found = [p.lower() for p in TIME_PHRASE.findall(text)]
    for phrase in found:
        assert any(phrase_covers(phrase, h) for h in hours), (phrase, hours, text)
    assert not TIME_WORD.search(CLOCK_WORDS.sub(" ", TIME_PHRASE.sub(" ", text))), text
    return found


def test_time_of_day_and_weekday_match_the_window(random_set, random_caps):
    parts_seen = set()
    for i, caps in enumerate(random_caps):
        start = random_set.start[i].astype("datetime64[m]").item()
        n = int(random_set.mask[i].sum())
        middle = random_set.time[i][(n - 1) // 2].astype("datetime64[us]").astype("datetime64[m]").item()
        part = day_part(middle.hour)
        parts_seen.add(part.name)
        assert caps["long_structured"][0].startswith(
            f"Start: {DAYS[start.weekday()]} {start:%H:%M}. Time of day: {part.phrase} (around ")
        assert caps["short_structured"][0].startswith(f"{DAYS[middle.weekday()]} {part.phrase} |")
        days = {DAYS[start.weekday()], DAYS[middle.weekday()]}
        for text in caps["long_natural"] + caps["short_natural"]:
            found = _check_time_phrases(text, _event_hours(random_set, i))
            assert set(re.findall(r"\b[A-Z][a-z]+day\b", text)) <= days, (days, text)
            if text in caps["long_natural"]:
                assert found, text                      # every long caption places the window in the day
    assert len(parts_seen) >= 5                    # the fixture really covers the day


@pytest.mark.parametrize("name, expected", [
    ("master_bedroom", "master bedroom"), ("LivingRoom", "living room"), ("living", "living room"),
    ("aisle_near_kitchen", "hallway near the kitchen"), ("Kitchen", "kitchen"), ("guest bathroom", "guest bathroom"),
    ("unknown", None), ("UNK", None), ("", None), ("dining_rm", "dining room")])
def test_humanise_room(name, expected):
    assert humanise_room(name) == expected


@pytest.mark.parametrize("seconds, expected", [
    (20, "less than a minute"), (70, "about a minute"), (200, "a few minutes"), (420, "about seven minutes"),
    (1190, "about 20 minutes"), (3600, "about an hour"), (5400, "about an hour and a half"),
    (7200, "about two hours"), (9000, "about two and a half hours")])
def test_duration_phrase(seconds, expected):
    assert duration_phrase(seconds) == expected


def test_notable_sensors_doors_and_pauses_are_described():
    events = [(0, "D001", "OPEN"), (5, "D001", "CLOSE"), (20, "M010", "ON"), (40, "M001", "ON"),
              (60, "M002", "ON"), (70, "M001", "ON"), (80, "M002", "ON"), (1300, "M002", "ON"),
              (1310, "D001", "OPEN"), (1320, "T001", "ON"), (1330, "M001", "ON")]
    ws = _windows([events], start="2024-01-03T18:10:00")       # a Wednesday evening
    (caps,) = caption_windows(ws, HOME, seed=3)
    structured = caps["long_structured"][0]
    assert structured.startswith("Start: Wednesday 18:10. Time of day: in the evening (around 6 pm). Duration: 22 min. "
                                 "Events: 11 ")
    assert "Rooms: house entrance (40 s) > kitchen (21 min) > house entrance (20 s) > kitchen (0 s)." in structured
    assert "Sensors: at the home entrance x1, stove x3, fridge x3." in structured
    assert "Doors: entrance door opened x2." in structured and "Longest pause: 20 min." in structured
    natural = " ".join(caps["long_natural"])
    assert "the fridge" in natural and "the stove" in natural and "at the home entrance" in natural
    assert re.search(r"the entrance door (is opened|opens) twice", natural, re.IGNORECASE)
    assert "about 20 minutes" in natural and "temperature" not in natural
    assert "the house entrance" in natural and "the kitchen" in natural
    for style, texts in caps.items():
        for text in texts:
            _check_fluent(text, style)


def test_details_that_repeat_the_room_are_not_named():
    (caps,) = caption_windows(_windows([[(0, "M005", "ON"), (30, "M006", "ON"), (60, "M005", "ON")]]), HOME)
    assert "Sensors: bed x2." in caps["long_structured"][0]         # "bed in master bedroom" -> "bed"
    assert "master bedroom x" not in caps["long_structured"][0]


def test_summary_figures():
    ws = _windows([[(0, "M001", "ON"), (60, "M001", "OFF"), (120, "M007", "ON")],
                   [(0, "M011", "ON")]], start="2024-01-07T02:05:00")   # a Sunday night
    first, single = summarise_windows(ws, HOME)
    assert (first.weekday, first.hour, first.minute, first.tod) == ("Sunday", 2, 5, "night")
    assert first.duration_s == 120 and first.n_events == 3 and math.isclose(first.per_minute, 1.0)
    assert first.route == [("kitchen", 120.0, 2), ("bathroom", 0.0, 1)]
    assert first.main_route == ["kitchen", "bathroom"] and first.longest_pause_s == 60
    assert single.duration_s == 0 and single.n_events == 1 and single.route == [("office", 0.0, 1)]
    (caps,) = caption_windows(ws.subset([1]), HOME)
    assert "less than a minute" in " ".join(caps["long_natural"])


def test_windows_without_layout_use_the_window_rooms_or_say_so():
    bare = Home("bare", {}, (0.0, 0.0, 1.0, 1.0), has_layout=False)
    ws = random_windowset(6, seed=2)
    for i, caps in enumerate(caption_windows(ws, bare)):
        own = {humanise_room(r) for r in ws.strings("room", i)}
        assert any(room in " ".join(caps["long_natural"]) for room in own)
    unknown = _windows([[(0, "X1", "ON"), (10, "X2", "ON")]])
    unknown.categories["room"] = ["unknown"]
    (caps,) = caption_windows(unknown, bare)
    assert "home" in " ".join(caps["long_natural"]) and "Rooms: unknown." in caps["long_structured"][0]
    for style, texts in caps.items():
        for text in texts:
            _check_fluent(text, style)


def test_empty_set_gives_no_captions(random_set):
    assert caption_windows(random_set.subset([]), HOME) == []


def test_simulated_milan_windows_caption_without_their_labels():
    simulate = pytest.importorskip("homeclip.data.simulate")
    from homeclip.data.homes import load_home
    from homeclip.data.readers import read_log
    from homeclip.data.windows import WindowConfig, make_windows

    home = load_home("milan")
    lines = simulate.simulate_log(home, days=2, seed=0)
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "milan.txt"
        path.write_text("\n".join(lines) + "\n")
        ws = make_windows(read_log(path), home, WindowConfig())
    caps = caption_windows(ws, home)
    rooms = {humanise_room(i.room) for i in home.sensors.values()}
    text = " ".join(c for cap in caps for c in _all(cap))
    assert "the fridge" in text or "the stove" in text
    for i, cap in enumerate(caps):
        for label in {ws.label_l1[i], ws.label_l2[i]} - {"Other"}:
            form = label.replace("_", " ")
            if form.lower() in rooms:      # "Master_Bathroom" is also a room, which captions may name
                continue
            assert not any(re.search(rf"\b{re.escape(form)}\b", c, re.IGNORECASE) for c in _all(cap)), label
        for style, texts in cap.items():
            for t in texts:
                _check_fluent(t, style)


def test_doubled_place_phrases_are_caught_by_the_check():
    assert DOUBLED.search("There is movement by the hall by the living room.")
    assert not DOUBLED.search("There is movement by the bed and near the closet.")


def _random_events(home: Home, rng: np.random.Generator, n: int) -> list[list[tuple[float, str, str]]]:
    names = sorted(home.sensors)
    states = {"door": ("OPEN", "CLOSE"), "motion": ("ON", "OFF")}
    out = []
    for _ in range(n):
        t, evs = 0.0, []
        for _ in range(int(rng.integers(3, 25))):
            name = names[int(rng.integers(len(names)))]
            on, off = states.get(home.sensors[name].type, ("ON", "OFF"))
            evs.append((t, name, on if rng.random() < 0.6 else off))
            t += float(rng.exponential(40.0))
        out.append(evs)
    return out


@pytest.mark.parametrize("name", ["milan", "aruba", "cairo", "kyoto", "kyoto_m01", "alsmarthome", "ordonez_a",
                                  "kasteren_a"])
def test_every_packaged_home_captions_fluently_without_labels(name):
    from homeclip.data.homes import load_home

    home = load_home(name)
    ws = _windows(_random_events(home, np.random.default_rng(7), 60), start="2024-01-05T21:40:00", home=home)
    caps_all = caption_windows(ws, home, seed=1)
    relabelled = ws.subset(np.arange(len(ws)))
    relabelled.label_l1 = relabelled.label_l2 = np.array(["Sleep"] * len(ws), dtype=object)
    assert caption_windows(relabelled, home, seed=1) == caps_all          # labels never reach the captions
    # the layout's own words (rooms, details: "sleeping area", "work area") may be said; label names may not
    layout_words = " ".join(f"{i.room} {i.detail}" for i in home.sensors.values()).replace("_", " ").lower()
    labels = {lab.replace("_", " ") for lab in set(home.label_map) | set(home.label_map.values()) if lab}
    labels = {lab for lab in labels if not re.search(rf"\b{re.escape(lab.lower())}\b", layout_words)
              and lab.lower() not in {"other", "read"}}
    for caps in caps_all:
        for style, texts in caps.items():
            for text in texts:
                _check_fluent(text, style)
                for label in labels:
                    assert not re.search(rf"\b{re.escape(label)}\b", text, re.IGNORECASE), (label, text)


def test_object_kinds_give_the_verbs():
    from homeclip.data.homes import load_home

    home = load_home("kasteren_a")
    events = [(0, "Frontdoor", "ON"), (2, "Frontdoor", "OFF"), (30, "Fridge", "ON"), (35, "Fridge", "OFF"),
              (40, "Cups_cupboard", "ON"), (45, "Cups_cupboard", "OFF"), (50, "Fridge", "ON"),
              (300, "Hall-Toilet_door", "ON"), (320, "ToiletFlush", "ON"), (325, "ToiletFlush", "OFF")]
    (caps,) = caption_windows(_windows([events], home=home), home, seed=0)
    natural = " ".join(caps["long_natural"]).lower()
    assert "the fridge is opened twice" in natural and "the cups cupboard is opened once" in natural
    assert "the toilet is flushed once" in natural
    assert re.search(r"the front door (is opened|opens) once", natural)
    structured = caps["long_structured"][0]
    assert "Sensors: fridge x2, cups cupboard x1, toilet x1." in structured
    assert "Doors: front door opened x1, toilet door opened x1." in structured


def test_zero_counts_are_never_printed():
    events = [(0, "M002", "OFF"), (10, "M001", "ON"), (20, "D001", "CLOSE")]     # fridge and door: no activation
    (caps,) = caption_windows(_windows([events]), HOME)
    structured = caps["long_structured"][0]
    assert "Sensors: stove x1." in structured and "Doors: entrance door closed." in structured
    assert "x0" not in " ".join(c for texts in caps.values() for c in texts)


def test_without_a_layout_room_types_of_descriptive_names_are_said():
    bare = Home("bare", {}, (0.0, 0.0, 1.0, 1.0), has_layout=False)
    events = [(0, "bathroom_pir", "ON"), (60, "bathroom_pir", "OFF"), (120, "KitchenFridgeDoor", "OPEN"),
              (130, "KitchenFridgeDoor", "CLOSE"), (200, "kitchen_pir", "ON")]
    ws = _windows([events], home=bare)
    ws.categories["room"] = ["unknown"]
    (caps,) = caption_windows(ws, bare)
    natural = " ".join(caps["long_natural"]).lower()
    assert "the bathroom" in natural and "the kitchen" in natural
    assert "the fridge is opened once" in natural
    assert caps["long_structured"][0].count("Rooms: bathroom (") == 1


def test_a_detail_with_its_own_preposition_is_not_nested_in_another():
    sensors = {"M01": SensorInfo("M01", "living_room", 0.0, 0.0, "motion", "hall by the living room"),
               "M02": SensorInfo("M02", "living_room", 1.0, 1.0, "motion", "couch")}
    home = Home("h", sensors, (0.0, 0.0, 1.0, 1.0))
    ws = _windows([[(0, "M01", "ON"), (20, "M02", "ON"), (40, "M01", "ON")]], home=home)
    texts = [c for seed in range(40) for caps in caption_windows(ws, home, seed=seed) for c in caps["long_natural"]]
    assert any("the hall by the living room" in t for t in texts)
    assert not any(DOUBLED.search(t) for t in texts)

